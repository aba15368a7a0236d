"""App Home: opening the tab shows each person their sections (see `bot/home.py`)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.async_app import AsyncAck

from bot.storage import WriteTimeout

if TYPE_CHECKING:
    from bot.deps import Deps

logger = logging.getLogger(__name__)


async def note_home_opened(
    deps: Deps, ack: AsyncAck, event: dict[str, Any], body: dict[str, Any]
) -> bool:
    """Remember the event id first, so a retried delivery is answered but not redone.
    Returns whether this is the first delivery (a write that timed out counts as first)."""
    event_id = body.get("event_id")
    first = True
    if event.get("tab") == "home" and event_id:
        try:
            first = await deps.storage.events.first_delivery(
                str(event_id), deps.clock(), timeout=1.0
            )
        except WriteTimeout:
            # Showing Home twice is harmless; leaving Slack waiting past 3 s is not.
            first = True
    await ack()
    return first


async def show_home(deps: Deps, said: bool, event: dict[str, Any]) -> None:
    """Opening the Home tab shows what is waiting for this person; `said`: first delivery."""
    if event.get("tab") != "home":
        return
    if not said:
        logger.info("event already handled (Slack retry)")
        return
    await deps.home.publish(event["user"])


def register(app: AsyncApp, deps: Deps) -> None:
    """Wire the Home tab."""
    app.event("app_home_opened")(deps.work.listener(deps, note_home_opened, follow_up=show_home))
