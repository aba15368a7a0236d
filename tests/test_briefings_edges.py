"""Publishing when things are awkward: hostile text, a channel the bot is not in, rate limits."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.conftest import SENIOR_MANAGER, SOCIAL_WORKERS

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
    workspace.add_channel("C0QUIET", "quiet-room", members=SOCIAL_WORKERS[:2], bot_member=False)
    return workspace


async def publish(driver, bot):
    await driver.slash_command(SENIOR_MANAGER, "/brief", "publish tricky")
    await bot.work.idle()


def private_replies(slack, user=SENIOR_MANAGER):
    return [s.text for s in slack.seen_by(user) if s.kind in ("response", "ephemeral")]


async def test_authors_text_can_never_mention_people_or_forge_links(slack, bot, driver):
    await publish(driver, bot)
    [call] = [c for c in slack.calls_to("chat.postMessage") if c.ok]
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


async def test_a_channel_the_bot_is_not_in_is_explained_and_can_be_published_later(
    slack, bot, driver
):
    await publish(driver, bot)
    [reply] = private_replies(slack)
    assert "Posted to <#C0SWALL>" in reply
    assert "I'm not in #quiet-room yet, so nothing was posted there." in reply
    assert "`/invite @Line of Sight`" in reply
    slack.workspace.channels["C0QUIET"].members.append(slack.workspace.bot_user_id)
    await publish(driver, bot)
    second = private_replies(slack)[-1]
    assert "Posted to <#C0QUIET>" in second
    assert "was posted to <#C0SWALL> already" in second
    posted = await bot.storage.call(
        lambda db: sorted(r["audience"] for r in db.table("publications").rows)
    )
    assert posted == ["#quiet-room", "#social-work-all"]


async def test_a_rate_limited_post_is_retried_after_retry_after(slack, bot, driver):
    slack.force_ratelimit("chat.postMessage", times=1, retry_after=1)
    await publish(driver, bot)
    statuses = [c.http_status for c in slack.calls_to("chat.postMessage")]
    assert statuses[:2] == [429, 200]
    assert "Posted to <#C0SWALL>" in private_replies(slack)[0]


async def test_a_broken_content_folder_publishes_nothing_and_says_where(
    slack, bot, driver, content_dir
):
    (content_dir / "briefings" / "broken.md").write_text(
        "---\nid: broken\ntitle: [unclosed\n---\nBody\n", encoding="utf-8"
    )
    await publish(driver, bot)
    assert slack.calls_to("chat.postMessage") == []
    [reply] = private_replies(slack)
    assert reply.startswith("The briefings folder has problems, so nothing was done.")
    assert "broken.md:3:" in reply


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


async def test_a_click_while_the_member_list_is_still_loading_counts(slack, bot, driver):
    # conversations.members answers 429 once, so the publish is still running (waiting
    # Retry-After) after the message is already in the channel with a live button.
    slack.force_ratelimit("conversations.members", times=1, retry_after=1)
    await driver.slash_command(SENIOR_MANAGER, "/brief", "publish tricky")
    for _ in range(100):
        if [m for m in slack.messages("C0SWALL") if m.blocks]:
            break
        await asyncio.sleep(0.01)
    [post] = [m for m in slack.messages("C0SWALL") if m.blocks]
    assert bot.work.count == 1  # the publish has not finished
    await driver.click(SOCIAL_WORKERS[0], post, "briefing_acknowledge")
    await bot.work.idle()
    assert await bot.storage.call(lambda db: db.table("acknowledgements").count) == 1
    assert private_replies(slack, SOCIAL_WORKERS[0])[0].startswith("Thanks")


async def test_a_lost_connection_while_posting_frees_the_version_to_publish_again(
    slack, bot, driver, monkeypatch
):
    import aiohttp

    real_post = bot.deps.client.chat_postMessage
    failures = iter([aiohttp.ClientConnectionError("connection reset")])

    async def flaky_post(**kwargs):
        for error in failures:
            raise error
        return await real_post(**kwargs)

    monkeypatch.setattr(bot.deps.client, "chat_postMessage", flaky_post)
    await publish(driver, bot)
    assert "I couldn't reach Slack to post to #social-work-all" in private_replies(slack)[-1]
    await publish(driver, bot)
    assert "Posted to <#C0SWALL>" in private_replies(slack)[-1]


async def test_a_publish_cut_short_by_a_stop_asks_the_manager_to_check_before_posting_again(
    slack, config, tmp_path
):
    from datetime import UTC, datetime

    from bot.app import LineOfSight
    from slack_standin import SlackDriver
    from tests.conftest import SIGNING_SECRET

    first = LineOfSight(config)
    await first.start()
    await first.storage.publications.claim_publication(
        briefing_id="tricky",
        version=1,
        title="T",
        audience="#social-work-all",
        acknowledge=True,
        published_by=SENIOR_MANAGER,
        now=datetime.now(UTC),
    )
    await first.stop()  # as if the process died between claiming and posting

    second = LineOfSight(config)
    await second.start()
    runner = await second.listen("127.0.0.1", 0)
    try:
        async with SlackDriver(
            slack, bot_url=f"{second.base_url}/slack/events", signing_secret=SIGNING_SECRET
        ) as driver:
            await publish(driver, second)
            reply = private_replies(slack)[-1]
            assert "Posting version 1 to #social-work-all was interrupted last time" in reply
            assert "`/brief publish tricky again`" in reply
            assert [m for m in slack.messages("C0SWALL") if m.blocks] == []
            await driver.slash_command(SENIOR_MANAGER, "/brief", "publish tricky again")
            await second.work.idle()
            assert len([m for m in slack.messages("C0SWALL") if m.blocks]) == 1
            assert "Posted to <#C0SWALL>" in private_replies(slack)[-1]
    finally:
        await runner.cleanup()
        await second.stop()


async def test_reach_counts_people_not_other_bots_or_deactivated_accounts(slack, bot, driver):
    channel = slack.workspace.channels["C0SWALL"]
    slack.workspace.add_user("U0OTHERBOT", name="rota-bot", real_name="Rota", is_bot=True)
    slack.workspace.add_user("U0LEFT", name="former", real_name="Former Worker", deleted=True)
    channel.members += ["U0OTHERBOT", "U0LEFT"]
    await publish(driver, bot)
    people = [m for m in channel.members if m not in ("U0OTHERBOT", "U0LEFT", "U0BOT")]
    assert f"Posted to <#C0SWALL> ({len(people)} people)." in private_replies(slack)[0]
    recipients = await bot.storage.call(
        lambda db: {r["user_id"] for r in db.table("recipients").rows}
    )
    assert recipients == set(people)


async def test_when_members_cannot_be_listed_the_reach_is_unknown_not_zero(
    slack, bot, driver, monkeypatch
):
    from slack_sdk.errors import SlackApiError

    async def refuse(**kwargs):
        raise SlackApiError("missing_scope", {"ok": False, "error": "missing_scope"})

    monkeypatch.setattr(bot.deps.client, "conversations_members", refuse)
    await publish(driver, bot)
    reply = private_replies(slack)[0]
    assert "Posted to <#C0SWALL>. I couldn't list its members" in reply
    assert "(0 people)" not in reply
    await driver.slash_command(SENIOR_MANAGER, "/brief", "status tricky")
    await bot.work.idle()
    status = private_replies(slack)[-1]
    assert "Reach unknown: no channel's members could be listed." in status
    assert "Reached 0" not in status


async def test_a_lost_connection_while_listing_members_still_answers_the_manager(
    slack, bot, driver, monkeypatch
):
    import aiohttp

    async def drop(**kwargs):
        raise aiohttp.ServerDisconnectedError()

    monkeypatch.setattr(bot.deps.client, "users_list", drop)
    await publish(driver, bot)
    reply = private_replies(slack)[0]
    assert "Posted to <#C0SWALL>" in reply  # reach falls back to every member but the bot
    monkeypatch.setattr(bot.deps.client, "conversations_members", drop)
    slack.workspace.channels["C0QUIET"].members.append(slack.workspace.bot_user_id)
    await publish(driver, bot)
    assert "Posted to <#C0QUIET>. I couldn't list its members" in private_replies(slack)[-1]


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

    monkeypatch.setattr(bot.deps.roles._client, "usergroups_list", drop)
    response = await driver.slash_command(SENIOR_MANAGER, "/brief", command)
    await bot.work.idle()
    assert response.status == 200
    [reply] = private_replies(slack)
    assert expected in reply
    assert [m for m in slack.messages("C0SWALL") if m.blocks] == []
