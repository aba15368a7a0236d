"""Catch-up, reminders and corrections where they meet: scenarios an independent review found.

Each test states what a user would expect.
"""

from __future__ import annotations

from datetime import timedelta

from bot.sender import MAX_ATTEMPTS
from tests.test_outbox_edge_cases import NOW, dm_plan, rows, send_all

SINCE = NOW - timedelta(days=30)


async def _entry(storage, briefing_id="b"):
    [entry] = [e for e in await storage.catchups.current(SINCE) if e.briefing_id == briefing_id]
    return entry


# 1. After a correction, a DM audience's publication has no ref: nobody is caught up any more.
async def test_a_corrected_dm_briefing_still_catches_up_group_joiners(storage):
    await storage.outbox.prepare(dm_plan(1), NOW)
    await send_all(storage)
    await storage.outbox.prepare(dm_plan(2, correction="typo"), NOW)
    await send_all(storage)
    entry = await _entry(storage)
    assert entry.version == 2
    assert entry.ref == "S1"


# 2. /brief cancel said "nothing more of it will be sent", but the next joiner is sent it.
async def test_a_cancel_stops_catch_up_for_good(storage):
    await storage.outbox.prepare(dm_plan(1), NOW)
    await send_all(storage)
    entry = await _entry(storage)
    assert (await storage.catchups.add(entry, ["UNEW1"], NOW, not_before=NOW)).messaged == 1
    assert await storage.schedules.cancel("b")  # the catch-up broadcast was stopped
    for entry in await storage.catchups.current(SINCE):  # what the next event / 07:00 run does
        await storage.catchups.add(entry, ["UNEW2"], NOW, not_before=NOW)
    claimed = await storage.outbox.claim_next(NOW)
    assert claimed is None or claimed.look_only, claimed


# 3. The reconcile lists audiences (minutes) between reading `current` and `add`; a correction
#    published meanwhile: the joiner is sent the superseded version, and the broadcast revived.
async def test_catch_up_never_sends_a_version_superseded_since_it_was_listed(storage):
    await storage.outbox.prepare(dm_plan(1), NOW)
    await send_all(storage)
    stale = await _entry(storage)  # reconcile read `current` ...
    await storage.outbox.prepare(dm_plan(2, correction="typo"), NOW)  # ... a correction goes out
    done = await storage.catchups.add(stale, ["UNEW"], NOW, not_before=NOW)  # ... then it adds
    assert done.messaged == 0


# 4. A delivery failed as "unverifiable"/"unreachable" may well be in Slack: catch-up resends it.
async def test_catch_up_does_not_resend_a_copy_that_may_have_gone(storage):
    await storage.outbox.prepare(dm_plan(1, people=("U1",)), NOW)
    d = await storage.outbox.claim_next(NOW)
    await storage.outbox.mark_failed(d.id, error="unverifiable")  # sent? nobody can tell
    entry = await _entry(storage)
    assert (await storage.catchups.add(entry, ["U1"], NOW, not_before=NOW)).messaged == 0


# 5. A joiner caught up is reminded straight away (the round's remind_after passed long ago).
async def test_a_late_joiner_is_not_reminded_the_moment_they_are_caught_up(storage):
    await storage.outbox.prepare(dm_plan(1, remind=3600), NOW)
    await send_all(storage)
    later = NOW + timedelta(hours=3)
    entry = await _entry(storage)
    await storage.catchups.add(entry, ["UNEW"], later, not_before=later)
    await send_all(storage, later)  # the catch-up DM goes
    soon = later + timedelta(seconds=15)  # the reminders job's next poll
    [due] = await storage.reminders.due(soon)
    queued = await storage.reminders.queue(
        due, {"text": "r", "blocks": []}, soon, send_by=soon + timedelta(hours=4)
    )
    reminded = await rows(storage, "SELECT user_id FROM reminders")
    assert ("UNEW",) not in reminded, queued


# 6. carry_over renews a reminder for someone who acknowledged overnight.
async def test_carry_over_drops_reminders_for_those_who_acknowledged_meanwhile(storage):
    await storage.outbox.prepare(dm_plan(1, people=("U1",), remind=3600), NOW)
    await send_all(storage)
    later = NOW + timedelta(hours=2)
    [due] = await storage.reminders.due(later)
    evening = NOW.replace(hour=18)
    await storage.reminders.queue(due, {"text": "r", "blocks": []}, later, send_by=evening)
    # (queue long, or a 429 pause: not sent by 18:00) -- U1 acknowledges at home at 20:00
    await storage.acknowledgements.record_ack(
        briefing_id="b", version=1, user_id="U1", now=NOW.replace(hour=20)
    )
    tomorrow = evening + timedelta(hours=14)
    await storage.reminders.carry_over(tomorrow, send_by=tomorrow + timedelta(hours=10))
    claimed = await storage.outbox.claim_next(tomorrow)
    assert claimed is None, claimed


# 7. A correction's fresh copy that waits (settle_correction) burns an attempt per 3 s wait;
#    after ~30 s of waiting its first transient failure is final ("unreachable", not looked for).
async def test_waiting_on_an_earlier_send_does_not_use_up_attempts(storage):
    await storage.outbox.prepare(dm_plan(1, people=("U1",)), NOW)
    first = await storage.outbox.claim_next(NOW)  # v1 in flight to U1 (answer not back yet)
    await storage.outbox.prepare(dm_plan(2, people=("U1",), correction="typo"), NOW)
    at = NOW
    for _ in range(MAX_ATTEMPTS):  # while v1 is unresolved, v2's fresh copy is not even tried
        assert await storage.outbox.claim_next(at) is None
        assert await storage.outbox.next_due(at) is None  # and the sender does not spin on it
        at += timedelta(seconds=3)
    await storage.outbox.mark_cancelled(first.id)  # v1 resolved: it never went
    fresh = await storage.outbox.claim_next(at)
    assert fresh is not None
    assert fresh.corrects
    assert (await storage.outbox.settle_correction(fresh))[0] == "send"
    assert fresh.attempts == 1


# 6b. A reminder queued for v1, still unsent (carried over), goes after a correction that asks
#     everyone again (a new round): its Acknowledge button records v1, which no longer counts.
async def test_a_reacknowledge_correction_stops_the_old_rounds_unsent_reminders(storage):
    from dataclasses import replace

    await storage.outbox.prepare(dm_plan(1, people=("U1",), remind=3600), NOW)
    await send_all(storage)
    later = NOW + timedelta(hours=2)
    [due] = await storage.reminders.due(later)
    evening = NOW.replace(hour=18)
    await storage.reminders.queue(due, {"text": "r", "blocks": []}, later, send_by=evening)
    v2 = replace(dm_plan(2, people=("U1",), correction="matters", remind=3600), reacknowledge=True)
    await storage.outbox.prepare(v2, NOW.replace(hour=17, minute=59))
    tomorrow = evening + timedelta(hours=14)
    await storage.reminders.carry_over(tomorrow, send_by=tomorrow + timedelta(hours=10))
    stale = await rows(
        storage,
        "SELECT b.version FROM deliveries d JOIN broadcasts b ON b.id = d.broadcast_id"
        " WHERE b.purpose = 'reminder' AND d.status = 'pending'",
    )
    assert stale == [], stale
