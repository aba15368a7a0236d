"""The surgery's shortcuts: "Ask the practice surgery" (global) and "Ask about this" (on a
message). Each opens the asking modal; neither records anything, so each store half is
`common.accept`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from bot.slack.modals import open_modal
from handlers.surgery.blocks import ASK_TITLE, safe_permalink
from handlers.surgery.common import ask_view, open_ask

if TYPE_CHECKING:
    from slack_sdk.models.views import View

    from bot.deps import Deps

logger = logging.getLogger(__name__)


async def from_shortcut(deps: Deps, said: None, body: dict[str, Any]) -> None:
    """ "Ask the practice surgery": the modal, empty."""
    await open_ask(deps, body["trigger_id"])


async def from_message(deps: Deps, said: None, body: dict[str, Any]) -> None:
    """ "Ask about this" on a message: the modal, linking it (quoted if Slack gives a link).
    Slack is asked about the message first, which can outlast the 3 s trigger: "One moment…"
    is shown until it answers."""
    work = ask_about_view(deps, body)
    await open_modal(deps.client, body["trigger_id"], work, title=ASK_TITLE)


async def ask_about_view(deps: Deps, body: dict[str, Any]) -> View:
    """The asking modal for the message a shortcut was used on."""
    channel = (body.get("channel") or {}).get("id")
    ts = (body.get("message") or {}).get("ts") or body.get("message_ts")
    link, private = None, False
    if channel and ts:
        link, private = await message_link(deps, channel, ts)
    return ask_view(deps, quoted=link, unlinked=private)


async def message_link(deps: Deps, channel: str, ts: str) -> tuple[str | None, bool]:
    """(The message's permalink, or None; whether it was left out as private).

    Only a message in a public channel is linked: a link into a DM, a group DM or a private
    channel would say who could have asked. A conversation the bot cannot see is not public.
    """
    try:
        info = (await deps.client.conversations_info(channel=channel))["channel"]
        public = bool(info.get("is_channel")) and not any(
            info.get(k) for k in ("is_private", "is_im", "is_mpim", "is_group")
        )
        if not public:
            return None, True
        answer = await deps.client.chat_getPermalink(channel=channel, message_ts=ts)
        return safe_permalink(answer.get("permalink")), False
    except SlackApiError as error:
        logger.info("no link for a message (%s)", error.response.get("error"))
        return None, True
