"""The weekly digest as an engagement lead reads it in their DM: pure builders over what
`digest.py` gathered.

Four parts, each saying when it has nothing: the briefings first sent since the last digest,
each with its funnel as the disclosure layer released it (the lines `/engage trends` shows:
every figure with its base, what is held back said so, never a number); the checks closing in
the coming week; the surgery board's top questions by votes; the week's practice-search gaps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.slack.mrkdwn import escape, escape_within
from bot.slack.sections import sections
from bot.storage.digests import ClosingCheck
from bot.storage.question_rows import Question
from bot.storage.search_gaps import Gap
from bot.timefmt import format_local
from handlers.checks.trends import Trend, briefing_lines, steps_note

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

TITLE = "Your weekly digest"
FORUMS = {"surgery": "Monthly staff surgery", "pag": "Practice Advisory Group"}
CLOSING = 15  # checks listed as closing: the rest are counted, so the message stays in bounds


@dataclass(frozen=True)
class Digest:
    """One week's digest as gathered: what was new since `since`, up to `until`. `trend`
    holds the new briefings (the newest few) with their released figures, and is None until
    they are released (a week with nothing new never asks the disclosure layer)."""

    since: datetime
    until: datetime
    new_briefings: int
    trend: Trend | None
    closing: list[ClosingCheck]
    questions: list[Question]  # the board's top by votes
    new_questions: int  # put on the board since `since`
    gaps: list[Gap]
    schedule: str  # when it goes, as DIGEST_AT says

    @property
    def items(self) -> int:
        """What is new: nothing, and the week is skipped (no message at all)."""
        return self.new_briefings + len(self.closing) + self.new_questions + len(self.gaps)


def build_digest(digest: Digest, tz: ZoneInfo) -> dict[str, Any]:
    """The DM: its notification text and blocks (well under Slack's 50 blocks and 3,000
    characters a section: a briefing's lines fit one section, the lists are packed)."""
    since = format_local(digest.since, tz)
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=TITLE)),
        ContextBlock(
            elements=[MarkdownTextObject(text=f"What is new since {since}, for engagement leads.")]
        ),
    ]
    blocks += briefing_blocks(digest, tz)
    blocks += [DividerBlock(), *closing_blocks(digest.closing, tz)]
    blocks += [DividerBlock(), *question_blocks(digest.questions, digest.new_questions)]
    blocks += [DividerBlock(), *gap_blocks(digest.gaps, gaps_from(digest.since, tz))]
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Sent {escape(digest.schedule)} to each engagement lead, skipped in a "
                    "week with nothing new. More: `/engage trends`, `/engage results <id>`, "
                    "`/engage gaps`."
                )
            ]
        )
    )
    return {"text": summary(digest), "blocks": [b.to_dict() for b in blocks]}


def summary(digest: Digest) -> str:
    """The notification's one line: how many of each."""
    parts = [
        _count(digest.new_briefings, "new briefing"),
        _count(len(digest.closing), "check closing", "checks closing"),
        _count(digest.new_questions, "new surgery question"),
        _count(len(digest.gaps), "practice gap"),
    ]
    return f"{TITLE}: " + ", ".join(parts)


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def briefing_blocks(digest: Digest, tz: ZoneInfo) -> list[Block]:
    """The new briefings, oldest first, each with its funnel as released."""
    heading = f"*New briefings* since {format_local(digest.since, tz)}"
    trend = digest.trend
    if trend is None or not trend.rows:
        return [_section("briefings", f"{heading}\nNone was sent.")]
    if digest.new_briefings > len(trend.rows):
        heading += (
            f": the latest {len(trend.rows)} of {digest.new_briefings:,} (the rest: "
            "`/engage trends 8d`)"
        )
    blocks: list[Block] = [
        _section("briefings", heading),
        ContextBlock(elements=[MarkdownTextObject(text=steps_note(trend.min_group))]),
    ]
    for n, row in enumerate(trend.rows, 1):
        blocks += sections(f"briefing-{n}", ["\n".join(briefing_lines(row, tz))])[:1]
    return blocks


def closing_blocks(closing: list[ClosingCheck], tz: ZoneInfo) -> list[Block]:
    """The checks closing in the coming week, soonest first."""
    heading = "*Checks closing in the coming week*"
    if not closing:
        return [_section("closing", f"{heading}\nNone closes in the coming week.")]
    lines = [heading]
    for check in closing[:CLOSING]:
        version = f" (version {check.version})" if check.version > 1 else ""
        mode = " · anonymous" if check.mode == "anonymous" else ""
        lines.append(
            f"• *{escape_within(check.title, 200)}*{version} — closes "
            f"{format_local(check.closes_at, tz)}{mode} · `/engage results "
            f"{escape(check.briefing_id)}`"
        )
    if len(closing) > CLOSING:
        lines.append(f"…and {len(closing) - CLOSING} more")
    return sections("closing", lines)


def question_blocks(questions: list[Question], new: int) -> list[Block]:
    """The board's top questions by votes (what staff want raised), and how many are new."""
    heading = "*Top surgery questions* by votes"
    if new:
        heading += f" ({_count(new, 'question')} put on the board since the last digest)"
    if not questions:
        return [_section("questions", f"{heading}\nThe board has no questions open for votes.")]
    lines = [heading]
    for n, q in enumerate(questions, 1):
        lines.append(
            f"{n}. “{escape_within(q.text, 300)}” — *{q.votes}* vote{'' if q.votes == 1 else 's'}"
            f" · {FORUMS.get(q.forum, escape(q.forum))} · {escape(q.ref)}"
        )
    return sections("questions", lines)


def gaps_from(since: datetime, tz: ZoneInfo) -> date:
    """The first day whose practice gaps a digest covering from `since` lists: the last
    digest's own day (gaps are kept by day, so that day's show in both rather than neither)."""
    return since.astimezone(tz).date()


def gap_blocks(gaps: list[Gap], since: date) -> list[Block]:
    """What staff searched practice guidance for and did not find, most searched first."""
    heading = f"*Practice gaps*: searched for since {since.day} {since:%b %Y}, not found or no help"
    if not gaps:
        return [_section("gaps", f"{heading}\nNone: every search found something that helped.")]
    lines = [heading]
    for gap in gaps:
        why = []
        if gap.no_match:
            why.append(f"{gap.no_match} found nothing")
        if gap.weak:
            why.append(f"{gap.weak} found only what might help")
        if gap.unhelpful:
            why.append(f"{gap.unhelpful} did not help")
        raised = f" · raised as {escape(gap.raised_as)}" if gap.raised_as else ""
        lines.append(
            f"• “{escape_within(gap.query, 200)}” — searched {_count(gap.count, 'time')} "
            f"({', '.join(why)}){raised}"
        )
    return sections("gaps", lines)


def _section(block_id: str, text: str) -> SectionBlock:
    return SectionBlock(block_id=block_id, text=MarkdownTextObject(text=text[:3000]))
