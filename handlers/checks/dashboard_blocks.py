"""An engagement lead's dashboard on Home, in the checks feature's section: the latest
briefings with their funnel as bars (and **Chart**, as under results), the checks closing
soon, and the follow-ups under way; and a senior manager's own broadcasts' delivery. Pure
builders over what `handlers/checks/home.py` gathered.

Every figure about what staff did is one the disclosure layer released
(`handlers.checks.trends.gather_trends`, the same release as `/engage trends` and results),
with its base; one held back says so and shows a dotted bar, never a number or an empty bar
that would read as nobody. What was sent, when checks close and how a follow-up's delivery
goes are not staff's acts, but a follow-up sent to a group chosen by what people did (an
attributed check's nudge or clarification) shows no size or progress: see
`bot/storage/dashboard.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.comprehension import check_value
from bot.slack.mrkdwn import escape
from bot.storage.check_keys import Check
from bot.storage.dashboard import FollowUpSent, Progress, SentBroadcast
from bot.timefmt import format_local
from handlers.checks.results import BAR, bar, of
from handlers.checks.results import CHART_ACTION as RESULTS_CHART
from handlers.checks.trends import TrendRow

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

RECENT = 5  # briefings on the dashboard: the newest
CLOSING_DAYS = 3  # "closing soon": open checks closing within this many days
FOLLOW_UP_DAYS = 7  # follow-ups queued within this many days
OWN_BROADCASTS = 3  # a senior manager's latest broadcasts
HELD = "·" * BAR  # a bar for a figure held back: not an empty bar, which would read as none
HOW_MORE = (
    "`/engage results <briefing id>` shows one briefing's full results and its follow-up "
    "buttons; `/engage trends` shows every briefing."
)
ATTRIBUTED_NOTE = (
    "A follow-up to those yet to take a check, or to those who answered a question wrongly, "
    "shows no count or progress here: how many it went to would say how many had not taken "
    "the check, or had got it wrong."
)


@dataclass(frozen=True)
class LeadDashboard:
    """What the lead's dashboard shows, as gathered: the newest briefings (oldest first, as
    `gather_trends` gives them) and how many were sent in all, the checks closing soon and
    how many, the follow-ups under way, the smallest group, and the time it was built."""

    rows: list[TrendRow]
    sent_in_all: int
    closing: list[Check]
    closing_in_all: int
    follow_ups: list[FollowUpSent]
    min_group: int
    now: datetime


def build_lead_dashboard(dashboard: LeadDashboard, tz: ZoneInfo) -> list[Block]:
    """The three parts, each under its own header: at most 2 + RECENT + 2 + 3 blocks."""
    return [
        *build_recent(dashboard.rows, dashboard.sent_in_all, dashboard.min_group, tz),
        *build_closing(dashboard.closing, dashboard.closing_in_all, dashboard.now, tz),
        *build_follow_ups(dashboard.follow_ups, tz),
    ]


def _header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=text))


def _note(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def _section(block_id: str, text: str) -> SectionBlock:
    return SectionBlock(block_id=block_id, text=MarkdownTextObject(text=text[:3000]))


# -- recent briefings -----------------------------------------------------------------------


def build_recent(rows: list[TrendRow], in_all: int, min_group: int, tz: ZoneInfo) -> list[Block]:
    """The newest briefings, newest first, each with its funnel as released and, when it had
    a check, **Chart** beside it: the funnel as a PNG in the lead's DM (the same button and
    listener as under `/engage results`)."""
    blocks: list[Block] = [_header("Recent briefings")]
    if not rows:
        return [*blocks, _section("dash-recent", "No briefing has gone out yet.")]
    for n, row in enumerate(reversed(rows)):
        section = _section(f"dash-briefing-{n}", "\n".join(funnel_lines(row, tz)))
        if row.sent.check_version is not None and row.figures is not None:
            section.accessory = ButtonElement(
                text="Chart",
                action_id=RESULTS_CHART,
                value=check_value(row.sent.briefing_id, row.sent.check_version),
            )
        blocks.append(section)
    shown = f"The latest {len(rows)} of {in_all:,} sent" if in_all > len(rows) else "All sent"
    blocks.append(
        _note(
            f"{shown}, newest first. Every figure is as released, with its base: figures move "
            f"in steps of at least {min_group} people, so the newest few acts may not show "
            f"yet. {HOW_MORE}"
        )
    )
    return blocks


def funnel_lines(row: TrendRow, tz: ZoneInfo) -> list[str]:
    """One briefing's funnel: reached, acknowledged (when it asked), took the check and
    understood first time (when it had one), each with its bar and base, then as of when."""
    sent, acks = row.sent, row.acks
    version = f" (version {sent.version})" if sent.version > 1 else ""
    lines = [
        f"*{escape(sent.title)}*{version} · `{escape(sent.briefing_id)}` — sent "
        f"{format_local(sent.first_sent, tz)}"
    ]
    if not acks.shown:
        few = f"fewer than {acks.min_group}" if acks.population else "nobody yet"
        lines.append(
            f"Reached {few}: figures are only shown for groups of {acks.min_group} or "
            "more, to protect individuals."
        )
        return lines
    reached = acks.population
    lines.append(f"`{bar(reached, reached)}` Reached: *{reached:,}* people")
    if sent.acknowledge:
        acked = acks.total("acknowledged")
        lines.append(
            f"`{bar(acked, reached)}` Acknowledged: {of(acked, reached, 'reached')}"
            if acked
            else f"`{HELD}` Acknowledged: held back until {acks.min_group} or more have "
            "acknowledged"
        )
    lines += _check_lines(row)
    times = [t for t in (acks.as_of(), _answers_as_of(row)) if t]
    lines.append(
        f"_As of {format_local(max(times), tz)}_" if times else "_No figures released yet_"
    )
    return lines


def _answers_as_of(row: TrendRow) -> str | None:
    return row.figures.answers.as_of() if row.figures is not None else None


def _check_lines(row: TrendRow) -> list[str]:
    """Took the check and understood first time, as released; held back says so."""
    if row.figures is None:
        return ["No check went with it."] if row.sent.check_version is None else []
    answers = row.figures.answers
    if not answers.shown:
        return [
            f"Check: figures are only shown for groups of {answers.min_group} or more, to "
            "protect individuals."
        ]
    took, reached = answers.total("took"), answers.population
    if not took:
        step = answers.min_group
        return [
            f"`{HELD}` Took the check, understood first time: held back until {step} or more "
            "have taken it"
        ]
    first = answers.total("first_time")
    return [
        f"`{bar(took, reached)}` Took the check: {of(took, reached, 'reached')}",
        f"`{bar(first, took)}` Understood first time: {of(first, took, 'who took it')}",
    ]


# -- checks closing soon --------------------------------------------------------------------


def build_closing(checks: list[Check], in_all: int, now: datetime, tz: ZoneInfo) -> list[Block]:
    """Open checks closing within CLOSING_DAYS, soonest first, with when each closes."""
    blocks: list[Block] = [_header("Checks closing soon")]
    if not checks:
        return [*blocks, _section("dash-closing", f"None closes in the next {CLOSING_DAYS} days.")]
    lines = [
        f"• *{escape(c.title)}*{f' (version {c.version})' if c.version > 1 else ''} · "
        f"`{escape(c.briefing_id)}` — closes {format_local(c.closes_at, tz)} "
        f"({time_left(now, c.closes_at)})"
        for c in checks
    ]
    if in_all > len(checks):
        lines.append(f"…and {in_all - len(checks)} more in the next {CLOSING_DAYS} days")
    return [*blocks, _section("dash-closing", "\n".join(lines))]


def time_left(now: datetime, at: str) -> str:
    """`in 40 minutes`, `in 5 hours`, `in 2 days`: rounded down, never `in 0`."""
    seconds = (datetime.fromisoformat(at) - now).total_seconds()
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        n = int(seconds // size)
        if n >= 1:
            return f"in {n} {unit}{'s' if n != 1 else ''}"
    return "in under a minute"


# -- follow-ups under way -------------------------------------------------------------------


def build_follow_ups(follow_ups: list[FollowUpSent], tz: ZoneInfo) -> list[Block]:
    """The follow-ups queued in the last FOLLOW_UP_DAYS, newest first: an anonymous check's
    with its delivery (it went to everyone reached, which is no secret); an attributed one's
    with only what it was and when."""
    blocks: list[Block] = [_header("Follow-ups under way")]
    if not follow_ups:
        return [
            *blocks,
            _section("dash-follow-ups", f"None sent in the last {FOLLOW_UP_DAYS} days."),
        ]
    lines = [follow_up_line(f, tz) for f in follow_ups]
    blocks.append(_section("dash-follow-ups", "\n".join(lines)))
    if any(not f.anonymous for f in follow_ups):
        blocks.append(_note(ATTRIBUTED_NOTE))
    return blocks


def follow_up_line(f: FollowUpSent, tz: ZoneInfo) -> str:
    """One follow-up: when, what, on which briefing, to whom, and (anonymous) its delivery."""
    title = f"*{escape(f.title)}*"
    what = (
        f"a nudge about {title}"
        if f.about == "none"
        else f"a clarification of question {f.about} of {title}"
    )
    line = f"• {format_local(f.created_at, tz)}: {what}"
    if not f.anonymous or f.progress is None:
        whom = "those yet to take it" if f.about == "none" else "those who got it wrong"
        return f"{line}, to {whom}"
    return f"{line}, to everyone reached: {delivery(f.progress, f.status)}"


def delivery(progress: Progress, status: str | None) -> str:
    """`██████░░░░░░` 120 of 400 delivered, 2 could not be reached; sending."""
    total = progress.total
    text = f"`{bar(progress.sent, total)}` {progress.sent:,} of {total:,} delivered"
    if progress.failed:
        text += f", {progress.failed:,} could not be reached"
    if status == "sending":
        text += f"; {progress.waiting:,} still to go"
    elif status == "cancelled":
        text += "; cancelled"
    return text


# -- a senior manager's own broadcasts ------------------------------------------------------


def build_own_broadcasts(broadcasts: list[SentBroadcast], tz: ZoneInfo) -> list[Block]:
    """A publisher's latest briefing broadcasts, newest first: delivered of all its copies
    (posts, direct messages, corrected copies), those that could not be reached, and whether it
    is still sending. Deliveries are Slack's answers, not anything staff did; who acknowledged
    is `/brief status`'s, as released."""
    if not broadcasts:
        return []
    lines = []
    for b in broadcasts:
        version = f" (version {b.version})" if b.version > 1 else ""
        state = delivery(b.progress, b.status)
        if b.status == "done":
            state += "; finished" + (f" {format_local(b.finished_at, tz)}" if b.finished_at else "")
        elif b.status == "cancelled" and b.superseded_by:
            state += f" part-way: version {b.superseded_by} corrects it"
        lines.append(
            f"*{escape(b.title)}*{version} — sent {format_local(b.created_at, tz)}\n{state}"
        )
    return [
        _header("Your latest broadcasts"),
        _section("dash-own-broadcasts", "\n".join(lines)),
        _note("`/brief status <briefing id>` shows who each reached and has acknowledged."),
    ]
