"""The circular: skipped (and its publisher told) with nothing new, exactly the new items
otherwise, once per period across a restart. The clock is the bot's own, moved by the test."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.app import LineOfSight
from bot.content import check_content
from bot.storage.writer import utc_iso
from handlers.briefings.circulars import JOB
from slack_standin.harness import posts
from tests.conftest import (
    ENGAGEMENT_LEAD,
    REPO,
    SENIOR_MANAGER,
    SOCIAL_WORK_ALL,
    publish_confirmed,
    stored_question,
)
from tests.test_reminders import Clock

LONDON = ZoneInfo("Europe/London")
CIRCULAR = """---
id: weekly-round-up
title: The week in children's services
audience: ["#social-work-all"]
schedule: every Friday 09:00
publisher: U0SM01
---
Here is what changed this week, in one place.
"""


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """December 2026 in London: the 3rd is a Thursday, the 4th and 11th Fridays."""
    return datetime(2026, 12, day, hour, minute, tzinfo=LONDON)


@pytest.fixture
def clock():
    return Clock(at(3, 12))


@pytest.fixture
def content_dir(tmp_path):
    folder = tmp_path / "content"
    shutil.copytree(REPO / "content", folder)
    (folder / "circulars").mkdir()
    (folder / "circulars" / "weekly-round-up.md").write_text(CIRCULAR, encoding="utf-8")
    return folder


async def started(config, clock):
    los = LineOfSight(config, clock=clock)
    await los.start()
    runner = await los.listen("127.0.0.1", 0)
    los.url = f"{los.base_url}/slack/events"  # type: ignore[attr-defined]
    return los, runner


@pytest.fixture
async def bot(config, clock):
    los, runner = await started(config, clock)
    yield los
    await runner.cleanup()
    await los.stop()


async def run(bot, clock, when):
    clock.now = when
    await bot.scheduler.run_now(JOB)
    assert await bot.outbox.idle(30)


def circulars_in(slack):
    return [
        m for m in posts(slack, SOCIAL_WORK_ALL) if "The week in children" in json.dumps(m.blocks)
    ]


def notes_to_publisher(slack):
    return [m for m in slack.messages(SENIOR_MANAGER) if "was not sent" in (m.text or "")]


async def issues(bot):
    return await bot.storage.call(
        lambda db: [
            tuple(r) for r in db.execute("SELECT period, number, status, items FROM circular_runs")
        ]
    )


async def test_nothing_new_is_skipped_and_the_publisher_is_told_once(slack, bot, driver, clock):
    await run(bot, clock, at(3, 12))  # Thursday: last Friday's issue is too old to send now
    assert await issues(bot) == []
    await run(bot, clock, at(4, 9, 1))
    await run(bot, clock, at(4, 9, 2))  # the same period again
    assert circulars_in(slack) == []
    [note] = notes_to_publisher(slack)
    assert "there was nothing new since 27 November 2026" in note.text
    assert [(n, s, i) for _, n, s, i in await issues(bot)] == [(1, "skipped", 0)]


async def test_an_issue_lists_exactly_what_is_new_since_the_last(slack, bot, driver, clock):
    clock.now = at(3, 10)
    await publish_confirmed(driver, bot, "publish recruitment-funding now")
    await publish_confirmed(driver, bot, "publish triple-lock now")  # team managers only
    assert await bot.outbox.idle(30)
    asked = await stored_question(
        bot, "U0SW01", "Can NQSWs get protected caseloads?", now=clock.now
    )
    await bot.storage.call(
        lambda db: db.execute(
            "UPDATE questions SET state = 'answered', answer = 'Yes.', action = 'The cap is in "
            "the ASYE policy.', answered_at = '2026-12-03T11:00:00+00:00' WHERE id = ?",
            [asked.question.id],
        )
    )
    await run(bot, clock, at(4, 9, 1))
    [issue] = circulars_in(slack)
    shown = json.dumps(issue.blocks, ensure_ascii=False)
    assert "Here is what changed this week" in shown
    assert "*What the extra recruitment money means for your caseload*" in shown
    # A briefing that reached fewer than MIN_GROUP_SIZE people is not named to everyone.
    assert "triple-lock" not in shown.lower()
    assert "Can NQSWs get protected caseloads?" in shown
    assert "The cap is in the ASYE policy." in shown
    assert "The revised Threshold Document" not in shown  # never published: not news
    assert "Practice guidance" not in shown  # no note added or reviewed
    # Its reach (12 people: at least MIN_GROUP_SIZE); no acknowledgement released yet, so
    # none shown, rather than "0 of the 12", which staff would read as nobody.
    assert "reached 12 people" in shown
    assert "0 of the 12" not in shown
    assert [(n, s, i) for _, n, s, i in await issues(bot)] == [(1, "sent", 2)]
    # The next week has nothing new since this issue: skipped.
    await run(bot, clock, at(11, 9, 5))
    assert len(circulars_in(slack)) == 1
    assert len(notes_to_publisher(slack)) == 1


async def test_a_new_practice_note_is_news_in_the_next_issue(
    slack, bot, driver, clock, content_dir
):
    await run(bot, clock, at(4, 9, 1))  # first issue: skipped, and the notes there were noted
    (content_dir / "practice" / "family-time.md").write_text(
        "---\nid: family-time\ntitle: Family time for children looked after\nowner: Head of "
        "CLA\nreviewed: 2026-11-20\n---\nFamily time is planned with the child.\n",
        encoding="utf-8",
    )
    clock.now = at(8, 10)
    await bot.deps.practice.load()
    await run(bot, clock, at(11, 9, 1))
    [issue] = circulars_in(slack)
    shown = json.dumps(issue.blocks, ensure_ascii=False)
    assert "New: *Family time for children looked after*" in shown
    assert "Reviewed:" not in shown


async def test_once_per_period_across_a_restart(slack, bot, driver, clock, config):
    clock.now = at(3, 10)
    await publish_confirmed(driver, bot, "publish recruitment-funding now")
    assert await bot.outbox.idle(30)
    await run(bot, clock, at(4, 9, 1))
    await bot.stop()  # a restart in the same period…
    clock.now = at(4, 9, 30)
    again = LineOfSight(config, clock=clock)
    await again.start()  # …runs the job at start, and again
    try:
        await again.scheduler.run_now(JOB)
        assert again.outbox is not None
        assert await again.outbox.idle(30)
        assert len(await issues(again)) == 1
    finally:
        await again.stop()
    assert len(circulars_in(slack)) == 1


async def test_leads_preview_the_next_issue(slack, bot, driver, clock):
    clock.now = at(3, 10)
    await publish_confirmed(driver, bot, "publish recruitment-funding now")
    assert await bot.outbox.idle(30)
    await driver.slash_command(ENGAGEMENT_LEAD, "/brief", "circular preview weekly-round-up")
    await bot.work.idle()
    [reply] = [s for s in slack.seen_by(ENGAGEMENT_LEAD) if s.kind == "response"]
    shown = json.dumps(reply.blocks, ensure_ascii=False)
    assert "1 new item(s) since 27 November 2026" in shown
    assert "What the extra recruitment money" in shown
    assert await issues(bot) == []  # a preview sends nothing


def test_a_circular_is_checked_with_file_and_line(tmp_path):
    folder = tmp_path / "content"
    (folder / "briefings").mkdir(parents=True)
    (folder / "circulars").mkdir()
    (folder / "circulars" / "bad.md").write_text(
        "---\nid: bad\ntitle: Bad\naudience: ['#general']\nschedule: fortnightly-ish\n"
        "publisher: Jane Smith\n---\nHello.\n",
        encoding="utf-8",
    )
    problems = [str(p) for p in check_content(folder, LONDON)]
    assert any("bad.md:5: schedule: write it like 'every Friday 09:00'" in p for p in problems)
    assert any("bad.md:6: publisher 'Jane Smith' must be a Slack user id" in p for p in problems)


async def settle(bot, clock) -> None:
    """The outbox emptied, moving the bot's clock on past any Retry-After it waits for: a DM
    to the publisher can meet Slack's 1 a second per channel, and the clock here stands still."""
    for _ in range(5):
        if await bot.outbox.idle(3):
            return
        clock.now += timedelta(seconds=2)
        bot.outbox.wake()
    raise AssertionError("the outbox did not empty")


async def test_a_period_due_between_a_backup_and_its_restore_is_held_not_sent_again(
    slack, bot, driver, clock
):
    """The database was put back from a backup taken before Friday's issue, after it was due:
    it may have gone out, so it is held and the publisher told; the next Friday's goes."""
    clock.now = at(3, 10)
    await publish_confirmed(driver, bot, "publish recruitment-funding now")  # news for both
    gap = (utc_iso(at(4, 8)), utc_iso(at(4, 10)))
    await bot.storage.call(
        lambda db: db.execute("INSERT INTO restores (taken_at, restored_at) VALUES (?, ?)", gap)
    )
    await run(bot, clock, at(4, 10, 5))
    assert circulars_in(slack) == []
    [held] = [m.text for m in slack.messages(SENIOR_MANAGER) if "restored from a" in m.text]
    assert "*The week in children's services* was due at 4 Dec 2026, 09:00." in held
    assert "restored from a backup taken at 4 Dec 2026, 08:00" in held
    await run(bot, clock, at(11, 9, 5))
    clock.now = at(11, 12)
    await publish_confirmed(driver, bot, "publish cse-team now")
    await settle(bot, clock)  # posted, and who it reached listed: news for the 18th
    clock.now = at(18, 9, 5)
    await bot.scheduler.run_now(JOB)
    await settle(bot, clock)
    assert len(circulars_in(slack)) == 1
    assert [(n, s) for _, n, s, _ in await issues(bot)] == [
        (1, "held"),
        (2, "skipped"),
        (3, "sent"),
    ]
