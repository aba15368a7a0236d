"""The outbox's work per copy does not grow with the broadcast: every question it asks after a
copy (the next to send, whether anything is left) is answered from an index.

Found by bench/capacity.py: with 30,000 copies waiting, taking the next one sorted every pending
row (8 ms) and "anything left?" read every row of the broadcast (3 ms), after each copy — a
broadcast's cost grew with the square of its size. SQLite's own query plans say whether a
statement seeks an index or scans and sorts, whatever the machine's speed.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from bot.storage import Storage
from tests.conftest import dm_plan

NOW = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)


def plans(database, statements: list[str]) -> dict[str, list[str]]:
    """Each statement on `deliveries` with its plan, as SQLite would run it on that file."""
    with sqlite3.connect(database) as db:
        return {
            sql: [row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}")]
            for sql in statements
            if "deliveries" in sql and not sql.lstrip().upper().startswith(("BEGIN", "COMMIT"))
        }


async def test_taking_a_copy_and_finishing_read_an_index_never_every_waiting_row(tmp_path):
    database = tmp_path / "los.db"
    storage = Storage(database)
    await storage.open()
    try:
        people = [f"U{n:05d}" for n in range(3000)]
        await storage.outbox.prepare(dm_plan(people), NOW)
        statements: list[str] = []
        await storage.call(lambda db: db.conn.set_trace_callback(statements.append))
        claimed = await storage.outbox.claim_next(NOW)
        assert claimed is not None
        assert not await storage.outbox.finish_if_done(claimed.broadcast_id, NOW)
        await storage.call(lambda db: db.conn.set_trace_callback(None))
    finally:
        await storage.close()
    seen = plans(database, statements)
    assert any("ORDER BY d.id LIMIT 1" in sql for sql in seen)  # the claim was traced
    [finish] = [plan for sql, plan in seen.items() if sql.startswith("SELECT EXISTS")]
    # Only the rows still waiting are read: a broadcast nearly sent reads almost none.
    assert any("idx_deliveries_waiting" in step for step in finish), finish
    for sql, plan in seen.items():
        assert not any("TEMP B-TREE" in step for step in plan), (sql, plan)
        assert not any(step.startswith("SCAN") and "deliveries" in step for step in plan), (
            sql,
            plan,
        )
        assert not any(step.startswith("SCAN d") for step in plan), (sql, plan)


async def test_sends_go_past_a_long_correction_s_waiting_updates_without_reading_them(tmp_path):
    """When corrections' own limit is spent, a briefing's copies are taken past the updates
    waiting before them: from an index, not by stepping over each update."""
    database = tmp_path / "los.db"
    storage = Storage(database)
    await storage.open()
    try:
        await storage.outbox.prepare(
            dm_plan([f"C{n:05d}" for n in range(3000)], briefing_id="recruitment-funding"), NOW
        )
        await storage.call(lambda db: db.execute("UPDATE deliveries SET kind = 'update'"))
        await storage.outbox.prepare(dm_plan([f"U{n:05d}" for n in range(3000)]), NOW)
        statements: list[str] = []
        await storage.call(lambda db: db.conn.set_trace_callback(statements.append))
        claimed = await storage.outbox.claim_next(NOW, updates=False)
        await storage.call(lambda db: db.conn.set_trace_callback(None))
    finally:
        await storage.close()
    assert claimed is not None
    assert (claimed.kind, claimed.target) == ("dm", "U00000")
    lanes = {sql: plan for sql, plan in plans(database, statements).items() if "ORDER BY" in sql}
    assert len(lanes) == 2  # a direct message's lane and a channel post's
    for sql, plan in lanes.items():
        assert not any("TEMP B-TREE" in step for step in plan), (sql, plan)
        assert "idx_deliveries_status_kind_id" in plan[0], (sql, plan)
