"""Benchmark: a burst of Acknowledge clicks through the whole stack, against a storage baseline.

Journey 1 in PRODUCT.md: a briefing lands in a 300-person channel and people press Acknowledge
together. Each click here is a signed HTTP request from the stand-in's driver to the real aiohttp
app, through Bolt's signature check, the listener, the single SQLite writer thread, and the private
reply over the response_url. The baseline, in the same process, is the same number of
`record_ack` calls straight to storage: the floor the full path is measured against.

    python bench/bench_acknowledge.py [--staff 300] [--concurrency 50]

Prints clicks per second, ack latency percentiles (Slack wants an ack within 3 s), and ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.app import LineOfSight  # noqa: E402
from bot.config import Config  # noqa: E402
from bot.storage import Storage  # noqa: E402
from handlers.briefings import ACK_ACTION  # noqa: E402
from slack_standin import RateLimits, SlackDriver, SlackStandIn, Workspace  # noqa: E402

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"


async def baseline(staff: int, folder: Path) -> float:
    """Seconds for `staff` acknowledgements written straight to storage, all at once."""
    storage = Storage(folder / "baseline.db")
    await storage.open()
    now = datetime.now(UTC)
    started = time.perf_counter()
    await asyncio.gather(
        *[
            storage.record_ack(briefing_id="b", version=1, user_id=f"U{n:05d}", now=now)
            for n in range(staff)
        ]
    )
    elapsed = time.perf_counter() - started
    await storage.close()
    return elapsed


async def full_stack(staff: int, concurrency: int, folder: Path) -> tuple[float, list[float], int]:
    """Publish to a `staff`-person channel, then everyone clicks Acknowledge."""
    workspace = Workspace.sample(n_staff=staff + 6)
    standin = SlackStandIn(
        workspace,
        bot_token=TOKEN,
        app_token="xapp-bench",
        signing_secret=SECRET,
        rate_limits=RateLimits(),
    )
    await standin.start(host="127.0.0.1", port=0)
    config = Config.from_env(
        {
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": standin.api_url,
            "DATABASE_PATH": str(folder / "bench.db"),
            "CONTENT_DIR": str(REPO / "content"),
            "SENIOR_MANAGERS": "U0SM01",
        },
        dotenv=None,
    )
    bot = LineOfSight(config)
    await bot.start()
    runner = await bot.listen("127.0.0.1", 0)
    url = f"{bot.base_url}/slack/events"
    workers = [u for u in workspace.users if u.startswith("U0SW")]
    latencies: list[float] = []
    try:
        async with SlackDriver(standin, bot_url=url, signing_secret=SECRET) as driver:
            await driver.slash_command("U0SM01", "/brief", "publish recruitment-funding")
            await bot.work.idle(60)
            [post] = [m for m in standin.messages("C0SWALL") if m.blocks]
            gate = asyncio.Semaphore(concurrency)

            async def click(user: str) -> None:
                async with gate:
                    response = await driver.click(user, post, ACK_ACTION)
                    assert response.status == 200, response.body
                    latencies.append(response.elapsed)

            started = time.perf_counter()
            await asyncio.gather(*[click(w) for w in workers])
            await bot.work.idle(120)
            elapsed = time.perf_counter() - started
        recorded = await bot.storage.call(lambda db: db["acknowledgements"].count)
    finally:
        await runner.cleanup()
        await bot.stop()
        await standin.stop()
    return elapsed, latencies, recorded


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--staff", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        base = await baseline(args.staff, folder)
        elapsed, latencies, recorded = await full_stack(args.staff, args.concurrency, folder)
    clicks = len(latencies)
    print(f"acknowledge burst: {clicks} staff, {args.concurrency} clicks in flight")
    print(f"  storage only (baseline): {base * 1000:8.1f} ms  {args.staff / base:8.0f} acks/s")
    print(f"  full stack:              {elapsed * 1000:8.1f} ms  {clicks / elapsed:8.0f} clicks/s")
    print(
        f"  ack latency: p50 {statistics.median(latencies) * 1000:.1f} ms, "
        f"p95 {percentile(latencies, 0.95) * 1000:.1f} ms, "
        f"max {max(latencies) * 1000:.1f} ms (Slack's limit: 3000 ms)"
    )
    print(f"  ratio full stack / storage only: {elapsed / base:.1f}x")
    print(f"  acknowledgements recorded: {recorded} of {clicks}")
    return 0 if recorded == clicks and max(latencies) < 3.0 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
