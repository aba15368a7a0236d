"""Nothing goes out before its publisher confirms it: sizes first, then one send, whatever the
clicks. A big audience needs a second, explicit confirmation; an empty one is refused."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from urllib.parse import quote_plus

import pytest

from bot.slack.usergroups import LISTED_FOR, RETRY_SECONDS
from handlers.briefings import ROLE_UNCHECKED
from handlers.briefings.blocks import CANCEL_ACTION, CONFIRM_ACTION, CONFIRM_LARGE_ACTION
from tests.conftest import SENIOR_MANAGER, TEAM_MANAGER, newly_shown

BRIEFING = "recruitment-funding"  # #social-work-all, deliver: channel


def replies(slack, user=SENIOR_MANAGER):
    return [s.text for s in slack.seen_by(user) if s.kind == "response"]


def posts_made(slack):
    return [c for c in slack.calls_to("chat.postMessage") if c.ok and "metadata" in c.args]


async def ask(driver, bot, text=f"publish {BRIEFING}"):
    """`/brief publish …`: the confirmation it shows, with its buttons."""
    slack = driver.standin
    since = len(slack.seen_by(SENIOR_MANAGER))
    await driver.slash_command(SENIOR_MANAGER, "/brief", text)
    await bot.work.idle()
    shown = newly_shown(slack, SENIOR_MANAGER, since, CONFIRM_ACTION)
    assert shown is not None, replies(slack)
    return shown


async def click(driver, bot, shown, action=CONFIRM_ACTION, user=SENIOR_MANAGER):
    response = await driver.click(user, shown, action)
    assert response.status == 200
    await bot.work.idle()
    assert await bot.outbox.idle(30)


async def test_nothing_is_sent_until_the_publisher_confirms_and_then_once(slack, bot, driver):
    shown = await ask(driver, bot)
    assert posts_made(slack) == []
    assert await bot.storage.call(lambda db: db["deliveries"].count) == 0
    await click(driver, bot, shown)
    assert len(posts_made(slack)) == 1
    [reply] = replies(slack)  # the confirmation became what it did, in place
    assert "is on its way: a post in 1 channel" in reply
    assert not newly_shown(slack, SENIOR_MANAGER, 0, CONFIRM_ACTION)  # no button left


async def test_a_confirmation_clicked_twice_sends_once(slack, bot, driver):
    shown = await ask(driver, bot)
    token = shown.blocks[1]["elements"][0]["value"]
    await click(driver, bot, shown)
    await forged_click(driver, bot, SENIOR_MANAGER, CONFIRM_ACTION, token)  # a double click
    assert len(posts_made(slack)) == 1
    assert replies(slack)[-1] == "You confirmed this already: nothing more was sent."


async def forged_click(driver, bot, user, action, token):
    """A signed click on a confirmation `user` never saw (Slack would not show it to them)."""
    slack = driver.standin
    payload = {
        "type": "block_actions",
        "user": {"id": user},
        "team": {"id": slack.workspace.team_id},
        "api_app_id": slack.workspace.app_id,
        "actions": [{"action_id": action, "block_id": "confirm:actions", "value": token}],
        "container": {"type": "message", "is_ephemeral": True},
        "response_url": slack.issue_response_url(user, slack.workspace.im_with(user).id, None),
    }
    body = "payload=" + quote_plus(json.dumps(payload))
    response = await driver.raw_post(body, "application/x-www-form-urlencoded")
    assert response.status == 200
    await bot.work.idle()
    assert await bot.outbox.idle(30)


async def test_someone_elses_click_sends_nothing_and_the_publisher_can_still_confirm(
    slack, bot, driver
):
    shown = await ask(driver, bot)
    token = shown.blocks[1]["elements"][0]["value"]
    await forged_click(driver, bot, TEAM_MANAGER, CONFIRM_ACTION, token)
    await forged_click(driver, bot, TEAM_MANAGER, CANCEL_ACTION, token)
    assert posts_made(slack) == []
    assert (
        replies(slack, TEAM_MANAGER)
        == [f"Only <@{SENIOR_MANAGER}> can confirm or cancel this publish."] * 2
    )
    await click(driver, bot, shown)
    assert len(posts_made(slack)) == 1


async def test_a_token_nobody_issued_finds_nothing(slack, bot, driver):
    await forged_click(driver, bot, SENIOR_MANAGER, CONFIRM_ACTION, "made-up")
    assert posts_made(slack) == []
    assert replies(slack) == ["I can't find that publish any more, so nothing was sent."]


async def test_cancel_sends_nothing_and_a_late_confirm_cannot_undo_it(slack, bot, driver):
    shown = await ask(driver, bot)
    token = shown.blocks[1]["elements"][0]["value"]
    await click(driver, bot, shown, CANCEL_ACTION)
    assert replies(slack) == ["Cancelled: nothing was sent. `/brief publish` starts again."]
    await forged_click(driver, bot, SENIOR_MANAGER, CONFIRM_ACTION, token)
    assert posts_made(slack) == []
    assert await bot.storage.call(lambda db: db["publications"].count) == 0


async def test_a_confirmation_left_half_an_hour_is_counted_afresh(slack, bot, driver):
    shown = await ask(driver, bot)
    later = bot.deps.clock() + timedelta(minutes=31)
    bot.deps.clock = lambda: later
    await click(driver, bot, shown)
    assert posts_made(slack) == []
    assert "over 30 minutes old, so nothing was sent" in replies(slack)[-1]


def groups_later(bot, monkeypatch, seconds=LISTED_FOR):
    """The user groups' clock ten minutes on: the list held when the confirmation was shown is
    one Slack's events may no longer be keeping, so a publish click asks Slack again."""
    groups = bot.deps.usergroups
    before = groups._clock
    monkeypatch.setattr(groups, "_clock", lambda: before() + seconds)


async def test_someone_taken_off_senior_managers_before_the_click_sends_nothing(slack, bot, driver):
    shown = await ask(driver, bot)
    others = [u for u in slack.workspace.usergroups["S0SMS"].users if u != SENIOR_MANAGER]
    await driver.set_usergroup_users("S0SMS", others)  # Slack tells the bot as it happens
    looked_up = len(slack.calls_to("usergroups.list"))
    await click(driver, bot, shown)
    assert len(slack.calls_to("usergroups.list")) == looked_up  # the event said so: no call
    assert posts_made(slack) == []
    assert await bot.storage.call(lambda db: db["deliveries"].count) == 0
    assert replies(slack)[-1].startswith(
        "Only senior managers can send briefings, so nothing was sent."
    )
    status = await bot.storage.call(
        lambda db: [r[0] for r in db.execute("SELECT status FROM confirmations")]
    )
    assert status == ["asked"]  # not confirmed: nothing is queued or scheduled


async def test_someone_taken_off_with_the_event_lost_is_refused_once_the_list_is_old(
    slack, bot, driver, monkeypatch
):
    shown = await ask(driver, bot)
    slack.workspace.usergroups["S0SMS"].users.remove(SENIOR_MANAGER)  # no event reached us
    groups_later(bot, monkeypatch)
    looked_up = len(slack.calls_to("usergroups.list"))
    await click(driver, bot, shown)
    assert len(slack.calls_to("usergroups.list")) == looked_up + 1  # asked at the click
    assert posts_made(slack) == []
    assert replies(slack)[-1].startswith("Only senior managers can send briefings")


async def test_a_role_check_slack_fails_at_the_click_refuses_though_the_list_would_allow(
    slack, bot, driver, monkeypatch
):
    shown = await ask(driver, bot)
    groups_later(bot, monkeypatch)
    slack.force_error("usergroups.list", "fatal_error")
    await click(driver, bot, shown)
    assert posts_made(slack) == []
    assert await bot.storage.call(lambda db: db["deliveries"].count) == 0
    assert replies(slack)[-1] == ROLE_UNCHECKED
    assert await bot.deps.roles.is_senior_manager(SENIOR_MANAGER)  # the list held says yes
    groups_later(bot, monkeypatch, LISTED_FOR + RETRY_SECONDS)  # Slack is asked again
    await click(driver, bot, shown)  # the buttons stayed: once Slack answers, it goes
    assert len(posts_made(slack)) == 1


class TestABigAudience:
    @pytest.fixture
    def config(self, config):
        return replace(config, confirm_twice_above=5)  # #social-work-all has 12 people

    async def test_needs_a_second_explicit_confirmation(self, slack, bot, driver):
        shown = await ask(driver, bot)
        text = shown.blocks[0]["text"]["text"]
        assert "That is more than 5 people, so I'll ask you to confirm twice." in text
        await click(driver, bot, shown)
        assert posts_made(slack) == []
        [second] = [s for s in slack.seen_by(SENIOR_MANAGER) if s.kind == "response"]
        assert "goes to *12 people*: more than 5. " in second.blocks[0]["text"]["text"]
        await forged_click(driver, bot, SENIOR_MANAGER, CONFIRM_ACTION, "x")  # stray clicks
        assert posts_made(slack) == []
        await click(driver, bot, second, CONFIRM_LARGE_ACTION)
        assert len(posts_made(slack)) == 1

    async def test_the_second_button_alone_is_not_enough(self, slack, bot, driver):
        shown = await ask(driver, bot)
        token = shown.blocks[1]["elements"][0]["value"]
        await forged_click(driver, bot, SENIOR_MANAGER, CONFIRM_LARGE_ACTION, token)
        assert posts_made(slack) == []


EMPTY = """---
id: nobody-home
title: For a group with nobody in it
audience: ["@ghosts"]
deliver: dm
---
Hello.
"""


class TestAnEmptyAudience:
    @pytest.fixture
    def content_dir(self, tmp_path):
        folder = tmp_path / "content" / "briefings"
        folder.mkdir(parents=True)
        (folder / "nobody-home.md").write_text(EMPTY, encoding="utf-8")
        return tmp_path / "content"

    @pytest.fixture
    def workspace(self, workspace):
        workspace.add_user("U0GONE", name="gone", real_name="Gone", deleted=True)
        workspace.add_usergroup("S0GHOST", handle="ghosts", name="Ghosts", users=["U0GONE"])
        return workspace

    async def test_is_refused_before_any_confirmation(self, slack, bot, driver):
        await driver.slash_command(SENIOR_MANAGER, "/brief", "publish nobody-home")
        await bot.work.idle()
        [reply] = replies(slack)
        assert reply.startswith("Nothing was sent: the audience of *For a group with nobody")
        assert newly_shown(slack, SENIOR_MANAGER, 0, CONFIRM_ACTION) is None
        assert slack.calls_to("chat.postMessage") == []


UNKNOWN = """---
id: to-nobody
title: For groups that do not exist
audience: ["@no-such-group", "#no-such-channel", "@team-managers"]
deliver: dm
---
Hello.
"""


class TestUnknownEntries:
    @pytest.fixture
    def content_dir(self, tmp_path):
        folder = tmp_path / "content" / "briefings"
        folder.mkdir(parents=True)
        (folder / "to-nobody.md").write_text(UNKNOWN, encoding="utf-8")
        return tmp_path / "content"

    async def test_every_unknown_entry_is_named_and_nothing_is_sent(self, slack, bot, driver):
        await driver.slash_command(SENIOR_MANAGER, "/brief", "publish to-nobody")
        await bot.work.idle()
        [reply] = replies(slack)
        assert "There is no user group @no-such-group: check the audience." in reply
        assert "I can't find the channel #no-such-channel: check the audience." in reply
        assert "Fix the audience in `to-nobody.md`" in reply
        assert slack.calls_to("chat.postMessage") == []  # not even @team-managers, who exist
        assert await bot.storage.call(lambda db: db["confirmations"].count) == 0
