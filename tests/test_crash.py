"""A 200 means stored, even across `kill -9`: a flood of clicks, the bot killed part-way, a restart.

The bot runs as its own process, as in production. 1,100 people press Acknowledge at once (50
in flight); once 500 have been answered 200 the process is killed with SIGKILL — no shutdown, no
flush. A new process on the same database must then hold every acknowledgement Slack was told
about, none twice, in a database that passes SQLite's integrity check.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
from pathlib import Path

import aiohttp

from handlers.briefings import ACK_ACTION
from handlers.briefings.blocks import CONFIRM_ACTION
from slack_standin import RateLimits, SlackDriver, SlackStandIn, Workspace
from slack_standin.harness import (
    bot_env,
    click_when_shown,
    eventually,
    free_port,
    posts,
    spawn_bot,
    wait_healthy,
)
from tests.conftest import BOT_TOKEN, SENIOR_MANAGER, SIGNING_SECRET, SOCIAL_WORK_ALL

REPO = Path(__file__).resolve().parents[1]
STAFF = 1100
KILL_AFTER = 500


async def test_kill_9_mid_flood_loses_no_click_that_was_answered_200(tmp_path):
    workspace = Workspace.sample(n_staff=STAFF + 6)
    people = [u for u in workspace.users if u.startswith("U0SW")]
    assert len(people) == STAFF
    async with SlackStandIn(
        workspace,
        bot_token=BOT_TOKEN,
        app_token="xapp-test",
        signing_secret=SIGNING_SECRET,
        rate_limits=RateLimits(),
    ) as slack:
        port = free_port()
        env = bot_env(
            slack,
            port=port,
            database=tmp_path / "los.db",
            content_dir=REPO / "content",
            signing_secret=SIGNING_SECRET,
            pythonpath=REPO,
            SENIOR_MANAGERS=SENIOR_MANAGER,
            LOG_LEVEL="WARNING",
        )
        log = open(tmp_path / "bot.log", "wb")  # noqa: SIM115, ASYNC230 (the child writes it)
        bot = await spawn_bot(env, tmp_path, stdout=log, stderr=log)
        url = f"http://127.0.0.1:{port}"
        try:
            await wait_healthy(f"{url}/healthz", bot)
            async with SlackDriver(
                slack, bot_url=f"{url}/slack/events", signing_secret=SIGNING_SECRET
            ) as driver:
                await driver.slash_command(SENIOR_MANAGER, "/brief", "publish recruitment-funding")
                await click_when_shown(driver, SENIOR_MANAGER, CONFIRM_ACTION)
                await eventually(lambda: bool(posts(slack, SOCIAL_WORK_ALL)), "post", within=30)
                [post] = posts(slack, SOCIAL_WORK_ALL)

                def reach_listed() -> bool:  # the publish is done: every click can count
                    with sqlite3.connect(tmp_path / "los.db") as db:
                        row = db.execute("SELECT status, reach_known FROM publications").fetchone()
                    return row == ("posted", 1)

                await eventually(reach_listed, "list who the briefing reached", within=30)
                answered: list[str] = []
                gate = asyncio.Semaphore(50)

                async def click(person: str) -> None:
                    async with gate:
                        if bot.returncode is not None:
                            return
                        try:
                            response = await driver.click(person, post, ACK_ACTION)
                        except (aiohttp.ClientError, OSError):
                            return  # the process was killed under this click
                        if response.status == 200:
                            answered.append(person)
                            if len(answered) == KILL_AFTER:
                                bot.send_signal(signal.SIGKILL)

                await asyncio.gather(*(click(p) for p in people))
                await asyncio.wait_for(bot.wait(), 30)
        finally:
            if bot.returncode is None:
                bot.kill()
                await bot.wait()
        assert bot.returncode == -signal.SIGKILL
        assert KILL_AFTER <= len(answered) < STAFF  # killed part-way, as meant

        # A new process on the same database starts cleanly and finds every answered click.
        again = await spawn_bot(env, tmp_path, stdout=log, stderr=log)
        try:
            await wait_healthy(f"{url}/healthz", again)
        finally:
            again.send_signal(signal.SIGTERM)
            await asyncio.wait_for(again.wait(), 30)
            log.close()
        assert again.returncode == 0, (tmp_path / "bot.log").read_text()[-2000:]

    with sqlite3.connect(tmp_path / "los.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = [r[0] for r in db.execute("SELECT user_id FROM acknowledgements")]
    assert len(rows) == len(set(rows))  # none twice
    missing = set(answered) - set(rows)
    assert missing == set(), f"{len(missing)} clicks were answered 200 but not stored"
    assert set(rows) <= set(people)
    print(
        f"answered 200 before the kill: {len(answered)}; stored: {len(rows)}",
        file=sys.stderr,
    )
