"""The engagement leads' weekly digest: a row a week in `digest_runs`, and what the digest
reads that is not a figure about staff (the checks closing soon, the questions new on the
surgery board). Its figures about staff come from the disclosure layer, never from here.

`record` writes the week's row and, for a digest that is sent, queues its message to the
leads through the outbox, in one transaction: a week's digest goes once, across crashes and
restarts, and a second run for the same week (or an earlier one) finds the row and does
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlite_utils import Database

from bot.storage.outbox import queue_message
from bot.storage.writer import Writer, utc_iso

KEY = "digest:weekly"  # the digest's outbox key: never a content id (those have no colon)
PURPOSE = "digest"
Status = Literal["sent", "skipped", "started", "held"]


@dataclass(frozen=True)
class DigestRun:
    """One week's digest, as recorded."""

    period: str  # the week's occurrence of DIGEST_AT, UTC ISO
    number: int
    status: str
    items: int
    leads: int
    since: str | None
    until: str


@dataclass(frozen=True)
class ClosingCheck:
    """An open check and when it closes: what was sent, not what anyone did."""

    briefing_id: str
    version: int
    title: str
    mode: str
    closes_at: str


class Digests:
    """Named operations on `digest_runs`, and the digest's reads of checks and questions."""

    def __init__(self, writer: Writer):
        self._w = writer

    async def last_run(self) -> DigestRun | None:
        """The latest week recorded (by its occurrence), if any."""

        def query(db: Database) -> DigestRun | None:
            row = db.execute(
                "SELECT period, number, status, items, leads, since, until FROM digest_runs"
                " ORDER BY period DESC LIMIT 1"
            ).fetchone()
            return None if row is None else DigestRun(*row)

        return await self._w.read(query)

    async def closing(self, after: datetime, until: datetime) -> list[ClosingCheck]:
        """The checks still open that close after `after` and by `until`, soonest first."""

        def query(db: Database) -> list[ClosingCheck]:
            rows = db.execute(
                "SELECT briefing_id, version, COALESCE(title, briefing_id), mode, closes_at"
                " FROM checks WHERE closed_at IS NULL AND closes_at > ? AND closes_at <= ?"
                " ORDER BY closes_at, briefing_id, version",
                [utc_iso(after), utc_iso(until)],
            ).fetchall()
            return [ClosingCheck(b, int(v), t, m, c) for b, v, t, m, c in rows]

        return await self._w.read(query)

    async def new_on_board(self, since: datetime) -> int:
        """Questions put on the board (accepted) since `since`: how many, not who asked."""
        return int(
            await self._w.read(
                lambda db: db.execute(
                    "SELECT COUNT(*) FROM questions WHERE state = 'accepted'"
                    " AND COALESCE(moderated_at, asked_at) > ?",
                    [utc_iso(since)],
                ).fetchone()[0]
            )
        )

    async def record(
        self,
        *,
        period: datetime,
        status: Status,
        items: int,
        since: datetime | None,
        until: datetime,
        message: dict[str, Any] | None,
        leads: list[str],
        now: datetime,
    ) -> int | None:
        """Record the week's digest and, when it is sent, queue `message` to each of `leads`,
        once: its number, or None when this week (or a later one) is recorded already."""
        if status == "sent" and (message is None or not leads):
            raise ValueError("a digest is sent with a message, to at least one lead")

        def write(db: Database) -> int | None:
            key = utc_iso(period)
            if db.execute("SELECT 1 FROM digest_runs WHERE period >= ?", [key]).fetchone():
                return None
            number = 1 + int(
                db.execute("SELECT COALESCE(MAX(number), 0) FROM digest_runs").fetchone()[0]
            )
            db.execute(
                "INSERT INTO digest_runs (period, number, status, items, leads, since, until, at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    key,
                    number,
                    status,
                    items,
                    len(leads),
                    utc_iso(since) if since else None,
                    utc_iso(until),
                    utc_iso(now),
                ],
            )
            if status == "sent" and message is not None:
                queue_message(
                    db,
                    key=(KEY, number, PURPOSE),
                    title="Weekly digest",
                    message=message,
                    targets=[("dm", lead) for lead in leads],
                    published_by="",
                    now=now,
                )
            return number

        return await self._w.write(write)
