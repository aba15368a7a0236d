"""The one thread that owns the database, and the plumbing every storage area runs on.

Why one thread: a `sqlite3` connection must not be shared across threads, and SQLite allows one
writer at a time anyway. Every named operation hands a small function to that thread and awaits
it, so the event loop never blocks on disk and writes never race. Heavy reads (exports, charts)
go to a second, read-only connection on a thread of its own, so they never queue behind clicks.

A write a person is waiting for has a deadline (`timeout=`): if it cannot commit in time (the
database is locked, the disk is slow) it is abandoned *atomically* — either it committed before
the deadline, or it is rolled back and `WriteTimeout` is raised. Nothing half-written remains, and
the person is never told "stored" for a write that was not, nor "not stored" for one that was.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlite_utils import Database

from bot.storage.migrations import migrations

T = TypeVar("T")

logger = logging.getLogger(__name__)

# How long a write waits for another connection's lock before SQLite gives up.
BUSY_TIMEOUT_MS = 5000


def utc_iso(moment: datetime) -> str:
    """Times are stored as UTC ISO-8601 text so they sort and compare as strings."""
    if moment.tzinfo is None:
        raise ValueError("refusing to store a naive datetime")
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class WriteTimeout(Exception):
    """A write could not commit within its deadline; it was rolled back, nothing of it kept."""


class _Abandoned(Exception):
    """Raised on the writer thread for a write whose caller stopped waiting."""


class _Job:
    """What the waiting coroutine and the writer thread agree on about one write.

    The lock is held only to flip the state, never while SQLite works, so the event loop never
    waits on the disk through it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = "waiting"  # waiting -> committing, or waiting -> abandoned

    def abandon(self) -> bool:
        """The caller gives up; False if the commit has already begun (its result will come)."""
        with self._lock:
            if self._state == "committing":
                return False
            self._state = "abandoned"
            return True

    def may_start(self) -> bool:
        with self._lock:
            return self._state != "abandoned"

    def may_commit(self) -> bool:
        with self._lock:
            if self._state == "abandoned":
                return False
            self._state = "committing"
            return True


class Writer:
    """The database file, its writer thread and its read-only reader thread."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._executor: ThreadPoolExecutor | None = None
        self._reader: ThreadPoolExecutor | None = None
        self._db: Database | None = None
        self._read_db: Database | None = None
        self.owner_thread: int | None = None
        # Tests set this to run on the writer thread just before a commit (a slow disk).
        self.before_commit: Callable[[], None] | None = None

    # -- opening and closing ------------------------------------------------------------------

    async def open(self) -> None:
        """Start the owning thread, open the database there and bring the schema up to date."""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        await self._run(self._open_in_thread)
        if str(self.path) != ":memory:":
            self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-reader")
            await asyncio.get_running_loop().run_in_executor(self._reader, self._open_reader)

    def _open_in_thread(self) -> None:
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        db = Database(self.path)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        db.execute("PRAGMA foreign_keys=ON")
        # In WAL mode NORMAL is durable across a crash or kill -9 of the process (the commit is
        # in the WAL file the moment COMMIT returns); only a power cut can lose the last commits.
        db.execute("PRAGMA synchronous=NORMAL")
        # Deleted rows are overwritten, not left in free pages: an anonymous check's key and
        # hashes, deleted when it closes, must not stay readable in the file.
        db.execute("PRAGMA secure_delete=ON")
        migrations.apply(db)
        self._db = db
        self.owner_thread = threading.get_ident()

    def _open_reader(self) -> None:
        conn = sqlite3.connect(f"file:{self.path.resolve()}?mode=ro", uri=True)
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        self._read_db = Database(conn)

    async def close(self) -> None:
        if self._reader is not None:
            if self._read_db is not None:
                read_db = self._read_db
                await asyncio.get_running_loop().run_in_executor(self._reader, read_db.close)
                self._read_db = None
            self._reader.shutdown(wait=True)
            self._reader = None
        if self._executor is None:
            return
        if self._db is not None:
            await self._run(self._db.close)
            self._db = None
        self._executor.shutdown(wait=True)
        self._executor = None

    # -- running work on the threads ----------------------------------------------------------

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
        """Run `fn(db)` on the owning thread, outside any transaction: for tests and one-offs."""
        return await self._run(lambda: fn(self.db))

    async def scrub(self) -> bool:
        """Empty the write-ahead log into the database file (`wal_checkpoint(TRUNCATE)`):
        the WAL keeps each commit's pages in order, which could tell what was written together;
        the database file keeps only where rows belong. False if a reader was in the way."""

        def checkpoint(db: Database) -> bool:
            # Without waiting: with a reader in the way TRUNCATE would wait out busy_timeout,
            # holding up every write behind it (and the person whose question it follows).
            before = db.execute("PRAGMA busy_timeout").fetchone()[0]
            db.execute("PRAGMA busy_timeout = 0")
            try:
                return not db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            finally:
                db.execute(f"PRAGMA busy_timeout = {int(before)}")

        return await self.call(checkpoint)

    async def write(self, fn: Callable[[Database], T], *, timeout: float | None = None) -> T:
        """Run `fn(db)` in one transaction on the writer thread and commit it.

        With `timeout`, raise `WriteTimeout` if it has not begun committing by then; it is then
        rolled back (or never started), so nothing of it is kept.
        """
        job = _Job()
        loop = asyncio.get_running_loop()
        # A plain future and a timer rather than wait_for(shield(…)): this is every click's path,
        # and those make two tasks per write.
        waiter: asyncio.Future[T] = loop.create_future()

        def settle(done: Future[T]) -> None:  # on the event loop, once the thread has finished
            if waiter.done():  # abandoned: the caller has its WriteTimeout already
                _expected_failure(done)
            elif done.exception() is not None:
                waiter.set_exception(done.exception())  # type: ignore[arg-type]
            else:
                waiter.set_result(done.result())

        submitted = self._executor_or_raise().submit(self._transaction, fn, job)
        submitted.add_done_callback(lambda done: loop.call_soon_threadsafe(settle, done))
        timer = None
        if timeout is not None:

            def expire() -> None:
                # Only a write that has not begun committing can be given up; one that has
                # will report its real outcome through `settle`.
                if not waiter.done() and job.abandon():
                    waiter.set_exception(
                        WriteTimeout(f"the write did not commit within {timeout:.1f} s")
                    )

            timer = loop.call_later(timeout, expire)
        try:
            return await waiter
        except asyncio.CancelledError:
            job.abandon()
            raise
        finally:
            if timer is not None:
                timer.cancel()

    def _executor_or_raise(self) -> ThreadPoolExecutor:
        if self._executor is None:
            raise RuntimeError("storage is not open")
        return self._executor

    def _transaction(self, fn: Callable[[Database], T], job: _Job) -> T:
        if not job.may_start():
            raise _Abandoned
        db = self.db
        # IMMEDIATE takes the write lock at once: a deferred BEGIN that reads first can fail
        # with SQLITE_BUSY half-way instead of waiting for the lock.
        db.execute("BEGIN IMMEDIATE")
        try:
            result = fn(db)
            if self.before_commit is not None:
                self.before_commit()
            if not job.may_commit():
                raise _Abandoned
            db.execute("COMMIT")
        except BaseException:
            if db.conn.in_transaction:
                db.execute("ROLLBACK")
            raise
        return result

    async def read(self, fn: Callable[[Database], T]) -> T:
        """Run a read-only `fn(db)` on the reader thread: it never waits behind writes."""
        if self._reader is None:  # an in-memory database has one connection only
            return await self.call(fn)
        read_db = self._read_db
        assert read_db is not None
        return await asyncio.get_running_loop().run_in_executor(self._reader, fn, read_db)


def _expected_failure(future: asyncio.Future[Any] | Future[Any]) -> None:
    """Collect an abandoned write's outcome so asyncio does not report it as never retrieved."""
    if future.cancelled():
        return
    error = future.exception()
    if error is not None and not isinstance(error, _Abandoned):
        logger.warning("an abandoned write failed: %s", error.__class__.__name__)
