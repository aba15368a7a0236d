"""bench/capacity.py's figures from the stand-in's record, and the table it prints (its
docstring says what is measured and how)."""

from __future__ import annotations

import json
import os
import platform
import statistics
from typing import Any

from bench.bench_requests import percentile
from bench.broadcast import bot_floor_seconds, copies, dm_sends, minimum_seconds
from slack_standin import SlackStandIn

GOAL_RATIO = 1.1  # a DM broadcast's first-to-last against Slack's minimum, as bench/broadcast.py
SLACK_POST_PER_MINUTE = 300.0  # chat.postMessage across a workspace, unscaled (RateLimits())
BOT_DEFAULT_PER_MINUTE = 300.0  # the bot's OUTBOX_PER_MINUTE default
TIER2_PER_MINUTE = 20.0  # users.list, Slack's published floor
TIER4_PER_MINUTE = 100.0  # views.open


def broadcast_figures(run: Any, standin: SlackStandIn, recipients: list[str]) -> None:
    f = run.figures
    sends = dm_sends(standin)
    pages = standin.calls_to("users.list")
    f["recipients"] = len(recipients)
    f["sent"] = len(sends)
    held = [copies(standin, person) for person in recipients]
    f["duplicates"] = sum(1 for c in held if c > 1)
    f["missed"] = sum(1 for c in held if c == 0)
    f["early"] = len(standin.early_retries)
    f["429s"] = sum(1 for c in standin.calls if c.http_status == 429)
    f["pages_ok"] = sum(c.ok for c in pages)
    f["pages_429"] = sum(c.http_status == 429 for c in pages)
    f["walk_s"] = pages[-1].at - pages[0].at if pages else float("nan")
    f["confirm_s"] = run.confirm_shown_at - run.commanded_at
    f["first_dm_s"] = sends[0].at - run.commanded_at if sends else float("nan")
    f["elapsed_s"] = sends[-1].at - sends[0].at if sends else float("nan")
    f["summary_s"] = run.done_at - run.commanded_at
    limits = standin.rate_limits
    per_minute = limits.post_workspace_per_minute * limits.scale
    burst = (limits.post_workspace_burst or limits.post_workspace_per_minute) * limits.scale
    f["minimum_s"] = minimum_seconds(len(sends), per_minute, burst)
    f["floor_s"] = bot_floor_seconds(len(sends), run.outbox_per_minute)
    f["ratio"] = f["elapsed_s"] / f["minimum_s"] if f["minimum_s"] else float("nan")
    f["ratio_floor"] = f["elapsed_s"] / f["floor_s"] if f["floor_s"] else float("nan")
    # Projections to Slack's unscaled limits and the bot's default pace (computed, not run).
    walk_wait = minimum_seconds(len(pages), TIER2_PER_MINUTE, TIER2_PER_MINUTE)
    f["x1_walk_s"] = f["walk_s"] + walk_wait
    f["x1_minimum_s"] = minimum_seconds(len(sends), SLACK_POST_PER_MINUTE, SLACK_POST_PER_MINUTE)
    f["x1_floor_s"] = bot_floor_seconds(len(sends), BOT_DEFAULT_PER_MINUTE)
    f["x1_broadcast_s"] = f["x1_floor_s"] * f["ratio_floor"]
    f["x1_first_dm_s"] = f["first_dm_s"] + walk_wait
    f["x1_total_s"] = f["x1_first_dm_s"] + f["x1_broadcast_s"]
    f["x1_opens_s"] = minimum_seconds(run.burst, TIER4_PER_MINUTE, TIER4_PER_MINUTE)


def row(label: str, value: str, note: str = "") -> None:
    print(f"  {label:<50}{value:>16}   {note}".rstrip())


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def report_broadcast(run: Any, standin: SlackStandIn) -> None:
    f = run.figures
    limits = standin.rate_limits
    post = limits.post_workspace_per_minute * limits.scale
    print(f"1. one briefing by DM to everyone, at pace x{run.pace:g}")
    print(
        f"   stand-in: chat.postMessage {post:g}/min (burst {post:g}), users.list Tier 2 "
        f"{limits.tiers[2] * limits.scale:g}/min; bot OUTBOX_PER_MINUTE {run.outbox_per_minute:g}"
    )
    row("people (copies due)", f"{f['recipients']:,}")
    row("DMs sent (accepted chat.postMessage)", f"{f['sent']:,}")
    row("users.list pages (ok / 429)", f"{f['pages_ok']} / {f['pages_429']}")
    row("directory walk, first page to last (s)", f"{f['walk_s']:.1f}")
    row("command to the confirmation shown (s)", f"{f['confirm_s']:.1f}")
    row("command to first DM (s)", f"{f['first_dm_s']:.1f}", "two clicks included")
    row("first DM to last (s)", f"{f['elapsed_s']:.1f}")
    row("rate-limit minimum at this pace (s)", f"{f['minimum_s']:.1f}")
    if f["minimum_s"]:
        ok = f["ratio"] <= GOAL_RATIO
        row("ratio elapsed / minimum", f"{f['ratio']:.3f}", f"<= {GOAL_RATIO}  {verdict(ok)}")
    else:
        row("ratio elapsed / minimum", "n/a", "every copy fits Slack's burst at this pace")
    row(f"bot's own floor at {run.outbox_per_minute:g}/min (s)", f"{f['floor_s']:.1f}")
    row("ratio elapsed / bot's own floor", f"{f['ratio_floor']:.3f}")
    row("command to the publisher's summary (s)", f"{f['summary_s']:.1f}")
    cpu = f.get("broadcast_cpu_s", float("nan"))
    share = f"{100 * cpu / f['summary_s']:.0f}% of one core" if f["summary_s"] else ""
    row("bot CPU, command to summary (s)", f"{cpu:.1f}", share)
    for key, label in (("duplicates", "duplicates (2+ copies)"), ("missed", "missed (none)")):
        row(label, f"{f[key]:,}", f"0  {verdict(f[key] == 0)}")
    row("early retries (before Retry-After)", f"{f['early']:,}", f"0  {verdict(f['early'] == 0)}")
    row("429s met (all methods, whole run)", f"{f['429s']:,}")
    print("   projection to Slack's own limits and the bot's default 300/min (computed, not run):")
    row("  directory walk at Tier 2, 20/min (s)", f"{f['x1_walk_s']:.0f}")
    row("  command to first DM (s)", f"{f['x1_first_dm_s']:.0f}")
    row("  first DM to last, at the ratio to the bot's floor (s)", f"{f['x1_broadcast_s']:.0f}")
    row("  Slack's minimum for the same copies (s)", f"{f['x1_minimum_s']:.0f}")
    row("  command to last DM (min)", f"{f['x1_total_s'] / 60:.0f}")
    row(f"  {run.burst:,} check modals at Tier 4, 100/min (min)", f"{f['x1_opens_s'] / 60:.0f}")


def report_burst(run: Any) -> None:
    figures: dict[str, dict[str, Any]] = run.figures["burst"]
    names = list(figures)
    c = run.concurrency
    print(f"2. acknowledgements and check answers: {run.burst:,} people per app, c={c}")
    print(
        f"   two signed requests each (Acknowledge on the DM copy, then Send answers); ten "
        f"rotating rounds; modals opened beforehand in {run.figures['opening_s']:.0f} s, untimed"
    )

    def cells(values: list[float], fmt: str) -> str:
        bot, bare, both = values
        ratios = f"{bot / bare:.2f}x {bot / both:.2f}x" if bare and both else ""
        return "".join(f"{fmt.format(v):>16}" for v in values) + f"{ratios:>16}"

    print(f"  {'':<34}" + "".join(f"{n:>16}" for n in names) + f"{'ratio to each':>16}")

    def line(label: str, values: list[float], fmt: str = "{:.2f}") -> None:
        print(f"  {label:<34}{cells(values, fmt)}")

    f = [figures[n] for n in names]
    line("requests/s", [(len(x["acks"]) + len(x["answers"])) / x["s"] for x in f], "{:.1f}")
    for kind in ("acks", "answers"):
        line(f"{kind}: p50 (ms)", [1000 * statistics.median(x[kind]) for x in f])
        line(f"{kind}: p99 (ms)", [1000 * percentile(x[kind], 0.99) for x in f])
    per = [1000 * x["cpu"] / (len(x["acks"]) + len(x["answers"])) for x in f]
    line("CPU per request (ms)", per)
    calls = ", ".join(f"{m} {n:,}" for m, n in sorted(run.figures["burst_calls"].items()))
    print(f"  Web API calls during the timed burst (all apps): {calls or 'none'}")
    stored = run.figures.get("apps", [])
    print(
        f"  {'stored / answered 200':<34}"
        + "".join(f"{f'{s}/{n}':>16}" for _, s, n in stored)
        + f"{'':>16}  all  {verdict(all(s == n for _, s, n in stored))}"
    )


def report(run: Any, standin: SlackStandIn, views: list[str], verbose: bool = False) -> None:
    f = run.figures
    print()
    print(
        f"Capacity: Line of Sight (its own process), a workspace of {run.staff:,}; "
        f"{os.cpu_count()} CPUs ({platform.machine()}, Python {platform.python_version()}) "
        "shared with the stand-in and the driver"
    )
    if "sent" in f:
        report_broadcast(run, standin)
    if "burst" in f:
        report_burst(run)
    if all(label in f for label in views):
        print("3. views afterwards, through the bot (command to its last private reply)")
        for label in views:
            first, again = f[label]
            row(f"{label}: first view / again (s)", f"{first:.2f} / {again:.2f}")
            if verbose:
                print(f"    said: {f[f'{label} said'][:300]}")
    print("4. resources")
    for key, label in (
        ("rss_start", "once started"),
        ("rss_broadcast", "after the broadcast"),
        ("rss_burst", "after the burst"),
        ("rss_end", "after the views"),
    ):
        if key in f:
            row(f"bot peak RSS (VmHWM) {label} (MB)", f"{f[key]:.1f}")
    for key, label in (("db_live", "running"), ("db_stopped", "after SIGTERM")):
        if key in f:
            row(f"database + WAL, {label} (MB)", f"{f[key][0]:.1f} + {f[key][1]:.1f}")
    row("bot exit code on SIGTERM", f"{run.returncode}")
    row("whole run, wall clock (s)", f"{f['wall_s']:.0f}")
    if run.failures:
        print(f"problems: {len(run.failures)}, first: {run.failures[:3]}")
    keys = ("ratio", "ratio_floor", "first_dm_s", "elapsed_s", "duplicates", "missed", "early")
    shown = {k: None if f.get(k) != f.get(k) else f.get(k) for k in keys}  # NaN is not JSON
    print(json.dumps({"staff": run.staff, "pace": run.pace} | shown))
