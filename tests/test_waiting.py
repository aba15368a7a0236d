"""Who has not acknowledged, by name, its one reminder sent now, and `/engage audit`: end to end
against the stand-in.

threshold-document goes by DM to eight people (the six social workers and both team managers),
asks for acknowledgement and has `remind_after: 2d`. The clock is the bot's own, moved by the
test: Monday 7 December 2026, 10:00 in London, inside working hours.
"""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.slack.people import People
from handlers.briefings import ACK_ACTION
from handlers.briefings.reminders import send_due
from handlers.briefings.waiting_blocks import REMIND_NOW_ACTION, WAITING_ACTION
from tests.clocks import FixedClock as Clock
from tests.conftest import (
    ENGAGEMENT_LEAD,
    REPO,
    SENIOR_MANAGER,
    SOCIAL_WORKERS,
    newly_shown,
    publish_confirmed,
)

LONDON = ZoneInfo("Europe/London")
BRIEFING = "threshold-document"
OTHER_MANAGER = "U0SM02"  # a senior manager who did not publish it
PEOPLE = [*SOCIAL_WORKERS, "U0TM01", "U0TM02"]
READERS = SOCIAL_WORKERS[:2]  # Priya Sharma and Tom Fletcher acknowledge
# The rest, as the list shows them: by name, not by id.
BY_NAME = [
    "U0SW03",  # Aisha Rahman
    "U0TM01",  # Amara Okafor
    "U0SW04",  # Daniel Osei
    "U0SW05",  # Emma Clarke
    "U0TM02",  # Gareth Hughes
    "U0SW06",  # Kwame Mensah
]


@pytest.fixture
def clock():
    return Clock(datetime(2026, 12, 7, 10, 0, tzinfo=LONDON))  # a Monday


@pytest.fixture
def content_dir(tmp_path):
    folder = tmp_path / "content"
    shutil.copytree(REPO / "content", folder)
    return folder


def text_of(seen) -> str:
    parts = [seen.text or ""]
    for block in seen.blocks or []:
        if block.get("text"):
            parts.append(block["text"]["text"])
        parts += [
            e.get("text", "") for e in block.get("elements", []) if block["type"] == "context"
        ]
    return "\n".join(parts)


def named(seen) -> list[str]:
    """The people a list names, in its order (the head names nobody)."""
    found = []
    for block in seen.blocks:
        if block["type"] == "section" and str(block.get("block_id", "")).startswith("waiting:n"):
            found += re.findall(r"<@(U[A-Z0-9]+)>", block["text"]["text"])
    return found


def reminders_of(slack, person):
    return [
        m
        for m in slack.messages(person)
        if any(b.get("block_id") == "reminder" for b in m.blocks or [])
    ]


async def ask(driver, bot, user: str, command: str, text: str):
    """`command text` as `user`; the private answer they were shown."""
    slack = driver.standin
    since = len(slack.seen_by(user))
    await driver.slash_command(user, command, text)
    await bot.work.idle()
    shown = [s for s in slack.seen_by(user)[since:] if s.kind in ("response", "ephemeral")]
    assert shown, f"{user} was shown nothing for {command} {text}"
    return shown[-1]


async def click(driver, bot, user: str, action_id: str):
    """Press the newest `action_id` button `user` was shown; what they were shown after."""
    slack = driver.standin
    target = newly_shown(slack, user, 0, action_id)
    assert target is not None, f"{user} has no {action_id} button"
    since = len(slack.seen_by(user))
    await driver.click(user, target, action_id)
    await bot.work.idle()
    return [s for s in slack.seen_by(user)[since:] if s.kind in ("response", "ephemeral")]


async def published_and_partly_acknowledged(slack, bot, driver):
    await publish_confirmed(driver, bot, f"publish {BRIEFING}")
    assert await bot.outbox.idle(30)
    for reader in READERS:
        [copy] = [m for m in slack.messages(reader) if m.blocks and m.blocks[0]["type"] == "header"]
        await driver.click(reader, copy, ACK_ACTION)
    await bot.work.idle()


async def test_the_publisher_lists_by_name_exactly_who_has_not_acknowledged(slack, bot, driver):
    await published_and_partly_acknowledged(slack, bot, driver)

    shown = await ask(driver, bot, SENIOR_MANAGER, "/brief", f"waiting {BRIEFING}")
    assert named(shown) == BY_NAME
    body = text_of(shown)
    assert "*6 not yet*, as of 7 Dec 2026, 10:00" in body
    assert "No reminder has gone yet." in body
    assert "acknowledged (" not in body  # never a count or share of those who did
    assert not any(f"<@{reader}>" in body for reader in READERS)

    # The lead may list any briefing; the same people.
    assert named(await ask(driver, bot, ENGAGEMENT_LEAD, "/brief", f"waiting {BRIEFING}")) == (
        BY_NAME
    )


async def test_staff_and_other_senior_managers_are_refused_and_see_no_names(slack, bot, driver):
    await published_and_partly_acknowledged(slack, bot, driver)
    worker = await ask(driver, bot, SOCIAL_WORKERS[3], "/brief", f"waiting {BRIEFING}")
    assert text_of(worker).startswith("Only engagement leads, and senior managers for the")
    assert "<@" not in text_of(worker)
    other = await ask(driver, bot, OTHER_MANAGER, "/brief", f"waiting {BRIEFING}")
    assert "the briefings they published" in text_of(other)
    assert "<@" not in text_of(other)
    # Nor does their /brief status offer the button.
    status = await ask(driver, bot, OTHER_MANAGER, "/brief", f"status {BRIEFING}")
    assert newly_shown(slack, OTHER_MANAGER, 0, WAITING_ACTION) is None
    assert "Reached 8 people" in text_of(status)


async def test_the_button_under_status_lists_them_and_leaves_out_deactivated_accounts(
    slack, bot, driver
):
    await published_and_partly_acknowledged(slack, bot, driver)
    slack.workspace.users["U0TM02"].deleted = True  # Gareth Hughes has left
    bot.deps.people = People(bot.deps.client)  # a directory read after he left

    await ask(driver, bot, SENIOR_MANAGER, "/brief", f"status {BRIEFING}")
    [shown] = await click(driver, bot, SENIOR_MANAGER, WAITING_ACTION)
    assert named(shown) == [p for p in BY_NAME if p != "U0TM02"]
    assert "*5 not yet*" in text_of(shown)


async def test_the_reminder_now_reaches_exactly_those_not_acknowledged_once(
    slack, bot, driver, clock
):
    await published_and_partly_acknowledged(slack, bot, driver)
    await ask(driver, bot, SENIOR_MANAGER, "/brief", f"waiting {BRIEFING}")
    remind = newly_shown(slack, SENIOR_MANAGER, 0, REMIND_NOW_ACTION)
    assert remind is not None
    [button] = [
        e
        for b in remind.blocks
        for e in b.get("elements", [])
        if e.get("action_id") == (REMIND_NOW_ACTION)
    ]
    assert button["confirm"]["text"]["text"].startswith("Send a reminder to 6 people who haven't")

    [said] = await click(driver, bot, SENIOR_MANAGER, REMIND_NOW_ACTION)
    assert await bot.outbox.idle(30)
    assert "to the 6 people who hadn't acknowledged it" in said.text
    for person in PEOPLE:
        assert len(reminders_of(slack, person)) == (0 if person in READERS else 1), person

    clock.now = datetime(2026, 12, 7, 11, 30, tzinfo=LONDON)
    [again] = await click(driver, bot, SENIOR_MANAGER, REMIND_NOW_ACTION)
    assert await bot.outbox.idle(30)
    assert "went on 7 Dec 2026, 10:00, so nothing more was sent" in again.text
    # Nor does the timed round, when `remind_after` comes, send anyone a second.
    clock.now = datetime(2026, 12, 9, 10, 30, tzinfo=LONDON)
    assert await send_due(bot.deps) == 0
    assert await bot.outbox.idle(30)
    for person in PEOPLE:
        assert len(reminders_of(slack, person)) == (0 if person in READERS else 1), person

    # The list now says when it went, and offers no second reminder.
    since = len(slack.seen_by(ENGAGEMENT_LEAD))
    shown = await ask(driver, bot, ENGAGEMENT_LEAD, "/brief", f"waiting {BRIEFING}")
    assert "Its reminder went on 7 Dec 2026, 10:00" in text_of(shown)
    assert newly_shown(slack, ENGAGEMENT_LEAD, since, REMIND_NOW_ACTION) is None


async def test_after_the_timed_reminder_the_button_sends_nothing_and_says_when(
    slack, bot, driver, clock
):
    await published_and_partly_acknowledged(slack, bot, driver)
    await ask(driver, bot, SENIOR_MANAGER, "/brief", f"waiting {BRIEFING}")  # the button, shown
    clock.now = datetime(2026, 12, 9, 10, 30, tzinfo=LONDON)
    assert await send_due(bot.deps) == len(PEOPLE) - len(READERS)
    assert await bot.outbox.idle(30)
    [said] = await click(driver, bot, SENIOR_MANAGER, REMIND_NOW_ACTION)
    assert "went on 9 Dec 2026, 10:30, so nothing more was sent" in said.text
    assert await bot.outbox.idle(30)
    assert all(len(reminders_of(slack, p)) == (p not in READERS) for p in PEOPLE)


async def test_no_reminder_goes_outside_working_hours(slack, bot, driver, clock):
    await published_and_partly_acknowledged(slack, bot, driver)
    await ask(driver, bot, SENIOR_MANAGER, "/brief", f"waiting {BRIEFING}")
    clock.now = datetime(2026, 12, 7, 19, 0, tzinfo=LONDON)
    [said] = await click(driver, bot, SENIOR_MANAGER, REMIND_NOW_ACTION)
    assert "only go in working hours (08:00–18:00" in said.text
    assert await bot.outbox.idle(30)
    assert all(reminders_of(slack, p) == [] for p in PEOPLE)


async def test_engage_audit_shows_leads_every_listing_and_reminder_newest_first(
    slack, bot, driver, clock
):
    await published_and_partly_acknowledged(slack, bot, driver)
    await ask(driver, bot, SENIOR_MANAGER, "/brief", f"waiting {BRIEFING}")
    clock.now = datetime(2026, 12, 7, 10, 5, tzinfo=LONDON)
    await click(driver, bot, SENIOR_MANAGER, REMIND_NOW_ACTION)
    clock.now = datetime(2026, 12, 7, 10, 9, tzinfo=LONDON)
    await ask(driver, bot, ENGAGEMENT_LEAD, "/brief", f"waiting {BRIEFING}")
    await ask(driver, bot, SOCIAL_WORKERS[3], "/brief", f"waiting {BRIEFING}")  # refused: not kept

    shown = await ask(driver, bot, ENGAGEMENT_LEAD, "/engage", "audit")
    lines = [line for line in text_of(shown).splitlines() if line.startswith("• ")]
    assert lines == [
        f"• 7 Dec 2026, 10:09 — <@{ENGAGEMENT_LEAD}> listed who hasn't acknowledged "
        f"`{BRIEFING}` (version 2)",
        f"• 7 Dec 2026, 10:05 — <@{SENIOR_MANAGER}> pressed *Send the reminder now* for "
        f"`{BRIEFING}` (version 2)",
        f"• 7 Dec 2026, 10:00 — <@{SENIOR_MANAGER}> listed who hasn't acknowledged "
        f"`{BRIEFING}` (version 2)",
    ]
    assert "Europe/London" in text_of(shown)
    # The retention purge ran at start, with nothing yet past its time: the trail says so.
    assert "_Retention: the daily purge last ran " in text_of(shown)
    assert "nothing was past its time._" in text_of(shown)
    one = await ask(driver, bot, ENGAGEMENT_LEAD, "/engage", "audit recruitment-funding")
    assert "Nothing is recorded for `recruitment-funding` yet" in text_of(one)

    for refused in (SENIOR_MANAGER, SOCIAL_WORKERS[3]):
        reply = await ask(driver, bot, refused, "/engage", "audit")
        assert text_of(reply).startswith("Only engagement leads can see who looked")
        assert "<@" not in text_of(reply)
    help_text = text_of(await ask(driver, bot, SOCIAL_WORKERS[3], "/engage", "help"))
    assert "`/engage audit [briefing id]`" in help_text
