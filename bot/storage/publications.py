"""Publications: a briefing version sent to one audience entry, and who it reached.

They are written with their broadcast (`bot/storage/outbox.py`): a channel entry's post waits as
`posting` until the outbox has it in Slack, a DM entry is `posted` and reaches each person as
their copy is sent.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from bot.storage.writer import Writer


class Publications:
    """Named operations on `publications` and `recipients`."""

    def __init__(self, writer: Writer):
        self._w = writer

    async def latest_posted_version(self, briefing_id: str) -> int | None:
        """The newest version of a briefing that was actually posted, if any."""

        def query(db: Database) -> int | None:
            row = db.execute(
                "SELECT MAX(version) FROM publications WHERE briefing_id = ? AND status = 'posted'",
                [briefing_id],
            ).fetchone()
            return None if row[0] is None else int(row[0])

        return await self._w.read(query)

    async def publications_of(self, briefing_id: str, version: int) -> list[dict[str, Any]]:
        """Every completed post of one briefing version."""

        def query(db: Database) -> list[dict[str, Any]]:
            return list(
                db.query(
                    "SELECT * FROM publications WHERE briefing_id = ? AND version = ?"
                    " AND status = 'posted' ORDER BY id",
                    [briefing_id, version],
                )
            )

        return await self._w.read(query)
