"""The privacy issue's adversary, replayed against the leads' views end to end.

`tests/test_disclosure_adversary.py` attacks the pure layer (`bot/disclosure.py`). This file
drives the REAL bot against the Slack stand-in: hypothesis-generated small workspaces with the
service's teams (`TEAMS`: overlapping user groups, some smaller than `MIN_GROUP_SIZE`), a
script of acknowledgements and check answers (first attempts and retakes) interleaved with
views an engagement lead takes through each of them:

- `/engage trends` and `/engage trends @team` (the answer's text),
- Home (`app_home_opened`, the view `views.publish` stored),
- the weekly digest (the lead's DM, the job run as the scheduler would at Monday 09:00),
- the CSV (`/engage export`, the file the stand-in received),
- the charts (the figures `bot/charts.py` is asked to draw: `render_trend` and
  `render_funnel` are wrapped where `handlers/checks/chart_actions.py` calls them),
- `/engage results`, for comparison,
- and the lead's Home whenever the bot republishes it unasked.

Every figure each view shows is parsed (counts, bases, percentages, what is "held back" or
"fewer than N"), and a view whose text holds a number the parser did not account for fails
(a new figure must be taught here, not slip past). The attacker keeps them all and checks:

1. every number shown about staff's acts equals what the layer released at that moment
   (read back through `bot.storage.disclosure` just after the view, nothing having happened
   since), and equals the truth as of the release: the sum of the group's people's acts when
   their cell was last released (the test knows who did what, and when);
2. no view shows a number for a team the layer held back (hidden or too small), nor for a
   briefing that reached fewer than `MIN_GROUP_SIZE`;
3. the difference attack: a figure that changed between two views is the acts of at least
   `MIN_GROUP_SIZE` people of its group since, never one person's nor a handful's;
4. the algebraic attack of `tests/test_disclosure_adversary.py` (its `RowSpace`) over every
   figure every view showed: no one person's status at a view, no change of one person's
   status, and no overlap cell smaller than `MIN_GROUP_SIZE` can be solved for.

What the test knows of who did what is the script it ran, with who acknowledged read back
from storage after each act (taking an attributed check may count as acknowledging). Not
covered here: anonymous checks (their counters drop a cell too small to keep, so "the truth"
is not per person), clarity ratings, comments and follow-ups; their figures are in
`tests/test_disclosure_views.py`. The last test shows the attacks 3 and 4 fail on a leaky
layer whose every figure attacks 1 and 2 accept.

Seeded (derandomised) and CI-sized (16 examples, under a second of CPU each);
`ADVERSARY_EXAMPLES=200` runs it long. A failure shrinks for a few minutes: each example is a
whole bot.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import disclosure
from bot.app import LineOfSight
from bot.comprehension import RETAKE_ACTION, TAKE_ACTION
from bot.config import Config
from bot.disclosure import ACKS, SEPARATOR, Figures, Live
from bot.home import REFRESH_JOB as HOME_REFRESH_JOB
from bot.storage.figures import NO_TEAM
from handlers.briefings import ACK_ACTION
from handlers.checks import chart_actions
from handlers.checks.digest import JOB as DIGEST_JOB
from handlers.checks.results import CHART_ACTION as FUNNEL_CHART
from handlers.checks.trends import CHART_ACTION as TREND_CHART
from slack_standin import RateLimits, SlackDriver, SlackStandIn, Workspace
from tests.clocks import Clock
from tests.conftest import (
    APP_TOKEN,
    BOT_PER_MINUTE,
    BOT_TOKEN,
    ENGAGEMENT_LEAD,
    POST_BURST,
    POST_PER_MINUTE,
    SIGNING_SECRET,
    publish_confirmed,
)
from tests.test_disclosure_adversary import RowSpace

EXAMPLES = int(os.environ.get("ADVERSARY_EXAMPLES", "16"))
LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 11, 1, 12, tzinfo=LONDON)  # a Sunday; DIGEST_AT is Monday 09:00
LEAD = ENGAGEMENT_LEAD
# Briefings and teams are named without digits, so every digit in a view is a figure, a
# time, or a number the parser knows.
BRIEFINGS = ("alpha-notice", "bravo-notice", "charlie-notice")
TITLES = {b: b.replace("-", " ").capitalize() for b in BRIEFINGS}  # "Alpha notice"
TEAM_HANDLES = ("@north-team", "@south-team", "@east-team")
TEAM_IDS = ("S0XTA", "S0XTB", "S0XTC")
OPTIONS = ("The team manager", "The emergency duty team", "The police")
RIGHT = 1


def briefing_text(briefing: str, acknowledge: bool, check: bool) -> str:
    lines = [
        "---",
        f"id: {briefing}",
        f"title: {TITLES[briefing]}",
        'audience: ["@social-workers"]',
        "deliver: dm",
        f"acknowledge: {'true' if acknowledge else 'false'}",
    ]
    if check:
        lines += [
            "check:",
            "  closes_after: 60d",
            "  questions:",
            "    - ask: Who takes a new referral out of hours?",
            "      options: [" + ", ".join(f'"{o}"' for o in OPTIONS) + "]",
            f'      answer: "{OPTIONS[RIGHT]}"',
            "      explain: Out of hours, new referrals go to the emergency duty team.",
        ]
    return "\n".join([*lines, "---", "The duty system changes on Monday.", ""])


# -- the scenario ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    min_group: int
    staff: int  # social workers, U0SW01…
    teams: tuple[frozenset[int], ...]  # by index into the social workers
    briefings: tuple[tuple[bool, bool], ...]  # (acknowledge, check), in publishing order
    steps: tuple[tuple[Any, ...], ...]


VIEWS = (
    "trends",
    "trends_team",
    "home",
    "digest",
    "csv",
    "results",
    "trend_chart",
    "team_chart",
    "funnel",
)


# Mostly acts, so that figures move between views; about one step in four is a view.
STEP_KINDS = ("ack",) * 4 + ("take",) * 4 + ("view",) * 3 + ("publish", "move")


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    min_group = draw(st.integers(min_value=3, max_value=4))
    staff = draw(st.integers(min_value=2 * min_group, max_value=16))
    people = st.integers(min_value=0, max_value=staff - 1)
    teams = tuple(
        frozenset(draw(st.lists(people, min_size=1, max_size=staff, unique=True)))
        for _ in range(draw(st.integers(min_value=2, max_value=3)))
    )
    kinds = st.sampled_from([(True, False), (False, True), (True, True)])
    briefings = tuple(draw(st.lists(kinds, min_size=1, max_size=len(BRIEFINGS))))
    which = st.integers(min_value=0, max_value=len(briefings) - 1)
    choice = st.integers(min_value=0, max_value=len(OPTIONS) - 1)
    each = {
        "ack": st.tuples(st.just("ack"), people, which),
        "take": st.tuples(st.just("take"), people, which, choice, st.one_of(choice, st.none())),
        "view": st.tuples(st.just("view"), st.sampled_from(VIEWS), which, st.integers(0, 2)),
        "publish": st.tuples(st.just("publish")),
        "move": st.tuples(st.just("move"), people, st.integers(0, 2)),
    }
    step = st.sampled_from(STEP_KINDS).flatmap(lambda kind: each[kind])
    steps = tuple(draw(st.lists(step, min_size=20, max_size=90)))
    return Scenario(min_group, staff, teams, briefings, steps)


# -- running it against the stand-in ---------------------------------------------------------


@dataclass
class Capture:
    """One view as the lead saw it: its text, the figures the charts were asked to draw, and
    (filled in afterwards) what the parser made of it and what the layer had released."""

    kind: str
    step: int
    at: datetime  # the clock as set for the step
    text: str = ""
    csv_rows: list[dict[str, str]] | None = None
    charts: list[tuple[str, Any]] = field(default_factory=list)
    layer: dict[str, tuple[Figures, Figures | None]] = field(default_factory=dict)
    cells: dict[str, dict[tuple[str, str], str]] = field(default_factory=dict)


@dataclass
class World:
    """What the test knows: who is in which team, what was published, and every act."""

    scenario: Scenario
    workers: list[str]
    # Each briefing's teams for each person, as the bot took them when it was sent.
    pattern: dict[str, dict[str, frozenset[str]]] = field(default_factory=dict)
    published: list[str] = field(default_factory=list)
    # (step, briefing, person, measure, value): took/first_time/q:0:<o> come together.
    events: list[tuple[int, str, str, str, int]] = field(default_factory=list)
    times: list[datetime] = field(default_factory=list)  # each step's clock
    captures: list[Capture] = field(default_factory=list)
    home: str = ""  # the lead's Home as last captured

    def done(self, briefing: str, person: str, measure: str) -> bool:
        return any(e[1:4] == (briefing, person, measure) for e in self.events)

    def status(self, briefing: str, person: str, measure: str, step: int | None) -> int:
        """The person's count for `measure` as of the end of `step` (None: before anything)."""
        if step is None:
            return 0
        return sum(
            v
            for s, b, p, m, v in self.events
            if s <= step and (b, p, m) == (briefing, person, measure)
        )

    def step_of(self, released_at: str) -> int:
        """The step whose clock a release time falls in (steps are a minute apart or more)."""
        at = datetime.fromisoformat(released_at)
        return max(n for n, t in enumerate(self.times) if t <= at)


def workspace_for(scenario: Scenario) -> tuple[Workspace, list[str]]:
    ws = Workspace.sample(n_staff=scenario.staff + 6)
    workers = sorted(ws.usergroups["S0SWS"].users)
    for k, members in enumerate(scenario.teams):
        handle = TEAM_HANDLES[k]
        ws.add_usergroup(
            TEAM_IDS[k],
            handle=handle[1:],
            name=handle[1:].replace("-", " ").title(),
            users=[workers[i] for i in sorted(members)],
        )
    return ws, workers


def config_for(scenario: Scenario, slack: SlackStandIn, folder: Path) -> Config:
    content = folder / "content"
    (content / "briefings").mkdir(parents=True)
    for briefing, (acknowledge, check) in zip(BRIEFINGS, scenario.briefings, strict=False):
        text = briefing_text(briefing, acknowledge, check)
        (content / "briefings" / f"{briefing}.md").write_text(text, encoding="utf-8")
    teams = ",".join(TEAM_HANDLES[: len(scenario.teams)])
    return Config.from_env(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_PATH": str(folder / "los.db"),
            "CONTENT_DIR": str(content),
            "SENIOR_MANAGERS": "@senior-managers",
            "ENGAGEMENT_LEADS": "@engagement-leads",
            "OUTBOX_PER_MINUTE": str(BOT_PER_MINUTE),
            "MIN_GROUP_SIZE": str(scenario.min_group),
            "TEAMS": teams,
        },
        dotenv=None,
    )


@contextmanager
def charts_recorded(into: list[tuple[str, Any]]) -> Iterator[None]:
    """What each chart is asked to draw, recorded where chart_actions.py calls the pure
    renderers (and no PNG drawn: a few bytes stand for it)."""

    def trend(points: Any, **kwargs: Any) -> bytes:
        into.append(("trend", (kwargs.get("title", ""), list(points))))
        return b"\x89PNG trend"

    def funnel(title: str, steps: Any, **kwargs: Any) -> bytes:
        into.append(("funnel", (title, list(steps))))
        return b"\x89PNG funnel"

    with (
        mock.patch.object(chart_actions, "render_trend", trend),
        mock.patch.object(chart_actions, "render_funnel", funnel),
    ):
        yield


def block_text(blocks: list[dict[str, Any]] | None) -> str:
    """Every text a person reads in these blocks, one per line."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
                out.append(node["text"])
                return
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks or [])
    return "\n".join(out)


def responses(slack: SlackStandIn) -> list[Any]:
    return [s for s in slack.seen_by(LEAD) if s.kind == "response"]


async def command(driver: SlackDriver, bot: LineOfSight, text: str) -> Any:
    slack = driver.standin
    since = len(responses(slack))
    await driver.slash_command(LEAD, "/engage", text)
    await bot.work.idle()
    seen = responses(slack)[since:]
    assert len(seen) == 1, (text, seen)
    return seen[0]


def copy_of(slack: SlackStandIn, person: str, briefing: str) -> Any:
    [copy] = [m for m in slack.messages(person) if m.blocks and TITLES[briefing] in str(m.blocks)]
    return copy


def picked(choice: int) -> dict[str, Any]:
    return {"q0": {"answer": {"type": "radio_buttons", "selected_option": {"value": str(choice)}}}}


async def take(
    driver: SlackDriver,
    bot: LineOfSight,
    person: str,
    briefing: str,
    choice: int,
    retake: int | None,
) -> bool:
    """Take the check; retake it from the feedback when offered. Whether they retook it."""
    slack = driver.standin
    await driver.click(person, copy_of(slack, person, briefing), TAKE_ACTION)
    await bot.work.idle()
    [view] = slack.views_for(person)
    await driver.submit_view(person, view, picked(choice))
    await bot.work.idle()
    [feedback] = slack.views_for(person)
    retook = False
    if retake is not None and RETAKE_ACTION in str(feedback):
        await driver.click(person, feedback, RETAKE_ACTION)
        await bot.work.idle()
        [again] = slack.views_for(person)
        await driver.submit_view(person, again, picked(retake))
        await bot.work.idle()
        [feedback] = slack.views_for(person)
        retook = True
    await driver.close_view(person, feedback)
    return retook


async def digest_runs(bot: LineOfSight) -> int:
    return await bot.storage.call(
        lambda db: db.execute("SELECT COUNT(*) FROM digest_runs").fetchone()[0]
    )


async def play(scenario: Scenario) -> World:
    """Run the scenario against a fresh stand-in and bot; every view captured."""
    ws, workers = workspace_for(scenario)
    world = World(scenario, workers)
    slack = SlackStandIn(
        ws,
        bot_token=BOT_TOKEN,
        app_token=APP_TOKEN,
        signing_secret=SIGNING_SECRET,
        rate_limits=RateLimits(
            post_workspace_per_minute=POST_PER_MINUTE, post_workspace_burst=POST_BURST
        ),
    )
    await slack.start(host="127.0.0.1", port=0)
    clock = Clock(START)
    with tempfile.TemporaryDirectory() as folder:
        bot = LineOfSight(config_for(scenario, slack, Path(folder)), clock=clock)
        await bot.start()
        runner = await bot.listen("127.0.0.1", 0)
        try:
            for _ in range(250):  # the digest job's first run (at start) records the week
                if await digest_runs(bot):
                    break
                await asyncio.sleep(0.02)
            async with SlackDriver(
                slack, bot_url=f"{bot.base_url}/slack/events", signing_secret=SIGNING_SECRET
            ) as driver:
                steps = [("publish",), *scenario.steps]
                for n, step in enumerate(steps):
                    await act(world, driver, bot, clock, n, step)
                    # The Home refresh job, at each step rather than every 30 s of real time.
                    await bot.scheduler.run_now(HOME_REFRESH_JOB)
                    await home_republished(world, bot, slack, n)
                await bot.work.idle()
            assert slack.interaction_errors == []
        finally:
            await runner.cleanup()
            await bot.stop()
            await slack.stop()
    return world


async def home_republished(world: World, bot: LineOfSight, slack: SlackStandIn, n: int) -> None:
    """Home is a view too when the bot republishes it unasked (its refresh job, after acts
    that change it): the lead's, whenever it is not as last captured."""
    text = block_text((slack.home_view(LEAD) or {}).get("blocks"))
    if text and text != world.home:
        world.home = text
        capture = Capture("home (republished)", n, world.times[n], text)
        world.captures.append(capture)
        await read_layer(world, bot, capture)


async def acknowledged(world: World, bot: LineOfSight, n: int) -> None:
    """Who has acknowledged what, as stored: pressing Acknowledge, or (where the bot counts it
    so) taking the check of a briefing that asks for acknowledgement. New ones are this step's."""
    stored = await bot.storage.call(
        lambda db: db.execute("SELECT briefing_id, user_id FROM acknowledgements").fetchall()
    )
    for briefing, person in sorted(stored):
        if not world.done(briefing, person, "acknowledged"):
            world.events.append((n, briefing, person, "acknowledged", 1))


def teams_now(slack: SlackStandIn, world: World) -> dict[str, frozenset[str]]:
    """Each social worker's teams in the workspace now (none: "not in a listed team")."""
    groups = slack.workspace.usergroups
    return {
        p: frozenset(
            TEAM_HANDLES[k]
            for k in range(len(world.scenario.teams))
            if p in groups[TEAM_IDS[k]].users
        )
        or frozenset({NO_TEAM})
        for p in world.workers
    }


async def teams_taken(
    bot: LineOfSight, briefing: str, workers: list[str]
) -> dict[str, frozenset[str]]:
    """Each person's teams as the bot took them when it sent the briefing."""
    rows = await bot.storage.call(
        lambda db: db.execute(
            "SELECT t.user_id, t.team FROM broadcast_teams t JOIN broadcasts b"
            " ON b.id = t.broadcast_id WHERE b.briefing_id = ? AND b.purpose = 'briefing'",
            [briefing],
        ).fetchall()
    )
    taken: dict[str, set[str]] = {}
    for person, team in rows:
        taken.setdefault(person, set()).add(team)
    return {p: frozenset(taken.get(p, ())) or frozenset({NO_TEAM}) for p in workers}


def next_monday_nine(after: datetime) -> datetime:
    local = after.astimezone(LONDON)
    day = local.date() + timedelta(days=(7 - local.weekday()) % 7 or 7)
    return datetime(day.year, day.month, day.day, 9, 1, tzinfo=LONDON)


async def act(
    world: World, driver: SlackDriver, bot: LineOfSight, clock: Clock, n: int, step: tuple[Any, ...]
) -> None:
    """One step of the script, at its own minute (a digest: at the next Monday 09:01)."""
    slack = driver.standin
    last = world.times[-1] if world.times else START - timedelta(minutes=1)
    now = next_monday_nine(last) if step[:2] == ("view", "digest") else last + timedelta(minutes=1)
    clock.now = now
    world.times.append(now)
    kinds = world.scenario.briefings
    if step[0] == "publish":
        if len(world.published) < len(kinds):
            briefing = BRIEFINGS[len(world.published)]
            await publish_confirmed(driver, bot, f"publish {briefing}")
            assert await bot.outbox.idle(30)
            world.published.append(briefing)
            world.pattern[briefing] = await teams_taken(bot, briefing, world.workers)
            assert world.pattern[briefing] == teams_now(slack, world), "not the teams at sending"
        return
    if step[0] == "move":  # someone joins or leaves a team: briefings sent later see it
        group = TEAM_IDS[step[2] % len(world.scenario.teams)]
        person, users = world.workers[step[1]], list(slack.workspace.usergroups[group].users)
        users = [u for u in users if u != person] if person in users else [*users, person]
        tell = getattr(driver, "set_usergroup_users", None)  # and Slack tells the app, if
        if tell is not None:  # the stand-in can say so (its events)
            await tell(group, users)
            await bot.work.idle()
        else:
            slack.workspace.usergroups[group].users[:] = users
        return
    if step[0] in ("ack", "take"):
        briefing = BRIEFINGS[step[2]]
        acknowledge, check = kinds[step[2]]
        measure = "acknowledged" if step[0] == "ack" else "took"
        # The drawn person, among those yet to do it (so that every act counts).
        todo = [p for p in world.workers if not world.done(briefing, p, measure)]
        if briefing not in world.published or not todo:
            return
        person = todo[step[1] % len(todo)]
        if step[0] == "ack" and acknowledge and not world.done(briefing, person, "acknowledged"):
            await driver.click(person, copy_of(slack, person, briefing), ACK_ACTION)
            await bot.work.idle()
        elif step[0] == "take" and check and not world.done(briefing, person, "took"):
            choice, retake = step[3], step[4]
            retook = await take(driver, bot, person, briefing, choice, retake)
            world.events += [
                (n, briefing, person, "took", 1),
                (n, briefing, person, "first_time", int(choice == RIGHT)),
                (n, briefing, person, f"q:0:{choice}", 1),
            ]
            if retook:
                assert retake is not None
                world.events += [
                    (n, briefing, person, "retook", 1),
                    (n, briefing, person, "after_retake", int(retake == RIGHT)),
                ]
        await acknowledged(world, bot, n)
        if step[0] == "ack" and acknowledge:
            assert world.done(briefing, person, "acknowledged")
        return
    await view(world, driver, bot, n, step[1], step[2], step[3])


async def view(
    world: World, driver: SlackDriver, bot: LineOfSight, n: int, kind: str, which: int, extra: int
) -> None:
    slack = driver.standin
    briefing = BRIEFINGS[which] if which < len(world.scenario.briefings) else BRIEFINGS[0]
    capture = Capture(kind, n, world.times[n])
    if kind in ("trends", "trend_chart"):
        seen = await command(driver, bot, "trends")
        capture.text = (seen.text or "") + "\n" + block_text(seen.blocks)
        if kind == "trend_chart" and seen.blocks:
            world.captures.append(capture)
            capture = Capture(kind, n, world.times[n])
            await chart(driver, bot, capture, seen, TREND_CHART)
    elif kind in ("trends_team", "team_chart"):
        team = TEAM_HANDLES[extra % len(world.scenario.teams)]
        seen = await command(driver, bot, f"trends {team}")
        capture.text = (seen.text or "") + "\n" + block_text(seen.blocks)
        if kind == "team_chart" and seen.blocks:
            world.captures.append(capture)
            capture = Capture(kind, n, world.times[n])
            await chart(driver, bot, capture, seen, TREND_CHART)
    elif kind == "home":
        await driver.app_home_opened(LEAD)
        await bot.work.idle()
        capture.text = world.home = block_text((slack.home_view(LEAD) or {}).get("blocks"))
    elif kind == "digest":
        before = len(digests(slack))
        await bot.scheduler.run_now(DIGEST_JOB)
        assert await bot.outbox.idle(30)
        new = digests(slack)[before:]
        assert len(new) <= 1
        capture.text = "\n".join((m.text or "") + "\n" + block_text(m.blocks) for m in new)
    elif kind in ("results", "funnel"):
        seen = await command(driver, bot, f"results {briefing}")
        capture.text = (seen.text or "") + "\n" + block_text(seen.blocks)
        if kind == "funnel" and FUNNEL_CHART in str(seen.blocks):
            world.captures.append(capture)
            capture = Capture(kind, n, world.times[n])
            await chart(driver, bot, capture, seen, FUNNEL_CHART)
    elif kind == "csv":
        before = {f for f, u in slack.files.items() if u.completed}
        seen = await command(driver, bot, f"export {briefing}")
        new = [u for f, u in slack.files.items() if u.completed and f not in before]
        capture.text = (seen.text or "") + "\n" + block_text(seen.blocks)
        if new:
            [upload] = new
            data = (upload.data or b"").decode("utf-8")
            assert data.startswith("\ufeff")
            capture.csv_rows = list(csv.DictReader(io.StringIO(data[1:])))
    world.captures.append(capture)
    for each in world.captures:
        if each.step == n and not each.layer:
            await read_layer(world, bot, each)


async def chart(
    driver: SlackDriver, bot: LineOfSight, capture: Capture, seen: Any, action: str
) -> None:
    """Click **Chart** under a view: what it is asked to draw, and what the lead is told."""
    since = len(responses(driver.standin))
    with charts_recorded(capture.charts):
        await driver.click(LEAD, seen, action)
        await bot.work.idle()
    told = responses(driver.standin)[since:]
    capture.text = "\n".join((s.text or "") + "\n" + block_text(s.blocks) for s in told)


def digests(slack: SlackStandIn) -> list[Any]:
    return [m for m in slack.messages(LEAD) if "Your weekly digest" in (m.text or "")]


# -- reading the layer just after a view ----------------------------------------------------


def involved(world: World, capture: Capture) -> list[str]:
    """The briefings a view shows (by title, in its text, its charts or its file)."""
    seen = capture.text + str(capture.charts) + str(capture.csv_rows or "")
    return [b for b in world.published if TITLES[b] in seen]


async def read_layer(world: World, bot: LineOfSight, capture: Capture) -> None:
    """What the layer releases for the view's briefings now (nothing has happened since the
    view), and when each of their cells was last released."""
    now = bot.deps.clock()
    for briefing in involved(world, capture):
        figures = await bot.storage.disclosure.check(briefing, 1, now)
        if figures is not None:
            capture.layer[briefing] = (figures.acks, figures.answers)
        else:
            acks = await bot.storage.disclosure.acknowledgements(briefing, 1, now)
            capture.layer[briefing] = (acks, None)
        rows = await bot.storage.call(
            lambda db, b=briefing: db.execute(
                "SELECT family, cell, released_at FROM disclosure_cells WHERE subject IN (?, ?)",
                [f"acks:{b}:1", f"check:{b}:1"],
            ).fetchall()
        )
        capture.cells[briefing] = {(f, c): at for f, c, at in rows}


# -- parsing every figure a view shows -------------------------------------------------------

# A claim: (briefing, group or None for everyone, measure, value). Measures are the layer's
# (acknowledged, took, first_time, retook, after_retake, q:0:<option>) and `reached`.
Claim = tuple[str, str | None, str, int]
LABELS = {
    "Acknowledged": "acknowledged",
    "Took the check": "took",
    "Understood first time": "first_time",
    "After the retake": "after_retake",
    "Understood after the retake": "after_retake",
}
BASES = {"reached": "reached", "who took it": "took", "who retook it": "retook"}
MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
GROUP = r"(@[a-z-]+|not in a listed team)"
# Numbers that are not figures about staff: times, versions, list numbers, the smallest
# group and the window constants. A view's code spans (`/engage trends 30d`, bars) too.
NOT_FIGURES = [
    r"`[^`]*`",
    rf"\d{{1,2}} (?:{MONTHS})[a-z]* \d{{4}}(?:, \d{{2}}:\d{{2}})?",
    r"\d{2}:\d{2}",
    r"\(version \d+\)",
    r"question \d+",
    r"^\*?\d+\. ",
    r"(?:next|last) \d+ days",
    r"\d+ (?:new briefings?|checks? closing|new surgery questions?|practice gaps?)\b",
]


def option_of(text: str) -> int:
    return OPTIONS.index(text)


class Parser:
    """Turns a view's text into claims, removing each figure it reads; whatever digit is left
    is a number the parser does not know, and fails the test."""

    def __init__(self, world: World, min_group: int):
        self.world = world
        self.m = min_group
        self.claims: list[Claim] = []
        self.held_groups: list[tuple[str, str]] = []  # (briefing, team) said held back
        self.percents: list[tuple[int, int, int]] = []  # (value, base, percent shown)

    def claim(self, briefing: str, group: str | None, measure: str, value: str) -> None:
        self.claims.append((briefing, group, measure, int(value.replace(",", ""))))

    def text(self, text: str, briefing: str | None = None) -> None:
        current = briefing
        titles = {f"*{t}*": b for b, t in TITLES.items()}
        for line in text.splitlines():
            for title, b in titles.items():
                if line.startswith(title):
                    current = b
            misread = re.search(r"question \d+ of \*([^*]+)\*", line)
            if misread:
                current_line = {t: b for b, t in TITLES.items()}[misread.group(1)]
            else:
                current_line = current
            rest = self.line(line, current_line)
            for pattern in NOT_FIGURES:
                rest = re.sub(pattern, "", rest)
            rest = re.sub(
                rf"(?:fewer than|at least|groups of|until|reached fewer than) {self.m}\b", "", rest
            )
            rest = re.sub(rf"\b{self.m} or more", "", rest)
            assert not re.search(r"\d", rest), f"a number the parser does not know: {line!r}"

    def line(self, line: str, b: str | None) -> str:
        group = None
        lead = re.match(rf"^(?:_{GROUP}_:|• {GROUP}:)", line)
        if lead:
            group = lead.group(1) or lead.group(2)
        said = re.match(rf"^(?:_{GROUP}: |• {GROUP}: )(fewer than|held back|hidden)", line)
        if said and b is not None:
            self.held_groups.append((b, said.group(1) or said.group(2)))

        def take(pattern: str, each: Any) -> None:
            nonlocal line
            for found in re.finditer(pattern, line):
                assert b is not None, f"a figure outside any briefing: {line!r}"
                each(found)
            line = re.sub(pattern, "", line)

        def of(found: re.Match[str]) -> None:
            measure = LABELS[found.group(1)]
            base = BASES[found.group(4)]
            self.claim(b, group, measure, found.group(2))
            self.claim(b, group, base, found.group(3))
            self.percent(found.group(2), found.group(3), found.group(5))

        take(
            r"(Acknowledged|Took the check|Understood first time|After the retake|"
            r"Understood after the retake): \*([\d,]+)\* of the ([\d,]+) (reached|who took it|"
            r"who retook it) \((\d+)%\)",
            of,
        )
        take(
            r"Reached:? \*([\d,]+)\* people", lambda f: self.claim(b, group, "reached", f.group(1))
        )
        # Results' "By team" and trends' team line.
        take(r"reached ([\d,]+)", lambda f: self.claim(b, group, "reached", f.group(1)))

        def team_ack(f: re.Match[str]) -> None:
            self.claim(b, group, "acknowledged", f.group(1))
            self.percent_of(f.group(1), f.group(2))

        take(r"acknowledged ([\d,]+) \((\d+)%\)", team_ack)

        def team_took(f: re.Match[str]) -> None:
            self.claim(b, group, "took", f.group(1))
            self.percent_of(f.group(1), f.group(2))

        take(r"took the check ([\d,]+) \((\d+)%\)", team_took)

        def team_first(f: re.Match[str]) -> None:
            self.claim(b, group, "first_time", f.group(1))
            self.claim(b, group, "took", f.group(2))
            self.percent(f.group(1), f.group(2), f.group(3))

        take(r"understood first time ([\d,]+) of the ([\d,]+) who took it \((\d+)%\)", team_first)

        # A question: results' line and trends' "most often misunderstood".
        def correct(f: re.Match[str]) -> None:
            self.claim(b, None, f"q:0:{RIGHT}", f.group(2))
            self.claim(b, None, "took", f.group(3))
            self.percent(f.group(2), f.group(3), f.group(1))

        take(r"(\d+)% correct \(([\d,]+) of the ([\d,]+) who answered\)", correct)

        def wrong(f: re.Match[str]) -> None:
            answered, wrong_ = int(f.group(2)), int(f.group(1))
            self.claim(b, None, f"q:0:{RIGHT}", str(answered - wrong_))
            self.claim(b, None, "took", f.group(2))
            self.percent(f.group(1), f.group(2), f.group(3))

        take(r"wrong for \*([\d,]+)\* of the ([\d,]+) who answered \((\d+)%\)", wrong)

        def misconception(f: re.Match[str]) -> None:
            self.claim(b, None, f"q:0:{option_of(f.group(1))}", f.group(2))
            self.claim(b, None, "took", f.group(3))
            if f.group(4):
                self.percent(f.group(2), f.group(3), f.group(4))

        take(
            r"most chosen wrong answer: “([^”]*)” \(([\d,]+) of ([\d,]+)(?:, (\d+)%)?\)",
            misconception,
        )
        return line

    def percent(self, value: str, base: str, shown: str) -> None:
        self.percents.append((int(value.replace(",", "")), int(base.replace(",", "")), int(shown)))

    def percent_of(self, value: str, shown: str) -> None:
        """A team's percentage whose base is its reach, said on the same line."""
        reach = [c[3] for c in self.claims if c[2] == "reached"][-1]
        self.percent(value, str(reach), shown)

    def csv(self, rows: list[dict[str, str]]) -> None:
        names = {
            "reached": "reached",
            "acknowledged": "acknowledged",
            "took_check": "took",
            "understood_first_time": "first_time",
            "understood_after_retake": "after_retake",
        }
        bases = {
            "reached": "reached",
            "took the check": "took",
            "retook it": "retook",
            "answered it": "took",
        }
        for row in rows:
            b = row["briefing_id"]
            team = row["team"].lstrip("'")
            group = None if team == "all" else team
            if row["suppressed"] == "true":
                assert row["value"] == row["base"] == row["percent"] == "", row
                if group is not None and row["figure"] == "reached":  # the whole team held back
                    self.held_groups.append((b, group))
                continue
            figure = row["figure"]
            if figure in names:
                measure = names[figure]
            elif figure == "q1_correct":
                measure = f"q:0:{RIGHT}"
            elif figure == "q1_most_chosen_wrong":
                if not row["answer"]:
                    assert row["value"] == "0", row
                    self.claim(b, group, "took", row["base"])
                    continue
                measure = f"q:0:{option_of(row['answer'])}"
            else:
                raise AssertionError(f"a figure the parser does not know: {row}")
            self.claim(b, group, measure, row["value"])
            if row["base"]:
                self.claim(b, group, bases[row["base_of"]], row["base"])
                if row["percent"]:
                    self.percent(row["value"], row["base"], row["percent"])

    def charts(self, charts: list[tuple[str, Any]]) -> None:
        """What a chart draws: each bar not held back, its figure and its base (a held-back
        bar, or one of nobody, is hatched with no number; see bot/charts.py `_bar`), and the
        funnel's axis, of everyone reached. A team's trend says which in its title."""
        by_title = {t: b for b, t in TITLES.items()}

        def bar(b: str, group: str | None, share: Any, measure: str, base: str) -> None:
            if share is not None and share.count is not None and share.base:
                self.claim(b, group, measure, str(share.count))
                self.claim(b, group, base, str(share.base))

        for kind, data in charts:
            if kind == "trend":
                title, points = data
                team = re.fullmatch(rf"Understanding over time: {GROUP}", title)
                group = team.group(1) if team else None
                assert team or title in ("", "Understanding over time"), title
                for point in points:
                    if point.shown:  # else one hatched bar: "reached fewer than N"
                        b = by_title[point.title]
                        bar(b, group, point.acknowledged, "acknowledged", "reached")
                        bar(b, group, point.understood, "first_time", "took")
            else:
                title, steps = data
                b = by_title[title]
                measures = ("reached", "acknowledged", "took", "first_time", "after_retake")
                bases = ("reached", "reached", "reached", "took", "retook")
                for step, measure, base in zip(steps, measures, bases, strict=True):
                    bar(b, None, step.share, measure, base)
                # The axis: "People (of the N reached)".
                self.claim(b, None, "reached", str(max(s.share.base for s in steps)))


def parse(world: World, capture: Capture) -> Parser:
    parser = Parser(world, world.scenario.min_group)
    parser.text(capture.text)
    if capture.csv_rows is not None:
        parser.csv(capture.csv_rows)
    parser.charts(capture.charts)
    return parser


# -- the attacker ---------------------------------------------------------------------------

FAMILY = {
    "acknowledged": "acks",
    "took": "answers",
    "first_time": "answers",
    **{f"q:0:{o}": "answers" for o in range(len(OPTIONS))},
    "retook": "retakes",
    "after_retake": "retakes",
}
EVENT = {"acks": "acknowledged", "answers": "took", "retakes": "retook"}


def members(world: World, briefing: str, group: str | None) -> list[str]:
    mine = world.pattern[briefing]
    return [p for p in world.workers if group is None or group in mine[p]]


def figures_for(capture: Capture, briefing: str, measure: str) -> Figures | None:
    acks, answers = capture.layer[briefing]
    return acks if FAMILY[measure] == "acks" else answers


def behind(world: World, capture: Capture, briefing: str, person: str, family: str) -> int | None:
    """The step as of which the figures this view showed counted `person`'s acts: the last
    release of their cell (None: never released)."""
    acks, answers = capture.layer[briefing]
    figures = acks if family == "acks" else answers
    assert figures is not None
    mine = world.pattern[briefing][person]
    cell = SEPARATOR.join(sorted(g for g in mine if g in figures.groups))
    at = capture.cells[briefing].get((family, cell))
    return None if at is None else world.step_of(at)


def truth(world: World, capture: Capture, briefing: str, group: str | None, measure: str) -> int:
    """What a figure must be: each of the group's people's acts as of their cell's release."""
    family = FAMILY[measure]
    return sum(
        world.status(briefing, p, measure, behind(world, capture, briefing, p, family))
        for p in members(world, briefing, group)
    )


def check_view(world: World, capture: Capture, parser: Parser) -> None:
    """Attacks 1 and 2 on one view: every number is a released one (and the truth as of its
    release); none is about a team or a briefing the layer held back."""
    where = f"{capture.kind} at step {capture.step}"
    for value, base, shown in parser.percents:
        assert base, (where, value, base, shown)
        assert round(100 * value / base) == shown, (where, value, base, shown)
    for b, group, measure, value in parser.claims:
        assert b in capture.layer, (where, b)
        acks, answers = capture.layer[b]
        if measure == "reached":
            released = [f for f in (acks, answers) if f is not None]
            assert all(f.shown for f in released), (where, b, "reach of a briefing too small")
            if group is None:
                assert value in {f.population for f in released}, (where, b, value)
            else:
                assert any(group in f.groups for f in released), (where, b, group, "held back")
                assert value in {f.group_reach[group] for f in released}, (where, b, group)
            continue
        figures = figures_for(capture, b, measure)
        assert figures is not None, (where, b, measure, "a check figure without a check")
        assert figures.shown, (where, b, measure, value, "the briefing reached too few")
        if group is None:
            layer = figures.total(measure)
        else:
            assert group in figures.groups, (where, b, group, measure, value, "a held-back team")
            layer = figures.group(group, measure)
        assert value == layer, (where, b, group, measure, f"shown {value}, released {layer}")
        assert value == truth(world, capture, b, group, measure), (where, b, group, measure)
    for b, group in parser.held_groups:
        acks, answers = capture.layer[b]
        assert not all(group in f.groups for f in (acks, answers) if f is not None), (
            where,
            b,
            group,
            "said held back, but released",
        )


def check_differences(world: World, parsed: list[tuple[Capture, Parser]]) -> None:
    """Attack 3: whatever changed between two views of one figure is the acts of at least
    MIN_GROUP_SIZE of its group's people since, each made by the later view."""
    m = world.scenario.min_group
    last: dict[tuple[str, str | None, str], tuple[int, Capture]] = {}
    for capture, parser in parsed:
        for b, group, measure, value in parser.claims:
            if measure == "reached":
                continue
            key = (b, group, measure)
            if key in last and last[key][0] != value:
                before = last[key][1]
                family = FAMILY[measure]
                event = EVENT[family]
                acted = [
                    p
                    for p in members(world, b, group)
                    if world.status(b, p, event, behind(world, capture, b, p, family))
                    != world.status(b, p, event, behind(world, before, b, p, family))
                ]
                assert len(acted) >= m, (
                    f"{key} went from {last[key][0]} ({before.kind}, step {before.step}) to "
                    f"{value} ({capture.kind}, step {capture.step}) on the acts of {acted}"
                )
                assert all(world.status(b, p, event, capture.step) for p in acted)
            last[key] = (value, capture)


def check_algebra(world: World, parsed: list[tuple[Capture, Parser]]) -> None:
    """Attack 4: every figure every view showed, as equations over "person p's status as of
    step s", row-reduced together per briefing and measure (`RowSpace`): none pins one
    person's status, one person's change, or an overlap cell smaller than MIN_GROUP_SIZE."""
    m, n = world.scenario.min_group, len(world.workers)
    index = {p: i for i, p in enumerate(world.workers)}
    small: dict[str, list[list[str]]] = {}
    for b, mine in world.pattern.items():
        cells: dict[frozenset[str], list[str]] = {}
        for p in world.workers:
            cells.setdefault(mine[p], []).append(p)
        small[b] = [people for people in cells.values() if len(people) < m]
    spaces: dict[tuple[str, str], RowSpace] = {}
    steps: dict[tuple[str, str], set[int]] = {}
    seen: set[tuple[Any, ...]] = set()
    for capture, parser in parsed:
        for b, group, measure, _value in parser.claims:
            if measure == "reached":
                continue
            row: dict[int, int] = {}
            for p in members(world, b, group):
                at = behind(world, capture, b, p, FAMILY[measure])
                if at is not None:
                    row[at * n + index[p]] = 1
                    steps.setdefault((b, measure), set()).add(at)
            key = (b, measure, tuple(sorted(row)))
            if key not in seen:
                seen.add(key)
                spaces.setdefault((b, measure), RowSpace()).add(row)
    for (b, measure), space in spaces.items():
        known = sorted(steps.get((b, measure), ()))
        for s in known:
            for p in world.workers:
                assert not space.determines({s * n + index[p]: 1}), (b, measure, p, s)
                for r in known:
                    if r < s:
                        change = {s * n + index[p]: 1, r * n + index[p]: -1}
                        assert not space.determines(change), (b, measure, p, r, s)
            for people in small[b]:
                cell = {s * n + index[p]: 1 for p in people}
                assert not space.determines(cell), (b, measure, people, s)


def attack(world: World) -> None:
    parsed = [(c, parse(world, c)) for c in world.captures]
    for capture, parser in parsed:
        check_view(world, capture, parser)
    check_differences(world, parsed)
    check_algebra(world, parsed)


def seeded(test: Any) -> Any:
    return settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )(given(scenarios())(test))


@seeded
def test_every_view_shows_only_released_figures_that_no_attack_can_undo(scenario: Scenario) -> None:
    attack(asyncio.run(play(scenario)))


def test_the_attacker_catches_a_layer_that_releases_one_persons_act():
    """The attacks above can fail: figures released in steps of one (a leaky layer, which a
    view showing raw counts amounts to), shown before and after one person acknowledges, in
    total and for the one-person team they are in, are caught by the difference attack and by
    the algebra, though each equals what that layer released and the truth."""
    workers = ["U0SW01", "U0SW02", "U0SW03", "U0SW04"]
    pattern = {w: frozenset({NO_TEAM}) for w in workers} | {"U0SW01": frozenset({"@north-team"})}
    scenario = Scenario(3, 4, (frozenset({0}),), ((True, False),), ())
    world = World(scenario, workers, {"alpha-notice": pattern}, published=["alpha-notice"])
    world.times = [START + timedelta(minutes=k) for k in range(3)]
    world.events = [(1, "alpha-notice", "U0SW01", "acknowledged", 1)]
    state = disclosure.State()
    parsed = []
    for step, acked in ((0, 0), (2, 1)):
        reach = {frozenset({"@north-team"}): 1, frozenset({NO_TEAM}): 3}
        live = Live(reach, {frozenset({"@north-team"}): {"acknowledged": acked}})
        disclosure.advance(state, live, (ACKS,), 1, world.times[step].isoformat())
        capture = Capture("trends", step, world.times[step])
        capture.layer["alpha-notice"] = (disclosure.figures(state, live, 1), None)
        capture.cells["alpha-notice"] = {k: r.at for k, r in state.cells.items() if r.at}
        parser = Parser(world, 3)
        parser.claims = [
            ("alpha-notice", None, "acknowledged", acked),
            ("alpha-notice", "@north-team", "acknowledged", acked),
        ]
        check_view(world, capture, parser)  # what the layer released, and the truth
        parsed.append((capture, parser))
    with pytest.raises(AssertionError, match=r"went from 0 .* to 1 .* on the acts of \['U0SW01'\]"):
        check_differences(world, parsed)
    with pytest.raises(AssertionError, match="U0SW01"):
        check_algebra(world, parsed)
