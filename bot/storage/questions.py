"""Surgery questions: asking, the board and its votes, moderation.

A question asked with a name keeps `asked_by`, the user id, so its asker can be told the
answer. An anonymous one keeps no id: only a pseudonym of its own (`bot.pseudonyms`, made by
the caller for that one question), a random id, and its time to the hour. The daily limit is
counted under a pseudonym per person and day; votes under one per voter (so a person who voted
for two duplicates counts once when they are merged). None can be matched with a person, or
with each other, without the key kept outside the database.

This module only stores: what may happen to a question (the daily limit, votes on the board
only, which step a lead may take when) is decided by the pure rules in `question_rules.py`,
applied here inside the write that acts on it, and which questions make an agenda by the
caller's `choose`.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlite_utils import Database

from bot.storage.outbox import queue_message
from bot.storage.question_news import AskerNews
from bot.storage.question_rows import (
    COLUMNS,
    MAX_QUESTION,
    Asked,
    Moderated,
    News,
    Question,
    State,
    Voted,
    insert_question,
    log_moderation,
    merge_into,
    move_question,
    one_question,
    question_from_row,
    queue_news,
    set_state,
)
from bot.storage.question_rules import (
    Action,
    answer_refusal,
    kept_answer,
    kept_reason,
    may_ask,
    moderation_refusal,
    vote_refusal,
)
from bot.storage.writer import Writer, utc_iso

# What other modules import from here, where a question's types and row writes used to live.
__all__ = [
    "MAX_QUESTION",
    "PERSON_WRITE_TIMEOUT",
    "Asked",
    "Moderated",
    "News",
    "Question",
    "Questions",
    "State",
    "Voted",
    "insert_question",
    "log_moderation",
]

# A person waits on a modal or a click: past this the write is rolled back and they are told.
PERSON_WRITE_TIMEOUT = 2.0
QUOTA_KEEP_DAYS = 2  # a day's asking counts, kept past the day for a submit across midnight
WATCH_DAYS = 183  # an anonymous asker's sealed id is kept at most this long (about six months)
RenderNews = Callable[[Question, News], dict[str, Any]]


class Questions:
    """Named operations on `questions`, `question_votes` and `moderation_log`."""

    def __init__(self, writer: Writer):
        self._w = writer
        self.news = AskerNews(writer)  # news to anonymous askers, sealed until sent
        self.scrub_due = False  # an anonymous question's WAL could not be emptied at once

    async def scrub(self) -> None:
        """Retry emptying the WAL after an anonymous question, or a sealed asker's id deleted,
        if a reader was in the way."""
        if self.scrub_due and await self._w.scrub():
            self.scrub_due = False
        if self.news.scrub_due:
            await self.news.scrub()

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
        sealed: str | None = None,
    ) -> Asked:
        """Record a question (pending moderation), unless its asker has asked `per_day` today.

        A named question keeps the asker's id (`asked_by`). An anonymous one keeps only
        `own_tag(ref)`, a pseudonym for this one question (so one person's questions cannot be
        matched with each other, nor with their named ones), a random id (no order to place
        it between others) and its time to the hour. The daily limit is counted under
        `quota_tag`, a pseudonym for the person and `day`, in its own table, kept two days.
        An anonymous asker who asked to be told of news gives `sealed`, their id sealed under
        the outside key: kept (`asker_watch`) until the last news, or `WATCH_DAYS` at most.
        """
        at = now.replace(minute=0, second=0, microsecond=0) if anonymous else now

        def count_and_record(db: Database) -> Asked:
            db.execute(
                "DELETE FROM question_quota WHERE day < ?", [_days_before(day, QUOTA_KEEP_DAYS)]
            )
            row = db.execute(
                "SELECT asked FROM question_quota WHERE day = ? AND tag = ?", [day, quota_tag]
            ).fetchone()
            if not may_ask(0 if row is None else int(row[0]), per_day):
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
            if anonymous and sealed:
                until = (at + timedelta(days=WATCH_DAYS)).date().isoformat()  # a day, no hour
                db.execute(
                    "INSERT INTO asker_watch (question_id, sealed, until) VALUES (?, ?, ?)",
                    [question.id, sealed, until],
                )
            return Asked("recorded", question)

        asked = await self._w.write(count_and_record, timeout=PERSON_WRITE_TIMEOUT)
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

        def find_own(db: Database) -> list[Question]:
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
            for question in (one_question(db, i) for i in ids):
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

        return await self._w.read(find_own)

    async def board(
        self, *, order: Literal["votes", "recent"], voter: str, limit: int = 20
    ) -> list[Question]:
        """Accepted questions open for votes, by votes or newest first, each saying whether
        `voter` (the reader's pseudonym) voted for it."""

        def read_board(db: Database) -> list[Question]:
            sort = "9 DESC, q.asked_at DESC" if order == "votes" else "q.asked_at DESC, 9 DESC"
            rows = db.execute(
                f"SELECT {COLUMNS} FROM questions q WHERE q.state = 'accepted'"
                f" ORDER BY {sort}, q.id DESC LIMIT ?",
                [limit],
            ).fetchall()
            return [
                question_from_row(
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

        return await self._w.read(read_board)

    async def vote(self, question_id: int, voter: str) -> Voted:
        """One vote per person per question, where the rules allow a vote."""

        def record_vote(db: Database) -> Voted:
            row = db.execute("SELECT state FROM questions WHERE id = ?", [question_id]).fetchone()
            refused = vote_refusal(None if row is None else str(row[0]))
            if refused is not None:
                return Voted(refused)
            added = db.execute(
                "INSERT OR IGNORE INTO question_votes (question_id, voter) VALUES (?, ?)",
                [question_id, voter],
            ).rowcount
            return Voted("recorded" if added else "repeat")

        return await self._w.write(record_vote, timeout=PERSON_WRITE_TIMEOUT)

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

        def read_listed(db: Database) -> list[Question]:
            return [
                question_from_row(row)
                for row in db.execute(
                    f"SELECT {COLUMNS} FROM questions q WHERE {where} ORDER BY {order} LIMIT ?",
                    params,
                )
            ]

        return await self._w.read(read_listed)

    async def get(self, question_id: int) -> Question | None:
        return await self._w.read(lambda db: one_question(db, question_id))

    async def moderate(
        self,
        question_id: int,
        *,
        action: Action,
        by: str,
        now: datetime,
        reason: str = "",
        into: int | None = None,
        topic: str | None = None,
        forum: str | None = None,
        render_news: RenderNews | None = None,
    ) -> Moderated:
        """One moderation step, recorded with who and when, if the rules allow it
        (`question_rules.moderation_refusal`): accept, decline (with the reason the asker
        sees), merge into another question (whose votes it joins), or change a question's
        topic or forum. With `render_news`, its askers are told what became of it (accepted,
        declined, merged) in the same transaction (`question_rows.queue_news`)."""

        def apply_moderation(db: Database) -> Moderated:
            question = one_question(db, question_id)
            if question is None:
                return Moderated("unknown")
            target = one_question(db, into) if action == "merge" and into is not None else None
            if target is not None and target.id == question_id:
                target = None  # a question is not merged into itself
            refused = moderation_refusal(
                action,
                question.state,
                reason=reason,
                target_state=None if target is None else target.state,
            )
            if refused is not None:
                status, why = refused
                return Moderated(status, question, why)
            at = utc_iso(now)
            if action == "change":
                detail = move_question(db, question, topic=topic, forum=forum)
            elif action == "accept":
                detail = set_state(db, question_id, "accepted", at=at)
            elif action == "decline":
                detail = set_state(db, question_id, "declined", at=at, reason=kept_reason(reason))
            else:
                assert target is not None  # the rules refuse a merge without one
                detail = merge_into(db, question_id, target, at=at)
            log_moderation(db, at=at, by=by, question_id=question_id, action=action, detail=detail)
            done = one_question(db, question_id)
            assert done is not None
            news = _NEWS.get(action)
            if render_news is not None and news is not None:
                queue_news(db, done, news, render_news, by=by, now=now)
            return Moderated("done", done)

        return await self._w.write(apply_moderation, timeout=PERSON_WRITE_TIMEOUT)

    async def draw_agenda(
        self,
        *,
        forum: str,
        meeting_at: datetime,
        targets: list[tuple[str, str]],
        choose: Callable[[list[Question]], tuple[list[Question], list[Question]]],
        render: Callable[[list[Question], int], dict[str, Any]],
        now: datetime,
    ) -> tuple[list[Question], int] | None:
        """At a meeting's cut-off: its agenda, once. `choose(on_board)` says which of the
        forum's questions on the board go on it (the rest stay, carried forward to the next
        meeting). The agenda message (`render(agenda, carried)`) is queued to `targets` (the
        forum's channel, or the engagement leads by DM when it has none the bot can post in)
        through the outbox in the same transaction. (The agenda, how many were carried
        forward), or None if this meeting's agenda was drawn up already (a restart, a second
        run)."""
        meeting = utc_iso(meeting_at)

        def draw_up_and_queue(db: Database) -> tuple[list[Question], int] | None:
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
            on_board = [
                question_from_row(row)
                for row in db.execute(
                    f"SELECT {COLUMNS} FROM questions q WHERE q.state = 'accepted'"
                    " AND q.forum = ? ORDER BY q.id",
                    [forum],
                )
            ]
            agenda, rest = choose(on_board)
            db.conn.executemany(
                "UPDATE questions SET state = 'agenda', meeting_at = ? WHERE id = ?",
                [(meeting, q.id) for q in agenda],
            )
            db.conn.executemany(
                "UPDATE questions SET carried = COALESCE(carried, 0) + 1 WHERE id = ?",
                [(q.id,) for q in rest],
            )
            db.execute(
                "UPDATE agendas SET questions = ?, carried = ? WHERE forum = ? AND meeting_at = ?",
                [len(agenda), len(rest), forum, meeting],
            )
            queue_message(
                db,
                key=(f"agenda:{forum}", int(meeting_at.timestamp()), "agenda"),
                title=f"Agenda: {forum}",
                message=render(agenda, len(rest)),
                targets=targets,
                published_by="",
                now=now,
            )
            return agenda, len(rest)

        return await self._w.write(draw_up_and_queue)

    async def agenda_drawn(self, forum: str, meeting_at: datetime) -> str | None:
        """When this meeting's agenda was drawn up (UTC ISO-8601), or None if it has not been."""

        def drawn_at(db: Database) -> str | None:
            row = db.execute(
                "SELECT drawn_at FROM agendas WHERE forum = ? AND meeting_at = ?",
                [forum, utc_iso(meeting_at)],
            ).fetchone()
            return None if row is None else str(row[0])

        return await self._w.read(drawn_at)

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
        public_to: tuple[str, str],
        render_public: Callable[[Question], dict[str, Any]],
        render_news: RenderNews,
    ) -> Moderated:
        """Record a question's answer (and what was done), once, with who and when; queue it
        through the outbox in the same transaction to `public_to` ("You said, we did":
        ("channel", C…), or ("dm", the lead) when that channel cannot be posted in, so an
        answer is never lost to a missing channel), and tell its askers (`queue_news`): a
        named one by DM, an anonymous one who asked to be told under their sealed id. Every
        asker also finds it under My questions, by the reference they were given."""
        at = utc_iso(now)

        def record_and_queue_answer(db: Database) -> Moderated:
            question = one_question(db, question_id)
            if question is None:
                return Moderated("unknown")
            refused = answer_refusal(question.state, answer)
            if refused is not None:
                status, why = refused
                return Moderated(status, question, why)
            kept, done_action = kept_answer(answer, action)
            db.execute(
                "UPDATE questions SET state = 'answered', answer = ?, action = ?,"
                " answered_at = ?, answered_by = ? WHERE id = ?",
                [kept, done_action, at, by, question_id],
            )
            log_moderation(db, at=at, by=by, question_id=question_id, action="answer")
            done = one_question(db, question_id)
            assert done is not None
            queue_message(
                db,
                key=("you-said-we-did", question_id, "answer"),
                title=f"You said, we did: {done.ref}",
                message=render_public(done),
                targets=[public_to],
                published_by=by,
                now=now,
            )
            queue_news(db, done, "answered", render_news, by=by, now=now)
            return Moderated("done", done)

        return await self._w.write(record_and_queue_answer, timeout=PERSON_WRITE_TIMEOUT)

    async def answered(self, limit: int = 10) -> list[Question]:
        """Answered questions, newest answer first: "You said, we did"."""
        return await self._listed("q.state = 'answered'", "q.answered_at DESC, q.id DESC", [limit])


_NEWS: dict[Action, News] = {"accept": "accepted", "decline": "declined", "merge": "merged"}


def _days_before(day: str, days: int) -> str:
    return (date.fromisoformat(day) - timedelta(days=days)).isoformat()
