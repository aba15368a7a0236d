"""Publishing when things are awkward: hostile text, a channel the bot is not in (joined if
public, an /invite asked for if private), rate limits."""

from __future__ import annotations

import json

import pytest

from bot.app import LineOfSight
from slack_standin import SlackDriver
from tests.conftest import SENIOR_MANAGER, SIGNING_SECRET, SOCIAL_WORKERS, publish_confirmed

TRICKY = """---
id: tricky
title: "Caseloads & <!channel> update for <@U0SW01>"
audience: ["#social-work-all", "#quiet-room"]
deliver: channel
acknowledge: true
---
Read <https://evil.example|the real policy> & tell <!here>. See [the standard](https://example.gov.uk/standards).
"""


@pytest.fixture
def content_dir(tmp_path):
    folder = tmp_path / "content" / "briefings"
    folder.mkdir(parents=True)
    (folder / "tricky.md").write_text(TRICKY, encoding="utf-8")
    return tmp_path / "content"


@pytest.fixture
def workspace(workspace):
    workspace.add_channel("C0QUIET", "quiet-room", members=SOCIAL_WORKERS[:2])
    return workspace


async def publish(driver, bot):
    await publish_confirmed(driver, bot, "publish tricky")
    await bot.outbox.idle()


def private_replies(slack, user=SENIOR_MANAGER):
    return [s.text for s in slack.seen_by(user) if s.kind in ("response", "ephemeral")]


def copies(slack, channel="C0SWALL"):
    return [m for m in slack.messages(channel) if m.blocks]


def report(slack):
    """The publisher's closing summary in their DM with the bot."""
    return [m.text for m in slack.messages(SENIOR_MANAGER) if "has gone out" in m.text][-1]


async def test_authors_text_can_never_mention_people_or_forge_links(slack, bot, driver):
    await publish(driver, bot)
    [call] = [
        c for c in slack.calls_to("chat.postMessage") if c.ok and c.args["channel"] == "C0SWALL"
    ]
    blocks = call.args["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    # Everything Slack parses as mrkdwn: the fallback text and every mrkdwn text object.
    mrkdwn = [call.args["text"]] + [
        obj["text"]
        for block in blocks
        for obj in [block.get("text") or {}, *block.get("elements", [])]
        if isinstance(obj, dict) and obj.get("type") == "mrkdwn"
    ]
    parsed = "\n".join(mrkdwn)
    for forbidden in ("<!channel>", "<!here>", "<@U0SW01>", "<https://evil.example"):
        assert forbidden not in parsed
    assert "&lt;!channel&gt;" in call.args["text"]
    assert "<https://example.gov.uk/standards|the standard>" in parsed
    # The header is plain_text, which Slack never parses: it shows the title as typed.
    assert blocks[0]["text"] == {
        "type": "plain_text",
        "text": "Caseloads & <!channel> update for <@U0SW01>",
    }


async def test_a_public_channel_the_bot_is_not_in_is_joined_on_publish_with_no_invite(
    slack, bot, driver
):
    slack.workspace.channels["C0QUIET"].members.remove(slack.workspace.bot_user_id)
    await publish(driver, bot)
    assert not any("/invite" in reply for reply in private_replies(slack))
    [joined] = slack.calls_to("conversations.join")
    assert (joined.ok, joined.args["channel"], joined.warnings) == (True, "C0QUIET", [])
    assert slack.workspace.bot_user_id in slack.workspace.channels["C0QUIET"].members
    assert len(copies(slack)) == len(copies(slack, "C0QUIET")) == 1
    assert "Posted in 2 channels." in report(slack)
    # In it now: the next publish posts without joining again.
    await publish(driver, bot)
    assert len(slack.calls_to("conversations.join")) == 1


async def test_a_preview_joins_nothing_the_bot_joins_only_when_it_posts(slack, bot, driver):
    """Joining shows in the channel ("Line of Sight joined"), so a publish that is only
    previewed, then cancelled, leaves no trace there. Found in review."""
    slack.workspace.channels["C0QUIET"].members.remove(slack.workspace.bot_user_id)
    await driver.slash_command(SENIOR_MANAGER, "/brief", "publish tricky")
    await bot.work.idle()
    assert any("Send" in str(seen) for seen in slack.seen_by(SENIOR_MANAGER))  # the preview
    assert slack.calls_to("conversations.join") == []
    assert slack.workspace.bot_user_id not in slack.workspace.channels["C0QUIET"].members


async def test_a_private_channel_the_bot_is_not_in_stops_the_publish_and_asks_for_invite(
    slack, bot, driver
):
    quiet = slack.workspace.channels["C0QUIET"]
    quiet.is_private = True
    quiet.members.remove(slack.workspace.bot_user_id)
    await publish(driver, bot)
    [reply] = private_replies(slack)
    assert reply.startswith("Nothing was sent: I can't reach everyone in the audience")
    assert (
        "I can't find the channel #quiet-room: check the audience. If it is private, add me "
        "first with `/invite @Line of Sight` in #quiet-room." in reply
    )
    assert slack.calls_to("chat.postMessage") == []
    assert await bot.storage.call(lambda db: db.table("publications").count) == 0
    quiet.members.append(slack.workspace.bot_user_id)  # /invite @Line of Sight
    await publish(driver, bot)
    assert len(copies(slack)) == len(copies(slack, "C0QUIET")) == 1
    assert "Posted in 2 channels." in report(slack)
    posted = await bot.storage.call(
        lambda db: sorted((r["audience"], r["status"]) for r in db.table("publications").rows)
    )
    assert posted == [("#quiet-room", "posted"), ("#social-work-all", "posted")]


async def test_a_channel_the_app_may_not_join_says_to_invite_it_or_reinstall(slack, config):
    """An app installed before the manifest asked for `channels:join`: the bot knows from its
    token's scopes at start, so the preview says what to do, and nothing is joined or sent."""
    slack.scopes = slack.scopes - {"channels:join"}
    slack.workspace.channels["C0QUIET"].members.remove(slack.workspace.bot_user_id)
    bot = LineOfSight(config)
    await bot.start()
    runner = await bot.listen("127.0.0.1", 0)
    try:
        url = f"{bot.base_url}/slack/events"
        async with SlackDriver(slack, bot_url=url, signing_secret=SIGNING_SECRET) as driver:
            await publish_confirmed(driver, bot, "publish tricky")
            await bot.outbox.idle()
    finally:
        await runner.cleanup()
        await bot.stop()
    [reply] = private_replies(slack)
    assert "its `channels:join` permission is missing" in reply
    assert "add me with `/invite @Line of Sight` in #quiet-room" in reply
    assert slack.calls_to("conversations.join") == []
    assert slack.calls_to("chat.postMessage") == []


async def test_an_archived_or_unknown_channel_is_named_and_nothing_is_half_sent(
    slack, bot, driver, content_dir
):
    slack.workspace.channels["C0QUIET"].is_archived = True
    (content_dir / "briefings" / "tricky.md").write_text(
        TRICKY.replace('"#quiet-room"]', '"#quiet-room", "#no-such-room"]'), encoding="utf-8"
    )
    await publish(driver, bot)
    [reply] = private_replies(slack)
    assert "#quiet-room is archived" in reply
    assert "I can't find the channel #no-such-room" in reply
    assert slack.calls_to("chat.postMessage") == []


async def test_a_rate_limited_post_waits_out_retry_after_then_goes_once(slack, bot, driver):
    slack.force_ratelimit("chat.postMessage", times=1, retry_after=1)
    await publish(driver, bot)
    statuses = [c.http_status for c in slack.calls_to("chat.postMessage")]
    assert statuses[:2] == [429, 200]
    assert slack.early_retries == []
    assert len(copies(slack)) == len(copies(slack, "C0QUIET")) == 1


async def test_a_broken_file_publishes_nothing_and_says_where_without_server_paths(
    slack, bot, driver, content_dir
):
    (content_dir / "briefings" / "broken.md").write_text(
        "---\nid: broken\ntitle: [unclosed\n---\nBody\n", encoding="utf-8"
    )
    await publish_confirmed(driver, bot, "publish broken")
    assert slack.calls_to("chat.postMessage") == []
    [reply] = private_replies(slack)
    assert reply.startswith("`broken` can't be published until its file is fixed")
    assert "`broken.md` has a problem:\n• Line 3: the settings at the top of the file" in reply
    assert str(content_dir) not in reply


@pytest.mark.parametrize(
    "body",
    [
        "payload=%7Bnot-json",
        "payload=" + json.dumps({"type": "block_actions"}),
        "command=%2Fbrief",
        "payload=" + json.dumps({"type": "block_actions", "actions": "not-a-list"}),
        "payload=" + json.dumps({"type": "view_submission", "view": ["odd"]}),
        "",
    ],
    ids=[
        "broken-json",
        "no-user-or-actions",
        "command-without-user",
        "odd-actions",
        "odd-view",
        "empty",
    ],
)
async def test_malformed_signed_payloads_get_no_traceback_and_change_nothing(
    slack, bot, driver, body
):
    before = len(slack.calls)
    response = await driver.raw_post(body, "application/x-www-form-urlencoded")
    await bot.work.idle()
    assert response.status in (200, 400)
    assert "Traceback" not in response.body
    assert slack.calls[before:] == []
    assert await bot.storage.call(lambda db: db.table("acknowledgements").count) == 0


async def test_a_channel_post_whose_answer_was_lost_is_found_not_posted_twice(
    slack, bot, driver, monkeypatch
):
    import aiohttp

    client = bot.outbox._client
    real_post = client.chat_postMessage
    lost = []

    async def answer_lost(**kwargs):
        response = await real_post(**kwargs)
        if kwargs["channel"] == "C0SWALL" and not lost:
            lost.append(response["ts"])
            raise aiohttp.ClientConnectionError("connection reset")  # Slack has the post
        return response

    monkeypatch.setattr(client, "chat_postMessage", answer_lost)
    await publish(driver, bot)
    assert await bot.outbox.idle(30)
    assert [m.ts for m in copies(slack)] == lost  # found by its metadata, not sent again
    looked = [c for c in slack.calls_to("conversations.history") if c.args["channel"] == "C0SWALL"]
    assert looked
    [post] = await bot.storage.call(
        lambda db: list(db.query("SELECT * FROM publications WHERE audience = '#social-work-all'"))
    )
    assert (post["status"], post["message_ts"]) == ("posted", lost[0])


async def test_a_channel_post_in_flight_at_a_stop_is_looked_for_before_posting_again(slack, config):
    from datetime import UTC, datetime

    from slack_sdk.web.async_client import AsyncWebClient

    from bot.app import LineOfSight
    from bot.sender import METADATA_TYPE
    from bot.storage import Storage
    from bot.storage.outbox import Plan, PlannedEntry

    storage = Storage(config.database_path)
    await storage.open()
    plan = Plan(
        briefing_id="tricky",
        version=1,
        title="T",
        acknowledge=True,
        published_by=SENIOR_MANAGER,
        message={
            "text": "T",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Hi"}}],
        },
        entries=(
            PlannedEntry("#social-work-all", "C0SWALL", post=True, members=tuple(SOCIAL_WORKERS)),
        ),
    )
    await storage.outbox.prepare(plan, datetime.now(UTC))
    claimed = await storage.outbox.claim_next(datetime.now(UTC))
    # The dead process's post reached the channel; its answer died with it.
    raw = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    await raw.chat_postMessage(
        channel="C0SWALL",
        text="T",
        blocks=plan.message["blocks"],
        metadata={"event_type": METADATA_TYPE, "event_payload": {"delivery_id": claimed.id}},
    )
    await storage.close()

    bot = LineOfSight(config)
    await bot.start()
    try:
        assert await bot.outbox.idle(30)
        reached = await bot.storage.call(lambda db: db.table("recipients").count)
    finally:
        await bot.stop()
    assert len(copies(slack)) == 1
    assert reached == len(SOCIAL_WORKERS)


async def test_reach_counts_people_not_other_bots_or_deactivated_accounts(slack, bot, driver):
    channel = slack.workspace.channels["C0SWALL"]
    slack.workspace.add_user("U0OTHERBOT", name="rota-bot", real_name="Rota", is_bot=True)
    slack.workspace.add_user("U0LEFT", name="former", real_name="Former Worker", deleted=True)
    channel.members += ["U0OTHERBOT", "U0LEFT"]
    await publish(driver, bot)
    people = [m for m in channel.members if m not in ("U0OTHERBOT", "U0LEFT", "U0BOT")]
    recipients = await bot.storage.call(
        lambda db: {
            r["user_id"]
            for r in db.query(
                "SELECT user_id FROM recipients JOIN publications p ON p.id = publication_id"
                " WHERE p.audience = '#social-work-all'"
            )
        }
    )
    assert recipients == set(people)


async def test_the_confirmation_counts_each_entry_and_leaves_out_bots(slack, bot, driver):
    channel = slack.workspace.channels["C0SWALL"]
    slack.workspace.add_user("U0OTHERBOT", name="rota-bot", real_name="Rota", is_bot=True)
    channel.members.append("U0OTHERBOT")
    await driver.slash_command(SENIOR_MANAGER, "/brief", "publish tricky")
    await bot.work.idle()
    [shown] = [s for s in slack.seen_by(SENIOR_MANAGER) if s.kind == "response"]
    confirmation = shown.blocks[0]["text"]["text"]
    people = len(channel.members) - 2  # not this bot, not the rota bot
    assert f"• #social-work-all — a post in the channel, seen by {people} people" in confirmation
    assert "• #quiet-room — a post in the channel, seen by 2 people" in confirmation
    assert f"*{people} people in all*" in confirmation
    assert "1 left out: bots or deactivated accounts." in confirmation
    assert slack.calls_to("chat.postMessage") == []  # nothing goes before the click


async def test_when_members_cannot_be_listed_nothing_is_sent_and_the_reason_is_given(
    slack, bot, driver, monkeypatch
):
    from slack_sdk.errors import SlackApiError

    async def refuse(**kwargs):
        raise SlackApiError("missing_scope", {"ok": False, "error": "missing_scope"})

    monkeypatch.setattr(bot.deps.client, "conversations_members", refuse)
    await publish(driver, bot)
    [reply] = private_replies(slack)
    assert "I'm not allowed to list #social-work-all (a permission is missing" in reply
    assert slack.calls_to("chat.postMessage") == []


async def test_a_lost_connection_while_listing_people_sends_nothing_and_says_try_again(
    slack, bot, driver, monkeypatch
):
    import aiohttp

    async def drop(**kwargs):
        raise aiohttp.ServerDisconnectedError()

    monkeypatch.setattr(bot.deps.client, "users_list", drop)
    await publish(driver, bot)
    [reply] = private_replies(slack)
    assert "Try again in a minute." in reply
    assert slack.calls_to("chat.postMessage") == []


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("publish recruitment-funding", "I couldn't check who can publish just now"),
        ("status recruitment-funding", "I couldn't check your role just now"),
        ("list", "I couldn't check your role just now"),
    ],
)
async def test_a_lost_connection_while_checking_roles_is_explained_and_posts_nothing(
    slack, bot, driver, monkeypatch, command, expected
):
    import aiohttp

    async def drop(**kwargs):
        raise aiohttp.ServerDisconnectedError()

    monkeypatch.setattr(bot.deps.usergroups._client, "usergroups_list", drop)
    response = await driver.slash_command(SENIOR_MANAGER, "/brief", command)
    await bot.work.idle()
    assert response.status == 200
    [reply] = private_replies(slack)
    assert expected in reply
    assert [m for m in slack.messages("C0SWALL") if m.blocks] == []
