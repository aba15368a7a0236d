"""The engagement leads' weekly digest, end to end against the stand-in with the bot's own
clock moved by the test: it goes to each lead once at Monday 09:00, its figures are the stored
facts as the disclosure layer releases them, a week with nothing new sends nothing, a restart
sends it no second time (and a bot stopped over the time sends it at its next start), and
`DIGEST_AT=off` turns it off."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.app import LineOfSight
from bot.comprehension import TAKE_ACTION
from bot.config import Config
from bot.storage.writer import utc_iso
from handlers.briefings import ACK_ACTION
from handlers.checks.digest import JOB, send_digest_if_due
from slack_standin import Workspace
from tests.clocks import Clock
from tests.conftest import ENGAGEMENT_LEAD, TEAM_MANAGER, publish_confirmed, stored_question
from tests.conftest import copy_titled as copy_of

LONDON = ZoneInfo("Europe/London")
SECOND_LEAD = "U0TM02"  # a team manager who is also an engagement lead
LEADS = (ENGAGEMENT_LEAD, SECOND_LEAD)

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
SMALL = """---
id: duty-team-note
title: A note for the duty team
audience: ["@duty-team"]
deliver: dm
acknowledge: true
---
Thank you for last week.
"""


def at(day: int, hour: int = 9, minute: int = 0) -> datetime:
    """November 2026 in London (GMT): the 1st is a Sunday, the 2nd and 9th Mondays."""
    return datetime(2026, 11, day, hour, minute, tzinfo=LONDON)


@pytest.fixture
def workspace():
    ws = Workspace.sample(n_staff=30 + 6)
    social_workers = sorted(ws.usergroups["S0SWS"].users)
    ws.add_usergroup("S0DUTY", handle="duty-team", name="Duty team", users=social_workers[:4])
    ws.add_usergroup("S0ELS", handle="engagement-leads", name="Engagement leads", users=[*LEADS])
    return ws


@pytest.fixture
def content_dir(tmp_path):
    folder = tmp_path / "content" / "briefings"
    folder.mkdir(parents=True)
    (folder / "duty-changes.md").write_text(DUTY, encoding="utf-8")
    (folder / "duty-team-note.md").write_text(SMALL, encoding="utf-8")
    return tmp_path / "content"


@pytest.fixture
def clock():
    return Clock(at(1, 12))  # Sunday


async def started(config, clock):
    los = LineOfSight(config, clock=clock)
    await los.start()
    runner = await los.listen("127.0.0.1", 0)
    los.url = f"{los.base_url}/slack/events"  # type: ignore[attr-defined]
    await first_run(los)
    return los, runner


@pytest.fixture
async def bot(config, clock):
    los, runner = await started(config, clock)
    yield los
    await runner.cleanup()
    await los.stop()


async def runs(bot):
    return await bot.storage.call(
        lambda db: [
            tuple(r)
            for r in db.execute("SELECT period, number, status, items, leads FROM digest_runs")
        ]
    )


async def first_run(bot):
    """The job runs once at start: wait for it, so the test's own runs never race it."""
    for _ in range(200):
        if await runs(bot):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the digest job did not run at start")


async def run(bot, clock, when):
    clock.now = when
    await bot.scheduler.run_now(JOB)
    assert await bot.outbox.idle(30)


def digests_to(slack, person):
    return [m for m in slack.messages(person) if "Your weekly digest" in (m.text or "")]


def body_of(message) -> str:
    return "\n".join(
        b["text"]["text"] if b["type"] == "section" else json.dumps(b.get("elements", ""))
        for b in message.blocks
    )


async def take(driver, bot, person, choice):
    slack = driver.standin
    await driver.click(person, copy_of(slack, person, "duty system"), TAKE_ACTION)
    await bot.work.idle()
    [view] = slack.views_for(person)
    answer = {"answer": {"type": "radio_buttons", "selected_option": {"value": str(choice)}}}
    await driver.submit_view(person, view, {"q0": answer})
    await bot.work.idle()
    [feedback] = slack.views_for(person)
    await driver.close_view(person, feedback)


async def a_week(slack, bot, driver, clock):
    """Sunday: the duty changes to 30 social workers (20 acknowledge; 20 take its check, 10
    right first time), a note to the four-strong duty team, a question on the board with two
    votes, and a search that found nothing."""
    people = sorted(slack.workspace.usergroups["S0SWS"].users)
    clock.now = at(1, 13)
    await publish_confirmed(driver, bot, "publish duty-changes")
    await publish_confirmed(driver, bot, "publish duty-team-note")
    assert await bot.outbox.idle(30)
    for person in people[:20]:
        await driver.click(person, copy_of(slack, person, "duty system"), ACK_ACTION)
    await bot.work.idle()
    for n, person in enumerate(people[10:30]):
        await take(driver, bot, person, 1 if n < 10 else 0)
    asked = await stored_question(bot, people[0], "When will the duty rota be online?", now=clock())
    assert asked.question is not None
    question = asked.question
    await bot.storage.questions.moderate(
        question.id, action="accept", by=ENGAGEMENT_LEAD, now=clock()
    )
    for voter in ("voter-a", "voter-b"):
        await bot.storage.questions.vote(question.id, voter)
    await bot.storage.gaps.record_gap("RHI timescales", "no_match", at(1).date())
    return question


async def test_the_digest_goes_to_each_lead_once_at_monday_nine(slack, bot, driver, clock):
    question = await a_week(slack, bot, driver, clock)
    await run(bot, clock, at(2, 8, 59))  # not yet
    assert [digests_to(slack, lead) for lead in LEADS] == [[], []]
    assert [r[2] for r in await runs(bot)] == ["started"]

    await run(bot, clock, at(2, 9, 0))
    await run(bot, clock, at(2, 9, 5))  # and again: nothing more
    [(_, _, status, items, leads)] = (await runs(bot))[1:]
    assert (status, items, leads) == ("sent", 2 + 1 + 1 + 1, 2)
    copies = [digests_to(slack, lead) for lead in LEADS]
    assert [len(c) for c in copies] == [1, 1]
    assert body_of(copies[0][0]) == body_of(copies[1][0])
    assert digests_to(slack, TEAM_MANAGER) == []  # not a lead
    message = copies[0][0]
    assert message.text == (
        "Your weekly digest: 2 new briefings, 1 check closing, 1 new surgery question, "
        "1 practice gap"
    )
    body = body_of(message)

    # The stored facts, which the released figures equal (every cell moved by ten).
    duty = await bot.storage.checks.results_for("duty-changes", 1)
    assert (duty.reached, duty.acknowledged, duty.took, duty.first_time) == (
        30,
        30,
        20,
        10,
    )  # 20 pressed Acknowledge; ten more took the check, which acknowledges it
    assert "*Changes to the duty system* — sent 1 Nov 2026, 13:00" in body
    assert (
        f"Reached *{duty.reached}* people · Acknowledged: *{duty.acknowledged}* of the 30 "
        "reached (100%)" in body
    )
    assert (
        f"Took the check: *{duty.took}* of the 30 reached (67%) · Understood first time: "
        f"*{duty.first_time}* of the 20 who took it (50%)" in body
    )
    # Four reached: no figure at all, and it says why.
    small = body[body.index("*A note for the duty team*") :]
    assert "Reached fewer than 10: figures are only shown for groups of 10 or more" in small
    assert "*4*" not in small
    # The same figures `/engage results` shows: the layer released them once.
    released = await bot.storage.disclosure.check("duty-changes", 1, clock())
    assert released is not None
    assert released.acks.total("acknowledged") == duty.acknowledged
    assert released.answers.total("first_time") == duty.first_time

    closing = body[body.index("*Checks closing in the coming week*") :]
    assert "*Changes to the duty system* — closes 8 Nov 2026, 13:00" in closing
    top = body[body.index("*Top surgery questions*") :]
    assert "(1 question put on the board since the last digest)" in top
    assert (
        "1. “When will the duty rota be online?” — *2* votes · Monthly staff surgery · "
        f"{question.ref}" in top
    )
    gaps = body[body.index("*Practice gaps*") :]
    assert "“rhi timescales” — searched 1 time (1 found nothing)" in gaps


async def test_a_week_with_nothing_new_sends_nothing(slack, bot, driver, clock):
    await run(bot, clock, at(2, 9, 1))
    assert [r[2:] for r in await runs(bot)] == [("started", 0, 0), ("skipped", 0, 0)]
    assert [digests_to(slack, lead) for lead in LEADS] == [[], []]
    # Nothing new was found without asking the disclosure layer for anything.
    released = await bot.storage.call(
        lambda db: db.execute("SELECT COUNT(*) FROM disclosure_subjects").fetchone()[0]
    )
    assert released == 0
    # And a week is once: something new later that week waits for the next Monday.
    await publish_confirmed(driver, bot, "publish duty-changes")
    await run(bot, clock, at(4, 12))
    assert [digests_to(slack, lead) for lead in LEADS] == [[], []]
    await run(bot, clock, at(9, 9))
    assert [len(digests_to(slack, lead)) for lead in LEADS] == [1, 1]
    assert "*Changes to the duty system*" in body_of(digests_to(slack, ENGAGEMENT_LEAD)[0])


async def test_a_restart_does_not_send_it_twice(slack, bot, driver, clock, config):
    await a_week(slack, bot, driver, clock)
    await run(bot, clock, at(2, 9, 1))
    await bot.stop()  # a restart in the same week…
    clock.now = at(2, 9, 30)
    again = LineOfSight(config, clock=clock)
    await again.start()  # …runs the job at start, and again
    try:
        await again.scheduler.run_now(JOB)
        assert again.outbox is not None
        assert await again.outbox.idle(30)
        assert [r[2] for r in await runs(again)] == ["started", "sent"]
    finally:
        await again.stop()
    assert [len(digests_to(slack, lead)) for lead in LEADS] == [1, 1]


async def test_a_stop_before_it_is_delivered_sends_it_once_at_the_next_start(
    slack, bot, driver, clock, config
):
    """The week's row and each lead's copy are one transaction: a bot stopped after queueing
    it, before any copy went, delivers each at its next start, once, and queues no second."""
    await a_week(slack, bot, driver, clock)
    await bot.outbox.stop()  # nothing more is sent by this process
    clock.now = at(2, 9, 1)
    await bot.scheduler.run_now(JOB)
    assert [digests_to(slack, lead) for lead in LEADS] == [[], []]
    pending = await bot.storage.call(
        lambda db: db.execute(
            "SELECT d.target FROM deliveries d JOIN broadcasts b ON b.id = d.broadcast_id"
            " WHERE b.purpose = 'digest' AND d.status = 'pending' ORDER BY d.target"
        ).fetchall()
    )
    assert [t for (t,) in pending] == sorted(LEADS)
    await bot.stop()
    clock.now = at(2, 9, 30)
    again = LineOfSight(config, clock=clock)
    await again.start()
    try:
        await again.scheduler.run_now(JOB)
        assert again.outbox is not None
        assert await again.outbox.idle(30)
        assert [r[2] for r in await runs(again)] == ["started", "sent"]
    finally:
        await again.stop()
    assert [len(digests_to(slack, lead)) for lead in LEADS] == [1, 1]


async def test_a_bot_stopped_over_the_time_sends_it_at_its_next_start(
    slack, bot, driver, clock, config
):
    await a_week(slack, bot, driver, clock)
    await bot.stop()  # stopped on Sunday, started again on Tuesday afternoon
    clock.now = at(3, 15)
    again = LineOfSight(config, clock=clock)
    await again.start()
    try:
        for _ in range(200):  # the run at start
            if len(await runs(again)) == 2:
                break
            await asyncio.sleep(0.02)
        await again.scheduler.run_now(JOB)
        assert again.outbox is not None
        assert await again.outbox.idle(30)
        assert [r[2] for r in await runs(again)] == ["started", "sent"]
    finally:
        await again.stop()
    assert [len(digests_to(slack, lead)) for lead in LEADS] == [1, 1]


@pytest.fixture
def config_off(config):
    return Config.from_env(
        {
            "SLACK_BOT_TOKEN": config.bot_token,
            "SLACK_SIGNING_SECRET": config.signing_secret,
            "SLACK_API_URL": config.api_url,
            "DATABASE_PATH": str(config.database_path),
            "CONTENT_DIR": str(config.content_dir),
            "SENIOR_MANAGERS": "@senior-managers",
            "ENGAGEMENT_LEADS": "@engagement-leads",
            "DIGEST_AT": "off",
        },
        dotenv=None,
    )


async def test_off_turns_the_digest_off(slack, clock, config_off):
    assert config_off.digest_at is None
    los = LineOfSight(config_off, clock=clock)
    await los.start()
    try:
        assert JOB not in los.scheduler.job_ids()
        await publish_confirmed_to(slack, los)
        clock.now = at(2, 9, 1)
        assert los.deps is not None
        await send_digest_if_due(los.deps)
        assert await runs(los) == []
    finally:
        await los.stop()
    assert [digests_to(slack, lead) for lead in LEADS] == [[], []]


async def publish_confirmed_to(slack, los):
    """Something new, as a publish would leave it (a broadcast to the duty team)."""
    from tests.conftest import dm_plan

    people = sorted(slack.workspace.usergroups["S0DUTY"].users)
    await los.storage.outbox.prepare(dm_plan(people, briefing_id="duty-team-note"), at(1, 13))


@pytest.mark.parametrize("value", ["Mon", "Funday 09:00", "Mon 25:00", "09:00 Mon", "weekly"])
def test_a_bad_digest_time_is_a_clear_config_error(value):
    from bot.config import ConfigError

    with pytest.raises(ConfigError) as error:
        Config.from_env(
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "DIGEST_AT": value},
            dotenv=None,
        )
    assert error.value.problems == [
        "DIGEST_AT must be a day and a time in TIMEZONE, such as Mon 09:00, or off "
        f"(got {value!r})."
    ]


@pytest.mark.parametrize(
    ("value", "every", "hour"),
    [("", "monday", 9), ("Mon 09:00", "monday", 9), ("friday 16:30", "friday", 16)],
)
def test_the_digest_time_is_a_day_and_a_time(value, every, hour):
    config = Config.from_env(
        {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "DIGEST_AT": value},
        dotenv=None,
    )
    assert config.digest_at is not None
    assert (config.digest_at.every, config.digest_at.at.hour) == (every, hour)


async def test_a_week_due_between_a_backup_and_its_restore_is_held_not_sent_again(
    slack, bot, driver, clock
):
    """Put back from a backup taken before Monday 09:00, after it: that week's digest may have
    gone, so it is not sent again; the next week's covers from the restore."""
    await a_week(slack, bot, driver, clock)
    gap = (utc_iso(at(2, 8)), utc_iso(at(2, 10)))
    await bot.storage.call(
        lambda db: db.execute("INSERT INTO restores (taken_at, restored_at) VALUES (?, ?)", gap)
    )
    await run(bot, clock, at(2, 10, 5))
    assert [digests_to(slack, lead) for lead in LEADS] == [[], []]
    assert [r[2] for r in await runs(bot)] == ["started", "held"]
    await run(bot, clock, at(9, 9, 1))  # the week before the restore is not news again
    assert [r[2] for r in await runs(bot)] == ["started", "held", "skipped"]
