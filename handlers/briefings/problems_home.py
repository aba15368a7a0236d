"""The engagement leads' "Content with problems" note on Home: which content files are left out
for their problems and what is wrong, one line each. Nothing shows while all is well.

It covers what the bot reads from the content folder: briefings, circulars, `audiences.yaml`,
and the practice notes, directory and glossary practice search left out at its last load.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.content.briefings import BRIEFINGS
from bot.content.broken import Broken, left_out, read_kind
from bot.content.circulars import CIRCULARS
from bot.slack.mrkdwn import escape
from bot.slack.roles import ENGAGEMENT_LEAD
from handlers.briefings.problem_blocks import plain_problem

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from bot.content.documents import Problem
    from bot.deps import Deps

HOME_SECTION = "content-problems"
HOME_ORDER = 5  # on top: a file left out is something to fix today
MAX_FILES_SHOWN = 8
LINE_LIMIT = 200  # each file's first problem, cut: the line says where to look


async def problems_section(deps: Deps, user_id: str) -> list[Block]:
    """For an engagement lead, the content files left out and why; nothing for anyone else,
    or when Slack cannot say who is a lead (Home must never fail for one role check)."""
    if not (await deps.roles.allows(user_id, {ENGAGEMENT_LEAD})).allowed:
        return []
    broken = await asyncio.to_thread(
        content_left_out, deps.config.content_dir, deps.config.timezone
    )
    shelf = deps.practice.shelf
    if shelf is not None:
        broken += practice_left_out(shelf.skipped, deps.config.content_dir)
    return build_content_problems(broken)


def content_left_out(content_dir: Path, tz: ZoneInfo) -> tuple[Broken, ...]:
    """The briefing and circular files left out now, each file once (`audiences.yaml`, which
    both read, too)."""
    briefings = read_kind(content_dir, BRIEFINGS, tz).broken
    circulars = read_kind(content_dir, CIRCULARS, tz).broken
    return briefings + tuple(b for b in circulars if b.noun == CIRCULARS.noun)


def practice_left_out(skipped: Sequence[Problem], content_dir: Path) -> tuple[Broken, ...]:
    """What practice search left out at its last load, one `Broken` a file."""
    notes = [p for p in skipped if p.path.parent.name == "practice"]
    others = [p for p in skipped if p.path.parent.name != "practice"]
    out = left_out(notes, content_dir, "practice note")
    for problems in _by_file(others).values():
        name = problems[0].path.name
        noun = {"directory.yaml": "directory", "glossary.yaml": "glossary"}.get(name, "file")
        out += left_out(problems, content_dir, noun)
    return out


def _by_file(problems: Sequence[Problem]) -> dict[Path, list[Problem]]:
    grouped: dict[Path, list[Problem]] = {}
    for problem in problems:
        grouped.setdefault(problem.path, []).append(problem)
    return grouped


def build_content_problems(broken: Sequence[Broken]) -> list[Block]:
    """The note: a heading, one line a file (its first problem, and how many more), who
    fixes them. Empty when nothing is left out, so the section is not shown."""
    if not broken:
        return []
    lines = [
        "*Content with problems*: each is left out until it is fixed; the rest works as normal."
    ]
    for item in broken[:MAX_FILES_SHOWN]:
        first, more = item.problems[0], len(item.problems) - 1
        extra = f" _(and {more} more)_" if more else ""
        lines.append(
            f"• `{escape(item.file)}` ({escape(item.noun)}): "
            f"{plain_problem(first, LINE_LIMIT)}{extra}"
        )
    if len(broken) > MAX_FILES_SHOWN:
        lines.append(f"…and {len(broken) - MAX_FILES_SHOWN} more files.")
    note = (
        "Whoever keeps the content files can fix these; `content check` lists every problem "
        "with its line."
    )
    return [
        SectionBlock(block_id="content-problems", text=MarkdownTextObject(text="\n".join(lines))),
        ContextBlock(elements=[MarkdownTextObject(text=note)]),
    ]
