"""The leads' view end to end (issue 17's "Must show"): three briefings over three weeks to three
overlapping teams, against the stand-in, with the bot's own clock moved by the test.

`/engage trends` (and `/engage trends @team`), a lead's Home, the weekly digest and the CSV each
show figures equal to the stored facts *as the disclosure layer releases them*. The expected
figures are worked out here from what the test did (who acknowledged, who took each check and how
it went, who retook it, in which team), by the rule bot/disclosure.py documents: a person's cell
is the set of released teams they are in; a cell's family of figures (acknowledgements; first
attempts with each question's answers; retakes) is released afresh at a view only when at least
`MIN_GROUP_SIZE` more people in that cell have acted since its last release, and then shows the
cell's figures as they stood; a total is the sum of released cells, a team's the sum of the cells
it is in. The same figures are checked against `bot.storage.disclosure`'s own released figures,
so every view is held to one set of numbers. Held back stays held back in every view.

Then a lead's Home is published afresh when another lead declines a surgery question, and the
digest goes once a week across a restart (same week: no second; next week: one).

The service (26 social workers; MIN_GROUP_SIZE=5; Mondays are the 2nd, 9th, 16th and 23rd):

    index   0-6    7-11          12-14   15-18                19-25
    teams   north  north, south  south   south, fostering     none ("not in a listed team")

North and south (12 each) overlap by five; fostering (four, all in south) is too small, so it is
never broken down. By the layer's choice (every group of MIN or more, unless a cell they make
would hold fewer), north, south and "not in a listed team" are released for a briefing to every
social worker: the cells are north only (7), both (5), south (7) and no team (7). A briefing to
@north-team and @south-team releases those two, with the same first three cells.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.app import LineOfSight
from bot.comprehension import RETAKE_ACTION, TAKE_ACTION
from bot.config import Config
from handlers.briefings import ACK_ACTION
from handlers.checks.digest import JOB
from handlers.surgery.blocks import DECLINE_ACTION
from slack_standin import SlackDriver, Workspace
from tests.clocks import Clock
from tests.conftest import (
    APP_TOKEN,
    BOT_PER_MINUTE,
    BOT_TOKEN,
    ENGAGEMENT_LEAD,
    SIGNING_SECRET,
    publish_confirmed,
    stored_question,
)

LONDON = ZoneInfo("Europe/London")
MIN = 5  # MIN_GROUP_SIZE here: not the default, so nothing below leans on 10
SECOND_LEAD = "U0TM02"  # a team manager who is also an engagement lead
LEADS = (ENGAGEMENT_LEAD, SECOND_LEAD)
SW = [f"U0SW{n:02d}" for n in range(1, 27)]
NORTH, SOUTH, FOSTERING = "@north-team", "@south-team", "@fostering-team"
NO_TEAM = "not in a listed team"  # bot/storage/figures.py's name for those in no listed team
MEMBERS = {NORTH: SW[0:12], SOUTH: SW[7:19], FOSTERING: SW[15:19]}
NAMES = {NORTH: "North locality"}  # content/teams.yaml; the others show by handle
HELD = "·" * 12  # the dashboard's bar for a figure held back

DUTY = """---
id: duty-changes
title: Changes to the duty system
audience: ["@social-workers"]
deliver: dm
acknowledge: true
check:
  questions:
    - ask: Who takes a new referral out of hours?
      options: ["The team manager", "The emergency duty team", "Whoever is free", "The police"]
      answer: "The emergency duty team"
      explain: Out of hours, new referrals go to the emergency duty team.
    - ask: When does the new rota start?
      options: ["Monday", "Next month"]
      answer: "Monday"
      explain: It starts on Monday.
---
The duty system changes on Monday.
"""
ALLOWANCES = """---
id: fostering-allowances
title: New fostering allowances
audience: ["@north-team", "@south-team"]
deliver: dm
acknowledge: true
check:
  questions:
    - ask: When do the new allowances start?
      options: ["In December", "In January", "Next April"]
      answer: "In December"
      explain: They start in December.
---
Allowances rise from December.
"""
ROTA = """---
id: rota-reminder
title: The out-of-hours rota
audience: ["@social-workers"]
deliver: dm
acknowledge: true
check:
  questions:
    - ask: Who covers Sundays?
      options: ["The emergency duty team", "Nobody"]
      answer: "The emergency duty team"
      explain: The emergency duty team covers Sundays.
---
The rota is on the intranet.
"""


def at(day: int, hour: int = 9, minute: int = 0) -> datetime:
    """November 2026 in London (GMT)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=LONDON)


def shown_time(moment: datetime) -> str:
    """As the bot shows a time in TIMEZONE: `9 Nov 2026, 09:00`."""
    local = moment.astimezone(LONDON)
    return f"{local.day} {local:%b %Y, %H:%M}"


# -- what the layer should release, worked out from what the test did -----------------------

EVENT = {"acks": "acknowledged", "answers": "took", "retakes": "retook"}
Cell = frozenset[str]


@dataclass
class Briefing:
    """One briefing as the test sent it and as staff acted on it, and what the disclosure layer
    should have released of it at each view (`view`), by the documented rule."""

    id: str
    title: str
    short: str  # how its copy is found in a person's DMs
    reached: list[str]
    released: tuple[str, ...]  # the groups the layer must release (see the module's docstring)
    hidden: tuple[str, ...]
    asks: list[str]
    options: list[list[str]]
    right: tuple[int, ...]
    sent: str = ""
    acked: set[str] = field(default_factory=set)
    first: dict[str, tuple[int, ...]] = field(default_factory=dict)
    again: dict[str, tuple[int, ...]] = field(default_factory=dict)
    shown: dict[tuple[str, Cell], tuple[int, dict[str, int], datetime]] = field(
        default_factory=dict
    )

    def teams_of(self, person: str) -> set[str]:
        return {t for t, people in MEMBERS.items() if person in people} or {NO_TEAM}

    def cell(self, person: str) -> Cell:
        return frozenset(self.teams_of(person) & set(self.released))

    def truth(self) -> dict[tuple[str, Cell], Counter[str]]:
        """Every measure as it stands, by family and cell."""
        now: dict[tuple[str, Cell], Counter[str]] = defaultdict(Counter)
        for person in self.reached:
            cell = self.cell(person)
            if person in self.acked:
                now["acks", cell]["acknowledged"] += 1
            if person in self.first:
                answers = now["answers", cell]
                answers["took"] += 1
                answers["first_time"] += self.first[person] == self.right
                for q, option in enumerate(self.first[person]):
                    answers[f"q:{q}:{option}"] += 1
            if person in self.again:
                retakes = now["retakes", cell]
                retakes["retook"] += 1
                retakes["after_retake"] += self.again[person] == self.right
        return now

    def view(self, moment: datetime) -> None:
        """A view at `moment`: each cell's family moves only if MIN or more acted since."""
        for key, counts in self.truth().items():
            before = self.shown[key][0] if key in self.shown else 0
            if counts[EVENT[key[0]]] - before >= MIN:
                self.shown[key] = (counts[EVENT[key[0]]], dict(counts), moment)

    def total(self, measure: str) -> int:
        return sum(counts.get(measure, 0) for counts in self._released())

    def group(self, team: str, measure: str) -> int:
        return sum(c.get(measure, 0) for (_, cell), (_, c, _) in self.shown.items() if team in cell)

    def _released(self) -> Iterator[dict[str, int]]:
        return (counts for _, counts, _ in self.shown.values())

    def reach(self, team: str) -> int:
        return sum(team in self.teams_of(p) for p in self.reached)

    def as_of(self) -> str:
        return shown_time(max(moment for _, _, moment in self.shown.values()))

    def measures(self) -> set[str]:
        return {m for counts in self._released() for m in counts} | set(EVENT.values())

    def questions(self) -> list[tuple[int, int, str | None, int]]:
        """Each question as released: answered, correct, most chosen wrong answer and how many."""
        found = []
        for q, options in enumerate(self.options):
            counts = [self.total(f"q:{q}:{o}") for o in range(len(options))]
            wrong = [(n, o) for o, n in enumerate(counts) if o != self.right[q] and n]
            top = max(wrong, default=None)
            found.append(
                (
                    sum(counts),
                    counts[self.right[q]],
                    options[top[1]] if top else None,
                    top[0] if top else 0,
                )
            )
        return found


def of(n: int, base: int, whom: str) -> str:
    return f"*{n}* of the {base} {whom} ({round(100 * n / base)}%)"


def bar(part: int, whole: int) -> str:
    filled = round(12 * part / whole)
    return "█" * filled + "░" * (12 - filled)


def trend_lines(b: Briefing, team: str | None = None) -> str:
    """The briefing's lines in `/engage trends` (and the digest), from the expected figures."""
    n = len(b.reached)
    acked, took, retook = b.total("acknowledged"), b.total("took"), b.total("retook")
    reached = f"Reached *{n}* people · Acknowledged: " + (
        of(acked, n, "reached") if acked else f"held back until {MIN} or more have acknowledged"
    )
    if not took:
        check = (
            f"Took the check, understood first time: held back until {MIN} or more have taken it"
        )
    else:
        check = "Took the check: " + of(took, n, "reached")
        check += " · Understood first time: " + of(b.total("first_time"), took, "who took it")
        check += " · After the retake: " + (
            of(b.total("after_retake"), retook, "who retook it")
            if retook
            else f"held back until {MIN} or more have retaken it"
        )
    lines = [f"*{b.title}* — sent {b.sent}", reached, check]
    if team is not None:
        lines.append(team_line(b, team))
    return "\n".join([*lines, f"_As of {b.as_of()}_"])


def team_line(b: Briefing, team: str) -> str:
    name, size = NAMES.get(team, team), b.reach(team)
    if team in b.hidden:
        return f"_{name}: fewer than {MIN}, so that no smaller group's figures can be worked out_"
    held = f"held back until {MIN} or more in the team have"
    acked, took = b.group(team, "acknowledged"), b.group(team, "took")
    line = f"_{name}_: reached {size} · Acknowledged: "
    line += of(acked, size, "reached") if acked else f"{held} acknowledged"
    line += " · Took the check: " + (of(took, size, "reached") if took else f"{held} taken it")
    if took:
        line += " · Understood first time: " + of(b.group(team, "first_time"), took, "who took it")
    return line


def funnel_lines(b: Briefing) -> str:
    """The briefing's funnel on a lead's Home."""
    n = len(b.reached)
    acked, took, first = b.total("acknowledged"), b.total("took"), b.total("first_time")
    lines = [f"*{b.title}* · `{b.id}` — sent {b.sent}", f"`{bar(n, n)}` Reached: *{n}* people"]
    lines.append(
        f"`{bar(acked, n)}` Acknowledged: {of(acked, n, 'reached')}"
        if acked
        else f"`{HELD}` Acknowledged: held back until {MIN} or more have acknowledged"
    )
    if took:
        lines.append(f"`{bar(took, n)}` Took the check: {of(took, n, 'reached')}")
        lines.append(
            f"`{bar(first, took)}` Understood first time: {of(first, took, 'who took it')}"
        )
    else:
        lines.append(
            f"`{HELD}` Took the check, understood first time: held back until {MIN} or more "
            "have taken it"
        )
    return "\n".join([*lines, f"_As of {b.as_of()}_"])


def csv_expected(b: Briefing) -> dict[tuple[str, str], tuple[str, str, str, str]]:
    """The CSV's rows as (team, figure) -> (value, base, percent, suppressed_why); a held-back
    row has no number and says why."""
    n = len(b.reached)

    def shown(value: int, base: int | None = None) -> tuple[str, str, str, str]:
        share = "" if not base else str(round(100 * value / base))
        return str(value), "" if base is None else str(base), share, ""

    def held(why: str) -> tuple[str, str, str, str]:
        return "", "", "", why

    # A count of people none of whom is released yet is held back in every view, never "0"
    # (nobody, and fewer than a step so far, look alike on purpose).
    took, retook, acked = b.total("took"), b.total("retook"), b.total("acknowledged")
    taken = f"held back until {MIN} or more have taken the check"
    rows = {
        ("all", "reached"): shown(n),
        ("all", "acknowledged"): (
            shown(acked, n) if acked else held(f"held back until {MIN} or more have acknowledged")
        ),
        ("all", "took_check"): shown(took, n) if took else held(taken),
        ("all", "understood_first_time"): (
            shown(b.total("first_time"), took) if took else held(taken)
        ),
        ("all", "understood_after_retake"): (
            shown(b.total("after_retake"), retook)
            if took and retook
            else held(taken if not took else f"held back until {MIN} or more retake it")
        ),
    }
    for q, (answered, correct, _, wrong) in enumerate(b.questions(), 1):
        rows["all", f"q{q}_correct"] = shown(correct, answered) if took else held(taken)
        rows["all", f"q{q}_most_chosen_wrong"] = shown(wrong, answered) if took else held(taken)
    for team in b.released:
        name = NAMES.get(team, team)
        name = "'" + name if name.startswith("@") else name
        size, took, acked = b.reach(team), b.group(team, "took"), b.group(team, "acknowledged")
        in_team = f"held back until {MIN} or more in the team have"
        rows[name, "reached"] = shown(size)
        rows[name, "acknowledged"] = (
            shown(acked, size) if acked else held(f"{in_team} acknowledged")
        )
        rows[name, "took_check"] = shown(took, size) if took else held(f"{in_team} taken the check")
        rows[name, "understood_first_time"] = (
            shown(b.group(team, "first_time"), took) if took else held(f"{in_team} taken the check")
        )
    for team in b.hidden:
        for figure in ("reached", "acknowledged", "took_check", "understood_first_time"):
            rows["'" + team, figure] = held(f"fewer than {MIN} in the team")
    return rows


# -- the service -----------------------------------------------------------------------------


@pytest.fixture
def workspace():
    ws = Workspace.sample(n_staff=len(SW) + 6)
    assert sorted(ws.usergroups["S0SWS"].users) == SW
    ws.add_usergroup("S0NTH", handle="north-team", name="North", users=MEMBERS[NORTH])
    ws.add_usergroup("S0STH", handle="south-team", name="South", users=MEMBERS[SOUTH])
    ws.add_usergroup("S0FOS", handle="fostering-team", name="Fostering", users=MEMBERS[FOSTERING])
    ws.add_usergroup("S0ELS", handle="engagement-leads", name="Engagement leads", users=[*LEADS])
    return ws


@pytest.fixture
def content_dir(tmp_path):
    folder = tmp_path / "content" / "briefings"
    folder.mkdir(parents=True)
    for name, text in (
        ("duty-changes", DUTY),
        ("fostering-allowances", ALLOWANCES),
        ("rota-reminder", ROTA),
    ):
        (folder / f"{name}.md").write_text(text, encoding="utf-8")
    (tmp_path / "content" / "teams.yaml").write_text(
        '"@north-team":\n  name: North locality\n', encoding="utf-8"
    )
    return tmp_path / "content"


@pytest.fixture
def config(tmp_path, slack, content_dir):
    return Config.from_env(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_PATH": str(tmp_path / "los.db"),
            "CONTENT_DIR": str(content_dir),
            "SENIOR_MANAGERS": "@senior-managers",
            "ENGAGEMENT_LEADS": "@engagement-leads",
            "OUTBOX_PER_MINUTE": str(BOT_PER_MINUTE),
            "TEAMS": f"{NORTH},{SOUTH},{FOSTERING}",
            "MIN_GROUP_SIZE": str(MIN),
            "DIGEST_AT": "Mon 09:00",
        },
        dotenv=None,
    )


@pytest.fixture
def clock(slack):
    """A Monday, after the digest's time (the first digest covers from here). Slack's clock is
    the bot's: its per-minute limits refill over the weeks the test moves through, as they
    would (three weeks of a service's lookups in seconds would meet Tier 2's 20 a minute)."""
    moved = Clock(at(2, 9, 30))
    slack.clock = lambda: moved.now.timestamp()
    return moved


# -- staff acting, as Slack would send it ----------------------------------------------------


def copy_of(slack, person, b: Briefing):
    """The briefing's copy in `person`'s DMs: the first message naming it (a reminder, if the
    scheduler's own tick sends one while the test runs, comes after it)."""
    return next(m for m in slack.messages(person) if m.blocks and b.short in str(m.blocks))


def picked(choices: tuple[int, ...]) -> dict:
    return {
        f"q{n}": {"answer": {"type": "radio_buttons", "selected_option": {"value": str(c)}}}
        for n, c in enumerate(choices)
    }


async def acknowledge(driver, bot, b: Briefing, people) -> None:
    for person in people:
        await driver.click(person, copy_of(driver.standin, person, b), ACK_ACTION)
        b.acked.add(person)
    await bot.work.idle()


async def take(driver, bot, b: Briefing, person, choices, retake=None) -> None:
    """Take the check; with `retake`, retake it from the feedback with those choices."""
    slack = driver.standin
    await driver.click(person, copy_of(slack, person, b), TAKE_ACTION)
    await bot.work.idle()
    [view] = slack.views_for(person)
    await driver.submit_view(person, view, picked(choices))
    await bot.work.idle()
    [feedback] = slack.views_for(person)
    b.first[person] = choices
    b.acked.add(person)  # taking an attributed check acknowledges the briefing
    if retake is not None:
        await driver.click(person, feedback, RETAKE_ACTION)
        await bot.work.idle()
        [again] = slack.views_for(person)
        await driver.submit_view(person, again, picked(retake))
        await bot.work.idle()
        [feedback] = slack.views_for(person)
        b.again[person] = retake
    await driver.close_view(person, feedback)


async def publish(driver, bot, clock, b: Briefing) -> None:
    await publish_confirmed(driver, bot, f"publish {b.id}")
    assert await bot.outbox.idle(30)
    b.sent = shown_time(clock.now)


# -- the views -------------------------------------------------------------------------------


def text_of(blocks) -> str:
    return "\n".join(
        b["text"]["text"] if b.get("text") else json.dumps(b.get("elements", "")) for b in blocks
    )


async def trends(driver, bot, user, text="trends") -> str:
    slack = driver.standin
    since = len([s for s in slack.seen_by(user) if s.kind == "response"])
    await driver.slash_command(user, "/engage", text)
    await bot.work.idle()
    [seen] = [s for s in slack.seen_by(user) if s.kind == "response"][since:]
    assert seen.text == "Understanding over time", seen.text
    return text_of(seen.blocks)


async def home_of(driver, bot, user) -> str:
    await driver.app_home_opened(user)
    await bot.work.idle()
    return home_text(driver.standin, user)


def home_text(slack, user) -> str:
    view = slack.home_view(user)
    assert view is not None
    return text_of(view["blocks"])


def digests_to(slack, person):
    return [m for m in slack.messages(person) if (m.text or "").startswith("Your weekly digest")]


async def runs(bot):
    return await bot.storage.call(
        lambda db: [r[0] for r in db.execute("SELECT status FROM digest_runs ORDER BY period")]
    )


async def first_run(bot) -> None:
    """The digest job runs once at start: wait for it, so the test's own runs never race it."""
    for _ in range(250):
        if await runs(bot):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the digest job did not run at start")


async def digest(bot, clock, moment: datetime) -> None:
    """Move the clock to the digest's time and run its job, as the scheduler would."""
    clock.now = moment
    await bot.scheduler.run_now(JOB)
    assert await bot.outbox.idle(30)


async def export(driver, bot, b: Briefing) -> dict[tuple[str, str], dict[str, str]]:
    slack = driver.standin
    await driver.slash_command(ENGAGEMENT_LEAD, "/engage", f"export {b.id}")
    await bot.work.idle()
    [upload] = [
        f for f in slack.files.values() if f.completed and f.filename == f"{b.id}-v1-check.csv"
    ]
    text = upload.data.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    table = {(r["team"], r["figure"]): r for r in rows}
    assert len(table) == len(rows), "two rows for one team and figure"
    return table


async def layer_agrees(bot, b: Briefing, moment: datetime) -> None:
    """`bot.storage.disclosure`'s released figures are the expected ones (no act between the
    view just made and this one, so this releases nothing new)."""
    b.view(moment)
    figures = await bot.storage.disclosure.check(b.id, 1, moment)
    assert figures is not None
    for released in (figures.acks, figures.answers):
        assert (released.groups, released.hidden) == (b.released, b.hidden)
        assert released.population == len(b.reached)
    for measure in b.measures():
        layer = figures.acks if measure == "acknowledged" else figures.answers
        assert layer.total(measure) == b.total(measure), (b.id, measure)
        for team in b.released:
            assert layer.group(team, measure) == b.group(team, measure), (b.id, team, measure)


async def facts_are_stored(bot, b: Briefing) -> None:
    """The stored facts (raw, never shown) are what the test did."""
    stored = await bot.storage.checks.results_for(b.id, 1)
    right = [p for p, c in b.first.items() if c == b.right]
    again_right = [p for p, c in b.again.items() if c == b.right]
    assert (stored.reached, stored.acknowledged, stored.took, stored.first_time) == (
        len(b.reached),
        len(b.acked),
        len(b.first),
        len(right),
    )
    assert (stored.retook, stored.after_retake) == (len(b.again), len(again_right))


# -- the three weeks -------------------------------------------------------------------------


def briefings() -> tuple[Briefing, Briefing, Briefing]:
    """B1 and B3 go to every social worker: north, south and "not in a listed team" are
    released, fostering (4) is hidden (cells: north 7, both 5, south 7, none 7). B2 goes to
    @north-team and @south-team (19): north and south released, fostering hidden."""
    everyone = (NORTH, SOUTH, NO_TEAM)
    return (
        Briefing(
            "duty-changes",
            "Changes to the duty system",
            "duty system",
            SW,
            tuple(sorted(everyone)),
            (FOSTERING,),
            ["Who takes a new referral out of hours?", "When does the new rota start?"],
            [
                ["The team manager", "The emergency duty team", "Whoever is free", "The police"],
                ["Monday", "Next month"],
            ],
            (1, 0),
        ),
        Briefing(
            "fostering-allowances",
            "New fostering allowances",
            "fostering allowances",
            SW[:19],
            (NORTH, SOUTH),
            (FOSTERING,),
            ["When do the new allowances start?"],
            [["In December", "In January", "Next April"]],
            (0,),
        ),
        Briefing(
            "rota-reminder",
            "The out-of-hours rota",
            "out-of-hours rota",
            SW,
            tuple(sorted(everyone)),
            (FOSTERING,),
            ["Who covers Sundays?"],
            [["The emergency duty team", "Nobody"]],
            (0,),
        ),
    )


async def week_one(driver, bot, clock, b1: Briefing) -> None:
    """B1: acknowledged (by the button) by 6 of north only, all 5 of both, 3 of south, all 7
    of no team, and by everyone who takes its check, so south's cell reaches a step; taken by
    5, 5, 7 and 3 (held back), some wrong; 6 retake (no cell reaches 5)."""
    clock.now = at(2, 10)
    await publish(driver, bot, clock, b1)
    clock.now = at(2, 11)
    await acknowledge(driver, bot, b1, [*SW[0:6], *SW[7:12], *SW[12:15], *SW[19:26]])
    right = (1, 0)
    for person in SW[0:3] + SW[7:11] + SW[12:16] + [SW[19], SW[21]]:
        await take(driver, bot, b1, person, right)
    await take(driver, bot, b1, SW[3], (0, 0), retake=right)
    await take(driver, bot, b1, SW[4], (3, 0), retake=(2, 0))
    await take(driver, bot, b1, SW[11], (1, 1), retake=right)
    await take(driver, bot, b1, SW[16], (0, 0), retake=right)
    await take(driver, bot, b1, SW[17], (0, 1), retake=right)
    await take(driver, bot, b1, SW[18], (2, 0), retake=(0, 0))
    await take(driver, bot, b1, SW[20], (0, 0))


async def week_two(driver, bot, clock, b1: Briefing, b2: Briefing) -> None:
    """After the first digest, before B1's check closes: two more in south press Acknowledge
    on B1 (already acknowledged by taking it), two more with no team take it (a step), one more
    in north (not a step). Then B2: acknowledged by all 7 of north only, 4 of both (the fifth by
    taking its check), 5 of south; taken by 5, 5, 7; retaken by 3 of both (held back) and 5 of
    south (released)."""
    clock.now = at(9, 9, 30)
    await acknowledge(driver, bot, b1, SW[15:17])
    await take(driver, bot, b1, SW[22], (1, 0))
    await take(driver, bot, b1, SW[23], (0, 0))
    await take(driver, bot, b1, SW[5], (1, 0))

    clock.now = at(9, 10, 30)
    await publish(driver, bot, clock, b2)
    clock.now = at(9, 11)
    await acknowledge(driver, bot, b2, [*SW[0:7], *SW[7:11], *SW[12:17]])
    for person in SW[0:5] + SW[7:9] + SW[12:14]:
        await take(driver, bot, b2, person, (0,))
    for person, first, retake in (
        (SW[9], (1,), (0,)),
        (SW[10], (1,), (0,)),
        (SW[11], (2,), (1,)),
        (SW[14], (1,), (0,)),
        (SW[15], (1,), (0,)),
        (SW[16], (1,), (0,)),
        (SW[17], (2,), (0,)),
        (SW[18], (1,), (2,)),
    ):
        await take(driver, bot, b2, person, first, retake=retake)


async def week_three(driver, bot, clock, b3: Briefing) -> None:
    """B3: acknowledged by 7, 5, 5 and 3 (held back: two of the no-team cell's three only took
    the check, which acknowledges it); taken by 4, 2, 3 and 2: no cell reaches
    a step, so nothing of its check is shown anywhere, however many took it."""
    clock.now = at(16, 10)
    await publish(driver, bot, clock, b3)
    clock.now = at(16, 11)
    await acknowledge(driver, bot, b3, [*SW[0:7], *SW[7:12], *SW[12:17], *SW[19:22]])
    for person in [*SW[0:3], SW[7], SW[12], SW[13], SW[20]]:
        await take(driver, bot, b3, person, (0,))
    await take(driver, bot, b3, SW[3], (1,), retake=(0,))
    for person in (SW[8], SW[14], SW[19]):
        await take(driver, bot, b3, person, (1,))


@asynccontextmanager
async def restarted(config, clock, slack):
    """A new bot on the same database (the old one stopped), with a driver for it."""
    again = LineOfSight(config, clock=clock)
    await again.start()
    runner = await again.listen("127.0.0.1", 0)
    try:
        async with SlackDriver(
            slack, bot_url=f"{again.base_url}/slack/events", signing_secret=SIGNING_SECRET
        ) as drive:
            yield again, drive
        await again.work.idle()
    finally:
        await runner.cleanup()
        await again.stop()


# -- the test --------------------------------------------------------------------------------


async def test_three_weeks_three_teams_every_view_shows_the_released_facts(
    slack, bot, driver, clock, config
):
    b1, b2, b3 = briefings()
    await first_run(bot)
    await week_one(driver, bot, clock, b1)

    # Monday 9 Nov, 09:00: the first digest, of B1 as released now.
    await digest(bot, clock, at(9))
    b1.view(at(9))
    await layer_agrees(bot, b1, clock.now)
    [first] = digests_to(slack, ENGAGEMENT_LEAD)
    assert first.text.startswith("Your weekly digest: 1 new briefing, ")
    body = text_of(first.blocks)
    assert trend_lines(b1) in body
    # Taking the (attributed) check acknowledged it too: every cell's acknowledgements, south's
    # three who pressed the button and the four who only took the check, reached a step.
    assert b1.total("acknowledged") == len(b1.acked) == 25
    assert (b1.total("took"), b1.total("retook")) == (17, 0)
    assert f"After the retake: held back until {MIN} or more have retaken it" in body
    assert [text_of(m.blocks) for m in digests_to(slack, SECOND_LEAD)] == [body]

    await week_two(driver, bot, clock, b1, b2)

    # Monday 16 Nov, 09:00: the second digest, of B2 alone (B1 is not new: nothing of it moves).
    await digest(bot, clock, at(16))
    b2.view(at(16))
    await layer_agrees(bot, b2, clock.now)
    second = digests_to(slack, ENGAGEMENT_LEAD)[-1]
    body = text_of(second.blocks)
    assert trend_lines(b2) in body
    assert "Changes to the duty system" not in body
    assert (b2.total("acknowledged"), b2.total("retook"), b2.total("after_retake")) == (19, 5, 4)
    assert [len(digests_to(slack, lead)) for lead in LEADS] == [2, 2]
    await facts_are_stored(bot, b1)
    await facts_are_stored(bot, b2)

    # A restart in the same week: the new bot's runs send no second digest.
    await bot.stop()
    clock.now = at(16, 9, 30)
    async with restarted(config, clock, slack) as (again, drive):
        await first_run(again)
        await again.scheduler.run_now(JOB)
        assert await again.outbox.idle(30)
        assert await runs(again) == ["started", "sent", "sent"]
        assert [len(digests_to(slack, lead)) for lead in LEADS] == [2, 2]

        await week_three(drive, again, clock, b3)
        await facts_are_stored(again, b3)

        # The next week: one digest, and only one however often the job runs.
        await digest(again, clock, at(23))
        b3.view(at(23))
        await digest(again, clock, at(23, 9, 5))
        assert await runs(again) == ["started", "sent", "sent", "sent"]
        assert [len(digests_to(slack, lead)) for lead in LEADS] == [3, 3]
        body = text_of(digests_to(slack, ENGAGEMENT_LEAD)[-1].blocks)
        assert trend_lines(b3) in body
        assert f"Took the check, understood first time: held back until {MIN}" in body
        assert "Changes to the duty system" not in body
        assert "fostering" not in body

        await the_views(drive, again, clock, b1, b2, b3)


async def the_views(driver, bot, clock, b1: Briefing, b2: Briefing, b3: Briefing) -> None:
    """After the last act: trends, by team, Home, the CSV, and Home again after a decline."""
    clock.now = at(23, 11)
    await trends_views(driver, bot, clock, b1, b2, b3)
    await home_and_csv(driver, bot, b1, b2, b3)
    await a_decline_republishes_home(driver, bot, clock, b1, b2, b3)


async def trends_views(driver, bot, clock, b1: Briefing, b2: Briefing, b3: Briefing) -> None:
    now = at(23, 11)
    body = await trends(driver, bot, ENGAGEMENT_LEAD)
    for b in (b1, b2, b3):
        b.view(now)
    # B1 moved since the first digest where a step was reached: the no-team cell's check;
    # north's one late taker is still not shown.
    assert (b1.total("acknowledged"), len(b1.acked)) == (25, 25)
    assert (b1.total("took"), len(b1.first)) == (22, 23)
    # B3's no-team cell: three acknowledged (two of them by taking the check), held back.
    assert (b3.total("acknowledged"), len(b3.acked)) == (17, 20)

    assert b3.total("took") == 0 < len(b3.first) == 11
    for b in (b1, b2, b3):
        assert trend_lines(b) in body, f"{b.id}:\n{trend_lines(b)}\n---\n{body}"
        await layer_agrees(bot, b, clock.now)
    misread = body[body.index("*The messages most often misunderstood*") :]
    expected = [
        (b2, 1, *b2.questions()[0]),
        (b1, 1, *b1.questions()[0]),
        (b1, 2, *b1.questions()[1]),
    ]
    assert [answered - correct for _, _, answered, correct, _, _ in expected] == [8, 7, 2]
    lines = [
        f"{n}. “{b.asks[q - 1]}” (question {q} of *{b.title}*): wrong for *{answered - correct}* "
        f"of the {answered} who answered ({round(100 * (answered - correct) / answered)}%); "
        f"most chosen wrong answer: “{wrong}” ({count} of {answered})"
        for n, (b, q, answered, correct, wrong, count) in enumerate(expected, 1)
    ]
    assert misread.split("\n")[1:4] == lines
    assert "Who covers Sundays?" not in misread  # B3's answers are held back

    # One team's own figures under each briefing; fostering is too small, everywhere.
    for team in (NORTH, SOUTH, FOSTERING):
        body = await trends(driver, bot, ENGAGEMENT_LEAD, f"trends {team}")
        for b in (b1, b2, b3):
            assert trend_lines(b, team) in body, f"{team} {b.id}:\n{trend_lines(b, team)}\n{body}"


async def home_and_csv(driver, bot, b1: Briefing, b2: Briefing, b3: Briefing) -> None:
    # The lead's Home: the same figures, newest first, with bars.
    home = await home_of(driver, bot, ENGAGEMENT_LEAD)
    recent = home[home.index("Recent briefings") : home.index("Checks closing soon")]
    where = [recent.index(f"*{b.title}* ·") for b in (b3, b2, b1)]
    assert where == sorted(where), "not newest first"
    for b in (b1, b2, b3):
        assert funnel_lines(b) in recent, f"{b.id}:\n{funnel_lines(b)}\n---\n{recent}"

    # The CSV: one tidy table per check, the same figures; held back is flagged, no number.
    for b in (b1, b2, b3):
        table = await export(driver, bot, b)
        expected_rows = csv_expected(b)
        assert set(table) == set(expected_rows), b.id
        for key, (value, base, share, why) in expected_rows.items():
            row = table[key]
            got = (row["value"], row["base"], row["percent"], row["suppressed_why"])
            assert got == (value, base, share, why), (b.id, key, got)
            assert row["suppressed"] == ("true" if why else "false"), (b.id, key)
    assert csv_expected(b2)["all", "understood_after_retake"][:2] == ("4", "5")


async def a_decline_republishes_home(driver, bot, clock, *sent: Briefing) -> None:
    slack = driver.standin
    # A question waits; the first lead sees it on Home, the second declines it: the first's
    # Home is published afresh without it, and its figures have not moved.
    question = await stored_question(bot, SW[0], "Can the rota go on the intranet?", now=clock())
    assert question.question is not None
    home = await home_of(driver, bot, ENGAGEMENT_LEAD)
    assert "Can the rota go on the intranet?" in home
    assert DECLINE_ACTION in json.dumps(slack.home_view(ENGAGEMENT_LEAD))
    await driver.app_home_opened(SECOND_LEAD)
    await bot.work.idle()
    await driver.click(SECOND_LEAD, slack.home_view(SECOND_LEAD), DECLINE_ACTION)
    await bot.work.idle()
    [modal] = slack.views_for(SECOND_LEAD)

    def published_to(user) -> int:
        return sum(c.args.get("user_id") == user for c in slack.calls_to("views.publish"))

    before = published_to(ENGAGEMENT_LEAD)
    reason = {"reason": {"reason": {"type": "plain_text_input", "value": "Not for the surgery"}}}
    await driver.submit_view(SECOND_LEAD, modal, reason)
    await bot.work.idle()
    assert published_to(ENGAGEMENT_LEAD) == before + 1
    home = home_text(slack, ENGAGEMENT_LEAD)
    assert "Can the rota go on the intranet?" not in home
    assert DECLINE_ACTION not in json.dumps(slack.home_view(ENGAGEMENT_LEAD))
    for b in sent:
        assert funnel_lines(b) in home
