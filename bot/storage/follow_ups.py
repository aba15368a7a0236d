"""Following a comprehension check up: a nudge or a clarification, and answers given again.

A follow-up is queued through the outbox, once per question per check, to people chosen inside
the transaction that queues it and never shown to anyone (`queue_follow_up`). An anonymous
check's clarification cannot know whom it concerns, so it goes to everyone reached and asks its
question again; each answer given again is stored once per person, under a keyed hash in its
own domain, with no user and no time (`reanswer`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlite_utils import Database

from bot.comprehension import (
    Audience,
    correct_option,
    follow_up_audience,
    follow_up_covered,
    reanswer_fits,
    reanswer_right,
)
from bot.disclosure import Figures
from bot.storage.check_keys import SUBMIT_WRITE_TIMEOUT, Check, CheckArea, read_check, taker
from bot.storage.disclosure import release_check
from bot.storage.figures import COVERED as _COVERED
from bot.storage.outbox import queue_message

NOT_YET = -1  # a follow-up refused: the released figures do not cover it yet


@dataclass(frozen=True)
class Reanswered:
    """What answering a question again did: recorded (and whether it was right), a repeat,
    closed, from someone it did not reach, or not an answer to anything sent."""

    status: Literal["recorded", "repeat", "closed", "outside", "unknown", "invalid"]
    right: bool = False


class FollowUps(CheckArea):
    """Checks' follow-ups: queued through the outbox, and the answers given again after them."""

    async def queue_follow_up(
        self,
        check: Check,
        *,
        question: int | None,
        message: dict[str, Any],
        published_by: str,
        now: datetime,
    ) -> int | None:
        """Queue a clarification, through the outbox. Once per question per check: None if it
        was sent already; otherwise, for an anonymous check, how many it goes to (everyone
        reached), and for an attributed one 1 (how many would be a figure about acts not yet
        released). The people are chosen here, in the transaction, and never shown to anyone
        (whom: `bot.comprehension.follow_up_audience`).

        The figures as released when it goes are kept with it, for before and after: the raw
        ones, set against later released ones, would show the acts between. Nothing is sent
        (`NOT_YET`) for an audience under `min_group`, whose figures are never shown, nor a
        question's clarification until the released figures cover that many takers and show
        a wrong answer to it (`bot.comprehension.follow_up_covered`)."""
        purpose = f"followup:{'none' if question is None else question + 1}"

        def queue_to_those_concerned(db: Database) -> int | None:
            key = {"b": check.briefing_id, "v": check.version, "q": question}
            answers = self._released_answers(db, check, now)
            took, correct = _took_and_correct(check, answers, question)
            if not follow_up_covered(answers.shown, took, correct, question):
                return NOT_YET
            reached = (
                "SELECT DISTINCT r.user_id FROM recipients r"
                " JOIN publications p ON p.id = r.publication_id"
                f" WHERE p.briefing_id = :b AND {_COVERED.format(p='p')} AND p.status = 'posted'"
            )
            audience = follow_up_audience(check.mode == "anonymous", question)
            if audience is Audience.EVERYONE_REACHED:
                people = [r[0] for r in db.execute(reached, key)]
            elif audience is Audience.YET_TO_TAKE:
                people = [
                    r[0]
                    for r in db.execute(
                        reached + " AND NOT EXISTS (SELECT 1 FROM check_taken t"
                        "   WHERE t.briefing_id = :b AND t.version = :v AND t.taker = r.user_id)",
                        key,
                    )
                ]
            else:
                people = [
                    r[0]
                    for r in db.execute(
                        "SELECT s.taker FROM check_submissions s JOIN check_answers a"
                        " ON a.submission_id = s.id AND a.question = :q"
                        " WHERE s.briefing_id = :b AND s.version = :v AND s.attempt = 1"
                        " AND s.outside = 0 AND a.correct = 0 AND s.taker IS NOT NULL"
                        " AND NOT EXISTS (SELECT 1 FROM check_submissions t"
                        "   WHERE t.briefing_id = :b AND t.version = :v AND t.taker = s.taker"
                        "   AND t.attempt = 2 AND t.all_correct = 1)",
                        key,
                    )
                ]
            # The same once-only, crash-safe queue every few-people message uses.
            found = queue_message(
                db,
                key=(check.briefing_id, check.version, purpose),
                title=check.title,
                message=message,
                targets=[("dm", person) for person in people],
                published_by=published_by,
                now=now,
            )
            if found is None:
                return None
            _keep_figures_before(db, found, check, question, answers, took, correct)
            return len(people) if check.mode == "anonymous" else 1

        return await self._w.write(queue_to_those_concerned)

    def _released_answers(self, db: Database, check: Check, now: datetime) -> Figures:
        """The check's answers as the disclosure layer releases them now."""
        released = release_check(db, check.briefing_id, check.version, now, self.min_group)
        assert released is not None
        return released.answers

    async def reanswer(
        self,
        check: Check,
        *,
        question: int,
        user_id: str,
        choice: int,
        now: datetime,
    ) -> Reanswered:
        """An anonymous check's question answered again after its clarification: once per
        person, by a keyed hash in its own domain; the answer under a random id, with no user
        and no time. Nothing is stored unless the check is open, the clarification was sent,
        the person was reached, and the choice is one of the question's options."""

        def store_answer_again(db: Database) -> Reanswered:
            current = read_check(db, check.briefing_id, check.version)
            if current is None or current.mode != "anonymous":
                return Reanswered("unknown")
            if not current.open_at(now):
                return Reanswered("closed")
            if not 0 <= question < len(current.questions):
                return Reanswered("unknown")
            asked = current.questions[question]
            if not reanswer_fits(asked, choice):
                return Reanswered("invalid")
            row = db.execute(
                "SELECT broadcast_id FROM check_follow_ups WHERE briefing_id = ? AND version = ?"
                " AND question = ?",
                [check.briefing_id, check.version, question],
            ).fetchone()
            if row is None:
                return Reanswered("unknown")
            broadcast_id = int(row[0])
            if not _reached(db, check, user_id):
                return Reanswered("outside")
            key = taker(
                db,
                self._secret,
                check.briefing_id,
                check.version,
                f"reanswer:{broadcast_id}:{user_id}",
            )
            taken = db.execute(
                "INSERT OR IGNORE INTO check_reanswered (broadcast_id, taker) VALUES (?, ?)",
                [broadcast_id, key],
            )
            if taken.rowcount == 0:
                return Reanswered("repeat")
            right = reanswer_right(asked, choice)
            db.execute(
                "INSERT INTO check_reanswers (id, broadcast_id, option, correct)"
                " VALUES (?, ?, ?, ?)",
                [secrets.randbits(62), broadcast_id, choice, int(right)],
            )
            return Reanswered("recorded", right)

        done = await self._w.write(store_answer_again, timeout=SUBMIT_WRITE_TIMEOUT)
        self._anonymous_written = True
        return done


def _took_and_correct(check: Check, answers: Figures, question: int | None) -> tuple[int, int]:
    """How many took the check, and answered `question` rightly, in the released figures."""
    took = answers.total("took")
    correct = 0
    if question is not None:
        correct = answers.total(f"q:{question}:{correct_option(check.questions[question])}")
    return took, correct


def _keep_figures_before(
    db: Database,
    broadcast_id: int,
    check: Check,
    question: int | None,
    answers: Figures,
    took: int,
    correct: int,
) -> None:
    """Keep the released figures as they were when the follow-up went, for before and after."""
    db.execute(
        "INSERT INTO check_follow_ups (broadcast_id, briefing_id, version, question,"
        " took_before, first_time_before, answered_before, correct_before)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            broadcast_id,
            check.briefing_id,
            check.version,
            question,
            took,
            answers.total("first_time"),
            took if question is not None else 0,
            correct,
        ],
    )


def _reached(db: Database, check: Check, user_id: str) -> bool:
    """Did a posted copy of a version this check covers reach this person?"""
    span = {"b": check.briefing_id, "v": check.version, "u": user_id}
    reached = db.execute(
        "SELECT 1 FROM recipients r JOIN publications p ON p.id = r.publication_id"
        f" WHERE p.briefing_id = :b AND {_COVERED.format(p='p')} AND r.user_id = :u"
        " AND p.status = 'posted' LIMIT 1",
        span,
    ).fetchone()
    return bool(reached)
