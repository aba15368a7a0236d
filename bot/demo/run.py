"""The demo's frame: the stand-in and the bot's own process started, the journey played,
what each person saw printed, and the bot's log checked for anything private."""

from __future__ import annotations

import asyncio
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.demo.briefings import broadcast, compose, correct, play_briefings, remind
from bot.demo.common import (
    BOT_TOKEN,
    BRIEFING,
    CIRCULAR,
    DM_BRIEFING,
    LEAD,
    MANAGER,
    PRACTICE_GAP,
    SIGNING_SECRET,
    SURGERY_QUESTION,
    TEAM_MANAGER,
    Scene,
    content_dir,
    edit_content,
    render,
)
from bot.demo.leads import (
    TIMEZONE,
    add_teams,
    digest_minute,
    digest_setting,
    funnel_chart,
    show_dashboard,
    show_digest,
    teams_setting,
    teams_yaml,
    trend_chart,
    trends_by_team,
)
from bot.demo.operations import operate
from bot.demo.surgery import play_practice, play_surgery
from slack_standin import RateLimits, SlackDriver, SlackStandIn, Workspace
from slack_standin.harness import bot_env, free_port, spawn_bot, wait_healthy

Say = Callable[..., None]

# What must never reach a log: the secrets, and what the briefing or people said.
PRIVATE = [
    BOT_TOKEN,
    SIGNING_SECRET,
    "recruitment money",
    "£4.4m",
    f"publish {BRIEFING}",
    SURGERY_QUESTION,
    "Jayden",
    PRACTICE_GAP,
    "rhi timescales",
    "each team covers duty",
]


# The social workers the demo plays with (--staff): at least six, so that three in each of two
# teams take the check and the figures by team appear (MIN_GROUP_SIZE=3); at most thirty, so
# the DMs, corrections and reminders fit the minutes the demo waits for them.
MIN_STAFF, MAX_STAFF = 6, 30
TOO_FEW = (
    f"The demo needs at least {MIN_STAFF} social workers (--staff {MIN_STAFF} or more; got "
    "{staff}): with fewer, no team has three who take the check, so the figures by team "
    "never appear."
)
TOO_MANY = (
    f"The demo plays with at most {MAX_STAFF} social workers (--staff {MAX_STAFF} or fewer; got "
    "{staff}): with more, its DMs, corrections and reminders take longer than it waits for them."
)


async def run_demo(staff: int = 6, out: Any = None, charts: Path | None = None) -> int:
    """Play the first slice and print what each person saw; the charts the lead was sent are
    saved in `charts` (default ./demo-charts). Returns the process exit code."""
    out = out or sys.stdout
    if not MIN_STAFF <= staff <= MAX_STAFF:
        print((TOO_FEW if staff < MIN_STAFF else TOO_MANY).format(staff=staff), file=sys.stderr)
        return 2

    def say(line: str = "") -> None:
        print(line, file=out, flush=True)

    workspace = Workspace.sample(n_staff=staff + 6)
    add_teams(workspace, social_workers(workspace))
    standin = SlackStandIn(
        workspace,
        bot_token=BOT_TOKEN,
        app_token="xapp-demo-token",
        signing_secret=SIGNING_SECRET,
        rate_limits=RateLimits(),  # Slack's own limits, Tier 2's 20 user-group lists a minute too
    )
    await standin.start(host="127.0.0.1", port=0)
    port = free_port()
    minute, wait = digest_minute(datetime.now(UTC))
    if wait:
        say(
            f"(Waiting {wait:.0f} s for the turn of the minute, so that the weekly digest "
            "falls due during the demo)"
        )
        await asyncio.sleep(wait)
    with tempfile.TemporaryDirectory(prefix="line-of-sight-demo-") as scratch:
        content, dm_file = prepare_content(Path(scratch))
        env = demo_env(standin, port, Path(scratch), content, digest_setting(minute))
        log_path = Path(scratch) / "bot.log"
        with open(log_path, "wb") as log:  # noqa: ASYNC230 (a local scratch file, once)
            process = await spawn_bot(env, scratch, stdout=log, stderr=log)
            try:
                await wait_healthy(f"http://127.0.0.1:{port}/healthz", process)
                shown = Shown(
                    process.pid,
                    dm_file,
                    charts or Path.cwd() / "demo-charts",
                    minute,
                    env,
                    Path(scratch),
                    port,
                )
                await play_and_show(standin, workspace, port, shown, say)
            except (RuntimeError, TimeoutError) as error:
                log.flush()
                tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
                say(f"The demo stopped: {error}. The bot's last log lines:")
                for line in tail:
                    say(f"  {line}")
                raise SystemExit(1) from None
            finally:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
                    await asyncio.wait_for(process.wait(), 30)
        leaked = report_log(log_path, process.returncode, say)
    await standin.stop()
    if leaked:
        say("The bot's log contains a secret or a message body: that is a bug.")
        return 1
    return 0 if process.returncode == 0 else 1


def social_workers(workspace: Workspace) -> list[str]:
    """The simulated social workers, in order."""
    return [u.id for u in workspace.users.values() if u.id.startswith("U0SW")]


@dataclass(frozen=True)
class Shown:
    """What the frame tells the steps: the bot's process, the DM briefing's file, where the
    charts are saved, and the digest's minute."""

    pid: int
    dm_file: Path
    charts: Path
    digest: datetime
    env: dict[str, str]  # the bot's settings, for the operator's `python -m bot` commands
    scratch: Path
    port: int


def prepare_content(scratch: Path) -> tuple[Path, Path]:
    """The shipped content, copied so the demo can edit a file as an author would; the DM
    briefing reminds after a minute rather than two days, at any hour. Returns the folder
    and the DM briefing's file."""
    content = scratch / "content"
    shutil.copytree(content_dir(), content)
    dm_file = content / "briefings" / f"{DM_BRIEFING}.md"
    edit_content(dm_file, "remind_after: 2d", "remind_after: 1m")
    (content / "circulars").mkdir(exist_ok=True)
    (content / "circulars" / "weekly-round-up.md").write_text(CIRCULAR, encoding="utf-8")
    (content / "teams.yaml").write_text(teams_yaml(), encoding="utf-8")
    return content, dm_file


def demo_env(
    standin: SlackStandIn, port: int, scratch: Path, content: Path, digest_at: str
) -> dict[str, str]:
    """The bot's environment: the stand-in's Slack, the demo's roles and teams, every hour
    working, the weekly digest due a minute after the bot starts."""
    return bot_env(
        standin,
        port=port,
        database=scratch / "demo.db",
        content_dir=content,
        signing_secret=SIGNING_SECRET,
        SENIOR_MANAGERS="@senior-managers",
        ENGAGEMENT_LEADS="@engagement-leads",
        LOG_LEVEL="INFO",
        WORKING_HOURS="00:00-23:59",
        WORKING_DAYS="Mon-Sun",
        SURGERY_CHANNEL="#social-work-all",
        # A demo workspace is small: it runs as a pilot would, figures shown for groups of
        # three or more and moving in steps of three people.
        MIN_GROUP_SIZE="3",
        YOU_SAID_WE_DID_CHANNEL="#general",
        TEAMS=teams_setting(),
        TIMEZONE=TIMEZONE,
        DIGEST_AT=digest_at,
        METRICS="on",
        BACKUP_DIR=str(scratch / "backups"),
    )


async def play_and_show(
    standin: SlackStandIn, workspace: Workspace, port: int, shown: Shown, say: Say
) -> None:
    """Say what is running, play every step, then print what each person saw."""
    names = {u.id: u.real_name for u in workspace.users.values()}
    names.update({c.id: c.name for c in workspace.channels.values()})
    workers = social_workers(workspace)
    say("Line of Sight: offline demo")
    say(f"Local Slack stand-in at {standin.api_url}")
    say(f"Bot process {shown.pid} serving http://127.0.0.1:{port}/slack/events")
    say(
        "MIN_GROUP_SIZE=3, as a small pilot would run: figures appear, and move, "
        "in steps of three people"
    )
    say(f"TEAMS={teams_setting()}, named in content/teams.yaml")
    say(
        f"DIGEST_AT={digest_setting(shown.digest)} ({TIMEZONE}): the weekly digest falls due a "
        "minute in (a new install's first run records the week and sends nothing)"
    )
    say()
    async with SlackDriver(
        standin,
        bot_url=f"http://127.0.0.1:{port}/slack/events",
        signing_secret=SIGNING_SECRET,
    ) as driver:
        await play(Scene(driver, standin, names, workers, say), shown)
    say()
    say("What each person saw")
    say("====================")
    for user_id in [TEAM_MANAGER, MANAGER, *workers, LEAD]:
        say(f"{names[user_id]} ({user_id}):")
        for seen in standin.seen_by(user_id):
            for line in render(seen, names):
                say(line)
        say()


async def play(scene: Scene, shown: Shown) -> None:
    """The journey, step by step, in the order the printed steps are numbered."""
    results = await play_briefings(scene)  # 1 to 6d
    await trends_by_team(scene)  # 6e
    await funnel_chart(scene, results, shown.charts)  # 6f
    await broadcast(scene)  # 7
    reader = await correct(scene, shown.dm_file)  # 8
    await play_surgery(scene)  # 9 to 13
    await play_practice(scene)  # 14 to 17
    await compose(scene)  # 18 and 19
    await remind(scene, reader)  # 20
    await show_dashboard(scene)  # 21
    await trend_chart(scene, shown.charts)  # 22
    await show_digest(scene, shown.digest)  # 23
    await operate(scene, shown.env, shown.scratch, shown.port)  # 24 to 27


def report_log(log_path: Path, returncode: int | None, say: Say) -> bool:
    """How the bot stopped and how much it logged; True if the log holds anything private."""
    log_lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    requests = sum(" request " in line for line in log_lines)
    say(
        f"Bot stopped on SIGTERM with exit code {returncode}; its log has "
        f"{len(log_lines)} lines ({requests} requests), none with a token or message body."
    )
    return any(any(p in line for p in PRIVATE) for line in log_lines)
