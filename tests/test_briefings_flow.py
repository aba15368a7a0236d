"""The first slice end to end: signed requests through the real app, asserting what Slack got.

Each test is a person's action: a slash command, a click, opening the Home tab. The stand-in checks
every message and view against Block Kit's limits, so a test passing here means Slack accepts it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.comprehension import TAKE_ACTION
from handlers.briefings import ACK_ACTION
from slack_standin.harness import eventually, posts
from tests.conftest import (
    DIRECTOR,
    ENGAGEMENT_LEAD,
    SENIOR_MANAGER,
    SOCIAL_WORK_ALL,
    SOCIAL_WORKERS,
    TEAM_MANAGER,
    publish_confirmed,
)

BRIEFING = "recruitment-funding"


async def publish(driver, bot, user=SENIOR_MANAGER, text=f"publish {BRIEFING}"):
    response = await publish_confirmed(driver, bot, text, user=user, channel_id=SOCIAL_WORK_ALL)
    assert response.status == 200
    await bot.outbox.idle()
    return response


def responses_to(slack, user):
    """The private replies a person got to their own commands and clicks."""
    return [s.text for s in slack.seen_by(user) if s.kind in ("response", "ephemeral")]


def briefing_posts(slack):
    return posts(slack, SOCIAL_WORK_ALL)


async def acks(bot):
    return await bot.storage.call(lambda db: db["acknowledgements"].count)


# -- publishing ----------------------------------------------------------------------------------


async def test_a_senior_manager_publishes_a_briefing_to_its_channel(slack, bot, driver):
    await publish(driver, bot)
    posts = briefing_posts(slack)
    assert len(posts) == 1
    post = posts[0]
    assert post.blocks[0]["type"] == "header"
    assert post.blocks[0]["text"]["text"] == (
        "What the extra recruitment money means for your caseload"
    )
    assert post.text.startswith("Briefing: What the extra recruitment money means")
    buttons = [e for b in post.blocks if b["type"] == "actions" for e in b["elements"]]
    assert [b["action_id"] for b in buttons] == [ACK_ACTION, TAKE_ACTION]  # it has a check
    body = " ".join(b["text"]["text"] for b in post.blocks if b["type"] == "section")
    assert "£4.4m" in body
    assert "£1.5m" in body
    # Everyone in #social-work-all sees it; the manager gets a private confirmation.
    for worker in SOCIAL_WORKERS:
        assert any(s.kind == "channel" and s.ts == post.ts for s in slack.seen_by(worker))
    [reply] = responses_to(slack, SENIOR_MANAGER)  # the confirmation, now what it did
    assert "is on its way: a post in 1 channel" in reply
    reached = await bot.storage.call(lambda db: db["recipients"].count)
    assert reached == len(slack.workspace.channels[SOCIAL_WORK_ALL].members) - 1  # not the bot


async def test_a_user_group_senior_manager_may_publish(slack, bot, driver):
    await publish(driver, bot, user=DIRECTOR)  # in @senior-managers
    assert len(briefing_posts(slack)) == 1


@pytest.mark.parametrize("user", [TEAM_MANAGER, SOCIAL_WORKERS[0], ENGAGEMENT_LEAD])
async def test_anyone_else_is_refused_privately_and_nothing_is_posted(slack, bot, driver, user):
    await publish(driver, bot, user=user)
    assert slack.calls_to("chat.postMessage") == []
    [reply] = responses_to(slack, user)
    assert reply.startswith("Only senior managers can publish briefings")
    assert "ask your engagement lead to add you" in reply
    assert await bot.storage.call(lambda db: db["publications"].count) == 0


async def test_publishing_the_same_version_twice_posts_once(slack, bot, driver):
    await publish(driver, bot)
    await publish(driver, bot)
    assert len(briefing_posts(slack)) == 1
    second = responses_to(slack, SENIOR_MANAGER)[-1]
    assert "has gone out already" in second
    assert "raise `version:`" in second


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("help", "`/brief publish &lt;briefing id&gt;`"),
        ("frobnicate", "I don't know `/brief frobnicate`. Try `/brief help`."),
        ("publish", "Which briefing?"),
        ("publish no-such-thing", "There's no briefing called `no-such-thing`."),
        ("publish <!channel>", "There's no briefing called `&lt;!channel&gt;`."),
        ("status", "Which briefing?"),
        ("list", "`recruitment-funding`"),
    ],
)
async def test_brief_answers_every_input_privately(slack, bot, driver, text, expected):
    await publish(driver, bot, text=text)
    [reply] = responses_to(slack, SENIOR_MANAGER)
    assert expected in reply
    assert slack.calls_to("chat.postMessage") == []


# -- acknowledging -------------------------------------------------------------------------------


async def test_acknowledge_counts_once_under_a_double_click(slack, bot, driver):
    await publish(driver, bot)
    [post] = briefing_posts(slack)
    worker = SOCIAL_WORKERS[0]
    await driver.click(worker, post, ACK_ACTION)
    await driver.click(worker, post, ACK_ACTION)
    await bot.work.idle()
    assert await acks(bot) == 1
    first, second = responses_to(slack, worker)
    assert first == (
        "Thanks — you've acknowledged *What the extra recruitment money means for your caseload*."
    )
    assert second.startswith("You already acknowledged")
    # The channel message is left alone: nobody else sees the private answers.
    assert not any(
        "acknowledged" in (s.text or "")
        for s in slack.seen_by(SOCIAL_WORKERS[1])
        if s.kind != "channel"
    )


async def test_acknowledge_counts_once_under_a_retried_delivery(slack, bot, driver):
    await publish(driver, bot)
    [post] = briefing_posts(slack)
    worker = SOCIAL_WORKERS[1]
    await driver.click(worker, post, ACK_ACTION)
    await driver.click(worker, post, ACK_ACTION, retry_num=1)
    await bot.work.idle()
    assert await acks(bot) == 1


async def test_status_shows_reach_and_acknowledgements_to_leads(slack, bot, driver):
    await publish(driver, bot)
    [post] = briefing_posts(slack)
    members = sorted(
        m
        for m in slack.workspace.channels[SOCIAL_WORK_ALL].members
        if m != slack.workspace.bot_user_id
    )
    reached = len(members)
    for worker in SOCIAL_WORKERS[:3]:
        await driver.click(worker, post, ACK_ACTION)
    await bot.work.idle()
    await publish(driver, bot, user=ENGAGEMENT_LEAD, text=f"status {BRIEFING}")
    [reply] = responses_to(slack, ENGAGEMENT_LEAD)
    # Three acknowledgements are not shown yet: figures move in steps of MIN_GROUP_SIZE.
    assert (
        f"Reached {reached} people; acknowledgements are held back until 10 or more have "
        "acknowledged." in reply
    )
    assert "None shown yet" in reply
    for worker in members[:10]:
        await driver.click(worker, post, ACK_ACTION)
    await bot.work.idle()
    await publish(driver, bot, user=ENGAGEMENT_LEAD, text=f"status {BRIEFING}")
    reply = responses_to(slack, ENGAGEMENT_LEAD)[-1]
    acked = len(set(members[:10]) | set(SOCIAL_WORKERS[:3]))
    assert (
        f"Reached {reached} people; {acked} of the {reached} have acknowledged "
        f"({round(100 * acked / reached)}%)" in reply
    )


async def test_a_forged_button_value_records_nothing(slack, bot, driver):
    await publish(driver, bot)
    [post] = briefing_posts(slack)
    forged = json.loads(json.dumps(post.blocks))
    for block in forged:
        for element in block.get("elements", []):
            if element.get("action_id") == ACK_ACTION:
                element["value"] = "recruitment-funding@99"
    post.blocks[:] = forged
    await driver.click(SOCIAL_WORKERS[0], post, ACK_ACTION)
    await bot.work.idle()
    assert await acks(bot) == 0
    assert responses_to(slack, SOCIAL_WORKERS[0]) == [
        "Sorry, I can't find that briefing any more, so nothing was recorded."
    ]


# -- App Home ------------------------------------------------------------------------------------


async def test_home_lists_waiting_briefings_and_acknowledging_there_clears_them(slack, bot, driver):
    worker = SOCIAL_WORKERS[2]
    await driver.app_home_opened(worker)
    await bot.work.idle()
    assert "all caught up" in json.dumps(slack.home_view(worker), ensure_ascii=False)

    await publish(driver, bot)
    await driver.app_home_opened(worker)
    await bot.work.idle()
    home = slack.home_view(worker)
    assert "What the extra recruitment money means for your caseload" in json.dumps(
        home, ensure_ascii=False
    )
    await driver.click(worker, home, ACK_ACTION)
    await bot.work.idle()
    assert await acks(bot) == 1
    home = json.dumps(slack.home_view(worker), ensure_ascii=False)
    assert "Thanks — you've acknowledged" in home
    assert "all caught up" in home


async def test_a_retried_home_event_publishes_once(slack, bot, driver):
    await driver.app_home_opened(SOCIAL_WORKERS[0], event_id="Ev0001")
    await driver.app_home_opened(SOCIAL_WORKERS[0], event_id="Ev0001", retry_num=1)
    await bot.work.idle()
    assert len(slack.calls_to("views.publish")) == 1


# -- what Slack accepted -------------------------------------------------------------------------


async def test_every_message_and_view_the_bot_sent_passed_slacks_checks(slack, bot, driver):
    await publish(driver, bot)
    [post] = briefing_posts(slack)
    await driver.click(SOCIAL_WORKERS[0], post, ACK_ACTION)
    await driver.app_home_opened(SOCIAL_WORKERS[1])
    await bot.work.idle()
    sent = [c for c in slack.calls if c.method in ("chat.postMessage", "views.publish")]
    assert {c.method for c in sent} == {"chat.postMessage", "views.publish"}
    assert all(c.ok for c in slack.calls), [(c.method, c.error) for c in slack.calls if not c.ok]
    assert all(c.args.get("text") for c in slack.calls_to("chat.postMessage"))


# -- health --------------------------------------------------------------------------------------


async def test_healthz_is_200_while_healthy_and_503_when_the_database_is_gone(bot):
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with session.get(f"{bot.base_url}/healthz") as response:
            assert response.status == 200
            assert await response.json() == {
                "ok": True,
                "database": "writable",
                "scheduler": "running",
            }
        await bot.storage.close()
        async with session.get(f"{bot.base_url}/healthz") as response:
            assert response.status == 503
            assert (await response.json())["database"] == "not writable"
        await bot.storage.open()


async def test_a_briefing_for_later_is_scheduled_unless_the_manager_says_now(slack, bot, driver):
    bot.deps.clock = lambda: datetime(2026, 11, 28, 9, 0, tzinfo=UTC)  # before its publish_at
    await publish(driver, bot, text="publish getting-to-good-seminars")
    assert slack.calls_to("chat.postMessage") == []
    [reply] = responses_to(slack, SENIOR_MANAGER)
    assert "is scheduled for 1 Dec 2026, 09:00. Nothing has been sent yet." in reply
    assert "`/brief publish getting-to-good-seminars now`" in reply
    await publish(driver, bot, text="publish getting-to-good-seminars now")
    assert len(posts(slack, "C0TMS")) == 1  # #team-managers; its DMs go through the outbox
    await publish(driver, bot, text="publish getting-to-good-seminars tomorrow")
    assert "I don't understand `tomorrow`" in responses_to(slack, SENIOR_MANAGER)[-1]


async def test_only_managers_and_leads_see_the_titles_waiting_to_be_published(slack, bot, driver):
    await publish(driver, bot, user=SOCIAL_WORKERS[0], text="list")
    [reply] = responses_to(slack, SOCIAL_WORKERS[0])
    assert reply.startswith("Only senior managers and engagement leads")
    assert "recruitment-funding" not in reply


async def test_a_dm_only_briefing_reaches_each_person_once_by_direct_message(slack, bot, driver):
    await publish(driver, bot, text="publish threshold-document")  # @social-workers, @team-managers
    [reply] = responses_to(slack, SENIOR_MANAGER)
    assert "is on its way: a direct message each to 8 people" in reply
    assert await bot.outbox.idle(30)
    assert [m for m in slack.messages(SOCIAL_WORK_ALL) if m.blocks] == []  # no channel post
    for person in [*SOCIAL_WORKERS, "U0TM01", "U0TM02"]:
        [copy] = [m for m in slack.messages(person) if m.blocks]
        assert copy.blocks[0]["text"]["text"] == "The revised Threshold Document is now in use"
    await eventually(
        lambda: any("has gone out" in r for r in reports(slack)), "report to the publisher"
    )
    assert reports(slack) == [
        "*The revised Threshold Document is now in use* (version 2) has gone out.\n"
        "Delivered by direct message to 8 of 8 people.\n"
        "See who has acknowledged with `/brief status threshold-document`."
    ]


def reports(slack):
    return [m.text for m in slack.messages(SENIOR_MANAGER) if not m.blocks]
