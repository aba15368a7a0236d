"""Comprehension checks: taking one (an attempt and one retake), and closing them.

A submission is one transaction: it is checked against the check as it was sent (open, the
right number of answers, each an option that exists), the attempt is the next one this person
may make (a double submit or Slack's retry finds it taken and changes nothing), and it is marked
and stored before Slack is answered. What counts as valid, and whose turn it is, are the pure
rules in `bot/comprehension.py`; this module reads and writes.

Anonymous checks: the submission and its answers hold no user id, no time and no group; the
group figures come from counters per cell of MIN_GROUP_SIZE or more (`check_counts`). One
attempt per person is still enforced by a keyed hash (see `check_keys.py`).

`storage.checks` is one object over the three areas: taking (here), results
(`check_results.py`) and follow-ups (`follow_ups.py`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from sqlite_utils import Database

from bot.comprehension import (
    MAX_COMMENT,
    Attempt,
    Marked,
    anonymous_measures,
    kept_rating,
    mark,
    next_attempt,
    retake_still_theirs,
    submission_problem,
)
from bot.disclosure import cell_key
from bot.storage import figures
from bot.storage.acknowledgements import acknowledge_by_taking
from bot.storage.check_keys import (
    SUBMIT_WRITE_TIMEOUT,
    Check,
    check_key,
    forget_takers,
    key_for,
    new_retake_token,
    read_check,
    retake_nonce,
    taker,
)
from bot.storage.check_results import CheckResults, Results
from bot.storage.disclosure import check_structure, grow_cells
from bot.storage.figures import COVERED as _COVERED
from bot.storage.follow_ups import NOT_YET, FollowUps, Reanswered
from bot.storage.writer import utc_iso

__all__ = [
    "MAX_COMMENT",
    "NOT_YET",
    "SUBMIT_WRITE_TIMEOUT",
    "Check",
    "Checks",
    "Reanswered",
    "Results",
    "Submitted",
]

CANNOT = "that attempt cannot be made"

Status = Literal["recorded", "repeat", "closed", "unknown", "invalid", "done"]


@dataclass(frozen=True)
class Submitted:
    """What a submission did; `marked` is the attempt's marking when it was recorded."""

    status: Status
    check: Check | None = None
    attempt: int = 0
    marked: Marked | None = None
    outside: bool = False
    reason: str = ""
    # Anonymous, first attempt not all right: the proof that a retake is theirs, which only
    # Slack keeps (in the feedback modal), so nothing stored says who got something wrong.
    retake_token: str | None = None


@dataclass(frozen=True)
class _Taking:
    """One submission as it is being stored: the check as it stands, whose it is, and what."""

    check: Check
    check_key: str | None  # an anonymous check's hash key (None: attributed, or closed)
    taker: str  # the user id, or (anonymous) its keyed hash
    user_id: str
    attempt: int
    choices: tuple[int, ...]
    clarity: int | None
    comment: str | None
    now: datetime

    @property
    def anonymous(self) -> bool:
        return self.check.mode == "anonymous"


class Checks(FollowUps, CheckResults):
    """Named operations on `checks`, `check_taken`, `check_submissions` and `check_answers`;
    results and follow-ups come from their own areas, on the same object."""

    async def check_for(self, briefing_id: str, version: int) -> Check | None:
        return await self._w.read(lambda db: read_check(db, briefing_id, version))

    async def definition(self, briefing_id: str, version: int) -> Check | None:
        """A check's questions and settings, which never change once sent, kept in memory
        after the first read: answering needs them before the write, and a read through
        the writer's thread for each answer is a round trip the hot path can spare. Its
        `closed_at` may be stale: whether it is open is decided in `submit`'s transaction."""
        key = (briefing_id, version)
        known = self._definitions.get(key)
        if known is None:
            known = await self.check_for(briefing_id, version)
            if known is not None:
                if len(self._definitions) >= 256:
                    self._definitions.clear()
                self._definitions[key] = known
        return known

    async def attempts_of(self, briefing_id: str, version: int, user_id: str) -> int:
        """How many attempts this person has made (0, 1 or 2)."""

        def count_attempts(db: Database) -> int:
            key = taker(db, self._secret, briefing_id, version, user_id)
            if key is None:
                return 0
            return _attempts_made(db, briefing_id, version, key)

        return await self._w.read(count_attempts)

    async def submit(
        self,
        *,
        briefing_id: str,
        version: int,
        attempt: int,
        user_id: str,
        choices: tuple[int, ...],
        clarity: int | None,
        comment: str | None,
        now: datetime,
        retake_token: str | None = None,
    ) -> Submitted:
        """Record one attempt, once. Nothing is stored unless it is valid and the check open.

        An anonymous answer keeps no group at all: it is added to its cell's counters, and only
        where that cell holds `min_group` people or more (a smaller one would say who answered).

        An anonymous retake is allowed by `retake_token`, given back with the feedback on a
        first attempt that was not all right: `check_taken` then holds only that the person
        took the check (never whether they got anything wrong, nor that they retook it), and
        the token's random nonce, recorded when it is used, makes it good for one retake.
        """

        known = self._definitions.get((briefing_id, version))

        def record_attempt(db: Database) -> Submitted:
            # What can change (closing, and the anonymous key) is read afresh; the questions,
            # which cannot, come from memory when they are there.
            row = db.execute(
                "SELECT closed_at, taker_salt, taker_key FROM checks WHERE briefing_id = ?"
                " AND version = ?",
                [briefing_id, version],
            ).fetchone()
            if row is None:
                return Submitted("unknown")
            key = check_key(self._secret, row[1], row[2])
            check = (
                replace(known, closed_at=row[0])
                if known is not None
                else read_check(db, briefing_id, version)
            )
            assert check is not None
            if not check.open_at(now):
                return Submitted("closed", check)
            problem = submission_problem(check.questions, check.clarity, choices, clarity, comment)
            if problem is not None:
                return Submitted("invalid", check, reason=problem)
            whose = key_for(check.mode, key, user_id)
            assert whose is not None  # open checks always have one
            taking = _Taking(check, key, whose, user_id, attempt, choices, clarity, comment, now)
            refused = _refused(db, taking, retake_token)
            if refused is not None:
                return refused
            return self._store_attempt(db, taking)

        submitted = await self._w.write(record_attempt, timeout=SUBMIT_WRITE_TIMEOUT)
        if submitted.check is not None and submitted.check.mode == "anonymous":
            self._anonymous_written = True
        return submitted

    def _store_attempt(self, db: Database, taking: _Taking) -> Submitted:
        """Mark the attempt and store it: its submission and answers, and that it was made."""
        check, attempt = taking.check, taking.attempt
        marked = mark(check.questions, taking.choices)
        span = {"b": check.briefing_id, "v": check.version, "u": taking.user_id, "n": 1}
        outside = not db.execute(
            "SELECT 1 FROM recipients r JOIN publications p ON p.id = r.publication_id"
            f" WHERE p.briefing_id = :b AND {_COVERED.format(p='p')} AND r.user_id = :u"
            " AND p.status = 'posted' LIMIT 1",
            span,
        ).fetchone()
        # No group is kept on any answer (`teams` stays empty): breakdowns are the
        # disclosure layer's, by the pattern each person was fixed in; anonymous answers
        # add to their cell's counters instead.
        if taking.anonymous and not outside:
            self._count_anonymous(db, check, taking.user_id, attempt, marked, taking.clarity)
        _insert_submission(db, taking, marked, outside)
        token = _mark_taken(db, taking, marked)
        if not outside and not taking.anonymous:
            # Attributed checks only: an anonymous answer writes nothing that names its taker,
            # or two copies of the database either side of it would say who answered, and so
            # (by the counters) how.
            acknowledge_by_taking(
                db, check.briefing_id, check.version, taking.user_id, utc_iso(taking.now)
            )
        return Submitted("recorded", check, attempt, marked, outside, retake_token=token)

    def _count_anonymous(
        self,
        db: Database,
        check: Check,
        user_id: str,
        attempt: int,
        marked: Marked,
        clarity: int | None,
    ) -> None:
        """Count an anonymous attempt in its cell (the released groups the person is in), only
        where that cell holds `min_group` people or more: a counter for fewer, moving between
        two copies of the database, would say who answered."""
        chosen = check_structure(db, check.briefing_id, check.version, self.min_group)
        pattern = figures.person_pattern(
            db, check.briefing_id, check.version, user_id, chosen.publications
        )
        cell = cell_key(pattern, chosen.groups)
        if chosen.cells.get(cell, 0) < self.min_group:
            # A cell the choice did not see (people a correction named in a new entry) counts
            # once it holds enough people; working that out is the rare, slower path.
            cells = grow_cells(db, check.briefing_id, check.version, chosen, self.min_group)
            if cells.get(cell, 0) < self.min_group:
                return
        measures = anonymous_measures(attempt, marked, clarity)
        figures.count_anonymous(db, check.briefing_id, check.version, cell, measures)

    async def close_due(self, now: datetime) -> int:
        """Close every check whose time has come; its anonymous key goes with it."""

        def close_and_forget_due(db: Database) -> int:
            closed = db.execute(
                "UPDATE checks SET closed_at = closes_at, taker_key = NULL, taker_salt = NULL"
                " WHERE closed_at IS NULL AND closes_at <= ?",
                [utc_iso(now)],
            ).rowcount
            forget_takers(db)
            return closed

        closed = await self._w.write(close_and_forget_due)
        if closed:
            self._anonymous_written = True
            await self.scrub()
        return closed

    async def close(self, check: Check, now: datetime) -> bool:
        """Close this check early; False if it had closed already."""

        def close_and_forget(db: Database) -> bool:
            closed = (
                db.execute(
                    "UPDATE checks SET closed_at = ?, taker_key = NULL, taker_salt = NULL"
                    " WHERE briefing_id = ? AND version = ? AND closed_at IS NULL",
                    [utc_iso(now), check.briefing_id, check.version],
                ).rowcount
                == 1
            )
            forget_takers(db)
            return closed

        closed = await self._w.write(close_and_forget)
        if closed:
            self._anonymous_written = True
            await self.scrub()
        return closed

    async def retake_open(self, check: Check, user_id: str) -> bool:
        """Has this person made one attempt, not all correct (so their retake is still theirs)?"""

        def read_retake(db: Database) -> bool:
            if check.mode == "anonymous":
                return False  # nothing stored says how their first attempt went
            key = taker(db, self._secret, check.briefing_id, check.version, user_id)
            row = db.execute(
                "SELECT attempts, first_correct FROM check_taken WHERE briefing_id = ?"
                " AND version = ? AND taker = ?",
                [check.briefing_id, check.version, key],
            ).fetchone()
            return bool(row and retake_still_theirs(row[0], row[1]))

        return await self._w.read(read_retake)

    async def waiting_for(self, user_id: str, now: datetime) -> list[Check]:
        """Open checks on versions this person received and has not taken yet (for Home)."""

        def read_waiting(db: Database) -> list[Check]:
            rows = db.execute(
                "SELECT DISTINCT c.briefing_id, c.version FROM checks c"
                " JOIN publications p ON p.briefing_id = c.briefing_id AND p.version >= c.version"
                " AND p.version < COALESCE((SELECT MIN(n.version) FROM checks n"
                "   WHERE n.briefing_id = c.briefing_id AND n.version > c.version), 1000000000)"
                " JOIN recipients r ON r.publication_id = p.id"
                " WHERE r.user_id = ? AND p.status = 'posted' AND c.closed_at IS NULL"
                " AND c.closes_at > ?"
                " ORDER BY c.closes_at",
                [user_id, utc_iso(now)],
            ).fetchall()
            waiting = []
            for briefing_id, version in rows:
                key = taker(db, self._secret, briefing_id, version, user_id)
                taken = db.execute(
                    "SELECT 1 FROM check_taken WHERE briefing_id = ? AND version = ? AND taker = ?",
                    [briefing_id, version, key],
                ).fetchone()
                check = read_check(db, briefing_id, version)
                if not taken and check is not None:
                    waiting.append(check)
            return waiting

        return await self._w.read(read_waiting)

    async def published_by(self, check: Check) -> str | None:
        """Who published the briefing this check came with."""

        def read_publisher(db: Database) -> str | None:
            row = db.execute(
                "SELECT published_by FROM checks WHERE briefing_id = ? AND version = ?",
                [check.briefing_id, check.version],
            ).fetchone()
            return None if row is None else row[0]

        return await self._w.read(read_publisher)

    async def latest(self, briefing_id: str, version: int | None = None) -> Check | None:
        """The newest version's check of a briefing (or that `version`'s)."""

        def read_latest(db: Database) -> Check | None:
            if version is not None:
                return read_check(db, briefing_id, version)
            row = db.execute(
                "SELECT MAX(version) FROM checks WHERE briefing_id = ?", [briefing_id]
            ).fetchone()
            return None if row[0] is None else read_check(db, briefing_id, int(row[0]))

        return await self._w.read(read_latest)


def _attempts_made(db: Database, briefing_id: str, version: int, key: str) -> int:
    row = db.execute(
        "SELECT attempts FROM check_taken WHERE briefing_id = ? AND version = ? AND taker = ?",
        [briefing_id, version, key],
    ).fetchone()
    return 0 if row is None else int(row[0])


def _refused(db: Database, taking: _Taking, token: str | None) -> Submitted | None:
    """Why this attempt is not stored (a repeat, out of turn, a retake not theirs), or None.

    Whose turn it is is `bot.comprehension.next_attempt`'s rule; here is only what it reads:
    the attempts made, and for a retake its pass (anonymous) or the first attempt (attributed).
    """
    check, attempt = taking.check, taking.attempt
    made = _attempts_made(db, check.briefing_id, check.version, taking.taker)
    turn = next_attempt(attempt, made, taking.anonymous)
    if turn is Attempt.REPEAT_WITH_FEEDBACK:
        return Submitted("repeat", check, attempt, mark(check.questions, taking.choices))
    if turn is Attempt.REPEAT:
        return Submitted("repeat", check, attempt)  # a double submit, or Slack's retry
    if turn is Attempt.REFUSED:
        return Submitted("invalid", check, reason=CANNOT)
    if turn is Attempt.RETAKE and taking.anonymous:
        nonce = retake_nonce(check, taking.check_key, taking.taker, token)
        if nonce is None:
            return Submitted("invalid", check, reason=CANNOT)
        used = db.execute(
            "INSERT OR IGNORE INTO check_retakes (briefing_id, version, nonce) VALUES (?, ?, ?)",
            [check.briefing_id, check.version, nonce],
        )
        if used.rowcount == 0:
            return Submitted("repeat", check, attempt)
    elif turn is Attempt.RETAKE and _first_all_correct(db, check, taking.taker):
        return Submitted("done", check, attempt)
    return None


def _insert_submission(db: Database, taking: _Taking, marked: Marked, outside: bool) -> None:
    """The attempt's row and its answers. Anonymous: a random id (no order to line up with
    anything), no user and no time."""
    check, anonymous = taking.check, taking.anonymous
    clarity, comment = kept_rating(taking.attempt, taking.clarity, taking.comment)
    submission_id = secrets.randbits(62) if anonymous else None
    cursor = db.execute(
        "INSERT INTO check_submissions (id, briefing_id, version, attempt, taker,"
        " outside, teams, correct, all_correct, clarity, comment, submitted_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            submission_id,
            check.briefing_id,
            check.version,
            taking.attempt,
            None if anonymous else taking.user_id,
            int(outside),
            None,
            marked.correct,
            int(marked.all_correct),
            clarity,
            comment,
            None if anonymous else utc_iso(taking.now),
        ],
    )
    sid = submission_id if submission_id is not None else cursor.lastrowid
    db.conn.executemany(
        "INSERT INTO check_answers (submission_id, question, option, correct) VALUES (?, ?, ?, ?)",
        [
            (sid, n, choice, int(right))
            for n, (choice, right) in enumerate(zip(marked.choices, marked.right, strict=True))
        ],
    )


def _mark_taken(db: Database, taking: _Taking, marked: Marked) -> str | None:
    """Record that the person made this attempt; an anonymous first one not all right gets
    its retake pass back (for Slack to keep), and nothing of how it went is stored."""
    check = taking.check
    if not taking.anonymous:
        db.execute(
            "INSERT INTO check_taken (briefing_id, version, taker, attempts,"
            " first_correct) VALUES (?, ?, ?, ?, ?) ON CONFLICT (briefing_id, version,"
            " taker) DO UPDATE SET attempts = excluded.attempts",
            [
                check.briefing_id,
                check.version,
                taking.taker,
                taking.attempt,
                int(marked.all_correct),
            ],
        )
        return None
    if taking.attempt != 1:
        return None
    db.execute(  # that they took it; nothing of how it went
        "INSERT INTO check_taken (briefing_id, version, taker, attempts) VALUES (?, ?, ?, 1)",
        [check.briefing_id, check.version, taking.taker],
    )
    if marked.all_correct:
        return None
    assert taking.check_key is not None  # open anonymous checks have a key
    return new_retake_token(check, taking.check_key, taking.taker)


def _first_all_correct(db: Database, check: Check, key: str) -> bool:
    """Was this person's first attempt all correct (so no retake is offered)? Kept on their
    `check_taken` row, which for an anonymous check is under the keyed hash, not their id."""
    row = db.execute(
        "SELECT first_correct FROM check_taken WHERE briefing_id = ? AND version = ? AND taker = ?",
        [check.briefing_id, check.version, key],
    ).fetchone()
    return bool(row and row[0])
