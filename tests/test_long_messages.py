"""Long messages (issue 18, item 11): Slack refuses a message whose blocks hold about 12,000
characters of text in all (`msg_blocks_too_long`), and `text` past 40,000 (`msg_too_long`).

The stand-in refuses them as Slack does, on every method that takes blocks; a briefing whose
message cannot be sent is refused by `content check`, by publishing and by the composer's
Preview, with how much it is over and what to do; the confirmation of a publish keeps each
section within Slack's limits however long the title, the correction and the audience.
(Long circulars and agendas, split into several messages: tests/test_long_deliveries.py.)
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.briefing_message import message_length
from bot.content import check_content, load_briefings
from bot.slack.long_messages import (
    MESSAGE_TEXT_BUDGET,
    block_text_length,
    pack_lines,
    split_message,
)
from bot.storage.outbox import Plan, PlannedEntry
from handlers.briefings.blocks import build_confirmation
from handlers.briefings.compose import read_compose
from slack_standin import Workspace
from slack_standin.blockkit import validate_message_blocks
from tests.conftest import BOT_TOKEN, REPO, SENIOR_MANAGER, SOCIAL_WORK_ALL, publish_confirmed
from tests.test_compose import drafts, form, preview

LONDON = ZoneInfo("Europe/London")
LONG_BRIEFING = """---
id: long-read
title: Everything about the new case management system
audience: ["#social-work-all"]
acknowledge: true
---
{body}
"""
# Ten paragraphs of 1,300 characters: 13,000 characters of plain prose.
PARAGRAPH = ("The new system keeps every case note in one place for the whole team. " * 19)[:1300]
LONG_BODY = "\n\n".join(f"{n}. {PARAGRAPH}" for n in range(1, 11))


def section(text: str) -> dict[str, object]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


# --- the stand-in refuses what Slack refuses --------------------------------------------------


@pytest.fixture
def client(slack):
    return AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url, retry_handlers=[])


async def refused(coro) -> dict[str, object]:
    with pytest.raises(SlackApiError) as info:
        await coro
    return dict(info.value.response.data)  # type: ignore[arg-type]


async def test_the_stand_in_refuses_over_long_blocks_on_every_method_that_takes_them(slack, client):
    fits = [section("x" * 2500) for _ in range(4)]  # 10,000 characters: Slack takes it
    too_long = [*fits, section("y" * 2500)]  # 12,500: every section valid, the whole not
    assert validate_message_blocks(too_long) == []
    posted = await client.chat_postMessage(channel=SOCIAL_WORK_ALL, text="t", blocks=fits)
    # Slack's shape: ok false and the code, no count or pointer (slackapi/bolt-js #2867).
    error = {"ok": False, "error": "msg_blocks_too_long"}
    assert (
        await refused(client.chat_postMessage(channel=SOCIAL_WORK_ALL, text="t", blocks=too_long))
        == error
    )
    assert (
        await refused(
            client.chat_update(channel=SOCIAL_WORK_ALL, ts=posted["ts"], text="t", blocks=too_long)
        )
        == error
    )
    member = slack.ws.channels[SOCIAL_WORK_ALL].members[0]
    assert (
        await refused(
            client.chat_postEphemeral(
                channel=SOCIAL_WORK_ALL, user=member, text="t", blocks=too_long
            )
        )
        == error
    )
    url = slack.issue_response_url(member, SOCIAL_WORK_ALL, None)
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"text": "t", "blocks": too_long}) as response:
            assert (response.status, await response.text()) == (400, "msg_blocks_too_long")
        async with session.post(url, json={"text": "t", "blocks": fits}) as response:
            assert response.status == 200
    # `text` past 40,000 characters: msg_too_long, the error Slack lists for it.
    assert await refused(client.chat_postMessage(channel=SOCIAL_WORK_ALL, text="z" * 40_001)) == {
        "ok": False,
        "error": "msg_too_long",
    }
    assert [m.text for m in slack.messages(SOCIAL_WORK_ALL)] == ["t"]  # only the one that fit
    assert slack.messages(SOCIAL_WORK_ALL)[0].blocks[0]["text"]["text"] == "x" * 2500


# --- the pure pieces --------------------------------------------------------------------------


def test_a_message_that_fits_is_left_as_it_is():
    message = {"text": "short", "blocks": [section("hello")]}
    assert split_message(message) == [message]


def test_a_long_message_is_split_in_order_into_messages_that_each_fit():
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": "Round-up"}}]
    blocks += [section(f"{n} " + "w" * 2900) for n in range(12)]  # ~35,000 characters
    blocks.append(
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Open"},
                    "action_id": "open",
                }
            ],
        }
    )
    parts = split_message({"text": "Round-up", "blocks": blocks})
    assert len(parts) == 4
    for n, part in enumerate(parts, 1):
        assert validate_message_blocks(part["blocks"]) == []
        assert block_text_length(part["blocks"]) <= MESSAGE_TEXT_BUDGET
        assert part["blocks"][-1]["elements"][0]["text"] == f"Part {n} of 4"
        assert part["text"] == f"Round-up (part {n} of 4)"
    # Every block once, in its order; the buttons stay at the end, in the last part.
    assert [b for p in parts for b in p["blocks"][:-1]] == blocks
    assert parts[-1]["blocks"][-2]["type"] == "actions"
    # Sixty small blocks: under the text budget but over Slack's 50 a message.
    many = split_message({"text": "t", "blocks": [section("x")] * 60})
    assert [len(p["blocks"]) for p in many] == [50, 12]


def test_lines_are_packed_whole_into_sections():
    assert pack_lines(["a" * 2000, "b" * 999, "c"], 3000) == ["a" * 2000 + "\n" + "b" * 999, "c"]
    assert pack_lines(["d" * 3005], 3000) == ["d" * 2999 + "…"]


# --- a briefing that cannot be sent is refused before it is sent -----------------------------


SIXTY = [f"U0PEOPLE{n:02d}" for n in range(1, 61)]  # sixty people picked one by one


@pytest.fixture
def workspace():
    ws = Workspace.sample(n_staff=12)
    for n, person in enumerate(SIXTY, 1):
        ws.add_user(person, name=f"worker.{n}", real_name=f"Worker {n}")
    return ws


@pytest.fixture
def content_dir(tmp_path):
    folder = tmp_path / "content"
    shutil.copytree(REPO / "content", folder)
    (folder / "briefings" / "long-read.md").write_text(
        LONG_BRIEFING.format(body=LONG_BODY), encoding="utf-8"
    )
    sixty = ", ".join(f'"{person}"' for person in SIXTY)
    (folder / "briefings" / "sixty.md").write_text(
        f"---\nid: sixty\ntitle: {'R&D ' * 37}&&\naudience: [{sixty}]\ndeliver: dm\n"
        "acknowledge: true\nremind_after: 2d\n---\nThe new rota starts on Monday.\n",
        encoding="utf-8",
    )
    return folder


def test_content_check_refuses_a_briefing_too_long_for_one_message(content_dir):
    [problem] = [p for p in check_content(content_dir, LONDON) if p.path.name == "long-read.md"]
    assert problem.line == 7  # the body's first line
    assert "long-read" not in load_briefings(content_dir, LONDON)  # never sent
    # Eight of its ten paragraphs fit; the count is of the message as built from all ten (the
    # body with its title, footer and button), over what one message holds.
    fitting = LONG_BRIEFING.format(body="\n\n".join(LONG_BODY.split("\n\n")[:8]))
    (content_dir / "briefings" / "long-read.md").write_text(fitting, encoding="utf-8")
    briefing = load_briefings(content_dir, LONDON)["long-read"]
    assert 10_000 < message_length(briefing, LONDON) <= MESSAGE_TEXT_BUDGET
    over = message_length(replace(briefing, body=LONG_BODY), LONDON) - MESSAGE_TEXT_BUDGET
    assert 1_500 < over < 3_000
    assert problem.message == (
        f"the briefing is too long for one Slack message: {over:,} characters over the 11,000 "
        "a message can hold (title, body and correction as sent). Shorten the body, or put the "
        "full text in a document and link to it"
    )


def test_what_is_measured_is_the_message_as_sent_not_the_file(tmp_path):
    """2,400 characters in the file, but `&` is sent escaped (`&amp;`): five times as long in
    the message, which Slack would refuse."""
    folder = tmp_path / "content"
    (folder / "briefings").mkdir(parents=True)
    body = "&" * 2_400  # 2,400 characters in the file
    (folder / "briefings" / "qa.md").write_text(
        LONG_BRIEFING.format(body=body).replace("long-read", "qa"), encoding="utf-8"
    )
    [problem] = check_content(folder, LONDON)
    assert "characters over the 11,000" in problem.message


async def test_publishing_a_briefing_too_long_for_one_message_says_so_and_sends_nothing(
    slack, bot, driver
):
    await publish_confirmed(driver, bot, "publish long-read now")
    assert await bot.outbox.idle(30)
    [reply] = [s.text for s in slack.seen_by(SENIOR_MANAGER) if s.kind == "response"]
    assert reply.startswith(
        "*Everything about the new case management system* can't be published until its file "
        "is fixed, so nothing was sent."
    )
    assert "too long for one Slack message" in reply
    assert "characters over the 11,000" in reply
    assert "put the full text in a document and link to it" in reply
    assert slack.calls_to("chat.postMessage") == []


async def test_the_composer_refuses_a_body_too_long_as_a_message(slack, bot, driver):
    body = "&" * 2_400  # 2,400 characters typed; 12,000 as sent
    response, _ = await preview(driver, bot, form(body=body))
    error = response.json["errors"]["body"]
    assert error.startswith("As a Slack message this is ")
    assert error.endswith(
        " characters too long (11,000 at most). Shorten it, or link to a document with the rest."
    )
    assert len(error) <= 150
    assert await drafts(bot) == 0
    # A body as long, without the characters Slack escapes, is fine.
    _, errors = read_compose(form(body="+" * 2_400), tz=LONDON, now=datetime.now(LONDON), named={})
    assert "body" not in errors


# --- the confirmation fits, and leaves nothing out a manager needs ---------------------------


def test_a_confirmation_with_a_long_title_correction_and_sixty_entries_fits():
    entries = [
        PlannedEntry(
            raw=f"#team-{n:02d}-" + "&" * 60,
            ref=f"C0T{n:03d}",
            post=True,
            members=tuple(f"U0C{n:02d}{m}" for m in range(5)),
        )
        for n in range(30)
    ]
    entries += [
        PlannedEntry(raw=f"U0P{n:04d}", ref=f"U0P{n:04d}", post=False, people=(f"U0P{n:04d}",))
        for n in range(30)
    ]
    plan = Plan(
        briefing_id="rota",
        version=2,
        title="R&D " * 37 + "&&",  # 150 characters, 750 as sent
        acknowledge=True,
        published_by=SENIOR_MANAGER,
        message={"text": "x", "blocks": []},
        entries=tuple(entries),
        correction="<&>" * 100,  # 300 characters, 1,500 as sent
        reacknowledge=True,
        remind_after_s=86400,
    )
    blocks = [
        b.to_dict()
        for b in build_confirmation(plan, "t", at_text=None, earlier=(40, 3), twice_above=100)
    ]
    assert validate_message_blocks(blocks) == []  # each section within 3,000
    assert block_text_length(blocks) <= MESSAGE_TEXT_BUDGET
    shown = "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert shown.startswith("Ready to send *" + "R&amp;D " * 37)
    assert "• #team-19-" in shown  # twenty listed…
    assert "#team-20-" not in shown  # …and the rest counted
    assert "• …and 40 more entries: 10 channel posts and direct messages to 30 people" in shown
    assert "*180 people in all*" in shown  # 150 in the channels, 30 by DM
    assert "“Updated: " + "&lt;&amp;&gt;" * 100 + "”" in shown  # the correction, whole
    assert "43 earlier copies are updated in place" in shown
    assert "Everyone is asked to acknowledge again." in shown
    assert "after 1 day gets one reminder" in shown
    assert "so I'll ask you to confirm twice" in shown
    assert blocks[-1]["elements"][0]["text"]["text"] == "Send to 180 people"
    assert len(json.dumps(blocks)) < 40_000


async def test_the_confirmation_of_a_publish_to_sixty_people_picked_one_by_one_is_shown(
    slack, bot, driver
):
    await driver.slash_command(SENIOR_MANAGER, "/brief", "publish sixty")
    await bot.work.idle()
    [reply] = [s for s in slack.seen_by(SENIOR_MANAGER) if s.kind == "response"]
    assert [c.error for c in slack.response_calls if not c.ok] == []  # Slack took it
    shown = "\n".join(b["text"]["text"] for b in reply.blocks if b["type"] == "section")
    assert shown.startswith("Ready to send *" + "R&amp;D " * 37 + "&amp;&amp;* (version 1).")
    assert "• U0PEOPLE20 — a direct message each to 1 person" in shown
    assert "• …and 40 more entries: direct messages to 40 people between them" in shown
    assert "*60 people in all*" in shown
    assert "after 2 days gets one reminder" in shown
    assert reply.blocks[-1]["elements"][0]["text"]["text"] == "Send to 60 people"
