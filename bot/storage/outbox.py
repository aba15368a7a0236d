"""The delivery outbox: what is to be sent to whom, what is in flight, what was sent.

Exactly once rests on three rules kept here. A broadcast's deliveries are written in one
transaction with the broadcast itself, so a publish is queued whole or not at all. A delivery is
marked in flight, committed, before its send, so a crash leaves a trace of every send that may
have happened. And a delivery is marked sent in the same transaction that records who it reached.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database

from bot.storage.writer import Writer, utc_iso


@dataclass(frozen=True)
class AudienceEntry:
    """One audience entry's people, as resolved when the broadcast is prepared."""

    raw: str  # as written: "@team-managers", "U0123…", "#social-work-all"
    people: tuple[str, ...]

    @property
    def publication(self) -> str:
        """Its key among a version's publications: apart from a post in the same channel."""
        return DM_PREFIX + self.raw


DM_PREFIX = "dm:"


@dataclass(frozen=True)
class Prepared:
    """What preparing a broadcast did: queued this many, or found it already queued."""

    broadcast_id: int
    queued: int
    already: bool


@dataclass(frozen=True)
class Delivery:
    """One send, claimed for the sender (in flight)."""

    id: int
    broadcast_id: int
    target: str
    attempts: int
    claimed_at: str
    look_first: bool = False  # an earlier send's answer was lost: look for its copy first
    look_only: bool = False  # its broadcast was cancelled: find out if it went, never send


# Errors recorded on a delivery whose last send may have reached Slack unseen.
LOOK_FIRST = ("lost", "unresolved")
# Deliveries the sender takes up: those of broadcasts still sending, and, of cancelled ones,
# those whose last send may have gone (to be looked up and recorded, never sent again).
_CLAIMABLE = (
    "(b.status = 'sending' OR (b.status = 'cancelled' AND d.error IN ('lost', 'unresolved')))"
)


class Outbox:
    """Named operations on `broadcasts` and `deliveries`."""

    def __init__(self, writer: Writer):
        self._w = writer

    async def prepare(
        self,
        *,
        briefing_id: str,
        version: int,
        title: str,
        acknowledge: bool,
        published_by: str,
        message: dict[str, Any],
        entries: Sequence[AudienceEntry],
        now: datetime,
    ) -> Prepared:
        """Queue one DM per person across `entries`, in one transaction, once per version.

        A person in two entries gets one copy, counted towards the first entry that named them.
        """
        at = utc_iso(now)

        def prepare(db: Database) -> Prepared:
            cursor = db.execute(
                "INSERT OR IGNORE INTO broadcasts (briefing_id, version, title, published_by,"
                " created_at, message, status) VALUES (?, ?, ?, ?, ?, ?, 'sending')",
                [briefing_id, version, title, published_by, at, json.dumps(message)],
            )
            if cursor.rowcount == 0:
                row = db.execute(
                    "SELECT id FROM broadcasts WHERE briefing_id = ? AND version = ?",
                    [briefing_id, version],
                ).fetchone()
                return Prepared(broadcast_id=row[0], queued=0, already=True)
            broadcast_id = int(cursor.lastrowid or 0)
            queued = 0
            for entry in entries:
                # The entry is a publication like a channel post: reach and acknowledgements
                # are counted per entry, and the Acknowledge button finds the version by it.
                db.execute(
                    "INSERT OR IGNORE INTO publications (briefing_id, version, title, audience,"
                    " acknowledge, published_by, published_at, status, reach_known)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, 'posted', 1)",
                    [
                        briefing_id,
                        version,
                        title,
                        entry.publication,
                        int(acknowledge),
                        published_by,
                        at,
                    ],
                )
                publication_id = db.execute(
                    "SELECT id FROM publications WHERE briefing_id = ? AND version = ?"
                    " AND audience = ?",
                    [briefing_id, version, entry.publication],
                ).fetchone()[0]
                for person in entry.people:
                    added = db.execute(
                        "INSERT OR IGNORE INTO deliveries (broadcast_id, publication_id, kind,"
                        " target, status) VALUES (?, ?, 'dm', ?, 'pending')",
                        [broadcast_id, publication_id, person],
                    )
                    queued += added.rowcount
            if queued == 0:
                db.execute(
                    "UPDATE broadcasts SET status = 'done', finished_at = ? WHERE id = ?",
                    [at, broadcast_id],
                )
            return Prepared(broadcast_id=broadcast_id, queued=queued, already=False)

        return await self._w.write(prepare)

    async def message(self, broadcast_id: int) -> dict[str, Any]:
        """The rendered message a broadcast sends (text and blocks)."""

        def query(db: Database) -> dict[str, Any]:
            row = db.execute("SELECT message FROM broadcasts WHERE id = ?", [broadcast_id])
            loaded: dict[str, Any] = json.loads(row.fetchone()[0])
            return loaded

        return await self._w.read(query)

    async def claim_next(self, now: datetime) -> Delivery | None:
        """The next delivery that is due, marked in flight (committed) before it is sent."""
        at = utc_iso(now)

        def claim(db: Database) -> Delivery | None:
            row = db.execute(
                "SELECT d.id, d.broadcast_id, d.target, d.attempts, d.error,"
                " b.status = 'cancelled' FROM deliveries d"
                " JOIN broadcasts b ON b.id = d.broadcast_id"
                f" WHERE d.status = 'pending' AND {_CLAIMABLE}"
                " AND (d.not_before IS NULL OR d.not_before <= ?) ORDER BY d.id LIMIT 1",
                [at],
            ).fetchone()
            if row is None:
                return None
            # The first claim's time is kept: a copy sent then is looked for from then on.
            db.execute(
                "UPDATE deliveries SET status = 'in_flight', claimed_at = COALESCE(claimed_at, ?),"
                " attempts = attempts + 1 WHERE id = ?",
                [at, row[0]],
            )
            first = db.execute("SELECT claimed_at FROM deliveries WHERE id = ?", [row[0]])
            return Delivery(
                row[0],
                row[1],
                row[2],
                row[3] + 1,
                first.fetchone()[0],
                row[4] in LOOK_FIRST,
                bool(row[5]),
            )

        return await self._w.write(claim)

    async def in_flight(self) -> list[Delivery]:
        """Deliveries a stopped process left in flight: each may or may not have been sent."""

        def query(db: Database) -> list[Delivery]:
            rows = db.execute(
                "SELECT id, broadcast_id, target, attempts, claimed_at FROM deliveries"
                " WHERE status = 'in_flight' ORDER BY id"
            ).fetchall()
            return [Delivery(*row) for row in rows]

        return await self._w.read(query)

    async def mark_sent(
        self, delivery_id: int, *, channel_id: str, message_ts: str, now: datetime
    ) -> None:
        """The copy is in Slack: record it, and the person as reached, in one transaction."""
        at = utc_iso(now)

        def mark(db: Database) -> None:
            db.execute(
                "UPDATE deliveries SET status = 'sent', channel_id = ?, message_ts = ?,"
                " sent_at = ?, error = NULL WHERE id = ?",
                [channel_id, message_ts, at, delivery_id],
            )
            db.execute(
                "INSERT OR IGNORE INTO recipients (publication_id, user_id)"
                " SELECT publication_id, target FROM deliveries WHERE id = ?",
                [delivery_id],
            )

        await self._w.write(mark)

    async def retry_later(self, delivery_id: int, *, not_before: datetime, error: str) -> None:
        """Back to the queue, not to be tried before `not_before` (a 429, a 5xx, no network)."""

        def mark(db: Database) -> None:
            db.execute(
                "UPDATE deliveries SET status = 'pending', not_before = ?, error = ?"
                " WHERE id = ? AND status = 'in_flight'",
                [utc_iso(not_before), error, delivery_id],
            )

        await self._w.write(mark)

    async def mark_cancelled(self, delivery_id: int) -> None:
        """Not sent, and now never to be: its broadcast was cancelled."""

        def mark(db: Database) -> None:
            db.execute("UPDATE deliveries SET status = 'cancelled' WHERE id = ?", [delivery_id])

        await self._w.write(mark)

    async def mark_failed(self, delivery_id: int, *, error: str) -> None:
        """A permanent failure for this person (user gone, DMs refused): never retried."""

        def mark(db: Database) -> None:
            db.execute(
                "UPDATE deliveries SET status = 'failed', error = ? WHERE id = ?",
                [error, delivery_id],
            )

        await self._w.write(mark)

    async def finish_if_done(self, broadcast_id: int, now: datetime) -> bool:
        """Mark the broadcast done when nothing of it is left to send; True only that once."""

        def finish(db: Database) -> bool:
            left = db.execute(
                "SELECT COUNT(*) FROM deliveries WHERE broadcast_id = ?"
                " AND status IN ('pending', 'in_flight')",
                [broadcast_id],
            ).fetchone()[0]
            if left:
                return False
            cursor = db.execute(
                "UPDATE broadcasts SET status = 'done', finished_at = ?"
                " WHERE id = ? AND status = 'sending'",
                [utc_iso(now), broadcast_id],
            )
            return cursor.rowcount == 1

        return await self._w.write(finish)

    async def next_due(self) -> str | None:
        """When the earliest waiting delivery may be tried (None: nothing waits)."""

        def query(db: Database) -> str | None:
            row = db.execute(
                "SELECT MIN(COALESCE(d.not_before, '')) FROM deliveries d"
                " JOIN broadcasts b ON b.id = d.broadcast_id"
                f" WHERE d.status = 'pending' AND {_CLAIMABLE}"
            ).fetchone()
            return None if row[0] is None else str(row[0])

        return await self._w.read(query)

    async def summary(self, broadcast_id: int) -> dict[str, Any]:
        """A broadcast's outcome: counts by status and the reasons for failures."""

        def query(db: Database) -> dict[str, Any]:
            head = db.execute(
                "SELECT briefing_id, version, title, published_by, status, progress_channel,"
                " progress_ts FROM broadcasts WHERE id = ?",
                [broadcast_id],
            ).fetchone()
            counts = dict(
                db.execute(
                    "SELECT status, COUNT(*) FROM deliveries WHERE broadcast_id = ?"
                    " GROUP BY status",
                    [broadcast_id],
                ).fetchall()
            )
            errors = dict(
                db.execute(
                    "SELECT error, COUNT(*) FROM deliveries WHERE broadcast_id = ?"
                    " AND status = 'failed' GROUP BY error",
                    [broadcast_id],
                ).fetchall()
            )
            return {
                "briefing_id": head[0],
                "version": head[1],
                "title": head[2],
                "published_by": head[3],
                "status": head[4],
                "progress_channel": head[5],
                "progress_ts": head[6],
                "counts": counts,
                "errors": errors,
            }

        return await self._w.read(query)

    async def unreported(self) -> list[int]:
        """Finished or cancelled broadcasts whose publisher has not been told yet."""

        def query(db: Database) -> list[int]:
            rows = db.execute(
                "SELECT id FROM broadcasts WHERE status IN ('done', 'cancelled') AND reported = 0"
                " ORDER BY id"
            ).fetchall()
            return [row[0] for row in rows]

        return await self._w.read(query)

    async def pause(self, until: datetime, reason: str) -> None:
        """No send before `until` (a 429's Retry-After, a workspace-wide refusal)."""

        # To the microsecond: a pause rounded down to the second would end up to 1 s early.
        at = until.astimezone(UTC).isoformat(timespec="microseconds")

        def mark(db: Database) -> None:
            db.execute(
                "INSERT INTO outbox_pause (id, until, reason) VALUES (1, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET until = MAX(until, excluded.until),"
                " reason = excluded.reason",
                [at, reason],
            )

        await self._w.write(mark)

    async def paused_until(self) -> str | None:
        def query(db: Database) -> str | None:
            row = db.execute("SELECT until FROM outbox_pause WHERE id = 1").fetchone()
            return None if row is None else str(row[0])

        return await self._w.read(query)

    async def set_progress(self, broadcast_id: int, *, channel_id: str, ts: str) -> None:
        """Where the publisher's progress message is, so it can be updated in place."""

        def mark(db: Database) -> None:
            db.execute(
                "UPDATE broadcasts SET progress_channel = ?, progress_ts = ? WHERE id = ?",
                [channel_id, ts, broadcast_id],
            )

        await self._w.write(mark)

    async def mark_reported(self, broadcast_id: int) -> None:
        def mark(db: Database) -> None:
            db.execute("UPDATE broadcasts SET reported = 1 WHERE id = ?", [broadcast_id])

        await self._w.write(mark)
