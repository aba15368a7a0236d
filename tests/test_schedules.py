"""Scheduled briefings: set for later, sent once when the time comes, across restarts; cancel.

Time is the bot's clock, set by each test, and the scheduled job is run directly: no sleeping.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

from bot.app import LineOfSight
from handlers.briefings import schedule
from slack_standin.harness import eventually, posts
from tests.conftest import ENGAGEMENT_LEAD, SENIOR_MANAGER, publish_confirmed

BRIEFING = "getting-to-good-seminars"  # publish_at: 2026-12-01 09:00 (London), deliver: both
BEFORE = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
AFTER = datetime(2026, 12, 1, 9, 1, tzinfo=UTC)
TEAM_MANAGERS = "C0TMS"


def replies(slack, user):
    return [s.text for s in slack.seen_by(user) if s.kind == "response"]


async def command(driver, bot, text, user=SENIOR_MANAGER):
    if text.startswith("publish"):  # confirmed, as a senior manager does
        await publish_confirmed(driver, bot, text, user=user)
        assert await bot.outbox.idle(30)
    else:
        await driver.slash_command(user, "/brief", text)
        await bot.work.idle()


async def fire(bot):
    """The schedule job's turn, and the outbox sending what it queued."""
    await schedule.send_due(bot.deps)
    assert await bot.outbox.idle(30)


async def test_a_briefing_for_later_is_scheduled_and_listed_and_nothing_is_sent(slack, bot, driver):
    bot.deps.clock = lambda: BEFORE
    await command(driver, bot, f"publish {BRIEFING}")
    assert (
        "is scheduled for 1 Dec 2026, 09:00. Nothing has been sent yet."
        in (replies(slack, SENIOR_MANAGER)[0])
    )
    await command(driver, bot, "scheduled", user=ENGAGEMENT_LEAD)
    [listing] = replies(slack, ENGAGEMENT_LEAD)
    assert '• 1 Dec 2026, 09:00 — *"Getting to good" seminars' in listing
    await fire(bot)  # not yet due
    assert posts(slack, TEAM_MANAGERS) == []


async def test_when_its_time_comes_it_goes_out_once(slack, bot, driver):
    bot.deps.clock = lambda: BEFORE
    await command(driver, bot, f"publish {BRIEFING}")
    bot.deps.clock = lambda: AFTER
    await fire(bot)
    await fire(bot)  # a second look finds nothing left to send
    assert len(posts(slack, TEAM_MANAGERS)) == 1
    told = [m.text for m in slack.messages(SENIOR_MANAGER) if "is on its way" in m.text]
    assert len(told) == 1
    await command(driver, bot, "scheduled")
    assert replies(slack, SENIOR_MANAGER)[-1] == "Nothing is scheduled."


async def test_a_schedule_survives_a_restart_and_fires_once(slack, bot, driver, config):
    bot.deps.clock = lambda: BEFORE
    await command(driver, bot, f"publish {BRIEFING}")
    await bot.stop()  # the bot is down at 09:00 …
    for restart in range(2):  # … comes back after it, twice over
        again = LineOfSight(replace(config), clock=lambda: AFTER)
        await again.start()  # the job runs at start, from what the database holds
        try:
            if restart == 0:
                await eventually(lambda: bool(posts(slack, TEAM_MANAGERS)), "send it", within=10)
            else:
                await asyncio.sleep(0.5)  # time enough to send it twice, if it were going to
            assert again.outbox is not None
            assert await again.outbox.idle(30)
        finally:
            await again.stop()
    assert len(posts(slack, TEAM_MANAGERS)) == 1


async def test_a_cancelled_schedule_never_goes_out(slack, bot, driver):
    bot.deps.clock = lambda: BEFORE
    await command(driver, bot, f"publish {BRIEFING}")
    await command(driver, bot, f"cancel {BRIEFING}")
    assert replies(slack, SENIOR_MANAGER)[-1].startswith(f"Cancelled `{BRIEFING}`")
    bot.deps.clock = lambda: AFTER
    await fire(bot)
    assert posts(slack, TEAM_MANAGERS) == []


async def test_cancelling_what_is_not_scheduled_says_so(slack, bot, driver):
    await command(driver, bot, "cancel recruitment-funding")
    assert (
        "is not scheduled or being sent, so there was nothing to cancel"
        in (replies(slack, SENIOR_MANAGER)[0])
    )


async def test_sending_it_now_retires_its_schedule(slack, bot, driver):
    bot.deps.clock = lambda: BEFORE
    await command(driver, bot, f"publish {BRIEFING}")
    await command(driver, bot, f"publish {BRIEFING} now")
    bot.deps.clock = lambda: AFTER
    await fire(bot)
    assert len(posts(slack, TEAM_MANAGERS)) == 1
    assert not [m for m in slack.messages(SENIOR_MANAGER) if "is on its way" in m.text]
    bot.deps.clock = lambda: BEFORE
    await command(driver, bot, f"publish {BRIEFING}")  # its time has not come, but it went
    assert "has gone out already" in replies(slack, SENIOR_MANAGER)[-1]


async def test_a_publish_at_moved_later_in_its_file_moves_the_schedule(
    slack, bot, driver, tmp_path, monkeypatch
):
    bot.deps.clock = lambda: BEFORE
    await command(driver, bot, f"publish {BRIEFING}")
    library = await schedule.load_library(bot.deps)
    later = replace(library[BRIEFING], publish_at=datetime(2026, 12, 2, 9, 0, tzinfo=UTC))

    async def edited(deps):
        return {**library, BRIEFING: later}

    monkeypatch.setattr(schedule, "load_library", edited)
    bot.deps.clock = lambda: AFTER  # past the old time, before the new one
    await fire(bot)
    assert posts(slack, TEAM_MANAGERS) == []
    await command(driver, bot, "scheduled")
    assert "2 Dec 2026, 09:00" in replies(slack, SENIOR_MANAGER)[-1]


async def test_the_publisher_can_choose_the_time(slack, bot, driver):
    bot.deps.clock = lambda: BEFORE
    await command(driver, bot, "publish recruitment-funding at 2026-12-03 08:30")
    assert "is scheduled for 3 Dec 2026, 08:30" in replies(slack, SENIOR_MANAGER)[-1]
    await command(driver, bot, "publish recruitment-funding at 2026-11-01 08:30")
    assert "1 Nov 2026, 08:30 has passed" in replies(slack, SENIOR_MANAGER)[-1]
    await command(driver, bot, "publish recruitment-funding at tomorrow")
    assert replies(slack, SENIOR_MANAGER)[-1].startswith("I can't read that time:")
    assert posts(slack, "C0SWALL") == []
    bot.deps.clock = lambda: datetime(2026, 12, 3, 8, 31, tzinfo=UTC)
    await fire(bot)
    assert len(posts(slack, "C0SWALL")) == 1
