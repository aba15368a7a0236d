"""Events API deliveries already handled: Slack retries an event with the same `event_id`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlite_utils import Database

from bot.storage.writer import Writer, WriteTimeout, utc_iso


class Events:
    """Named operations on `processed_events`."""

    def __init__(self, writer: Writer):
        self._w = writer

    async def first_delivery(
        self, event_id: str, now: datetime, *, timeout: float | None = None
    ) -> bool:
        """True the first time an Events API `event_id` is seen; Slack retries reuse the id.

        Raises `WriteTimeout` if it cannot be noted within `timeout`.
        """

        def mark(db: Database) -> bool:
            cursor = db.execute(
                "INSERT OR IGNORE INTO processed_events (event_id, received_at) VALUES (?, ?)",
                [event_id, utc_iso(now)],
            )
            return cursor.rowcount == 1

        return await self._w.write(mark, timeout=timeout)

    async def first_of(self, body: dict[str, Any], now: datetime) -> bool:
        """Whether this Events API delivery is the first of its `event_id`. One without an id,
        or not noted within a second, counts as first: each caller's work is safe to redo (a
        catch-up sends nothing twice, a Home shown twice is harmless), and Slack must hear back
        within 3 s."""
        event_id = body.get("event_id")
        if not event_id:
            return True
        try:
            return await self.first_delivery(str(event_id), now, timeout=1.0)
        except WriteTimeout:
            return True

    async def prune_events(self, before: datetime) -> int:
        """Forget handled event ids older than Slack's retry window (about five minutes)."""

        def prune(db: Database) -> int:
            cursor = db.execute(
                "DELETE FROM processed_events WHERE received_at < ?", [utc_iso(before)]
            )
            return cursor.rowcount

        return await self._w.write(prune)
