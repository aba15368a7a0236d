"""News to anonymous askers who asked to be told: each message kept, under the asker's sealed
id, only until it is sent.

`question_rows.queue_news` writes a row here in the same transaction as the step it tells of
(accepted, declined, merged, answered), so a crash after the step loses no news. The sender
(`handlers/surgery/news.py`) claims one at a time, marks it in flight (committed) before
sending, and deletes it once Slack has it; `secure_delete` overwrites the deleted row and the
write-ahead log is emptied after, so no copy made later holds the sealed id. A row still in
flight at the next claim was being sent when the bot stopped: the sender looks for it in the
DM before sending it again.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from bot.storage.writer import Writer, utc_iso


@dataclass(frozen=True)
class News:
    """One message to an anonymous asker, claimed for sending."""

    id: int
    sealed: str  # the asker's Slack id, sealed under the outside key
    message: dict[str, Any]  # {"text": …, "blocks": […]}
    attempts: int  # sends tried before this one
    look_first: bool  # it was in flight when the bot stopped: it may have been sent


class AskerNews:
    """Named operations on `asker_news` and `asker_watch`."""

    def __init__(self, writer: Writer):
        self._w = writer
        self.lock = asyncio.Lock()  # one sender at a time: a row in flight is a crash's
        # A sealed id deleted but perhaps still in the WAL (a reader was in the way of
        # emptying it): `Questions.scrub`, run by every sending pass, tries again until it is.
        self.scrub_due = False

    async def claim(self, now: datetime) -> News | None:
        """The next message due, marked in flight (committed before it is sent), or None.
        The caller sends one at a time: a row found in flight was left by a stopped bot."""

        def claim_one(db: Database) -> News | None:
            # Oldest first, whatever was put back: an asker hears "accepted" before "answered".
            # A row in flight (a stopped bot's) only once its wait is over, so one that keeps
            # failing never holds the rest up.
            row = db.execute(
                "SELECT id, sealed, message, attempts, in_flight FROM asker_news"
                " WHERE not_before IS NULL OR not_before <= ? ORDER BY id LIMIT 1",
                [utc_iso(now)],
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE asker_news SET in_flight = 1, attempts = attempts + 1 WHERE id = ?",
                [row[0]],
            )
            return News(int(row[0]), str(row[1]), json.loads(row[2]), int(row[3]), bool(row[4]))

        return await self._w.write(claim_one)

    async def later(self, news_id: int, *, not_before: datetime, maybe_sent: bool) -> None:
        """Not sent now: again from then. `maybe_sent` (the call timed out, or Slack failed
        inside) keeps it in flight, so the next try looks in the DM before sending again."""
        await self._w.write(
            lambda db: db.execute(
                "UPDATE asker_news SET in_flight = ?, not_before = ? WHERE id = ?",
                [int(maybe_sent), utc_iso(not_before), news_id],
            )
        )

    async def hold(self, news_id: int, *, not_before: datetime) -> None:
        """Slack refused the app itself (a revoked token, a missing scope): kept, untried
        count and all, until then, as the outbox keeps its messages."""
        await self._w.write(
            lambda db: db.execute(
                "UPDATE asker_news SET in_flight = 0, attempts = MAX(attempts - 1, 0),"
                " not_before = ? WHERE id = ?",
                [utc_iso(not_before), news_id],
            )
        )

    async def done(self, news_id: int) -> None:
        """Sent, or given up: the row, and with it the sealed id, is deleted, and the WAL
        emptied (if a reader is in the way, `scrub_due` says so and the next pass empties it)."""
        await self._w.write(lambda db: db.execute("DELETE FROM asker_news WHERE id = ?", [news_id]))
        await self.scrub()

    async def scrub(self) -> None:
        """Empty the WAL now, or note that it is still to be done."""
        self.scrub_due = not await self._w.scrub()

    async def expire(self, now: datetime) -> int:
        """Watches past their time limit are deleted (the asker still finds the question
        under My questions). How many went."""

        def forget(db: Database) -> int:
            day = now.date().isoformat()
            return int(db.execute("DELETE FROM asker_watch WHERE until < ?", [day]).rowcount)

        gone = await self._w.write(forget)
        if gone:
            await self.scrub()
        return gone

    async def waiting(self) -> int:
        """How many messages wait to be sent (none is about anyone a reader could name)."""
        return await self._w.read(
            lambda db: int(db.execute("SELECT COUNT(*) FROM asker_news").fetchone()[0])
        )
