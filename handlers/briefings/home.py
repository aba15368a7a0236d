"""Briefings' section of the Home tab: what is waiting for this person's acknowledgement, and
**New briefing** for a senior manager."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.slack.roles import SENIOR_MANAGER
from handlers.briefings import compose
from handlers.briefings.blocks import build_waiting_section

if TYPE_CHECKING:
    from slack_sdk.models.blocks import Block

    from bot.deps import Deps

HOME_SECTION = "briefings"


async def waiting_section(deps: Deps, user_id: str) -> list[Block]:
    """The briefings waiting for `user_id`'s acknowledgement. The New briefing button is only
    shown when their role is known to allow it: a failed role check hides it, as Home is
    built for everyone and must not fail for one list Slack could not give."""
    awaiting = await deps.storage.acknowledgements.awaiting_ack(user_id)
    blocks = build_waiting_section(awaiting, deps.config.timezone)
    if (await deps.roles.allows(user_id, {SENIOR_MANAGER})).allowed:
        blocks = [*blocks, *compose.build_new_button()]
    return blocks
