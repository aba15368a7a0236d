"""What Home's dashboard reads beyond the disclosure layer: what was sent and how its delivery
goes (and which teams were listed when it was sent), which checks close soon, and how long the
question queue is; and whose Home the outbox's latest deliveries changed (`delivered_since`).
Read-only, on the reader thread.

None of it is a figure about what staff did: a delivery's status is Slack's answer, a check's
closing time is the publisher's, and the queue's length is the length of the list leads are
shown. A follow-up sent to a group chosen by what people did (an attributed check's nudge or
clarification) is the exception, so its size and delivery are never read here: how many it
went to would say how many had not taken the check, or had answered wrongly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlite_utils import Database

from bot.storage.check_keys import Check, read_check
from bot.storage.writer import Writer


@dataclass(frozen=True)
class Progress:
    """A broadcast's deliveries by where they have got to (channel posts, DMs, updates)."""

    sent: int
    failed: int
    waiting: int  # pending or in flight
    cancelled: int

    @property
    def total(self) -> int:
        return self.sent + self.failed + self.waiting + self.cancelled


@dataclass(frozen=True)
class SentBroadcast:
    """One of a publisher's briefing broadcasts, and how its delivery is going."""

    briefing_id: str
    version: int
    title: str
    status: str  # sending | done | cancelled
    created_at: str
    finished_at: str | None
    superseded_by: int | None
    progress: Progress


@dataclass(frozen=True)
class FollowUpSent:
    """A check's follow-up: what it was about (`"none"`, a nudge, or a question's number), when,
    and, only when it went to everyone reached (an anonymous check's), its status and delivery;
    None for an attributed check's, whose size is a figure about what people did."""

    briefing_id: str
    version: int
    title: str
    about: str
    created_at: str
    anonymous: bool
    status: str | None
    progress: Progress | None


def _progress(db: Database, broadcast_id: int) -> Progress:
    counts = dict(
        db.execute(
            "SELECT status, COUNT(*) FROM deliveries WHERE broadcast_id = ? GROUP BY status",
            [broadcast_id],
        ).fetchall()
    )
    return Progress(
        counts.get("sent", 0),
        counts.get("failed", 0),
        counts.get("pending", 0) + counts.get("in_flight", 0),
        counts.get("cancelled", 0),
    )


@dataclass(frozen=True)
class Delivered:
    """Whose Home the outbox changed since a mark: the people a briefing's copy (or catch-up
    copy) reached, by DM or by a post in their channel (what waits for them); the publishers
    whose broadcast moved on (their delivery progress); whether anything a lead's dashboard
    shows was delivered (reach, a follow-up's progress). `mark` and `at_mark` are where the
    next read starts: the latest time read, and which changes were read at that very time."""

    people: frozenset[str]
    publishers: frozenset[str]
    leads: bool
    mark: str
    at_mark: frozenset[str]


# Deliveries of broadcasts still sending or finished since the mark (only those are read: the
# deliveries table has no index by time), and broadcasts finished since it.
_DELIVERED = (
    "SELECT 'd' || d.id, d.sent_at, b.purpose, b.published_by, d.target, d.publication_id,"
    " COALESCE(p.audience LIKE 'dm:%', 1) FROM broadcasts b"
    " JOIN deliveries d ON d.broadcast_id = b.id"
    " LEFT JOIN publications p ON p.id = d.publication_id"
    " WHERE (b.status = 'sending' OR b.finished_at >= :mark) AND d.status = 'sent'"
    " AND d.sent_at >= :mark"
    " UNION ALL SELECT 'b' || b.id, b.finished_at, b.purpose, b.published_by, NULL, NULL, 0"
    " FROM broadcasts b WHERE b.finished_at >= :mark"
)
STAFF_PURPOSES = ("briefing", "catchup")  # a copy that asks something of its reader


def _delivered(db: Database, mark: str, at_mark: frozenset[str]) -> Delivered:
    rows = [r for r in db.execute(_DELIVERED, {"mark": mark}).fetchall() if r[0] not in at_mark]
    people: set[str] = set()
    posts: set[int] = set()
    for _, _, purpose, _, target, publication, direct in rows:
        if purpose not in STAFF_PURPOSES or target is None:
            continue
        if direct:
            people.add(str(target))
        elif publication is not None:  # a channel post (or its correction): its members
            posts.add(int(publication))
    for publication in sorted(posts):
        people.update(
            u
            for (u,) in db.execute(
                "SELECT user_id FROM recipients WHERE publication_id = ?", [publication]
            )
        )
    latest = max([mark, *(str(r[1]) for r in rows)])
    seen = {r[0] for r in rows if r[1] == latest} | (at_mark if latest == mark else set())
    return Delivered(
        frozenset(people),
        frozenset(str(r[3]) for r in rows if r[2] == "briefing" and r[3]),
        any(r[2] in STAFF_PURPOSES or str(r[2]).startswith("followup:") for r in rows),
        latest,
        frozenset(seen),
    )


class Dashboard:
    """Named reads for Home's dashboard."""

    def __init__(self, writer: Writer):
        self._w = writer

    async def closing_soon(self, after: str, until: str, limit: int = 5) -> tuple[list[Check], int]:
        """Open checks closing after `after` and by `until` (UTC ISO), soonest first: the first
        `limit`, and how many there are in all."""

        def read_closing(db: Database) -> tuple[list[Check], int]:
            where = " FROM checks WHERE closed_at IS NULL AND closes_at > ? AND closes_at <= ?"
            keys = db.execute(
                "SELECT briefing_id, version" + where + " ORDER BY closes_at, briefing_id LIMIT ?",
                [after, until, limit],
            ).fetchall()
            (total,) = db.execute("SELECT COUNT(*)" + where, [after, until]).fetchone()
            found = [read_check(db, b, int(v)) for b, v in keys]
            return [c for c in found if c is not None], int(total)

        return await self._w.read(read_closing)

    async def questions_waiting(self) -> int:
        """How many questions wait for review: the length of the queue leads are listed."""

        def count_queue(db: Database) -> int:
            return int(
                db.execute("SELECT COUNT(*) FROM questions WHERE state = 'pending'").fetchone()[0]
            )

        return await self._w.read(count_queue)

    async def delivered_since(self, mark: str, at_mark: frozenset[str]) -> Delivered:
        """What the outbox delivered (or finished) at or after `mark` (UTC ISO), but for the
        changes `at_mark` names, read at that time already: the refresh job's poll, so the
        sender never has to know about Home."""

        def read_delivered(db: Database) -> Delivered:
            return _delivered(db, mark, at_mark)

        return await self._w.read(read_delivered)

    async def teams_when_sent(self, briefing_id: str, version: int) -> tuple[str, ...] | None:
        """The service's teams (`TEAMS`) as they were listed when this version was sent, whose
        members were kept with it; None when none were (it went before teams were listed), or
        the version was never sent."""

        def read_teams(db: Database) -> tuple[str, ...] | None:
            row = db.execute(
                "SELECT teams FROM broadcasts WHERE briefing_id = ? AND version = ?"
                " AND purpose = 'briefing'",
                [briefing_id, version],
            ).fetchone()
            return None if row is None or row[0] is None else tuple(json.loads(row[0]))

        return await self._w.read(read_teams)

    async def broadcasts_by(self, published_by: str, limit: int = 3) -> list[SentBroadcast]:
        """A publisher's newest briefing broadcasts (never reminders, whose size is who has
        not acknowledged), each with its delivery progress."""

        def read_broadcasts(db: Database) -> list[SentBroadcast]:
            rows = db.execute(
                "SELECT id, briefing_id, version, COALESCE(title, briefing_id), status,"
                " created_at, finished_at, superseded_by FROM broadcasts"
                " WHERE purpose = 'briefing' AND published_by = ?"
                " ORDER BY created_at DESC, id DESC LIMIT ?",
                [published_by, limit],
            ).fetchall()
            return [
                SentBroadcast(b, int(v), title, status, at, done, by, _progress(db, id_))
                for id_, b, v, title, status, at, done, by in rows
            ]

        return await self._w.read(read_broadcasts)

    async def follow_ups_since(self, since: str, limit: int = 5) -> list[FollowUpSent]:
        """Checks' follow-ups queued since `since` (UTC ISO), newest first. An attributed
        check's follow-up comes without status or progress (see the module)."""

        def read_follow_ups(db: Database) -> list[FollowUpSent]:
            rows = db.execute(
                "SELECT b.id, b.briefing_id, b.version, COALESCE(b.title, b.briefing_id),"
                " b.purpose, b.created_at, COALESCE(c.mode, 'attributed') = 'anonymous',"
                " b.status FROM broadcasts b LEFT JOIN checks c"
                " ON c.briefing_id = b.briefing_id AND c.version = b.version"
                " WHERE b.purpose LIKE 'followup:%' AND b.created_at >= ?"
                " ORDER BY b.created_at DESC, b.id DESC LIMIT ?",
                [since, limit],
            ).fetchall()
            found = []
            for id_, b, v, title, purpose, at, anonymous, status in rows:
                everyone = bool(anonymous)
                found.append(
                    FollowUpSent(
                        b,
                        int(v),
                        title,
                        purpose.split(":", 1)[1],
                        at,
                        everyone,
                        status if everyone else None,
                        _progress(db, id_) if everyone else None,
                    )
                )
            return found

        return await self._w.read(read_follow_ups)
