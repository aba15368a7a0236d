"""The scheduler: started in the running loop, jobs rebuilt from our tables, stable ids."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.scheduler import MISFIRE_GRACE_SECONDS, PRUNE_EVENTS_JOB, Scheduler

LONDON = ZoneInfo("Europe/London")


async def test_starting_rebuilds_the_housekeeping_job_once(storage):
    scheduler = Scheduler(storage, LONDON)
    scheduler.start()
    try:
        assert scheduler.running
        scheduler.rebuild()  # a second rebuild replaces, never duplicates
        assert scheduler.job_ids() == [PRUNE_EVENTS_JOB]
        next_run = scheduler.next_run(PRUNE_EVENTS_JOB)
        assert next_run is not None
        assert next_run.tzinfo is not None
        assert timedelta(0) < next_run - datetime.now(UTC) <= timedelta(hours=1)
    finally:
        await scheduler.shutdown()
    assert not scheduler.running


async def test_jobs_coalesce_and_have_a_deliberate_misfire_grace(storage):
    scheduler = Scheduler(storage, LONDON)
    scheduler.start()
    try:
        job = scheduler._scheduler.get_job(PRUNE_EVENTS_JOB)
        assert job.coalesce is True
        assert job.misfire_grace_time == MISFIRE_GRACE_SECONDS
        assert job.max_instances == 1
    finally:
        await scheduler.shutdown()


async def test_the_prune_job_forgets_old_event_ids(storage):
    old = datetime.now(UTC) - timedelta(days=3)
    await storage.events.first_delivery("EvOld", old)
    await storage.events.first_delivery("EvNew", datetime.now(UTC))
    await Scheduler(storage, LONDON).prune_events()
    assert await storage.events.first_delivery("EvOld", datetime.now(UTC)) is True
    assert await storage.events.first_delivery("EvNew", datetime.now(UTC)) is False
