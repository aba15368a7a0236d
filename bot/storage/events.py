"""Events API deliveries already handled: Slack retries an event with the same `event_id`."""

from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from bot.storage.writer import Writer, utc_iso


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

    async def prune_events(self, before: datetime) -> int:
        """Forget handled event ids older than Slack's retry window (about five minutes)."""

        def prune(db: Database) -> int:
            cursor = db.execute(
                "DELETE FROM processed_events WHERE received_at < ?", [utc_iso(before)]
            )
            return cursor.rowcount

        return await self._w.write(prune)
