"""Retention: on a controlled clock, the daily purge deletes what is past its time (gone from
the database file and its write-ahead log, byte for byte), leaves the rest, records the counts,
and never moves a figure already released."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlite_utils import Database

from bot.comprehension import TAKE_ACTION
from bot.storage.retention import Purge, Retention, months_before, purgeable_questions
from handlers.retention import purge_due
from slack_standin import Workspace
from tests.clocks import Clock
from tests.conftest import ENGAGEMENT_LEAD, publish_confirmed
from tests.test_check_results import BRIEFING, picked

NOW = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    return Clock(NOW)


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
    (folder / "duty-changes.md").write_text(BRIEFING, encoding="utf-8")
    return tmp_path / "content"


def iso(year: int, month: int, day: int = 1) -> str:
    return datetime(year, month, day, 10, tzinfo=UTC).isoformat(timespec="seconds")


def seed(db) -> None:
    """Records either side of each kind's time, each carrying a marker of what should happen."""
    x = db.execute
    check = "INSERT INTO checks (briefing_id, version, title, questions, mode, opened_at,"
    x(f"{check} closes_at, closed_at) VALUES ('old', 1, 't', '[]', 'attributed', ?, ?, ?)",
      [iso(2024, 5), iso(2024, 6), iso(2024, 6)])  # fmt: skip
    x(f"{check} closes_at, closed_at) VALUES ('recent', 1, 't', '[]', 'attributed', ?, ?, ?)",
      [iso(2025, 5), iso(2025, 6), iso(2025, 6)])  # fmt: skip
    x(f"{check} closes_at) VALUES ('open', 1, 't', '[]', 'attributed', ?, ?)",
      [iso(2023, 5), iso(2027, 6)])  # an open check is never touched, however old  # fmt: skip
    sub = "INSERT INTO check_submissions (id, briefing_id, version, attempt, taker, correct,"
    for n, (check_id, marker) in enumerate(
        [("old", "PURGED-ANSWER-A"), ("old", "PURGED-ANSWER-B"),
         ("recent", "KEPT-ANSWER-A"), ("open", "KEPT-ANSWER-B")], 1
    ):  # fmt: skip
        x(f"{sub} all_correct, comment) VALUES (?, ?, 1, 1, ?, 1, 1, ?)",
          [n, check_id, f"U{marker}", marker])  # fmt: skip
        x("INSERT INTO check_answers VALUES (?, 0, 1, 1)", [n])
    x("INSERT INTO check_taken VALUES ('old', 1, 'UPURGED-TAKER', 1, 1)")
    x("INSERT INTO check_taken VALUES ('recent', 1, 'UKEPT-TAKER', 1, 1)")
    x("INSERT INTO disclosure_cells VALUES ('check:old:1', 'answers', '', 12, '{\"took\": 12}', ?)",
      [iso(2024, 6)])  # fmt: skip
    q = "INSERT INTO questions (id, ref, text, topic, forum, anonymous, asked_at, state,"
    x(f"{q} answered_at, merged_into) VALUES (1, 'Q-OLD', 'PURGED-QUESTION', 'p', 'surgery', 1,"
      " ?, 'answered', ?, NULL)", [iso(2023, 1), iso(2023, 6)])  # fmt: skip
    x(f"{q} moderated_at, merged_into) VALUES (2, 'Q-DUP', 'PURGED-DUPLICATE', 'p', 'surgery',"
      " 1, ?, 'merged', ?, 1)", [iso(2023, 1), iso(2023, 2)])  # fmt: skip
    x(f"{q} answered_at, merged_into) VALUES (3, 'Q-NEW', 'KEPT-QUESTION', 'p', 'surgery', 1,"
      " ?, 'answered', ?, NULL)", [iso(2023, 1), iso(2025, 6)])  # fmt: skip
    x(f"{q} moderated_at, merged_into) VALUES (4, 'Q-DUP2', 'KEPT-DUPLICATE', 'p', 'surgery',"
      " 1, ?, 'merged', ?, 3)", [iso(2022, 1), iso(2022, 2)])  # joined one still kept  # fmt: skip
    x(f"{q} moderated_at, merged_into) VALUES (5, 'Q-WAIT', 'KEPT-PENDING', 'p', 'surgery', 1,"
      " ?, 'pending', NULL, NULL)", [iso(2021, 1)])  # not finished: kept  # fmt: skip
    x("INSERT INTO question_votes VALUES (1, 'PURGED-VOTER'), (2, 'PURGED-VOTER2'),"
      " (3, 'KEPT-VOTER')")  # fmt: skip
    log = "INSERT INTO moderation_log (at, user_id, question_id, action, detail) VALUES"
    x(f"{log} (?, 'U1', 1, 'answer', 'PURGED-MODLOG')", [iso(2023, 6)])
    x(f"{log} (?, 'U1', 5, 'change', 'PURGED-OLDLOG')", [iso(2022, 6)])
    x(f"{log} (?, 'U1', 3, 'answer', 'KEPT-MODLOG')", [iso(2025, 6)])
    x("INSERT INTO practice_gaps VALUES ('2025-11-30', 'purged-gap', 'no_match', 3),"
      " ('2026-01-10', 'kept-gap', 'no_match', 2)")  # fmt: skip
    x("INSERT INTO practice_helped VALUES ('2025-11-30', 'purged-note', 1),"
      " ('2026-01-10', 'kept-note', 1)")  # fmt: skip
    x("INSERT INTO gaps_raised VALUES ('purged-raised', 'Q-OLD', '2025-10-01'),"
      " ('kept-raised', 'Q-NEW', '2026-02-01')")  # fmt: skip
    x("INSERT INTO gaps_dismissed VALUES ('purged-dismissed', '2025-10-01T09:00:00+00:00'),"
      " ('kept-dismissed', '2026-02-01T09:00:00+00:00')")  # fmt: skip
    audit = "INSERT INTO results_audit (at, user_id, action, briefing_id, version) VALUES"
    x(f"{audit} (?, 'U1', 'results', 'PURGED-AUDIT', 1)", [iso(2020, 11)])
    x(f"{audit} (?, 'U1', 'results', 'KEPT-AUDIT', 1)", [iso(2021, 1)])


def on_disk(path) -> bytes:
    """The database file and its write-ahead log, as bytes: what a copy of the disk holds."""
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


KEPT = (
    "KEPT-ANSWER-A", "KEPT-ANSWER-B", "KEPT-TAKER", "KEPT-QUESTION", "KEPT-DUPLICATE",
    "KEPT-PENDING", "KEPT-VOTER", "KEPT-MODLOG", "kept-gap", "kept-note", "kept-raised",
    "KEPT-AUDIT", "kept-dismissed",
)  # fmt: skip


async def started(bot) -> None:
    """The purge the bot runs at start has run (so it cannot race the test's)."""
    for _ in range(500):
        if await Purge(bot.deps.storage.writer).recent(1):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the purge did not run at start")


async def test_the_purge_deletes_what_is_past_its_time_and_nothing_else(bot, clock):
    storage = bot.deps.storage
    await started(bot)
    await storage.writer.write(seed)
    await storage.writer.scrub()
    before = on_disk(bot.config.database_path)
    assert before.count(b"PURGED-") >= 10  # the markers are there to be found

    run = await purge_due(bot.deps)

    data = on_disk(bot.config.database_path)
    gone = [m for m in (b"PURGED-", b"UPURGED", b"purged-") if m in data]
    assert gone == []
    assert [m for m in KEPT if m.encode() not in data] == []
    assert run.scrubbed
    assert run.purged == {
        "answered_checks": 1,  # checks, never rows: rows would count a check's takers
        "questions": 2,
        "moderation_log": 1,  # the old log row of a question still pending
        "practice_gaps": 1,
        "practice_helped": 1,
        "gaps_raised": 1,
        "gaps_dismissed": 1,  # a dismissal's words are a search's: they go too
        "results_audit": 1,
    }

    def rows(db):
        one = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "answers": one("SELECT count(*) FROM check_answers"),
            "checks": one("SELECT count(*) FROM checks"),
            "released": one("SELECT counts FROM disclosure_cells WHERE subject = 'check:old:1'"),
            "questions": [r[0] for r in db.execute("SELECT id FROM questions ORDER BY id")],
            "log": [r[0] for r in db.execute("SELECT detail FROM moderation_log")],
            "record": db.execute(
                "SELECT at, kind, purged FROM retention_runs ORDER BY id DESC LIMIT 2"
            ).fetchall(),
        }

    after = await storage.call(rows)
    assert after["answers"] == 2  # the recent and the open check's
    assert after["checks"] == 3  # a check itself stays: its questions and released figures
    assert after["released"] == '{"took": 12}'
    assert after["questions"] == [3, 4, 5]
    assert after["log"] == ["KEPT-MODLOG"]
    # The record says what went, counted, and when: never what it held.
    at = NOW.isoformat(timespec="seconds")
    assert (at, "run", 9) in after["record"]
    assert (at, "results_audit", 1) in after["record"]
    assert b"PURGED" not in repr(await Purge(storage.writer).recent(50)).encode()

    # Run again the next day: nothing more is due, and the run is recorded all the same.
    clock.now = datetime(2026, 12, 9, 2, 30, tzinfo=UTC)
    again = await purge_due(bot.deps)
    assert again.purged == {}
    assert (await Purge(storage.writer).recent(1))[0][1:] == ("run", 0)


async def test_a_purged_checks_released_figures_stay_as_released(slack, bot, driver, clock):
    await started(bot)
    await publish_confirmed(driver, bot, "publish duty-changes")
    assert await bot.outbox.idle(30)
    takers = sorted(slack.workspace.usergroups["S0SWS"].users)[:12]
    for n, person in enumerate(takers):
        [copy] = [m for m in slack.messages(person) if m.blocks]
        await driver.click(person, copy, TAKE_ACTION)
        await bot.work.idle()
        [view] = slack.views_for(person)
        await driver.submit_view(person, view, picked(1 if n % 3 else 0, 0))
        await bot.work.idle()
    await driver.slash_command(ENGAGEMENT_LEAD, "/engage", "close duty-changes")
    await bot.work.idle()
    disclosure = bot.deps.storage.disclosure
    released = await disclosure.check("duty-changes", 1, clock.now)
    assert released is not None
    assert released.answers.total("took") == 12

    count = "SELECT count(*) FROM check_submissions WHERE briefing_id = 'duty-changes'"
    # Two years on, less a day: still kept.
    clock.now = months_before(NOW, -24)
    assert (await purge_due(bot.deps)).purged == {}
    clock.now = months_before(NOW, -25)
    run = await purge_due(bot.deps)
    assert run.purged["answered_checks"] == 1
    assert await bot.deps.storage.call(lambda db: db.execute(count).fetchone()[0]) == 0
    after = await disclosure.check("duty-changes", 1, clock.now)
    assert after is not None
    assert after.answers == released.answers
    assert after.acks == released.acks


def test_months_before_is_by_the_calendar():
    assert months_before(datetime(2026, 3, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert months_before(datetime(2026, 12, 8, tzinfo=UTC), 24) == datetime(2024, 12, 8, tzinfo=UTC)
    assert months_before(datetime(2026, 1, 15, tzinfo=UTC), 72) == datetime(2020, 1, 15, tzinfo=UTC)


async def test_a_duplicate_goes_only_with_the_question_it_joined(storage):
    await storage.writer.write(seed)
    cutoff = months_before(NOW, Retention().questions).isoformat(timespec="seconds")
    assert await storage.call(lambda db: purgeable_questions(db, cutoff)) == [1, 2]


def test_duplicates_whose_question_went_in_an_earlier_batch_still_go():
    """A purge deletes a batch at a time: when the answered question went in one batch, the
    duplicates merged into it (through a chain) must not be left behind for good."""
    db = Database(memory=True)
    db.execute(
        "CREATE TABLE questions (id INTEGER PRIMARY KEY, state TEXT, merged_into INTEGER,"
        " answered_at TEXT, moderated_at TEXT)"
    )
    db.execute("INSERT INTO questions VALUES (1, 'answered', NULL, '2020-01-01', NULL)")
    db.execute("INSERT INTO questions VALUES (2, 'merged', 1, NULL, '2020-01-01')")
    db.execute("INSERT INTO questions VALUES (3, 'merged', 2, NULL, '2020-01-01')")
    db.execute("INSERT INTO questions VALUES (4, 'pending', NULL, NULL, NULL)")
    db.execute("INSERT INTO questions VALUES (5, 'merged', 4, NULL, '2020-01-01')")
    assert purgeable_questions(db, "2021-01-01") == [1, 2, 3]
    db.execute("DELETE FROM questions WHERE id = 1")  # the first batch took the question
    assert purgeable_questions(db, "2021-01-01") == [2, 3]  # its chain goes next
