"""The outbox: every person gets exactly one copy, within Slack's limits, whatever goes wrong.

The stand-in enforces chat.postMessage's workspace cap as a token bucket and records any call
made before an earlier 429's Retry-After had passed. The caps here are Slack's shape scaled up
(3,000 a minute with a second's burst, rather than a few hundred) so a 300-person broadcast takes
seconds, not minutes; `bench/` runs Slack's own figures.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError

from bot.app import LineOfSight
from slack_standin import RateLimits, SlackStandIn, Workspace
from slack_standin.harness import eventually
from tests.conftest import (
    APP_TOKEN,
    BOT_TOKEN,
    SENIOR_MANAGER,
    SIGNING_SECRET,
    publish_confirmed,
)

PER_MINUTE = 3000  # the stand-in's cap: 50 a second
BURST = 50  # a second's worth, as the bot paces itself
# The bot is set 5% under the cap, as an operator would set OUTBOX_PER_MINUTE: pacing exactly at
# the cap meets a 429 whenever two sends' network delays differ by a few milliseconds.
BOT_PER_MINUTE = 2850
DM_BRIEFING = "threshold-document"  # deliver: dm to @social-workers and @team-managers


@pytest.fixture
def workspace(request):
    """300 social workers, 2 team managers and 4 more; `small` tests need only 20 of them."""
    return Workspace.sample(n_staff=getattr(request, "param", 306))


small = pytest.mark.parametrize("workspace", [26], indirect=True, ids=["20 social workers"])


@pytest.fixture
async def slack(workspace):
    limits = RateLimits(post_workspace_per_minute=PER_MINUTE, post_workspace_burst=BURST)
    async with SlackStandIn(
        workspace,
        bot_token=BOT_TOKEN,
        app_token=APP_TOKEN,
        signing_secret=SIGNING_SECRET,
        rate_limits=limits,
    ) as standin:
        yield standin


@pytest.fixture
def config(config):
    return replace(config, outbox_per_minute=BOT_PER_MINUTE)


def audience(slack) -> list[str]:
    ws = slack.workspace
    return sorted(set(ws.usergroups["S0SWS"].users) | set(ws.usergroups["S0TMS"].users))


def copies(slack, person: str) -> list:
    """The briefing copies in the person's DM with the bot (not the publisher's report)."""
    return [m for m in slack.messages(person) if m.blocks]


def lose_the_first_answer(bot, monkeypatch) -> list[str]:
    """The first DM reaches Slack but its answer never comes back; returns whose it was."""
    client = bot.outbox._client
    real_post = client.chat_postMessage
    lost: list[str] = []

    async def post_then_drop(**kwargs):
        response = await real_post(**kwargs)
        if not lost and kwargs.get("metadata"):
            lost.append(kwargs["channel"])
            raise aiohttp.ServerDisconnectedError()  # Slack posted it; we never heard
        return response

    monkeypatch.setattr(client, "chat_postMessage", post_then_drop)
    return lost


async def publish(driver, bot, briefing=DM_BRIEFING):
    response = await publish_confirmed(driver, bot, f"publish {briefing}")
    assert response.status == 200


async def test_a_dm_broadcast_reaches_everyone_once_within_slacks_limits(slack, bot, driver):
    people = audience(slack)
    assert len(people) == 302
    await publish(driver, bot)
    assert await bot.outbox.idle(60)
    assert all(len(copies(slack, p)) == 1 for p in people)
    assert slack.early_retries == []
    sends = [c for c in slack.calls_to("chat.postMessage") if "metadata" in c.args]
    assert [c.ok for c in sends] == [True] * len(people)  # one try each: no 429 met
    # The cap allows BURST at once, then PER_MINUTE / 60 a second: from the first copy to the
    # last, the least Slack allows is (people - BURST) / rate.
    elapsed = sends[-1].at - sends[0].at
    minimum = (len(people) - BURST) / (PER_MINUTE / 60)
    print(f"broadcast: {elapsed:.2f} s, {elapsed / minimum:.3f} x the minimum {minimum:.2f} s")
    assert elapsed <= 1.2 * minimum, (elapsed, minimum)
    reached = await bot.storage.call(
        lambda db: db.execute("SELECT COUNT(DISTINCT user_id) FROM recipients").fetchone()[0]
    )
    assert reached == len(people)
    # The publisher had one message: progress as it went, then the summary in its place.
    [note] = [m for m in slack.messages(SENIOR_MANAGER) if not m.blocks]
    assert note.text.startswith("*The revised Threshold Document is now in use* (version 2) has")
    assert "Delivered by direct message to 302 of 302 people." in note.text
    assert note.edits
    assert "by direct message: 1 of 302 delivered" in note.edits[0]["text"]


@small
async def test_every_429_is_waited_out_and_nothing_is_sent_before_its_retry_after(
    slack, bot, driver
):
    slack.force_ratelimit("chat.postMessage", times=2, retry_after=1)
    started = time.monotonic()
    await publish(driver, bot)
    assert await bot.outbox.idle(60)
    assert time.monotonic() - started >= 2.0  # two Retry-After: 1, waited in full
    assert slack.early_retries == []
    assert all(len(copies(slack, p)) == 1 for p in audience(slack))


@small
async def test_a_copy_whose_answer_was_lost_is_found_not_sent_again(
    slack, bot, driver, monkeypatch
):
    lost = lose_the_first_answer(bot, monkeypatch)
    await publish(driver, bot)
    assert await bot.outbox.idle(60)
    assert len(lost) == 1
    assert len(copies(slack, lost[0])) == 1
    assert all(len(copies(slack, p)) == 1 for p in audience(slack))
    assert slack.calls_to("conversations.history")  # it looked before doing anything else


@small
async def test_a_user_group_slack_cannot_list_stops_the_publish_before_any_send(
    slack, bot, driver, monkeypatch
):
    groups = bot.deps.usergroups
    await groups.groups()  # listed earlier: the publisher's role check may use that list
    groups.expire("the test: it must be listed again before a broadcast")

    async def refuse(**kwargs):
        raise SlackApiError("no", {"ok": False, "error": "missing_scope"})

    monkeypatch.setattr(bot.deps.client, "usergroups_list", refuse)
    await publish(driver, bot)
    replies = [s.text for s in slack.seen_by(SENIOR_MANAGER) if s.kind == "response"]
    assert "a permission is missing from the app" in replies[0]
    assert replies[0].startswith("Nothing was sent")
    assert slack.calls_to("chat.postMessage") == []
    assert await bot.storage.call(lambda db: db["deliveries"].count) == 0


@small
async def test_publishing_the_same_version_twice_sends_once(slack, bot, driver):
    await publish(driver, bot)
    await publish(driver, bot)
    assert await bot.outbox.idle(60)
    replies = [s.text for s in slack.seen_by(SENIOR_MANAGER) if s.kind == "response"]
    assert "has gone out already" in replies[1]
    assert all(len(copies(slack, p)) == 1 for p in audience(slack))


@small
async def test_status_shows_each_entry_with_its_direct_messages_delivered_of_queued(
    slack, bot, driver
):
    await publish(driver, bot)
    assert await bot.outbox.idle(60)
    await driver.slash_command("U0EL01", "/brief", f"status {DM_BRIEFING}")
    await bot.work.idle()
    [status] = [s.text for s in slack.seen_by("U0EL01") if s.kind == "response"]
    assert "• Sent as direct messages to @social-workers, direct messages to @team-managers" in (
        status
    )
    # The social workers' own figures would be the total's less two team managers': both
    # entries' acknowledgements are hidden, and only the total is shown.
    assert (
        "• direct messages to @social-workers: delivered to 20 of 20, figures hidden, so "
        "that a smaller group's stay private" in status
    )
    assert (
        "• direct messages to @team-managers: delivered to 2 of 2, figures hidden for groups "
        "under 10" in status
    )


@small
async def test_a_rate_limited_look_up_waits_out_its_retry_after(slack, bot, driver, monkeypatch):
    lost = lose_the_first_answer(bot, monkeypatch)
    slack.force_ratelimit("conversations.history", times=1, retry_after=1)
    await publish(driver, bot)
    assert await bot.outbox.idle(60)
    assert slack.early_retries == []
    assert len(lost) == 1
    assert [c.http_status for c in slack.calls_to("conversations.history")] == [429, 200]
    assert all(len(copies(slack, p)) == 1 for p in audience(slack))


@small
async def test_the_publishers_summary_is_sent_at_most_once(slack, bot, driver, monkeypatch):
    client = bot.outbox._client
    real_post = client.chat_postMessage

    async def drop_the_summary(**kwargs):
        response = await real_post(**kwargs)
        if not kwargs.get("metadata"):  # the summary: posted, but its answer is lost
            raise aiohttp.ServerDisconnectedError()
        return response

    monkeypatch.setattr(client, "chat_postMessage", drop_the_summary)
    await publish(driver, bot)
    assert await bot.outbox.idle(60)
    await asyncio.sleep(0.3)
    summaries = [m for m in slack.messages(SENIOR_MANAGER) if "has gone out" in m.text]
    assert len(summaries) == 1


@small
async def test_a_channel_the_bot_cannot_post_in_stops_its_direct_messages_too(slack, bot, driver):
    # triple-lock: "#team-managers" and "@team-managers", deliver: channel. #team-managers is
    # private and the bot is not in it: nothing goes to anyone, rather than half the audience.
    slack.workspace.channels["C0TMS"].is_private = True
    slack.workspace.channels["C0TMS"].members.remove(slack.workspace.bot_user_id)
    await publish(driver, bot, briefing="triple-lock")
    [reply] = [s.text for s in slack.seen_by(SENIOR_MANAGER) if s.kind == "response"]
    assert "I can't find the channel #team-managers" in reply
    assert "`/invite @Line of Sight` in #team-managers" in reply
    assert slack.calls_to("chat.postMessage") == []
    assert await bot.storage.call(lambda db: db["deliveries"].count) == 0


@small
async def test_a_retry_after_outlives_a_restart(slack, config, driver, bot):
    slack.force_ratelimit("chat.postMessage", times=1, retry_after=2)
    await publish(driver, bot)
    await eventually(
        lambda: any(c.http_status == 429 for c in slack.calls_to("chat.postMessage")), "meet a 429"
    )
    await bot.stop()  # stopped inside the Retry-After…
    again = LineOfSight(config)
    await again.start()  # …and started again before it has passed
    try:
        assert again.outbox is not None
        assert await again.outbox.idle(60)
    finally:
        await again.stop()
    assert slack.early_retries == []
    assert all(len(copies(slack, p)) == 1 for p in audience(slack))


async def test_a_rate_under_one_a_second_is_paced_not_refused(storage):
    from bot.sender import OutboxSender

    sender = OutboxSender(storage, None, per_minute=30, clock=lambda: None)  # type: ignore[arg-type]
    started = time.monotonic()
    await sender._limiter.acquire()
    await sender._limiter.acquire()
    assert time.monotonic() - started >= 1.9  # one every two seconds


def test_progress_says_sent_of_total_failures_and_time_left():
    from bot.sender import build_broadcast_progress

    summary = {
        "title": "Pay & you",
        "version": 3,
        "counts": {"sent": 1200, "failed": 4, "pending": 3796},
        "kinds": {"dm": {"sent": 1200, "failed": 4, "pending": 3796}},
    }
    assert build_broadcast_progress(summary, per_second=285 / 60) == (
        "Sending *Pay &amp; you* (version 3) by direct message: 1200 of 5000 delivered, 4 could "
        "not be reached; about 13 minutes left. This message updates as it goes."
    )


@small
async def test_cancelling_a_broadcast_under_way_sends_no_more_and_keeps_what_went(
    slack, bot, driver
):
    slack.force_ratelimit("chat.postMessage", times=1, retry_after=2)
    await publish(driver, bot)
    await eventually(
        lambda: any(c.http_status == 429 for c in slack.calls_to("chat.postMessage")), "a 429"
    )
    await driver.slash_command(SENIOR_MANAGER, "/brief", f"cancel {DM_BRIEFING}")
    await bot.work.idle()
    assert await bot.outbox.idle(30)
    await asyncio.sleep(2.5)  # past the Retry-After: nothing more may go
    sent = sum(len(copies(slack, p)) for p in audience(slack))
    assert sent < len(audience(slack))
    statuses = await bot.storage.call(
        lambda db: dict(db.execute("SELECT status, COUNT(*) FROM deliveries GROUP BY status"))
    )
    assert statuses.get("pending", 0) == 0
    assert statuses["cancelled"] == len(audience(slack)) - sent


@small
async def test_a_channel_briefing_published_twice_sends_no_direct_messages(slack, bot, driver):
    # triple-lock goes to #team-managers and @team-managers, who are all in #team-managers.
    await publish(driver, bot, briefing="triple-lock")
    await publish(driver, bot, briefing="triple-lock")
    assert await bot.outbox.idle(30)
    assert all(copies(slack, p) == [] for p in ("U0TM01", "U0TM02"))
    posts = [c for c in slack.calls_to("chat.postMessage") if "metadata" in c.args]
    assert [c.args["channel"] for c in posts] == ["C0TMS"]  # once, in #team-managers


@small
async def test_a_cancelled_broadcast_ends_its_progress_message_saying_so(slack, bot, driver):
    slack.force_ratelimit("chat.postMessage", times=1, retry_after=1)
    await publish(driver, bot)
    await eventually(
        lambda: any(c.http_status == 429 for c in slack.calls_to("chat.postMessage")), "a 429"
    )
    await driver.slash_command(SENIOR_MANAGER, "/brief", f"cancel {DM_BRIEFING}")
    await bot.work.idle()
    await eventually(
        lambda: any("was cancelled" in m.text for m in slack.messages(SENIOR_MANAGER)),
        "tell the publisher it was cancelled",
    )
