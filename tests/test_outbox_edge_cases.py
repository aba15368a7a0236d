"""The outbox where broadcasts meet: corrections racing sends, cancels, stale confirmations.

Found by an independent review; each test is a scenario that once went wrong.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import LineOfSight
from bot.sender import METADATA_TYPE
from bot.storage import Storage
from bot.storage.outbox import Plan, PlannedEntry
from handlers.briefings.blocks import build_status
from slack_standin.harness import eventually
from tests.conftest import SOCIAL_WORKERS

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # a Monday
LONDON = ZoneInfo("Europe/London")
PEOPLE = tuple(f"U{n:03d}" for n in range(12))


def section(text):
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]


def dm_plan(version, people=PEOPLE, correction=None, remind=None, briefing_id="b"):
    return Plan(
        briefing_id=briefing_id,
        version=version,
        title="T",
        acknowledge=True,
        published_by="U0SM01",
        message={"text": f"v{version}", "blocks": section(f"version {version}")},
        entries=(PlannedEntry(raw="@g", ref="S1", post=False, people=tuple(people)),),
        correction=correction,
        remind_after_s=remind,
    )


def channel_plan(version, members=PEOPLE, correction=None):
    return Plan(
        briefing_id="c",
        version=version,
        title="T",
        acknowledge=True,
        published_by="U0SM01",
        message={"text": f"v{version}", "blocks": section(f"version {version}")},
        entries=(PlannedEntry(raw="#all", ref="C1", post=True, members=tuple(members)),),
        correction=correction,
    )


async def send_all(storage, now=NOW):
    """Storage's part of sending everything due (the sender's Slack calls left out)."""
    while (d := await storage.outbox.claim_next(now)) is not None:
        await storage.outbox.mark_sent(
            d.id, channel_id="D" + d.target, message_ts=f"{d.id}.0", now=now
        )
        await storage.outbox.finish_if_done(d.broadcast_id, now)


async def rows(storage, sql):
    return await storage.call(lambda db: db.execute(sql).fetchall())


def status_text(posts, figures, entries):
    return build_status(posts, figures, LONDON, entries)


# -- figures ------------------------------------------------------------------------------------


async def test_a_channel_post_counts_as_reach_not_as_one_message(storage):
    await storage.outbox.prepare(channel_plan(1), NOW)
    await send_all(storage)
    text = status_text(
        await storage.publications.publications_of("c", 1),
        await storage.disclosure.acknowledgements("c", 1, NOW),
        await storage.acknowledgements.by_entry("c", 1),
    )
    assert "of 1" not in text
    assert "Reached 12 people" in text


async def test_right_after_a_correction_its_reach_is_everyone_who_holds_a_copy(storage):
    await storage.outbox.prepare(dm_plan(1), NOW)
    await send_all(storage)
    await storage.outbox.prepare(dm_plan(2, correction="typo"), NOW)  # updates still to go
    assert await storage.publications.latest_posted_version("b") == 2
    summary = await storage.acknowledgements.ack_summary("b", 2)
    assert summary["reached"] == len(PEOPLE)


# -- confirmations left open --------------------------------------------------------------------


async def test_a_confirmation_for_an_older_version_sends_nothing_once_a_newer_went(storage):
    old = await storage.confirmations.ask(dm_plan(1), at=None, now=NOW)
    new = await storage.confirmations.ask(dm_plan(2), at=None, now=NOW)
    kwargs = {"user_id": "U0SM01", "now": NOW, "twice_above": 5000, "second": False}
    assert (await storage.confirmations.confirm(new, **kwargs)).status == "queued"
    late = await storage.confirmations.confirm(old, **kwargs)
    assert late.status == "gone_out"
    assert late.prepared is not None
    assert late.prepared.newer == 2


async def test_a_stale_correction_confirmed_late_changes_nothing(storage):
    await storage.outbox.prepare(dm_plan(1, people=("U1",)), NOW)
    await send_all(storage)
    kwargs = {"user_id": "U0SM01", "now": NOW, "twice_above": 5000, "second": False}
    two = await storage.confirmations.ask(dm_plan(2, ("U1", "U2"), "a"), at=None, now=NOW)
    three = await storage.confirmations.ask(dm_plan(3, ("U1", "U2"), "b"), at=None, now=NOW)
    await storage.confirmations.confirm(three, **kwargs)
    await send_all(storage)
    assert (await storage.confirmations.confirm(two, **kwargs)).status == "gone_out"


# -- cancels and upgrades -----------------------------------------------------------------------


async def test_a_cancel_still_looks_for_a_send_whose_answer_was_lost(storage):
    await storage.outbox.prepare(dm_plan(1, people=("U1", "U2")), NOW)
    lost = await storage.outbox.claim_next(NOW)
    await storage.outbox.retry_later(lost.id, not_before=NOW + timedelta(seconds=3), error="lost")
    await storage.schedules.cancel("b")
    again = await storage.outbox.claim_next(NOW + timedelta(minutes=1))
    assert again is not None
    assert again.look_only  # it may be in Slack: looked up and recorded, never sent
    assert await storage.outbox.claim_next(NOW + timedelta(minutes=1)) is None


async def test_a_post_an_older_release_left_interrupted_is_posted_and_takes_acknowledgements(
    storage,
):
    await storage.call(
        lambda db: db.execute(
            "INSERT INTO publications (briefing_id, version, title, audience, acknowledge,"
            " published_by, published_at, status, reach_known) VALUES"
            " ('c', 1, 'T', '#all', 1, 'U9', '2026-11-29T10:00:00+00:00', 'interrupted', 1)"
        )
    )
    await storage.outbox.prepare(channel_plan(1), NOW)
    await send_all(storage)
    ack = await storage.acknowledgements.record_ack(
        briefing_id="c", version=1, user_id="U001", now=NOW
    )
    assert ack is not None


async def test_a_correction_leaves_reminders_already_queued_to_go(storage):
    await storage.outbox.prepare(dm_plan(1, remind=3600), NOW)
    await send_all(storage)
    later = NOW + timedelta(hours=2)
    [due] = await storage.reminders.due(later)
    by = later + timedelta(hours=6)
    assert await storage.reminders.queue(due, {"text": "r", "blocks": []}, later, send_by=by) == 12
    await storage.outbox.prepare(dm_plan(2, correction="typo", remind=3600), later)
    await send_all(storage, later)
    sent = await rows(
        storage,
        "SELECT d.status FROM deliveries d JOIN broadcasts b ON b.id = d.broadcast_id"
        " WHERE b.purpose = 'reminder'",
    )
    assert sent == [("sent",)] * 12


async def test_a_reminder_not_sent_by_the_end_of_the_working_day_waits_for_the_next(storage):
    await storage.outbox.prepare(dm_plan(1, people=("U1",), remind=3600), NOW)
    await send_all(storage)
    later = NOW + timedelta(hours=2)
    [due] = await storage.reminders.due(later)
    evening = NOW.replace(hour=18)
    await storage.reminders.queue(due, {"text": "r", "blocks": []}, later, send_by=evening)
    assert await storage.outbox.claim_next(evening + timedelta(minutes=1)) is None  # too late
    tomorrow = evening + timedelta(hours=14)
    assert await storage.reminders.carry_over(tomorrow, send_by=tomorrow + timedelta(hours=10))
    assert await storage.outbox.claim_next(tomorrow) is not None


# -- a long correction does not hold up what comes after it -------------------------------------


async def test_while_updates_wait_for_their_rate_later_sends_go_past_them(storage):
    people = tuple(f"U{n:04d}" for n in range(200))
    await storage.outbox.prepare(dm_plan(1, people=people), NOW)
    await send_all(storage)
    await storage.outbox.prepare(dm_plan(2, people=people, correction="typo"), NOW)
    await storage.outbox.prepare(dm_plan(1, people=("UX",), briefing_id="urgent"), NOW)
    first = await storage.outbox.claim_next(NOW, updates=False)
    assert first is not None
    assert (first.kind, first.target) == ("dm", "UX")


# -- through the real sender --------------------------------------------------------------------


async def test_a_correction_queued_while_a_copy_was_in_flight_updates_it_not_sends_another(
    slack, config
):
    """v1 to A is in flight (and reaches Slack) when v2 corrects it: A ends with one copy, v2."""
    a, b = SOCIAL_WORKERS[:2]
    storage = Storage(config.database_path)
    await storage.open()
    await storage.outbox.prepare(dm_plan(1, people=(a, b)), datetime.now(UTC))
    in_flight = await storage.outbox.claim_next(datetime.now(UTC))
    assert in_flight.target == a
    raw = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    await raw.chat_postMessage(  # the send under way reaches Slack…
        channel=a,
        text="v1",
        blocks=section("version 1"),
        metadata={"event_type": METADATA_TYPE, "event_payload": {"delivery_id": in_flight.id}},
    )
    # …and before it is recorded, the publisher confirms the correction (then the process dies).
    await storage.outbox.prepare(dm_plan(2, people=(a, b), correction="typo"), datetime.now(UTC))
    await storage.close()

    bot = LineOfSight(config)
    await bot.start()
    try:
        assert await bot.outbox.idle(30)
    finally:
        await bot.stop()
    for person in (a, b):
        [copy] = [m for m in slack.messages(person) if m.blocks]
        assert copy.blocks[0]["text"]["text"] == "version 2", person


async def test_an_update_stopped_by_a_newer_correction_never_puts_the_older_words_back(
    slack, bot, monkeypatch
):
    person = SOCIAL_WORKERS[0]
    outbox = bot.outbox
    await bot.storage.outbox.prepare(dm_plan(1, people=(person,)), datetime.now(UTC))
    outbox.wake()
    assert await outbox.idle(30)
    real_update = outbox._client.chat_update
    lost = []

    async def lose_the_first(**kwargs):
        if not lost:
            lost.append(kwargs["ts"])
            await real_update(**kwargs)
            raise aiohttp.ClientConnectionError("connection reset")  # v2 applied, answer lost
        return await real_update(**kwargs)

    monkeypatch.setattr(outbox._client, "chat_update", lose_the_first)
    await bot.storage.outbox.prepare(dm_plan(2, (person,), "fix"), datetime.now(UTC))
    outbox.wake()
    await eventually(lambda: bool(lost), "lose the answer to version 2's update")
    await bot.storage.outbox.prepare(dm_plan(3, (person,), "fix again"), datetime.now(UTC))
    outbox.wake()
    done = await outbox.idle(30)
    assert done, await rows(
        bot.storage,
        "SELECT b.version, b.status, d.kind, d.status, d.error, d.not_before FROM deliveries d"
        " JOIN broadcasts b ON b.id = d.broadcast_id",
    )
    [copy] = [m for m in slack.messages(person) if m.blocks]
    assert copy.blocks[0]["text"]["text"] == "version 3"
    assert [e["blocks"][0]["text"]["text"] for e in copy.edits] == ["version 1", "version 2"]
