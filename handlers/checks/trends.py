"""`/engage trends [since]`: understanding over time, across briefings, for an engagement lead
(a senior manager sees only the briefings they published).

Per briefing that went out, oldest first (the newest `LIMIT`, said so): its title, when it was
first sent, how many it reached, how many acknowledged (when it asked), and for one with a
check: how many took it, understood first time, and after the retake. Then the messages most
often misunderstood: the questions with the most wrong answers at the first attempt, with the
most-chosen wrong answer. Every figure is one the disclosure layer released
(`deps.storage.disclosure`), with its base; one held back says so, never a number. What was
sent (titles, times) comes from `deps.storage.publications`: it is not anything staff did.

The builders are pure (`build_trends`, `briefing_lines`, `misunderstood`); `gather_trends`
reads and releases; `answer_trends` is the `/engage trends` word. `/engage trends @team`
adds that team's own released figures under each briefing (the service's teams: `TEAMS`).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.content.teams import team_names
from bot.disclosure import Figures
from bot.slack.mrkdwn import escape
from bot.slack.roles import ENGAGEMENT_LEAD, SENIOR_MANAGER
from bot.slack.sections import sections
from bot.storage.audit import TRENDS
from bot.storage.check_keys import Check
from bot.storage.disclosure import CheckFigures
from bot.storage.publications import SentBriefing
from bot.storage.writer import utc_iso
from bot.timefmt import format_local
from handlers.checks.results import held_back, of, percent, question_figures

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from bot.deps import Deps
    from bot.storage import Storage

WORD = "trends"
HELP_LINE = (
    "`/engage trends [since]` — reach, acknowledgement and understanding across briefings, "
    "oldest first, and the messages most often misunderstood; `since` is a date "
    "(`2026-11-01`) or `30d` / `8w` (engagement leads; senior managers see their own)"
)
LIMIT = 20  # briefings listed: the newest, so the answer fits one Slack message
MISREAD = 5  # questions in "most often misunderstood"
CHART_ACTION = "trends_chart"  # the Chart button: the trend as a PNG in the lead's DM
NOT_ALLOWED = (
    "Only engagement leads, and senior managers for the briefings they published, can see trends."
)
HOW = (
    "Type `/engage trends` for the latest briefings, `/engage trends 2026-11-01` for those "
    "first sent since a date, or `/engage trends 30d` (or `8w`) for the last 30 days (8 weeks); "
    "put a team first (`/engage trends @fostering-team 30d`) for its own figures too."
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SPAN = re.compile(r"^(\d{1,4})([dw])$")

Reply = tuple[str, list[dict[str, Any]] | None]


@dataclass(frozen=True)
class Since:
    """Where the trend starts: a UTC moment, and how to say it."""

    at: datetime
    label: str


@dataclass(frozen=True)
class TrendRow:
    """One briefing as it went out, and its released figures: the acknowledgement round of
    its newest version; its check's, if it has one."""

    sent: SentBriefing
    acks: Figures
    check: Check | None
    figures: CheckFigures | None


@dataclass(frozen=True)
class Trend:
    rows: list[TrendRow]
    total: int  # briefings in the period, of which `rows` are the newest
    since: Since | None
    min_group: int
    team: str | None = None  # a team's handle: its own figures under each briefing
    team_name: str | None = None  # as content/teams.yaml names it


@dataclass(frozen=True)
class Misread:
    """A question often answered wrongly at first, as released."""

    title: str
    number: int
    ask: str
    answered: int
    wrong: int
    misconception: str | None
    misconception_count: int


# -- the word -------------------------------------------------------------------------------


async def answer_trends(deps: Deps, user_id: str, text: str) -> Reply:
    """The private answer to `/engage trends [since]`: (text, blocks)."""
    verdict = await deps.roles.allows(user_id, {SENIOR_MANAGER, ENGAGEMENT_LEAD})
    if verdict.unknown:
        return "I couldn't check your role just now. Try again soon.", None
    if not verdict.allowed:
        return f"{NOT_ALLOWED} To be given a role, ask {escape(deps.config.access_contact)}.", None
    now = deps.clock()
    words = text.split()[1:]
    team = words.pop(0) if words and words[0].startswith("@") else None
    if team is not None and team not in deps.config.teams:
        return unknown_team(team, deps.config.teams), None
    since = parse_since(words, now, deps.config.timezone)
    if isinstance(since, str):
        return since, None
    publisher = None if verdict.holds(ENGAGEMENT_LEAD) else user_id
    trend = await gather_trends(deps.storage, now, since=since, published_by=publisher, team=team)
    if team is not None:
        names = await asyncio.to_thread(team_names, deps.config.content_dir)
        trend = replace(trend, team_name=names.get(team, team))
    blocks = build_trends(trend, deps.config.timezone, own=publisher is not None)
    await deps.storage.audit.record(
        user_id=user_id, action=TRENDS, briefing_id=team, version=None, now=now
    )
    return "Understanding over time", [b.to_dict() for b in blocks]


def unknown_team(team: str, teams: tuple[str, ...]) -> str:
    """What to say of a team that is not one of the service's teams (`TEAMS`)."""
    if not teams:
        return (
            "Figures break down by audience entry here: no teams are set up. Ask whoever runs "
            "the bot to list the service's teams in `TEAMS`."
        )
    known = ", ".join(f"`{escape(t)}`" for t in teams)
    return f"`{escape(team[:40])}` is not one of the service's teams. The teams: {known}."


def parse_since(words: list[str], now: datetime, tz: ZoneInfo) -> Since | str | None:
    """The optional start: a date (local midnight in `tz`) or `30d` / `8w` back from now.
    None for none; a string saying what to type for anything else."""
    if not words:
        return None
    if len(words) > 1:
        extra = " ".join(words[1:])[:40]
        return f"I don't know `{escape(extra)}` after the date. {HOW}"
    word = words[0].lower()
    span = _SPAN.match(word)
    if span:
        n, unit = int(span.group(1)), span.group(2)
        days = n * (7 if unit == "w" else 1)
        label = f"in the last {n} {'week' if unit == 'w' else 'day'}{'' if n == 1 else 's'}"
        return Since(now - timedelta(days=days), label)
    try:
        day = datetime.strptime(word, "%Y-%m-%d").date() if _DATE.match(word) else None
    except ValueError:
        day = None
    if day is None:
        return f"I couldn't read `{escape(words[0][:40])}` as a date. {HOW}"
    if day > now.astimezone(tz).date():
        return (
            f"`{day.isoformat()}` is in the future, so nothing has been sent since then. "
            f"Give a date up to today. {HOW}"
        )
    start = datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)
    return Since(start, f"since {day.day} {day:%b %Y}")


# -- reading and releasing ------------------------------------------------------------------


async def gather_trends(
    storage: Storage,
    now: datetime,
    *,
    since: Since | None = None,
    published_by: str | None = None,
    team: str | None = None,
    limit: int = LIMIT,
) -> Trend:
    """The briefings in the period and their figures, each released by the disclosure layer
    (which keeps what it released, so every view shows the same)."""
    sent, total = await storage.publications.sent_briefings(
        since=utc_iso(since.at) if since else None, published_by=published_by, limit=limit
    )

    # Side by side: one check's reads (the reader thread) overlap another's release (the
    # writer's); each is the layer's own operation, as two leads' views would be.
    with_check = [b for b in sent if b.check_version is not None]
    answers = await asyncio.gather(*(released(storage, b, now) for b in with_check))
    checks = {b.briefing_id: f for b, f in zip(with_check, answers, strict=True) if f is not None}
    # A check of the version shown released its acknowledgement round with it.
    others = [
        (b.briefing_id, b.version)
        for b in sent
        if b.briefing_id not in checks or checks[b.briefing_id][0].version != b.version
    ]
    acks = await storage.disclosure.many_acknowledgements(others, now) if others else {}
    rows = []
    for b in sent:
        found = checks.get(b.briefing_id)
        ack_figures = acks.get((b.briefing_id, b.version)) or (found[1].acks if found else None)
        assert ack_figures is not None
        rows.append(
            TrendRow(b, ack_figures, found[0] if found else None, found[1] if found else None)
        )
    return Trend(rows, total, since, storage.disclosure.min_group, team)


async def released(
    storage: Storage, b: SentBriefing, now: datetime
) -> tuple[Check, CheckFigures] | None:
    """A briefing's check as sent, and its figures as the disclosure layer releases them."""
    assert b.check_version is not None
    check = await storage.checks.definition(b.briefing_id, b.check_version)
    figures = await storage.disclosure.check(b.briefing_id, b.check_version, now)
    return None if check is None or figures is None else (check, figures)


# -- the builders ---------------------------------------------------------------------------


def build_trends(trend: Trend, tz: ZoneInfo, *, own: bool = False) -> list[Block]:
    """The whole answer: a heading that says what is listed, one section per briefing, and the
    messages most often misunderstood. At most 2 + LIMIT + a few blocks: under Slack's 50."""
    whose = "you published" if own else "sent"
    period = f" {trend.since.label}" if trend.since else ""
    heading = f"*Understanding over time*: briefings {whose}{period}, oldest first"
    if trend.team is not None:
        heading += f", with {escape(trend.team_name or trend.team)}'s own figures"
    if not trend.rows:
        return [_section("heading", f"{heading}.\nNone went out in that time.")]
    if trend.total > len(trend.rows):
        heading += (
            f" (the latest {len(trend.rows)} of {trend.total:,}: give a later date to see "
            "fewer, such as `/engage trends 30d`)"
        )
    blocks: list[Block] = [
        _section("heading", heading),
        ContextBlock(elements=[MarkdownTextObject(text=steps_note(trend.min_group))]),
    ]
    for n, row in enumerate(trend.rows, 1):
        lines = briefing_lines(row, tz)
        if trend.team is not None:
            lines.insert(-1, team_line(row, trend.team, trend.team_name or trend.team))
        text = "\n".join(lines)
        blocks += sections(f"briefing-{n}", [text])[:1]
    blocks.append(chart_button(trend.since, trend.team))
    blocks += build_misread(misunderstood(trend.rows), trend.min_group)
    return blocks


def chart_button(since: Since | None, team: str | None = None) -> ActionsBlock:
    """**Chart**: these briefings drawn as a PNG, sent to the lead's DM (chart_actions.py).
    Its value is where the period starts (whole seconds since the epoch, or `all`), then the
    team after a space when the trend was asked for one (`/engage trends @team`)."""
    value = str(int(since.at.timestamp())) if since else "all"
    if team is not None:
        value += f" {team}"
    button = ButtonElement(text="Chart", action_id=CHART_ACTION, value=value)
    return ActionsBlock(block_id="chart", elements=[button])


def steps_note(min_group: int) -> str:
    return (
        f"Every figure is as released, with its base: figures move in steps of at least "
        f"{min_group} people in each group, so the newest few acts may not show yet, and "
        f"nothing is shown for a briefing that reached fewer than {min_group}."
    )


def briefing_lines(row: TrendRow, tz: ZoneInfo) -> list[str]:
    """One briefing: title, when sent, reached, acknowledged, the check's figures, as of."""
    sent, acks = row.sent, row.acks
    version = f" (version {sent.version})" if sent.version > 1 else ""
    lines = [f"*{escape(sent.title)}*{version} — sent {format_local(sent.first_sent, tz)}"]
    if not acks.shown:
        reached = f"fewer than {acks.min_group}" if acks.population else "nobody"
        lines.append(
            f"Reached {reached}: figures are only shown for groups of {acks.min_group} or "
            "more, to protect individuals."
        )
        return lines
    reached = f"Reached *{acks.population:,}* people"
    if sent.acknowledge:
        acked = acks.total("acknowledged")
        reached += " · Acknowledged: " + (
            of(acked, acks.population, "reached")
            if acked
            else f"held back until {acks.min_group} or more have acknowledged"
        )
    lines.append(reached)
    if row.figures is not None:
        lines += _check_lines(row.figures)
    times = [t for t in (acks.as_of(), _answers_as_of(row)) if t]
    lines.append(
        f"_As of {format_local(max(times), tz)}_" if times else "_No figures released yet_"
    )
    return lines


def team_line(row: TrendRow, team: str, name: str) -> str:
    """One team's own figures for a briefing, as released for it: a team held back (or one
    the briefing's breakdown does not have) says so, never a number."""
    acks, shown = row.acks, escape(name)
    if team not in acks.group_reach:
        return f"_{shown}: not broken down for this briefing (none reached, or sent before it)_"
    size = acks.group_reach[team]
    if team not in acks.groups:
        why = f"fewer than {acks.min_group}" if size < acks.min_group else "held back"
        return f"_{shown}: {why}, so that no smaller group's figures can be worked out_"
    line = f"_{shown}_: reached {size:,}"
    step = acks.min_group
    if row.sent.acknowledge:
        acked = acks.group(team, "acknowledged")
        line += " · Acknowledged: " + (
            of(acked, size, "reached") if acked else held_back(step, "acknowledged", team=True)
        )
    answers = row.figures.answers if row.figures is not None else None
    if answers is not None and team in answers.groups:
        took = answers.group(team, "took")
        line += " · Took the check: " + (
            of(took, answers.group_reach[team], "reached")
            if took
            else held_back(step, "taken it", team=True)
        )
        if took:
            first = answers.group(team, "first_time")
            line += " · Understood first time: " + of(first, took, "who took it")
    return line


def _answers_as_of(row: TrendRow) -> str | None:
    return row.figures.answers.as_of() if row.figures is not None else None


def _check_lines(figures: CheckFigures) -> list[str]:
    """The check's released figures, each with its base; those held back say so."""
    answers = figures.answers
    if not answers.shown:
        return [
            f"Check: figures are only shown for groups of {answers.min_group} or more, to "
            "protect individuals."
        ]
    step = answers.min_group
    took, retook = answers.total("took"), answers.total("retook")
    if not took:  # nothing released yet, however many (or few) have taken it
        return [
            f"Took the check, understood first time: held back until {step} or more have taken it"
        ]
    line = "Took the check: " + of(took, answers.population, "reached")
    line += " · Understood first time: " + of(answers.total("first_time"), took, "who took it")
    if retook:
        line += " · After the retake: " + of(answers.total("after_retake"), retook, "who retook it")
    else:
        line += f" · After the retake: held back until {step} or more have retaken it"
    return [line]


def misunderstood(rows: list[TrendRow], limit: int = MISREAD) -> list[Misread]:
    """The questions with the most released wrong answers at the first attempt (ties: the
    larger share wrong, then the newer briefing), from checks whose takers are released."""
    found: list[Misread] = []
    for row in rows:
        if row.check is None or row.figures is None or not row.figures.answers.total("took"):
            continue
        for n, q in enumerate(question_figures(row.check, row.figures.answers), 1):
            wrong = q["answered"] - q["correct"]
            if wrong > 0:
                found.append(
                    Misread(
                        row.sent.title,
                        n,
                        q["ask"],
                        q["answered"],
                        wrong,
                        q["misconception"],
                        q["misconception_count"],
                    )
                )
    ranked = sorted(
        enumerate(found), key=lambda im: (im[1].wrong, im[1].wrong / im[1].answered, im[0])
    )
    return [m for _, m in reversed(ranked)][:limit]


def build_misread(misread: list[Misread], min_group: int) -> list[Block]:
    """The messages most often misunderstood, each with its base and most-chosen wrong answer."""
    heading = "*The messages most often misunderstood* (wrong at the first attempt)"
    if not misread:
        return [
            _section(
                "misread:0",
                f"{heading}\nNone to show: question figures appear once {min_group} or more "
                "people have taken a check, and none released has a wrong answer.",
            )
        ]
    lines = [heading]
    for n, m in enumerate(misread, 1):
        line = (
            f"{n}. “{escape(m.ask)}” (question {m.number} of *{escape(m.title)}*): wrong for "
            f"*{m.wrong}* of the {m.answered:,} who answered ({percent(m.wrong, m.answered)})"
        )
        if m.misconception:
            line += (
                f"; most chosen wrong answer: “{escape(m.misconception)}” "
                f"({m.misconception_count} of {m.answered:,})"
            )
        lines.append(line)
    return sections("misread", lines)


def _section(block_id: str, text: str) -> SectionBlock:
    return SectionBlock(block_id=block_id, text=MarkdownTextObject(text=text[:3000]))
