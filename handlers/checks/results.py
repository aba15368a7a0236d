"""A check's results as a lead reads them on screen: pure builders over the figures the
disclosure layer released (`deps.storage.disclosure`), called by `/engage results`
(commands.py) and by tests; `/engage export`'s CSV is built in export.py from the same.

Results read at a glance on a phone: the funnel from reached to understood, each question's
share correct and its most-chosen wrong answer (the misconception), clarity and comments, and
a breakdown by team (audience entry). No group under `MIN_GROUP_SIZE` can be worked out from
the figures, by subtraction, overlaps or two views a minute apart, and each says its base.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.comprehension import FOLLOW_UP_ACTION, check_value, per_question
from bot.disclosure import Figures
from bot.slack.mrkdwn import escape
from bot.slack.sections import sections
from bot.storage.checks import Check
from bot.storage.disclosure import CheckFigures, FollowUpFigures
from bot.timefmt import format_local

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

BAR = 12
CHART_ACTION = "results_chart"  # the Chart button: the funnel as a PNG in the lead's DM


def bar(part: int, whole: int) -> str:
    """A bar a phone shows in a line: `██████░░░░░░`."""
    filled = round(BAR * part / whole) if whole else 0
    return "█" * filled + "░" * (BAR - filled)


def percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "–"


def quoted(comment: str, limit: int = 600) -> str:
    """A person's comment as a quote, every line of it, so it cannot pass for a result line."""
    text = comment if len(comment) <= limit else comment[: limit - 1] + "…"
    return "\n".join("> " + escape(line) for line in text.splitlines() or [""])


def of(n: int, base: int, whom: str) -> str:
    """A figure with its base, so nobody misreads it: `*7* of the 13 who took it (54%)`."""
    return f"*{n}* of the {base:,} {whom} ({percent(n, base)})" if base else f"*{n}*"


def held_back(min_group: int, done: str, *, team: bool = False) -> str:
    """What a count of people shows before any of it is released: nothing yet, or fewer than
    `min_group` so far, look alike on purpose (telling them apart would say someone acted), and
    a 0 would read as "nobody"."""
    return f"held back until {min_group} or more{' in the team' if team else ''} have {done}"


def release_note(figures: Figures, tz: ZoneInfo) -> str:
    """When the figures were released, and why the newest acts may not show yet."""
    steps = (
        f"Figures move in steps of at least {figures.min_group} people in each group, so "
        "the newest few answers and acknowledgements may not show yet, and none can be told "
        "apart by looking twice."
    )
    at = figures.as_of()
    if at is None:
        return f"No answers or acknowledgements to show yet. {steps}"
    return f"As of {format_local(at, tz)}. {steps}"


def question_figures(check: Check, answers: Figures) -> list[dict[str, Any]]:
    """Each question's released figures: answered, correct, the most-chosen wrong answer."""
    return per_question(check.questions, lambda n, o: answers.total(f"q:{n}:{o}"))


def check_state(check: Check, tz: ZoneInfo) -> str:
    """Whether the check is open, and until when, or when it closed."""
    if check.closed_at:
        return f"closed {format_local(check.closed_at, tz)}"
    return f"open until {format_local(check.closes_at, tz)}"


def build_results(
    check: Check, figures: CheckFigures, tz: ZoneInfo, names: Mapping[str, str] | None = None
) -> list[Block]:
    """The results a lead reads: funnel, questions, clarity, teams, follow-ups — every figure
    as the disclosure layer released it, each with its base."""
    answers = figures.answers
    mode = " · anonymous" if check.mode == "anonymous" else ""
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*{escape(check.title)}* (version {check.version}) — check "
                f"{check_state(check, tz)}{mode}"
            )
        )
    ]
    if not answers.shown:
        return [*blocks, _too_few(answers)]
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=release_note(answers, tz))]))
    blocks.append(_funnel(figures, check.mode))
    blocks.append(chart_button(check))
    questions = question_figures(check, answers)
    if not answers.total("took"):
        blocks.append(
            SectionBlock(
                block_id="questions",
                text=MarkdownTextObject(
                    text=f"How many understood, each question's figures, the misconceptions and "
                    f"the clarity ratings appear once {answers.min_group} or more people have "
                    "taken the check."
                ),
            )
        )
        return blocks + _follow_ups(check, figures, questions, tz)
    blocks += sections("questions", [_question_line(n, q) for n, q in enumerate(questions, 1)])
    blocks += _clarity(answers)
    blocks += _comments(figures)
    team_lines = _team_lines(figures, names or {})
    if team_lines:
        blocks += sections("teams", ["*By team*", *team_lines[:40]])
    return blocks + _follow_ups(check, figures, questions, tz)


def chart_button(check: Check) -> ActionsBlock:
    """**Chart**: the funnel drawn as a PNG, sent to the lead's DM (chart_actions.py)."""
    button = ButtonElement(
        text="Chart",
        action_id=CHART_ACTION,
        value=check_value(check.briefing_id, check.version),
    )
    return ActionsBlock(block_id="chart", elements=[button])


def _too_few(answers: Figures) -> SectionBlock:
    """Nothing shown for an audience under the smallest group, and why."""
    min_group, reached = answers.min_group, answers.population
    return SectionBlock(
        text=MarkdownTextObject(
            text=f"It reached {'fewer than ' + str(min_group) if reached else 'nobody'}"
            f" people. Figures are only shown for groups of {min_group} or more, to "
            "protect individuals."
        )
    )


def _funnel(figures: CheckFigures, check_mode: str) -> SectionBlock:
    """From reached to understood, each step with its base."""
    answers, acks = figures.answers, figures.acks
    reached = answers.population
    took, retook = answers.total("took"), answers.total("retook")
    blank, step = f"`{'·' * BAR}`", answers.min_group
    if not acks.shown:  # its round (a version the check outlived) reached too few to show
        acked = f"{blank} Acknowledged: _held back: this version's acknowledgements reached "
        acked += f"fewer than {acks.min_group} people_"
    elif not acks.total("acknowledged"):
        acked = f"{blank} Acknowledged: _{held_back(step, 'acknowledged')}_"
    else:
        acked = f"`{bar(acks.total('acknowledged'), acks.population)}` Acknowledged: "
        acked += of(acks.total("acknowledged"), acks.population, "reached")
    lines = [
        f"`{bar(reached, reached)}` Reached: *{reached:,}* people",
        acked,
        f"`{bar(took, reached)}` Took the check: " + of(took, reached, "reached")
        if took
        else f"{blank} Took the check: _{held_back(step, 'taken it')}_",
    ]
    if took:
        lines.append(
            f"`{bar(answers.total('first_time'), took)}` Understood first time: "
            + of(answers.total("first_time"), took, "who took it")
        )
    if retook:
        lines.append(
            f"`{bar(answers.total('after_retake'), retook)}` Understood after the retake: "
            + of(answers.total("after_retake"), retook, "who retook it")
        )
    if check_mode == "attributed":
        lines.append("_Taking the check counts as having read the briefing: it acknowledges it._")
    return SectionBlock(block_id="funnel", text=MarkdownTextObject(text="\n".join(lines)))


def _question_line(n: int, q: dict[str, Any]) -> str:
    """One question's share correct, and its most chosen wrong answer."""
    line = (
        f"*{n}. {escape(q['ask'])}*\n`{bar(q['correct'], q['answered'])}` "
        f"{percent(q['correct'], q['answered'])} correct ({q['correct']} of the "
        f"{q['answered']} who answered)"
    )
    if q["misconception"]:
        line += (
            f"; most chosen wrong answer: “{escape(q['misconception'])}” "
            f"({q['misconception_count']} of {q['answered']}, "
            f"{percent(q['misconception_count'], q['answered'])})"
        )
    return line


def _clarity(answers: Figures) -> list[Block]:
    """The average clarity rating, from how many ratings; nothing when none were given."""
    rated = answers.total("rated")
    if not rated:
        return []
    average = sum(k * answers.total(f"clarity:{k}") for k in range(1, 6)) / rated
    return [
        SectionBlock(
            block_id="clarity",
            text=MarkdownTextObject(text=f"*Clarity* {average:.1f} out of 5, from {rated} ratings"),
        )
    ]


def _comments(figures: CheckFigures) -> list[Block]:
    """The released comments, ten at most, quoted so none can pass for a result line."""
    if not figures.comments:
        return []
    more = figures.comments_shown - min(10, len(figures.comments))
    lines = ["*What was unclear* (without names, shown in batches)"]
    lines += [quoted(c) for c in figures.comments[:10]]
    if more > 0:
        lines.append(f"…and {more} more")
    return sections("comments", lines)


def _team_lines(figures: CheckFigures, names: Mapping[str, str]) -> list[str]:
    """Each released group's figures, and the groups hidden so that no smaller one's can be
    worked out."""
    answers, acks = figures.answers, figures.acks
    min_group = answers.min_group
    lines = []
    for name in answers.groups:
        reach = answers.group_reach[name]
        took = answers.group(name, "took")
        line = f"• {escape(names.get(name, name))}: reached {reach:,}"
        if name in acks.groups:
            acked = acks.group(name, "acknowledged")
            line += (
                f", acknowledged {acked} ({percent(acked, acks.group_reach[name])})"
                if acked
                else f", acknowledged: {held_back(min_group, 'acknowledged', team=True)}"
            )
        line += (
            f", took the check {took} ({percent(took, reach)})"
            if took
            else f", took the check: {held_back(min_group, 'taken it', team=True)}"
        )
        if took:
            first = answers.group(name, "first_time")
            line += f", understood first time {first} of the {took} who took it"
            line += f" ({percent(first, took)})"
        lines.append(line)
    for name in answers.hidden:
        lines.append(
            f"• {escape(names.get(name, name))}: fewer than {min_group}"
            if answers.group_reach[name] < min_group
            else f"• {escape(names.get(name, name))}: hidden, so that a smaller group's figures "
            "stay private"
        )
    return lines


def _follow_ups(
    check: Check, figures: CheckFigures, questions: list[dict[str, Any]], tz: ZoneInfo
) -> list[Block]:
    """The follow-ups sent and what followed, then the buttons to send more while the check is
    open: a nudge to those yet to take it always (it says nothing of anyone's answers), and a
    clarification per misunderstood question once the questions' figures are shown."""
    blocks: list[Block] = []
    took_now = figures.answers.total("took")
    if figures.follow_ups:
        lines = ["*Follow-ups*, before and after"]
        lines += [follow_up_line(f, took_now, tz) for f in figures.follow_ups]
        blocks += sections("follow-ups", lines)
    if check.closed_at is None:
        buttons = [
            ButtonElement(
                text=f"Clarify question {n}"[:75],
                action_id=f"{FOLLOW_UP_ACTION}_{n}",  # unique in the block, as Slack requires
                value=f"{check_value(check.briefing_id, check.version)}:{n}",
            )
            for n, q in enumerate(questions, 1)
            if took_now and q["misconception"]
        ]
        buttons.append(
            ButtonElement(
                text="Nudge those yet to take it",
                action_id=f"{FOLLOW_UP_ACTION}_none",
                value=f"{check_value(check.briefing_id, check.version)}:none",
            )
        )
        blocks.append(ActionsBlock(block_id="follow-up", elements=buttons[:25]))
    return blocks


def follow_up_line(f: FollowUpFigures, took_now: int, tz: ZoneInfo) -> str:
    """One follow-up: when, to whom, and what followed, in released figures only."""
    when = format_local(f.at, tz)
    what = "a nudge" if f.about == "none" else f"a clarification on question {f.about}"
    if f.everyone is not None:  # anonymous: to everyone reached
        line = f"• {when}: {what} to everyone reached ({f.everyone})"
        if f.about == "none":
            if f.before is not None:
                line += f"; took the check: {f.before['took']} then, {took_now} now"
            return line
        if f.before is not None and f.before["answered"]:
            line += (
                f"; at first {percent(f.before['correct'], f.before['answered'])} correct "
                f"({f.before['correct']} of {f.before['answered']})"
            )
        assert f.again is not None  # an anonymous clarification's answers again
        again = f.again.total("again")
        if again:
            right = f.again.total("again_correct")
            line += f"; answered again since by {again}: {percent(right, again)} correct ({right})"
        else:
            line += (
                f"; answers given again show once {f.again.min_group} or more have answered again"
            )
        return line
    # Attributed: who it went to, and what they did since, are never counted: that group is
    # set by acts not yet released when it went, so its figures, beside the check's, could
    # single people out. What followed shows in the check's own released figures.
    if f.about == "none":
        line = f"• {when}: a nudge to those yet to take it"
        if f.before is not None:  # both released figures of the check
            line += f"; took the check: {f.before['took']} then, {took_now} now"
        return line
    return (
        f"• {when}: a clarification on question {f.about} to those who got it wrong (what "
        "followed shows in “Understood after the retake”)"
    )
