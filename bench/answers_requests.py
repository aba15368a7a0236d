"""The request-path half of bench/answers.py: check answers through the bot, against bare Bolt.

Run it through `python bench/answers.py` (its docstring says what is measured and how).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import math
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bench.bench_requests import (
    CHANNEL,
    MANAGER,
    ROUNDS,
    SECRET,
    TOKEN,
    App,
    People,
    cpu_seconds,
    percentile,
    rounds,
    start_baseline,
    start_bot,
    stop,
)
from slack_standin import RateLimits, SlackDriver, SlackStandIn, Workspace
from slack_standin.harness import click_when_shown, eventually, posts, wait_healthy

REPO = Path(__file__).resolve().parents[1]
BRIEFING = "recruitment-funding"  # three questions
TAKE_ACTION = "check_take"  # the bot's "Take the 30-second check" button
GOAL_RATIO = 0.90
GOAL_P50_C1_MS = 2.0


def choices_for(n: int) -> dict[str, Any]:
    """A person's answers: two in three all right, the rest one wrong (the bot marks both)."""
    picks = (1, 1, 1) if n % 3 else (0, 1, 1)
    return {
        f"q{q}": {"answer": {"type": "radio_buttons", "selected_option": {"value": str(c)}}}
        for q, c in enumerate(picks)
    }


async def open_modals(
    standin: SlackStandIn, app: App, bot: App, post: Any, people: list[str], template: dict
) -> None:
    """Put the check's modal in front of each person (untimed). For the bot, as staff do: press
    the button on its post, and the bot opens it. For a baseline: the same modal, opened through
    the stand-in's views.open with a fresh trigger."""
    assert app.driver is not None
    gate = asyncio.Semaphore(10)
    if app is bot:

        async def press(person: str) -> None:
            async with gate:
                assert app.driver is not None
                await app.driver.click(person, post, TAKE_ACTION)

        await press_until_open(standin, people, press)
        return
    client = AsyncWebClient(token=TOKEN, base_url=standin.api_url)

    async def push(person: str) -> None:
        async with gate:
            await client.views_open(trigger_id=standin.issue_trigger(person), view=template)

    await asyncio.gather(*[push(p) for p in people])


async def press_until_open(
    standin: SlackStandIn, people: list[str], press: Callable[[str], Awaitable[None]]
) -> None:
    """In batches, pressing again for anyone whose modal did not open: a trigger lives 3 s,
    and a bot busy opening hundreds of modals may let one lapse, as Slack would."""
    for start in range(0, len(people), 50):
        batch = people[start : start + 50]
        for _ in range(5):
            waiting = [p for p in batch if not standin.views_for(p)]
            if not waiting:
                break
            await asyncio.gather(*[press(p) for p in waiting])
            with contextlib.suppress(TimeoutError):
                await eventually(
                    lambda w=waiting: all(standin.views_for(p) for p in w), "open", within=5
                )
        if any(not standin.views_for(p) for p in batch):
            raise RuntimeError("the bot did not open every modal")


async def submit(app: App, people: list[str], offset: int, concurrency: int) -> list[float]:
    """Everyone in `people` presses Send answers on their modal; latencies of the 200s."""
    assert app.driver is not None
    driver = app.driver
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []

    async def one(n: int, person: str) -> None:
        async with gate:
            try:
                [view] = driver.standin.views_for(person)
                response = await driver.submit_view(person, view, choices_for(offset + n))
            except Exception as error:  # a refused connection, a timeout: the app broke
                app.failures.append(f"{person}: {error.__class__.__name__}: {error}")
                return
        if response.status == 200:
            app.answered_200 += 1
            latencies.append(response.elapsed)
        else:
            app.failures.append(f"{person}: HTTP {response.status} {response.body[:200]}")

    await asyncio.gather(*[one(n, p) for n, p in enumerate(people)])
    return latencies


async def requests_benchmark(args: argparse.Namespace) -> int:
    per_app = 2 * args.warmup + args.sequential + args.burst
    workspace = Workspace.sample(n_staff=3 * per_app + 7)  # one more opens the model modal
    staff = [u for u in workspace.users if u.startswith("U0SW")]
    standin = SlackStandIn(
        workspace,
        bot_token=TOKEN,
        app_token="xapp-bench",
        signing_secret=SECRET,
        rate_limits=RateLimits.disabled(),
    )
    await standin.start(host="127.0.0.1", port=0)
    apps: list[App] = []
    folder = Path(tempfile.mkdtemp(prefix="bench-answers-"))
    figures: dict[str, dict[str, Any]] = {}
    try:
        apps = [
            await start_baseline(folder, feedback=False),
            await start_baseline(folder, feedback=True),
            await start_bot(standin, folder),
        ]
        bot = apps[2]
        for app in apps:
            await wait_healthy(f"{app.base}/healthz", app.process, within=60)
            app.driver = SlackDriver(standin, bot_url=app.url, signing_secret=SECRET)
        assert bot.driver is not None
        await bot.driver.slash_command(MANAGER, "/brief", f"publish {BRIEFING}", channel_id=CHANNEL)
        await click_when_shown(bot.driver, MANAGER, "briefing_confirm", within=300)
        if len(staff) > 5000:  # the bot's CONFIRM_TWICE_ABOVE default
            await click_when_shown(bot.driver, MANAGER, "briefing_confirm_large", within=60)
        await eventually(lambda: bool(posts(standin, CHANNEL)), "post the briefing", within=120)
        [post] = posts(standin, CHANNEL)
        # The bot's own modal, as the model for the baselines' (same blocks, same metadata).
        first = staff[0]
        await bot.driver.click(first, post, TAKE_ACTION)
        await eventually(lambda: bool(standin.views_for(first)), "open a modal", within=30)
        live = standin.views_for(first)[0]
        template = {k: live[k] for k in ("type", "callback_id", "title", "submit", "close")}
        template |= {"blocks": live["blocks"], "private_metadata": live["private_metadata"]}
        await bot.driver.close_view(first, live)
        pools = {
            a.name: People([p for i, p in enumerate(staff[1:]) if i % 3 == k])
            for k, a in enumerate(apps)
        }

        async def phase(count: int, concurrency: int, timed: bool) -> None:
            chosen = {a.name: pools[a.name].take(count) for a in apps}
            for app in apps:
                await open_modals(standin, app, bot, post, chosen[app.name], template)
            if not timed:
                for app in apps:
                    await submit(app, chosen[app.name], 0, concurrency)
                return
            key = f"c{concurrency}"
            for k, (chunk_index, order) in enumerate(rounds(list(range(count)), apps, ROUNDS)):
                for app in order:
                    people = [chosen[app.name][i] for i in chunk_index]
                    gc.collect()  # not while timing: the stand-in's heap is large
                    cpu = cpu_seconds(app.process.pid)
                    started = time.perf_counter()
                    latencies = await submit(app, people, k * 1000, concurrency)
                    seconds = time.perf_counter() - started
                    f = figures.setdefault(app.name, {})
                    f.setdefault(f"{key}_lat", []).extend(latencies)
                    f[f"{key}_s"] = f.get(f"{key}_s", 0.0) + seconds
                    f[f"{key}_cpu"] = f.get(f"{key}_cpu", 0.0) + cpu_seconds(app.process.pid) - cpu

        await phase(args.warmup, 1, timed=False)
        await phase(args.sequential, 1, timed=True)
        await phase(args.warmup, args.concurrency, timed=False)
        await phase(args.burst, args.concurrency, timed=True)
        bot.failures += [f"stand-in: {e}" for e in standin.interaction_errors]
    finally:
        for app in apps:
            if app.driver is not None:
                await app.driver.close()
            await stop(app)
        await standin.stop()
        for app in apps:
            app.stored = stored(app)
            if app.failures:
                print(f"{app.name}: {len(app.failures)} problem(s), first: {app.failures[:3]}")
                print(app.log.read_text()[-2000:])
    report(args, apps, figures)
    return 1 if any(a.failures or a.stored != a.answered_200 for a in apps) else 0


def stored(app: App) -> int:
    """Submissions the app committed (the model modal the bot opened was never sent)."""
    if not app.db.exists():
        return -1
    with sqlite3.connect(app.db) as db:
        table = "check_submissions" if app.name == "Line of Sight" else "acknowledgements"
        return int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def report(args: argparse.Namespace, apps: list[App], figures: dict[str, Any]) -> None:
    c = args.concurrency
    base, feedback, bot = (figures[a.name] for a in apps)

    def rate(f: dict[str, Any]) -> float:
        return len(f[f"c{c}_lat"]) / f[f"c{c}_s"]

    def ms(f: dict[str, Any], key: str, share: float | None) -> float:
        values = f[key]
        return 1000 * (statistics.median(values) if share is None else percentile(values, share))

    def row(label: str, cells: list[float], fmt: str = "{:.2f}", goal: str = "") -> None:
        ratio = f"{cells[2] / cells[0]:.2f}x {cells[2] / cells[1]:.2f}x" if all(cells) else ""
        print(
            f"{label:<28}" + "".join(f"{fmt.format(x):>16}" for x in cells) + f"{ratio:>16}  {goal}"
        )

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    print()
    print("check answers: Line of Sight vs bare Bolt apps (each its own process, side by side)")
    print(
        f"  signed view submissions of a three-question check; {args.sequential:,} at c=1, "
        f"{args.burst:,} at c={c}, {args.warmup} warm-up before each; {os.cpu_count()} CPUs "
        "shared with the driver and stand-in"
    )
    heads = ("bare Bolt", "bare + feedback", "Line of Sight", "ratio to each")
    print(f"{'':<28}" + "".join(f"{h:>16}" for h in heads))
    rates = [rate(f) for f in (base, feedback, bot)]
    row(
        f"answers/s at c={c}",
        rates,
        "{:.1f}",
        f">= {GOAL_RATIO:.2f}x bare Bolt  {verdict(rates[2] / rates[0] >= GOAL_RATIO)}",
    )
    p50 = [ms(f, "c1_lat", None) for f in (base, feedback, bot)]
    row(
        "p50 at c=1 (ms)",
        p50,
        goal=f"<= {GOAL_P50_C1_MS:g} ms  {verdict(p50[2] <= GOAL_P50_C1_MS)}",
    )
    row("p99 at c=1 (ms)", [ms(f, "c1_lat", 0.99) for f in (base, feedback, bot)])
    row(f"p50 at c={c} (ms)", [ms(f, f"c{c}_lat", None) for f in (base, feedback, bot)])
    row(f"p99 at c={c} (ms)", [ms(f, f"c{c}_lat", 0.99) for f in (base, feedback, bot)])
    row(
        f"CPU per answer at c={c} (ms)",
        [1000 * f[f"c{c}_cpu"] / len(f[f"c{c}_lat"]) for f in (base, feedback, bot)],
    )
    everything = all(a.stored == a.answered_200 and not a.failures for a in apps)
    print(
        f"{'answers stored / answered 200':<28}"
        + "".join(f"{f'{a.stored}/{a.answered_200}':>16}" for a in apps)
        + f"{'':>16}  all  {verdict(everything)}"
    )
    if not math.isfinite(rates[2]):
        print("  (no answers were timed)")
