"""The dashboard on Home, end to end against the stand-in: an engagement lead opens Home and
sees the recent briefings with the released figures (equal to the stored facts here, every
cell having moved by a step), the checks closing soon, the question queue's size, the
follow-ups under way (an attributed nudge with no count) and the week's practice gaps; a
senior manager sees their own broadcast's delivery and not another's; a social worker sees
none of it, only what waits for them."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.comprehension import TAKE_ACTION
from bot.home import MAX_HOME_BLOCKS
from handlers.briefings import ACK_ACTION
from slack_standin import Workspace
from tests.clocks import Clock
from tests.conftest import ENGAGEMENT_LEAD, SENIOR_MANAGER, publish_confirmed, stored_question
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
      options: ["The team manager", "The emergency duty team"]
      answer: "The emergency duty team"
      explain: Out of hours, new referrals go to the emergency duty team.
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
LEADS_ONLY = (
    "Recent briefings",
    "Checks closing soon",
    "Follow-ups under way",
    "to review",
    "New practice gaps",
)


def at(day: int, hour: int = 9) -> datetime:
    """November 2026 in London (GMT)."""
    return datetime(2026, 11, day, hour, tzinfo=LONDON)


@pytest.fixture
def workspace():
    return Workspace.sample(n_staff=30 + 6)


@pytest.fixture
def content_dir(tmp_path):
    folder = tmp_path / "content" / "briefings"
    folder.mkdir(parents=True)
    (folder / "duty-changes.md").write_text(DUTY, encoding="utf-8")
    (folder / "fostering-allowances.md").write_text(ALLOWANCES, encoding="utf-8")
    return tmp_path / "content"


@pytest.fixture
def clock():
    return Clock(at(2))


async def take(driver, bot, person, right: bool):
    """Take the duty check: right, or wrong (the team manager)."""
    slack = driver.standin
    await driver.click(person, copy_of(slack, person, "duty system"), TAKE_ACTION)
    await bot.work.idle()
    [view] = slack.views_for(person)
    choice = {"type": "radio_buttons", "selected_option": {"value": "1" if right else "0"}}
    await driver.submit_view(person, view, {"q0": {"answer": choice}})
    await bot.work.idle()
    [feedback] = slack.views_for(person)
    await driver.close_view(person, feedback)


async def home_of(driver, bot, user) -> tuple[str, list[dict]]:
    """`user` opens Home: its text (every block's) and its blocks, as the stand-in took them."""
    await driver.app_home_opened(user)
    await bot.work.idle()
    view = driver.standin.home_view(user)
    assert view is not None
    blocks = view["blocks"]
    texts = []
    for b in blocks:
        if b.get("text"):
            texts.append(b["text"]["text"])
        for e in b.get("elements", []):
            label = e.get("text", "") if isinstance(e, dict) else ""
            texts.append(label if isinstance(label, str) else label.get("text", ""))
    return "\n".join(texts), blocks


async def a_week(slack, bot, driver, clock):
    """Monday: the duty changes (20 acknowledge, 20 take the check, 10 right first time) and a
    nudge to those yet to take it; Wednesday: the other manager's allowances (12
    acknowledge); a question waits for review, and a practice search found nothing."""
    people = sorted(slack.workspace.usergroups["S0SWS"].users)
    await publish_confirmed(driver, bot, "publish duty-changes")
    assert await bot.outbox.idle(30)
    clock.now = at(2, 10)
    for person in people[:20]:
        await driver.click(person, copy_of(slack, person, "duty system"), ACK_ACTION)
    await bot.work.idle()
    for n, person in enumerate(people[10:30]):
        await take(driver, bot, person, right=n < 10)
    check = await bot.storage.checks.latest("duty-changes")
    queued = await bot.storage.checks.queue_follow_up(
        check,
        question=None,
        message={"text": "A reminder to take the check", "blocks": []},
        published_by=ENGAGEMENT_LEAD,
        now=clock(),
    )
    assert queued == 1  # attributed: how many it went to is never said
    bot.outbox.wake()
    assert await bot.outbox.idle(30)

    clock.now = at(4)
    await publish_confirmed(driver, bot, "publish fostering-allowances", user=OTHER_MANAGER)
    assert await bot.outbox.idle(30)
    for person in people[:12]:
        await driver.click(person, copy_of(slack, person, "fostering allowances"), ACK_ACTION)
    await bot.work.idle()
    await stored_question(bot, people[0], "Will the duty rota change again?", now=clock())
    await bot.storage.gaps.record_gap("RHI timescales", "no_match", at(4).date())
    clock.now = at(7, 10)


async def test_a_lead_sees_recent_briefings_closing_checks_the_queue_and_follow_ups(
    slack, bot, driver, clock
):
    await a_week(slack, bot, driver, clock)
    text, blocks = await home_of(driver, bot, ENGAGEMENT_LEAD)
    assert len(blocks) <= MAX_HOME_BLOCKS
    headers = [b["text"]["text"] for b in blocks if b["type"] == "header"]
    assert headers[1:] == ["Recent briefings", "Checks closing soon", "Follow-ups under way"]

    # The stored facts, which the released figures equal here (every cell moved by ten).
    duty = await bot.storage.checks.results_for("duty-changes", 1)
    assert (duty.reached, duty.acknowledged, duty.took, duty.first_time) == (
        30,
        30,
        20,
        10,
    )  # 20 pressed Acknowledge; ten more took the check, which acknowledges it
    recent = text[text.index("Recent briefings") : text.index("Checks closing soon")]
    assert "The latest" not in recent  # both are shown
    assert recent.index("*New fostering allowances*") < recent.index("*Changes to the duty")
    assert (
        "*Changes to the duty system* · `duty-changes` — sent 2 Nov 2026, 09:00\n"
        f"`████████████` Reached: *{duty.reached}* people\n"
        f"`████████████` Acknowledged: *{duty.acknowledged}* of the 30 reached (100%)\n"
        f"`████████░░░░` Took the check: *{duty.took}* of the 30 reached (67%)\n"
        f"`██████░░░░░░` Understood first time: *{duty.first_time}* of the 20 who took it (50%)\n"
        "_As of 2 Nov 2026, 10:00_" in recent  # released when the nudge was queued
    )
    allowances = await bot.storage.acknowledgements.ack_summary("fostering-allowances", 1)
    assert allowances["acknowledged"] == 12
    assert "`█████░░░░░░░` Acknowledged: *12* of the 30 reached (40%)" in recent
    assert "No check went with it." in recent
    # **Chart** beside the briefing with a check (the funnel as a PNG, as under results).
    recent_blocks = [b for b in blocks if b.get("block_id", "").startswith("dash-briefing")]
    charts = [b.get("accessory") for b in recent_blocks]
    assert charts[0] is None  # the allowances had no check
    assert (charts[1]["action_id"], charts[1]["value"]) == ("results_chart", "duty-changes@1")

    # The duty check closes seven days after it went: within three days of Saturday.
    assert (
        "• *Changes to the duty system* · `duty-changes` — closes 9 Nov 2026, 09:00 "
        "(in 1 day)" in text
    )
    # The nudge went to those yet to take it (ten of them): no count, no delivery, said why.
    follow_ups = text[text.index("Follow-ups under way") :]
    assert (
        "• 2 Nov 2026, 10:00: a nudge about *Changes to the duty system*, to those yet to "
        "take it" in follow_ups
    )
    assert "10" not in follow_ups.split("\n")[1].replace("2 Nov 2026, 10:00", "")
    assert "delivered" not in follow_ups
    # The queue's size, and the week's gap.
    assert "*1 question to review*" in text
    assert "“rhi timescales” — 1 search" in text
    assert "Your latest broadcasts" not in text  # the lead published nothing


async def test_a_senior_manager_sees_their_own_broadcasts_delivery(slack, bot, driver, clock):
    await a_week(slack, bot, driver, clock)
    text, _ = await home_of(driver, bot, SENIOR_MANAGER)
    assert (
        "*Changes to the duty system* — sent 2 Nov 2026, 09:00\n`████████████` 30 of 30 "
        "delivered; finished 2 Nov 2026, 09:00" in text
    )
    assert "fostering" not in text  # the other manager's
    for lead_only in LEADS_ONLY:
        assert lead_only not in text
    text, _ = await home_of(driver, bot, OTHER_MANAGER)
    assert "*New fostering allowances* — sent 4 Nov 2026, 09:00" in text
    assert "duty system* — sent" not in text


async def test_a_social_worker_sees_only_what_waits_for_them(slack, bot, driver, clock):
    await a_week(slack, bot, driver, clock)
    people = sorted(slack.workspace.usergroups["S0SWS"].users)
    # Took the duty check (which acknowledged it); has not acknowledged the allowances.
    text, blocks = await home_of(driver, bot, people[25])
    for lead_only in (*LEADS_ONLY, "Your latest broadcasts"):
        assert lead_only not in text
    assert "1 briefing waiting for you to acknowledge" in text
    assert "*New fostering allowances*" in text
    assert not any(b["type"] == "header" for b in blocks[1:])
    shown = json.dumps(blocks)
    for figure in ("*20*", "*12*", "of the 30 reached", "rhi timescales"):
        assert figure not in shown
    text, _ = await home_of(driver, bot, people[0])  # yet to take the check
    assert "Changes to the duty system" in text
    assert TAKE_ACTION in json.dumps(driver.standin.home_view(people[0]))


async def test_chart_on_home_sends_the_funnel_to_the_leads_dm_and_says_so_on_home(
    slack, bot, driver, clock
):
    await a_week(slack, bot, driver, clock)
    await home_of(driver, bot, ENGAGEMENT_LEAD)
    await driver.click(
        ENGAGEMENT_LEAD, slack.home_view(ENGAGEMENT_LEAD), "results_chart", value="duty-changes@1"
    )
    await bot.work.idle()
    [upload] = [f for f in slack.files.values() if f.completed]
    assert upload.filename == "duty-changes-v1-funnel.png"
    assert upload.channels == [slack.workspace.im_with(ENGAGEMENT_LEAD).id]
    # Told on Home itself (no response_url there), with the dashboard rebuilt under it.
    home = json.dumps(slack.home_view(ENGAGEMENT_LEAD))
    assert "The chart is in your DM with me." in home
    assert "Recent briefings" in home
