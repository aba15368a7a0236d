"""The surgery's section of the Home tab: for leads, what waits for review (and how many) and
what is on an agenda to answer; for everyone, their own questions, the board and "Ask a
question"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject

from handlers.surgery.blocks import (
    build_ask_button,
    build_board,
    build_my_questions,
)
from handlers.surgery.common import is_lead, own_tag, voter
from handlers.surgery.review_blocks import (
    build_queue,
    build_to_answer,
)

if TYPE_CHECKING:
    from bot.deps import Deps

SHOWN = 5  # of each list: Home is a glance


async def home_section(deps: Deps, user_id: str) -> list[Block]:
    """Five of each: Home is a glance; `/ask` and `/engage queue` show more. A lead's queue
    says how many wait in all, as `/engage queue` does: that is the length of the list leads
    are shown, not a figure about what anyone did (an anonymous question carries no asker)."""
    blocks: list[Block] = []
    if await is_lead(deps, user_id):
        shown = await deps.storage.questions.pending(limit=SHOWN)
        # Two reads: a question asked between them still counts.
        waiting = max(await deps.storage.dashboard.questions_waiting(), len(shown))
        blocks += build_lead_queue(build_queue(shown, total=waiting), waiting)
        blocks += build_to_answer(
            await deps.storage.questions.on_agenda(limit=SHOWN), deps.config.timezone
        )
    blocks += build_my_questions(
        await deps.storage.questions.mine(
            user_id, own_tag(deps, user_id), limit=SHOWN, now=deps.clock()
        )
    )
    board = await deps.storage.questions.board(
        order="votes", voter=voter(deps, user_id), limit=SHOWN
    )
    blocks += build_board(board, order="votes")
    return blocks + build_ask_button()


def build_lead_queue(queue: list[Block], waiting: int) -> list[Block]:
    """The queue as Home shows it: the oldest few, a note when more wait, or that none do."""
    if not waiting:
        return [_note("*Questions to review*: none waiting.")]
    if waiting > SHOWN:
        more = waiting - SHOWN
        queue = [
            *queue,
            _note(f"…and {more:,} more waiting: `/engage queue` lists them, oldest first."),
        ]
    return queue


def _note(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])
