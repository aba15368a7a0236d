"""Backups and the restore drill: a checked copy taken while the bot runs, put back in place
with the bot stopped, and a broadcast caught mid-way by the backup finishing once each."""

from __future__ import annotations

import asyncio
import logging
import signal
import sqlite3
import sys
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from bot import backup as backups
from bot.app import LineOfSight
from bot.backup import BACKUP_AT, JOB, BackupError, backup, check_file, prune, restore
from bot.cli import main
from bot.storage import Storage
from bot.storage.restores import Gap
from handlers.briefings.blocks import CONFIRM_ACTION
from slack_standin import RateLimits, SlackDriver, SlackStandIn, Workspace
from slack_standin.harness import (
    bot_env,
    click_when_shown,
    eventually,
    free_port,
    spawn_bot,
    wait_healthy,
)
from slack_standin.harness import posts as slack_posts
from tests.conftest import REPO, SENIOR_MANAGER, SIGNING_SECRET, dm_plan, publish_confirmed

MARKER = b"remember-me-not-0123456789"


def counts(path: Path) -> dict[str, int]:
    """Rows in every table."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: db.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}


def integrity(path: Path) -> list[str]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return [r[0] for r in db.execute("PRAGMA integrity_check")]


def only_backup(folder: Path) -> Path:
    [made] = list(folder.iterdir())
    return made


# -- the drill -------------------------------------------------------------------------------------


async def test_restore_drill_counts_and_integrity_equal(
    config, slack, monkeypatch, capsys, tmp_path
):
    monkeypatch.setenv("DATABASE_PATH", str(config.database_path))
    folder = tmp_path / "backups"
    los = LineOfSight(config)
    await los.start()
    runner = await los.listen("127.0.0.1", 0)
    try:
        async with SlackDriver(
            slack, bot_url=f"{los.base_url}/slack/events", signing_secret=SIGNING_SECRET
        ) as driver:
            await publish_confirmed(driver, los, "publish threshold-document")
        assert los.outbox is not None
        assert await los.outbox.idle(30)
        await los.work.idle()
        live = counts(config.database_path)
        assert main(["backup", str(folder)]) == 0  # while the bot runs
        made = only_backup(folder)
        # A bot holds the database: restore refuses, and leaves it be.
        assert main(["restore", str(made)]) == 1
        assert "already running" in capsys.readouterr().err
    finally:
        await runner.cleanup()
        await los.stop()
    assert live["deliveries"] > 0
    assert live["publications"] > 0
    # Everything the database held, and one row more: when the backup was taken.
    assert counts(made) == live | {"restores": live["restores"] + 1}
    assert integrity(made) == ["ok"]
    assert not (made.parent / f"{made.name}-wal").exists()

    # The disk "fails": the live database is lost. The drill puts the backup back.
    with closing(sqlite3.connect(config.database_path)) as db:
        db.execute("DELETE FROM deliveries")
        db.commit()
    assert main(["restore", str(made)]) == 0
    said = capsys.readouterr().out
    assert "before-restore" in said
    assert counts(config.database_path) == counts(made)  # its row now says when it went back
    assert integrity(config.database_path) == ["ok"]
    [aside] = config.database_path.parent.glob("los.db.before-restore-*")
    assert counts(aside)["deliveries"] == 0  # the old file, kept whole, aside

    again = LineOfSight(config)  # the restored database starts as any other
    await again.start()
    try:
        assert (await again.healthy())["ok"]
    finally:
        await again.stop()


def test_restore_refuses_a_damaged_file_another_apps_and_a_newer_releases(tmp_path, capsys):
    database = tmp_path / "los.db"
    asyncio.run(_make_database(database))
    good = backup(database, tmp_path / "b", datetime.now(UTC))
    before = database.read_bytes()

    damaged = tmp_path / "damaged.db"
    with closing(sqlite3.connect(good)) as db:
        size = db.execute("PRAGMA page_size").fetchone()[0]
        [root] = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'deliveries'")
    data = bytearray(good.read_bytes())
    start = (root[0] - 1) * size
    data[start : start + 12] = b"\x0d\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
    damaged.write_bytes(bytes(data))
    other = tmp_path / "other.db"
    with closing(sqlite3.connect(other)) as db:
        db.execute("CREATE TABLE notes (x)")
    newer = tmp_path / "newer.db"
    newer.write_bytes(good.read_bytes())
    with closing(sqlite3.connect(newer)) as db, db:
        db.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
            " VALUES ('line-of-sight', 'm999_from_the_future', '2030-01-01')"
        )

    for path, why in (
        (damaged, "integrity_check|malformed"),
        (other, "not a Line of Sight database"),
        (newer, "newer release"),
    ):
        with pytest.raises(BackupError, match=why):
            restore(path, database, datetime.now(UTC))
    assert database.read_bytes() == before  # untouched, nothing set aside
    assert list(tmp_path.glob("los.db.before-restore-*")) == []
    assert check_file(good) is None


async def _make_database(path: Path) -> None:
    storage = Storage(path)
    await storage.open()
    await storage.outbox.prepare(dm_plan(["U1", "U2", "U3"]), datetime.now(UTC))
    await storage.close()


# -- what a backup holds ---------------------------------------------------------------------------


async def test_a_backup_holds_nothing_deleted_even_where_the_live_file_still_does(tmp_path):
    """Taken while the bot's writer has the database open; vacuumed, so a row deleted before
    the backup (here without secure_delete, as an older file's free pages might hold one) is
    not in its bytes."""
    database = tmp_path / "los.db"
    storage = Storage(database)
    await storage.open()
    try:
        side = sqlite3.connect(database)
        side.execute("PRAGMA secure_delete=OFF")
        side.execute("CREATE TABLE scratch (v BLOB)")
        side.execute("INSERT INTO scratch VALUES (?)", [MARKER * 40])
        side.commit()
        side.execute("DELETE FROM scratch")
        side.commit()
        side.close()
        live = database.read_bytes() + (tmp_path / "los.db-wal").read_bytes()
        assert MARKER in live  # the deleted row's bytes are still there
        await storage.outbox.prepare(dm_plan(["U1"]), datetime.now(UTC))  # the bot writes on
        made = backup(database, tmp_path / "b", datetime.now(UTC))
    finally:
        await storage.close()
    assert MARKER not in made.read_bytes()
    assert counts(made)["deliveries"] == 1
    assert made.read_bytes()[18:20] == b"\x01\x01"  # a rollback-journal file: no -wal needed


# -- on a schedule ---------------------------------------------------------------------------------


async def test_scheduled_backups_keep_the_newest_and_a_failure_is_logged(tmp_path, caplog):
    database = tmp_path / "los.db"
    await _make_database(database)
    folder = tmp_path / "backups"
    config = _config(database, folder, keep=3)
    start = datetime(2026, 12, 1, 2, 30, tzinfo=UTC)
    for day in range(5):
        made = await backups.scheduled_backup(config, lambda d=day: start + timedelta(days=d))
        assert made is not None
    kept = sorted(p.name for p in folder.iterdir())
    assert kept == [f"los-202612{d:02d}T023000Z.db" for d in (3, 4, 5)]
    assert backups.latest_backup(database, folder) == start + timedelta(days=4)

    database.unlink()  # a failure: logged as an error, no traceback, nothing half-made
    with caplog.at_level(logging.INFO, logger="bot.backup"):
        assert await backups.scheduled_backup(config, lambda: start + timedelta(days=9)) is None
    [failed] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "backup failed" in failed.getMessage()
    assert failed.exc_info is None
    assert sorted(p.name for p in folder.iterdir()) == kept


def _config(database: Path, folder: Path, *, keep: int):  # type: ignore[no-untyped-def]
    from bot.config import Config

    return Config(
        bot_token="xoxb-1",
        signing_secret="s",
        app_token=None,
        database_path=database,
        backup_dir=folder,
        backup_keep=keep,
    )


async def test_backup_dir_schedules_a_daily_backup_at_three(config):
    off = LineOfSight(config)
    await off.start()
    try:
        assert JOB not in off.scheduler.job_ids()  # BACKUP_DIR unset: off
    finally:
        await off.stop()
    folder = config.database_path.parent / "b"
    on = LineOfSight(replace(config, backup_dir=folder, metrics=True))
    await on.start()
    try:
        due = on.scheduler.next_run(JOB)
        assert due is not None
        local = due.astimezone(config.timezone)
        assert (local.hour, local.minute) == (3, 0)
        assert time(3, 0) == BACKUP_AT
        assert on.metrics is not None
        assert on.metrics.backup_age() is None  # no backup yet: no age
        await on.scheduler.run_now(JOB)  # as 03:00 would
        age = on.metrics.backup_age()
        assert age is not None
        assert age < 60
    finally:
        await on.stop()
    assert integrity(only_backup(folder)) == ["ok"]


def test_prune_leaves_other_files_alone(tmp_path):
    database = tmp_path / "los.db"
    folder = tmp_path / "b"
    folder.mkdir()
    names = [f"los-2026120{d}T023000Z.db" for d in range(1, 5)]
    for name in [*names, "notes.txt", "other-20261201T023000Z.db", "los-x.db"]:
        (folder / name).write_text("x")
    gone = prune(database, folder, 2)
    assert sorted(p.name for p in gone) == names[:2]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*names[2:], "notes.txt", "other-20261201T023000Z.db", "los-x.db"]
    )


# -- a backup taken mid-broadcast, restored ----------------------------------------------------


@pytest.mark.slow  # three processes and a broadcast paced as Slack allows: about 20 s (CI runs it)
async def test_a_backup_taken_mid_broadcast_and_restored_finishes_it_with_one_copy_each(tmp_path):
    workspace = Workspace.sample(n_staff=90)
    people = sorted(
        set(workspace.usergroups["S0SWS"].users) | set(workspace.usergroups["S0TMS"].users)
    )
    # Looking copies up is Tier 3 (50 a minute); five times that keeps the test short.
    limits = RateLimits(scale=5.0)
    database = tmp_path / "los.db"
    folder = tmp_path / "backups"
    async with SlackStandIn(workspace, signing_secret=SIGNING_SECRET, rate_limits=limits) as slack:
        port = free_port()
        env = bot_env(
            slack,
            port=port,
            database=database,
            content_dir=REPO / "content",
            signing_secret=SIGNING_SECRET,
            pythonpath=REPO,
            SENIOR_MANAGERS=SENIOR_MANAGER,
            OUTBOX_PER_MINUTE="600",
            LOG_LEVEL="WARNING",
        )
        url = f"http://127.0.0.1:{port}"

        def delivered() -> int:
            return sum(1 for p in people for m in slack.messages(p) if m.blocks)

        with open(tmp_path / "bot.log", "wb") as log:  # noqa: ASYNC230 (the child writes it)
            first = await spawn_bot(env, tmp_path, stdout=log, stderr=log)
            try:
                await wait_healthy(f"{url}/healthz", first)
                async with SlackDriver(
                    slack, bot_url=f"{url}/slack/events", signing_secret=SIGNING_SECRET
                ) as driver:
                    await driver.slash_command(
                        SENIOR_MANAGER, "/brief", "publish threshold-document"
                    )
                    await click_when_shown(driver, SENIOR_MANAGER, CONFIRM_ACTION)
                await eventually(lambda: delivered() >= 20, "send 20 copies", within=60)
                # A third process, as cron would run it, beside the running bot.
                backed_up = await _run_cli(env, tmp_path, "backup", str(folder))
                assert backed_up == 0, (tmp_path / "bot.log").read_text()[-2000:]
                await eventually(lambda: delivered() >= len(people), "finish", within=90)
            finally:
                first.send_signal(signal.SIGTERM)
                await first.wait()
            made = only_backup(folder)
            left = _waiting(made)
            assert 0 < left < len(people)  # the backup caught it mid-way
            posts_before = len(slack.calls_to("chat.postMessage"))

            # The drill: the backup put back, the bot started on it.
            assert await _run_cli(env, tmp_path, "restore", str(made)) == 0
            second = await spawn_bot(env, tmp_path, stdout=log, stderr=log)
            try:
                await wait_healthy(f"{url}/healthz", second)
                await eventually(lambda: _waiting(database) == 0, "resume", within=90)
                await asyncio.sleep(0.5)  # anything sent twice would show by now
            finally:
                second.send_signal(signal.SIGTERM)
                await second.wait()
        assert second.returncode == 0, (tmp_path / "bot.log").read_text()[-2000:]
    assert [n for p in people if (n := len([m for m in slack.messages(p) if m.blocks])) != 1] == []
    # Every copy the backup had still to send was found in Slack, none sent again.
    resent = [
        c
        for c in slack.calls_to("chat.postMessage")[posts_before:]
        if c.args.get("channel") in people
    ]
    assert resent == []
    assert integrity(database) == ["ok"]


def _waiting(path: Path) -> int:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return int(
            db.execute(
                "SELECT COUNT(*) FROM deliveries WHERE status IN ('pending', 'in_flight')"
            ).fetchone()[0]
        )


async def _run_cli(env: dict[str, str], cwd: Path, *args: str) -> int:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, env=env, cwd=cwd
    )
    return await process.wait()


# -- what fell due between the backup and the restore -----------------------------------------

SCHEDULED = "getting-to-good-seminars"  # publish_at: 2026-12-01 09:00 (London), deliver: both
BEFORE = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)  # a Saturday
TAKEN = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)  # the backup
SENT = datetime(2026, 12, 1, 9, 1, tzinfo=UTC)  # the lost days: it went out
RESTORED = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)  # the disk failed; the backup goes back


async def settle(los: LineOfSight, now: list[datetime]) -> None:
    """The outbox emptied, moving the bot's clock past any Retry-After it waits for (a DM to
    the publisher can meet Slack's 1 a second per channel; the clock here stands still)."""
    assert los.outbox is not None
    for _ in range(5):
        if await los.outbox.idle(3):
            return
        now[0] += timedelta(seconds=2)
        los.outbox.wake()
    raise AssertionError("the outbox did not empty")


async def test_what_fell_due_between_the_backup_and_its_restore_is_held_and_its_publisher_told(
    slack, bot, driver, config, tmp_path
):
    from handlers.briefings import schedule

    bot.deps.clock = lambda: BEFORE
    for text in (f"publish {SCHEDULED}", "publish recruitment-funding at 2026-12-03 08:30"):
        await publish_confirmed(driver, bot, text)
    made = backup(config.database_path, tmp_path / "backups", TAKEN)  # while it runs
    bot.deps.clock = lambda: SENT
    await schedule.send_due(bot.deps)  # the days the backup does not know: it goes out
    assert bot.outbox is not None
    assert await bot.outbox.idle(30)
    assert len(slack_posts(slack, "C0TMS")) == 1
    await bot.stop()

    assert restore(made, config.database_path, RESTORED) is not None
    now = [RESTORED + timedelta(minutes=1)]
    after = LineOfSight(replace(config), clock=lambda: now[0])
    await after.start()  # the jobs run at start, from what the restored database holds
    try:
        await schedule.send_due(after.deps)
        await settle(after, now)

        def told() -> list[str]:
            return [m.text for m in slack.messages(SENIOR_MANAGER) if "restored" in m.text]

        await eventually(lambda: bool(told()), "tell the publisher", within=10)
        assert told() == [
            '*"Getting to good" seminars - what our audits are teaching us* was due to go out'
            " at 1 Dec 2026, 09:00. Since then the bot has been restored from a backup taken at"
            " 28 Nov 2026, 10:00, which does not record it as sent. It may have gone out after"
            " that backup was taken, so I have not sent it again. Look in its channels or your"
            f" DMs with me: if it did not go, `/brief publish {SCHEDULED} now`, or choose a new"
            " time."
        ]
        assert len(slack_posts(slack, "C0TMS")) == 1  # not sent again
        # Its publisher may set it again, for a time of their choosing (as `/brief publish
        # … at` does, which says "has gone out already" when this refuses).
        assert await after.deps.storage.schedules.schedule(
            briefing_id=SCHEDULED,
            version=1,
            title="seminars",
            at=datetime(2026, 12, 4, 9, 0, tzinfo=UTC),
            published_by=SENIOR_MANAGER,
            now=now[0],
        )
        # What falls due after the restore goes as usual.
        now[0] = datetime(2026, 12, 3, 8, 31, tzinfo=UTC)
        await schedule.send_due(after.deps)
        await settle(after, now)
        assert len(slack_posts(slack, "C0SWALL")) == 1
    finally:
        await after.stop()
    with closing(sqlite3.connect(config.database_path)) as db:
        schedules = dict(db.execute("SELECT briefing_id, status FROM schedules"))
        gap = db.execute("SELECT taken_at, restored_at FROM restores").fetchall()
    assert schedules == {SCHEDULED: "scheduled", "recruitment-funding": "fired"}
    assert gap == [("2026-11-28T10:00:00+00:00", "2026-12-01T11:00:00+00:00")]


def test_a_restore_holds_whatever_was_due_before_it_went_back_and_nothing_after():
    """Due a moment before the backup was taken, and not yet sent when it was, it may have gone
    a moment after: held too. Due after the restore: the bot's to send as usual."""
    gap = Gap(TAKEN, RESTORED)
    assert gap.holds(TAKEN - timedelta(seconds=5))
    assert gap.holds(TAKEN + timedelta(hours=1))
    assert gap.holds(RESTORED)
    assert not gap.holds(RESTORED + timedelta(seconds=1))


async def test_a_schedule_the_backup_caught_queued_is_finished_by_the_outbox_not_held(bot):
    """Left firing with its broadcast queued when the backup was taken: the outbox finishes it
    (each copy looked for first), so its publisher is not told "not sent again"."""
    from handlers.briefings import schedule as schedules

    storage = bot.deps.storage
    for briefing in ("threshold-document", "triple-lock"):
        assert await storage.schedules.schedule(
            briefing_id=briefing,
            version=2,
            title=briefing,
            at=TAKEN,
            published_by=SENIOR_MANAGER,
            now=BEFORE,
        )
    await storage.outbox.prepare(dm_plan(["U0SW01"], briefing_id="threshold-document"), TAKEN)
    gap = Gap(TAKEN, RESTORED)
    due = {s.briefing_id: s for s in await storage.schedules.due(RESTORED)}
    assert not await schedules._held(bot.deps, due["threshold-document"], gap)
    assert await schedules._held(bot.deps, due["triple-lock"], gap)
    assert await storage.schedules.status_of(due["triple-lock"].id) == "held"
