"""A full disk, and a database that will not take writes: the person is told, nothing is half
written, and the bot carries on once the space (or the write permission) is back.

Disk full is SQLite's own `PRAGMA max_page_count`, set on the bot's writer connection to the
pages the database already has: any write that needs a new page fails with SQLITE_FULL
("database or disk is full"), as on a full disk, while writes that fit in pages already there
go through, as they also do on a full disk. People acknowledge one by one until the first
acknowledgement that needs a new page fails.

Read-only: as root (the test machine), `chmod 0444` does not stop a write, and no file mode
stops one through a connection already open. A file system that turns read-only under a
running bot (ext4's `errors=remount-ro`) makes every write fail with SQLITE_READONLY; here the
writer connection is put in SQLite's `PRAGMA query_only`, which refuses every write with that
same error ("attempt to write a readonly database"), and then lifted.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.briefing_message import ACK_ACTION
from bot.comprehension import TAKE_ACTION
from slack_standin import Workspace
from slack_standin.harness import posts
from tests.conftest import SOCIAL_WORK_ALL, publish_confirmed

STAFF = 300


@pytest.fixture
def workspace():
    return Workspace.sample(n_staff=STAFF + 6)


def social_workers(ws: Workspace) -> list[str]:
    return sorted(ws.usergroups["S0SWS"].users)


async def pragma(bot, statement: str) -> Any:
    """Run a PRAGMA on the bot's own writer connection (its thread)."""
    return await bot.storage.call(lambda db: db.execute(statement).fetchone())


async def counts(bot) -> dict[str, int]:
    """Rows in every table but the heartbeat (which the bot writes on its own)."""

    def tally(db) -> dict[str, int]:
        names = [t for t in db.table_names() if t not in ("heartbeat", "processed_events")]
        return {t: db.execute(f"SELECT count(*) FROM [{t}]").fetchone()[0] for t in names}

    return await bot.storage.call(tally)


async def acked(bot) -> list[str]:
    return await bot.storage.call(
        lambda db: [r[0] for r in db.execute("SELECT user_id FROM acknowledgements")]
    )


def answers(*picked: str) -> dict:
    return {
        f"q{n}": {"answer": {"type": "radio_buttons", "selected_option": {"value": value}}}
        for n, value in enumerate(picked)
    }


def told(slack, person: str, since: int) -> list[str]:
    """What `person` was shown privately since their `since`-th thing seen."""
    return [s.text for s in slack.seen_by(person)[since:] if s.kind in ("response", "ephemeral")]


async def click(driver, bot, person: str, post) -> list[str]:
    since = len(driver.standin.seen_by(person))
    response = await driver.click(person, post, ACK_ACTION)
    assert response.status == 200
    await bot.work.idle()
    return told(driver.standin, person, since)


async def test_a_full_disk_tells_the_person_keeps_nothing_half_written_and_recovers(
    slack, bot, driver
):
    await publish_confirmed(driver, bot, "publish recruitment-funding")
    assert await bot.outbox.idle(30)
    [post] = posts(slack, SOCIAL_WORK_ALL)
    [pages] = await pragma(bot, "PRAGMA page_count")
    [limit] = await pragma(bot, f"PRAGMA max_page_count = {pages}")
    assert limit == pages  # not one page more: the disk is full
    stored: list[str] = []
    refused = None
    for person in social_workers(slack.workspace):
        before = await counts(bot)
        shown = await click(driver, bot, person, post)
        if person not in await acked(bot):
            refused = person
            break
        stored.append(person)
    assert refused is not None, f"{len(stored)} acknowledgements fitted in {pages} pages"
    assert await counts(bot) == before  # nothing of the refused click was kept
    assert shown, "the person whose acknowledgement was not stored was told nothing"
    print(f"\ndisk full ({pages} pages) after {len(stored)} acknowledgements; told: {shown}")
    assert "try again" in " ".join(shown).lower()

    await pragma(bot, "PRAGMA max_page_count = 1073741823")  # space is back
    await click(driver, bot, refused, post)
    assert sorted(await acked(bot)) == sorted([*stored, refused])
    assert await pragma(bot, "PRAGMA integrity_check") == ("ok",)
    assert await bot.storage.check_writable(datetime.now(UTC))


async def test_a_read_only_database_tells_the_person_and_recovers(slack, bot, driver):
    await publish_confirmed(driver, bot, "publish recruitment-funding")
    assert await bot.outbox.idle(30)
    [post] = posts(slack, SOCIAL_WORK_ALL)
    first, second = social_workers(slack.workspace)[:2]
    await click(driver, bot, first, post)
    await pragma(bot, "PRAGMA query_only = ON")
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        await bot.storage.call(lambda db: db.execute("DELETE FROM heartbeat"))
    before = await counts(bot)
    shown = await click(driver, bot, second, post)
    print(f"\nread-only; told: {shown}")
    assert await counts(bot) == before
    assert shown, "the person whose acknowledgement was not stored was told nothing"
    assert "try again" in " ".join(shown).lower()

    await pragma(bot, "PRAGMA query_only = OFF")
    await click(driver, bot, second, post)
    assert sorted(await acked(bot)) == sorted([first, second])
    assert await pragma(bot, "PRAGMA integrity_check") == ("ok",)
    assert await bot.storage.check_writable(datetime.now(UTC))


async def test_a_check_answered_while_read_only_tells_the_person(slack, bot, driver):
    """A check's answers are several rows in one commit: none is kept, and the person is told
    in the modal (a submission has no response_url): it once closed as if all was well."""
    await publish_confirmed(driver, bot, "publish recruitment-funding")
    assert await bot.outbox.idle(30)
    [post] = posts(slack, SOCIAL_WORK_ALL)
    taker = social_workers(slack.workspace)[0]
    await driver.click(taker, post, TAKE_ACTION)
    await bot.work.idle()
    [view] = slack.views_for(taker)
    await pragma(bot, "PRAGMA query_only = ON")
    before = await counts(bot)
    since = len(slack.seen_by(taker))
    response = await driver.submit_view(taker, view, answers("1", "1", "1"))
    assert response.status == 200
    await bot.work.idle()
    assert await counts(bot) == before
    shown = [s.text for s in slack.seen_by(taker)[since:]] + [response.body]
    assert "try again" in " ".join(shown).lower(), f"told {shown}"
