"""The **Chart** buttons: under a check's results (the briefing's funnel) and under
`/engage trends` (understanding over time), each sends the chart as a PNG to the lead's DM.

A click records nothing (`accept`); the follow-up (`send_chart`) checks the role again (an
engagement lead; a senior manager for the briefings they published, as the views do), reads
the figures from the disclosure layer at that moment, draws them off the event loop
(`bot/charts.py`, pure) and uploads the PNG with `files_upload_v2`, then says privately where
it went, or that it could not. Each chart is in the audit trail as the view it draws.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.charts import Point, Share, Step, held_text, render_funnel, render_trend
from bot.comprehension import parse_check_value
from bot.content.teams import team_names
from bot.slack.mrkdwn import escape
from bot.slack.roles import ENGAGEMENT_LEAD, SENIOR_MANAGER
from bot.storage.audit import TRENDS
from bot.storage.disclosure import CheckFigures
from bot.timefmt import format_local
from handlers.checks.actions import clicked_value
from handlers.checks.common import GONE, NOT_ALLOWED
from handlers.checks.results import check_state
from handlers.checks.trends import CHART_ACTION as TRENDS_CHART
from handlers.checks.trends import NOT_ALLOWED as TRENDS_NOT_ALLOWED
from handlers.checks.trends import Since, Trend, gather_trends, unknown_team

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from bot.deps import Deps

logger = logging.getLogger(__name__)
_DRAWING = threading.Lock()

UNKNOWN_ROLE = "I couldn't check your role just now. Try again soon."
SENT = "The chart is in your DM with me."
NOT_DRAWN = "I couldn't draw the chart just now. Try again in a minute."
NOT_UPLOADED = "I couldn't upload the chart just now. Try again in a minute."
UNREADABLE = "Sorry, I couldn't read that button. Type `/engage trends` again for a new one."


@dataclass(frozen=True)
class Chart:
    """A drawn chart, ready to upload: the PNG and what Slack shows with it."""

    png: bytes
    filename: str
    title: str
    alt: str  # alt text: the figures in words, for a screen reader


async def send_chart(deps: Deps, said: None, body: dict[str, Any]) -> None:
    """Either button: draw the chart the click asked for and send it to the clicker's DM."""
    user_id = body["user"]["id"]
    action = (body.get("actions") or [{}])[0].get("action_id")
    value = clicked_value(body)
    try:
        if action == TRENDS_CHART:
            made = await trend_chart(deps, user_id, value)
        else:
            made = await funnel_chart(deps, user_id, value)
    except Exception:  # a chart that cannot be drawn must still be answered
        logger.exception("could not draw a chart")
        made = NOT_DRAWN
    reply = made if isinstance(made, str) else await upload(deps, user_id, made)
    await deps.replies.tell(body, reply)


async def funnel_chart(deps: Deps, user_id: str, value: str | None) -> Chart | str:
    """One check's funnel, for a lead or the senior manager who published it."""
    parsed = parse_check_value(value)
    check = await deps.storage.checks.check_for(*parsed) if parsed else None
    if check is None:
        return GONE
    verdict = await deps.roles.allows(user_id, {SENIOR_MANAGER, ENGAGEMENT_LEAD})
    if verdict.unknown:
        return UNKNOWN_ROLE
    if not verdict.holds(ENGAGEMENT_LEAD) and not (
        verdict.holds(SENIOR_MANAGER) and await deps.storage.checks.published_by(check) == user_id
    ):
        return NOT_ALLOWED
    now = deps.clock()
    figures = await deps.storage.disclosure.check(check.briefing_id, check.version, now)
    if figures is None:
        return GONE
    if not figures.answers.shown:
        return (
            f"There is nothing to chart for *{escape(check.title)}*: it reached fewer than "
            f"{figures.answers.min_group} people, and figures are only shown for groups that size."
        )
    await deps.storage.checks.record_access(check, user_id=user_id, action="results", now=now)
    tz = deps.config.timezone
    steps = funnel_steps(figures)
    mode = " · anonymous" if check.mode == "anonymous" else ""
    png = await asyncio.to_thread(
        one_at_a_time,
        functools.partial(
            render_funnel,
            check.title,
            steps,
            min_group=figures.answers.min_group,
            as_of=released_at([figures.acks.as_of(), figures.answers.as_of()], tz),
            subtitle=f"Version {check.version} · check {check_state(check, tz)}{mode}",
        ),
    )
    return Chart(
        png,
        f"{check.briefing_id}-v{check.version}-funnel.png",
        f"Funnel: {check.title}"[:250],
        described(check.title, steps, figures.answers.min_group),
    )


async def trend_chart(deps: Deps, user_id: str, value: str | None) -> Chart | str:
    """Understanding over time from where the trend the button was under started; a team's
    own released figures when the trend was asked for one (`/engage trends @team`)."""
    tz = deps.config.timezone
    start, _, team = (value or "").partition(" ")
    since = parse_start(start if value is not None else None, tz)
    if isinstance(since, str):
        return since
    if team and team not in deps.config.teams:  # TEAMS changed since, or an odd value
        return unknown_team(team, deps.config.teams)
    verdict = await deps.roles.allows(user_id, {SENIOR_MANAGER, ENGAGEMENT_LEAD})
    if verdict.unknown:
        return UNKNOWN_ROLE
    if not verdict.allowed:
        return TRENDS_NOT_ALLOWED
    publisher = None if verdict.holds(ENGAGEMENT_LEAD) else user_id
    now = deps.clock()
    trend = await gather_trends(
        deps.storage, now, since=since, published_by=publisher, team=team or None
    )
    await deps.storage.audit.record(
        user_id=user_id, action=TRENDS, briefing_id=team or None, version=None, now=now
    )
    subtitle = trend_subtitle(trend, own=publisher is not None)
    title, filename = "Understanding over time", "understanding-over-time.png"
    if team:
        names = await asyncio.to_thread(team_names, deps.config.content_dir)
        name = names.get(team, team)
        points, left_out = team_points(trend, team, tz)
        if left_out and not points:
            return (
                f"There is nothing to chart for {escape(name)}: the briefings in this trend "
                "are not broken down by team for it (they reached nobody in it, or went "
                "before it was listed as a team)."
            )
        title = f"Understanding over time: {name}"
        filename = f"understanding-over-time-{team.lstrip('@')}.png"
        if left_out:
            subtitle += f"; {left_out} not broken down by team left out"
    else:
        points = trend_points(trend, tz)
    return await draw_trend(trend, points, tz, title=title, subtitle=subtitle, filename=filename)


async def draw_trend(
    trend: Trend, points: list[Point], tz: ZoneInfo, *, title: str, subtitle: str, filename: str
) -> Chart:
    """The trend drawn off the event loop, with its alt text."""
    times = [r.acks.as_of() for r in trend.rows]
    times += [r.figures.answers.as_of() for r in trend.rows if r.figures is not None]
    png = await asyncio.to_thread(
        one_at_a_time,
        functools.partial(
            render_trend,
            points,
            min_group=trend.min_group,
            as_of=released_at(times, tz),
            subtitle=subtitle,
            title=title,
        ),
    )
    alt = f"{title}: " + "; ".join(
        f"{p.title}, sent {p.sent}: {point_words(p, trend.min_group)}" for p in points
    )
    return Chart(png, filename, title[:250], alt[:1000])


def one_at_a_time(draw: Callable[[], bytes]) -> bytes:
    """Draw on a worker thread, one chart at a time: matplotlib does not promise that two
    figures drawn at once on two threads are safe, and a burst of clicks should not take
    every core from the bot's answers (a chart takes a tenth to half a second)."""
    with _DRAWING:
        return draw()


async def upload(deps: Deps, user_id: str, chart: Chart) -> str:
    """The PNG to the person's DM with the bot; what to tell them."""
    try:
        opened = await deps.client.conversations_open(users=user_id)
        await deps.client.files_upload_v2(
            channel=opened["channel"]["id"],
            filename=chart.filename,
            title=chart.title,
            content=chart.png,
            alt_txt=chart.alt[:1000],
            initial_comment="The chart, with small groups held back as on screen.",
        )
    except (SlackApiError, SlackRequestError, aiohttp.ClientError, TimeoutError) as error:
        logger.warning("could not upload a chart (%s)", type(error).__name__)
        return NOT_UPLOADED
    return SENT


# -- pure: released figures to what a chart draws --------------------------------------------


def funnel_steps(figures: CheckFigures) -> list[Step]:
    """Reached → acknowledged → took the check → understood first time → after the retake,
    as released. A step whose people are not released yet (a released 0: fewer than the
    smallest group have acted) is held back, as `/engage trends` says it."""
    answers, acks = figures.answers, figures.acks
    reached = answers.population
    took, retook = answers.total("took"), answers.total("retook")
    acked = acks.total("acknowledged")
    return [
        Step("Reached", Share(reached, reached, "")),
        Step("Acknowledged", Share(acked or None, acks.population, "reached")),
        Step("Took the check", Share(took or None, reached, "reached")),
        Step(
            "Understood\nfirst time",
            Share(answers.total("first_time") if took else None, took, "who took it"),
        ),
        Step(
            "Understood after\nthe retake",
            Share(answers.total("after_retake") if retook else None, retook, "who retook it"),
        ),
    ]


def trend_points(trend: Trend, tz: ZoneInfo) -> list[Point]:
    """Each briefing: acknowledged of those reached (when it asked), understood first time
    of those who took its check (when it had one), held back as the trend says."""
    points = []
    for row in trend.rows:
        acks, figures = row.acks, row.figures
        acked = acks.total("acknowledged")
        understood = None
        if figures is not None:
            took = figures.answers.total("took")  # 0 when nothing is shown
            first = figures.answers.total("first_time")
            understood = Share(first if took else None, took, "who took it")
        sent = datetime.fromisoformat(row.sent.first_sent).astimezone(tz)
        points.append(
            Point(
                title=row.sent.title,
                sent=f"{sent.day} {sent:%b %Y}",
                shown=acks.shown,
                acknowledged=(
                    Share(acked or None, acks.population, "reached")
                    if row.sent.acknowledge
                    else None
                ),
                understood=understood,
            )
        )
    return points


def team_points(trend: Trend, team: str, tz: ZoneInfo) -> tuple[list[Point], int]:
    """Each briefing as one team's own figures were released (as `/engage trends @team` says
    them), and how many briefings were left out: those the team's breakdown does not have
    (it reached none of the team, or went before teams were listed). A team held back, or
    reached fewer than the smallest group, is drawn so, never as a number."""
    points, left_out = [], 0
    for row in trend.rows:
        acks = row.acks
        if team not in acks.group_reach:
            left_out += 1
            continue
        size, released = acks.group_reach[team], team in acks.groups
        acknowledged = understood = None
        if row.sent.acknowledge:
            acked = acks.group(team, "acknowledged") if released else 0
            acknowledged = Share(acked or None, size, "reached")
        if row.figures is not None:
            answers = row.figures.answers
            took = answers.group(team, "took") if released and team in answers.groups else 0
            first = answers.group(team, "first_time") if took else None
            understood = Share(first, took, "who took it")
        sent = datetime.fromisoformat(row.sent.first_sent).astimezone(tz)
        points.append(
            Point(
                title=row.sent.title,
                sent=f"{sent.day} {sent:%b %Y}",
                shown=released or size >= acks.min_group,
                acknowledged=acknowledged,
                understood=understood,
            )
        )
    return points, left_out


def trend_subtitle(trend: Trend, *, own: bool) -> str:
    whose = "you published" if own else "sent"
    period = f" {trend.since.label}" if trend.since else ""
    shown = len(trend.rows)
    more = f" (the latest {shown} of {trend.total:,})" if trend.total > shown else ""
    return f"Briefings {whose}{period}, oldest first{more}"


def parse_start(value: str | None, tz: ZoneInfo) -> Since | str | None:
    """The button's value: `all`, or where the period starts in whole seconds since the epoch
    (untrusted: anything else gets a note saying what to do)."""
    if value == "all":
        return None
    if value is None or not value.isdigit() or len(value) > 11:
        return UNREADABLE
    at = datetime.fromtimestamp(int(value), UTC)
    day = at.astimezone(tz)
    return Since(at, f"since {day.day} {day:%b %Y}")


def released_at(times: list[str | None], tz: ZoneInfo) -> str | None:
    """The newest release among these, as a person reads it; None when nothing is released."""
    known = [t for t in times if t]
    return format_local(max(known), tz) if known else None


def described(title: str, steps: list[Step], min_group: int) -> str:
    """The funnel in words, for the image's alt text."""
    parts = [
        f"{s.label.replace(chr(10), ' ')}: {s.share.text() or held_text(min_group)}" for s in steps
    ]
    return f"Funnel of {title}: " + "; ".join(parts)


def point_words(p: Point, min_group: int) -> str:
    if not p.shown:
        return f"reached fewer than {min_group}, nothing shown"
    words = []
    if p.acknowledged is not None:
        words.append("acknowledged " + (p.acknowledged.text() or held_text(min_group)))
    if p.understood is not None:
        words.append("understood first time " + (p.understood.text() or held_text(min_group)))
    return ", ".join(words) or "no figures asked for"
