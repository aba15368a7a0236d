"""`/engage` for engagement leads: a check's results, and closing a check early.

Results read at a glance on a phone: the funnel from reached to understood, each question's
share correct and its most-chosen wrong answer (the misconception), clarity and comments, and
a breakdown by team (audience entry). Figures for a team smaller than `MIN_GROUP_SIZE` are
shown as "fewer than N", and more teams are hidden where needed so that a hidden team's figures
cannot be worked out by subtracting shown ones from each other or from the total.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.checks import FOLLOW_UP_ACTION, check_value
from bot.slack.mrkdwn import escape
from bot.slack.roles import RoleCheckUnavailable
from bot.slack.sections import sections
from bot.storage.checks import Results
from bot.timefmt import format_local

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from bot.deps import Deps

HELP_LINES = {
    "results": "`/engage results &lt;briefing id&gt;` — who took its check, who understood, the "
    "misconceptions, by team (engagement leads; senior managers for their own briefings)",
    "export": "`/engage export &lt;briefing id&gt;` — the same figures as a CSV file, in your DM "
    "with me",
    "close": "`/engage close &lt;briefing id&gt;` — close its check early (the same people)",
}
BAR = 12
NOT_ALLOWED = (
    "Only engagement leads, and senior managers for their own briefings, can see a check's results."
)


def bar(part: int, whole: int) -> str:
    """A bar a phone shows in a line: `██████░░░░░░`."""
    filled = round(BAR * part / whole) if whole else 0
    return "█" * filled + "░" * (BAR - filled)


def percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "–"


def suppressed(teams: list[frozenset[str]], everyone: frozenset[str], min_group: int) -> set[int]:
    """Which teams (by index) to hide: every one smaller than `min_group`, and then as few
    more as it takes (the smallest first) so that no hidden team's figures can be worked out
    by adding and subtracting shown ones and the total.

    A team's figure (how many took the check, say) is the sum, over its members, of each
    person's 0 or 1. It can be worked out exactly when the team's membership vector is a
    linear combination of the shown teams' and everyone's: that is subtraction, however
    teams overlap. Teams are few (audience entries), so this is cheap.
    """
    hidden = {i for i, team in enumerate(teams) if len(team) < min_group}
    while hidden and len(hidden) < len(teams):
        shown = [i for i in range(len(teams)) if i not in hidden]
        basis = [teams[i] for i in shown] + [everyone]
        if not any(_in_span(teams[i], basis) for i in hidden):
            break
        hidden.add(min(shown, key=lambda i: (len(teams[i]), i)))
    return hidden


def _in_span(target: frozenset[str], basis: list[frozenset[str]]) -> bool:
    """Is `target`'s membership vector a rational combination of `basis`'s vectors?"""
    people = sorted(set(target).union(*basis))
    # Group people who belong to exactly the same sets: the vectors live on those regions.
    regions: dict[tuple[bool, ...], None] = {}
    for person in people:
        regions[tuple(person in s for s in [target, *basis])] = None
    keys = list(regions)

    def vector(n: int) -> list[Fraction]:
        return [Fraction(int(k[n])) for k in keys]

    rows = [vector(n + 1) for n in range(len(basis))]
    return _rank([*rows, vector(0)]) == _rank(rows)


def _rank(rows: list[list[Fraction]]) -> int:
    """Gaussian elimination over the rationals (exact: no rounding decides privacy)."""
    rows = [list(r) for r in rows]
    rank, columns = 0, len(rows[0]) if rows else 0
    for col in range(columns):
        pivot = next((r for r in range(rank, len(rows)) if rows[r][col] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for r in range(len(rows)):
            if r != rank and rows[r][col] != 0:
                factor = rows[r][col] / rows[rank][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[rank], strict=True)]
        rank += 1
    return rank


def quoted(comment: str, limit: int = 600) -> str:
    """A person's comment as a quote, every line of it, so it cannot pass for a result line."""
    text = comment if len(comment) <= limit else comment[: limit - 1] + "…"
    return "\n".join("> " + escape(line) for line in text.splitlines() or [""])


def build_results(results: Results, min_group: int, tz: ZoneInfo) -> list[Block]:
    """The results a lead reads: funnel, questions, clarity, teams."""
    check = results.check
    state = (
        f"closed {format_local(check.closed_at, tz)}"
        if check.closed_at
        else f"open until {format_local(check.closes_at, tz)}"
    )
    mode = " · anonymous" if check.mode == "anonymous" else ""
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*{escape(check.title)}* (version {check.version}) — check {state}{mode}"
            )
        )
    ]
    reached = results.reached
    if reached < min_group:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"It reached {'fewer than ' + str(min_group) if reached else 'nobody'}"
                    f" people. Figures are only shown for groups of {min_group} or more, to "
                    "protect individuals."
                )
            )
        )
        return blocks
    funnel = [
        ("Reached", reached),
        ("Acknowledged", results.acknowledged),
        ("Took the check", results.took),
    ]
    if results.took == 0 or results.took >= min_group:  # how a handful did would be theirs
        funnel += [
            ("Understood first time", results.first_time),
            ("Understood after the retake", results.after_retake),
        ]
    lines = [f"`{bar(n, reached)}` {label}: *{n}* ({percent(n, reached)})" for label, n in funnel]
    blocks.append(SectionBlock(block_id="funnel", text=MarkdownTextObject(text="\n".join(lines))))
    if 0 < results.took < min_group:
        # Per-question figures over a handful of takers would say what each of them answered.
        blocks.append(
            SectionBlock(
                block_id="questions",
                text=MarkdownTextObject(
                    text=f"How many understood, each question's figures, the misconceptions and "
                    f"the clarity ratings appear once {min_group} or more people have taken "
                    "the check."
                ),
            )
        )
        return blocks + _follow_ups(results, min_group, tz, questions=False)
    if results.took:
        question_lines = []
        for n, q in enumerate(results.per_question, 1):
            line = (
                f"*{n}. {escape(q['ask'])}*\n`{bar(q['correct'], q['answered'])}` "
                f"{percent(q['correct'], q['answered'])} correct"
            )
            if q["misconception"]:
                line += (
                    f"; most chosen wrong answer: “{escape(q['misconception'])}” "
                    f"({q['misconception_count']} of {q['answered']}, "
                    f"{percent(q['misconception_count'], q['answered'])})"
                )
            question_lines.append(line)
        blocks += sections("questions", question_lines)
    if results.clarity:
        average = sum(results.clarity) / len(results.clarity)
        blocks.append(
            SectionBlock(
                block_id="clarity",
                text=MarkdownTextObject(
                    text=f"*Clarity* {average:.1f} out of 5, from {len(results.clarity)} ratings"
                ),
            )
        )
    if results.comments:
        more = len(results.comments) - 10
        lines = ["*What was unclear* (without names)"]
        lines += [quoted(c) for c in results.comments[:10]]
        if more > 0:
            lines.append(f"…and {more} more")
        blocks += sections("comments", lines)
    if len(results.teams) > 1:
        everyone = frozenset().union(*(t["members"] for t in results.teams))
        hidden = suppressed([t["members"] for t in results.teams], everyone, min_group)
        team_lines = []
        for i, team in enumerate(results.teams):
            name = escape(team["team"])
            if i in hidden:
                team_lines.append(
                    f"• {name}: fewer than {min_group}"
                    if team["reached"] < min_group
                    else f"• {name}: hidden, so a smaller team's figures stay private"
                )
                continue
            understood = (
                f", understood first time {team['first_time']} "
                f"({percent(team['first_time'], team['reached'])})"
                if team["took"] == 0 or team["took"] >= min_group
                else ""  # how a team's handful of takers did would be theirs
            )
            team_lines.append(
                f"• {name}: reached {team['reached']}, took the check {team['took']} "
                f"({percent(team['took'], team['reached'])}){understood}"
            )
        blocks += sections("teams", ["*By team*", *team_lines[:40]])
    blocks += _follow_ups(results, min_group, tz, questions=True)
    if results.outside:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"{results.outside} answer(s) from outside the audience are left out."
                    )
                ]
            )
        )
    return blocks


def _follow_ups(results: Results, min_group: int, tz: ZoneInfo, *, questions: bool) -> list[Block]:
    """The follow-ups sent and what followed, then the buttons to send more while the check is
    open: a nudge to those yet to take it always (it says nothing of anyone's answers), and a
    clarification per misunderstood question once the questions' figures are shown."""
    check = results.check
    blocks: list[Block] = []
    if results.follow_ups:
        lines = ["*Follow-ups*, before and after"]
        lines += [
            follow_up_line(f, check.mode, results.took, min_group, tz) for f in results.follow_ups
        ]
        blocks += sections("follow-ups", lines)
    if check.closed_at is None:
        buttons = [
            ButtonElement(
                text=f"Clarify question {n}"[:75],
                action_id=f"{FOLLOW_UP_ACTION}_{n}",  # unique in the block, as Slack requires
                value=f"{check_value(check.briefing_id, check.version)}:{n}",
            )
            for n, q in enumerate(results.per_question, 1)
            if questions and q["misconception"]
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


def _of_them(n: int) -> str:
    return f"{n} of them {'has' if n == 1 else 'have'}"


def follow_up_line(
    f: dict[str, Any], mode: str, took_now: int, min_group: int, tz: ZoneInfo
) -> str:
    """One clarification: when, to how many, and what followed, against how things stood."""
    when = format_local(f["at"], tz)
    if f["about"] == "none":
        if mode == "anonymous":
            line = f"• {when}: a nudge to everyone reached ({f['to']})"
        else:
            line = (
                f"• {when}: a nudge to the {f['to']} yet to take it; {_of_them(f['since'])} "
                "taken it since"
            )
        if f["took_before"] is not None:
            then_now = f"took the check: {f['took_before']} then, {took_now} now"
            line += f"; {then_now}" if mode == "anonymous" else f" ({then_now})"
        return line
    n = f["about"]
    # Figures about a question are shown only while they cover enough people (MIN_GROUP_SIZE
    # may have been raised since the clarification went).
    enough = (f["answered_before"] or 0) >= min_group
    if mode != "anonymous":
        if not enough:
            return f"• {when}: a clarification on question {n} to those who got it wrong"
        return (
            f"• {when}: a clarification on question {n} to the {f['to']} who got it wrong; "
            f"{_of_them(f['since'])} got everything right since"
        )
    line = f"• {when}: a clarification on question {n} to everyone reached ({f['to']})"
    if enough:
        line += (
            f"; at first {percent(f['correct_before'], f['answered_before'])} correct "
            f"({f['correct_before']} of {f['answered_before']})"
        )
    again = f["reanswered"]
    if again >= min_group:
        line += (
            f"; answered again since by {again}: "
            f"{percent(f['reanswered_correct'], again)} correct ({f['reanswered_correct']})"
        )
    elif again:
        line += f"; answered again by fewer than {min_group} so far (shown from {min_group})"
    else:
        line += "; nobody has answered it again yet"
    return line


async def answer(deps: Deps, user_id: str, text: str) -> tuple[str, list[dict[str, Any]] | None]:
    """The private answer to `/engage <text>`: (text, blocks)."""
    sub, _, rest = " ".join(text.split()).partition(" ")
    sub = sub.lower()
    briefing_id, _, version_text = rest.strip().lower().partition(" ")
    version = int(version_text) if version_text.isdigit() and len(version_text) < 7 else None
    if sub not in HELP_LINES:  # /engage routes only these words here
        return f"I don't know `/engage {escape(sub[:40])}`. Try `/engage help`.", None
    if not briefing_id:
        return f"Which briefing? For example `/engage {sub} recruitment-funding`.", None
    check = await deps.storage.checks.latest(briefing_id, version)
    try:
        lead = await deps.roles.is_engagement_lead(user_id)
        manager = not lead and await deps.roles.is_senior_manager(user_id)
    except RoleCheckUnavailable:
        return "I couldn't check your role just now. Try again soon.", None
    if not (lead or manager):
        return NOT_ALLOWED, None
    if check is None:
        which = f" (version {version})" if version else ""
        return f"`{escape(briefing_id[:64])}`{which} has no check that has been sent.", None
    if manager and await deps.storage.checks.published_by(check) != user_id:
        return "Senior managers can see the results of the briefings they published.", None
    if sub == "close":
        if not await deps.storage.checks.close(check, deps.clock()):
            return f"The check on *{escape(check.title)}* has closed already.", None
        return (
            f"Closed the check on *{escape(check.title)}*: no more answers are taken, and its "
            f"results are final. `/engage results {briefing_id}` shows them.",
            None,
        )
    results = await deps.storage.checks.results_for(check.briefing_id, check.version)
    assert results is not None
    await deps.storage.checks.record_access(check, user_id=user_id, action=sub, now=deps.clock())
    if sub == "export":
        return await _export(deps, user_id, results), None
    # Off the event loop: the suppression's exact arithmetic grows with teams and people.
    blocks = await asyncio.to_thread(
        build_results, results, deps.config.min_group_size, deps.config.timezone
    )
    return f"Results of the check on {escape(check.title)}", [b.to_dict() for b in blocks]


def build_export(results: Results, min_group: int, tz: ZoneInfo) -> str:
    """The results as CSV for an Improvement Board paper, with the same suppression as on
    screen: nothing for a small audience, no per-question figures for few takers, small (and
    complementary) teams hidden."""
    check = results.check
    out = io.StringIO()
    rows = csv.writer(out)
    state = (
        f"closed {format_local(check.closed_at, tz)}"
        if check.closed_at
        else f"open until {format_local(check.closes_at, tz)}"
    )
    rows.writerows(
        [
            ["Line of Sight: comprehension check results"],
            ["briefing", check.briefing_id],
            ["title", check.title],
            ["version", check.version],
            ["mode", check.mode],
            ["check", state],
            [],
        ]
    )
    reached = results.reached
    if reached < min_group:
        rows.writerow([f"figures hidden: it reached fewer than {min_group} people"])
        return out.getvalue()
    rows.writerow(["measure", "people", "percent of reached"])
    funnel = [
        ("reached", reached),
        ("acknowledged", results.acknowledged),
        ("took the check", results.took),
    ]
    if results.took == 0 or results.took >= min_group:
        funnel += [
            ("understood first time", results.first_time),
            ("understood after the retake", results.after_retake),
        ]
    for label, n in funnel:
        rows.writerow([label, n, round(100 * n / reached)])
    rows.writerow([])
    if results.took < min_group:
        rows.writerow([f"question figures hidden until {min_group} or more have taken it"])
        return out.getvalue()
    rows.writerow(
        [
            "question",
            "answered",
            "correct",
            "percent correct",
            "most chosen wrong answer",
            "chosen by",
        ]
    )
    for q in results.per_question:
        rows.writerow(
            [
                q["ask"],
                q["answered"],
                q["correct"],
                round(100 * q["correct"] / q["answered"]) if q["answered"] else "",
                q["misconception"] or "",
                q["misconception_count"] or "",
            ]
        )
    if len(results.teams) > 1:
        everyone = frozenset().union(*(t["members"] for t in results.teams))
        hidden = suppressed([t["members"] for t in results.teams], everyone, min_group)
        rows.writerow([])
        rows.writerow(["team", "reached", "took the check", "understood first time"])
        for i, team in enumerate(results.teams):
            if i in hidden:
                rows.writerow(
                    [
                        team["team"],
                        f"fewer than {min_group}" if team["reached"] < min_group else "hidden",
                        "",
                        "",
                    ]
                )
            else:
                few = 0 < team["took"] < min_group
                rows.writerow(
                    [
                        team["team"],
                        team["reached"],
                        team["took"],
                        f"hidden: fewer than {min_group} took it" if few else team["first_time"],
                    ]
                )
    return out.getvalue()


async def _export(deps: Deps, user_id: str, results: Results) -> str:
    """Upload the CSV to the requester's DM with the bot (files_upload_v2)."""
    check = results.check
    content = await asyncio.to_thread(
        build_export, results, deps.config.min_group_size, deps.config.timezone
    )
    try:
        opened = await deps.client.conversations_open(users=user_id)
        await deps.client.files_upload_v2(
            channel=opened["channel"]["id"],
            filename=f"{check.briefing_id}-v{check.version}-check.csv",
            title=f"Check results: {check.title}"[:250],
            content=content,
            initial_comment="The check's results, with small groups hidden as on screen.",
        )
    except (SlackApiError, SlackRequestError, aiohttp.ClientError, TimeoutError) as error:
        logger.warning("could not upload an export (%s)", type(error).__name__)
        return "I couldn't upload the file just now. Try again in a minute."
    return f"The results of the check on *{escape(check.title)}* are in your DM with me, as CSV."
