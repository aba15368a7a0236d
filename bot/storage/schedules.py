"""Scheduled briefings: set for later by a senior manager, sent once when their time comes.

A schedule goes scheduled → firing → fired. It is marked firing before the publish starts and
fired after, so a stop in between leaves it firing, and the next start publishes it again —
which sends nothing twice, because a version is posted and messaged at most once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from bot.storage.writer import Writer, utc_iso


@dataclass(frozen=True)
class Schedule:
    id: int
    briefing_id: str
    version: int
    title: str
    at: str
    published_by: str


class Schedules:
    """Named operations on `schedules`."""

    def __init__(self, writer: Writer):
        self._w = writer

    async def schedule(
        self,
        *,
        briefing_id: str,
        version: int,
        title: str,
        at: datetime,
        published_by: str,
        now: datetime,
    ) -> bool:
        """Set a version to go out at `at`; False if it already went (or is going) out."""
        return await self._w.write(
            lambda db: schedule_version(
                db,
                briefing_id=briefing_id,
                version=version,
                title=title,
                at=at,
                published_by=published_by,
                now=now,
            )
        )

    async def due(self, now: datetime) -> list[Schedule]:
        """Schedules whose time has come, and any a stop left firing."""

        def query(db: Database) -> list[Schedule]:
            rows = db.execute(
                "SELECT id, briefing_id, version, title, at, published_by FROM schedules"
                " WHERE status IN ('scheduled', 'firing') AND at <= ? ORDER BY at, id",
                [utc_iso(now)],
            ).fetchall()
            return [Schedule(*row) for row in rows]

        return await self._w.read(query)

    async def queued(self, briefing_id: str, version: int) -> bool:
        """Whether this version's broadcast is in the outbox already: a schedule left firing
        then is the outbox's to finish, copy by copy, looking for any sent before."""

        def query(db: Database) -> bool:
            return (
                db.execute(
                    "SELECT 1 FROM broadcasts WHERE briefing_id = ? AND version = ?"
                    " AND purpose = 'briefing'",
                    [briefing_id, version],
                ).fetchone()
                is not None
            )

        return await self._w.read(query)

    async def mark(self, schedule_id: int, status: str, *, only_from: tuple[str, ...]) -> bool:
        """Move a schedule on (firing, fired) if it is still in one of `only_from`."""

        def set_status(db: Database) -> bool:
            marks = ", ".join("?" for _ in only_from)
            cursor = db.execute(
                f"UPDATE schedules SET status = ? WHERE id = ? AND status IN ({marks})",
                [status, schedule_id, *only_from],
            )
            return cursor.rowcount == 1

        return await self._w.write(set_status)

    async def status_of(self, schedule_id: int) -> str | None:
        def query(db: Database) -> str | None:
            row = db.execute("SELECT status FROM schedules WHERE id = ?", [schedule_id]).fetchone()
            return None if row is None else str(row[0])

        return await self._w.read(query)

    async def supersede(self, briefing_id: str, version: int) -> None:
        """A version published by hand (`now`) needs its schedule no more."""

        await self._w.write(lambda db: supersede_schedule(db, briefing_id, version))

    async def reschedule(self, schedule_id: int, at: datetime) -> None:
        """The file now says later: the schedule moves with it."""

        def move_time(db: Database) -> None:
            db.execute(
                "UPDATE schedules SET at = ?, status = 'scheduled' WHERE id = ?"
                " AND status = 'firing'",
                [utc_iso(at), schedule_id],
            )

        await self._w.write(move_time)

    async def waiting(self) -> list[dict[str, Any]]:
        """What is scheduled and not yet sent, soonest first."""

        def query(db: Database) -> list[dict[str, Any]]:
            return list(
                db.query(
                    "SELECT briefing_id, version, title, at, published_by FROM schedules"
                    " WHERE status = 'scheduled' ORDER BY at, id"
                )
            )

        return await self._w.read(query)

    async def cancel(self, briefing_id: str) -> int:
        """Cancel what is scheduled for a briefing, the rest of any broadcast under way, and
        its reminders and catch-up still to come.

        Returns how many schedules, broadcasts and follow-ups were stopped; what was delivered
        stays.
        """

        def cancel_waiting(db: Database) -> int:
            # A schedule going out right now is cancelled too: whatever it has not yet queued
            # (see handlers/briefings/schedule.py) is not sent.
            scheduled = db.execute(
                "UPDATE schedules SET status = 'cancelled' WHERE briefing_id = ?"
                " AND status IN ('scheduled', 'firing')",
                [briefing_id],
            ).rowcount
            running = db.execute(
                "SELECT id FROM broadcasts WHERE briefing_id = ? AND status = 'sending'",
                [briefing_id],
            ).fetchall()
            for (broadcast_id,) in running:
                db.execute(  # a send whose answer was lost is still looked for, then recorded
                    "UPDATE deliveries SET status = 'cancelled' WHERE broadcast_id = ?"
                    " AND status = 'pending'"
                    " AND (error IS NULL OR error NOT IN ('lost', 'unresolved'))",
                    [broadcast_id],
                )
                db.execute(
                    "UPDATE broadcasts SET status = 'cancelled' WHERE id = ?", [broadcast_id]
                )
            # Nothing more of it at all: no reminders, no catch-up for people who join later.
            follow_ups = db.execute(
                "UPDATE broadcasts SET follow_ups = 0 WHERE briefing_id = ? AND follow_ups = 1"
                " AND purpose = 'briefing' AND (remind_after_s IS NOT NULL OR EXISTS ("
                "   SELECT 1 FROM publications p WHERE p.briefing_id = broadcasts.briefing_id"
                "   AND p.version = broadcasts.version AND p.acknowledge = 1))",
                [briefing_id],
            ).rowcount
            return scheduled + len(running) + follow_ups

        return await self._w.write(cancel_waiting)


def schedule_version(
    db: Database,
    *,
    briefing_id: str,
    version: int,
    title: str,
    at: datetime,
    published_by: str,
    now: datetime,
) -> bool:
    """Set a version to go out at `at` (on the writer thread); False if it already went out."""
    gone = db.execute(  # this version, or a newer one, went out already
        "SELECT 1 FROM broadcasts WHERE briefing_id = ? AND version >= ? AND purpose = 'briefing'"
        " UNION SELECT 1 FROM publications WHERE briefing_id = ? AND version = ?"
        " AND status IN ('posted', 'posting')",
        [briefing_id, version, briefing_id, version],
    ).fetchone()
    if gone:
        return False
    cursor = db.execute(
        "INSERT INTO schedules (briefing_id, version, title, at, published_by, status,"
        " created_at) VALUES (?, ?, ?, ?, ?, 'scheduled', ?)"
        " ON CONFLICT (briefing_id, version) DO UPDATE SET at = excluded.at,"
        " published_by = excluded.published_by, status = 'scheduled'"
        # held: due while a restored backup was out of use; its publisher may set it again
        " WHERE schedules.status IN ('scheduled', 'cancelled', 'held')",
        [briefing_id, version, title, utc_iso(at), published_by, utc_iso(now)],
    )
    return cursor.rowcount == 1


def supersede_schedule(db: Database, briefing_id: str, version: int) -> None:
    """A version sent now (by hand) needs its schedule no more."""
    db.execute(
        "UPDATE schedules SET status = 'fired' WHERE briefing_id = ? AND version = ?"
        " AND status = 'scheduled'",
        [briefing_id, version],
    )
