"""Home is republished after the acts that change it, without anyone reopening it, end to end
against the stand-in with the bot's clock in the test's hands: a lead's dashboard shows the new
released figure after a burst of acknowledgements, republished once per interval however many
came; a briefing's delivery refreshes the Homes of those it reached who look at Home, and of the
leads; nobody's Home is republished who never opened it (it is rebuilt when they do)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.home import REFRESH_JOB, REFRESH_SECONDS
from handlers.briefings import ACK_ACTION
from slack_standin import Workspace
from tests.clocks import Clock
from tests.conftest import ENGAGEMENT_LEAD, SENIOR_MANAGER, publish_confirmed
from tests.conftest import copy_titled as copy_of

LONDON = ZoneInfo("Europe/London")
ALLOWANCES = """---
id: fostering-allowances
title: New fostering allowances
audience: ["@social-workers"]
deliver: dm
acknowledge: true
---
Allowances rise from December.
"""
IN_CHANNEL = """---
id: duty-rota
title: The new duty rota
audience: ["#social-work-all"]
deliver: channel
acknowledge: true
---
The rota changes on Monday.
"""


@pytest.fixture
def workspace():
    return Workspace.sample(n_staff=30 + 6)


@pytest.fixture
def content_dir(tmp_path):
    folder = tmp_path / "content" / "briefings"
    folder.mkdir(parents=True)
    (folder / "fostering-allowances.md").write_text(ALLOWANCES, encoding="utf-8")
    (folder / "duty-rota.md").write_text(IN_CHANNEL, encoding="utf-8")
    return tmp_path / "content"


@pytest.fixture
def clock():
    return Clock(datetime(2026, 11, 2, 9, tzinfo=LONDON))


def publishes_to(slack, user: str) -> int:
    """How many times the bot published `user`'s Home (views.publish), as Slack saw it."""
    return sum(1 for c in slack.calls_to("views.publish") if c.args.get("user_id") == user)


def home_text(slack, user: str) -> str:
    return json.dumps(slack.home_view(user), ensure_ascii=False)


async def refresh(bot) -> None:
    """The refresh job's run, as its interval would run it."""
    await bot.scheduler.run_now(REFRESH_JOB)


async def test_a_burst_of_acknowledgements_republishes_a_leads_home_once_an_interval(
    slack, bot, driver, clock
):
    people = sorted(slack.workspace.usergroups["S0SWS"].users)
    assert len(people) == 30
    await publish_confirmed(driver, bot, "publish fostering-allowances")
    assert await bot.outbox.idle(30)
    # The briefing's delivery changed the lead's dashboard (a new briefing, its reach): the
    # refresh job finds it in the outbox and republishes the lead's Home, never opened.
    assert slack.home_view(ENGAGEMENT_LEAD) is None
    await refresh(bot)
    assert publishes_to(slack, ENGAGEMENT_LEAD) == 1
    before = home_text(slack, ENGAGEMENT_LEAD)
    assert "*New fostering allowances*" in before
    assert "Acknowledged: held back" in before

    clock.now += timedelta(seconds=1)
    for person in people[:20]:  # a burst, each marking the lead's Home stale
        await driver.click(person, copy_of(slack, person, "fostering allowances"), ACK_ACTION)
    await bot.work.idle()
    for _ in range(3):  # runs within the interval of the last publish: none republishes
        await refresh(bot)
    assert publishes_to(slack, ENGAGEMENT_LEAD) == 1
    assert home_text(slack, ENGAGEMENT_LEAD) == before

    clock.now += timedelta(seconds=REFRESH_SECONDS)
    for _ in range(3):  # the interval passed: one republish for the whole burst
        await refresh(bot)
    assert publishes_to(slack, ENGAGEMENT_LEAD) == 2
    after = home_text(slack, ENGAGEMENT_LEAD)
    assert "Acknowledged: *20* of the 30 reached (67%)" in after
    assert "held back" not in after
    # Nothing more happened: nothing more is published, whatever the clock says.
    clock.now += timedelta(seconds=REFRESH_SECONDS)
    await refresh(bot)
    assert publishes_to(slack, ENGAGEMENT_LEAD) == 2


async def test_delivery_and_acknowledging_refresh_only_the_homes_people_opened(
    slack, bot, driver, clock
):
    people = sorted(slack.workspace.usergroups["S0SWS"].users)
    looking, away = people[0], people[1]
    for user in (looking, SENIOR_MANAGER):
        await driver.app_home_opened(user)
    await bot.work.idle()
    assert "all caught up" in home_text(slack, looking)

    await publish_confirmed(driver, bot, "publish fostering-allowances")
    assert await bot.outbox.idle(30)
    clock.now += timedelta(seconds=REFRESH_SECONDS)
    await refresh(bot)
    # Delivered: the briefing waits on the Home of whoever looks at it; the publisher's Home
    # shows its delivery; a Home never opened is left to be built when it is.
    assert "New fostering allowances" in home_text(slack, looking)
    assert "all caught up" not in home_text(slack, looking)
    assert "Your latest broadcasts" in home_text(slack, SENIOR_MANAGER)
    assert "30 of 30 delivered" in home_text(slack, SENIOR_MANAGER)
    assert publishes_to(slack, away) == 0

    # Acknowledged from the message, not from Home: their Home follows at the next run.
    await driver.click(looking, copy_of(slack, looking, "fostering allowances"), ACK_ACTION)
    await driver.click(away, copy_of(slack, away, "fostering allowances"), ACK_ACTION)
    await bot.work.idle()
    assert "all caught up" not in home_text(slack, looking)
    clock.now += timedelta(seconds=REFRESH_SECONDS)
    await refresh(bot)
    assert "all caught up" in home_text(slack, looking)
    assert publishes_to(slack, away) == 0


async def test_a_channel_post_refreshes_the_homes_of_its_members_who_look(
    slack, bot, driver, clock
):
    members = sorted(m for m in slack.workspace.channels["C0SWALL"].members if m != "U0BOT")
    looking = members[0]
    await driver.app_home_opened(looking)
    await bot.work.idle()
    await publish_confirmed(driver, bot, "publish duty-rota")
    assert await bot.outbox.idle(30)
    clock.now += timedelta(seconds=REFRESH_SECONDS)
    await refresh(bot)
    assert "The new duty rota" in home_text(slack, looking)  # reached by the post: it waits
    assert all(publishes_to(slack, m) == 0 for m in members[1:] if m != ENGAGEMENT_LEAD)
