"""Steps 24 to 27 of the demo: what an operator does while the bot runs for years.

A backup taken while the bot serves, the quarterly restore drill on a copy (counts and
`integrity_check` compared), the metrics an operator watches, and the retention purge's record
as an engagement lead sees it in `/engage audit`. Each runs as the operator would: the same
`python -m bot …` commands, with the bot's own settings.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

import aiohttp

from bot.demo.common import Scene
from bot.demo.leads import full_lines, lead_asks

# What the drill compares (docs/OPERATIONS.md, "The drill").
DRILL_TABLES = ("publications", "deliveries", "acknowledgements", "check_answers", "questions")
# The /metrics lines an operator would put on a dashboard first.
WATCHED = (
    "line_of_sight_outbox_depth",
    "line_of_sight_last_backup_age_seconds",
    "line_of_sight_slack_ratelimited_total",
)


async def operate(scene: Scene, env: dict[str, str], scratch: Path, port: int) -> None:
    """Steps 24 to 27, in order."""
    made = await take_backup(scene, env, scratch / "backups")
    await restore_drill(scene, env, made, scratch / "drill" / "restored.db")
    await show_metrics(scene, port)
    await show_retention(scene)


async def bot_command(env: dict[str, str], *words: str) -> tuple[int, str]:
    """`python -m bot <words>` as its own process, with the bot's settings: (exit code, output)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *words,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return await process.wait(), output.decode("utf-8", errors="replace").strip()


async def take_backup(scene: Scene, env: dict[str, str], folder: Path) -> Path:
    """Step 24: a backup while the bot runs (BACKUP_DIR makes it daily too)."""
    scene.say("24. The operator takes a backup while the bot runs: python -m bot backup")
    code, said = await bot_command(env, "backup", str(folder))
    if code != 0:
        raise RuntimeError(f"backup failed: {said}")
    # It says "Backed up <database> to <file> (<size> bytes; integrity_check ok)."
    made = Path(said.split(" to ", 1)[1].split(" (", 1)[0])
    scene.say(f"      backups/{made.name} ({said.rsplit(' (', 1)[1]}")
    return made


async def restore_drill(scene: Scene, env: dict[str, str], backup: Path, target: Path) -> None:
    """Step 25: the drill, on a copy and never over the live database."""
    scene.say("25. The quarterly restore drill: the backup put back in a scratch place")
    target.parent.mkdir(parents=True, exist_ok=True)
    code, said = await bot_command({**env, "DATABASE_PATH": str(target)}, "restore", str(backup))
    if code != 0:
        raise RuntimeError(f"restore failed: {said}")
    before, after = await asyncio.gather(
        asyncio.to_thread(drill_counts, backup), asyncio.to_thread(drill_counts, target)
    )
    same = "equal" if before == after else f"DIFFERENT ({before} vs {after})"
    counts = ", ".join(f"{table} {n}" for table, n in after.items() if table in DRILL_TABLES)
    scene.say(f"      counts {same}: {counts}; integrity_check {after['integrity_check']}")


def drill_counts(path: Path) -> dict[str, int | str]:
    """The drill's comparison: rows in each table it names, and SQLite's integrity check."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        found: dict[str, int | str] = {
            table: db.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
            for table in DRILL_TABLES
        }
        found["integrity_check"] = db.execute("PRAGMA integrity_check").fetchone()[0]
    return found


async def show_metrics(scene: Scene, port: int) -> None:
    """Step 26: what the operator's dashboard reads (METRICS=on; no personal data)."""
    scene.say("26. The operator's monitoring reads /metrics (METRICS=on):")
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/metrics") as response,
    ):
        text = await response.text()
    for line in text.splitlines():
        if line.startswith(WATCHED):
            scene.say(f"      {line}")


async def show_retention(scene: Scene) -> None:
    """Step 27: the retention purge's record (it runs at each start and daily at 02:30)."""
    scene.say(f"27. {scene.names[scene.lead]} runs /engage audit: the trail ends with the purge")
    seen = await lead_asks(scene, "audit")
    for line in full_lines(seen.blocks, scene.names):
        if line.startswith("_Retention"):
            scene.say(f"      {line}")
