"""Slack's user-group events: the one list of user groups (`bot/slack/usergroups.py`) is kept up
to date as they arrive, and people added to a group are announced to the features that asked
(`deps.usergroups.when_joined`: briefings' catch-up sends them what the group was sent).

Slack runs one listener per event, so the three events are taken here, once, for every feature.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.slack.usergroups import EVENTS

if TYPE_CHECKING:
    from slack_bolt.app.async_app import AsyncApp
    from slack_bolt.async_app import AsyncAck

    from bot.deps import Deps


async def note_change(deps: Deps, ack: AsyncAck, body: dict[str, Any]) -> bool:
    """Apply the change to the list before Slack hears back (so a person just added to
    @senior-managers can publish at once), and remember a change that added people by its
    event id, so a retried delivery announces them once. Returns whether to announce."""
    event = body.get("event") or {}
    deps.usergroups.apply(event)
    first = False
    if event.get("type") == "subteam_members_changed" and event.get("added_users"):
        first = await deps.storage.events.first_of(body, deps.clock())
    await ack()
    return first


async def announce_joined(deps: Deps, said: bool, body: dict[str, Any]) -> None:
    """People were added to a group (`said`: this event's first delivery): tell the features."""
    if not said:
        return
    event = body.get("event") or {}
    added = [str(user) for user in event.get("added_users") or [] if user]
    if added and event.get("subteam_id"):
        await deps.usergroups.joined(str(event["subteam_id"]), added)


def register(app: AsyncApp, deps: Deps) -> None:
    changed = deps.work.listener(deps, note_change, follow_up=announce_joined)
    for kind in EVENTS:
        app.event(kind)(changed)
