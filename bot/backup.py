"""Backups of the database, taken while the bot runs, and putting one back.

A backup is SQLite's online backup API, run from a connection of its own: in WAL mode a reader
never stops the bot's writer, and the copy is the database as of one moment (one read
transaction), whatever is committed meanwhile. The copy is then made self-contained (no `-wal`
beside it), vacuumed (no free pages, so nothing deleted lingers in its bytes), checked with
`PRAGMA integrity_check`, `fsync`ed and only then given its name: a file named
`<stem>-<UTC time>.db` is whole. Nothing is left out of it: docs/PRIVACY.md says what a copy of
the database holds, and the secrets it promises are never in one (`ASKER_KEY`, the token) are
not in the database at all; only the database file is copied, never the data folder.

A restore refuses while a bot holds the database's lock (and holds it itself meanwhile), and
refuses a file that fails the check or is not this app's database (or is from a newer release).
The old file is kept aside as `<name>.before-restore-<time>`. A backup is older than what Slack
has seen: every copy the outbox still had to send is looked for in Slack before it is sent
(the outbox's own look-before-send, as after a crash), so nobody gets one twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import re
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

from bot import metrics
from bot.lock import InstanceLock
from bot.storage import restores
from bot.storage.migrations import migrations

if TYPE_CHECKING:
    from bot.config import Config
    from bot.deps import Deps

logger = logging.getLogger(__name__)

JOB = "backup"
# In TIMEZONE: a quiet hour, after the 02:30 retention purge (handlers/retention.py), so a
# night's backup holds nothing that night's purge removed.
BACKUP_AT = time(3, 0)
_STAMP = "%Y%m%dT%H%M%SZ"
_BUSY_MS = 10_000


class BackupError(Exception):
    """Why a backup or a restore was not made, in words for the operator."""


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_STAMP)


def backup_name(database: Path, moment: datetime) -> str:
    return f"{database.stem}-{stamp(moment)}.db"


def _ours(database: Path) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(database.stem)}-(\d{{8}}T\d{{6}}Z)\.db$")


def backups(database: Path, directory: Path) -> list[Path]:
    """This database's backups in `directory`, oldest first (their names sort by time)."""
    if not directory.is_dir():
        return []
    pattern = _ours(database)
    return sorted(p for p in directory.iterdir() if pattern.match(p.name) and p.is_file())


def latest_backup(database: Path, directory: Path) -> datetime | None:
    """When the newest backup was taken (from its name), or None."""
    found = backups(database, directory)
    if not found:
        return None
    match = _ours(database).match(found[-1].name)
    assert match is not None
    return datetime.strptime(match.group(1), _STAMP).replace(tzinfo=UTC)


# -- taking a backup ------------------------------------------------------------------------------


def backup(database: Path, directory: Path, now: datetime) -> Path:
    """A checked, fsynced copy of `database` in `directory`, named with the UTC time."""
    if not database.is_file():
        raise BackupError(f"There is no database at {database} (DATABASE_PATH) to back up.")
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / backup_name(database, now)
    if final.exists():
        raise BackupError(f"{final} is already there: one backup a second at most.")
    partial = final.with_name(final.name + ".partial")
    try:
        copy_database(database, partial)
        _note(partial, functools.partial(restores.note_taken, now=now))
        problem = check_file(partial)
        if problem:
            raise BackupError(f"The copy failed its check ({problem}); nothing was kept.")
        _fsync(partial)
        os.replace(partial, final)
        _fsync(directory)
    finally:
        partial.unlink(missing_ok=True)
    return final


def copy_database(source: Path, target: Path) -> None:
    """One consistent copy through the backup API, then self-contained and vacuumed."""
    target.unlink(missing_ok=True)
    # Read-write only so that SQLite may use the -shm beside a WAL database; nothing is written.
    reader = sqlite3.connect(f"file:{source}?mode=rw", uri=True, timeout=_BUSY_MS / 1000)
    writer = sqlite3.connect(target)
    try:
        reader.execute("PRAGMA query_only=ON")
        reader.backup(writer)  # all pages in one step: one read transaction, one moment
        writer.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
        writer.execute("VACUUM")  # free pages (what was deleted) are not carried over
        writer.commit()
    finally:
        writer.close()
        reader.close()


def check_file(path: Path) -> str | None:
    """None if `path` is a sound database of this app, from this release or an older one; else
    what is wrong, in words."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as error:
        return f"it cannot be opened: {error}"
    try:
        result = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        if result != ["ok"]:
            return "integrity_check: " + "; ".join(str(r) for r in result[:5])
        return _not_ours(connection)
    except sqlite3.DatabaseError as error:
        return f"it is not a readable SQLite database ({error})"
    finally:
        connection.close()


def _not_ours(connection: sqlite3.Connection) -> str | None:
    try:
        applied = {
            str(row[0])
            for row in connection.execute(
                "SELECT name FROM _sqlite_migrations WHERE migration_set = ?", [migrations.name]
            )
        }
    except sqlite3.OperationalError:
        applied = set()
    if not applied:
        return "it is not a Line of Sight database (it has none of its migrations)"
    newer = applied - {m.name for m in migrations._migrations}
    if newer:
        return f"it is from a newer release (migration {min(newer)} is unknown to this one)"
    return None


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def prune(database: Path, directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups (and any half-made one); the deleted ones."""
    found = backups(database, directory)
    gone = found[: max(0, len(found) - keep)]
    gone += [p for p in directory.glob(f"{_glob_escape(database.stem)}-*.db.partial")]
    for path in gone:
        path.unlink(missing_ok=True)
    return gone


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


# -- on a schedule ---------------------------------------------------------------------------------


def schedule(deps: Deps) -> None:
    """Every day at BACKUP_AT in TIMEZONE, when BACKUP_DIR is set; /metrics reads the newest
    backup's age from the folder (manual backups there count too)."""
    folder = deps.config.backup_dir
    if folder is None:
        metrics.set_last_backup_source(None)
        return
    newest = functools.partial(latest_backup, deps.config.database_path, folder)
    metrics.set_last_backup_source(newest)
    job = functools.partial(scheduled_backup, deps.config, deps.clock)
    deps.scheduler.daily(JOB, job, at=BACKUP_AT)


async def scheduled_backup(config: Config, clock: Callable[[], datetime]) -> Path | None:
    """One backup and the pruning after it; a failure is logged (tried again the next day)."""
    directory = config.backup_dir
    assert directory is not None
    try:
        made = await asyncio.to_thread(backup, config.database_path, directory, clock())
        gone = await asyncio.to_thread(prune, config.database_path, directory, config.backup_keep)
    except (BackupError, OSError, sqlite3.Error) as error:
        logger.error(
            "backup failed (%s); tried again tomorrow at %s", _why(error), f"{BACKUP_AT:%H:%M}"
        )
        return None
    metrics.backup_finished(clock())
    logger.info(
        "backup %s made; %d older removed (keeping %d)", made.name, len(gone), config.backup_keep
    )
    return made


def _why(error: BaseException) -> str:
    """What went wrong, without anything a person wrote (SQLite and the OS never echo data)."""
    if isinstance(error, OSError) and error.strerror:
        return f"{type(error).__name__}: {error.strerror}"
    return f"{type(error).__name__}: {error}"


# -- restoring ------------------------------------------------------------------------------------


def restore(source: Path, database: Path, now: datetime) -> Path | None:
    """Put `source` in `database`'s place, the old file kept aside (its path is returned).

    Raises `bot.lock.AlreadyRunning` while a bot holds the database, `BackupError` for a file
    that must not be restored.
    """
    if source.resolve() == database.resolve():
        raise BackupError(f"{source} is the database itself (DATABASE_PATH): give a backup.")
    if not source.is_file():
        raise BackupError(f"There is no file at {source}.")
    lock = InstanceLock(database)
    lock.acquire()  # no bot may start meanwhile
    try:
        problem = check_file(source)
        if problem:
            raise BackupError(f"{source} cannot be restored: {problem}.")
        staged = database.with_name(f"{database.name}.restoring")
        try:
            copy_database(source, staged)
            _look_before_sending(staged)
            taken = _taken_at(source)
            _note(staged, functools.partial(restores.note_restored, taken=taken, now=now))
            _fsync(staged)
            aside = _set_aside(database, now) if database.exists() else None
            os.replace(staged, database)
            _fsync(database.parent)
        finally:
            staged.unlink(missing_ok=True)
        return aside
    finally:
        lock.release()


def _look_before_sending(path: Path) -> None:
    """Copies the backup has still to send may have gone after it was taken: each is marked as
    the outbox marks a send whose answer was lost (`error = 'lost'`, looked for in Slack from
    its broadcast's start before anything is sent), and each anonymous asker's news as in flight
    (looked for the same way)."""
    connection = sqlite3.connect(path)
    try:
        connection.execute(
            "UPDATE deliveries SET error = 'lost', claimed_at = COALESCE(claimed_at,"
            " (SELECT created_at FROM broadcasts b WHERE b.id = deliveries.broadcast_id))"
            " WHERE status = 'pending' AND kind IN ('dm', 'channel') AND broadcast_id IN"
            " (SELECT id FROM broadcasts WHERE status = 'sending')"
        )
        with contextlib.suppress(sqlite3.OperationalError):  # a backup from before m015
            connection.execute("UPDATE asker_news SET in_flight = 1")
        connection.commit()
    finally:
        connection.close()


def _note(path: Path, write: Callable[[sqlite3.Connection], None]) -> None:
    connection = sqlite3.connect(path)
    try:
        write(connection)
        connection.commit()
    finally:
        connection.close()


def _taken_at(source: Path) -> datetime:
    """When a backup without its own record was taken: the time in its name, as `backup`
    names it, or else when the file was last written (a copy with `cp` moves that later,
    which narrows what is held after the restore: the drill says to keep backups' names)."""
    found = re.search(r"-(\d{8}T\d{6}Z)\.db$", source.name)
    if found:
        return datetime.strptime(found.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return datetime.fromtimestamp(source.stat().st_mtime, UTC)


def _set_aside(database: Path, now: datetime) -> Path:
    """The old database, whole (its WAL checkpointed into it), under a name of its own."""
    aside = database.with_name(f"{database.name}.before-restore-{stamp(now)}")
    if aside.exists():
        raise BackupError(f"{aside} is already there: one restore a second at most.")
    if _checkpointed(database) and _in_use(database):
        raise BackupError(
            f"{database} is open in another program (its -wal is still there): close it first."
        )
    os.link(database, aside)  # both names until the new file takes the old name
    for suffix in ("-wal", "-shm"):  # a damaged file's own WAL goes aside with it
        extra = Path(f"{database}{suffix}")
        if extra.exists():
            os.replace(extra, Path(f"{aside}{suffix}"))
    return aside


def _checkpointed(database: Path) -> bool:
    """Its WAL written into it and removed, as the last connection closing does; False for a
    file too damaged for that."""
    try:
        connection = sqlite3.connect(f"file:{database}?mode=rw", uri=True)
        try:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        logger.warning("the old database could not be checkpointed (%s)", error)
        return False
    return True


def _in_use(database: Path) -> bool:
    """The last connection to close removes the -wal and -shm: left, another has it open."""
    return any(Path(f"{database}{suffix}").exists() for suffix in ("-wal", "-shm"))
