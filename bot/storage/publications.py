"""Publications: a briefing version sent to one audience entry, and who it reached.

They are written with their broadcast (`bot/storage/outbox.py`): a channel entry's post waits as
`posting` until the outbox has it in Slack, a DM entry is `posted` and reaches each person as
their copy is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
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

    async def sent_briefings(
        self, *, since: str | None = None, published_by: str | None = None, limit: int = 20
    ) -> tuple[list[SentBriefing], int]:
        """The briefings that went out (a broadcast of the briefing itself), first sent at or
        after `since` (UTC ISO), only those `published_by` published (their newest version)
        when given: the newest `limit`, oldest first, and how many there were in all. What was
        sent, never what anyone did with it: figures come from the disclosure layer."""

        def query(db: Database) -> tuple[list[SentBriefing], int]:
            params = {"since": since or "", "by": published_by, "limit": limit}
            newest = " ORDER BY s.first_sent DESC, s.briefing_id DESC LIMIT :limit"
            rows = db.execute(_SENT + newest, params)
            found = [
                SentBriefing(b, int(v), title, by, first, bool(ack), None if c is None else int(c))
                for b, v, title, by, first, ack, c in rows
            ]
            found.reverse()
            (total,) = db.execute(f"SELECT COUNT(*) FROM ({_SENT})", params).fetchone()
            return found, int(total)

        return await self._w.read(query)


@dataclass(frozen=True)
class SentBriefing:
    """A briefing as it went out: its newest version sent, that version's title and whether it
    asked for acknowledgement, when the briefing was first sent, and the version whose check
    covers the newest one (a correction that kept the check still answers the older one)."""

    briefing_id: str
    version: int
    title: str
    published_by: str | None
    first_sent: str
    acknowledge: bool
    check_version: int | None


# Each briefing with a broadcast: its first send and newest version, with what that version was.
_SENT = (
    "SELECT s.briefing_id, s.version, COALESCE(b.title, s.briefing_id), b.published_by,"
    " s.first_sent, COALESCE((SELECT MAX(p.acknowledge) FROM publications p"
    " WHERE p.briefing_id = s.briefing_id AND p.version = s.version), 0) = 1,"
    " (SELECT MAX(c.version) FROM checks c WHERE c.briefing_id = s.briefing_id"
    " AND c.version <= s.version)"
    " FROM (SELECT briefing_id, MIN(created_at) AS first_sent, MAX(version) AS version"
    " FROM broadcasts WHERE purpose = 'briefing' GROUP BY briefing_id) s"
    " JOIN broadcasts b ON b.briefing_id = s.briefing_id AND b.version = s.version"
    " AND b.purpose = 'briefing'"
    " WHERE s.first_sent >= :since AND (:by IS NULL OR b.published_by = :by)"
)
