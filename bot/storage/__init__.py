"""Durable storage: SQLite through sqlite-utils, one writer thread, one module per area.

`Storage` is what the app holds and hands to features through `Deps`: the writer thread and its
plumbing (`writer.py`), and one object of named operations per area (`publications.py`,
`acknowledgements.py`, `events.py`, `outbox.py`, `schedules.py`, `confirmations.py`,
`reminders.py`, `catchup.py`, `audit.py` (who looked at what about people), `checks.py`
(over `check_keys.py`, `check_results.py` and `follow_ups.py`), `questions.py`,
`practice.py`, `drafts.py`, `circulars.py`, `dashboard.py` (what Home's dashboard reads of
what was sent)), all on that same thread; `disclosure.py` is the one way out for figures
about staff (over `figures.py`). A new feature adds a module here with its operations, and a
migration to `migrations.py`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from sqlite_utils import Database

from bot.storage.acknowledgements import Acknowledgements, AckResult
from bot.storage.audit import Audit
from bot.storage.catchup import CatchUps
from bot.storage.checks import Checks
from bot.storage.circulars import Circulars
from bot.storage.confirmations import Confirmations
from bot.storage.dashboard import Dashboard
from bot.storage.digests import Digests
from bot.storage.disclosure import Disclosure
from bot.storage.drafts import Drafts
from bot.storage.events import Events
from bot.storage.outbox import Outbox
from bot.storage.publications import Publications
from bot.storage.questions import Questions
from bot.storage.reminders import Reminders
from bot.storage.restores import Restores
from bot.storage.retention import Purge
from bot.storage.schedules import Schedules
from bot.storage.search_gaps import PracticeGaps
from bot.storage.writer import Writer, WriteTimeout, utc_iso

__all__ = ["AckResult", "Storage", "WriteTimeout", "utc_iso"]

T = TypeVar("T")


class Storage:
    """The bot's database. Open with `await storage.open()`, close with `await storage.close()`."""

    def __init__(self, path: Path | str, *, min_group_size: int = 10, secret: bytes | None = None):
        """`secret` is the key anonymous checks' one-attempt hashes are made with, never kept
        in the database (the app passes the anonymity key; left out, one for this process)."""
        self.writer = Writer(path)
        self.publications = Publications(self.writer)
        self.acknowledgements = Acknowledgements(self.writer)
        self.events = Events(self.writer)
        self.outbox = Outbox(self.writer)
        self.schedules = Schedules(self.writer)
        self.confirmations = Confirmations(self.writer)
        self.reminders = Reminders(self.writer)
        self.catchups = CatchUps(self.writer)
        self.audit = Audit(self.writer)
        self.disclosure = Disclosure(self.writer, min_group_size)
        self.checks = Checks(
            self.writer, secret=secret or secrets.token_bytes(32), min_group=min_group_size
        )
        self.questions = Questions(self.writer)
        self.gaps = PracticeGaps(self.writer)
        self.drafts = Drafts(self.writer)
        self.circulars = Circulars(self.writer)
        self.digests = Digests(self.writer)
        self.restores = Restores(self.writer)
        self.retention = Purge(self.writer)  # the daily purge (bot/storage/retention.py)
        self.dashboard = Dashboard(self.writer)  # Home's reads of what was sent, not done

    @property
    def owner_thread(self) -> int | None:
        return self.writer.owner_thread

    @property
    def db(self) -> Database:
        """The connection, for code already on the owning thread; raises anywhere else."""
        return self.writer.db

    async def open(self) -> None:
        await self.writer.open()

    async def close(self) -> None:
        await self.writer.close()

    async def call(self, fn: Callable[[Database], T]) -> T:
        """Run `fn(db)` on the owning thread: for tests and one-off queries."""
        return await self.writer.call(fn)

    async def check_writable(self, now: datetime) -> bool:
        """Write a heartbeat row: the only proof that the database still takes writes."""

        def beat(db: Database) -> bool:
            db.execute(
                "INSERT INTO heartbeat (id, at) VALUES (1, ?)"
                " ON CONFLICT (id) DO UPDATE SET at = excluded.at",
                [utc_iso(now)],
            )
            return True

        try:
            return await self.writer.write(beat, timeout=2.0)
        except Exception:
            return False
