"""Durable storage: SQLite through sqlite-utils, owned by one dedicated thread.

Why one thread: a `sqlite3` connection must not be shared across threads, and SQLite allows one
writer at a time anyway. Every operation below is an `async` method that hands a small function to
that thread and awaits the result, so the event loop never blocks on disk and writes never race.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlite_utils import Database

from bot.migrations import migrations

T = TypeVar("T")


def utc_iso(moment: datetime) -> str:
    """Times are stored as UTC ISO-8601 text so they sort and compare as strings."""
    if moment.tzinfo is None:
        raise ValueError("refusing to store a naive datetime")
    return moment.astimezone(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class AckResult:
    """What happened when someone pressed Acknowledge."""

    new: bool
    acknowledged_at: str


@dataclass(frozen=True)
class Claim:
    """The right to post a briefing version to one audience, or the post already made."""

    publication_id: int
    already: dict[str, Any] | None = None


class Storage:
    """The bot's database. Open with `await storage.open()`, close with `await storage.close()`."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._executor: ThreadPoolExecutor | None = None
        self._db: Database | None = None
        self.owner_thread: int | None = None

    # -- plumbing ---------------------------------------------------------------------------

    async def open(self) -> None:
        """Start the owning thread, open the database there and bring the schema up to date."""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        await self._run(self._open_in_thread)

    def _open_in_thread(self) -> None:
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        db = Database(self.path)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA busy_timeout=5000")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA synchronous=NORMAL")
        migrations.apply(db)
        self._db = db
        self.owner_thread = threading.get_ident()

    async def close(self) -> None:
        if self._executor is None:
            return
        if self._db is not None:
            await self._run(self._db.close)
            self._db = None
        self._executor.shutdown(wait=True)
        self._executor = None

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._executor is None:
            raise RuntimeError("storage is not open")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    @property
    def db(self) -> Database:
        """The connection, for code already running on the owning thread (tests use `call`)."""
        if self._db is None:
            raise RuntimeError("storage is not open")
        if threading.get_ident() != self.owner_thread:
            raise RuntimeError("the database may only be used from its own thread")
        return self._db

    async def call(self, fn: Callable[[Database], T]) -> T:
        """Run `fn(db)` on the owning thread: for reports and tests that need a one-off query."""
        return await self._run(lambda: fn(self.db))

    # -- health -----------------------------------------------------------------------------

    async def check_writable(self, now: datetime) -> bool:
        """Write a heartbeat row: the only proof that the database still takes writes."""

        def write() -> bool:
            with self.db.atomic():
                self.db.table("heartbeat").upsert({"id": 1, "at": utc_iso(now)}, pk="id")
            return True

        try:
            return await self._run(write)
        except Exception:
            return False

    # -- publications -----------------------------------------------------------------------

    async def claim_publication(
        self,
        *,
        briefing_id: str,
        version: int,
        title: str,
        audience: str,
        acknowledge: bool,
        published_by: str,
        now: datetime,
    ) -> Claim:
        """Reserve (briefing, version, audience) before posting, so it is posted at most once."""

        def claim() -> Claim:
            db = self.db
            with db.atomic():
                cursor = db.execute(
                    "INSERT OR IGNORE INTO publications (briefing_id, version, title, audience,"
                    " acknowledge, published_by, published_at, status)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, 'posting')",
                    [
                        briefing_id,
                        version,
                        title,
                        audience,
                        int(acknowledge),
                        published_by,
                        utc_iso(now),
                    ],
                )
                if cursor.rowcount == 1:
                    return Claim(publication_id=int(cursor.lastrowid or 0))
                row = next(
                    db.query(
                        "SELECT * FROM publications WHERE briefing_id = ? AND version = ?"
                        " AND audience = ?",
                        [briefing_id, version, audience],
                    )
                )
                return Claim(publication_id=row["id"], already=row)

        return await self._run(claim)

    async def mark_posted(self, publication_id: int, *, channel_id: str, message_ts: str) -> None:
        """Record the post as made the moment Slack accepts it: its button is live from then."""

        def mark() -> None:
            with self.db.atomic():
                self.db.table("publications").update(
                    publication_id,
                    {
                        "channel_id": channel_id,
                        "message_ts": message_ts,
                        "status": "posted",
                        "reach_known": 0,  # until add_recipients lists who it reached
                    },
                )

        await self._run(mark)

    async def add_recipients(self, publication_id: int, recipients: list[str]) -> None:
        """Remember who a post reached (the channel's members when it was posted)."""

        def add() -> None:
            with self.db.atomic():
                self.db.table("recipients").insert_all(
                    ({"publication_id": publication_id, "user_id": u} for u in recipients),
                    ignore=True,
                    batch_size=500,
                )
                self.db.table("publications").update(publication_id, {"reach_known": 1})

        await self._run(add)

    async def release_publication(self, publication_id: int) -> None:
        """Forget a claim whose post failed, so the manager can fix the cause and publish again."""

        def release() -> None:
            with self.db.atomic():
                self.db.execute(
                    "DELETE FROM publications WHERE id = ? AND status = 'posting'",
                    [publication_id],
                )

        await self._run(release)

    async def mark_interrupted(self) -> int:
        """At start-up: claims a stopped process left mid-post (the lock proves it is gone).

        The message may or may not have reached the channel, so the claim is not simply freed:
        the next publish of that version asks the manager to check first.
        """

        def mark() -> int:
            with self.db.atomic():
                cursor = self.db.execute(
                    "UPDATE publications SET status = 'interrupted' WHERE status = 'posting'"
                )
            return cursor.rowcount

        return await self._run(mark)

    async def reclaim_interrupted(
        self, publication_id: int, *, published_by: str, now: datetime
    ) -> bool:
        """Take an interrupted claim back to post again, once the manager has checked."""

        def reclaim() -> bool:
            with self.db.atomic():
                cursor = self.db.execute(
                    "UPDATE publications SET status = 'posting', published_by = ?,"
                    " published_at = ? WHERE id = ? AND status = 'interrupted'",
                    [published_by, utc_iso(now), publication_id],
                )
            return cursor.rowcount == 1

        return await self._run(reclaim)

    async def latest_posted_version(self, briefing_id: str) -> int | None:
        """The newest version of a briefing that was actually posted, if any."""

        def query() -> int | None:
            row = self.db.execute(
                "SELECT MAX(version) FROM publications WHERE briefing_id = ? AND status = 'posted'",
                [briefing_id],
            ).fetchone()
            return None if row[0] is None else int(row[0])

        return await self._run(query)

    async def publications_of(self, briefing_id: str, version: int) -> list[dict[str, Any]]:
        """Every completed post of one briefing version."""

        def query() -> list[dict[str, Any]]:
            return list(
                self.db.query(
                    "SELECT * FROM publications WHERE briefing_id = ? AND version = ?"
                    " AND status = 'posted' ORDER BY id",
                    [briefing_id, version],
                )
            )

        return await self._run(query)

    # -- acknowledgements -------------------------------------------------------------------

    async def record_ack(
        self, *, briefing_id: str, version: int, user_id: str, now: datetime
    ) -> AckResult:
        """Record that someone acknowledged a briefing version, once, whatever the retries."""

        def record() -> AckResult:
            db = self.db
            with db.atomic():
                cursor = db.execute(
                    "INSERT OR IGNORE INTO acknowledgements"
                    " (briefing_id, version, user_id, acknowledged_at) VALUES (?, ?, ?, ?)",
                    [briefing_id, version, user_id, utc_iso(now)],
                )
                new = cursor.rowcount == 1
                at = db.execute(
                    "SELECT acknowledged_at FROM acknowledgements"
                    " WHERE briefing_id = ? AND version = ? AND user_id = ?",
                    [briefing_id, version, user_id],
                ).fetchone()[0]
            return AckResult(new=new, acknowledged_at=at)

        return await self._run(record)

    async def ack_summary(self, briefing_id: str, version: int) -> dict[str, int]:
        """How many people a version reached and how many of them (and in all) acknowledged."""

        def query() -> dict[str, int]:
            row = self.db.execute(
                """
                SELECT
                  (SELECT COUNT(DISTINCT r.user_id) FROM recipients r
                     JOIN publications p ON p.id = r.publication_id
                     WHERE p.briefing_id = :b AND p.version = :v AND p.status = 'posted'),
                  (SELECT COUNT(*) FROM acknowledgements a
                     WHERE a.briefing_id = :b AND a.version = :v AND a.user_id IN (
                       SELECT r.user_id FROM recipients r
                       JOIN publications p ON p.id = r.publication_id
                       WHERE p.briefing_id = :b AND p.version = :v AND p.status = 'posted')),
                  (SELECT COUNT(*) FROM acknowledgements a
                     WHERE a.briefing_id = :b AND a.version = :v)
                """,
                {"b": briefing_id, "v": version},
            ).fetchone()
            return {"reached": row[0], "acknowledged_of_reached": row[1], "acknowledged": row[2]}

        return await self._run(query)

    async def awaiting_ack(self, user_id: str) -> list[dict[str, Any]]:
        """Briefings this person received, that ask for acknowledgement, and they have not.

        Only each briefing's latest posted version: a superseded one is no longer asked for.
        """

        def query() -> list[dict[str, Any]]:
            return list(
                self.db.query(
                    """
                    SELECT p.briefing_id, p.version, MIN(p.title) AS title,
                           MIN(p.published_at) AS published_at, MIN(p.channel_id) AS channel_id
                    FROM recipients r JOIN publications p ON p.id = r.publication_id
                    WHERE r.user_id = ? AND p.status = 'posted' AND p.acknowledge = 1
                      AND p.version = (
                        SELECT MAX(q.version) FROM publications q
                        WHERE q.briefing_id = p.briefing_id AND q.status = 'posted')
                      AND NOT EXISTS (
                        SELECT 1 FROM acknowledgements a WHERE a.briefing_id = p.briefing_id
                          AND a.version = p.version AND a.user_id = r.user_id)
                    GROUP BY p.briefing_id, p.version
                    ORDER BY published_at DESC
                    """,
                    [user_id],
                )
            )

        return await self._run(query)

    # -- events -----------------------------------------------------------------------------

    async def first_delivery(self, event_id: str, now: datetime) -> bool:
        """True the first time an Events API `event_id` is seen; Slack retries reuse the id."""

        def mark() -> bool:
            with self.db.atomic():
                cursor = self.db.execute(
                    "INSERT OR IGNORE INTO processed_events (event_id, received_at) VALUES (?, ?)",
                    [event_id, utc_iso(now)],
                )
            return cursor.rowcount == 1

        return await self._run(mark)

    async def prune_events(self, before: datetime) -> int:
        """Forget handled event ids older than Slack's retry window (about five minutes)."""

        def prune() -> int:
            with self.db.atomic():
                cursor = self.db.execute(
                    "DELETE FROM processed_events WHERE received_at < ?", [utc_iso(before)]
                )
            return cursor.rowcount

        return await self._run(prune)
