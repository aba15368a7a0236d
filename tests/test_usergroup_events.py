"""User groups kept by Slack's events (`bot/slack/usergroups.py`), against the stand-in at
Slack's own rate limits: sends make no user-group calls beyond the one list, a burst of them
stays within Tier 2, a person added to @senior-managers can publish as soon as Slack says so,
a person added to an audience group gets their catch-up copy at once (and once only, across a
restart), and a lost event is healed by the backstop."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import time

import pytest

from bot.app import LineOfSight
from bot.slack.usergroups import LISTED_FOR
from handlers.briefings import catchup
from slack_standin import SlackDriver
from slack_standin.ratelimit import METHOD_TIERS
from tests.conftest import (
    REPO,
    SENIOR_MANAGER,
    SIGNING_SECRET,
    SOCIAL_WORKERS,
    TEAM_MANAGER,
    publish_confirmed,
)

NEWCOMER = "U0NEW01"
THRESHOLD = "The revised Threshold Document is now in use"  # to "all-social-workers", by DM
# Every shipped briefing that asks something of a user group, and the rota below: six sends.
BURST = [
    "recording-system-workarounds",
    "threshold-document",
    "roadmap-to-excellence",
    "getting-to-good-seminars",
    "triple-lock",
    "duty-rota",
]
ROTA = """---
id: duty-rota
title: The new duty rota starts on Monday
audience: ["@team-managers", "@social-workers"]
deliver: dm
acknowledge: true
---
Check the rota for your first duty day.
"""


@pytest.fixture
def content_dir(tmp_path):
    folder = tmp_path / "content"
    shutil.copytree(REPO / "content", folder)
    (folder / "briefings" / "duty-rota.md").write_text(ROTA, encoding="utf-8")
    return folder


@pytest.fixture
def config(config):
    """TEAMS as a council sets it; every hour a working hour, so a catch-up goes at once."""
    return replace(
        config,
        teams=("@social-workers", "@team-managers"),
        working_hours=(time.min, time.max),
        working_days=frozenset(range(7)),
    )


@pytest.fixture
def workspace(workspace):
    workspace.add_user(NEWCOMER, name="new.starter", real_name="New Starter", title="Social worker")
    return workspace


def group_calls(slack) -> int:
    return len(slack.calls_to("usergroups.list")) + len(slack.calls_to("usergroups.users.list"))


def tier_2_refused(slack) -> list[str]:
    """Calls Slack refused (429) among its Tier 2 methods: user groups, users, channels."""
    return [
        c.method for c in slack.calls if c.http_status == 429 and METHOD_TIERS.get(c.method) == 2
    ]


def briefings_held(slack, person):
    return [
        m.blocks[0]["text"]["text"]
        for m in slack.messages(person)
        if m.blocks and m.blocks[0]["type"] == "header"
    ]


def replies_to(slack, person) -> list[str]:
    return [s.text for s in slack.seen_by(person) if s.kind == "response"]


async def settle(bot):
    await bot.work.idle()
    assert await bot.outbox.idle(30)


async def publish(driver, bot, briefing_id, user=SENIOR_MANAGER):
    await publish_confirmed(driver, bot, f"publish {briefing_id}", user=user)
    await settle(bot)


async def add_to(driver, group_id, *people):
    """Someone adds people to a user group in Slack: Slack tells the bot."""
    users = driver.ws.usergroups[group_id].users
    return await driver.set_usergroup_users(group_id, [*users, *people])


# -- sends ---------------------------------------------------------------------------------------


async def test_a_publish_to_teams_makes_no_user_group_calls_beyond_the_list_held(
    slack, bot, driver
):
    started = group_calls(slack)  # the start-up's checks (bot/doctor.py) list them once
    await publish(driver, bot, "recording-system-workarounds")
    listed = group_calls(slack)
    assert listed - started <= 1  # one list, every group and its members: roles, audience, TEAMS
    await publish(driver, bot, "threshold-document")
    assert group_calls(slack) == listed
    teams = await bot.storage.call(
        lambda db: db.execute("SELECT COUNT(*) FROM broadcast_teams").fetchone()[0]
    )
    assert teams  # the teams were kept with each broadcast, as before


async def test_a_burst_of_sends_stays_within_slacks_tier_2_limit(slack, bot, driver):
    started = group_calls(slack)
    for briefing_id in BURST:
        await publish(driver, bot, briefing_id)
    assert tier_2_refused(slack) == []
    assert group_calls(slack) - started <= 1  # Slack allows about 20 a minute
    replies = replies_to(slack, SENIOR_MANAGER)
    assert not [r for r in replies if "couldn't check" in r or "Try again" in r]
    titles = briefings_held(slack, SOCIAL_WORKERS[0])
    assert len(titles) == 5  # all but triple-lock (team managers only) reached this worker


# -- roles ---------------------------------------------------------------------------------------


async def test_someone_added_to_senior_managers_can_publish_right_after_the_event(
    slack, bot, driver
):
    await driver.slash_command(TEAM_MANAGER, "/brief", "publish triple-lock")
    await bot.work.idle()
    assert replies_to(slack, TEAM_MANAGER)[-1].startswith("Only senior managers can publish")
    before = group_calls(slack)
    [changed, updated] = await add_to(driver, "S0SMS", TEAM_MANAGER)
    assert changed.status == updated.status == 200
    await publish(driver, bot, "triple-lock", user=TEAM_MANAGER)
    assert "The triple-lock" in str(slack.messages("C0TMS")[-1].blocks)
    assert group_calls(slack) == before  # the event said so: Slack was not asked again


async def test_a_lost_event_is_healed_by_the_backstop(slack, bot, driver, monkeypatch):
    await driver.slash_command(TEAM_MANAGER, "/brief", "publish triple-lock")
    await bot.work.idle()
    # Added in Slack, but the event never reached the bot (a network blip, the bot restarting).
    members = slack.workspace.usergroups["S0SMS"].users
    slack.workspace.set_usergroup_users("S0SMS", [*members, TEAM_MANAGER], at=slack.clock())
    await driver.slash_command(TEAM_MANAGER, "/brief", "publish triple-lock")
    await bot.work.idle()
    assert replies_to(slack, TEAM_MANAGER)[-1].startswith("Only senior managers can publish")
    groups = bot.deps.usergroups
    later = groups._clock() + LISTED_FOR
    monkeypatch.setattr(groups, "_clock", lambda: later)  # ten minutes on: listed again
    await publish(driver, bot, "triple-lock", user=TEAM_MANAGER)
    assert "The triple-lock" in str(slack.messages("C0TMS")[-1].blocks)


async def test_a_gap_in_slacks_dates_lists_the_groups_again_at_once(slack, bot, driver):
    await publish(driver, bot, "triple-lock")  # the list is held
    listed = group_calls(slack)
    members = slack.workspace.usergroups["S0SMS"].users
    slack.workspace.set_usergroup_users("S0SMS", [*members, TEAM_MANAGER], at=slack.clock() + 1)
    await add_to(driver, "S0SMS", SOCIAL_WORKERS[0])  # this one arrives: its "before" is unknown
    assert await bot.deps.roles.is_senior_manager(TEAM_MANAGER, fresh=True)
    assert await bot.deps.roles.is_senior_manager(SOCIAL_WORKERS[0], fresh=True)
    assert group_calls(slack) == listed + 1


# -- catch-up ------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def running(config, slack) -> AsyncIterator[tuple[LineOfSight, SlackDriver]]:
    """The bot started on the configured database, and a driver for it; stopped after."""
    bot = LineOfSight(config)
    await bot.start()
    runner = await bot.listen("127.0.0.1", 0)
    try:
        async with SlackDriver(
            slack, bot_url=f"{bot.base_url}/slack/events", signing_secret=SIGNING_SECRET
        ) as driver:
            yield bot, driver
        await bot.work.idle()
    finally:
        await runner.cleanup()
        await bot.stop()


async def test_someone_added_to_an_audience_group_is_sent_it_once_across_a_restart(slack, config):
    async with running(config, slack) as (bot, driver):
        await publish(driver, bot, "threshold-document")
        assert briefings_held(slack, NEWCOMER) == []
        [changed, _] = await add_to(driver, "S0SWS", NEWCOMER)
        await settle(bot)
        assert briefings_held(slack, NEWCOMER) == [THRESHOLD]  # at once, not next morning
        event = {
            "type": "subteam_members_changed",
            "subteam_id": "S0SWS",
            "added_users": [NEWCOMER],
            "removed_users": [],
        }
        await driver.send_event(event, event_id=changed.event_id)  # Slack retries it
        await settle(bot)
    async with running(config, slack) as (bot, driver):  # a restart: its catch-up run
        await driver.send_event(event, event_id=changed.event_id)  # … and Slack's last retry
        await catchup.reconcile(bot.deps)  # and the next morning's run
        await settle(bot)
    assert briefings_held(slack, NEWCOMER) == [THRESHOLD]


async def queued_for(bot, person) -> int:
    return await bot.storage.call(
        lambda db: db.execute(
            "SELECT COUNT(*) FROM deliveries WHERE target = ?", [person]
        ).fetchone()[0]
    )


async def test_people_added_to_a_group_no_live_briefing_asked_for_get_nothing(slack, bot, driver):
    await publish(driver, bot, "triple-lock")  # @team-managers and #team-managers
    await add_to(driver, "S0SWS", NEWCOMER)  # nothing live went to @social-workers
    await settle(bot)
    assert await queued_for(bot, NEWCOMER) == 0
    await publish(driver, bot, "recording-system-workarounds")  # by DM to both groups
    slack.workspace.add_user("U0ROTA", name="rota-bot", real_name="Rota", is_bot=True)
    await add_to(driver, "S0TMS", "U0ROTA")  # a bot added to an audience group
    await settle(bot)
    assert await queued_for(bot, "U0ROTA") == 0
