"""Comprehension checks: taking one (an attempt and one retake), closing, and the results.

A submission is one transaction: it is checked against the check as it was sent (open, the
right number of answers, each an option that exists), the attempt is the next one this person
may make (a double submit or Slack's retry finds it taken and changes nothing), and it is marked
and stored before Slack is answered.

Anonymous checks: the submission and its answers hold no user id, no time and no group; the
group figures come from counters per cell of MIN_GROUP_SIZE or more (`check_counts`). One
attempt per person is still enforced, through `check_taken`, by an HMAC of the user id under a
key made from a secret that is never in the database (`ASKER_KEY`, or one derived from the bot's
token) and a salt that lives in the `checks` row while the check is open and is deleted, with
the hashes, when it closes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import Any, Literal

from sqlite_utils import Database

from bot.comprehension import Marked, mark
from bot.disclosure import cell_key
from bot.storage import figures
from bot.storage.disclosure import check_structure, grow_cells, release_check
from bot.storage.figures import COVERED as _COVERED
from bot.storage.outbox import queue_message
from bot.storage.writer import Writer, utc_iso

# A person waits on the modal: past this the write is rolled back and they are asked again.
SUBMIT_WRITE_TIMEOUT = 2.0
MAX_COMMENT = 500
NOT_YET = -1  # a follow-up refused: the released figures do not cover it yet


@dataclass(frozen=True)
class Check:
    """A briefing version's check, as it was sent."""

    briefing_id: str
    version: int
    title: str
    questions: list[dict[str, Any]]
    clarity: bool
    mode: str
    closes_at: str
    closed_at: str | None

    def open_at(self, now: datetime) -> bool:
        return self.closed_at is None and utc_iso(now) < self.closes_at

    @cached_property
    def fingerprint(self) -> str:
        """What was asked, in short: two checks under one id and version (two databases in
        one process, as in tests) are told apart by their questions."""
        return hashlib.sha256(json.dumps(self.questions, sort_keys=True).encode()).hexdigest()


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


@dataclass
class Results:
    """One check's raw figures, for tests and the layer's own checks: never shown. Views take
    the disclosure layer's released figures (`Disclosure.check`)."""

    check: Check
    reached: int = 0
    acknowledged: int = 0
    took: int = 0
    first_time: int = 0
    after_retake: int = 0
    retook: int = 0
    outside: int = 0
    per_question: list[dict[str, Any]] = field(default_factory=list)
    clarity: list[int] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Reanswered:
    """What answering a question again did: recorded (and whether it was right), a repeat,
    closed, from someone it did not reach, or not an answer to anything sent."""

    status: Literal["recorded", "repeat", "closed", "outside", "unknown", "invalid"]
    right: bool = False


class Checks:
    """Named operations on `checks`, `check_taken`, `check_submissions` and `check_answers`."""

    def __init__(self, writer: Writer, *, secret: bytes, min_group: int):
        self._w = writer
        self._secret = secret
        self.min_group = min_group
        self._definitions: dict[tuple[str, int], Check] = {}
        self._anonymous_written = False

    async def scrub(self) -> bool:
        """Empty the write-ahead log into the database, if anything anonymous was written
        since the last time. The WAL keeps each commit's pages in order: a copy of it could
        match an anonymous answer to the keyed hash written in the same commit. The database
        file itself keeps rows in key order (random ids, hashes), not in the order written.
        Run every minute, and at once when a check closes (so its deleted key goes too)."""
        if not self._anonymous_written:
            return False
        self._anonymous_written = False

        done = await self._w.scrub()
        if not done:
            self._anonymous_written = True  # a reader was in the way: next time
        return done

    async def check_for(self, briefing_id: str, version: int) -> Check | None:
        return await self._w.read(lambda db: _check(db, briefing_id, version))

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

        def query(db: Database) -> int:
            key = _taker(db, self._secret, briefing_id, version, user_id)
            if key is None:
                return 0
            row = db.execute(
                "SELECT attempts FROM check_taken WHERE briefing_id = ? AND version = ?"
                " AND taker = ?",
                [briefing_id, version, key],
            ).fetchone()
            return 0 if row is None else int(row[0])

        return await self._w.read(query)

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

        def submit(db: Database) -> Submitted:
            # What can change (closing, and the anonymous key) is read afresh; the questions,
            # which cannot, come from memory when they are there.
            row = db.execute(
                "SELECT closed_at, taker_salt, taker_key FROM checks WHERE briefing_id = ?"
                " AND version = ?",
                [briefing_id, version],
            ).fetchone()
            if row is None:
                return Submitted("unknown")
            state = (row[0], _check_key(self._secret, row[1], row[2]))
            check = (
                replace(known, closed_at=state[0])
                if known is not None
                else _check(db, briefing_id, version)
            )
            assert check is not None
            if not check.open_at(now):
                return Submitted("closed", check)
            questions = check.questions
            if len(choices) != len(questions) or any(
                not 0 <= c < len(q["options"]) for c, q in zip(choices, questions, strict=False)
            ):
                return Submitted("invalid", check, reason="the answers do not fit this check")
            if (clarity is not None or comment) and not check.clarity:
                return Submitted("invalid", check, reason="this check asks for no rating")
            if clarity is not None and not 1 <= clarity <= 5:
                return Submitted("invalid", check, reason="clarity must be from 1 to 5")
            key = _key_for(check.mode, state[1], user_id)
            assert key is not None  # open checks always have one
            row = db.execute(
                "SELECT attempts FROM check_taken WHERE briefing_id = ? AND version = ?"
                " AND taker = ?",
                [briefing_id, version, key],
            ).fetchone()
            made = 0 if row is None else int(row[0])
            anonymous = check.mode == "anonymous"
            if attempt <= made:
                if anonymous and attempt == 1:
                    # A double submit (two modals open): the feedback again, but no second
                    # retake pass: each pass is good once, so a second would be a second
                    # retake, and nothing stored may say whose pass was used.
                    return Submitted("repeat", check, attempt, mark(questions, choices))
                return Submitted("repeat", check, attempt)  # a double submit, or Slack's retry
            if attempt != made + 1 or attempt > 2:
                return Submitted("invalid", check, reason="that attempt cannot be made")
            if attempt == 2 and anonymous:
                nonce = _retake_nonce(check, state[1], key, retake_token)
                if nonce is None:
                    return Submitted("invalid", check, reason="that attempt cannot be made")
                used = db.execute(
                    "INSERT OR IGNORE INTO check_retakes (briefing_id, version, nonce)"
                    " VALUES (?, ?, ?)",
                    [briefing_id, version, nonce],
                )
                if used.rowcount == 0:
                    return Submitted("repeat", check, attempt)
            elif attempt == 2 and _first_all_correct(db, check, key):
                return Submitted("done", check, attempt)
            marked = mark(questions, choices)
            span = {"b": briefing_id, "v": version, "u": user_id, "n": 1}
            outside = not db.execute(
                "SELECT 1 FROM recipients r JOIN publications p ON p.id = r.publication_id"
                f" WHERE p.briefing_id = :b AND {_COVERED.format(p='p')} AND r.user_id = :u"
                " AND p.status = 'posted' LIMIT 1",
                span,
            ).fetchone()
            # No group is kept on any answer (`teams` stays empty): breakdowns are the
            # disclosure layer's, by the pattern each person was fixed in; anonymous answers
            # add to their cell's counters instead.
            if anonymous and not outside:
                self._count_anonymous(db, check, user_id, attempt, marked, clarity)
            # Anonymous: a random id (no order to line up with anything) and no time.
            submission_id = secrets.randbits(62) if anonymous else None
            cursor = db.execute(
                "INSERT INTO check_submissions (id, briefing_id, version, attempt, taker,"
                " outside, teams, correct, all_correct, clarity, comment, submitted_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    submission_id,
                    briefing_id,
                    version,
                    attempt,
                    None if anonymous else user_id,
                    int(outside),
                    None,
                    marked.correct,
                    int(marked.all_correct),
                    clarity if attempt == 1 else None,
                    (comment or "").strip()[:MAX_COMMENT] or None if attempt == 1 else None,
                    None if anonymous else utc_iso(now),
                ],
            )
            sid = submission_id if submission_id is not None else cursor.lastrowid
            db.conn.executemany(
                "INSERT INTO check_answers (submission_id, question, option, correct)"
                " VALUES (?, ?, ?, ?)",
                [
                    (sid, n, choice, int(right))
                    for n, (choice, right) in enumerate(
                        zip(marked.choices, marked.right, strict=True)
                    )
                ],
            )
            token = None
            if anonymous:
                if attempt == 1:  # that they took it; nothing of how it went
                    db.execute(
                        "INSERT INTO check_taken (briefing_id, version, taker, attempts)"
                        " VALUES (?, ?, ?, 1)",
                        [briefing_id, version, key],
                    )
                    if not marked.all_correct:
                        assert state[1] is not None  # open anonymous checks have a key
                        token = _retake_token(check, state[1], key)
            else:
                db.execute(
                    "INSERT INTO check_taken (briefing_id, version, taker, attempts,"
                    " first_correct) VALUES (?, ?, ?, ?, ?) ON CONFLICT (briefing_id, version,"
                    " taker) DO UPDATE SET attempts = excluded.attempts",
                    [briefing_id, version, key, attempt, int(marked.all_correct)],
                )
            return Submitted("recorded", check, attempt, marked, outside, retake_token=token)

        submitted = await self._w.write(submit, timeout=SUBMIT_WRITE_TIMEOUT)
        if submitted.check is not None and submitted.check.mode == "anonymous":
            self._anonymous_written = True
        return submitted

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
        if attempt == 1:
            measures = {"took": 1, "first_time": int(marked.all_correct)}
            if clarity is not None:
                measures |= {"rated": 1, f"clarity:{clarity}": 1}
            for n, choice in enumerate(marked.choices):
                measures[f"q:{n}:{choice}"] = 1
        else:
            measures = {"retook": 1, "after_retake": int(marked.all_correct)}
        figures.count_anonymous(db, check.briefing_id, check.version, cell, measures)

    async def close_due(self, now: datetime) -> int:
        """Close every check whose time has come; its anonymous key goes with it."""

        def close(db: Database) -> int:
            closed = db.execute(
                "UPDATE checks SET closed_at = closes_at, taker_key = NULL, taker_salt = NULL"
                " WHERE closed_at IS NULL AND closes_at <= ?",
                [utc_iso(now)],
            ).rowcount
            _forget_takers(db)
            return closed

        closed = await self._w.write(close)
        if closed:
            self._anonymous_written = True
            await self.scrub()
        return closed

    async def close(self, check: Check, now: datetime) -> bool:
        """Close this check early; False if it had closed already."""

        def close(db: Database) -> bool:
            closed = (
                db.execute(
                    "UPDATE checks SET closed_at = ?, taker_key = NULL, taker_salt = NULL"
                    " WHERE briefing_id = ? AND version = ? AND closed_at IS NULL",
                    [utc_iso(now), check.briefing_id, check.version],
                ).rowcount
                == 1
            )
            _forget_takers(db)
            return closed

        closed = await self._w.write(close)
        if closed:
            self._anonymous_written = True
            await self.scrub()
        return closed

    async def retake_open(self, check: Check, user_id: str) -> bool:
        """Has this person made one attempt, not all correct (so their retake is still theirs)?"""

        def query(db: Database) -> bool:
            if check.mode == "anonymous":
                return False  # nothing stored says how their first attempt went
            key = _taker(db, self._secret, check.briefing_id, check.version, user_id)
            row = db.execute(
                "SELECT attempts, first_correct FROM check_taken WHERE briefing_id = ?"
                " AND version = ? AND taker = ?",
                [check.briefing_id, check.version, key],
            ).fetchone()
            return bool(row and row[0] == 1 and not row[1])

        return await self._w.read(query)

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
        released). The people are chosen here, in the transaction, and never shown to anyone.

        Attributed: to those who got `question` wrong at first and have not got everything
        right since (or, with None, to those it reached who have not taken the check).
        Anonymous: nothing says who answered what, so it goes to everyone the check reached
        (already stored as its recipients, so sending says nothing new about anyone), and the
        message asks those it concerns to answer again (`reanswer`). The figures as released
        when it goes are kept with it, for before and after: the raw ones, set against later
        released ones, would show the acts between.

        Nothing is sent (`NOT_YET`) for an audience under `min_group`, whose figures are never
        shown, nor a question's clarification until the released figures cover that many takers
        and show a wrong answer to it: a clarification asked for anyway would say, by whether
        anybody was sent it, how those who answered since the last release did."""
        purpose = f"followup:{'none' if question is None else question + 1}"

        def queue(db: Database) -> int | None:
            key = {"b": check.briefing_id, "v": check.version, "q": question}
            released = release_check(db, check.briefing_id, check.version, now, self.min_group)
            assert released is not None
            answers = released.answers
            took = answers.total("took")
            correct = 0
            if question is not None:
                asked = check.questions[question]
                correct = answers.total(f"q:{question}:{asked['options'].index(asked['answer'])}")
            if not answers.shown or (question is not None and not (took and took - correct)):
                return NOT_YET
            reached = (
                "SELECT DISTINCT r.user_id FROM recipients r"
                " JOIN publications p ON p.id = r.publication_id"
                f" WHERE p.briefing_id = :b AND {_COVERED.format(p='p')} AND p.status = 'posted'"
            )
            if check.mode == "anonymous":
                people = [r[0] for r in db.execute(reached, key)]
            elif question is None:
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
            db.execute(
                "INSERT INTO check_follow_ups (broadcast_id, briefing_id, version, question,"
                " took_before, first_time_before, answered_before, correct_before)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    found,
                    check.briefing_id,
                    check.version,
                    question,
                    took,
                    answers.total("first_time"),
                    took if question is not None else 0,
                    correct,
                ],
            )
            return len(people) if check.mode == "anonymous" else 1

        return await self._w.write(queue)

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

        def store(db: Database) -> Reanswered:
            current = _check(db, check.briefing_id, check.version)
            if current is None or current.mode != "anonymous":
                return Reanswered("unknown")
            if not current.open_at(now):
                return Reanswered("closed")
            if not 0 <= question < len(current.questions):
                return Reanswered("unknown")
            options = current.questions[question]["options"]
            if not 0 <= choice < len(options):
                return Reanswered("invalid")
            row = db.execute(
                "SELECT broadcast_id FROM check_follow_ups WHERE briefing_id = ? AND version = ?"
                " AND question = ?",
                [check.briefing_id, check.version, question],
            ).fetchone()
            if row is None:
                return Reanswered("unknown")
            broadcast_id = int(row[0])
            span = {"b": check.briefing_id, "v": check.version, "u": user_id}
            reached = db.execute(
                "SELECT 1 FROM recipients r JOIN publications p ON p.id = r.publication_id"
                f" WHERE p.briefing_id = :b AND {_COVERED.format(p='p')} AND r.user_id = :u"
                " AND p.status = 'posted' LIMIT 1",
                span,
            ).fetchone()
            if not reached:
                return Reanswered("outside")
            key = _taker(
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
            right = options[choice] == current.questions[question]["answer"]
            db.execute(
                "INSERT INTO check_reanswers (id, broadcast_id, option, correct)"
                " VALUES (?, ?, ?, ?)",
                [secrets.randbits(62), broadcast_id, choice, int(right)],
            )
            return Reanswered("recorded", right)

        done = await self._w.write(store, timeout=SUBMIT_WRITE_TIMEOUT)
        self._anonymous_written = True
        return done

    async def waiting_for(self, user_id: str, now: datetime) -> list[Check]:
        """Open checks on versions this person received and has not taken yet (for Home)."""

        def query(db: Database) -> list[Check]:
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
                key = _taker(db, self._secret, briefing_id, version, user_id)
                taken = db.execute(
                    "SELECT 1 FROM check_taken WHERE briefing_id = ? AND version = ? AND taker = ?",
                    [briefing_id, version, key],
                ).fetchone()
                check = _check(db, briefing_id, version)
                if not taken and check is not None:
                    waiting.append(check)
            return waiting

        return await self._w.read(query)

    async def record_access(
        self, check: Check, *, user_id: str, action: str, now: datetime
    ) -> None:
        """Keep who viewed or exported a check's results, and when (never what they saw)."""

        def record(db: Database) -> None:
            db.execute(
                "INSERT INTO results_audit (at, user_id, action, briefing_id, version)"
                " VALUES (?, ?, ?, ?, ?)",
                [utc_iso(now), user_id, action, check.briefing_id, check.version],
            )

        await self._w.write(record)

    async def published_by(self, check: Check) -> str | None:
        """Who published the briefing this check came with."""

        def query(db: Database) -> str | None:
            row = db.execute(
                "SELECT published_by FROM checks WHERE briefing_id = ? AND version = ?",
                [check.briefing_id, check.version],
            ).fetchone()
            return None if row is None else row[0]

        return await self._w.read(query)

    async def latest(self, briefing_id: str, version: int | None = None) -> Check | None:
        """The newest version's check of a briefing (or that `version`'s)."""

        def query(db: Database) -> Check | None:
            if version is not None:
                return _check(db, briefing_id, version)
            row = db.execute(
                "SELECT MAX(version) FROM checks WHERE briefing_id = ?", [briefing_id]
            ).fetchone()
            return None if row[0] is None else _check(db, briefing_id, int(row[0]))

        return await self._w.read(query)

    async def results_for(self, briefing_id: str, version: int) -> Results | None:
        """The funnel, per-question figures, misconceptions and clarity of one check."""

        def query(db: Database) -> Results | None:
            check = _check(db, briefing_id, version)
            if check is None:
                return None
            results = Results(check)
            key = {"b": briefing_id, "v": version}
            results.reached, results.acknowledged = db.execute(
                "SELECT COUNT(DISTINCT r.user_id), COUNT(DISTINCT a.user_id)"
                " FROM recipients r JOIN publications p ON p.id = r.publication_id"
                " LEFT JOIN acknowledgements a ON a.user_id = r.user_id"
                "   AND a.briefing_id = p.briefing_id AND a.version = p.version"
                f" WHERE p.briefing_id = :b AND {_COVERED.format(p='p')} AND p.status = 'posted'",
                key,
            ).fetchone()
            counted = "briefing_id = :b AND version = :v AND outside = 0"
            results.took, results.first_time = db.execute(
                f"SELECT COUNT(*), COALESCE(SUM(all_correct), 0) FROM check_submissions"
                f" WHERE {counted} AND attempt = 1",
                key,
            ).fetchone()
            results.retook, results.after_retake = db.execute(
                f"SELECT COUNT(*), COALESCE(SUM(all_correct), 0) FROM check_submissions"
                f" WHERE {counted} AND attempt = 2",
                key,
            ).fetchone()
            results.outside = db.execute(
                "SELECT COUNT(*) FROM check_submissions WHERE briefing_id = :b"
                " AND version = :v AND outside = 1 AND attempt = 1",
                key,
            ).fetchone()[0]
            chosen: dict[tuple[int, int], int] = {
                (q, o): n
                for q, o, n in db.execute(
                    "SELECT a.question, a.option, COUNT(*) FROM check_answers a"
                    " JOIN check_submissions s ON s.id = a.submission_id"
                    " WHERE s.briefing_id = :b AND s.version = :v AND s.outside = 0"
                    " AND s.attempt = 1 GROUP BY a.question, a.option",
                    key,
                )
            }
            for n, question in enumerate(check.questions):
                counts = [chosen.get((n, o), 0) for o in range(len(question["options"]))]
                right = question["options"].index(question["answer"])
                wrong = [(c, o) for o, c in enumerate(counts) if o != right and c]
                top = max(wrong, default=None)
                results.per_question.append(
                    {
                        "ask": question["ask"],
                        "answered": sum(counts),
                        "correct": counts[right],
                        "misconception": question["options"][top[1]] if top else None,
                        "misconception_count": top[0] if top else 0,
                    }
                )
            for clarity, n in db.execute(
                f"SELECT clarity, COUNT(*) FROM check_submissions WHERE {counted}"
                " AND attempt = 1 AND clarity IS NOT NULL GROUP BY clarity",
                key,
            ):
                results.clarity += [int(clarity)] * n
            results.comments = [
                str(row[0])
                for row in db.execute(
                    f"SELECT comment FROM check_submissions WHERE {counted}"
                    " AND attempt = 1 AND comment IS NOT NULL"
                    " ORDER BY RANDOM() LIMIT 50",  # never in the order people answered
                    key,
                )
            ]
            return results

        return await self._w.read(query)


def _check(db: Database, briefing_id: str, version: int) -> Check | None:
    row = db.execute(
        "SELECT title, questions, clarity, mode, closes_at, closed_at FROM checks"
        " WHERE briefing_id = ? AND version = ?",
        [briefing_id, version],
    ).fetchone()
    if row is None:
        return None
    return Check(
        briefing_id, version, row[0], json.loads(row[1]), bool(row[2]), row[3], row[4], row[5]
    )


def _taker(db: Database, secret: bytes, briefing_id: str, version: int, user_id: str) -> str | None:
    """The key a person's attempts are counted under: their id, or (anonymous) a keyed hash.
    None for an anonymous check that has closed: its salt is gone, and nobody can be told apart.
    """
    row = db.execute(
        "SELECT mode, taker_salt, taker_key FROM checks WHERE briefing_id = ? AND version = ?",
        [briefing_id, version],
    ).fetchone()
    return None if row is None else _key_for(row[0], _check_key(secret, row[1], row[2]), user_id)


def _check_key(secret: bytes, salt: str | None, legacy: str | None) -> str | None:
    """An anonymous check's hash key: made from the secret outside the database and the check's
    own salt, so the database (or a backup) alone cannot recompute who took it. `legacy` is
    the key kept in the row by checks opened before m012, until they close."""
    if salt is None:
        return legacy
    return hmac.new(secret, f"check-taker\x00{salt}".encode(), hashlib.sha256).hexdigest()


def _key_for(mode: str, taker_key: str | None, user_id: str) -> str | None:
    if mode != "anonymous":
        return user_id
    if taker_key is None:
        return None
    return hmac.new(bytes.fromhex(taker_key), user_id.encode(), hashlib.sha256).hexdigest()


def _retake_mac(check: Check, taker_key: str, taker: str, nonce: str) -> str:
    message = f"retake:{check.briefing_id}@{check.version}:{taker}:{nonce}".encode()
    return hmac.new(bytes.fromhex(taker_key), message, hashlib.sha256).hexdigest()[:32]


def _retake_token(check: Check, taker_key: str, taker: str) -> str:
    """A one-retake pass: a random nonce, signed with the check's key over the person's keyed
    hash (so it cannot be made up, nor used by anyone else); it names nobody, and nothing
    stored says to whom it was given."""
    nonce = secrets.token_hex(12)
    return f"{nonce}.{_retake_mac(check, taker_key, taker, nonce)}"


def _retake_nonce(check: Check, taker_key: str | None, taker: str, token: str | None) -> str | None:
    """The nonce of a genuine retake pass for this check and this person, or None."""
    nonce, _, mac = (token or "").partition(".")
    if taker_key is None or len(nonce) != 24 or len(mac) != 32:
        return None
    expected = _retake_mac(check, taker_key, taker, nonce)
    return nonce if hmac.compare_digest(mac, expected) else None


def _forget_takers(db: Database) -> None:
    """Drop the keyed hashes of closed anonymous checks' re-answers: with the key gone they
    could tell nobody apart, and nothing more is taken, so they have no use left."""
    db.execute(
        "DELETE FROM check_reanswered WHERE broadcast_id IN (SELECT f.broadcast_id"
        " FROM check_follow_ups f JOIN checks c ON c.briefing_id = f.briefing_id"
        " AND c.version = f.version WHERE c.closed_at IS NOT NULL)"
    )
    # The takers' hashes, likewise (attributed checks keep theirs: their ids are their rows).
    closed_anonymous = (
        "(SELECT briefing_id, version FROM checks WHERE mode = 'anonymous'"
        " AND closed_at IS NOT NULL)"
    )
    for table in ("check_taken", "check_retakes"):
        db.execute(f"DELETE FROM {table} WHERE (briefing_id, version) IN {closed_anonymous}")


def _first_all_correct(db: Database, check: Check, key: str) -> bool:
    """Was this person's first attempt all correct (so no retake is offered)? Kept on their
    `check_taken` row, which for an anonymous check is under the keyed hash, not their id."""
    row = db.execute(
        "SELECT first_correct FROM check_taken WHERE briefing_id = ? AND version = ? AND taker = ?",
        [check.briefing_id, check.version, key],
    ).fetchone()
    return bool(row and row[0])
