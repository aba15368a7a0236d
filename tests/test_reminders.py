"""Reminders reach only those yet to acknowledge, once, and only in working hours.

The clock is the bot's own (`LineOfSight(clock=…)`), moved by the test: nothing sleeps.
threshold-document has `remind_after: 2d` and goes by DM to eight people.
"""

from __future__ import annotations

import shutil
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from handlers.briefings import ACK_ACTION
from handlers.briefings.reminders import in_working_hours, send_due
from tests.clocks import FixedClock as Clock
from tests.conftest import REPO, SOCIAL_WORKERS, publish_confirmed

LONDON = ZoneInfo("Europe/London")
BRIEFING = "threshold-document"
PEOPLE = [*SOCIAL_WORKERS, "U0TM01", "U0TM02"]


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in December 2026, in London: the 4th is a Friday, the 7th a Monday."""
    return datetime(2026, 12, day, hour, minute, tzinfo=LONDON)


@pytest.fixture
def clock():
    return Clock(at(4, 10))  # Friday 10:00


@pytest.fixture
def content_dir(tmp_path):
    folder = tmp_path / "content"
    shutil.copytree(REPO / "content", folder)
    return folder


def reminders_of(slack, person):
    return [
        m
        for m in slack.messages(person)
        if any(b.get("block_id") == "reminder" for b in m.blocks or [])
    ]


def briefing_copy(slack, person):
    [copy] = [m for m in slack.messages(person) if m.blocks and m.blocks[0]["type"] == "header"]
    return copy


async def remind(bot, clock, when) -> int:
    clock.now = when
    queued = await send_due(bot.deps)
    assert await bot.outbox.idle(30)
    return queued


async def test_reminders_go_once_to_those_yet_to_acknowledge_inside_working_hours(
    slack, bot, driver, clock
):
    await publish_confirmed(driver, bot, f"publish {BRIEFING}")
    assert await bot.outbox.idle(30)
    reader = SOCIAL_WORKERS[0]
    await driver.click(reader, briefing_copy(slack, reader), ACK_ACTION)
    await bot.work.idle()

    assert await remind(bot, clock, at(4, 16)) == 0  # Friday afternoon: not due for two days
    assert await remind(bot, clock, at(6, 10, 5)) == 0  # due on Sunday, but it is the weekend
    assert await remind(bot, clock, at(7, 7, 59)) == 0  # Monday, before 08:00
    assert await remind(bot, clock, at(7, 8, 0)) == len(PEOPLE) - 1
    for person in PEOPLE:
        assert len(reminders_of(slack, person)) == (0 if person == reader else 1)
    assert await remind(bot, clock, at(7, 9)) == 0  # never a second one
    assert await remind(bot, clock, at(8, 9)) == 0

    late = SOCIAL_WORKERS[1]
    [reminder] = reminders_of(slack, late)
    assert (
        "*The revised Threshold Document is now in use* is waiting for you"
        in (reminder.blocks[0]["text"]["text"])
    )
    await driver.click(late, reminder, ACK_ACTION)  # acknowledged from the reminder itself
    await bot.work.idle()
    assert await bot.storage.acknowledgements.awaiting_ack(late) == []


async def test_a_correction_that_asks_again_starts_a_new_round_of_reminders(
    slack, bot, driver, clock, content_dir
):
    await publish_confirmed(driver, bot, f"publish {BRIEFING}")
    assert await bot.outbox.idle(30)
    reader = SOCIAL_WORKERS[0]
    await driver.click(reader, briefing_copy(slack, reader), ACK_ACTION)
    await bot.work.idle()
    assert await remind(bot, clock, at(7, 8)) == len(PEOPLE) - 1

    path = content_dir / "briefings" / f"{BRIEFING}.md"
    text = path.read_text(encoding="utf-8").replace(
        "version: 2\n",
        'version: 3\ncorrection: "The escalation route changed."\nreacknowledge: true\n',
    )
    path.write_text(text, encoding="utf-8")
    clock.now = at(7, 9, 30)
    await publish_confirmed(driver, bot, f"publish {BRIEFING}")
    assert await bot.outbox.idle(30)
    assert await remind(bot, clock, at(8, 9)) == 0  # the new round's two days have not passed
    assert await remind(bot, clock, at(9, 9, 30)) == len(PEOPLE)  # the reader too, this time
    assert len(reminders_of(slack, reader)) == 1
    assert all(len(reminders_of(slack, p)) == 2 for p in PEOPLE if p != reader)


async def test_a_correction_that_does_not_matter_brings_no_second_reminder(
    slack, bot, driver, clock, content_dir
):
    await publish_confirmed(driver, bot, f"publish {BRIEFING}")
    assert await bot.outbox.idle(30)
    assert await remind(bot, clock, at(7, 8)) == len(PEOPLE)
    path = content_dir / "briefings" / f"{BRIEFING}.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("version: 2\n", "version: 3\ncorrection: A typo.\n"), "utf-8")
    await publish_confirmed(driver, bot, f"publish {BRIEFING}")
    assert await bot.outbox.idle(30)
    assert await remind(bot, clock, at(10, 10)) == 0
    assert all(len(reminders_of(slack, p)) == 1 for p in PEOPLE)


@pytest.mark.parametrize(
    ("when", "inside"),
    [
        (at(7, 8, 0), True),
        (at(7, 17, 59), True),
        (at(7, 18, 0), False),
        (at(7, 7, 59), False),
        (at(5, 12), False),  # Saturday
        (datetime(2026, 12, 7, 8, 30).replace(tzinfo=ZoneInfo("UTC")), True),
    ],
)
def test_working_hours_are_08_to_18_monday_to_friday_where_the_service_is(when, inside):
    assert in_working_hours(when, LONDON, (time(8), time(18)), frozenset(range(5))) is inside


def test_working_hours_follow_the_clocks_going_forward():
    # 07:30 UTC on a summer Monday is 08:30 in London: inside.
    summer = datetime(2026, 6, 1, 7, 30, tzinfo=ZoneInfo("UTC"))
    assert in_working_hours(summer, LONDON, (time(8), time(18)), frozenset(range(5)))
