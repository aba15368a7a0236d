"""Surgery questions: asking, the board and its votes, moderation.

A question asked with a name keeps `asked_by`, the user id, so its asker can be told the
answer. An anonymous one keeps no id: only a pseudonym of its own (`bot.pseudonyms`, made by
the caller for that one question), a random id, and its time to the hour. The daily limit is
counted under a pseudonym per person and day; votes under one per voter (so a person who voted
for two duplicates counts once when they are merged). None can be matched with a person, or
with each other, without the key kept outside the database.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlite_utils import Database

from bot.storage.outbox import queue_message
from bot.storage.writer import Writer, utc_iso

MAX_QUESTION = 3000
# A person waits on a modal or a click: past this the write is rolled back and they are told.
PERSON_WRITE_TIMEOUT = 2.0
_REF_LETTERS = "ACDEFGHJKMNPQRTUVWXY3479"  # no 0/O, 1/I/L, 5/S, 8/B, 2/Z: read aloud safely

State = Literal["pending", "accepted", "agenda", "declined", "merged", "answered"]


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
    meeting_at: str | None = None
    carried: int = 0
    answer: str | None = None
    action: str | None = None
    answered_at: str | None = None


@dataclass(frozen=True)
class Asked:
    status: Literal["recorded", "too_many"]
    question: Question | None = None


@dataclass(frozen=True)
class Voted:
    status: Literal["recorded", "repeat", "closed", "unknown"]


@dataclass(frozen=True)
class Moderated:
    status: Literal["done", "unknown", "not_pending", "invalid"]
    question: Question | None = None
    reason: str = ""


_COLUMNS = (
    "q.id, q.ref, q.text, q.topic, q.forum, q.anonymous, q.asked_at, q.state,"
    " (SELECT COUNT(*) FROM question_votes v WHERE v.question_id = q.id), q.quoted, q.reason,"
    " (SELECT m.ref FROM questions m WHERE m.id = q.merged_into), q.meeting_at,"
    " COALESCE(q.carried, 0), q.answer, q.action, q.answered_at"
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
        row[12],
        int(row[13]),
        row[14],
        row[15],
        row[16],
    )


class Questions:
    """Named operations on `questions`, `question_votes` and `moderation_log`."""

    def __init__(self, writer: Writer):
        self._w = writer
        self.scrub_due = False  # an anonymous question's WAL could not be emptied at once

    async def scrub(self) -> None:
        """Retry emptying the WAL after an anonymous question, if a reader was in the way."""
        if self.scrub_due and await self._w.scrub():
            self.scrub_due = False

    async def ask(
        self,
        *,
        text: str,
        topic: str,
        forum: str,
        anonymous: bool,
        user_id: str,
        own_tag: Callable[[str], str],
        quota_tag: str,
        day: str,
        quoted: str | None,
        now: datetime,
        per_day: int,
    ) -> Asked:
        """Record a question (pending moderation), unless its asker has asked `per_day` today.

        A named question keeps the asker's id (`asked_by`). An anonymous one keeps only
        `own_tag(ref)`, a pseudonym for this one question (so one person's questions cannot be
        matched with each other, nor with their named ones), a random id (no order to place
        it between others) and its time to the hour. The daily limit is counted under
        `quota_tag`, a pseudonym for the person and `day`, in its own table, kept two days.
        """
        at = now.replace(minute=0, second=0, microsecond=0) if anonymous else now

        def ask(db: Database) -> Asked:
            db.execute("DELETE FROM question_quota WHERE day < ?", [_days_before(day, 2)])
            row = db.execute(
                "SELECT asked FROM question_quota WHERE day = ? AND tag = ?", [day, quota_tag]
            ).fetchone()
            if row is not None and row[0] >= per_day:
                return Asked("too_many")
            db.execute(
                "INSERT INTO question_quota (day, tag, asked) VALUES (?, ?, 1)"
                " ON CONFLICT (day, tag) DO UPDATE SET asked = asked + 1",
                [day, quota_tag],
            )
            question = insert_question(
                db,
                text=text,
                topic=topic,
                forum=forum,
                asked_by=None if anonymous else user_id,
                asker=own_tag if anonymous else None,
                at=at,
                quoted=quoted,
                state="pending",
            )
            return Asked("recorded", question)

        asked = await self._w.write(ask, timeout=PERSON_WRITE_TIMEOUT)
        # The question and its asker's daily count went in one commit: empty the WAL now, so
        # no copy of it can say which count (which person) it came with.
        if anonymous and asked.status == "recorded" and not await self._w.scrub():
            self.scrub_due = True
        return asked

    async def mine(
        self,
        user_id: str,
        own_tag: Callable[[str], str],
        limit: int = 10,
        *,
        now: datetime | None = None,
    ) -> list[Question]:
        """A person's own questions, newest first: those with their name by id, and the
        anonymous ones by recomputing each one's pseudonym (nothing else could find them),
        over the last two years (an HMAC each: a few milliseconds for thousands). A merged
        duplicate carries the answer of the question it joined."""
        since = utc_iso((now or datetime.now(UTC)) - timedelta(days=730))

        def query(db: Database) -> list[Question]:
            ids = [
                int(r[0])
                for r in db.execute("SELECT id FROM questions WHERE asked_by = ?", [user_id])
            ]
            ids += [
                int(r[0])
                for r in db.execute(
                    "SELECT id, ref, asker FROM questions WHERE anonymous = 1 AND asked_at > ?",
                    [since],
                )
                if hmac.compare_digest(str(r[2] or ""), own_tag(str(r[1])))
            ]
            found = []
            for question in (_one(db, i) for i in ids):
                if question is None:
                    continue
                if question.state == "merged":
                    row = db.execute(
                        "SELECT t.answer, t.action FROM questions q JOIN questions t"
                        " ON t.id = q.merged_into WHERE q.id = ?",
                        [question.id],
                    ).fetchone()
                    if row and row[0]:
                        question = replace(question, answer=row[0], action=row[1])
                found.append(question)
            found.sort(key=lambda q: (q.asked_at, q.id), reverse=True)
            return found[:limit]

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
            return Voted("recorded" if added else "repeat")

        return await self._w.write(vote, timeout=PERSON_WRITE_TIMEOUT)

    async def pending(self, limit: int = 20) -> list[Question]:
        """The moderation queue, oldest first."""
        return await self._listed("q.state = 'pending'", "q.asked_at, q.id", [limit])

    async def candidates(self, limit: int = 100) -> list[Question]:
        """Questions a duplicate can be merged into: waiting or on the board, newest first."""
        return await self._listed(
            "q.state IN ('pending', 'accepted')", "q.asked_at DESC, q.id DESC", [limit]
        )

    async def _listed(self, where: str, order: str, params: list[Any]) -> list[Question]:
        """Questions matching `where` (our own SQL, never a person's text), in `order`."""

        def query(db: Database) -> list[Question]:
            return [
                _question(row)
                for row in db.execute(
                    f"SELECT {_COLUMNS} FROM questions q WHERE {where} ORDER BY {order} LIMIT ?",
                    params,
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
            log_moderation(db, at=at, by=by, question_id=question_id, action=action, detail=detail)
            return Moderated("done", _one(db, question_id))

        return await self._w.write(moderate, timeout=PERSON_WRITE_TIMEOUT)

    async def draw_agenda(
        self,
        *,
        forum: str,
        meeting_at: datetime,
        size: int,
        channel: str,
        render: Callable[[list[Question], int], dict[str, Any]],
        now: datetime,
    ) -> tuple[list[Question], int] | None:
        """At a meeting's cut-off: its agenda, once. The top `size` accepted questions for the
        forum by votes (the longest-waiting first among equals) go on it; the rest stay on
        the board, carried forward to the next meeting. The agenda message (`render(agenda,
        carried)`) is queued to `channel` through the outbox in the same transaction. (The
        agenda, how many were carried forward), or None if this meeting's agenda was drawn up
        already (a restart, a second run)."""
        meeting = utc_iso(meeting_at)

        def draw(db: Database) -> tuple[list[Question], int] | None:
            taken = db.execute(
                "INSERT OR IGNORE INTO agendas (forum, meeting_at, drawn_at) VALUES (?, ?, ?)",
                [forum, meeting, utc_iso(now)],
            )
            if taken.rowcount == 0:
                return None
            # Questions on an earlier meeting's agenda that were never answered are not lost:
            # they go back on the board, carried forward, and compete again.
            db.execute(
                "UPDATE questions SET state = 'accepted', meeting_at = NULL,"
                " carried = COALESCE(carried, 0) + 1"
                " WHERE state = 'agenda' AND forum = ? AND meeting_at < ?",
                [forum, meeting],
            )
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM questions q WHERE q.state = 'accepted' AND q.forum = ?"
                " ORDER BY 9 DESC, q.asked_at, q.id",
                [forum],
            ).fetchall()
            chosen, rest = rows[:size], rows[size:]
            db.conn.executemany(
                "UPDATE questions SET state = 'agenda', meeting_at = ? WHERE id = ?",
                [(meeting, row[0]) for row in chosen],
            )
            db.conn.executemany(
                "UPDATE questions SET carried = COALESCE(carried, 0) + 1 WHERE id = ?",
                [(row[0],) for row in rest],
            )
            db.execute(
                "UPDATE agendas SET questions = ?, carried = ? WHERE forum = ? AND meeting_at = ?",
                [len(chosen), len(rest), forum, meeting],
            )
            agenda = [_question(row) for row in chosen]
            queue_message(
                db,
                key=(f"agenda:{forum}", int(meeting_at.timestamp()), "agenda"),
                title=f"Agenda: {forum}",
                message=render(agenda, len(rest)),
                targets=[("channel", channel)],
                published_by="",
                now=now,
            )
            return agenda, len(rest)

        return await self._w.write(draw)

    async def agenda_drawn(self, forum: str, meeting_at: datetime) -> bool:
        return await self._w.read(
            lambda db: (
                db.execute(
                    "SELECT 1 FROM agendas WHERE forum = ? AND meeting_at = ?",
                    [forum, utc_iso(meeting_at)],
                ).fetchone()
                is not None
            )
        )

    async def count_on_board(self, forum: str) -> int:
        """Accepted questions for a forum still on the board (carried forward)."""
        return await self._w.read(
            lambda db: int(
                db.execute(
                    "SELECT COUNT(*) FROM questions WHERE state = 'accepted' AND forum = ?",
                    [forum],
                ).fetchone()[0]
            )
        )

    async def on_agenda(self, limit: int = 40) -> list[Question]:
        """Questions on an agenda still to be answered, oldest meeting first."""
        return await self._listed("q.state = 'agenda'", "q.meeting_at, 9 DESC, q.id", [limit])

    async def answer(
        self,
        question_id: int,
        *,
        answer: str,
        action: str,
        by: str,
        now: datetime,
        channel: str,
        render_public: Callable[[Question], dict[str, Any]],
        render_asker: Callable[[Question], dict[str, Any]],
    ) -> Moderated:
        """Record a question's answer (and what was done), once, with who and when; queue it
        to the "You said, we did" channel and, for a question asked with a name, to its asker
        by DM, through the outbox in the same transaction. An anonymous asker finds it under
        My questions (their pseudonym), by the reference they were given."""
        at = utc_iso(now)

        def record(db: Database) -> Moderated:
            question = _one(db, question_id)
            if question is None:
                return Moderated("unknown")
            if question.state not in ("accepted", "agenda"):
                return Moderated("not_pending", question)
            if not answer.strip():
                return Moderated("invalid", question, "write the answer")
            db.execute(
                "UPDATE questions SET state = 'answered', answer = ?, action = ?,"
                " answered_at = ?, answered_by = ? WHERE id = ?",
                [answer.strip()[:3000], action.strip()[:1000] or None, at, by, question_id],
            )
            log_moderation(db, at=at, by=by, question_id=question_id, action="answer")
            done = _one(db, question_id)
            assert done is not None
            queue_message(
                db,
                key=("you-said-we-did", question_id, "answer"),
                title=f"You said, we did: {done.ref}",
                message=render_public(done),
                targets=[("channel", channel)],
                published_by=by,
                now=now,
            )
            asked_by = db.execute(
                "SELECT asked_by FROM questions WHERE id = ?", [question_id]
            ).fetchone()[0]
            if asked_by:  # a named asker hears by DM; an anonymous one was never stored
                queue_message(
                    db,
                    key=("you-said-we-did", question_id, "answer-dm"),
                    title=f"Your question {done.ref} is answered",
                    message=render_asker(done),
                    targets=[("dm", asked_by)],
                    published_by=by,
                    now=now,
                )
            # So do the named askers of duplicates merged into it, each under their own ref.
            for merged_id, merged_by in db.execute(
                "SELECT id, asked_by FROM questions WHERE merged_into = ? AND asked_by IS NOT NULL",
                [question_id],
            ).fetchall():
                duplicate = _one(db, int(merged_id))
                assert duplicate is not None
                queue_message(
                    db,
                    key=("you-said-we-did", int(merged_id), "answer-dm"),
                    title=f"Your question {duplicate.ref} is answered",
                    message=render_asker(
                        replace(duplicate, answer=done.answer, action=done.action)
                    ),
                    targets=[("dm", merged_by)],
                    published_by=by,
                    now=now,
                )
            return Moderated("done", done)

        return await self._w.write(record, timeout=PERSON_WRITE_TIMEOUT)

    async def answered(self, limit: int = 10) -> list[Question]:
        """Answered questions, newest answer first: "You said, we did"."""
        return await self._listed("q.state = 'answered'", "q.answered_at DESC, q.id DESC", [limit])


def log_moderation(
    db: Database, *, at: str, by: str, question_id: int, action: str, detail: str = ""
) -> None:
    """Who did what to a question, when (in the caller's transaction): the audit trail."""
    db.execute(
        "INSERT INTO moderation_log (at, user_id, question_id, action, detail)"
        " VALUES (?, ?, ?, ?, ?)",
        [at, by, question_id, action, detail],
    )


def insert_question(
    db: Database,
    *,
    text: str,
    topic: str,
    forum: str,
    asked_by: str | None,
    asker: Callable[[str], str] | None,
    at: datetime,
    quoted: str | None,
    state: State,
) -> Question:
    """Write a new question under a fresh random id and reference (on the writer thread, in the
    caller's transaction). With neither `asked_by` nor `asker` it is anonymous; `asker(ref)`
    gives an anonymous asker's pseudonym for it."""
    for _ in range(20):  # a clash of random references is rare; try another
        ref = "Q-" + "".join(secrets.choice(_REF_LETTERS) for _ in range(4))
        if not db.execute("SELECT 1 FROM questions WHERE ref = ?", [ref]).fetchone():
            break
    question_id = secrets.randbits(48)
    db.execute(
        "INSERT INTO questions (id, ref, text, topic, forum, anonymous, asked_by, asker,"
        " asked_at, quoted, state, moderated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            question_id,
            ref,
            text,
            topic,
            forum,
            int(asked_by is None),
            asked_by,
            asker(ref) if asker is not None else None,
            utc_iso(at),
            quoted,
            state,
            None if state == "pending" else utc_iso(at),
        ],
    )
    question = _one(db, question_id)
    assert question is not None
    return question


def _days_before(day: str, days: int) -> str:
    return (date.fromisoformat(day) - timedelta(days=days)).isoformat()


def _one(db: Database, question_id: int) -> Question | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM questions q WHERE q.id = ?", [question_id]).fetchone()
    return None if row is None else _question(row)
