"""The trail of who looked at what about people: `results_audit`.

Every view or export of a check's results (`CheckResults.record_access`), every listing of who
has not acknowledged a briefing and every "remind them now" is a row: who, what, which briefing
and version, when; never what they saw. Engagement leads read it back with `/engage audit`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from bot.storage.writer import Writer, utc_iso

# What a briefing's names were used for (a check's results keep "results" and "export").
LISTED = "waiting"
REMINDED = "remind"
TRENDS = "trends"  # a view across briefings: no one briefing


@dataclass(frozen=True)
class Access:
    """One row of the trail."""

    at: str
    user_id: str
    action: str
    briefing_id: str | None
    version: int | None


class Audit:
    """Named operations on `results_audit`."""

    def __init__(self, writer: Writer):
        self._w = writer

    async def record(
        self,
        *,
        user_id: str,
        action: str,
        briefing_id: str | None,
        version: int | None,
        now: datetime,
    ) -> None:
        """Keep who listed or reminded the people a briefing is waiting on, and when (never
        whom they saw)."""

        def audit_briefing(db: Database) -> None:
            db.execute(
                "INSERT INTO results_audit (at, user_id, action, briefing_id, version)"
                " VALUES (?, ?, ?, ?, ?)",
                [utc_iso(now), user_id, action, briefing_id, version],
            )

        await self._w.write(audit_briefing)

    async def recent(
        self, limit: int, *, briefing_id: str | None = None
    ) -> tuple[list[Access], bool]:
        """The newest `limit` rows (of one briefing, if given), newest first, and whether
        there are older ones."""

        def read_trail(db: Database) -> tuple[list[Access], bool]:
            rows = db.execute(
                "SELECT at, user_id, action, briefing_id, version FROM results_audit"
                " WHERE ? IS NULL OR briefing_id = ? ORDER BY at DESC, id DESC LIMIT ?",
                [briefing_id, briefing_id, limit + 1],
            ).fetchall()
            return [Access(*row) for row in rows[:limit]], len(rows) > limit

        return await self._w.read(read_trail)
