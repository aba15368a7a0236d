"""Taking an attributed check acknowledges as pressing the button does, later versions of the
same acknowledgement round included: a correction that did not ask again (with a check of its
own) is not then asked of the taker by its reminder. Found in review."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.storage.acknowledgements import acknowledge_by_taking


def _setup(db):
    for v, rnd in ((1, None), (2, 1)):  # v2: a correction that did not ask again
        db.execute(
            "INSERT INTO broadcasts (briefing_id, version, message, status, purpose, ack_round)"
            " VALUES ('b', ?, '{}', 'done', 'briefing', ?)",
            [v, rnd],
        )
        db.execute(
            "INSERT INTO publications (briefing_id, version, title, audience, status, acknowledge)"
            " VALUES ('b', ?, 'T', 'dm:#all', 'posted', 1)",
            [v],
        )
        pub = db.execute("SELECT last_insert_rowid()").fetchone()[0]
        for u in ("TAKER", "PRESSER"):
            db.execute("INSERT INTO recipients (publication_id, user_id) VALUES (?, ?)", [pub, u])
        db.execute(
            "INSERT INTO checks (briefing_id, version, title, questions, clarity, mode,"
            " opened_at, closes_at) VALUES ('b', ?, 't', '[]', 0, 'attributed',"
            " '2026-01-01', '2027-01-01')",
            [v],
        )  # v2 changed the questions: its own check


async def test_taking_a_check_acknowledges_the_same_round_as_the_button(storage):
    now = datetime(2026, 12, 8, tzinfo=UTC)
    await storage.writer.write(_setup)
    at = now.isoformat()
    await storage.writer.write(lambda db: acknowledge_by_taking(db, "b", 1, "TAKER", at))
    await storage.acknowledgements.record_ack(
        briefing_id="b", version=1, user_id="PRESSER", now=now
    )
    rows = await storage.writer.call(
        lambda db: sorted(db.execute("SELECT user_id, version FROM acknowledgements").fetchall())
    )
    assert rows == [("PRESSER", 1), ("PRESSER", 2), ("TAKER", 1), ("TAKER", 2)]
    waiting = await storage.acknowledgements.unacknowledged("b", 2)
    assert waiting.people == ()
