"""Practice search's section of the Home tab: the "Search practice" button, the same for all."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from handlers.practice.blocks import build_home_section


async def home_section(user_id: str) -> list[Block]:
    """Everyone sees the same button, so the person does not matter here."""
    return build_home_section()
