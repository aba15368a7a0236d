"""Retention: what is past its time is deleted, a batch at a time, and the purge is recorded.

Four kinds of record have a time (`Retention`, from the `RETAIN_*_MONTHS` settings; the
reasons for each default are in docs/PRIVACY.md):

- **answers**: a check's individual answers (`check_submissions`, with their comments,
  `check_answers`, `check_reanswers`, and any `check_taken`, `check_retakes` and
  `check_reanswered` left), counted from when the check *closed*. An open check is never
  touched, so its figures never move; a closed one's released figures are kept in
  `disclosure_cells`, and releases only move forward, so they stay exactly as released. The
  check itself, its counters per cell (`check_counts`, each of `MIN_GROUP_SIZE` or more) and
  its follow-ups' figures stay: they are about groups, not anyone.
- **questions**: a surgery question that is answered or declined, counted from then, with its
  votes, its moderation log and any sealed watch; a merged duplicate goes with the question it
  joined (its votes count on that one's board until then). Moderation log rows of that age
  go whatever the question's state.
- **gaps**: practice search gaps, "it helped" counts, raised gaps and dismissals, by day (a
  dismissal's words are a search's words; a gap searched again after that shows again).
- **audit**: `results_audit` and this purge's own record, `retention_runs`.

Every delete is a batch of at most `BATCH` rows in its own short write on the writer thread,
so a click waits behind one batch at most, never the whole purge. `secure_delete` is on, so
deleted rows are overwritten in the file; afterwards the write-ahead log is emptied into it
(`Writer.scrub`), so no copy of a purged row is left in the WAL. Each run's counts (never
contents) are kept in `retention_runs`; for answers, how many checks, never how many rows
(which would count a check's takers).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from bot.storage.writer import Writer, utc_iso

logger = logging.getLogger(__name__)

BATCH = 500  # rows per write: a few milliseconds each, even with secure_delete
SCRUB_TRIES = 10  # the WAL is emptied once no reader holds it; tried this many times
SCRUB_WAIT_S = 1.0


@dataclass(frozen=True)
class Retention:
    """How long each kind of record is kept, in months."""

    answers: int = 24
    questions: int = 36
    gaps: int = 12
    audit: int = 72


def months_before(moment: datetime, months: int) -> datetime:
    """The same time `months` calendar months earlier (the 31st becomes the month's last day)."""
    total = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    for day in (moment.day, 30, 29, 28):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has a 28th")


# One batch of one table: (db, cutoff, limit) -> rows deleted.
Step = Callable[[Database, str, int], int]

_CLOSED = (
    "SELECT briefing_id, version FROM checks WHERE closed_at IS NOT NULL AND closed_at < :cutoff"
)


ANSWERED_CHECKS = "answered_checks"  # the record's kind for the answers step: checks, not rows


def _answered_checks(db: Database, cutoff: str) -> int:
    """Closed checks (before `cutoff`) with any individual answer or taker still kept."""
    follow = (
        "SELECT f.briefing_id, f.version FROM check_follow_ups f JOIN {t} r"
        " ON r.broadcast_id = f.broadcast_id WHERE (f.briefing_id, f.version) IN ({closed})"
    )
    parts = [
        f"SELECT briefing_id, version FROM {t} WHERE (briefing_id, version) IN ({_CLOSED})"
        for t in ("check_submissions", "check_taken", "check_retakes")
    ] + [follow.format(t=t, closed=_CLOSED) for t in ("check_reanswers", "check_reanswered")]
    sql = "SELECT COUNT(*) FROM (" + " UNION ".join(parts) + ")"
    return int(db.execute(sql, {"cutoff": cutoff}).fetchone()[0])


def _deleted(db: Database, sql: str, cutoff: str, limit: int) -> int:
    return db.execute(sql, {"cutoff": cutoff, "limit": limit}).rowcount


def _submissions(db: Database, cutoff: str, limit: int) -> int:
    """A batch of a closed check's attempts, each with its answers (answers first: they
    point at the attempt)."""
    ids = [
        row[0]
        for row in db.execute(
            "SELECT id FROM check_submissions WHERE (briefing_id, version) IN"
            f" ({_CLOSED}) LIMIT :limit",
            {"cutoff": cutoff, "limit": max(1, limit // 10)},
        )
    ]
    if not ids:
        return 0
    marks = ",".join("?" for _ in ids)
    db.execute(f"DELETE FROM check_answers WHERE submission_id IN ({marks})", ids)
    return db.execute(f"DELETE FROM check_submissions WHERE id IN ({marks})", ids).rowcount


ANSWER_STEPS: dict[str, Step] = {
    "check_submissions": _submissions,
    "check_reanswers": lambda db, c, n: _deleted(
        db,
        "DELETE FROM check_reanswers WHERE id IN (SELECT r.id FROM check_reanswers r"
        " JOIN check_follow_ups f ON f.broadcast_id = r.broadcast_id"
        f" WHERE (f.briefing_id, f.version) IN ({_CLOSED}) LIMIT :limit)",
        c,
        n,
    ),
    "check_reanswered": lambda db, c, n: _deleted(
        db,
        "DELETE FROM check_reanswered WHERE (broadcast_id, taker) IN"
        " (SELECT r.broadcast_id, r.taker FROM check_reanswered r"
        " JOIN check_follow_ups f ON f.broadcast_id = r.broadcast_id"
        f" WHERE (f.briefing_id, f.version) IN ({_CLOSED}) LIMIT :limit)",
        c,
        n,
    ),
    "check_taken": lambda db, c, n: _deleted(
        db,
        "DELETE FROM check_taken WHERE (briefing_id, version, taker) IN"
        " (SELECT briefing_id, version, taker FROM check_taken"
        f" WHERE (briefing_id, version) IN ({_CLOSED}) LIMIT :limit)",
        c,
        n,
    ),
    "check_retakes": lambda db, c, n: _deleted(
        db,
        "DELETE FROM check_retakes WHERE (briefing_id, version, nonce) IN"
        " (SELECT briefing_id, version, nonce FROM check_retakes"
        f" WHERE (briefing_id, version) IN ({_CLOSED}) LIMIT :limit)",
        c,
        n,
    ),
}


def purgeable_questions(db: Database, cutoff: str) -> list[int]:
    """Questions answered or declined before `cutoff`, and the duplicates merged into them
    (through any chain of merges): a duplicate's votes count on the question it joined, so
    it goes only with that one."""
    rows = db.execute("SELECT id, state, merged_into, answered_at, moderated_at FROM questions")
    final: set[int] = set()
    merged: dict[int, int | None] = {}
    for qid, state, into, answered_at, moderated_at in rows:
        done_at = answered_at or moderated_at
        if state in ("answered", "declined") and done_at and done_at < cutoff:
            final.add(qid)
        elif state == "merged":
            merged[qid] = into
    found = set(final)
    present = final | set(merged) | {r[0] for r in db.execute("SELECT id FROM questions")}
    for qid in merged:
        seen: set[int] = set()
        root: int | None = qid
        while root in merged and root not in seen:
            seen.add(root)
            root = merged[root]
        # A chain whose question went in an earlier batch goes too: nothing else would take it.
        if root in found or (root is not None and root not in present):
            found |= seen
    return sorted(found)


def _questions(db: Database, cutoff: str, limit: int) -> int:
    """A batch of finished questions, each with its votes, moderation log and sealed watch
    (a watch should be gone already: it ends with the answer)."""
    ids = purgeable_questions(db, cutoff)[: max(1, limit // 10)]
    if not ids:
        return 0
    marks = ",".join("?" for _ in ids)
    for table in ("question_votes", "moderation_log", "asker_watch"):
        db.execute(f"DELETE FROM {table} WHERE question_id IN ({marks})", ids)
    return db.execute(f"DELETE FROM questions WHERE id IN ({marks})", ids).rowcount


QUESTION_STEPS: dict[str, Step] = {
    "questions": _questions,
    "moderation_log": lambda db, c, n: _deleted(
        db,
        "DELETE FROM moderation_log WHERE id IN"
        " (SELECT id FROM moderation_log WHERE at < :cutoff LIMIT :limit)",
        c,
        n,
    ),
}


def _by_day(table: str, key: str, column: str) -> Step:
    def step(db: Database, cutoff: str, limit: int) -> int:
        return _deleted(
            db,
            f"DELETE FROM {table} WHERE ({key}) IN"
            f" (SELECT {key} FROM {table} WHERE {column} < substr(:cutoff, 1, 10) LIMIT :limit)",
            cutoff,
            limit,
        )

    return step


GAP_STEPS: dict[str, Step] = {
    "practice_gaps": _by_day("practice_gaps", "day, query, reason", "day"),
    "practice_helped": _by_day("practice_helped", "day, note_id", "day"),
    "gaps_raised": _by_day("gaps_raised", "query", "raised_at"),
    # A dismissal's words are a search's words: they go with the rest (the gap may come back).
    "gaps_dismissed": _by_day("gaps_dismissed", "query", "dismissed_at"),
}

AUDIT_STEPS: dict[str, Step] = {
    "results_audit": _by_day("results_audit", "id", "at"),
    "retention_runs": _by_day("retention_runs", "id", "at"),
}


@dataclass(frozen=True)
class Run:
    """What one purge deleted, per table (tables with nothing to delete left out)."""

    at: str
    purged: dict[str, int]
    scrubbed: bool

    @property
    def total(self) -> int:
        return sum(self.purged.values())


class Purge:
    """Deletes what is past its time: `run(now, keep)` once a day."""

    def __init__(self, writer: Writer, batch: int = BATCH):
        self._w = writer
        self.batch = batch

    async def run(self, now: datetime, keep: Retention) -> Run:
        """Delete, batch by batch, everything older than its kind's time; record the counts
        in `retention_runs`; empty the write-ahead log if anything went."""
        kinds = (
            (keep.answers, ANSWER_STEPS),
            (keep.questions, QUESTION_STEPS),
            (keep.gaps, GAP_STEPS),
            (keep.audit, AUDIT_STEPS),
        )
        purged: dict[str, int] = {}
        for months, steps in kinds:
            cutoff = utc_iso(months_before(now, months))
            checks = 0
            if steps is ANSWER_STEPS:
                checks = await self._w.read(functools.partial(_answered_checks, cutoff=cutoff))
            answer_rows = 0
            for table, step in steps.items():
                n = await self._drain(step, cutoff)
                if steps is ANSWER_STEPS:
                    answer_rows += n
                elif n:
                    purged[table] = n
            if answer_rows:
                # How many checks' answers went, never how many rows: a day's purge is about
                # the checks that closed on one day, and rows would count their takers.
                purged[ANSWERED_CHECKS] = checks
        at = utc_iso(now)
        await self._w.write(lambda db: _record(db, at, purged))
        scrubbed = await self._scrub() if purged else True
        return Run(at, purged, scrubbed)

    async def _drain(self, step: Step, cutoff: str) -> int:
        total = 0
        while True:
            n = await self._w.write(lambda db: step(db, cutoff, self.batch))
            total += n
            if n == 0:
                return total
            await asyncio.sleep(0)  # let waiting clicks' writes in between batches

    async def _scrub(self) -> bool:
        for _ in range(SCRUB_TRIES):
            if await self._w.scrub():
                return True
            await asyncio.sleep(SCRUB_WAIT_S)
        logger.warning("retention: the write-ahead log could not be emptied (a reader held it)")
        return False

    async def recent(self, limit: int = 20) -> list[tuple[str, str, int]]:
        """The newest rows of the purge's record: (when, table or `run`, how many)."""

        def read(db: Database) -> list[tuple[str, str, int]]:
            return [
                (at, kind, int(n))
                for at, kind, n in db.execute(
                    "SELECT at, kind, purged FROM retention_runs ORDER BY id DESC LIMIT ?",
                    [limit],
                )
            ]

        return await self._w.read(read)


def _record(db: Database, at: str, purged: dict[str, int]) -> None:
    """One row per table purged, and one for the run (its total, 0 when nothing was due),
    so the record shows that the purge ran every day."""
    rows = [*purged.items(), ("run", sum(purged.values()))]
    db.conn.executemany(
        "INSERT INTO retention_runs (at, kind, purged) VALUES (?, ?, ?)",
        [(at, kind, n) for kind, n in rows],
    )
