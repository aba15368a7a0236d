"""Restores: when the backup now in use was taken, and when it was put back.

What was sent after the backup was taken is not in the database, but it reached people. A
scheduled briefing, a circular or a digest that was due before the restore and is not recorded
as sent would be sent a second time by a bot that knows nothing of the restore; with it, each
is held and its publisher told (see handlers/briefings/schedule.py). `backup` writes the moment
into each copy it takes (`taken_at`); `restore` adds when it put the copy back (`restored_at`).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from bot.storage.migrations import RESTORES_TABLE
from bot.storage.writer import Writer, utc_iso


@dataclass(frozen=True)
class Gap:
    """From when a backup was taken to when it was put back: what the database cannot know."""

    taken_at: datetime
    restored_at: datetime

    def holds(self, moment: datetime) -> bool:
        """Whether something due at `moment`, and not recorded as sent in the database, may
        have been sent in the days it lost: anything due before it was put back. Not only what
        fell due after the backup was taken: something due a little before may not yet have
        been sent when the copy was taken, and sent a moment later; something due long before
        may have waited for a bot that was stopped. Holding costs its publisher a message;
        sending twice reaches everyone twice."""
        return moment <= self.restored_at


class Restores:
    """Named reads of `restores`."""

    def __init__(self, writer: Writer):
        self._w = writer

    async def last_gap(self) -> Gap | None:
        """The latest restore's gap, or None for a database never restored."""

        def query(db: Database) -> Gap | None:
            row = db.execute(
                "SELECT taken_at, restored_at FROM restores WHERE restored_at IS NOT NULL"
                " ORDER BY restored_at DESC LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            return Gap(datetime.fromisoformat(row[0]), datetime.fromisoformat(row[1]))

        return await self._w.read(query)


def note_taken(connection: sqlite3.Connection, now: datetime) -> None:
    """In a backup's copy: the moment it was taken (a copy of a restored database keeps its
    earlier restores' rows, which say nothing of this one)."""
    connection.execute(RESTORES_TABLE)
    connection.execute("DELETE FROM restores WHERE restored_at IS NULL")
    connection.execute("INSERT INTO restores (taken_at) VALUES (?)", [utc_iso(now)])


def note_restored(connection: sqlite3.Connection, taken: datetime, now: datetime) -> None:
    """In the copy being put back: the moment it goes back. `taken` is used where the copy
    does not say when it was taken (a backup from an older release, or made another way)."""
    connection.execute(RESTORES_TABLE)
    marked = connection.execute(
        "UPDATE restores SET restored_at = ? WHERE restored_at IS NULL", [utc_iso(now)]
    ).rowcount
    if not marked:
        connection.execute(
            "INSERT INTO restores (taken_at, restored_at) VALUES (?, ?)",
            [utc_iso(taken), utc_iso(now)],
        )
