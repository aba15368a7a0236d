"""The leads' view in the demo: the service's own teams (user groups in the stand-in's
workspace, `TEAMS`, and a `teams.yaml` in the demo's content), each team's figures over time,
the **Chart** buttons' PNGs saved where the user can open them, the lead's dashboard on Home,
and the weekly digest.

The digest is the bot's own weekly job on real time: the demo sets `DIGEST_AT` to the first
whole minute after the bot starts. A new install's first run records the week and sends
nothing (handlers/checks/digest.py); the run after that minute sends what is new since.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.demo.common import (
    RESULTS_CHART_ACTION,
    TEAM_MANAGER,
    TRENDS_CHART_ACTION,
    Scene,
    plain,
)
from slack_standin import Seen, Workspace
from slack_standin.harness import eventually

TIMEZONE = "Europe/London"
LEAD_IN = 20  # seconds: the bot starts and records the week before the digest's minute
DIGEST_WITHIN = 90  # seconds step 23 waits for the digest at most
DASHBOARD = "Recent briefings"  # the dashboard's first header on the lead's Home
DIGEST = "Your weekly digest"  # how the digest's DM begins


@dataclass(frozen=True)
class Team:
    """One of the service's teams as the demo sets it up: a user group, named in teams.yaml."""

    group_id: str
    handle: str  # without the @, as Slack keeps it
    name: str
    manager: str


ASSESSMENT = Team("S0TASS", "assessment-team", "Assessment", TEAM_MANAGER)
CHILD_PROTECTION = Team("S0TCP", "child-protection-team", "Child Protection", "U0TM02")
EDGE_OF_CARE = Team("S0TEOC", "edge-of-care-team", "Edge of Care", "U0SM02")
TEAMS = (ASSESSMENT, CHILD_PROTECTION, EDGE_OF_CARE)


def add_teams(workspace: Workspace, workers: list[str]) -> dict[str, list[str]]:
    """The teams as user groups: the social workers split between Assessment and Child
    Protection, each with its team manager, and a small Edge of Care team (a head of service
    and the last social worker, who is in two teams) whose figures are held back. Returns
    each team's members by handle."""
    half = (len(workers) + 1) // 2
    members = {
        ASSESSMENT.handle: [ASSESSMENT.manager, *workers[:half]],
        CHILD_PROTECTION.handle: [CHILD_PROTECTION.manager, *workers[half:]],
        EDGE_OF_CARE.handle: [EDGE_OF_CARE.manager, *workers[-1:]],
    }
    for team in TEAMS:
        workspace.add_usergroup(
            team.group_id, handle=team.handle, name=team.name, users=members[team.handle]
        )
    return members


def teams_setting() -> str:
    """`TEAMS` as an operator writes it."""
    return ",".join(f"@{t.handle}" for t in TEAMS)


def teams_yaml() -> str:
    """The demo's content/teams.yaml: each team's name and its manager."""
    lines = ["# The demo's teams (TEAMS names them): a name to show and who manages each."]
    for team in TEAMS:
        lines += [f'"@{team.handle}":', f"  name: {team.name}", f'  managers: ["{team.manager}"]']
    return "\n".join(lines) + "\n"


def digest_minute(now: datetime) -> tuple[datetime, float]:
    """When the demo's digest is due, and how many seconds to wait before starting the bot,
    so that the bot's digest job, which runs at start and every 60 s after, runs once before
    that minute (recording the week, as on any new install) and once within a minute after
    it (sending the digest): the next whole minute, if it is at least LEAD_IN away, else
    the one after, starting the bot at the turn of the minute."""
    turn = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    if turn - now >= timedelta(seconds=LEAD_IN):
        return turn, 0.0
    return turn + timedelta(minutes=1), (turn - now).total_seconds()


def digest_setting(minute: datetime) -> str:
    """`DIGEST_AT` for that minute: its weekday and time in the demo's time zone."""
    local = minute.astimezone(ZoneInfo(TIMEZONE))
    return f"{local:%a %H:%M}"


def full_lines(blocks: list[dict[str, Any]], names: dict[str, str]) -> list[str]:
    """Every line of text in these blocks (not their buttons), as the demo's steps print it."""
    out = []
    for block in blocks:
        context = block.get("type") == "context"
        texts = (block.get("elements") or []) if context else [block.get("text")]
        for text in texts:
            if isinstance(text, dict) and text.get("text"):
                out += plain(str(text["text"]), names).splitlines()
    return out


async def lead_asks(scene: Scene, words: str) -> Seen:
    """`/engage <words>` as the lead, and the private answer."""
    standin, lead = scene.standin, scene.lead
    before = len(standin.seen_by(lead))
    await scene.driver.slash_command(lead, "/engage", words, channel_id="C0SWALL")
    await eventually(lambda: len(standin.seen_by(lead)) > before, f"answer /engage {words}")
    return standin.seen_by(lead)[before]


async def trends_by_team(scene: Scene) -> None:
    """Step 6e: each team's own figures over time; the small team's say they are held back."""
    say, names = scene.say, scene.names
    say(f"6e. {names[scene.lead]} puts a team first: /engage trends @{ASSESSMENT.handle}, then")
    say(f"    @{CHILD_PROTECTION.handle} and @{EDGE_OF_CARE.handle}; each team's own line:")
    for team in TEAMS:
        seen = await lead_asks(scene, f"trends @{team.handle}")
        for line in full_lines(seen.blocks, names):
            if line.startswith(f"_{team.name}"):
                say(f"      {line}")


async def funnel_chart(scene: Scene, results: Seen, folder: Path) -> Path:
    """Step 6f: Chart under the results; the funnel's PNG saved into `folder`."""
    scene.say(f"6f. {scene.names[scene.lead]} presses Chart under the results")
    return await save_chart(scene, results, RESULTS_CHART_ACTION, folder)


async def trend_chart(scene: Scene, folder: Path) -> Path:
    """Step 22: the trend again, now of every briefing sent, and its Chart saved."""
    say, names = scene.say, scene.names
    say(f"22. {names[scene.lead]} runs /engage trends again and presses Chart under it")
    trend = await lead_asks(scene, "trends")
    for line in full_lines(trend.blocks, names):
        if not line.startswith(("*Understanding over time*", "Every figure is as released")):
            say(f"      {line}")
    return await save_chart(scene, trend, TRENDS_CHART_ACTION, folder)


async def save_chart(scene: Scene, seen: Seen, action: str, folder: Path) -> Path:
    """Press Chart; the PNG the bot sent to the lead's DM, downloaded from Slack's file store
    into `folder` under the name the bot gave it."""
    title, filename, png = await press_chart(scene, seen, action)
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    path = folder / Path(filename).name
    await asyncio.to_thread(path.write_bytes, png)
    scene.say(f"   -> {title!r} ({len(png):,} bytes) in her DM; saved as {path}")
    return path


async def press_chart(scene: Scene, seen: Seen, action: str) -> tuple[str, str, bytes]:
    """Press Chart; the file's title, name and bytes, once the bot has uploaded it."""
    standin = scene.standin
    before = set(standin.files)

    def uploaded() -> list[str]:
        return [f for f, r in standin.files.items() if f not in before and r.completed and r.data]

    await scene.driver.click(scene.lead, seen, action)
    await eventually(lambda: bool(uploaded()), "send the chart", within=30)
    record = standin.files[uploaded()[0]]
    assert record.data is not None
    return record.title, record.filename, record.data


async def show_dashboard(scene: Scene) -> None:
    """Step 21: the lead's dashboard on Home, as it stands after the journey."""
    driver, standin, say, lead = scene.driver, scene.standin, scene.say, scene.lead
    say(f"21. {scene.names[lead]} opens the bot's Home tab: her dashboard")

    def published() -> int:
        return sum(
            c.ok and c.args.get("user_id") == lead for c in standin.calls_to("views.publish")
        )

    before = published()
    await driver.app_home_opened(lead)
    await eventually(
        lambda: published() > before and DASHBOARD in str(standin.home_view(lead)),
        "show the dashboard",
    )
    view = standin.home_view(lead)
    assert view is not None
    lines = full_lines(view["blocks"], scene.names)
    start = next((n for n, line in enumerate(lines) if DASHBOARD in line), 0)
    for line in lines[start:]:
        say(f"      {line}")


async def show_digest(scene: Scene, minute: datetime) -> None:
    """Step 23: the weekly digest, sent by the bot's own job once its minute has passed."""
    standin, say, lead = scene.standin, scene.say, scene.lead
    at = digest_setting(minute)
    say(
        f"23. The weekly digest (DIGEST_AT={at} in the demo, Mon 09:00 by default) reaches "
        f"{scene.names[lead]} by DM"
    )

    def digest() -> list[Seen]:
        return [s for s in standin.seen_by(lead) if s.kind == "dm" and s.text.startswith(DIGEST)]

    await eventually(lambda: bool(digest()), "send the weekly digest", within=DIGEST_WITHIN)
    for line in full_lines(digest()[0].blocks, scene.names):
        say(f"      {line}")
