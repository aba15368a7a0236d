"""Circulars' issues: what is new since the last one, and each issue recorded with its sending.

`record_issue` writes the period's row and queues the message (or the publisher's note that
it was skipped) in one transaction: an issue is sent once per period, across crashes and
restarts, and a second run for the same period finds the row and does nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlite_utils import Database

from bot.storage.outbox import queue_message
from bot.storage.writer import Writer, utc_iso

PREFIX = "circular:"  # a circular's outbox key: never a content id (those have no colon)


@dataclass(frozen=True)
class Issue:
    period: str
    number: int
    status: str
    notes: dict[str, str]  # note id -> its reviewed date, when the issue was made
    until: str


@dataclass(frozen=True)
class PublishedBriefing:
    briefing_id: str
    version: int
    title: str
    reached: int
    acknowledge: bool


@dataclass(frozen=True)
class AnsweredQuestion:
    ref: str
    text: str
    answer: str
    action: str | None


@dataclass(frozen=True)
class News:
    briefings: list[PublishedBriefing] = field(default_factory=list)
    answered: list[AnsweredQuestion] = field(default_factory=list)


class Circulars:
    """Named operations on `circular_runs`, and the news a circular gathers."""

    def __init__(self, writer: Writer):
        self._w = writer

    async def last_issue(self, circular_id: str) -> Issue | None:
        def query(db: Database) -> Issue | None:
            row = db.execute(
                "SELECT period, number, status, notes, until FROM circular_runs"
                " WHERE circular_id = ? ORDER BY period DESC LIMIT 1",
                [circular_id],
            ).fetchone()
            if row is None:
                return None
            return Issue(row[0], row[1], row[2], json.loads(row[3] or "{}"), row[4] or row[0])

        return await self._w.read(query)

    async def has_issue(self, circular_id: str, period: datetime) -> bool:
        return bool(
            await self._w.read(
                lambda db: db.execute(
                    "SELECT 1 FROM circular_runs WHERE circular_id = ? AND period = ?",
                    [circular_id, utc_iso(period)],
                ).fetchone()
            )
        )

    async def news(self, since: datetime, until: datetime) -> News:
        """Briefings sent, and questions answered, after `since` and up to `until` (how many
        acknowledged is the disclosure layer's to say)."""
        start, end = utc_iso(since), utc_iso(until)

        def query(db: Database) -> News:
            rows = db.execute(
                "SELECT b.briefing_id, b.version, b.title,"
                " (SELECT COUNT(DISTINCT r.user_id) FROM recipients r JOIN publications p"
                "   ON p.id = r.publication_id WHERE p.briefing_id = b.briefing_id"
                "   AND p.version = b.version AND p.status = 'posted'),"
                " COALESCE((SELECT MAX(p.acknowledge) FROM publications p"
                "   WHERE p.briefing_id = b.briefing_id AND p.version = b.version), 0)"
                " FROM broadcasts b WHERE b.purpose = 'briefing' AND b.briefing_id NOT LIKE ?"
                " AND b.created_at > ? AND b.created_at <= ? ORDER BY b.created_at",
                [f"{PREFIX}%", start, end],
            ).fetchall()
            answered = db.execute(
                "SELECT ref, text, answer, action FROM questions WHERE state = 'answered'"
                " AND answered_at > ? AND answered_at <= ? ORDER BY answered_at",
                [start, end],
            ).fetchall()
            return News(
                [PublishedBriefing(r[0], r[1], r[2], r[3], bool(r[4])) for r in rows],
                [AnsweredQuestion(*a) for a in answered],
            )

        return await self._w.read(query)

    async def record_issue(
        self,
        circular_id: str,
        *,
        period: datetime,
        status: Literal["sent", "skipped", "held"],
        items: int,
        notes: dict[str, str],
        until: datetime,
        title: str,
        message: dict[str, Any],
        targets: list[tuple[str, str]],
        published_by: str,
        now: datetime,
    ) -> int | None:
        """Record the period's issue and queue it (or, skipped, the publisher's note), once:
        the issue number, or None if this period was recorded already."""

        def record(db: Database) -> int | None:
            key = utc_iso(period)
            if db.execute(
                "SELECT 1 FROM circular_runs WHERE circular_id = ? AND period = ?",
                [circular_id, key],
            ).fetchone():
                return None
            number = 1 + int(
                db.execute(
                    "SELECT COALESCE(MAX(number), 0) FROM circular_runs WHERE circular_id = ?",
                    [circular_id],
                ).fetchone()[0]
            )
            db.execute(
                "INSERT INTO circular_runs (circular_id, period, number, status, items, notes,"
                " until, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    circular_id,
                    key,
                    number,
                    status,
                    items,
                    json.dumps(notes),
                    utc_iso(until),
                    utc_iso(now),
                ],
            )
            queue_message(
                db,
                key=(f"{PREFIX}{circular_id}", number, f"circular-{status}"),
                title=title,
                message=message,
                targets=targets,
                published_by=published_by,
                now=now,
            )
            return number

        return await self._w.write(record)
