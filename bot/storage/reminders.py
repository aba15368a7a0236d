"""Reminders: one DM, ever, to each person who has not acknowledged a briefing in time.

"Ever" is per acknowledgement round: a briefing's first version starts one, and so does a
correction that asks everyone to acknowledge again (`reacknowledge: true`); a correction that
does not keeps the round, so nobody is reminded twice about the same request. The `reminders`
row and its delivery are written in one transaction, so a reminder queued is sent once, and
one never queued is never sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from bot.storage.writer import Writer, utc_iso


@dataclass(frozen=True)
class Round:
    """A briefing version whose acknowledgement round is due its reminders."""

    briefing_id: str
    version: int
    ack_round: int
    title: str
    sent_from: str
    channel_id: str | None  # where a channel post of it is, to point people to
    remind_after_s: int = 0


# A version's briefing broadcast, as a reminder round (see `Round`), and whether it was stopped.
_ROUND = (
    "SELECT b.briefing_id, b.version, COALESCE(b.ack_round, b.version), b.title,"
    " COALESCE(b.sent_from, b.created_at),"
    " (SELECT p.channel_id FROM publications p WHERE p.briefing_id = b.briefing_id"
    "   AND p.version = b.version AND p.channel_id IS NOT NULL LIMIT 1),"
    " COALESCE(b.remind_after_s, 0), b.follow_ups = 0 OR b.status = 'cancelled'"
    " FROM broadcasts b WHERE b.briefing_id = ? AND b.version = ? AND b.purpose = 'briefing'"
)


@dataclass(frozen=True)
class Standing:
    """Where a version's reminder round stands."""

    round: Round
    reminded_at: str | None  # when the round's reminder was first queued; None: not yet
    stopped: bool  # `/brief cancel` stopped its reminders and catch-up


@dataclass(frozen=True)
class Reminded:
    """What "remind them now" did: how many it queued, or why none."""

    sent: int
    reminded_at: str | None  # the round's reminder had gone already, then
    stopped: bool = False


def _standing(db: Database, row: tuple[Any, ...]) -> Standing:
    briefing_id, version, ack_round, title, sent_from, channel, after, stopped = row
    reminded_at = db.execute(
        "SELECT MIN(queued_at) FROM reminders WHERE briefing_id = ? AND ack_round = ?",
        [briefing_id, ack_round],
    ).fetchone()[0]
    due = Round(briefing_id, version, ack_round, title, sent_from, channel, after)
    return Standing(due, reminded_at, bool(stopped))


class Reminders:
    """Named operations on `reminders` (and the reminder broadcasts in the outbox)."""

    def __init__(self, writer: Writer):
        self._w = writer

    async def due(self, now: datetime) -> list[Round]:
        """Rounds whose `remind_after` has passed, for each briefing's latest version."""

        def query(db: Database) -> list[Round]:
            rows = db.execute(
                "SELECT b.briefing_id, b.version, COALESCE(b.ack_round, b.version), b.title,"
                " COALESCE(b.sent_from, b.created_at), b.remind_after_s,"
                " (SELECT p.channel_id FROM publications p WHERE p.briefing_id = b.briefing_id"
                "   AND p.version = b.version AND p.channel_id IS NOT NULL LIMIT 1)"
                " FROM broadcasts b WHERE b.purpose = 'briefing' AND b.status != 'cancelled'"
                " AND b.follow_ups = 1"
                " AND b.remind_after_s IS NOT NULL AND b.version = (SELECT MAX(version)"
                "   FROM broadcasts WHERE briefing_id = b.briefing_id AND purpose = 'briefing')"
            ).fetchall()
            due = []
            for briefing_id, version, ack_round, title, sent_from, after, channel in rows:
                if datetime.fromisoformat(sent_from) + timedelta(seconds=after) <= now:
                    due.append(
                        Round(briefing_id, version, ack_round, title, sent_from, channel, after)
                    )
            return due

        return await self._w.read(query)

    async def queue(
        self, due: Round, message: dict[str, Any], now: datetime, *, send_by: datetime
    ) -> int:
        """Queue one reminder for each person the version reached who has not acknowledged it
        and has not been reminded in this round, to be sent before `send_by` (the end of the
        working day). Returns how many were queued."""
        at = utc_iso(now)
        by = utc_iso(send_by)
        # Someone reached later (a catch-up, a long broadcast) has their own remind_after.
        cutoff = utc_iso(now - timedelta(seconds=due.remind_after_s))

        def queue_round(db: Database) -> int:
            people = [
                row[0]
                for row in db.execute(
                    "SELECT DISTINCT r.user_id FROM recipients r"
                    " JOIN publications p ON p.id = r.publication_id"
                    " WHERE p.briefing_id = ? AND p.version = ? AND p.status = 'posted'"
                    " AND p.acknowledge = 1"
                    " AND NOT EXISTS (SELECT 1 FROM acknowledgements a WHERE a.briefing_id ="
                    "   p.briefing_id AND a.version = p.version AND a.user_id = r.user_id)"
                    " AND NOT EXISTS (SELECT 1 FROM reminders m WHERE m.briefing_id ="
                    "   p.briefing_id AND m.ack_round = ? AND m.user_id = r.user_id)"
                    " AND COALESCE((SELECT MIN(r2.reached_at) FROM recipients r2"
                    "   JOIN publications p2 ON p2.id = r2.publication_id"
                    "   WHERE p2.briefing_id = p.briefing_id AND r2.user_id = r.user_id), '') <= ?",
                    [due.briefing_id, due.version, due.ack_round, cutoff],
                )
            ]
            if not people:
                return 0
            _queue_people(db, due.briefing_id, due.version, due.ack_round, people, message, at, by)
            return len(people)

        return await self._w.write(queue_round)

    async def standing(self, briefing_id: str, version: int) -> Standing | None:
        """Where a version's reminder round stands: the round, when its reminder went (if it
        has), and whether `/brief cancel` stopped its follow-ups. None: no such broadcast."""

        def read_standing(db: Database) -> Standing | None:
            row = db.execute(_ROUND, [briefing_id, version]).fetchone()
            if row is None:
                return None
            return _standing(db, row)

        return await self._w.read(read_standing)

    async def remind_now(
        self,
        due: Round,
        message: dict[str, Any],
        now: datetime,
        *,
        send_by: datetime,
        people: frozenset[str] | None,
        timeout: float | None = None,
    ) -> Reminded:
        """The round's one reminder, now, at a publisher's or lead's word: to everyone the
        version reached who has not acknowledged it (of `people`, the workspace's people, when
        known), in one transaction, unless the round's reminder has gone already or was
        stopped. Anyone reached later (a joiner) still gets theirs after `remind_after`."""
        at = utc_iso(now)
        by = utc_iso(send_by)

        def queue_now(db: Database) -> Reminded:
            row = db.execute(_ROUND, [due.briefing_id, due.version]).fetchone()
            if row is None:
                return Reminded(0, None, stopped=True)
            standing = _standing(db, row)
            if standing.stopped or standing.reminded_at is not None:
                return Reminded(0, standing.reminded_at, stopped=standing.stopped)
            ack_round = standing.round.ack_round
            chosen = [
                row[0]
                for row in db.execute(
                    "SELECT DISTINCT r.user_id FROM recipients r"
                    " JOIN publications p ON p.id = r.publication_id"
                    " WHERE p.briefing_id = ? AND p.version = ? AND p.status = 'posted'"
                    " AND p.acknowledge = 1"
                    " AND NOT EXISTS (SELECT 1 FROM acknowledgements a WHERE a.briefing_id ="
                    "   p.briefing_id AND a.version = p.version AND a.user_id = r.user_id)"
                    " AND NOT EXISTS (SELECT 1 FROM reminders m WHERE m.briefing_id ="
                    "   p.briefing_id AND m.ack_round = ? AND m.user_id = r.user_id)"
                    " ORDER BY r.user_id",
                    [due.briefing_id, due.version, ack_round],
                )
                if people is None or row[0] in people
            ]
            if chosen:
                _queue_people(db, due.briefing_id, due.version, ack_round, chosen, message, at, by)
            return Reminded(len(chosen), None, stopped=False)

        return await self._w.write(queue_now, timeout=timeout)

    async def carry_over(self, now: datetime, *, send_by: datetime) -> int:
        """Reminders a working day ended on (a long queue, a pause) go the next working day."""

        def carry(db: Database) -> int:
            db.execute(  # acknowledged meanwhile: no reminder needed any more
                "UPDATE deliveries SET status = 'cancelled' WHERE status = 'pending'"
                " AND broadcast_id IN (SELECT id FROM broadcasts WHERE purpose = 'reminder')"
                " AND EXISTS (SELECT 1 FROM acknowledgements a JOIN broadcasts b"
                "   ON b.briefing_id = a.briefing_id AND b.version = a.version"
                "   WHERE b.id = deliveries.broadcast_id AND a.user_id = deliveries.target)"
            )
            return db.execute(
                "UPDATE deliveries SET not_after = ? WHERE status = 'pending'"
                " AND not_after IS NOT NULL AND not_after <= ?",
                [utc_iso(send_by), utc_iso(now)],
            ).rowcount

        return await self._w.write(carry)

    async def acknowledged(self, broadcast_id: int, user_id: str) -> bool:
        """Has this person acknowledged the version a reminder is about (since it was queued)?"""

        def query(db: Database) -> bool:
            row = db.execute(
                "SELECT 1 FROM acknowledgements a JOIN broadcasts b ON b.briefing_id ="
                " a.briefing_id AND b.version = a.version WHERE b.id = ? AND a.user_id = ?",
                [broadcast_id, user_id],
            ).fetchone()
            return row is not None

        return await self._w.read(query)


def _queue_people(
    db: Database,
    briefing_id: str,
    version: int,
    ack_round: int,
    people: list[str],
    message: dict[str, Any],
    at: str,
    by: str,
) -> None:
    """The reminder broadcast of a version (made once), a `reminders` row and a delivery for
    each person: inside the caller's transaction, so what is queued is sent once."""
    db.execute(
        "INSERT OR IGNORE INTO broadcasts (briefing_id, version, title, published_by,"
        " created_at, message, status, purpose, reported)"
        " SELECT briefing_id, version, title, published_by, ?, ?, 'sending',"
        " 'reminder', 1 FROM broadcasts WHERE briefing_id = ? AND version = ?"
        " AND purpose = 'briefing'",
        [at, json.dumps(message), briefing_id, version],
    )
    broadcast_id = db.execute(
        "SELECT id FROM broadcasts WHERE briefing_id = ? AND version = ? AND purpose = 'reminder'",
        [briefing_id, version],
    ).fetchone()[0]
    db.execute(
        "UPDATE broadcasts SET status = 'sending', finished_at = NULL WHERE id = ?",
        [broadcast_id],
    )
    for person in people:
        db.execute(
            "INSERT INTO reminders (briefing_id, ack_round, user_id, queued_at)"
            " VALUES (?, ?, ?, ?)",
            [briefing_id, ack_round, person, at],
        )
        db.execute(
            "INSERT OR IGNORE INTO deliveries (broadcast_id, kind, target, status,"
            " not_after) VALUES (?, 'dm', ?, 'pending', ?)",
            [broadcast_id, person, by],
        )
