"""Long circulars and agendas (issue 18, item 11) arrive whole, as several messages in order,
each within Slack's limits and each sent exactly once through the outbox: across a lost send
(the later parts wait for the earlier) and across a restart."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime

import pytest

from bot.app import LineOfSight
from bot.slack.long_messages import MESSAGE_TEXT_BUDGET, block_text_length
from handlers.briefings.circulars import JOB
from handlers.surgery import AGENDA_JOB
from slack_standin.blockkit import validate_message_blocks
from slack_standin.harness import posts
from tests.clocks import Clock
from tests.conftest import (
    ENGAGEMENT_LEAD,
    PAG_SETTINGS,
    REPO,
    SOCIAL_WORK_ALL,
    SOCIAL_WORKERS,
    make_config,
    publish_confirmed,
    stored_question,
)

FRIDAY = datetime(2026, 12, 4, 9, 1, tzinfo=UTC)  # the circular's time: Fridays 09:00 London
# Twenty paragraphs from the Director, ~1,500 characters each: ~30,000 characters in all.
INTRO = "\n\n".join(
    f"Paragraph {n}: " + ("This month we changed how duty works across the teams. " * 27)
    for n in range(1, 21)
)
CIRCULAR = f"""---
id: monthly-letter
title: A letter from the Director
audience: ["#social-work-all"]
schedule: every Friday 09:00
publisher: U0SM01
---
{INTRO}
"""
PAG = "C0PAG"
CUTOFF = datetime(2026, 12, 14, 10, 30, tzinfo=UTC)  # the PAG meets 17 Dec; its cut-off: 14 Dec


@pytest.fixture
def clock():
    return Clock(datetime(2026, 12, 3, 12, tzinfo=UTC))


@pytest.fixture
def content_dir(tmp_path):
    folder = tmp_path / "content"
    shutil.copytree(REPO / "content", folder)
    (folder / "circulars").mkdir()
    (folder / "circulars" / "monthly-letter.md").write_text(CIRCULAR, encoding="utf-8")
    return folder


@pytest.fixture
def config(tmp_path, slack, content_dir):
    return make_config(slack, tmp_path, content_dir, **PAG_SETTINGS, AGENDA_SIZE="40")


def parts_in(slack, channel, marker):
    """The messages in `channel` that hold `marker`, oldest first, with the "Part n of N"
    each says it is."""
    found = []
    for message in posts(slack, channel):
        shown = json.dumps(message.blocks, ensure_ascii=False)
        if marker in shown:
            part = re.search(r"Part (\d+) of (\d+)", shown)
            found.append((message, (int(part[1]), int(part[2])) if part else None))
    return found


def section_text(messages):
    return "\n".join(
        b["text"]["text"] for m in messages for b in m.blocks if b["type"] == "section"
    )


def assert_whole_and_within_limits(slack, found, total):
    assert [n for _, n in found] == [(n, total) for n in range(1, total + 1)]  # each once, in order
    for message, _ in found:
        assert validate_message_blocks(message.blocks) == []
        assert block_text_length(message.blocks) <= MESSAGE_TEXT_BUDGET
    # Slack refused none for its length (a 429 for posting fast in one channel is waited out).
    refused = {c.error for c in slack.calls_to("chat.postMessage") if not c.ok}
    assert refused <= {"internal_error", "ratelimited"}


async def news(driver, bot, clock):
    """Something new for the circular to carry (with nothing new it is not sent)."""
    clock.now = datetime(2026, 12, 3, 10, tzinfo=UTC)
    await publish_confirmed(driver, bot, "publish recruitment-funding now")
    assert await bot.outbox.idle(30)


async def test_a_long_circular_arrives_whole_in_order_once_each_even_after_a_lost_send(
    slack, bot, driver, clock
):
    await news(driver, bot, clock)
    # Slack fails the first post on its side: the copy is looked for and sent again later,
    # and the parts after it wait for it, so staff still read them in order.
    slack.force_error("chat.postMessage", "internal_error")
    clock.now = FRIDAY
    await bot.scheduler.run_now(JOB)
    assert await bot.outbox.idle(60)
    found = parts_in(slack, SOCIAL_WORK_ALL, "Paragraph")
    total = len(found)
    assert total >= 3
    assert_whole_and_within_limits(slack, found, total)
    shown = section_text(m for m, _ in found)
    for n in range(1, 21):  # nothing of the intro left out
        assert shown.count(f"Paragraph {n}: ") == 1
    assert shown.index("Paragraph 1: ") < shown.index("Paragraph 20: ")
    assert "What the extra recruitment money" in shown  # the news, after the intro
    assert "A letter from the Director" in json.dumps(found[0][0].blocks)
    assert [m.text for m, _ in found] == [
        f"A letter from the Director: 1 new since 27 November 2026 (part {n} of {total})"
        for n in range(1, total + 1)
    ]


async def test_a_long_circular_is_sent_once_across_a_restart(slack, bot, driver, clock, config):
    await news(driver, bot, clock)
    clock.now = FRIDAY
    await bot.scheduler.run_now(JOB)  # queued: the issue and all its parts, in one write
    await bot.stop()  # stopped before the outbox is done with it
    again = LineOfSight(config, clock=clock)
    await again.start()  # the job runs again at start, and the outbox resumes
    try:
        await again.scheduler.run_now(JOB)
        assert again.outbox is not None
        assert await again.outbox.idle(60)
    finally:
        await again.stop()
    found = parts_in(slack, SOCIAL_WORK_ALL, "Paragraph")
    assert len(found) >= 3
    assert_whole_and_within_limits(slack, found, len(found))


async def test_a_long_agenda_arrives_whole_in_order_once(slack, bot, clock):
    for n in range(40):
        text = (
            f"Question {n + 1:02d}: " + "How will the new duty rota work for part-time staff? " * 9
        )
        asked = await stored_question(
            bot,
            SOCIAL_WORKERS[n % len(SOCIAL_WORKERS)],
            text,
            now=clock(),
            topic="Practice",
            forum="pag",
            per_day=100,
        )
        await bot.storage.questions.moderate(
            asked.question.id, action="accept", by=ENGAGEMENT_LEAD, now=clock()
        )
    clock.now = CUTOFF
    await bot.scheduler.run_now(AGENDA_JOB)
    await bot.scheduler.run_now(AGENDA_JOB)  # a second run changes nothing
    assert await bot.outbox.idle(60)
    found = parts_in(slack, PAG, "Question")
    assert len(found) >= 2
    assert_whole_and_within_limits(slack, found, len(found))
    assert "Practice Advisory Group, 17 Dec 2026" in json.dumps(found[0][0].blocks)
    shown = section_text(m for m, _ in found)
    # All forty, each once, numbered on from one part to the next as the meeting takes them.
    assert sorted(int(n) for n in re.findall(r"Question (\d\d):", shown)) == list(range(1, 41))
    assert [int(n) for n in re.findall(r"^(\d+)\. Question", shown, re.M)] == list(range(1, 41))


async def test_a_long_circulars_preview_shows_how_it_begins_and_how_many_messages(
    slack, bot, driver, clock
):
    await news(driver, bot, clock)
    await driver.slash_command(ENGAGEMENT_LEAD, "/brief", "circular preview monthly-letter")
    await bot.work.idle()
    [reply] = [s for s in slack.seen_by(ENGAGEMENT_LEAD) if s.kind == "response"]
    assert "It is too long for one Slack message, so it will go as 4 messages" in reply.text
    assert "Paragraph 1: " in json.dumps(reply.blocks)
    assert block_text_length(reply.blocks) <= MESSAGE_TEXT_BUDGET
    assert [c.error for c in slack.response_calls if not c.ok] == []
