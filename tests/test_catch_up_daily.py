"""Catch-up through the running bot: its Home refreshes and its daily timing."""

from __future__ import annotations

from datetime import datetime

from handlers.briefings import catchup
from tests.conftest import SOCIAL_WORK_ALL
from tests.test_catch_up import NEWCOMER, content_dir, publish, settle, workspace  # noqa: F401


async def test_reconcile_refreshes_only_the_newcomers_home(slack, bot, driver):
    await publish(driver, bot, "recruitment-funding")  # #social-work-all, deliver: channel
    slack.workspace.channels[SOCIAL_WORK_ALL].members.append(NEWCOMER)  # the event was lost
    before = len(slack.calls_to("views.publish"))
    caught = await catchup.reconcile(bot.deps)
    await settle(bot)
    assert caught.on_home == 1
    published = len(slack.calls_to("views.publish")) - before
    assert published == 1, published


async def test_the_daily_catch_up_keeps_to_working_days_and_hours(bot):
    job = bot.deps.scheduler._scheduler.get_job(catchup.JOB)
    tz = bot.deps.config.timezone
    friday_evening = datetime(2026, 12, 4, 19, 0, tzinfo=tz)
    nxt = job.trigger.get_next_fire_time(None, friday_evening)
    assert nxt.weekday() in bot.deps.config.working_days, nxt
    assert (nxt.hour, nxt.minute) == (8, 0)  # the start of working hours, Monday


async def test_someone_who_joins_at_night_is_sent_it_in_the_morning(bot):
    tz = bot.deps.config.timezone
    bot.deps.clock = lambda: datetime(2026, 12, 4, 22, 30, tzinfo=tz)  # Friday night
    assert catchup.next_working_time(bot.deps) == datetime(2026, 12, 7, 8, 0, tzinfo=tz)
    bot.deps.clock = lambda: datetime(2026, 12, 7, 9, 15, tzinfo=tz)  # Monday morning
    assert catchup.next_working_time(bot.deps) == datetime(2026, 12, 7, 9, 15, tzinfo=tz)
