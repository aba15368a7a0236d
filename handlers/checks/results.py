"""`/engage` for engagement leads: a check's results, and closing a check early.

Results read at a glance on a phone: the funnel from reached to understood, each question's
share correct and its most-chosen wrong answer (the misconception), clarity and comments, and
a breakdown by team (audience entry). Figures for a team smaller than `MIN_GROUP_SIZE` are
shown as "fewer than N"; when one team is hidden, the next smallest is hidden too, so the hidden
one cannot be worked out by subtracting the others from the total.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.slack.mrkdwn import escape
from bot.slack.roles import RoleCheckUnavailable
from bot.storage.checks import Results
from bot.timefmt import format_local

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from bot.deps import Deps

HELP = (
    "*Engagement* — did the message land?\n"
    "• `/engage results &lt;briefing id&gt;` — who took its check, who understood, the "
    "misconceptions, by team (engagement leads; senior managers for their own briefings)\n"
    "• `/engage close &lt;briefing id&gt;` — close its check early (the same people)"
)
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


def suppressed(counts: list[int], min_group: int) -> set[int]:
    """Which teams (by index) to hide: every one under `min_group`, and, if exactly one is
    hidden, the next smallest as well (complementary suppression: one hidden cell could be
    worked out as the total less the others)."""
    hidden = {i for i, n in enumerate(counts) if n < min_group}
    if len(hidden) == 1 and len(counts) > 1:
        shown = sorted((n, i) for i, n in enumerate(counts) if i not in hidden)
        hidden.add(shown[0][1])
    return hidden


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
        ("Understood first time", results.first_time),
        ("Understood after the retake", results.after_retake),
    ]
    lines = [f"`{bar(n, reached)}` {label}: *{n}* ({percent(n, reached)})" for label, n in funnel]
    blocks.append(SectionBlock(block_id="funnel", text=MarkdownTextObject(text="\n".join(lines))))
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
        blocks.append(
            SectionBlock(
                block_id="questions", text=MarkdownTextObject(text="\n".join(question_lines))
            )
        )
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
        shown = "\n".join(f"> {escape(c)}" for c in results.comments[:10])
        more = len(results.comments) - 10
        blocks.append(
            SectionBlock(
                block_id="comments",
                text=MarkdownTextObject(
                    text=f"*What was unclear* (without names)\n{shown}"
                    + (f"\n…and {more} more" if more > 0 else "")
                ),
            )
        )
    if len(results.teams) > 1:
        hidden = suppressed([t["reached"] for t in results.teams], min_group)
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
            team_lines.append(
                f"• {name}: reached {team['reached']}, took the check {team['took']} "
                f"({percent(team['took'], team['reached'])}), understood first time "
                f"{team['first_time']} ({percent(team['first_time'], team['reached'])})"
            )
        blocks.append(
            SectionBlock(
                block_id="teams",
                text=MarkdownTextObject(text="*By team*\n" + "\n".join(team_lines)),
            )
        )
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


async def answer(deps: Deps, user_id: str, text: str) -> tuple[str, list[dict[str, Any]] | None]:
    """The private answer to `/engage <text>`: (text, blocks)."""
    sub, _, rest = " ".join(text.split()).partition(" ")
    sub = sub.lower()
    briefing_id = rest.strip().lower()
    if sub in ("", "help"):
        return HELP, None
    if sub not in ("results", "close"):
        return f"I don't know `/engage {escape(sub[:40])}`. Try `/engage help`.", None
    if not briefing_id:
        return f"Which briefing? For example `/engage {sub} recruitment-funding`.", None
    check = await deps.storage.checks.latest(briefing_id)
    try:
        lead = await deps.roles.is_engagement_lead(user_id)
        manager = not lead and await deps.roles.is_senior_manager(user_id)
    except RoleCheckUnavailable:
        return "I couldn't check your role just now. Try again soon.", None
    if not (lead or manager):
        return NOT_ALLOWED, None
    if check is None:
        return f"`{escape(briefing_id[:64])}` has no check that has been sent.", None
    if manager and await deps.storage.checks.published_by(check) != user_id:
        return "Senior managers can see the results of the briefings they published.", None
    if sub == "close":
        closed = await deps.storage.checks.close(briefing_id, deps.clock())
        if closed is None:
            return f"The check on *{escape(check.title)}* has closed already.", None
        return (
            f"Closed the check on *{escape(check.title)}*: no more answers are taken, and its "
            f"results are final. `/engage results {briefing_id}` shows them.",
            None,
        )
    results = await deps.storage.checks.results_for(check.briefing_id, check.version)
    assert results is not None
    blocks = build_results(results, deps.config.min_group_size, deps.config.timezone)
    return f"Results of the check on {escape(check.title)}", [b.to_dict() for b in blocks]
