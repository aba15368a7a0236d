"""Timed work (APScheduler 3), wrapped the way python-telegram-bot wraps it in its JobQueue.

The database is the single source of truth: jobs live in APScheduler's memory store and are rebuilt
from our own tables at every start, so a restart never loses or duplicates a scheduled send.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot import metrics
from bot.storage import Storage

logger = logging.getLogger(__name__)

# A job that could not run on time (the process was down or the loop was busy) still runs if it
# is at most this late; older runs are skipped and `coalesce` folds a backlog into one run.
MISFIRE_GRACE_SECONDS = 15 * 60

PRUNE_EVENTS_JOB = "housekeeping:prune-events"
# Slack retries an event for about five minutes; keep ids well beyond that.
EVENT_MEMORY = timedelta(hours=24)


class Scheduler:
    """Owns the `AsyncIOScheduler`; start it from inside the running event loop."""

    def __init__(self, storage: Storage, timezone: ZoneInfo):
        self.storage = storage
        self.timezone = timezone
        self._scheduler = AsyncIOScheduler(
            timezone=timezone,
            job_defaults={
                "coalesce": True,
                "misfire_grace_time": MISFIRE_GRACE_SECONDS,
                "max_instances": 1,
            },
        )

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def start(self) -> None:
        """Rebuild every job from the database, then start (APScheduler needs the running loop)."""
        self.rebuild()
        self._scheduler.start()

    def rebuild(self) -> None:
        """(Re)create the jobs; stable ids make this idempotent."""
        self.every(PRUNE_EVENTS_JOB, self.prune_events, seconds=3600, run_at_start=False)

    def every(
        self,
        job_id: str,
        func: Callable[[], Awaitable[object]],
        *,
        seconds: float,
        run_at_start: bool = True,
    ) -> None:
        """Run `func` every `seconds`, and (by default) once at start: a poll over our own
        tables, which is how work due while the bot was down is caught up."""
        self.add_job(
            job_id,
            func,
            IntervalTrigger(seconds=seconds, timezone=self.timezone),
            run_at_start=run_at_start,
        )

    def daily(
        self,
        job_id: str,
        func: Callable[[], Awaitable[object]],
        *,
        at: clock_time,
        days: Collection[int] = range(7),
        run_at_start: bool = False,
    ) -> None:
        """Run `func` at `at` (in the service's time zone) on `days` (0 = Monday)."""
        names = ",".join(("mon", "tue", "wed", "thu", "fri", "sat", "sun")[d] for d in sorted(days))
        trigger = CronTrigger(
            day_of_week=names or "mon-fri",
            hour=at.hour,
            minute=at.minute,
            timezone=self.timezone,
        )
        self.add_job(job_id, func, trigger, run_at_start=run_at_start)

    def at(self, job_id: str, func: Callable[[], Awaitable[object]], when: datetime) -> None:
        """Run `func` once at `when` (aware). A time kept in our tables is the truth: this only
        wakes the bot for it."""
        self.add_job(job_id, func, DateTrigger(run_date=when, timezone=self.timezone))

    def add_job(
        self,
        job_id: str,
        func: Callable[[], Awaitable[object]],
        trigger: BaseTrigger,
        *,
        run_at_start: bool = False,
    ) -> None:
        """Add or replace a job, logging its outcome and timing each time it runs.

        `run_at_start` also runs it as soon as the scheduler starts (catching up on a stop).
        """

        async def timed() -> None:
            started = time.perf_counter()
            try:
                await func()
            except asyncio.CancelledError:
                # The bot is stopping mid-run (a start-up catch-up, the purge): what was
                # committed stays, the rest runs next time. Not a failure to log as one.
                logger.info(
                    "job %s stopped after %.0f ms: the bot is stopping", job_id, _ms(started)
                )
                return
            except Exception:
                logger.exception("job %s failed after %.0f ms", job_id, _ms(started))
                metrics.job_ran(job_id, ok=False)
            else:
                logger.info("job %s ok in %.0f ms", job_id, _ms(started))
                metrics.job_ran(job_id, ok=True)

        first = {"next_run_time": datetime.now(self.timezone)} if run_at_start else {}
        self._scheduler.add_job(timed, trigger=trigger, id=job_id, replace_existing=True, **first)

    async def run_now(self, job_id: str) -> None:
        """Run a job at once, as its trigger would (for tests with a controlled clock)."""
        job = self._scheduler.get_job(job_id)
        if job is None:
            raise KeyError(job_id)
        await job.func()

    def job_ids(self) -> list[str]:
        return sorted(job.id for job in self._scheduler.get_jobs())

    def next_run(self, job_id: str) -> datetime | None:
        job = self._scheduler.get_job(job_id)
        return None if job is None else job.next_run_time

    async def prune_events(self) -> None:
        await self.storage.events.prune_events(datetime.now(UTC) - EVENT_MEMORY)

    async def shutdown(self) -> None:
        """Stop timing jobs. AsyncIOScheduler stops on the loop's next turn, so yield to it."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
            while self._scheduler.running:  # noqa: ASYNC110 (no event to wait on)
                await asyncio.sleep(0)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
