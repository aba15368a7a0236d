"""App Home: each person's briefings still waiting for their acknowledgement."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from slack_bolt.app.async_app import AsyncApp
from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.mrkdwn import escape
from bot.timefmt import format_local
from handlers.briefings import ACK_ACTION, ack_value

if TYPE_CHECKING:
    from bot.app import Deps

logger = logging.getLogger(__name__)

# A Home tab holds 100 blocks; each waiting briefing takes two.
MAX_LISTED = 30


def build_home_view(
    awaiting: list[dict[str, Any]], tz: ZoneInfo, *, notice: str | None = None
) -> View:
    """The Home tab: a notice (e.g. "Thanks…"), then waiting briefings, each with Acknowledge."""
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text="Line of Sight"))]
    if notice:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=notice)))
    if not awaiting:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text="You're all caught up: no briefings are waiting for you to acknowledge."
                )
            )
        )
    else:
        count = len(awaiting)
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*{count} briefing{'s' if count != 1 else ''} waiting for you to "
                    "acknowledge*"
                )
            )
        )
        for row in awaiting[:MAX_LISTED]:
            where = f"<#{row['channel_id']}>" if row.get("channel_id") else "a channel"
            blocks.append(
                SectionBlock(
                    block_id=f"briefing:{row['briefing_id']}@{row['version']}",
                    text=MarkdownTextObject(
                        text=f"*{escape(row['title'])}*\nPosted in {where} on "
                        f"{format_local(row['published_at'], tz)}"
                    ),
                    accessory=ButtonElement(
                        text="Acknowledge",
                        action_id=ACK_ACTION,
                        value=ack_value(row["briefing_id"], row["version"]),
                    ),
                )
            )
        if count > MAX_LISTED:
            blocks.append(
                ContextBlock(elements=[MarkdownTextObject(text=f"…and {count - MAX_LISTED} more.")])
            )
    blocks += [
        DividerBlock(),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Briefings arrive in your channels. `/brief help` shows what you can do."
                )
            ]
        ),
    ]
    return View(type="home", blocks=blocks)


async def publish_home(deps: Deps, user_id: str, *, notice: str | None = None) -> None:
    """Build and publish one person's Home tab."""
    awaiting = await deps.storage.awaiting_ack(user_id)
    view = build_home_view(awaiting, deps.config.timezone, notice=notice)
    await deps.client.views_publish(user_id=user_id, view=view)


def register(app: AsyncApp, deps: Deps) -> None:
    """Wire the Home tab."""

    @deps.work.track
    async def on_home_opened(event: dict[str, Any], body: dict[str, Any]) -> None:
        """Opening the Home tab shows what is waiting; a retried delivery is ignored."""
        if event.get("tab") != "home":
            return
        event_id = body.get("event_id")
        if event_id and not await deps.storage.first_delivery(event_id, deps.clock()):
            logger.info("event %s already handled (Slack retry)", event_id)
            return
        # Bolt has already answered Slack, so Slack will not retry a failure here; the client
        # retries rate limits and dropped connections, and the next open rebuilds the tab.
        await publish_home(deps, event["user"])

    app.event("app_home_opened")(on_home_opened)
