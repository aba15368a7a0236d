"""Catch-up: someone who joins an audience later gets, once, what still asks for them.

By DM for DM audiences (a user group; a channel with `deliver: both`), on Home for channel
audiences; from Slack's events as they come, and from the daily reconciliation for what no event
announces.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import time, timedelta

import pytest

from handlers.briefings import catchup
from tests.conftest import REPO, SOCIAL_WORK_ALL, publish_confirmed

NEWCOMER = "U0NEW01"
BOTH = """---
id: duty-rota
title: The new duty rota starts on Monday
audience: ["#social-work-all"]
deliver: both
acknowledge: true
---
Check the rota for your first duty day.
"""


@pytest.fixture
def content_dir(tmp_path):
    folder = tmp_path / "content"
    shutil.copytree(REPO / "content", folder)
    (folder / "briefings" / "duty-rota.md").write_text(BOTH, encoding="utf-8")
    return folder


@pytest.fixture
def config(config):
    """Every hour a working hour, so what is caught up goes at once whenever the tests run."""
    return replace(config, working_hours=(time.min, time.max), working_days=frozenset(range(7)))


@pytest.fixture
def workspace(workspace):
    workspace.add_user(NEWCOMER, name="new.starter", real_name="New Starter", title="Social worker")
    return workspace


async def publish(driver, bot, briefing_id):
    await publish_confirmed(driver, bot, f"publish {briefing_id}")
    assert await bot.outbox.idle(30)


def briefings_held(slack, person):
    """The briefing copies in someone's DM with the bot, by title."""
    return [
        m.blocks[0]["text"]["text"]
        for m in slack.messages(person)
        if m.blocks and m.blocks[0]["type"] == "header"
    ]


async def waiting(bot, person):
    return sorted(r["briefing_id"] for r in await bot.storage.acknowledgements.awaiting_ack(person))


async def settle(bot):
    await bot.work.idle()
    assert await bot.outbox.idle(30)


async def test_joining_a_channel_audience_puts_its_briefing_on_home_once(slack, bot, driver):
    await publish(driver, bot, "recruitment-funding")  # #social-work-all, deliver: channel
    assert await waiting(bot, NEWCOMER) == []
    response = await driver.join_channel(NEWCOMER, SOCIAL_WORK_ALL)
    assert response is not None
    assert response.status == 200
    await settle(bot)
    assert await waiting(bot, NEWCOMER) == ["recruitment-funding"]
    home = slack.home_view(NEWCOMER)
    assert home is not None
    assert "What the extra recruitment money means" in str(home["blocks"])
    assert briefings_held(slack, NEWCOMER) == []  # the post is in the channel already
    await driver.send_event(  # Slack retries the event: nothing more happens
        {"type": "member_joined_channel", "user": NEWCOMER, "channel": SOCIAL_WORK_ALL},
        event_id=response.event_id,
    )
    slack.workspace.channels[SOCIAL_WORK_ALL].members.remove(NEWCOMER)
    await driver.join_channel(NEWCOMER, SOCIAL_WORK_ALL)  # leaves and comes back
    await settle(bot)
    assert len(slack.calls_to("views.publish")) == 1
    reached = await bot.storage.call(
        lambda db: db.execute(
            "SELECT COUNT(*) FROM recipients WHERE user_id = ?", [NEWCOMER]
        ).fetchone()[0]
    )
    assert reached == 1


async def test_joining_a_channel_that_was_messaged_directly_brings_one_dm(slack, bot, driver):
    await publish(driver, bot, "duty-rota")  # deliver: both
    await driver.join_channel(NEWCOMER, SOCIAL_WORK_ALL)
    await settle(bot)
    slack.workspace.channels[SOCIAL_WORK_ALL].members.remove(NEWCOMER)
    await driver.join_channel(NEWCOMER, SOCIAL_WORK_ALL)
    await settle(bot)
    assert briefings_held(slack, NEWCOMER) == ["The new duty rota starts on Monday"]


async def test_a_new_starter_in_a_user_group_audience_is_sent_it_once(slack, bot, driver):
    await publish(driver, bot, "threshold-document")  # @social-workers and @team-managers, by DM
    # Provisioned in @social-workers as they arrive: Slack says both, the bot sends one copy.
    await driver.set_usergroup_users(
        "S0SWS", [*slack.workspace.usergroups["S0SWS"].users, NEWCOMER]
    )
    await driver.team_join(NEWCOMER)
    await settle(bot)
    assert briefings_held(slack, NEWCOMER) == ["The revised Threshold Document is now in use"]
    await catchup.reconcile(bot.deps)  # the daily run finds nothing more to do
    await settle(bot)
    assert briefings_held(slack, NEWCOMER) == ["The revised Threshold Document is now in use"]
    [entry] = [
        e
        for e in await bot.storage.acknowledgements.by_entry("threshold-document", 2)
        if e["audience"] == "dm:@social-workers"
    ]
    assert entry["reached"] == 7  # six at first, and the newcomer


async def test_the_daily_reconciliation_catches_up_group_changes_no_event_announced(
    slack, bot, driver
):
    await publish(driver, bot, "threshold-document")
    slack.workspace.usergroups["S0TMS"].users.append(NEWCOMER)  # changed in Slack's admin pages
    await catchup.reconcile(bot.deps)
    await settle(bot)
    assert briefings_held(slack, NEWCOMER) == ["The revised Threshold Document is now in use"]
    before = len(slack.calls_to("chat.postMessage"))
    await catchup.reconcile(bot.deps)
    await settle(bot)
    assert len(slack.calls_to("chat.postMessage")) == before


async def test_bots_acknowledgers_and_old_briefings_are_not_caught_up(slack, bot, driver):
    slack.workspace.add_user("U0ROTA", name="rota-bot", real_name="Rota", is_bot=True)
    await publish(driver, bot, "duty-rota")
    slack.workspace.channels[SOCIAL_WORK_ALL].members.append("U0ROTA")
    await driver.send_event(
        {"type": "member_joined_channel", "user": "U0ROTA", "channel": SOCIAL_WORK_ALL}
    )
    await settle(bot)
    assert briefings_held(slack, "U0ROTA") == []
    later = bot.deps.clock() + timedelta(days=31)
    bot.deps.clock = lambda: later  # past CATCH_UP_DAYS (30)
    await driver.join_channel(NEWCOMER, SOCIAL_WORK_ALL)
    await settle(bot)
    assert briefings_held(slack, NEWCOMER) == []
