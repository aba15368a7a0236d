"""The crash suite: `kill -9` twenty times at random moments, under load and mid-broadcast.

The bot runs as its own process, as in production. A DM briefing goes out to every social worker
through the outbox while 50 at a time press Acknowledge on one channel briefing (with no check:
taking an attributed check acknowledges its briefing too, which would make good a lost
acknowledgement), then open another's check and send their answers. The process is killed with
SIGKILL at seeded random moments (some while it is still starting: migrations, the outbox
resuming), and started again at once, twenty times;
then a last start is left running until everyone is done. Whatever a person's request met (a
refused connection, a reset, a 200), they carry on as a person would: press again, take the
check again if its questions come back.

It must end with:
- every acknowledgement and every check answer that was answered 200 stored (a 200 that said
  it was not kept excepted: the bot answers so when a write misses its deadline), and no
  answer twice (one first attempt per person: an answer stored whose 200 died with the
  process shows as "already taken" or the retake, never as a second first attempt);
- every social worker holding exactly one copy of the DM briefing, nothing left in the outbox,
  no request sent again inside its 429's Retry-After by the process that met it, and no
  outbox call inside any (the outbox keeps its pause in the database, so a new process honours
  the dead one's; the others are in memory, gone with the process);
- `PRAGMA integrity_check` ok, and the last process exiting cleanly on SIGTERM.

CI-sized by default (240 social workers, 20 kills; about a minute of one core). `FAULTS_LONG=1`
runs 1,200 and 60 kills; `FAULTS_SEED=n` replays one schedule of kills. It is in the slow tier
(`pytest -m slow`), which CI runs after the README's command: twenty process starts are most
of a minute whatever the machine.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.comprehension import TAKE_ACTION
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

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
LONG = os.environ.get("FAULTS_LONG") == "1"
SEED = int(os.environ.get("FAULTS_SEED", "19"))
STAFF = 1200 if LONG else 240
KILLS = 60 if LONG else 20
CONCURRENCY = 50
OPEN_S = 0.6  # Slack opens 100 modals a minute (views.open, Tier 4): the load's least time each
CHECK_BRIEFING = "recruitment-funding"  # to #social-work-all, with a three-question check
ACK_BRIEFING = "out-of-hours-numbers"  # to #social-work-all, acknowledged, no check (below)
# Its own briefing, so that an acknowledgement lost to a kill cannot be made good by the check:
# taking an attributed check acknowledges its briefing too.
ACK_ONLY = """---
id: out-of-hours-numbers
title: New out-of-hours duty numbers from Monday
audience: ["#social-work-all"]
deliver: channel
acknowledge: true
---
From Monday the out-of-hours duty team has **one number**: 0300 123 4567. Save it in your
phone today. The old numbers stop working on Monday morning.
"""
BUSY_OR_NOT_KEPT = ("I'm very busy just now", "nothing was recorded", "Not sent")
DM_BRIEFING = "threshold-document"  # by DM to every social worker and team manager
OUTBOX_METHODS = {
    "chat.postMessage",
    "chat.update",
    "conversations.history",
    "conversations.join",
}  # the "Take the 30-second check" button under the channel briefing


def choices(person: str) -> dict[str, Any]:
    """A person's answers to recruitment-funding's three questions: some right, some not."""
    picks = (1, 1, 1) if int(person[4:]) % 3 else (0, 1, 1)
    return {
        f"q{q}": {"answer": {"type": "radio_buttons", "selected_option": {"value": str(c)}}}
        for q, c in enumerate(picks)
    }


def has_questions(view: dict[str, Any]) -> bool:
    """A modal showing the check's questions (not "you have taken it", not the feedback)."""
    return any(b.get("block_id") == "q0" for b in view.get("blocks", []))


@dataclass
class Bot:
    """The one bot process alive at a time, started again after every kill."""

    env: dict[str, str]
    folder: Path
    log: Any
    process: asyncio.subprocess.Process | None = None
    starts: int = 0
    kills_while_starting: int = 0
    started_at: list[float] = field(default_factory=list)  # spawns, on the stand-in's clock

    async def start(self) -> None:
        self.process = await spawn_bot(self.env, self.folder, stdout=self.log, stderr=self.log)
        self.starts += 1

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        assert self.process.returncode == -signal.SIGKILL


@dataclass
class Load:
    """People acknowledging and answering, each carrying on through refusals as a person would."""

    driver: SlackDriver
    ack_post: Any
    check_post: Any
    waiting: list[str]
    acked_200: set[str] = field(default_factory=set)
    answered_200: set[str] = field(default_factory=set)
    refused: int = 0  # requests that met a dead or dying process

    async def person(self, who: str) -> bool:
        """One try at what `who` has left to do; True once it is all done."""
        driver = self.driver
        try:
            if who not in self.acked_200:
                response = await driver.click(who, self.ack_post, ACK_ACTION)
                if not kept(response):
                    self.refused += 1
                    return False
                self.acked_200.add(who)
            stack = driver.standin.views_for(who)
            if not stack or not has_questions(stack[-1]):
                before = len(stack)
                await driver.click(who, self.check_post, TAKE_ACTION)
                await eventually(
                    lambda: len(driver.standin.views_for(who)) > before, "open", within=3
                )
                stack = driver.standin.views_for(who)
                if not has_questions(stack[-1]):
                    return True  # "you have taken it": the answer was stored before the kill
            response = await driver.submit_view(who, stack[-1], choices(who))
        except (aiohttp.ClientError, OSError, TimeoutError):
            self.refused += 1
            return False
        if not kept(response):
            self.refused += 1
            return False
        self.answered_200.add(who)
        return True

    async def run(self) -> None:
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(who: str) -> None:
            async with gate:
                for _ in range(2000):
                    if await self.person(who):
                        return
                    await asyncio.sleep(0.05)  # a person pressing again
                raise AssertionError(f"{who} never got through")

        await asyncio.gather(*(one(p) for p in self.waiting))


def kept(response: Any) -> bool:
    """A 200 that says it was kept: the bot also answers 200 when a write missed its deadline or
    it was too busy to start, and says so ("not sent" pushed over a form, "busy" in the ack)."""
    return response.status == 200 and not any(t in response.body for t in BUSY_OR_NOT_KEPT)


def told_not_kept(slack: SlackStandIn, person: str) -> bool:
    """Told afterwards, over the response_url, that a click of theirs was not recorded."""
    return any(
        s.kind == "response" and "nothing was recorded" in (s.text or "")
        for s in slack.seen_by(person)
    )


async def answering(url: str) -> bool:
    """Whether the bot answers its health check now (not still starting), within 0.3 s."""
    try:
        limit = aiohttp.ClientTimeout(total=0.3)
        async with aiohttp.ClientSession(timeout=limit) as session, session.get(url) as response:
            return response.status == 200
    except (aiohttp.ClientError, OSError, TimeoutError):
        return False


def one_copy_each(slack: SlackStandIn, people: list[str]) -> dict[int, int]:
    """How many people hold how many copies of the DM briefing: {1: n} is exactly once."""
    tally: dict[int, int] = {}
    for person in people:
        n = len([m for m in slack.messages(person) if m.blocks and m.metadata])
        tally[n] = tally.get(n, 0) + 1
    return tally


async def test_kill_9_twenty_times_under_load_and_mid_broadcast_loses_and_doubles_nothing(
    tmp_path,
):
    content = tmp_path / "content"
    shutil.copytree(REPO / "content", content)
    (content / "briefings" / f"{ACK_BRIEFING}.md").write_text(ACK_ONLY, encoding="utf-8")
    workspace = Workspace.sample(n_staff=STAFF + 6)
    people = sorted(u for u in workspace.users if u.startswith("U0SW"))
    dm_people = sorted({*workspace.usergroups["S0SWS"].users, *workspace.usergroups["S0TMS"].users})
    assert len(people) == STAFF
    rng = random.Random(SEED)
    limits = RateLimits(post_workspace_per_minute=3000, post_workspace_burst=50)
    database = tmp_path / "los.db"
    async with SlackStandIn(
        workspace,
        bot_token=BOT_TOKEN,
        app_token="xapp-test",
        signing_secret=SIGNING_SECRET,
        rate_limits=limits,
    ) as slack:
        port = free_port()
        env = bot_env(
            slack,
            port=port,
            database=database,
            content_dir=content,
            signing_secret=SIGNING_SECRET,
            pythonpath=REPO,
            SENIOR_MANAGERS=SENIOR_MANAGER,
            # Slow enough that the broadcast spans the kills (about 3 s each, a start included),
            # on any machine: it is resumed many times. (The load spans them too: Slack opens
            # 100 modals a minute.)
            OUTBOX_PER_MINUTE=str(max(60, STAFF * 60 // (KILLS * 3))),
            LOG_LEVEL="WARNING",
        )
        url = f"http://127.0.0.1:{port}"
        with open(tmp_path / "bot.log", "wb") as log:  # noqa: ASYNC230 (the child writes it)
            bot = Bot(env, tmp_path, log)
            await bot.start()
            try:
                await wait_healthy(f"{url}/healthz", bot.process)
                async with SlackDriver(
                    slack, bot_url=f"{url}/slack/events", signing_secret=SIGNING_SECRET
                ) as driver:
                    for briefing in (ACK_BRIEFING, CHECK_BRIEFING):
                        await driver.slash_command(SENIOR_MANAGER, "/brief", f"publish {briefing}")
                        await click_when_shown(driver, SENIOR_MANAGER, CONFIRM_ACTION)
                    await eventually(lambda: len(posts(slack, SOCIAL_WORK_ALL)) == 2, "post")
                    ack_post, check_post = posts(slack, SOCIAL_WORK_ALL)
                    await driver.slash_command(SENIOR_MANAGER, "/brief", f"publish {DM_BRIEFING}")
                    await click_when_shown(driver, SENIOR_MANAGER, CONFIRM_ACTION)

                    def sending() -> bool:
                        return any(one_copy_each(slack, dm_people).get(n) for n in (1, 2, 3))

                    await eventually(sending, "start the broadcast", within=30)
                    load = Load(driver, ack_post, check_post, people)
                    loading = asyncio.create_task(load.run())
                    started = time.monotonic()
                    for _ in range(KILLS):
                        alive_for = rng.uniform(0.3, 3.5)  # from spawn: some land in the start
                        await asyncio.sleep(alive_for)
                        if not await answering(f"{url}/healthz"):
                            bot.kills_while_starting += 1
                        await bot.kill()
                        assert not loading.done(), "the load finished before the kills did"
                        bot.started_at.append(slack.clock())  # after the dead one's calls
                        await bot.start()
                    killing = time.monotonic() - started
                    copies_at_last_kill = one_copy_each(slack, dm_people)
                    await wait_healthy(f"{url}/healthz", bot.process)
                    await asyncio.wait_for(loading, 120 + STAFF * OPEN_S)
                    # Told a click was not recorded (its write missed its deadline), a person
                    # presses Acknowledge again, as the message asks.
                    for person in (p for p in people if told_not_kept(slack, p)):
                        for _ in range(50):
                            if kept(await driver.click(person, ack_post, ACK_ACTION)):
                                break
                            await asyncio.sleep(0.1)
                    await eventually(
                        lambda: one_copy_each(slack, dm_people).get(1) == len(dm_people),
                        "finish the broadcast",
                        within=120,
                    )
                    await asyncio.sleep(0.5)  # anything sent twice would show by now
            finally:
                assert bot.process is not None
                if bot.process.returncode is None:
                    bot.process.send_signal(signal.SIGTERM)
                    await asyncio.wait_for(bot.process.wait(), 30)
        assert bot.process.returncode == 0, (tmp_path / "bot.log").read_text()[-2000:]
        assert one_copy_each(slack, dm_people) == {1: len(dm_people)}
        assert copies_at_last_kill.get(1, 0) < len(dm_people)  # the broadcast spanned the kills

        # The same request never sent again inside its 429's window by the process that met
        # it (a new one cannot know a dead one's), and the outbox's calls none at all, across
        # the kills too (its pause is stored). Other people's modals may meet a window: their
        # calls were on their way when another call met the 429.
        assert slack.repeated_early(restarts=bot.started_at) == []
        outbox_early = [c.method for c in slack.early_retries if c.method in OUTBOX_METHODS]
        assert outbox_early == []
        limited = sorted({c.method for c in slack.calls if c.http_status == 429})
        excused = {p for p in people if told_not_kept(slack, p)}

    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        acks = [
            r[0]
            for r in db.execute(
                "SELECT user_id FROM acknowledgements WHERE briefing_id = ?", [ACK_BRIEFING]
            )
        ]
        firsts = [
            r[0]
            for r in db.execute(
                "SELECT taker FROM check_submissions WHERE briefing_id = 'recruitment-funding'"
                " AND attempt = 1"
            )
        ]
        waiting = db.execute(
            "SELECT COUNT(*) FROM deliveries WHERE status IN ('pending', 'in_flight', 'lost')"
        ).fetchone()[0]
    # A click answered 200 and then told "nothing was recorded" (its write missed its deadline)
    # was never promised: only the others must be there.
    promised = load.acked_200 - excused
    assert promised - set(acks) == set(), "acknowledged 200 but not stored"
    assert set(acks) == set(people)  # everyone got there in the end
    assert len(firsts) == len(set(firsts))  # one first attempt each
    assert load.answered_200 - set(firsts) == set(), "answered 200 but not stored"
    assert set(firsts) == set(people)  # everyone got there in the end
    assert waiting == 0
    print(
        f"\n{KILLS} kills in {killing:.0f} s ({bot.kills_while_starting} while starting),"
        f" {bot.starts} starts; {load.refused} requests met a dead process;"
        f" {len(load.acked_200)} acks and {len(load.answered_200)} answers answered 200,"
        f" all stored ({len(excused)} told a click was not recorded); {len(dm_people)} DMs,"
        f" one each; 429s met on {limited}",
        file=sys.stderr,
    )
