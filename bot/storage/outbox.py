"""The delivery outbox: what is to be sent to whom, what is in flight, what was sent.

Exactly once rests on three rules kept here. A broadcast's deliveries are written in one
transaction with the broadcast itself, so a publish is queued whole or not at all. A delivery is
marked in flight, committed, before its send, so a crash leaves a trace of every send that may
have happened. And a delivery is marked sent in the same transaction that records who it reached.

Kept whole because those three rules are kept by the SQL here together (queueing, claiming,
marking sent, settling a correction): one module to read to check that every write keeps them.
The sender that calls it is bot/sender.py.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlite_utils import Database

from bot.slack.long_messages import split_message
from bot.storage.writer import Writer, utc_iso

DM_PREFIX = "dm:"  # a version's DMs to one entry are a publication apart from its channel post
PART_MARK = "#"  # a long message's part 2 onwards: its purpose is "agenda#2", "agenda#3"…


@dataclass(frozen=True)
class PlannedEntry:
    """One audience entry as resolved for a broadcast: a channel post and/or DMs to people."""

    raw: str  # as written: "@team-managers", "U0123…", "#social-work-all"
    ref: str  # its Slack id: C…, S…, U…
    post: bool  # a post in the channel `ref`
    members: tuple[str, ...] = ()  # who the channel post reaches
    people: tuple[str, ...] = ()  # who gets a DM (a person in two entries gets one)
    skipped: int = 0  # bots and deactivated accounts left out


@dataclass(frozen=True)
class Plan:
    """Everything a broadcast needs, resolved before anything is sent, and stored as JSON so
    that a confirmation queues exactly what the publisher was shown."""

    briefing_id: str
    version: int
    title: str
    acknowledge: bool
    published_by: str
    message: dict[str, Any]  # {"text": …, "blocks": […]}, rendered once
    entries: tuple[PlannedEntry, ...]
    correction: str | None = None  # with a note, earlier copies are updated in place
    reacknowledge: bool = False  # a correction that asks everyone to acknowledge again
    remind_after_s: int | None = None
    # The comprehension check as sent: {questions: [{ask, options, answer, explain}], clarity,
    # mode, closes_after_s}. It opens when the broadcast is queued.
    check: dict[str, Any] | None = None
    # The service's teams (`TEAMS`) and who was in each when it was planned: its figures break
    # down by them, as they stood then. None when no teams are set (by audience entry then).
    teams: dict[str, tuple[str, ...]] | None = None

    @property
    def people(self) -> set[str]:
        """Everyone it reaches: channel members and people messaged directly."""
        return {p for e in self.entries for p in (*e.members, *e.people)}

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Plan:
        data = json.loads(text)
        data["entries"] = tuple(
            PlannedEntry(**{**e, "members": tuple(e["members"]), "people": tuple(e["people"])})
            for e in data["entries"]
        )
        if data.get("teams") is not None:
            data["teams"] = {team: tuple(members) for team, members in data["teams"].items()}
        return cls(**data)


@dataclass(frozen=True)
class Prepared:
    """What queueing a broadcast did, or that the version was queued already."""

    broadcast_id: int
    queued: int  # sends and updates to make
    already: bool
    posts: int = 0
    dms: int = 0
    updates: int = 0
    corrects: int | None = None  # the version it corrects
    newer: int | None = None  # not queued: this newer version went out meanwhile


@dataclass(frozen=True)
class Delivery:
    """One send, claimed for the sender (in flight)."""

    id: int
    broadcast_id: int
    target: str  # a person (a DM) or a channel (a post), or what an update's copy went to
    attempts: int
    claimed_at: str
    look_first: bool = False  # an earlier send's answer was lost: look for its copy first
    look_only: bool = False  # its broadcast was cancelled: find out if it went, never send
    kind: str = "dm"  # dm | channel | update
    channel_id: str | None = None  # an update's copy
    message_ts: str | None = None
    corrects: bool = False  # its broadcast is a correction: an earlier copy is updated instead
    purpose: str = "briefing"  # briefing | reminder | catchup


# Errors recorded on a delivery whose last send may have reached Slack unseen.
LOOK_FIRST = ("lost", "unresolved")
# Deliveries the sender takes up: those of broadcasts still sending, and, of cancelled ones,
# those whose last send may have gone (to be looked up and recorded, never sent again).
_CLAIMABLE = (
    "(b.status = 'sending' OR (b.status = 'cancelled' AND d.error IN ('lost', 'unresolved')))"
    # A correction's fresh copy waits while an earlier send to the same place is unresolved
    # (in flight, or its answer lost): it may have arrived, and then it is updated instead.
    " AND NOT (b.correction IS NOT NULL AND d.kind IN ('dm', 'channel') AND EXISTS ("
    "SELECT 1 FROM deliveries e JOIN broadcasts eb ON eb.id = e.broadcast_id"
    " WHERE e.target = d.target AND eb.briefing_id = b.briefing_id AND eb.version < b.version"
    " AND eb.purpose IN ('briefing', 'catchup') AND (e.status = 'in_flight'"
    " OR (e.status = 'pending' AND e.error IN ('lost', 'unresolved')))))"
    # A long message's later part (`queue_message`) waits until the part before it has gone
    # to the same place (or failed there), so each reader gets the parts in order.
    f" AND NOT (b.purpose GLOB '*{PART_MARK}[0-9]*' AND EXISTS ("
    "SELECT 1 FROM deliveries e JOIN broadcasts eb ON eb.id = e.broadcast_id"
    " WHERE e.target = d.target AND e.kind = d.kind AND eb.briefing_id = b.briefing_id"
    " AND eb.version = b.version AND eb.id < b.id AND e.status IN ('pending', 'in_flight')))"
)


class Outbox:
    """Named operations on `broadcasts` and `deliveries`."""

    def __init__(self, writer: Writer):
        self._w = writer

    async def prepare(self, plan: Plan, now: datetime) -> Prepared:
        """Queue a planned broadcast whole, in one transaction, once per version."""
        return await self._w.write(lambda db: queue_plan(db, plan, now))

    async def earlier_copies(self, briefing_id: str, version: int) -> tuple[int, int]:
        """(DM copies, channel posts) of earlier versions that a correction would update."""
        key = Key(briefing_id, version)

        def query(db: Database) -> tuple[int, int]:
            return len(_dm_copies(db, key)), len(_channel_copies(db, key))

        return await self._w.read(query)

    async def message(self, broadcast_id: int) -> dict[str, Any]:
        """The rendered message a broadcast sends (text and blocks)."""

        def query(db: Database) -> dict[str, Any]:
            row = db.execute("SELECT message FROM broadcasts WHERE id = ?", [broadcast_id])
            loaded: dict[str, Any] = json.loads(row.fetchone()[0])
            return loaded

        return await self._w.read(query)

    async def claim_next(self, now: datetime, *, updates: bool = True) -> Delivery | None:
        """The next delivery that is due, marked in flight (committed) before it is sent.

        `updates=False` passes over corrections' updates (their own, slower limit is spent), so
        that a long correction never holds up a briefing queued after it.
        """
        at = utc_iso(now)
        # Without updates: the first of each other kind, from idx_deliveries_status_kind_id
        # (m019), not a walk past every waiting update (a long correction's thousands).
        lanes = ["1"] if updates else ["d.kind = 'dm'", "d.kind = 'channel'"]

        def first_of(db: Database, lane: str) -> Any:
            return db.execute(
                "SELECT d.id, d.broadcast_id, d.target, d.attempts, d.error,"
                " b.status = 'cancelled', d.kind, d.channel_id, d.message_ts,"
                " b.correction IS NOT NULL, b.purpose FROM deliveries d"
                " JOIN broadcasts b ON b.id = d.broadcast_id"
                f" WHERE d.status = 'pending' AND {lane} AND {_CLAIMABLE}"
                " AND (d.not_before IS NULL OR d.not_before <= ?)"
                " AND (d.not_after IS NULL OR d.not_after > ?) ORDER BY d.id LIMIT 1",
                [at, at],
            ).fetchone()

        def claim(db: Database) -> Delivery | None:
            found = [row for lane in lanes if (row := first_of(db, lane)) is not None]
            row = min(found, key=lambda r: r[0], default=None)
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
                look_first=row[4] in LOOK_FIRST,
                look_only=bool(row[5]),
                kind=row[6],
                channel_id=row[7],
                message_ts=row[8],
                corrects=bool(row[9]),
                purpose=row[10],
            )

        return await self._w.write(claim)

    async def in_flight(self) -> list[Delivery]:
        """Deliveries a stopped process left in flight: each may or may not have been sent."""

        def query(db: Database) -> list[Delivery]:
            rows = db.execute(
                "SELECT id, broadcast_id, target, attempts, claimed_at, kind FROM deliveries"
                " WHERE status = 'in_flight' ORDER BY id"
            ).fetchall()
            return [Delivery(row[0], row[1], row[2], row[3], row[4], kind=row[5]) for row in rows]

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
            # A DM reaches its person; a channel post (or its update) makes the post live.
            db.execute(
                "INSERT OR IGNORE INTO recipients (publication_id, user_id, reached_at)"
                " SELECT d.publication_id, d.target, ? FROM deliveries d"
                " JOIN publications p ON p.id = d.publication_id"
                " WHERE d.id = ? AND p.audience LIKE 'dm:%'",
                [at, delivery_id],
            )
            db.execute(
                "UPDATE publications SET status = 'posted', channel_id = ?, message_ts = ?,"
                " published_at = ? WHERE status = 'posting'"
                " AND id = (SELECT publication_id FROM deliveries WHERE id = ?)",
                [channel_id, message_ts, at, delivery_id],
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
            db.execute(  # a channel post that never went: its entry shows why
                "UPDATE publications SET status = 'failed', error = ? WHERE status = 'posting'"
                " AND id = (SELECT publication_id FROM deliveries WHERE id = ?)",
                [error, delivery_id],
            )

        await self._w.write(mark)

    async def finish_if_done(self, broadcast_id: int, now: datetime) -> bool:
        """Mark the broadcast done when nothing of it is left to send; True only that once."""

        def finish(db: Database) -> bool:
            left = db.execute(  # EXISTS, on idx_deliveries_waiting (m019): one row read
                "SELECT EXISTS (SELECT 1 FROM deliveries WHERE broadcast_id = ?"
                " AND status IN ('pending', 'in_flight'))",
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

    async def next_due(self, now: datetime) -> str | None:
        """When the earliest waiting delivery may be tried (None: nothing waits)."""
        at = utc_iso(now)

        def query(db: Database) -> str | None:
            row = db.execute(
                "SELECT MIN(COALESCE(d.not_before, '')) FROM deliveries d"
                " JOIN broadcasts b ON b.id = d.broadcast_id"
                f" WHERE d.status = 'pending' AND {_CLAIMABLE}"
                " AND (d.not_after IS NULL OR d.not_after > ?)",
                [at],
            ).fetchone()
            return None if row[0] is None else str(row[0])

        return await self._w.read(query)

    async def depth(self, now: datetime) -> dict[str, int]:
        """Deliveries not yet sent, by state: due now, waiting for later, in flight (/metrics)."""
        at = utc_iso(now)

        def count_unsent(db: Database) -> dict[str, int]:
            row = db.execute(
                "SELECT COALESCE(SUM(status = 'pending'"
                " AND (not_before IS NULL OR not_before <= ?)), 0),"
                " COALESCE(SUM(status = 'pending' AND not_before > ?), 0),"
                " COALESCE(SUM(status = 'in_flight'), 0)"
                " FROM deliveries WHERE status IN ('pending', 'in_flight')",
                [at, at],
            ).fetchone()
            return {"due": int(row[0]), "later": int(row[1]), "in_flight": int(row[2])}

        return await self._w.read(count_unsent)

    async def idle(self, now: datetime) -> bool:
        """Nothing in flight and nothing waiting to be sent, read at one instant (two reads
        could miss a delivery moving from in flight back to waiting between them)."""
        at = utc_iso(now)

        def query(db: Database) -> bool:
            row = db.execute(
                "SELECT EXISTS (SELECT 1 FROM deliveries WHERE status = 'in_flight')"
                " OR EXISTS (SELECT 1 FROM deliveries d JOIN broadcasts b"
                "   ON b.id = d.broadcast_id"
                f"   WHERE d.status = 'pending' AND {_CLAIMABLE}"
                "   AND (d.not_after IS NULL OR d.not_after > ?))",
                [at],
            ).fetchone()
            return not row[0]

        return await self._w.read(query)

    async def settle_correction(self, delivery: Delivery) -> tuple[str, str | None, str | None]:
        """Before a correction sends someone (or a channel) a fresh copy: do they hold an
        earlier one after all? ("update", channel, ts): it was sent meanwhile, so this delivery
        becomes its update. ("wait", …): an earlier send is still unresolved. ("send", …)."""

        def settle(db: Database) -> tuple[str, str | None, str | None]:
            head = db.execute(
                "SELECT briefing_id, version FROM broadcasts WHERE id = ?",
                [delivery.broadcast_id],
            ).fetchone()
            kinds = "('channel')" if delivery.kind == "channel" else "('dm', 'update')"
            earlier = (
                " FROM deliveries d JOIN broadcasts b ON b.id = d.broadcast_id"
                " WHERE b.briefing_id = ? AND b.version < ?"
                " AND b.purpose IN ('briefing', 'catchup')"
                f" AND d.kind IN {kinds} AND d.target = ?"
            )
            args = [head[0], head[1], delivery.target]
            unresolved = db.execute(
                "SELECT 1" + earlier + " AND (d.status = 'in_flight' OR (d.status = 'pending'"
                " AND d.error IN ('lost', 'unresolved'))) LIMIT 1",
                args,
            ).fetchone()
            if unresolved:  # a race with the claim: waiting costs it no attempt
                db.execute(
                    "UPDATE deliveries SET attempts = MAX(0, attempts - 1) WHERE id = ?",
                    [delivery.id],
                )
                return "wait", None, None
            copy = db.execute(
                "SELECT d.channel_id, d.message_ts" + earlier + " AND d.status = 'sent'"
                " ORDER BY b.version DESC, d.id DESC LIMIT 1",
                args,
            ).fetchone()
            if copy is None:
                return "send", None, None
            db.execute(
                "UPDATE deliveries SET kind = 'update', channel_id = ?, message_ts = ?"
                " WHERE id = ?",
                [copy[0], copy[1], delivery.id],
            )
            return "update", copy[0], copy[1]

        return await self._w.write(settle)

    async def summary(self, broadcast_id: int) -> dict[str, Any]:
        """A broadcast's outcome: counts by status and the reasons for failures."""

        def query(db: Database) -> dict[str, Any]:
            head = db.execute(
                "SELECT briefing_id, version, title, published_by, status, progress_channel,"
                " progress_ts, purpose, correction, superseded_by FROM broadcasts WHERE id = ?",
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
                    " AND status = 'failed' AND kind != 'channel' GROUP BY error",
                    [broadcast_id],
                ).fetchall()
            )
            kinds: dict[str, dict[str, int]] = {}
            for kind, status, n in db.execute(
                "SELECT kind, status, COUNT(*) FROM deliveries WHERE broadcast_id = ?"
                " GROUP BY kind, status",
                [broadcast_id],
            ).fetchall():
                kinds.setdefault(kind, {})[status] = n
            unposted = db.execute(
                "SELECT target, error FROM deliveries WHERE broadcast_id = ?"
                " AND kind = 'channel' AND status = 'failed' ORDER BY id",
                [broadcast_id],
            ).fetchall()
            return {
                "purpose": head[7],
                "correction": head[8],
                "superseded_by": head[9],
                "kinds": kinds,
                "unposted": [tuple(row) for row in unposted],
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


# -- queueing a broadcast ------------------------------------------------------------------------


def queue_message(
    db: Database,
    *,
    key: tuple[str, int, str],
    title: str,
    message: dict[str, Any],
    targets: list[tuple[str, str]],
    published_by: str,
    now: datetime,
) -> int | None:
    """Queue one message to a few places (`targets`: ("channel", C…) or ("dm", U…)) through
    the outbox, in the caller's transaction: sent once each, paced, across crashes. `key`
    (an id, a number, a purpose) makes it once only: None if it was queued before. Nothing is
    reported back to `published_by` (it is not a briefing).

    A message too long for Slack (bot/slack/long_messages.py) goes as several, in order: each
    part its own broadcast (purpose "agenda", then "agenda#2"…), so each is sent exactly once,
    and a later part waits for the one before it at each place (`_CLAIMABLE`). The first
    part's broadcast id is returned."""
    parts = split_message(message)
    first = _queue_one(db, key, title, parts[0], targets, published_by, now)
    if first is not None:
        for n, part in enumerate(parts[1:], 2):
            purpose = f"{key[2]}{PART_MARK}{n}"
            _queue_one(db, (key[0], key[1], purpose), title, part, targets, published_by, now)
    return first


def _queue_one(
    db: Database,
    key: tuple[str, int, str],
    title: str,
    message: dict[str, Any],
    targets: list[tuple[str, str]],
    published_by: str,
    now: datetime,
) -> int | None:
    at = utc_iso(now)
    cursor = db.execute(
        "INSERT OR IGNORE INTO broadcasts (briefing_id, version, title, published_by,"
        " created_at, message, status, purpose, reported)"
        " VALUES (?, ?, ?, ?, ?, ?, 'sending', ?, 1)",
        [key[0], key[1], title, published_by, at, json.dumps(message), key[2]],
    )
    if cursor.rowcount == 0:
        return None
    broadcast_id = int(cursor.lastrowid or 0)
    db.conn.executemany(
        "INSERT OR IGNORE INTO deliveries (broadcast_id, kind, target, status)"
        " VALUES (?, ?, ?, 'pending')",
        [(broadcast_id, kind, target) for kind, target in targets],
    )
    if not targets:
        db.execute(
            "UPDATE broadcasts SET status = 'done', finished_at = ? WHERE id = ?",
            [at, broadcast_id],
        )
    return broadcast_id


def queue_plan(db: Database, plan: Plan, now: datetime, *, purpose: str = "briefing") -> Prepared:
    """Write a broadcast and all its deliveries (on the writer thread, inside its transaction).

    A correction (a note, and an earlier version already out) updates every earlier copy in
    place instead of sending a second one: people who hold a copy get an update, a channel
    with a post gets its post updated, and only those with no copy yet are sent one. Each step
    below runs in the caller's one transaction, in this order: queued whole or not at all.
    """
    at = utc_iso(now)
    newer = _newer_version(db, plan)
    if newer is not None and purpose == "briefing":
        return Prepared(broadcast_id=0, queued=0, already=True, newer=newer)
    base = _what_it_corrects(db, plan, at)
    broadcast_id = _insert_broadcast(db, plan, purpose, at, base)
    if broadcast_id is None:
        row = db.execute(
            "SELECT id FROM broadcasts WHERE briefing_id = ? AND version = ? AND purpose = ?",
            [plan.briefing_id, plan.version, purpose],
        ).fetchone()
        return Prepared(broadcast_id=row[0], queued=0, already=True)
    queue = _Queue(db, plan, broadcast_id, at)
    if plan.check:
        open_check(db, plan, now)
    holders: set[str] = set()
    posted_in: set[str] = set()
    if base.corrects is not None:
        _supersede_earlier(db, plan, at, base.corrects)
        holders, posted_in = _update_earlier_copies(db, plan, queue)
    _queue_entries(plan, queue, holders=holders, posted_in=posted_in)
    if queue.count == 0:
        db.execute(
            "UPDATE broadcasts SET status = 'done', finished_at = ? WHERE id = ?",
            [at, broadcast_id],
        )
    return Prepared(
        broadcast_id=broadcast_id,
        queued=queue.count,
        already=False,
        posts=queue.kinds.get("channel", 0),
        dms=queue.kinds.get("dm", 0),
        updates=queue.kinds.get("update", 0),
        corrects=base.corrects,
    )


@dataclass(frozen=True)
class _Base:
    """What a new version builds on: the version it corrects (None: not a correction), and
    the acknowledgement round and first-sent time it keeps."""

    corrects: int | None
    ack_round: int
    sent_from: str


def _newer_version(db: Database, plan: Plan) -> int | None:
    """A later version of the briefing already queued: a confirmation left open while a later
    version went out must not send the older one after it."""
    newer = db.execute(
        "SELECT MAX(version) FROM broadcasts WHERE briefing_id = ? AND version > ?"
        " AND purpose = 'briefing'",
        [plan.briefing_id, plan.version],
    ).fetchone()[0]
    return None if newer is None else int(newer)


def _what_it_corrects(db: Database, plan: Plan, at: str) -> _Base:
    """The earlier version a correction updates in place, and whether its acknowledgements
    (and reminders' clock) carry over: they do unless it asks everyone to acknowledge again."""
    previous = db.execute(
        "SELECT version, COALESCE(ack_round, version), sent_from FROM broadcasts"
        " WHERE briefing_id = ? AND version < ? AND purpose = 'briefing'"
        " ORDER BY version DESC LIMIT 1",
        [plan.briefing_id, plan.version],
    ).fetchone()
    legacy = db.execute(  # a version posted before broadcasts kept its channel posts
        "SELECT MAX(version) FROM publications WHERE briefing_id = ? AND version < ?"
        " AND status = 'posted'",
        [plan.briefing_id, plan.version],
    ).fetchone()[0]
    corrects = None
    if plan.correction and (previous or legacy):
        corrects = max(previous[0] if previous else 0, legacy or 0)
    if corrects is not None and not plan.reacknowledge and previous:
        return _Base(corrects, previous[1], previous[2] or at)
    return _Base(corrects, plan.version, at)


def _insert_broadcast(db: Database, plan: Plan, purpose: str, at: str, base: _Base) -> int | None:
    """The broadcast's row; None if this version was queued before (a double confirm)."""
    cursor = db.execute(
        "INSERT OR IGNORE INTO broadcasts (briefing_id, version, title, published_by,"
        " created_at, message, status, purpose, correction, ack_round, remind_after_s,"
        " sent_from) VALUES (?, ?, ?, ?, ?, ?, 'sending', ?, ?, ?, ?, ?)",
        [
            plan.briefing_id,
            plan.version,
            plan.title,
            plan.published_by,
            at,
            json.dumps(plan.message),
            purpose,
            plan.correction if base.corrects is not None else None,
            base.ack_round,
            plan.remind_after_s,
            base.sent_from,
        ],
    )
    if cursor.rowcount == 0:
        return None
    broadcast_id = int(cursor.lastrowid or 0)
    _keep_teams(db, broadcast_id, plan)
    return broadcast_id


def _keep_teams(db: Database, broadcast_id: int, plan: Plan) -> None:
    """Who was in each of the service's teams when this was planned: its figures break down
    by these for good (bot/storage/figures.py)."""
    if plan.teams is None:
        return
    db.execute(
        "UPDATE broadcasts SET teams = ? WHERE id = ?",
        [json.dumps(sorted(plan.teams)), broadcast_id],
    )
    db.conn.executemany(
        "INSERT OR IGNORE INTO broadcast_teams (broadcast_id, user_id, team) VALUES (?, ?, ?)",
        [(broadcast_id, user, team) for team, members in plan.teams.items() for user in members],
    )


def _supersede_earlier(db: Database, plan: Plan, at: str, corrects: int) -> None:
    """What is left of the earlier versions' sending is not sent: this version replaces it.

    A send whose answer was lost is still looked for (and then updated, see
    `settle_correction`); the publisher is told each was stopped.
    """
    stopped = [
        row[0]
        for row in db.execute(
            "SELECT id FROM broadcasts WHERE briefing_id = ? AND version < ?"
            " AND status = 'sending' AND purpose IN ('briefing', 'catchup')",
            [plan.briefing_id, plan.version],
        )
    ]
    for old_id in stopped:
        db.execute(
            "UPDATE broadcasts SET status = 'cancelled', finished_at = ?, superseded_by = ?"
            " WHERE id = ?",
            [at, plan.version, old_id],
        )
        db.execute(
            "UPDATE deliveries SET status = 'cancelled' WHERE broadcast_id = ?"
            " AND status = 'pending'"
            " AND (error IS NULL OR error NOT IN ('lost', 'unresolved'))",
            [old_id],
        )
    if plan.reacknowledge:  # the old round's reminders would ask for the old version
        db.execute(
            "UPDATE deliveries SET status = 'cancelled' WHERE status = 'pending'"
            " AND broadcast_id IN (SELECT id FROM broadcasts WHERE briefing_id = ?"
            " AND version < ? AND purpose = 'reminder')",
            [plan.briefing_id, plan.version],
        )
    if not plan.reacknowledge:  # the change does not matter: acknowledgements carry over
        db.execute(
            "INSERT OR IGNORE INTO acknowledgements (briefing_id, version, user_id,"
            " acknowledged_at) SELECT briefing_id, ?, user_id, acknowledged_at"
            " FROM acknowledgements WHERE briefing_id = ? AND version = ?",
            [plan.version, plan.briefing_id, corrects],
        )


def _update_earlier_copies(db: Database, plan: Plan, queue: _Queue) -> tuple[set[str], set[str]]:
    """Each earlier copy (a DM, a channel post) is queued to be updated in place; returns who
    holds a copy already and which channels have a post, so neither is sent a second one."""
    holders: set[str] = set()
    posted_in: set[str] = set()
    refs = {DM_PREFIX + e.raw: e.ref for e in plan.entries}  # only entries still named
    for person, channel_id, ts, audience in _dm_copies(db, plan):
        holders.add(person)
        publication = queue.publication(audience, ref=refs.get(audience), posted=True)
        # They hold it already (in its earlier words): reached, as the figures should say.
        queue.recipients(publication, (person,))
        queue.delivery(publication, "update", person, channel_id=channel_id, ts=ts)
    for channel_id, ts, audience, old in _channel_copies(db, plan):
        posted_in.add(channel_id)
        publication = queue.publication(audience, ref=channel_id, posted=False)
        db.execute(
            "INSERT OR IGNORE INTO recipients (publication_id, user_id, reached_at)"
            " SELECT ?, user_id, reached_at FROM recipients WHERE publication_id = ?",
            [publication, old],
        )
        queue.delivery(publication, "update", channel_id, channel_id=channel_id, ts=ts)
    return holders, posted_in


def _queue_entries(plan: Plan, queue: _Queue, *, holders: set[str], posted_in: set[str]) -> None:
    """Each audience entry's channel post and DMs, but for those an update already reaches."""
    for entry in plan.entries:
        if entry.post:
            publication = queue.publication(entry.raw, ref=entry.ref, posted=False)
            queue.recipients(publication, entry.members)
            queue.members(publication, entry.members)
            if entry.ref not in posted_in:
                queue.delivery(publication, "channel", entry.ref)
        people = [p for p in entry.people if p not in holders]
        if entry.people:
            publication = queue.publication(DM_PREFIX + entry.raw, ref=entry.ref, posted=True)
            queue.members(publication, entry.people)
            for person in people:
                queue.delivery(publication, "dm", person)


@dataclass(frozen=True)
class Key:
    briefing_id: str
    version: int


class _Queue:
    """Publications and deliveries of one broadcast being written (see `queue_plan`)."""

    def __init__(self, db: Database, plan: Plan, broadcast_id: int, at: str):
        self.db, self.plan, self.broadcast_id, self.at = db, plan, broadcast_id, at
        self.count = 0
        self.kinds: dict[str, int] = {}

    def publication(self, audience: str, *, ref: str | None, posted: bool) -> int:
        """The version's publication for an entry (a channel post waits as `posting`)."""
        plan = self.plan
        self.db.execute(
            "INSERT OR IGNORE INTO publications (briefing_id, version, title, audience,"
            " acknowledge, published_by, published_at, status, reach_known, ref)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
            [
                plan.briefing_id,
                plan.version,
                plan.title,
                audience,
                int(plan.acknowledge),
                plan.published_by,
                self.at,
                "posted" if posted else "posting",
                ref,
            ],
        )
        row = self.db.execute(
            "SELECT id, status FROM publications WHERE briefing_id = ? AND version = ?"
            " AND audience = ?",
            [plan.briefing_id, plan.version, audience],
        ).fetchone()
        if ref is not None:  # first made for a correction's holders, before the entry's own
            self.db.execute(
                "UPDATE publications SET ref = ? WHERE id = ? AND ref IS NULL", [ref, row[0]]
            )
        if row[1] in ("failed", "interrupted"):  # left by an older release: this one retries
            self.db.execute(
                "UPDATE publications SET status = ?, error = NULL WHERE id = ?",
                ["posted" if posted else "posting", row[0]],
            )
        return int(row[0])

    def recipients(self, publication: int, people: tuple[str, ...]) -> None:
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO recipients (publication_id, user_id, reached_at)"
            " VALUES (?, ?, ?)",
            [(publication, person, self.at) for person in people],
        )

    def members(self, publication: int, people: tuple[str, ...]) -> None:
        """Who the entry named (its team, for breakdowns), whichever copy reached them."""
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO audience_members (publication_id, user_id) VALUES (?, ?)",
            [(publication, person) for person in people],
        )

    def delivery(
        self,
        publication: int,
        kind: str,
        target: str,
        *,
        channel_id: str | None = None,
        ts: str | None = None,
    ) -> None:
        added = self.db.execute(
            "INSERT OR IGNORE INTO deliveries (broadcast_id, publication_id, kind, target,"
            " status, channel_id, message_ts) VALUES (?, ?, ?, ?, 'pending', ?, ?)",
            [self.broadcast_id, publication, kind, target, channel_id, ts],
        )
        self.count += added.rowcount
        self.kinds[kind] = self.kinds.get(kind, 0) + added.rowcount


def _dm_copies(db: Database, plan: Plan | Key) -> list[tuple[str, str, str, str]]:
    """Each person's latest DM copy of an earlier version: (person, channel, ts, entry)."""
    rows = db.execute(
        "SELECT d.target, d.channel_id, d.message_ts, p.audience FROM deliveries d"
        " JOIN broadcasts b ON b.id = d.broadcast_id"
        " JOIN publications p ON p.id = d.publication_id"
        " WHERE b.briefing_id = ? AND b.version < ? AND b.purpose IN ('briefing', 'catchup')"
        " AND d.status = 'sent' AND d.kind IN ('dm', 'update') AND p.audience LIKE 'dm:%'"
        " ORDER BY b.version, d.id",
        [plan.briefing_id, plan.version],
    ).fetchall()
    latest = {row[0]: row for row in rows}  # the newest version's copy wins
    return [tuple(row) for row in latest.values()]  # type: ignore[misc]


def _channel_copies(db: Database, plan: Plan | Key) -> list[tuple[str, str, str, int]]:
    """Each channel's latest post of an earlier version: (channel, ts, entry, publication)."""
    rows = db.execute(
        "SELECT channel_id, message_ts, audience, id FROM publications"
        " WHERE briefing_id = ? AND version < ? AND status = 'posted'"
        " AND channel_id IS NOT NULL AND message_ts IS NOT NULL AND audience NOT LIKE 'dm:%'"
        " ORDER BY version, id",
        [plan.briefing_id, plan.version],
    ).fetchall()
    latest = {row[0]: row for row in rows}
    return [tuple(row) for row in latest.values()]  # type: ignore[misc]


def open_check(db: Database, plan: Plan, now: datetime) -> None:
    """Open the version's check as the broadcast is queued: closing `closes_after_s` from now."""
    check = plan.check or {}
    closes = now + timedelta(seconds=int(check["closes_after_s"]))
    anonymous = check.get("mode") == "anonymous"
    db.execute(
        "INSERT OR IGNORE INTO checks (briefing_id, version, title, questions, clarity, mode,"
        " published_by, opened_at, closes_at, taker_salt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            plan.briefing_id,
            plan.version,
            plan.title,
            json.dumps(check["questions"]),
            int(bool(check.get("clarity"))),
            "anonymous" if anonymous else "attributed",
            plan.published_by,
            utc_iso(now),
            utc_iso(closes),
            # The salt of its one-attempt key; the key also needs a secret kept outside
            # the database (bot/storage/check_keys.py).
            secrets.token_hex(16) if anonymous else None,
        ],
    )
