"""Catch-up: someone who joins an audience later gets, once, what still asks for acknowledgement.

"Still current" is each briefing's latest version, asking for acknowledgement, not cancelled,
and sent within `CATCH_UP_DAYS`. A joiner of a DM audience (a user group, or a channel with
`deliver: dm` or `both`) is sent the briefing as it went to everyone, through the outbox; a
joiner of a channel audience finds it waiting on their Home tab (the channel post is already
in the channel's history). Once: a person who already holds a copy, was reached another way, or
has acknowledged gets nothing, however often they leave and join again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from bot.storage.outbox import DM_PREFIX
from bot.storage.writer import Writer, utc_iso

# The briefing broadcast `b` is its briefing's latest version, not cancelled, and its
# follow-ups (reminders, catch-up) were not stopped by `/brief cancel`.
_STILL_CURRENT = (
    "b.status != 'cancelled' AND b.follow_ups = 1"
    " AND b.version = (SELECT MAX(version) FROM broadcasts"
    "   WHERE briefing_id = b.briefing_id AND purpose = 'briefing')"
)


@dataclass(frozen=True)
class Current:
    """One audience entry of a still-current briefing version."""

    publication_id: int
    briefing_id: str
    version: int
    audience: str  # as written; DM entries carry DM_PREFIX
    ref: str | None  # the entry's Slack id: C…, S…, U…

    @property
    def by_dm(self) -> bool:
        return self.audience.startswith(DM_PREFIX)


@dataclass(frozen=True)
class CaughtUp:
    """What one catch-up did: DMs queued, and people now shown it on Home."""

    messaged: int = 0
    on_home: int = 0
    shown: tuple[str, ...] = ()  # who now finds it on Home (their Home tab needs refreshing)


class CatchUps:
    """Named operations for catching late joiners up."""

    def __init__(self, writer: Writer):
        self._w = writer

    async def current(self, since: datetime) -> list[Current]:
        """Every entry of every still-current briefing version sent since `since`."""

        def query(db: Database) -> list[Current]:
            rows = db.execute(
                "SELECT p.id, p.briefing_id, p.version, p.audience, p.ref FROM publications p"
                " JOIN broadcasts b ON b.briefing_id = p.briefing_id AND b.version = p.version"
                " AND b.purpose = 'briefing'"
                f" WHERE p.acknowledge = 1 AND p.status = 'posted' AND {_STILL_CURRENT}"
                " AND COALESCE(b.sent_from, b.created_at) >= ?"
                " ORDER BY p.id",
                [utc_iso(since)],
            ).fetchall()
            return [Current(*row) for row in rows]

        return await self._w.read(query)

    async def add(
        self, entry: Current, people: list[str], now: datetime, *, not_before: datetime
    ) -> CaughtUp:
        """Catch `people` (members of `entry` now) up on its version, those not yet reached.

        DMs are not sent before `not_before` (the next working hours). Checked again here, in
        the transaction: the version may have been corrected or cancelled since it was listed.
        """
        at = utc_iso(now)

        def record_catch_up(db: Database) -> CaughtUp:
            still = db.execute(
                "SELECT 1 FROM broadcasts b WHERE b.briefing_id = ? AND b.version = ?"
                f" AND b.purpose = 'briefing' AND {_STILL_CURRENT}",
                [entry.briefing_id, entry.version],
            ).fetchone()
            if still is None:
                return CaughtUp()
            new = [
                person
                for person in dict.fromkeys(people)
                if not db.execute(
                    # Reached already (any entry), acknowledged, or a copy on its way.
                    "SELECT 1 FROM recipients r JOIN publications p ON p.id = r.publication_id"
                    " WHERE p.briefing_id = :b AND p.version = :v AND r.user_id = :u"
                    " UNION SELECT 1 FROM acknowledgements WHERE briefing_id = :b"
                    " AND version = :v AND user_id = :u"
                    # Any copy tried, failed ones too: one that failed unverified may be there.
                    " UNION SELECT 1 FROM deliveries d JOIN broadcasts c ON c.id = d.broadcast_id"
                    " WHERE c.briefing_id = :b AND c.version = :v"
                    " AND c.purpose IN ('briefing', 'catchup') AND d.kind IN ('dm', 'update')"
                    " AND d.target = :u AND d.status != 'cancelled'",
                    {"b": entry.briefing_id, "v": entry.version, "u": person},
                ).fetchone()
            ]
            if not new:
                return CaughtUp()
            if not entry.by_dm:
                db.conn.executemany(
                    "INSERT OR IGNORE INTO recipients (publication_id, user_id, reached_at)"
                    " VALUES (?, ?, ?)",
                    [(entry.publication_id, person, at) for person in new],
                )
                return CaughtUp(on_home=len(new), shown=tuple(new))
            db.execute(
                "INSERT OR IGNORE INTO broadcasts (briefing_id, version, title, published_by,"
                " created_at, message, status, purpose, reported)"
                " SELECT briefing_id, version, title, published_by, ?, message, 'sending',"
                " 'catchup', 1 FROM broadcasts WHERE briefing_id = ? AND version = ?"
                " AND purpose = 'briefing'",
                [at, entry.briefing_id, entry.version],
            )
            broadcast_id = db.execute(
                "SELECT id FROM broadcasts WHERE briefing_id = ? AND version = ?"
                " AND purpose = 'catchup'",
                [entry.briefing_id, entry.version],
            ).fetchone()[0]
            db.execute(  # a cancelled catch-up stays cancelled
                "UPDATE broadcasts SET status = 'sending', finished_at = NULL WHERE id = ?"
                " AND status = 'done'",
                [broadcast_id],
            )
            queued = 0
            for person in new:
                queued += db.execute(
                    "INSERT OR IGNORE INTO deliveries (broadcast_id, publication_id, kind, target,"
                    " status, not_before) VALUES (?, ?, 'dm', ?, 'pending', ?)",
                    [broadcast_id, entry.publication_id, person, utc_iso(not_before)],
                ).rowcount
            return CaughtUp(messaged=queued)

        return await self._w.write(record_catch_up)
