"""Benchmark: the request path of the full bot against bare Bolt apps, each in its own process.

    python bench/bench_requests.py [--quick]

Journey 1 in PRODUCT.md is a briefing landing in a big channel and people pressing Acknowledge
together; the click is the bot's hot path. This measures what that path costs, honestly:

- **The bot** is started as an operator would (`python -m bot serve`, via
  `slack_standin.harness.spawn_bot`), LOG_LEVEL=WARNING, its output sent to a file. As U0SM01
  we `/brief publish recruitment-funding`; once the post is in #social-work-all (C0SWALL) and
  the manager's note has come back, staff press its Acknowledge button. Each click is a signed
  request through the bot's whole path: signature check, Bolt, the ack listener, the SQLite
  writer thread (committed before the 200), and then the private "Thanks" over the response_url.
- **The baseline** (`bench/baseline_app.py`) is the least a correct Bolt app can do per click:
  a bare `AsyncApp` on aiohttp whose one listener makes one committed SQLite insert on a
  single-thread executor and acks. No reply. The goal ratio is against this one.
- **The replying baseline** (`baseline_app.py --reply`) does that and then posts a private
  "Thanks" to the response_url, as the bot must: the like-for-like floor for the bot's work.
- All three apps run **at the same time, each as its own process**, and get the same clicks on the
  same posted message (the bot's post, re-read from the stand-in for every click), from one
  `SlackDriver` per app. The Slack stand-in and the driver live in this process, so neither
  app shares its event loop with them. The stand-in runs without rate limits: clicks call no
  Web API method, and limits would only slow the publish's walk of a 7,000-person directory.
- Every click is a different person (an acknowledgement counts once per person and version),
  so the staff are Workspace.sample's social workers U0SW01…U0SW7450 (ids widen past 99; all
  are in C0SWALL). The apps get the same people, in the same order; each has its own database.
  The apps are started once; the phases below use disjoint people, and each begins with
  warm-up clicks that are not measured (they are stored and checked like the others).

Measured, phase by phase. Phases 1 and 2 run in ten rounds, each app taking its turn in an order
that rotates every round, the idle ones waiting: a shared machine's speed drifts by tens of
percent over a minute, and rotating spreads that drift over every app instead of one.

1. latency at concurrency 1: 300 clicks one after another; p50 and p99 of the driver's
   round-trip time (`DriverResponse.elapsed`).
2. a burst of 2,000 clicks, at most 50 in flight (an `asyncio.Semaphore(50)`): clicks/s from
   `time.perf_counter` around the burst (answered clicks; the bot's replies still in flight at
   the end are left to finish before the next phase), p50/p99 latency at concurrency 50, and
   CPU time per click (user + system, /proc/<pid>/stat, over the burst and its replies): the
   steadiest figure on a shared machine, where clicks/s swings with the neighbours.
3. a burst of 5,000 clicks at concurrency 50, then the peak resident set of each app process
   (VmHWM in /proc/<pid>/status): the most memory it has ever held, after ~7,400 clicks.
4. after the apps stop (SIGTERM, then wait), each database is opened and its
   acknowledgements counted: every click that got HTTP 200 must have been stored.

The goals (bot against baseline throughput, the bot's own latency and memory) are reported, not
enforced: the exit code is 1 only if something broke (a click not answered 200, a 200 not
stored, an app that would not start or stop), else 0.

Fairness: the development machine has 2 cores. The driver and stand-in compete for CPU with the
app under test, and do the same work per click for every app (the replies are extra work
for the stand-in, as they are for Slack), so the ratio compares like with like; the absolute
figures are lower than either app would reach with a core of its own. No uvloop anywhere.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import os
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from slack_standin import (  # noqa: E402
    DriverResponse,
    Message,
    RateLimits,
    SlackDriver,
    SlackStandIn,
    Workspace,
)
from slack_standin.harness import (  # noqa: E402
    bot_env,
    click_when_shown,
    eventually,
    free_port,
    posts,
    spawn_bot,
    wait_healthy,
)

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
ACK_ACTION = "briefing_acknowledge"  # the Acknowledge button's action id
CHANNEL = "C0SWALL"  # #social-work-all: everyone
MANAGER = "U0SM01"
BRIEFING = "recruitment-funding"

# Goals for the bot (reported, not enforced).
GOAL_RATIO = 0.90  # clicks/s at c=50, bot / baseline
GOAL_P50_C1_MS = 2.0
GOAL_RSS_MB = 80.0


@dataclass
class App:
    """One app under test: its process, where to reach it, and what it answered."""

    name: str
    process: asyncio.subprocess.Process
    url: str
    db: Path
    log: Path
    driver: SlackDriver | None = None
    answered_200: int = 0
    failures: list[str] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)
    stored: int = -1

    @property
    def base(self) -> str:
        return self.url.removesuffix("/slack/events")


def _log_file(path: Path) -> TextIO:
    return path.open("w")


async def start_bot(standin: SlackStandIn, folder: Path) -> App:
    port = free_port()
    env = bot_env(
        standin,
        port=port,
        database=folder / "bot.db",
        content_dir=REPO / "content",
        signing_secret=SECRET,
        pythonpath=REPO,
        SENIOR_MANAGERS=MANAGER,
        LOG_LEVEL="WARNING",
    )
    log = folder / "bot.log"
    with _log_file(log) as out:  # the child keeps its own copy of the descriptor
        process = await spawn_bot(env, folder, stdout=out, stderr=out)
    return App(
        "Line of Sight", process, f"http://127.0.0.1:{port}/slack/events", folder / "bot.db", log
    )


async def start_baseline(folder: Path, *, reply: bool = False, feedback: bool = False) -> App:
    port = free_port()
    stem = "baseline-reply" if reply else "baseline-feedback" if feedback else "baseline"
    db = folder / f"{stem}.db"
    log = folder / f"{stem}.log"
    with _log_file(log) as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(REPO / "bench" / "baseline_app.py"),
            "--port",
            str(port),
            "--db",
            str(db),
            "--secret",
            SECRET,
            *(["--reply"] if reply else []),
            *(["--feedback"] if feedback else []),
            cwd=folder,
            stdout=out,
            stderr=out,
        )
    name = "bare + reply" if reply else "bare + feedback" if feedback else "bare Bolt"
    return App(name, process, f"http://127.0.0.1:{port}/slack/events", db, log)


async def stop(app: App) -> None:
    """SIGTERM, wait for a clean exit, then count what the app stored."""
    if app.process.returncode is None:
        app.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(app.process.wait(), 60)
        except TimeoutError:
            app.failures.append("did not stop within 60 s of SIGTERM; killed")
            app.process.kill()
            await app.process.wait()
    if app.process.returncode != 0:
        app.failures.append(f"exited with code {app.process.returncode}")
    if app.db.exists():
        with sqlite3.connect(app.db) as db:
            app.stored = int(db.execute("SELECT COUNT(*) FROM acknowledgements").fetchone()[0])


def peak_rss_mb(pid: int) -> float:
    """VmHWM (the peak resident set) of a live process, in MB (MiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


async def clicks(
    app: App, post: Message, users: list[str], concurrency: int
) -> tuple[float, list[float]]:
    """Everyone in `users` presses Acknowledge, at most `concurrency` at once.

    Returns the wall time of the whole burst and each answered click's latency (seconds).
    """
    assert app.driver is not None
    driver = app.driver
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []

    async def one(user: str) -> None:
        async with gate:
            try:
                response: DriverResponse = await driver.click(user, post, ACK_ACTION)
            except Exception as error:  # a refused connection, a timeout: the app broke
                app.failures.append(f"{user}: {error.__class__.__name__}: {error}")
                return
        if response.status == 200:
            app.answered_200 += 1
            latencies.append(response.elapsed)
        else:
            app.failures.append(f"{user}: HTTP {response.status} {response.body[:200]}")

    gc.collect()
    started = time.perf_counter()
    await asyncio.gather(*[one(user) for user in users])
    return time.perf_counter() - started, latencies


async def settle(standin: SlackStandIn, quiet: float = 0.3, within: float = 30.0) -> None:
    """Wait until the bot's private replies (response_url posts) stop arriving."""
    deadline = time.monotonic() + within
    seen = -1
    while time.monotonic() < deadline:
        if len(standin.response_calls) == seen:
            return
        seen = len(standin.response_calls)
        await asyncio.sleep(quiet)


ROUNDS = 10


def rounds(people: list[str], apps: list[App], n: int) -> list[tuple[list[str], list[App]]]:
    """`people` cut into `n` chunks, each with the apps in an order rotated one step."""
    size = math.ceil(len(people) / n)
    chunks = [people[i : i + size] for i in range(0, len(people), size)]
    return [
        (chunk, apps[k % len(apps) :] + apps[: k % len(apps)]) for k, chunk in enumerate(chunks)
    ]


class People:
    """Hands out staff who have not clicked yet, the same ones for each app."""

    def __init__(self, staff: list[str]):
        self._staff = staff
        self._next = 0

    def take(self, n: int) -> list[str]:
        chosen = self._staff[self._next : self._next + n]
        if len(chosen) < n:
            raise RuntimeError("not enough staff for distinct clicks")
        self._next += n
        return chosen


async def run(args: argparse.Namespace, folder: Path) -> int:
    needed = 3 * args.warmup + args.sequential + args.burst + args.rss_burst
    workspace = Workspace.sample(n_staff=needed + 6)  # 6 leaders, the rest social workers
    staff = [u for u in workspace.users if u.startswith("U0SW")]
    members = set(workspace.channels[CHANNEL].members)
    if len(set(staff)) != needed:
        raise RuntimeError(f"expected {needed} distinct social workers, got {len(set(staff))}")
    if not members.issuperset(staff):
        raise RuntimeError(f"every social worker must be in {CHANNEL}")
    standin = SlackStandIn(
        workspace,
        bot_token=TOKEN,
        app_token="xapp-bench",
        signing_secret=SECRET,
        rate_limits=RateLimits.disabled(),
    )
    await standin.start(host="127.0.0.1", port=0)
    apps: list[App] = []
    try:
        apps = [
            await start_baseline(folder),
            await start_baseline(folder, reply=True),
            await start_bot(standin, folder),
        ]
        baseline, replying, bot = apps
        for app in apps:
            try:
                await wait_healthy(f"{app.base}/healthz", app.process, within=60)
            except (RuntimeError, TimeoutError) as error:
                app.failures.append(f"did not start: {error}")
                return 1
            app.driver = SlackDriver(standin, bot_url=app.url, signing_secret=SECRET)

        assert bot.driver is not None
        published = await bot.driver.slash_command(
            MANAGER, "/brief", f"publish {BRIEFING}", channel_id=CHANNEL
        )
        if published.status != 200:
            bot.failures.append(f"/brief publish answered HTTP {published.status}")
            return 1
        # The manager confirms what they are shown: twice, as the channel is over 5,000 people.
        await click_when_shown(bot.driver, MANAGER, "briefing_confirm", within=300)
        if len(staff) > 5000:  # the bot's CONFIRM_TWICE_ABOVE default
            await click_when_shown(bot.driver, MANAGER, "briefing_confirm_large", within=60)
        await eventually(lambda: bool(posts(standin, CHANNEL)), "post the briefing", within=60)
        # The publish is done once the confirmation has become what it did.
        await eventually(
            lambda: sum(c.ok for c in standin.response_calls) >= 2 + (len(staff) > 5000),
            "finish publishing",
            within=120,
        )
        await settle(standin)
        [post] = posts(standin, CHANNEL)
        replies_before = sum(c.ok for c in standin.response_calls)
        for app in apps:
            app.figures["rss_start"] = peak_rss_mb(app.process.pid)

        people = People(staff)
        # Phase 1: one click at a time, in rounds that rotate the apps (a shared machine's speed
        # drifts; rotating spreads the drift over all three instead of favouring one).
        warm, timed = people.take(args.warmup), people.take(args.sequential)
        for app in apps:
            await clicks(app, post, warm, 1)
            await settle(standin)
        sequential: dict[str, list[float]] = {a.name: [] for a in apps}
        for chunk, order in rounds(timed, apps, ROUNDS):
            for app in order:
                _, latencies = await clicks(app, post, chunk, 1)
                sequential[app.name] += latencies
                await settle(standin)
        for app in apps:
            latencies = sequential[app.name]
            app.figures["p50_c1"] = statistics.median(latencies) * 1000 if latencies else math.nan
            app.figures["p99_c1"] = percentile(latencies, 0.99) * 1000 if latencies else math.nan
        # Phase 2: bursts at concurrency 50, in rotating rounds likewise.
        warm, timed = people.take(args.warmup), people.take(args.burst)
        for app in apps:
            await clicks(app, post, warm, args.concurrency)
            await settle(standin)
        burst = {a.name: ([], 0.0, 0.0) for a in apps}  # latencies, seconds, CPU seconds
        for chunk, order in rounds(timed, apps, ROUNDS):
            for app in order:
                cpu_before = cpu_seconds(app.process.pid)
                elapsed, latencies = await clicks(app, post, chunk, args.concurrency)
                await settle(standin)  # an app's replies to its clicks are part of its cost
                used = cpu_seconds(app.process.pid) - cpu_before
                so_far, seconds, cpu = burst[app.name]
                burst[app.name] = (so_far + latencies, seconds + elapsed, cpu + used)
        for app in apps:
            latencies, seconds, cpu = burst[app.name]
            app.figures["rate"] = len(latencies) / seconds
            app.figures["p50_c50"] = statistics.median(latencies) * 1000 if latencies else math.nan
            app.figures["p99_c50"] = percentile(latencies, 0.99) * 1000 if latencies else math.nan
            app.figures["max_c50"] = max(latencies) * 1000 if latencies else math.nan
            app.figures["cpu_ms"] = 1000 * cpu / max(1, len(latencies))
        # Phase 3: a bigger burst, then each process's peak memory.
        warm, timed = people.take(args.warmup), people.take(args.rss_burst)
        for app in apps:
            await clicks(app, post, warm, args.concurrency)
            await clicks(app, post, timed, args.concurrency)
            await settle(standin)
            app.figures["rss"] = peak_rss_mb(app.process.pid)
        bot.figures["replies"] = sum(c.ok for c in standin.response_calls) - replies_before
        # What Slack would have shown someone as an error.
        bot.failures += [f"stand-in: {e}" for e in standin.interaction_errors]
    finally:
        for app in apps:
            if app.driver is not None:
                await app.driver.close()
            await stop(app)
        await standin.stop()
        for app in apps:
            if app.failures:
                print(f"{app.name}: {len(app.failures)} problem(s), first: {app.failures[:3]}")
                print(f"--- {app.name} log (last 2,000 characters) ---")
                print(app.log.read_text()[-2000:])

    report(args, baseline, replying, bot, len(staff))
    broken = any(a.failures or a.stored != a.answered_200 for a in apps)
    return 1 if broken else 0


def report(args: argparse.Namespace, baseline: App, replying: App, bot: App, staff: int) -> None:
    b, r, f = baseline.figures, replying.figures, bot.figures
    c = args.concurrency

    def row(label: str, cells: list[str], ratios: str = "", goal: str = "") -> None:
        print(f"{label:<29}" + "".join(f"{x:>14}" for x in cells) + f"{ratios:>16}   {goal}")

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    def ratios(key: str) -> str:
        return f"{f[key] / b[key]:.2f}x {f[key] / r[key]:.2f}x"

    ratio = f["rate"] / b["rate"]
    print()
    print("request path: Line of Sight vs bare Bolt apps (each its own process, run side by side)")
    print(
        f"  {staff:,} staff, each clicking once per app; {args.sequential:,} clicks at c=1, "
        f"bursts of {args.burst:,} and {args.rss_burst:,} at c={c}, "
        f"{args.warmup} warm-up clicks before each; {os.cpu_count()} CPUs shared with the driver"
    )
    print("  bare Bolt: one SQLite insert per click; bare + reply: that and the private reply")
    row("", ["bare Bolt", "bare + reply", "Line of Sight"], "ratio to each", "goal")
    row(
        f"clicks/s at c={c}",
        [f"{x['rate']:.1f}" for x in (b, r, f)],
        ratios("rate"),
        f">= {GOAL_RATIO:.2f}x bare Bolt  {verdict(ratio >= GOAL_RATIO)}",
    )
    for key, label, goal in (
        ("p50_c1", "p50 at c=1 (ms)", GOAL_P50_C1_MS),
        ("p99_c1", "p99 at c=1 (ms)", None),
        ("p50_c50", f"p50 at c={c} (ms)", None),
        ("p99_c50", f"p99 at c={c} (ms)", None),
        ("max_c50", f"max at c={c} (ms)", None),
        ("cpu_ms", f"CPU per click at c={c} (ms)", None),
    ):
        row(
            label,
            [f"{x[key]:.2f}" for x in (b, r, f)],
            ratios(key),
            "" if goal is None else f"<= {goal:g} ms  {verdict(f[key] <= goal)}",
        )
    row("RSS before clicks (MB)", [f"{x['rss_start']:.1f}" for x in (b, r, f)])
    row(
        f"peak RSS after {args.rss_burst:,} (MB)",
        [f"{x['rss']:.1f}" for x in (b, r, f)],
        "",
        f"<= {GOAL_RSS_MB:g} MB  {verdict(f['rss'] <= GOAL_RSS_MB)}",
    )
    apps = (baseline, replying, bot)
    all_stored = all(a.stored == a.answered_200 and not a.failures for a in apps)
    row(
        "clicks stored / answered 200",
        [f"{a.stored}/{a.answered_200}" for a in apps],
        "",
        f"all  {verdict(all_stored)}",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts, for a smoke run")
    parser.add_argument("--burst", type=int, help="clicks in the timed burst (default 2,000)")
    parser.add_argument("--sequential", type=int, help="clicks at concurrency 1 (default 300)")
    parser.add_argument("--rss-burst", type=int, help="clicks before peak RSS (default 5,000)")
    parser.add_argument("--warmup", type=int, help="unmeasured clicks per phase (default 50)")
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    defaults = (200, 100, 500, 20) if args.quick else (2000, 300, 5000, 50)
    for name, default in zip(("burst", "sequential", "rss_burst", "warmup"), defaults, strict=True):
        if getattr(args, name) is None:
            setattr(args, name, default)
    with tempfile.TemporaryDirectory(prefix="bench-requests-") as scratch:
        return asyncio.run(run(args, Path(scratch)))


if __name__ == "__main__":
    sys.exit(main())
