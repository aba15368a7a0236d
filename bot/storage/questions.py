"""Surgery questions: asking, the board and its votes, moderation.

People are known here only by pseudonyms (`bot.pseudonyms`), made by the caller: `asker` for
whoever asked (their own questions, their daily limit) and `voter` for whoever voted (one vote
each; when duplicates are merged, a person who voted for both still counts once). The two
families cannot be matched with each other, nor either with a person, without the key. A question
asked with a name also keeps `asked_by`, the user id, so leads can reply to that person; an
anonymous one keeps nothing but the pseudonym, and its time only to the hour.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlite_utils import Database

from bot.storage.writer import Writer, utc_iso

MAX_QUESTION = 3000
_REF_LETTERS = "ACDEFGHJKMNPQRTUVWXY3479"  # no 0/O, 1/I/L, 5/S, 8/B, 2/Z: read aloud safely

State = Literal["pending", "accepted", "declined", "merged", "answered"]


@dataclass(frozen=True)
class Question:
    id: int
    ref: str
    text: str
    topic: str
    forum: str
    anonymous: bool
    asked_at: str
    state: str
    votes: int = 0
    quoted: str | None = None
    reason: str | None = None
    merged_into: str | None = None  # the ref it was merged into
    voted: bool = False  # by the person asking for the list


@dataclass(frozen=True)
class Asked:
    status: Literal["recorded", "too_many"]
    question: Question | None = None


@dataclass(frozen=True)
class Voted:
    status: Literal["recorded", "repeat", "closed", "unknown"]
    votes: int = 0


@dataclass(frozen=True)
class Moderated:
    status: Literal["done", "unknown", "not_pending", "invalid"]
    question: Question | None = None
    reason: str = ""


_COLUMNS = (
    "q.id, q.ref, q.text, q.topic, q.forum, q.anonymous, q.asked_at, q.state,"
    " (SELECT COUNT(*) FROM question_votes v WHERE v.question_id = q.id), q.quoted, q.reason,"
    " (SELECT m.ref FROM questions m WHERE m.id = q.merged_into)"
)


def _question(row: Any, voted: bool = False) -> Question:
    return Question(
        int(row[0]),
        row[1],
        row[2],
        row[3],
        row[4],
        bool(row[5]),
        row[6],
        row[7],
        int(row[8]),
        row[9],
        row[10],
        row[11],
        voted,
    )


class Questions:
    """Named operations on `questions`, `question_votes` and `moderation_log`."""

    def __init__(self, writer: Writer):
        self._w = writer

    async def ask(
        self,
        *,
        text: str,
        topic: str,
        forum: str,
        anonymous: bool,
        user_id: str,
        asker: str,
        quoted: str | None,
        now: datetime,
        per_day: int,
    ) -> Asked:
        """Record a question (pending moderation), unless its asker has reached `per_day`
        in the last 24 hours. The limit is counted by pseudonym, so it holds for anonymous
        questions too."""
        at = now.replace(minute=0, second=0, microsecond=0) if anonymous else now

        def ask(db: Database) -> Asked:
            since = utc_iso(now - timedelta(days=1) - timedelta(hours=1 if anonymous else 0))
            recent = db.execute(
                "SELECT COUNT(*) FROM questions WHERE asker = ? AND asked_at > ?", [asker, since]
            ).fetchone()[0]
            if recent >= per_day:
                return Asked("too_many")
            for _ in range(20):  # a clash of random references is rare; try another
                ref = "Q-" + "".join(secrets.choice(_REF_LETTERS) for _ in range(4))
                if not db.execute("SELECT 1 FROM questions WHERE ref = ?", [ref]).fetchone():
                    break
            cursor = db.execute(
                "INSERT INTO questions (ref, text, topic, forum, anonymous, asked_by, asker,"
                " asked_at, quoted, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')",
                [
                    ref,
                    text,
                    topic,
                    forum,
                    int(anonymous),
                    None if anonymous else user_id,
                    asker,
                    utc_iso(at),
                    quoted,
                ],
            )
            return Asked("recorded", _one(db, int(cursor.lastrowid or 0)))

        return await self._w.write(ask)

    async def mine(self, asker: str, limit: int = 10) -> list[Question]:
        """The asker's own questions, newest first (found by their pseudonym)."""

        def query(db: Database) -> list[Question]:
            return [
                _question(row)
                for row in db.execute(
                    f"SELECT {_COLUMNS} FROM questions q WHERE q.asker = ?"
                    " ORDER BY q.asked_at DESC, q.id DESC LIMIT ?",
                    [asker, limit],
                )
            ]

        return await self._w.read(query)

    async def board(
        self, *, order: Literal["votes", "recent"], voter: str, limit: int = 20
    ) -> list[Question]:
        """Accepted questions open for votes, by votes or newest first, each saying whether
        `voter` (the reader's pseudonym) voted for it."""

        def query(db: Database) -> list[Question]:
            sort = "9 DESC, q.asked_at DESC" if order == "votes" else "q.asked_at DESC, 9 DESC"
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM questions q WHERE q.state = 'accepted'"
                f" ORDER BY {sort}, q.id DESC LIMIT ?",
                [limit],
            ).fetchall()
            return [
                _question(
                    row,
                    voted=bool(
                        db.execute(
                            "SELECT 1 FROM question_votes WHERE question_id = ? AND voter = ?",
                            [row[0], voter],
                        ).fetchone()
                    ),
                )
                for row in rows
            ]

        return await self._w.read(query)

    async def vote(self, question_id: int, voter: str) -> Voted:
        """One vote per person per question, on an accepted question only."""

        def vote(db: Database) -> Voted:
            row = db.execute("SELECT state FROM questions WHERE id = ?", [question_id]).fetchone()
            if row is None:
                return Voted("unknown")
            if row[0] != "accepted":
                return Voted("closed")
            added = db.execute(
                "INSERT OR IGNORE INTO question_votes (question_id, voter) VALUES (?, ?)",
                [question_id, voter],
            ).rowcount
            votes = db.execute(
                "SELECT COUNT(*) FROM question_votes WHERE question_id = ?", [question_id]
            ).fetchone()[0]
            return Voted("recorded" if added else "repeat", int(votes))

        return await self._w.write(vote)

    async def pending(self, limit: int = 20) -> list[Question]:
        """The moderation queue, oldest first."""

        def query(db: Database) -> list[Question]:
            return [
                _question(row)
                for row in db.execute(
                    f"SELECT {_COLUMNS} FROM questions q WHERE q.state = 'pending'"
                    " ORDER BY q.asked_at, q.id LIMIT ?",
                    [limit],
                )
            ]

        return await self._w.read(query)

    async def candidates(self, limit: int = 100) -> list[Question]:
        """Questions a duplicate can be merged into: waiting or on the board, newest first."""

        def query(db: Database) -> list[Question]:
            return [
                _question(row)
                for row in db.execute(
                    f"SELECT {_COLUMNS} FROM questions q WHERE q.state IN ('pending', 'accepted')"
                    " ORDER BY q.asked_at DESC, q.id DESC LIMIT ?",
                    [limit],
                )
            ]

        return await self._w.read(query)

    async def get(self, question_id: int) -> Question | None:
        return await self._w.read(lambda db: _one(db, question_id))

    async def moderate(
        self,
        question_id: int,
        *,
        action: Literal["accept", "decline", "merge", "change"],
        by: str,
        now: datetime,
        reason: str = "",
        into: int | None = None,
        topic: str | None = None,
        forum: str | None = None,
    ) -> Moderated:
        """One moderation step, recorded with who and when. Accept, decline (with the reason
        the asker sees) act on a pending question; merge on a pending or accepted one (into
        another, pending or accepted, whose votes it joins); change moves a question's topic
        or forum."""

        def moderate(db: Database) -> Moderated:
            question = _one(db, question_id)
            if question is None:
                return Moderated("unknown")
            at = utc_iso(now)
            if action == "change":
                if question.state not in ("pending", "accepted"):
                    return Moderated("not_pending", question)
                db.execute(
                    "UPDATE questions SET topic = COALESCE(?, topic), forum = COALESCE(?, forum)"
                    " WHERE id = ?",
                    [topic, forum, question_id],
                )
                detail = f"topic={topic or question.topic}; forum={forum or question.forum}"
            elif question.state != "pending" and not (
                action == "merge" and question.state == "accepted"
            ):
                return Moderated("not_pending", question)
            elif action == "accept":
                db.execute(
                    "UPDATE questions SET state = 'accepted', moderated_at = ? WHERE id = ?",
                    [at, question_id],
                )
                detail = ""
            elif action == "decline":
                if not reason.strip():
                    return Moderated("invalid", question, "say why, for the asker")
                db.execute(
                    "UPDATE questions SET state = 'declined', reason = ?, moderated_at = ?"
                    " WHERE id = ?",
                    [reason.strip()[:500], at, question_id],
                )
                detail = reason.strip()[:500]
            else:
                target = _one(db, into) if into is not None else None
                if target is None or target.id == question_id:
                    return Moderated("invalid", question, "that question to merge into")
                if target.state not in ("pending", "accepted"):
                    return Moderated("invalid", question, "it has been answered or closed")
                # Its votes join the other's; a person who voted for both counts once there.
                db.execute(
                    "INSERT OR IGNORE INTO question_votes (question_id, voter)"
                    " SELECT ?, voter FROM question_votes WHERE question_id = ?",
                    [target.id, question_id],
                )
                db.execute(
                    "UPDATE questions SET state = 'merged', merged_into = ?, moderated_at = ?"
                    " WHERE id = ?",
                    [target.id, at, question_id],
                )
                detail = f"into {target.ref}"
            db.execute(
                "INSERT INTO moderation_log (at, user_id, question_id, action, detail)"
                " VALUES (?, ?, ?, ?, ?)",
                [at, by, question_id, action, detail],
            )
            return Moderated("done", _one(db, question_id))

        return await self._w.write(moderate)


def _one(db: Database, question_id: int) -> Question | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM questions q WHERE q.id = ?", [question_id]).fetchone()
    return None if row is None else _question(row)
