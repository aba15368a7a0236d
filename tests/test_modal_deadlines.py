"""Every modal opens within Slack's 3 s, however slow Slack is behind it.

A `trigger_id` opens a modal for 3 s after the command or click; the stand-in answers
`expired_trigger_id` after that, as Slack does. Each test slows the Slack call the modal's
content waits on (`slack.latency`, or a 429 with a long Retry-After) past the whole budget: the
bot must show "One moment…" at once and fill it in when Slack answers, not open late.
"""

from __future__ import annotations

import logging

import pytest

from bot.comprehension import FOLLOW_UP_ACTION
from bot.slack.views import LOADING
from handlers.briefings.compose import COMPOSE_CALLBACK, ONLY_MANAGERS
from handlers.checks.blocks import FOLLOW_UP_CALLBACK
from handlers.surgery.blocks import ASK_CALLBACK, MESSAGE_SHORTCUT
from slack_standin import Workspace
from slack_standin.harness import eventually
from tests.conftest import (
    ENGAGEMENT_LEAD,
    SENIOR_MANAGER,
    SOCIAL_WORK_ALL,
    SOCIAL_WORKERS,
    publish_confirmed,
)

SLOW = 3.2  # seconds: more than a trigger's whole life

BRIEFING = """---
id: duty-changes
title: Changes to the duty system
audience: ["@social-workers"]
deliver: dm
acknowledge: true
check:
  questions:
    - ask: Who takes a new referral out of hours?
      options: ["The team manager", "The emergency duty team"]
      answer: "The emergency duty team"
      explain: Out of hours, new referrals go to the emergency duty team.
---
The duty system changes on Monday.
"""


@pytest.fixture
def workspace():
    """Enough staff for a check's results to be shown (and with them the follow-up buttons)."""
    return Workspace.sample(n_staff=20)


@pytest.fixture
def content_dir(tmp_path):
    """The shipped content, plus a briefing with a check (for the follow-up button)."""
    import shutil

    from tests.conftest import REPO

    folder = tmp_path / "content"
    shutil.copytree(REPO / "content", folder)
    (folder / "briefings" / "duty-changes.md").write_text(BRIEFING, encoding="utf-8")
    return folder


def modal_opens(slack) -> list:
    return slack.calls_to("views.open")


def loading_shown(slack, since: int = 0) -> bool:
    return any(
        call.ok and LOADING in str(call.args.get("view")) for call in modal_opens(slack)[since:]
    )


def cold_user_groups(bot) -> None:
    """The user-group list held is no longer trusted (as after a missed event or 10 minutes):
    the next role check asks Slack."""
    bot.deps.usergroups.expire("a test wants the next role check to ask Slack")


async def test_brief_alone_opens_the_composer_in_time_when_the_role_check_is_slow(
    slack, bot, driver
):
    cold_user_groups(bot)
    slack.latency["usergroups.list"] = SLOW
    await driver.slash_command(SENIOR_MANAGER, "/brief")
    assert await bot.work.idle(20)
    assert [c.error for c in modal_opens(slack)] == [None]
    assert loading_shown(slack)
    [view] = slack.views_for(SENIOR_MANAGER)
    assert view["callback_id"] == COMPOSE_CALLBACK  # filled in once Slack answered
    assert view["title"]["text"] == "New briefing"


async def test_a_429_on_the_role_check_never_delays_the_composer(slack, bot, driver):
    cold_user_groups(bot)
    slack.force_ratelimit("usergroups.list", retry_after=4)
    await driver.slash_command(SENIOR_MANAGER, "/brief")
    assert await bot.work.idle(20)
    assert [c.error for c in modal_opens(slack)] == [None]
    [view] = slack.views_for(SENIOR_MANAGER)
    assert view["callback_id"] == COMPOSE_CALLBACK


async def test_brief_alone_for_someone_else_on_a_slow_check_says_no_in_the_modal_and_helps(
    slack, bot, driver
):
    cold_user_groups(bot)
    slack.latency["usergroups.list"] = SLOW
    worker = SOCIAL_WORKERS[0]
    await driver.slash_command(worker, "/brief")
    assert await bot.work.idle(20)
    [view] = slack.views_for(worker)
    assert ONLY_MANAGERS in str(view["blocks"])
    assert [s for s in slack.seen_by(worker) if s.kind == "response"]  # the help, as ever


async def test_brief_alone_with_a_quick_role_check_opens_the_composer_straight_away(
    slack, bot, driver
):
    await driver.slash_command(SENIOR_MANAGER, "/brief")
    assert await bot.work.idle(20)
    assert not loading_shown(slack)  # no "One moment…" flash when nothing is slow
    [view] = slack.views_for(SENIOR_MANAGER)
    assert view["callback_id"] == COMPOSE_CALLBACK
    worker = SOCIAL_WORKERS[0]
    await driver.slash_command(worker, "/brief")
    assert await bot.work.idle(20)
    assert slack.views_for(worker) == []  # a quick no is the help, privately, as before


async def test_ask_about_this_opens_in_time_when_slack_is_slow_to_say_where_the_message_is(
    slack, bot, driver
):
    slack.latency["conversations.info"] = 2.0
    slack.latency["chat.getPermalink"] = 1.5
    asker = SOCIAL_WORKERS[0]
    message = slack.add_user_message(SOCIAL_WORKERS[1], SOCIAL_WORK_ALL, "New rota from Monday")
    await driver.message_shortcut(asker, message, MESSAGE_SHORTCUT)
    assert await bot.work.idle(20)
    assert [c.error for c in modal_opens(slack)] == [None]
    assert loading_shown(slack)
    [view] = slack.views_for(asker)
    assert view["callback_id"] == ASK_CALLBACK
    assert f"/archives/{SOCIAL_WORK_ALL}/p" in str(view["blocks"])  # the link, once known


async def test_closing_the_one_moment_modal_breaks_nothing(slack, bot, driver, caplog):
    caplog.set_level(logging.INFO)
    slack.latency["conversations.info"] = 2.0
    asker = SOCIAL_WORKERS[0]
    message = slack.add_user_message(SOCIAL_WORKERS[1], SOCIAL_WORK_ALL, "New rota from Monday")
    await driver.message_shortcut(asker, message, MESSAGE_SHORTCUT)
    await eventually(lambda: bool(slack.views_for(asker)), "open a modal", 3)
    [loading] = slack.views_for(asker)
    assert LOADING in str(loading["blocks"])
    await driver.close_view(asker, loading)  # the person did not wait
    assert await bot.work.idle(20)
    assert slack.views_for(asker) == []  # nothing reopened over their work
    assert [c.error for c in slack.calls_to("views.update")] == ["not_found"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    del slack.latency["conversations.info"]
    await driver.message_shortcut(asker, message, MESSAGE_SHORTCUT)  # and it works again
    assert await bot.work.idle(20)
    [view] = slack.views_for(asker)
    assert view["callback_id"] == ASK_CALLBACK


async def test_the_follow_up_button_opens_in_time_when_the_role_check_is_slow(slack, bot, driver):
    await publish_confirmed(driver, bot, "publish duty-changes")
    assert await bot.outbox.idle(30)
    await driver.slash_command(ENGAGEMENT_LEAD, "/engage", "results duty-changes")
    assert await bot.work.idle(20)
    [results] = [s for s in slack.seen_by(ENGAGEMENT_LEAD) if s.kind == "response"]
    cold_user_groups(bot)
    slack.latency["usergroups.list"] = SLOW
    since = len(modal_opens(slack))
    await driver.click(ENGAGEMENT_LEAD, results, f"{FOLLOW_UP_ACTION}_none")
    assert await bot.work.idle(20)
    assert [c.error for c in modal_opens(slack)[since:]] == [None]
    assert loading_shown(slack, since)
    [modal] = slack.views_for(ENGAGEMENT_LEAD)
    assert modal["callback_id"] == FOLLOW_UP_CALLBACK
