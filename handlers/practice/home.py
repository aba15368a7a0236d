"""Practice search's section of the Home tab: the "Search practice" button, the same for all,
and for an engagement lead the week's gaps: what staff searched for and did not find (the
words only, never who searched), as `/engage gaps` lists them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.slack.mrkdwn import escape, escape_within
from bot.storage.search_gaps import Gap
from handlers.practice.blocks import RAISE_ACTION, build_home_section, long_date
from handlers.practice.common import GAP_DAYS, forum, is_lead, today

if TYPE_CHECKING:
    from bot.deps import Deps

NEW_GAP_DAYS = 7  # "new": searched for in the last week
SHOWN = 3


async def home_section(deps: Deps, user_id: str) -> list[Block]:
    """Everyone sees the same button; a lead sees the week's gaps under it."""
    blocks = build_home_section()
    if await is_lead(deps, user_id):
        since = today(deps) - timedelta(days=NEW_GAP_DAYS - 1)
        gaps = await deps.storage.gaps.gaps(since, limit=SHOWN + 1)
        blocks += build_new_gaps(gaps, since, forum(deps))
    return blocks


def build_new_gaps(gaps: Sequence[Gap], since: date, where: str | None) -> list[Block]:
    """The most searched gaps since `since`, each with the button `/engage gaps` gives to
    raise it at the surgery or the PAG (`where`; none when neither takes questions)."""
    heading = f"*New practice gaps* (searched for since {long_date(since)})"
    if not gaps:
        text = f"{heading}\nNone: every search found something, and nobody said it didn't help."
        return [SectionBlock(block_id="practice-gaps", text=MarkdownTextObject(text=text))]
    blocks: list[Block] = [
        SectionBlock(block_id="practice-gaps", text=MarkdownTextObject(text=heading))
    ]
    for n, gap in enumerate(gaps[:SHOWN]):
        searches = f"{gap.count} search{'es' if gap.count != 1 else ''}"
        text = f"“{escape_within(gap.query, 300)}” — {searches}"
        accessory = None
        if gap.raised_as:
            text += f", raised as *{escape(gap.raised_as)}*"
        elif where is not None:
            label = "Raise at the PAG" if where == "pag" else "Raise at the surgery"
            accessory = ButtonElement(text=label, action_id=RAISE_ACTION, value=gap.query[:2000])
        blocks.append(
            SectionBlock(
                block_id=f"practice-gap-{n}",
                text=MarkdownTextObject(text=text),
                accessory=accessory,
            )
        )
    more = " (and more)" if len(gaps) > SHOWN else ""
    note = f"Most searched first{more}: `/engage gaps` lists the last {GAP_DAYS} days'."
    return [*blocks, ContextBlock(elements=[MarkdownTextObject(text=note)])]
