"""Storage: one owning thread, idempotent writes, schema by migration."""

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import pytest

from bot.lock import AlreadyRunning, InstanceLock
from bot.storage import Storage
from bot.storage.outbox import Plan, PlannedEntry

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def channel_plan(briefing_id="b", version=1, title="T", channel="C1", members=("U1",), **more):
    return Plan(
        briefing_id=briefing_id,
        version=version,
        title=title,
        acknowledge=True,
        published_by="U9",
        message={"text": "t", "blocks": []},
        entries=(PlannedEntry(raw="#" + channel.lower(), ref=channel, post=True, members=members),),
        **more,
    )


async def posted(storage, briefing_id="b", version=1, title="T", channel="C1", members=("U1",)):
    """A briefing version posted to one channel, as the outbox leaves it."""
    plan = channel_plan(briefing_id, version, title, channel, tuple(members))
    prepared = await storage.outbox.prepare(plan, NOW)
    delivery = await storage.outbox.claim_next(NOW)
    await storage.outbox.mark_sent(
        delivery.id, channel_id=channel, message_ts=f"{version}.0", now=NOW
    )
    return prepared


async def test_sqlite_work_runs_on_its_own_thread_never_the_event_loop(storage):
    loop_thread = threading.get_ident()
    assert storage.owner_thread is not None
    assert storage.owner_thread != loop_thread
    seen = await storage.call(lambda db: threading.get_ident())
    assert seen == storage.owner_thread
    with pytest.raises(RuntimeError, match="its own thread"):
        _ = storage.db  # touching the connection from the loop is refused


async def test_migrations_create_the_schema_and_are_recorded(storage):
    tables = await storage.call(lambda db: set(db.table_names()))
    assert {"publications", "recipients", "acknowledgements", "processed_events"} <= tables
    applied = await storage.call(lambda db: [r["name"] for r in db["_sqlite_migrations"].rows])
    assert applied == [
        "m001_foundation",
        "m002_reach_known",
        "m003_outbox",
        "m004_schedules",
        "m005_rounds_and_confirmations",
        "m006_checks",
        "m007_check_follow_ups",
        "m008_surgery_questions",
        "m009_practice_gaps",
        "m010_composed_briefings",
        "m011_circular_runs",
        "m012_disclosure",
        "m013_teams",
        "m014_digest_runs",
        "m015_asker_news",
        "m016_gaps_dismissed",
        "m017_retention_runs",
        "m018_restores",
        "m019_outbox_claim_indexes",
    ]


async def test_reopening_applies_no_migration_twice(tmp_path):
    path = tmp_path / "los.db"
    for _ in range(2):
        s = Storage(path)
        await s.open()
        count = await s.call(lambda db: db["_sqlite_migrations"].count)
        await s.close()
    assert count == 19


async def test_wal_and_foreign_keys_are_on(storage):
    mode = await storage.call(lambda db: db.execute("PRAGMA journal_mode").fetchone()[0])
    fks = await storage.call(lambda db: db.execute("PRAGMA foreign_keys").fetchone()[0])
    assert (mode, fks) == ("wal", 1)


async def test_an_acknowledgement_counts_once_under_concurrent_clicks(storage):
    await posted(storage)
    results = await asyncio.gather(
        *[
            storage.acknowledgements.record_ack(
                briefing_id="b", version=1, user_id="U1", now=NOW + timedelta(s)
            )
            for s in range(10)
        ]
    )
    assert sum(r.new for r in results) == 1
    assert {r.acknowledged_at for r in results} == {"2026-11-28T09:00:00+00:00"}
    assert {r.title for r in results} == {"T"}
    summary = await storage.acknowledgements.ack_summary("b", 1)
    assert summary["acknowledged"] == 1


async def test_a_version_is_queued_once_whatever_the_double_clicks(storage):
    first, second = await asyncio.gather(
        storage.outbox.prepare(channel_plan(), NOW), storage.outbox.prepare(channel_plan(), NOW)
    )
    assert sorted([first.already, second.already]) == [False, True]
    assert await storage.call(lambda db: db["deliveries"].count) == 1
    other_version = await storage.outbox.prepare(channel_plan(version=2), NOW)
    assert other_version.already is False


async def test_awaiting_lists_only_unacknowledged_briefings_the_person_received(storage):
    for briefing, channel in (("a", "CX"), ("b", "CX"), ("c", "CY")):
        members = ["U1", "U2"] if channel == "CX" else ["U2"]
        await posted(storage, briefing, title=briefing.upper(), channel=channel, members=members)
    await storage.acknowledgements.record_ack(briefing_id="a", version=1, user_id="U1", now=NOW)
    assert [r["briefing_id"] for r in await storage.acknowledgements.awaiting_ack("U1")] == ["b"]
    assert sorted(r["briefing_id"] for r in await storage.acknowledgements.awaiting_ack("U2")) == [
        "a",
        "b",
        "c",
    ]
    assert await storage.acknowledgements.awaiting_ack("U3") == []
    summary = await storage.acknowledgements.ack_summary("a", 1)
    assert summary == {"reached": 2, "acknowledged_of_reached": 1, "acknowledged": 1}


async def test_an_acknowledgement_of_a_version_never_posted_stores_nothing(storage):
    await posted(storage, version=1)
    result = await storage.acknowledgements.record_ack(
        briefing_id="b", version=2, user_id="U1", now=NOW
    )
    assert result is None
    assert await storage.call(lambda db: db["acknowledgements"].count) == 0


async def test_an_event_id_is_first_only_once_and_old_ones_are_pruned(storage):
    assert await storage.events.first_delivery("Ev1", NOW) is True
    assert await storage.events.first_delivery("Ev1", NOW) is False
    assert await storage.events.prune_events(NOW + timedelta(days=2)) == 1
    assert await storage.events.first_delivery("Ev1", NOW) is True


async def test_naive_times_are_refused(storage):
    with pytest.raises(ValueError, match="naive"):
        await storage.acknowledgements.record_ack(
            briefing_id="b", version=1, user_id="U1", now=datetime(2026, 1, 1)
        )


def test_a_second_instance_on_the_same_database_is_refused(tmp_path):
    first = InstanceLock(tmp_path / "los.db")
    first.acquire()
    try:
        with pytest.raises(AlreadyRunning, match="already running"):
            InstanceLock(tmp_path / "los.db").acquire()
    finally:
        first.release()
    again = InstanceLock(tmp_path / "los.db")
    again.acquire()  # free again once released
    again.release()


async def test_only_the_latest_posted_version_waits_for_acknowledgement(storage):
    for version in (1, 2):
        await posted(storage, version=version, title=f"v{version}", channel="CX")
    assert await storage.publications.latest_posted_version("b") == 2
    assert [
        (r["version"], r["title"]) for r in await storage.acknowledgements.awaiting_ack("U1")
    ] == [(2, "v2")]
    await storage.acknowledgements.record_ack(briefing_id="b", version=2, user_id="U1", now=NOW)
    assert await storage.acknowledgements.awaiting_ack("U1") == []
    assert await storage.publications.latest_posted_version("never-posted") is None


async def test_a_read_never_queues_behind_a_slow_write(storage):
    import time

    def slow(db):
        time.sleep(0.5)
        db.execute("INSERT INTO heartbeat (id, at) VALUES (7, 'x')")

    writing = asyncio.create_task(storage.writer.write(slow))
    await asyncio.sleep(0.05)  # the writer thread is now busy
    started = time.perf_counter()
    count = await storage.writer.read(
        lambda db: db.execute("SELECT COUNT(*) FROM heartbeat").fetchone()[0]
    )
    assert time.perf_counter() - started < 0.3
    assert count == 0  # it reads what is committed, not the write in progress
    await writing


async def test_a_write_queued_past_its_deadline_never_runs(storage):
    import time

    from bot.storage import WriteTimeout

    ran = []

    def slow(db):
        time.sleep(0.4)

    def queued(db):
        ran.append(True)
        db.execute("INSERT INTO heartbeat (id, at) VALUES (8, 'x')")

    first = asyncio.create_task(storage.writer.write(slow))
    await asyncio.sleep(0.05)  # the writer thread is now busy with `slow`
    with pytest.raises(WriteTimeout):
        await storage.writer.write(queued, timeout=0.1)
    await first
    await asyncio.sleep(0.05)
    assert ran == []
    assert await storage.call(lambda db: db["heartbeat"].count) == 0


async def test_a_write_that_fails_half_way_keeps_nothing(storage):
    def half(db):
        db.execute("INSERT INTO heartbeat (id, at) VALUES (9, 'x')")
        raise RuntimeError("disk trouble")

    with pytest.raises(RuntimeError):
        await storage.writer.write(half)
    assert await storage.call(lambda db: db["heartbeat"].count) == 0


async def test_a_delivery_keeps_the_time_it_first_went_in_flight(storage):
    await storage.outbox.prepare(
        Plan(
            briefing_id="b",
            version=1,
            title="T",
            acknowledge=True,
            published_by="U9",
            message={"text": "t", "blocks": []},
            entries=(PlannedEntry(raw="@g", ref="S1", post=False, people=("U1",)),),
        ),
        NOW,
    )
    first = await storage.outbox.claim_next(NOW)
    await storage.outbox.retry_later(first.id, not_before=NOW, error="lost")
    again = await storage.outbox.claim_next(NOW + timedelta(minutes=10))
    assert again.claimed_at == first.claimed_at == "2026-11-28T09:00:00+00:00"
    assert again.look_first is True
    assert again.attempts == 2


async def test_emptying_the_wal_with_a_reader_in_the_way_returns_at_once_not_after_busy_timeout(
    tmp_path,
):
    import sqlite3
    import time

    store = Storage(tmp_path / "t.db")
    await store.open()
    try:
        await store.call(lambda db: db.execute("INSERT INTO heartbeat (id, at) VALUES (1, 'a')"))
        reader = sqlite3.connect(tmp_path / "t.db")
        reader.execute("BEGIN")
        reader.execute("SELECT * FROM heartbeat").fetchall()  # holds a snapshot
        await store.call(lambda db: db.execute("UPDATE heartbeat SET at = 'b'"))
        started = time.monotonic()
        assert await store.writer.scrub() is False  # tried later, by the job that retries
        assert time.monotonic() - started < 1.0  # not the 5 s busy_timeout
        reader.rollback()
        reader.close()
        assert await store.writer.scrub() is True
    finally:
        await store.close()
