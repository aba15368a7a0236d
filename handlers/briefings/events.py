"""Briefings' events: someone joined a channel (`member_joined_channel`) or the workspace
(`team_join`), and is caught up on what was sent to an audience they are now in (catchup.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from handlers.briefings import catchup

if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncAck

    from bot.deps import Deps


async def note_joiner(deps: Deps, ack: AsyncAck, body: dict[str, Any]) -> bool:
    """A join: remember the event id first, so a retried delivery is not redone. Returns
    whether this is the event's first delivery (the one to act on)."""
    first = await deps.storage.events.first_of(body, deps.clock())
    await ack()
    return first


async def catch_up_joiner(deps: Deps, said: bool, body: dict[str, Any]) -> None:
    """Someone joined a channel or the workspace: catch them up on what asks for them (only on
    the event's first delivery, `said`)."""
    if not said:
        return
    event = body.get("event") or {}
    if event.get("type") == "member_joined_channel":
        await catchup.joined_channel(deps, str(event["user"]), str(event["channel"]))
    elif event.get("type") == "team_join":
        user = event.get("user") or {}
        if user.get("id") and not (user.get("is_bot") or user.get("deleted")):
            await catchup.joined_workspace(deps, str(user["id"]))
