"""App Home: opening the tab shows each person their sections (see `bot/home.py`)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.app.async_app import AsyncApp

from bot.storage import WriteTimeout

if TYPE_CHECKING:
    from bot.deps import Deps

logger = logging.getLogger(__name__)


def register(app: AsyncApp, deps: Deps) -> None:
    """Wire the Home tab."""

    async def note_home_opened(
        ack: Any, event: dict[str, Any], body: dict[str, Any], context: dict[str, Any]
    ) -> None:
        """Remember the event id first, so a retried delivery is answered but not redone."""
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
        context["home_first"] = first
        await ack()

    async def show_home(
        event: dict[str, Any], context: dict[str, Any], body: dict[str, Any]
    ) -> None:
        """Opening the Home tab shows what is waiting for this person."""
        if event.get("tab") != "home":
            return
        if not context.get("home_first"):
            logger.info("event already handled (Slack retry)")
            return
        await deps.home.publish(event["user"])

    app.event("app_home_opened")(deps.work.legacy_listener(note_home_opened, follow_up=show_home))
