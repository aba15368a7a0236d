"""The surgery's section of the Home tab: for leads, what waits for review and what is on an
agenda to answer; for everyone, their own questions, the board and "Ask a question"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_sdk.models.blocks import Block

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


async def home_section(deps: Deps, user_id: str) -> list[Block]:
    """Five of each: Home is a glance; `/ask` and `/engage queue` show more."""
    blocks: list[Block] = []
    if await is_lead(deps, user_id):
        blocks += build_queue(await deps.storage.questions.pending(limit=5))
        blocks += build_to_answer(
            await deps.storage.questions.on_agenda(limit=5), deps.config.timezone
        )
    blocks += build_my_questions(
        await deps.storage.questions.mine(
            user_id, own_tag(deps, user_id), limit=5, now=deps.clock()
        )
    )
    board = await deps.storage.questions.board(order="votes", voter=voter(deps, user_id), limit=5)
    blocks += build_board(board, order="votes")
    return blocks + build_ask_button()
