"""Benchmark: what one instance carries, from a workspace of 30,000 staff, end to end.

    python bench/capacity.py [--quick] [--staff 30000] [--burst 5000] [--pace 12]

Journey (issue 19, item 6): every English local authority's children's social workers in one
workspace. The bot runs as an operator runs it (`python -m bot serve`, its own process, via
`slack_standin.harness.spawn_bot`, LOG_LEVEL=WARNING, output to a file); the Slack stand-in
and the driver run in this process, on the same 2 cores.

1. **A broadcast by DM to all of them.** `Workspace.sample(n_staff=staff)`: 6 leaders and
   `staff - 6` social workers. A copy of content/ gets one more briefing, `capacity-check`:
   `recruitment-funding` (its three-question attributed check, acknowledgement asked) sent
   `deliver: dm` to @social-workers, @team-managers, @senior-managers and @engagement-leads,
   i.e. everyone. U0SM01 types `/brief publish capacity-check`, presses **Send** and (over
   5,000) the second confirmation as soon as each is shown. Measured from the stand-in's call
   record as bench/broadcast.py measures (its helpers are imported): the directory walk
   (users.list, 200 a page, Tier 2), command to the confirmation, command to the first DM,
   first DM to last against the rate-limit minimum and against the bot's own pacing,
   duplicates and missed copies (by each person's DMs and the outbox's metadata), calls made
   before a 429's Retry-After had passed.
2. **A burst of acknowledgements and check answers.** `burst` people each press Acknowledge on
   their DM copy and send the check's answers: two signed requests each, at most
   `concurrency` (50) in flight, through the bot's whole path (acknowledgement committed before
   the 200 and a private "Thanks" over the response_url; answers committed and the feedback
   modal returned). In the same run, as bench/answers.py does, two bare Bolt apps
   (bench/baseline_app.py, each its own process) get the same requests from other people:
   *bare Bolt* (one committed insert and an ack; the ratio is against it) and *bare + replies*
   (that, plus the private reply to a click and a feedback modal for answers: the like-for-like
   floor). Ten rounds rotate which app goes first (a shared machine's speed drifts). The check
   modals are opened beforehand and not timed, the bot's by pressing "Take the 30-second
   check" on each copy, with the stand-in's Tier 4 lifted while they open (views.open: see the
   projection below); the timed burst runs under the paced limits again. Reported: requests/s,
   p50/p99 of each kind, CPU per request (/proc), and every 200 stored (counted in each
   database after the apps stop).
3. **Results and trends afterwards**, as a lead opens them through the bot: `/brief status`
   (U0SM01), `/engage results` and `/engage trends` (U0EL01, ENGAGEMENT_LEADS), each twice (the
   first view after a start chooses each subject's groups): from the command to the last
   private reply (response_url) that answered it.
4. **Resources**: the bot's peak resident set (VmHWM) after each phase, the database and its
   WAL while running and after SIGTERM, the exit code.

**Pace.** At Slack's own limits and the bot's default OUTBOX_PER_MINUTE (300 a minute), 30,000
DMs take 100 minutes. `--pace K` multiplies every limit the stand-in enforces
(`RateLimits(scale=K)`: chat.postMessage's workspace and per-channel allowances and bursts, and
every tier, so users.list's Tier 2 too) and the bot's OUTBOX_PER_MINUTE by K. The ratio is then
against the scaled minimum: the same pacing K times faster, which leaves the bot's own
overhead per send K times less room, a harder test than the real pace. The real-pace figures
are **projections**, computed from Slack's limits (the token-bucket minimum for the same number
of calls) and the measured ratio, and labelled so; nothing at x1 is measured by a full run.
Against the scaled minimum the outbox's choice not to spend Slack's minute-long burst (it sends
a second's worth at a time, as bench/broadcast.py explains) weighs K times more, so the ratio
to the bot's own floor is printed beside it: ~1.00 there means the sender adds nothing.
Default K=12: the full run took 10 minutes on the 2-core development machine. `--quick`: 2,000
staff, 500 in the burst, K=20, about a minute. Results: docs/SCALING.md.

The exit code is 1 if anyone got two copies or none, a call came before its Retry-After, a
request was not answered 200 or a 200 not stored, or the bot failed (did not start or finish,
did not exit 0 on SIGTERM); else 0. Ratios are reported, not enforced.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from slack_sdk.web.async_client import AsyncWebClient  # noqa: E402

from bench.answers_requests import TAKE_ACTION, choices_for, press_until_open  # noqa: E402
from bench.bench_requests import (  # noqa: E402
    ACK_ACTION,
    ROUNDS,
    SECRET,
    App,
    cpu_seconds,
    rounds,
    settle,
    start_baseline,
    stop,
)
from bench.broadcast import (  # noqa: E402
    CONFIRM_ACTION,
    CONFIRM_LARGE_ACTION,
    CONFIRM_TWICE_ABOVE,
    MANAGER,
    METADATA_TYPE,
    peak_rss_mb,
    wait_done,
)
from bench.capacity_report import BOT_DEFAULT_PER_MINUTE, broadcast_figures, report  # noqa: E402
from slack_standin import Message, RateLimits, SlackDriver, SlackStandIn, Workspace  # noqa: E402
from slack_standin.harness import (  # noqa: E402
    bot_env,
    click_when_shown,
    eventually,
    free_port,
    shown_with,
    spawn_bot,
    wait_healthy,
)
from slack_standin.ratelimit import RateLimiter  # noqa: E402

LEAD = "U0EL01"
BRIEFING = "capacity-check"
GROUPS = ("S0SWS", "S0TMS", "S0SMS", "S0ELS")  # everyone in Workspace.sample
AUDIENCE = '["@social-workers", "@team-managers", "@senior-managers", "@engagement-leads"]'
LIFTED = 1_000_000.0  # Tier 4 while the (untimed) check modals open
VIEWS = (
    ("/brief status", MANAGER, "/brief", f"status {BRIEFING}"),
    ("/engage results", LEAD, "/engage", f"results {BRIEFING}"),
    ("/engage trends", LEAD, "/engage", "trends"),
)


@dataclass
class Run:
    """One run's settings and what it measured (wait_done reads failures and the times)."""

    staff: int
    burst: int
    pace: float
    concurrency: int
    failures: list[str] = field(default_factory=list)
    commanded_at: float = 0.0
    confirm_shown_at: float = 0.0
    done_at: float = 0.0
    returncode: int | None = None
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def outbox_per_minute(self) -> float:
        return BOT_DEFAULT_PER_MINUTE * self.pace


def content_copy(folder: Path) -> Path:
    """content/ with one more briefing: recruitment-funding's text and check, by DM to all."""
    target = folder / "content"
    shutil.copytree(REPO / "content", target)
    text = (REPO / "content" / "briefings" / "recruitment-funding.md").read_text()
    lines = []
    for line in text.splitlines():
        if line.startswith("id: "):
            line = f"id: {BRIEFING}"
        elif line.startswith("audience: "):
            line = f"audience: {AUDIENCE}"
        elif line.startswith("deliver: "):
            line = "deliver: dm"
        lines.append(line)
    (target / "briefings" / f"{BRIEFING}.md").write_text("\n".join(lines) + "\n")
    return target


def copy_for(standin: SlackStandIn, person: str) -> Message:
    """The person's DM copy of the briefing (the outbox's delivery metadata marks it)."""
    for message in reversed(standin.messages(person)):
        if message.metadata is not None and message.metadata.get("event_type") == METADATA_TYPE:
            return message
    raise LookupError(f"{person} has no copy")


async def start_bot(run: Run, standin: SlackStandIn, folder: Path) -> App:
    port = free_port()
    env = bot_env(
        standin,
        port=port,
        database=folder / "bot.db",
        content_dir=content_copy(folder),
        signing_secret=SECRET,
        pythonpath=REPO,
        SENIOR_MANAGERS=MANAGER,
        ENGAGEMENT_LEADS=LEAD,
        LOG_LEVEL="WARNING",
        OUTBOX_PER_MINUTE=f"{run.outbox_per_minute:g}",
    )
    log = folder / "bot.log"
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        process = await spawn_bot(env, folder, stdout=out, stderr=out)
    return App(
        "Line of Sight", process, f"http://127.0.0.1:{port}/slack/events", folder / "bot.db", log
    )


def database_mb(path: Path) -> tuple[float, float]:
    """The database file and its WAL, in MB (MiB)."""
    wal = Path(f"{path}-wal")
    size = path.stat().st_size if path.exists() else 0
    return size / 2**20, (wal.stat().st_size if wal.exists() else 0) / 2**20


# -- 1. the broadcast -------------------------------------------------------------------------


async def broadcast(run: Run, standin: SlackStandIn, bot: App) -> None:
    """/brief publish, Send, the second Send; until the publisher's summary arrives."""
    assert bot.driver is not None
    cpu = cpu_seconds(bot.process.pid)
    run.commanded_at = time.time()
    answer = await bot.driver.slash_command(MANAGER, "/brief", f"publish {BRIEFING}")
    if answer.status != 200:
        run.failures.append(f"/brief publish answered HTTP {answer.status}")
        return
    await eventually(
        lambda: shown_with(standin, MANAGER, CONFIRM_ACTION) is not None,
        "show the confirmation",
        within=1800,
    )
    run.confirm_shown_at = time.time()
    await click_when_shown(bot.driver, MANAGER, CONFIRM_ACTION, within=60)
    if run.staff > CONFIRM_TWICE_ABOVE:
        await click_when_shown(bot.driver, MANAGER, CONFIRM_LARGE_ACTION, within=600)
    expected = run.staff / (run.outbox_per_minute / 60)
    await wait_done(run, standin, bot.process, within=600 + 1.5 * expected)
    if bot.process.returncode is None:
        run.figures["broadcast_cpu_s"] = cpu_seconds(bot.process.pid) - cpu
    await asyncio.sleep(1.0)  # anything sent twice would show by now


# -- 2. the burst ----------------------------------------------------------------------------


async def open_bot_modals(standin: SlackStandIn, bot: App, people: list[str]) -> None:
    """Each presses "Take the 30-second check" on their copy; again if no modal opened."""
    assert bot.driver is not None
    driver = bot.driver
    gate = asyncio.Semaphore(10)

    async def press(person: str) -> None:
        async with gate:
            await driver.click(person, copy_for(standin, person), TAKE_ACTION)

    await press_until_open(standin, people, press)


async def open_baseline_modals(standin: SlackStandIn, template: dict, people: list[str]) -> None:
    """The same modal, opened through the stand-in's views.open with a fresh trigger each."""
    client = AsyncWebClient(token=standin.bot_token, base_url=standin.api_url)
    gate = asyncio.Semaphore(10)

    async def push(person: str) -> None:
        async with gate:
            await client.views_open(trigger_id=standin.issue_trigger(person), view=template)

    await asyncio.gather(*[push(p) for p in people])


async def requests_of(
    app: App, people: list[str], offset: int, concurrency: int
) -> tuple[list[float], list[float]]:
    """Each person acknowledges their copy, then sends their answers; at most `concurrency`
    requests in flight. The latencies of the acknowledgements and of the answers answered 200."""
    assert app.driver is not None
    driver = app.driver
    gate = asyncio.Semaphore(concurrency)
    acks: list[float] = []
    answers: list[float] = []

    async def one(into: list[float], person: str, request: Any) -> None:
        async with gate:
            try:
                response = await request()
            except Exception as error:  # a refused connection, a timeout: the app broke
                app.failures.append(f"{person}: {error.__class__.__name__}: {error}")
                return
        if response.status == 200:
            app.answered_200 += 1
            into.append(response.elapsed)
        else:
            app.failures.append(f"{person}: HTTP {response.status} {response.body[:200]}")

    async def person(n: int, who: str) -> None:
        copy = copy_for(driver.standin, who)
        await one(acks, who, lambda: driver.click(who, copy, ACK_ACTION))
        [view] = driver.standin.views_for(who)
        await one(answers, who, lambda: driver.submit_view(who, view, choices_for(offset + n)))

    await asyncio.gather(*[person(n, p) for n, p in enumerate(people)])
    return acks, answers


async def burst(run: Run, standin: SlackStandIn, apps: list[App]) -> None:
    """Open everyone's modal (untimed, Tier 4 lifted), then the timed burst, in rotating rounds."""
    bot = apps[0]
    staff = [u for u in standin.ws.users if u.startswith("U0SW")]
    chosen = {a.name: staff[k * run.burst : (k + 1) * run.burst] for k, a in enumerate(apps)}
    paced = standin.limiter
    standin.limiter = RateLimiter(RateLimits(scale=run.pace, tiers={1: 1, 2: 20, 3: 50, 4: LIFTED}))
    started = time.perf_counter()
    await open_bot_modals(standin, bot, chosen[bot.name])
    live = standin.views_for(chosen[bot.name][0])[0]
    template = {k: live[k] for k in ("type", "callback_id", "title", "submit", "close")}
    template |= {"blocks": live["blocks"], "private_metadata": live["private_metadata"]}
    for app in apps[1:]:
        await open_baseline_modals(standin, template, chosen[app.name])
    run.figures["opening_s"] = time.perf_counter() - started
    standin.limiter = paced  # the timed burst runs under the paced limits again
    calls_before = len(standin.calls)
    figures: dict[str, dict[str, Any]] = {
        a.name: {"acks": [], "answers": [], "s": 0.0, "cpu": 0.0} for a in apps
    }
    for indices, order in rounds(list(range(run.burst)), apps, ROUNDS):
        for app in order:
            people = [chosen[app.name][i] for i in indices]
            gc.collect()  # not while timing: the stand-in's heap is large
            cpu = cpu_seconds(app.process.pid)
            t = time.perf_counter()
            acks, answers = await requests_of(app, people, indices[0], run.concurrency)
            seconds = time.perf_counter() - t
            await settle(standin)  # the bot's private replies are part of its cost
            f = figures[app.name]
            f["acks"] += acks
            f["answers"] += answers
            f["s"] += seconds
            f["cpu"] += cpu_seconds(app.process.pid) - cpu
    run.figures["burst"] = figures
    run.figures["burst_calls"] = Counter(c.method for c in standin.calls[calls_before:])
    bot.failures += [f"stand-in: {e}" for e in standin.interaction_errors]


def stored_by_bot(path: Path) -> int:
    """The acknowledgements and check submissions the bot committed for the briefing."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        acks = db.execute(
            "SELECT COUNT(*) FROM acknowledgements WHERE briefing_id = ?", (BRIEFING,)
        ).fetchone()[0]
        answers = db.execute(
            "SELECT COUNT(*) FROM check_submissions WHERE briefing_id = ?", (BRIEFING,)
        ).fetchone()[0]
    return int(acks) + int(answers)


# -- 3. the views ----------------------------------------------------------------------------


async def view_seconds(driver: SlackDriver, user: str, command: str, text: str) -> float:
    """From the command to the last private reply that answered it (quiet for a second)."""
    standin = driver.standin
    before = len(standin.response_calls)
    sent = time.time()
    answer = await driver.slash_command(user, command, text)
    if answer.status != 200:
        raise RuntimeError(f"{command} {text} answered HTTP {answer.status}")
    await eventually(lambda: len(standin.response_calls) > before, f"answer {command}", 600)
    seen = -1
    while len(standin.response_calls) != seen:
        seen = len(standin.response_calls)
        await asyncio.sleep(1.0)
    return standin.response_calls[-1].at - sent


def last_reply(standin: SlackStandIn, user: str) -> str:
    """What the newest private reply to `user` says (its text and sections), in short."""
    [*_, seen] = [s for s in standin.seen_by(user) if s.kind == "response"]
    texts = [b["text"]["text"] for b in seen.blocks or [] if isinstance(b.get("text"), dict)]
    return " | ".join([seen.text, *texts]).replace("\n", " ")


async def views(run: Run, bot: App) -> None:
    assert bot.driver is not None
    for label, user, command, text in VIEWS:
        first = await view_seconds(bot.driver, user, command, text)
        again = await view_seconds(bot.driver, user, command, text)
        run.figures[label] = (first, again)
        run.figures[f"{label} said"] = last_reply(bot.driver.standin, user)


# -- the run ---------------------------------------------------------------------------------


async def measure(run: Run, standin: SlackStandIn, folder: Path, recipients: list[str]) -> None:
    """Start the bot, the three phases, then stop everything and count what was stored."""
    bot = await start_bot(run, standin, folder)
    apps = [bot]
    try:
        await wait_healthy(f"{bot.base}/healthz", bot.process, within=120)
        bot.driver = SlackDriver(standin, bot_url=bot.url, signing_secret=SECRET)
        run.figures["rss_start"] = peak_rss_mb(bot.process.pid)
        print(f"1. broadcast to {len(recipients):,} by DM ...", flush=True)
        await broadcast(run, standin, bot)
        broadcast_figures(run, standin, recipients)
        run.figures["rss_broadcast"] = peak_rss_mb(bot.process.pid)
        if run.failures:
            return
        bare = await start_baseline(folder)
        both = await start_baseline(folder, reply=True, feedback=True)
        both.name = "bare + replies"
        apps += [bare, both]
        for app in apps[1:]:
            await wait_healthy(f"{app.base}/healthz", app.process, within=60)
            app.driver = SlackDriver(standin, bot_url=app.url, signing_secret=SECRET)
        print(f"2. burst: {run.burst:,} people per app at c={run.concurrency} ...", flush=True)
        await burst(run, standin, apps)
        run.figures["rss_burst"] = peak_rss_mb(bot.process.pid)
        print("3. results and trends ...", flush=True)
        await views(run, bot)
        run.figures["rss_end"] = peak_rss_mb(bot.process.pid)
        run.figures["db_live"] = database_mb(bot.db)
    except (RuntimeError, TimeoutError, LookupError) as error:
        run.failures.append(f"{error.__class__.__name__}: {error}")
    finally:
        for app in apps:
            if app.driver is not None:
                await app.driver.close()
            await stop(app)  # SIGTERM; counts a baseline's rows
        run.returncode = bot.process.returncode
        run.failures += [f"{a.name}: {e}" for a in apps for e in a.failures[:3]]
        run.figures["db_stopped"] = database_mb(bot.db)
        if bot.db.exists():
            bot.stored = stored_by_bot(bot.db)
        run.figures["apps"] = [(a.name, a.stored, a.answered_200) for a in apps]
        if run.failures:
            print("--- bot log (last 2,000 characters) ---")
            print(bot.log.read_text()[-2000:])


async def main_async(args: argparse.Namespace, folder: Path) -> int:
    run = Run(args.staff, args.burst, args.pace, args.concurrency)
    if 3 * run.burst > run.staff - 6:
        raise SystemExit("--burst: three apps need 3 x burst distinct social workers")
    workspace = Workspace.sample(n_staff=run.staff)
    recipients = sorted({u for g in GROUPS for u in workspace.usergroups[g].users})
    standin = SlackStandIn(workspace, signing_secret=SECRET, rate_limits=RateLimits(scale=run.pace))
    await standin.start(host="127.0.0.1", port=0)
    started = time.time()
    try:
        await measure(run, standin, folder, recipients)
    finally:
        await standin.stop()
    run.figures["wall_s"] = time.time() - started
    report(run, standin, [label for label, *_ in VIEWS], args.verbose)
    f = run.figures
    stored_ok = all(s == n for _, s, n in f.get("apps", [])) and "burst" in f
    broken = f.get("duplicates", 1) or f.get("missed", 1) or f.get("early", 1)
    return 1 if broken or not stored_ok or run.failures or run.returncode != 0 else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 staff, 500 a burst, x20")
    parser.add_argument("--staff", type=int, help="people in the workspace (30,000)")
    parser.add_argument("--burst", type=int, help="people in the burst, per app (5,000)")
    parser.add_argument("--pace", type=float, help="Slack's limits and OUTBOX x K (12)")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--verbose", action="store_true", help="print what each view said")
    args = parser.parse_args()
    defaults = (2000, 500, 20.0) if args.quick else (30_000, 5000, 12.0)
    for name, default in zip(("staff", "burst", "pace"), defaults, strict=True):
        if getattr(args, name) is None:
            setattr(args, name, default)
    with tempfile.TemporaryDirectory(prefix="bench-capacity-") as scratch:
        return asyncio.run(main_async(args, Path(scratch)))


if __name__ == "__main__":
    sys.exit(main())
