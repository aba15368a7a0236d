"""`/engage trends` end to end: four briefings over three weeks, the bot's own clock moved by
the test. Each briefing's figures on screen are the stored facts as the disclosure layer
releases them (steps of ten), in date order; what the layer holds back says so."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.comprehension import RETAKE_ACTION, TAKE_ACTION
from handlers.briefings import ACK_ACTION
from slack_standin import Workspace
from tests.clocks import Clock
from tests.conftest import ENGAGEMENT_LEAD, SENIOR_MANAGER, publish_confirmed
from tests.conftest import copy_titled as copy_of

LONDON = ZoneInfo("Europe/London")
OTHER_MANAGER = "U0SM02"

DUTY = """---
id: duty-changes
title: Changes to the duty system
audience: ["@social-workers"]
deliver: dm
acknowledge: true
check:
  questions:
    - ask: Who takes a new referral out of hours?
      options: ["The team manager", "The emergency duty team", "Whoever is free", "The police"]
      answer: "The emergency duty team"
      explain: Out of hours, new referrals go to the emergency duty team.
    - ask: When does the new rota start?
      options: ["Monday", "Next month"]
      answer: "Monday"
      explain: It starts on Monday.
---
The duty system changes on Monday.
"""
ALLOWANCES = """---
id: fostering-allowances
title: New fostering allowances
audience: ["@social-workers"]
deliver: dm
acknowledge: true
---
Allowances rise from December.
"""
ROTA = """---
id: rota-reminder
title: The out-of-hours rota
audience: ["@social-workers"]
deliver: dm
acknowledge: false
check:
  questions:
    - ask: Who covers Sundays?
      options: ["The emergency duty team", "Nobody"]
      answer: "The emergency duty team"
      explain: The emergency duty team covers Sundays.
---
The rota is on the intranet.
"""
SMALL = """---
id: duty-team-note
title: A note for the duty team
audience: ["@duty-team"]
deliver: dm
acknowledge: true
---
Thank you for last week.
"""


def at(day: int, hour: int = 9) -> datetime:
    """November 2026 in London (GMT): the 2nd, 9th, 16th and 23rd are Mondays."""
    return datetime(2026, 11, day, hour, tzinfo=LONDON)


@pytest.fixture
def workspace():
    ws = Workspace.sample(n_staff=30 + 6)
    social_workers = sorted(ws.usergroups["S0SWS"].users)
    ws.add_usergroup("S0DUTY", handle="duty-team", name="Duty team", users=social_workers[:4])
    return ws


@pytest.fixture
def content_dir(tmp_path):
    folder = tmp_path / "content" / "briefings"
    folder.mkdir(parents=True)
    for name, text in (
        ("duty-changes", DUTY),
        ("fostering-allowances", ALLOWANCES),
        ("rota-reminder", ROTA),
        ("duty-team-note", SMALL),
    ):
        (folder / f"{name}.md").write_text(text, encoding="utf-8")
    return tmp_path / "content"


@pytest.fixture
def clock():
    return Clock(at(2))


def picked(*choices: int) -> dict:
    return {
        f"q{n}": {"answer": {"type": "radio_buttons", "selected_option": {"value": str(c)}}}
        for n, c in enumerate(choices)
    }


async def take(driver, bot, person, title, choices, retake=None):
    """Take a check; with `retake`, retake it from the feedback with those choices."""
    slack = driver.standin
    await driver.click(person, copy_of(slack, person, title), TAKE_ACTION)
    await bot.work.idle()
    [view] = slack.views_for(person)
    await driver.submit_view(person, view, picked(*choices))
    await bot.work.idle()
    [feedback] = slack.views_for(person)
    if retake is not None:
        await driver.click(person, feedback, RETAKE_ACTION)
        await bot.work.idle()
        [again] = slack.views_for(person)
        await driver.submit_view(person, again, picked(*retake))
        await bot.work.idle()
        [feedback] = slack.views_for(person)
    await driver.close_view(person, feedback)


async def trends(driver, bot, user, text="trends"):
    """The private answer to `/engage <text>`: its text and its sections' text."""
    slack = driver.standin

    def responses():
        return [s for s in slack.seen_by(user) if s.kind == "response"]

    since = len(responses())
    await driver.slash_command(user, "/engage", text)
    await bot.work.idle()
    [seen] = responses()[since:]
    body = "\n".join(
        b["text"]["text"] if b.get("text") else str(b.get("elements")) for b in seen.blocks or []
    )
    return seen.text, body


async def three_weeks(slack, bot, driver, clock):
    """Week 1: duty changes (acknowledged by 20, taken by 20, half wrong, ten retake); week 2:
    fostering allowances, by the other manager (12 acknowledge); week 3: the rota's check,
    taken by 5 (under a step), and a note to the four-strong duty team."""
    people = sorted(slack.workspace.usergroups["S0SWS"].users)
    await publish_confirmed(driver, bot, "publish duty-changes")
    assert await bot.outbox.idle(30)
    clock.now = at(2, 10)
    for person in people[:20]:
        await driver.click(person, copy_of(slack, person, "duty system"), ACK_ACTION)
    await bot.work.idle()
    wrong = [(0, 0)] * 6 + [(3, 0)] * 4  # six think the team manager, four the police
    for n, person in enumerate(people[10:30]):
        if n < 10:
            await take(driver, bot, person, "duty system", (1, 0))
        else:  # a retake: eight of the ten get it right
            retake = (1, 0) if n < 18 else (2, 0)
            await take(driver, bot, person, "duty system", wrong[n - 10], retake)

    clock.now = at(9)
    await publish_confirmed(driver, bot, "publish fostering-allowances", user=OTHER_MANAGER)
    assert await bot.outbox.idle(30)
    for person in people[:12]:
        await driver.click(person, copy_of(slack, person, "fostering allowances"), ACK_ACTION)
    await bot.work.idle()

    clock.now = at(16)
    await publish_confirmed(driver, bot, "publish rota-reminder")
    assert await bot.outbox.idle(30)
    for person in people[:5]:
        await take(driver, bot, person, "rota", (1,))
    clock.now = at(17)
    await publish_confirmed(driver, bot, "publish duty-team-note")
    assert await bot.outbox.idle(30)
    clock.now = at(23)


async def test_the_trend_shows_each_briefing_in_date_order_as_released(slack, bot, driver, clock):
    await three_weeks(slack, bot, driver, clock)
    text, body = await trends(driver, bot, ENGAGEMENT_LEAD)
    assert text == "Understanding over time"
    titles = [
        "Changes to the duty system",
        "New fostering allowances",
        "The out-of-hours rota",
        "A note for the duty team",
    ]
    found = [body.index(f"*{t}* — sent") for t in titles]
    assert found == sorted(found), "not in date order"
    assert "*Changes to the duty system* — sent 2 Nov 2026, 09:00" in body
    assert "*A note for the duty team* — sent 17 Nov 2026, 09:00" in body

    # The stored facts, which the released figures equal here (every cell moved by ten).
    duty = await bot.storage.checks.results_for("duty-changes", 1)
    assert (duty.reached, duty.acknowledged) == (
        30,
        30,
    )  # 20 pressed Acknowledge; ten more took the check, which acknowledges it
    assert (duty.took, duty.first_time, duty.retook, duty.after_retake) == (20, 10, 10, 8)
    assert (
        f"Reached *{duty.reached}* people · Acknowledged: *{duty.acknowledged}* of the 30 "
        "reached (100%)" in body
    )
    assert (
        f"Took the check: *{duty.took}* of the 30 reached (67%) · Understood first time: "
        f"*{duty.first_time}* of the 20 who took it (50%) · After the retake: "
        f"*{duty.after_retake}* of the 10 who retook it (80%)" in body
    )
    allowances = await bot.storage.acknowledgements.ack_summary("fostering-allowances", 1)
    assert allowances["acknowledged"] == 12
    assert "Reached *30* people · Acknowledged: *12* of the 30 reached (40%)" in body

    # Five took the rota's check: under a step, so held back, never a number.
    rota = await bot.storage.checks.results_for("rota-reminder", 1)
    assert rota.took == 5
    rota_part = body[body.index("*The out-of-hours rota*") : body.index("*A note for")]
    assert "Acknowledged" not in rota_part  # it did not ask
    assert "Took the check, understood first time: held back until 10 or more have taken" in (
        rota_part
    )
    assert "*5*" not in rota_part
    small_part = body[body.index("*A note for") :]
    assert "Reached fewer than 10: figures are only shown for groups of 10 or more" in small_part
    assert "Reached *4*" not in small_part
    # Released at the first view: the time says so; the rota has nothing released yet.
    assert body.count("_As of 23 Nov 2026, 09:00_") == 2
    assert "_No figures released yet_" in rota_part
    print(body)

    # The most misunderstood: question 1 of the duty changes, wrong for 10 of the 20.
    misread = body[body.index("*The messages most often misunderstood*") :]
    assert (
        "1. “Who takes a new referral out of hours?” (question 1 of *Changes to the duty "
        "system*): wrong for *10* of the 20 who answered (50%); most chosen wrong answer: “The "
        "team manager” (6 of 20)" in misread
    )
    assert "When does the new rota start?" not in misread  # nobody got it wrong
    assert "Who covers Sundays?" not in misread  # not released


async def test_since_a_date_or_a_span_leaves_earlier_briefings_out(slack, bot, driver, clock):
    await three_weeks(slack, bot, driver, clock)
    _, body = await trends(driver, bot, ENGAGEMENT_LEAD, "trends 2026-11-09")
    assert "briefings sent since 9 Nov 2026, oldest first" in body
    assert "Changes to the duty system" not in body
    assert "*New fostering allowances* — sent 9 Nov 2026" in body
    _, body = await trends(driver, bot, ENGAGEMENT_LEAD, "trends 10d")
    assert "in the last 10 days" in body
    assert "New fostering allowances" not in body
    assert "*The out-of-hours rota*" in body
    _, body = await trends(driver, bot, ENGAGEMENT_LEAD, "trends 2026-11-20")
    assert "None went out in that time." in body


async def test_a_senior_manager_sees_only_what_they_published(slack, bot, driver, clock):
    await three_weeks(slack, bot, driver, clock)
    _, body = await trends(driver, bot, OTHER_MANAGER)
    assert "briefings you published" in body
    assert "*New fostering allowances*" in body
    assert "duty system" not in body
    assert "rota" not in body
    _, body = await trends(driver, bot, SENIOR_MANAGER)
    assert "fostering" not in body
    assert "*Changes to the duty system*" in body


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("trends 2027-01-01", "`2027-01-01` is in the future"),
        ("trends 2026-11-24", "`2026-11-24` is in the future"),  # tomorrow, in London
        ("trends yesterday", "I couldn't read `yesterday` as a date."),
        ("trends 2026-02-30", "I couldn't read `2026-02-30` as a date."),
        ("trends <!channel>", "I couldn't read `&lt;!channel&gt;` as a date."),
        ("trends 2026-11-01 @fostering-team", "I don't know `@fostering-team` after the date."),
    ],
)
async def test_bad_input_gets_a_private_note_saying_what_to_type(
    slack, bot, driver, clock, text, expected
):
    clock.now = at(23)
    reply, body = await trends(driver, bot, ENGAGEMENT_LEAD, text)
    assert expected in reply
    assert "`/engage trends 2026-11-01`" in reply
    assert "`/engage trends 30d`" in reply
    assert body == ""


async def test_staff_are_refused(slack, bot, driver, clock):
    await publish_confirmed(driver, bot, "publish duty-changes")
    assert await bot.outbox.idle(30)
    worker = sorted(slack.workspace.usergroups["S0SWS"].users)[0]
    reply, body = await trends(driver, bot, worker)
    assert reply.startswith("Only engagement leads, and senior managers for the briefings")
    assert "Reached" not in body
    assert body == ""
