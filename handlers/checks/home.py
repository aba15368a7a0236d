"""The checks feature's section of the Home tab: the open checks this person has yet to take."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_sdk.models.blocks import Block

from handlers.checks.blocks import build_home_section

if TYPE_CHECKING:
    from bot.deps import Deps


async def home_section(deps: Deps, user_id: str) -> list[Block]:
    """Checks on versions this person received and has not taken, while they are open."""
    waiting = await deps.storage.checks.waiting_for(user_id, deps.clock())
    return build_home_section(waiting, deps.config.timezone)
