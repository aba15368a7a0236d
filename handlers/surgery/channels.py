"""Where the surgery posts: a forum's agenda channel and "You said, we did", checked first.

A channel's id is looked up once per app (a name needs a channel list from Slack, and the
agenda job asks every minute), and a channel the bot cannot post in is logged once, not every
minute, until it can again. The app's listeners are module-level functions given only `deps`,
so that memory is kept per app beside them, keyed on the app's `Audiences`.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import TYPE_CHECKING

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.slack.mrkdwn import escape

if TYPE_CHECKING:
    from bot.audiences import Audiences
    from bot.deps import Deps

logger = logging.getLogger(__name__)

# Bounded: an answer's submit waits on these before Slack hears back.
LOOKUP_SECONDS = 1.5


class Channels:
    """One app's channel ids by name, and the channels it has reported it cannot post in."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}  # channel name -> id, looked up once
        self.reported: set[str] = set()


_BY_APP: weakref.WeakKeyDictionary[Audiences, Channels] = weakref.WeakKeyDictionary()


def channels_of(deps: Deps) -> Channels:
    """This app's memory of its channels (made on first use)."""
    known = _BY_APP.get(deps.audiences)
    if known is None:
        known = _BY_APP[deps.audiences] = Channels()
    return known


async def checked(deps: Deps, where: str) -> tuple[str | None, str]:
    """(The channel's id, "") if the bot can post there; else (None, why not, in words a lead
    can act on), logged once, not every minute, until it can again."""
    known = channels_of(deps)
    try:
        if where not in known.ids:
            known.ids[where] = await asyncio.wait_for(
                deps.audiences.channel_id(where), LOOKUP_SECONDS
            )
        why = await asyncio.wait_for(
            deps.audiences.cannot_post(known.ids[where], where), LOOKUP_SECONDS
        )
    except SlackApiError as error:
        known.ids.pop(where, None)  # looked up again next time: it may be made meanwhile
        code = str(error.response.get("error") or "")
        why = (
            f"{escape(where)} doesn't exist (or I can't see it)"
            if code == "channel_not_found"
            else f"Slack couldn't tell me about {escape(where)} ({escape(code)})"
        )
    except (aiohttp.ClientError, TimeoutError) as error:
        why = f"Slack didn't answer about {escape(where)} ({type(error).__name__})"
    if why is None:
        known.reported.discard(where)
        return known.ids[where], ""
    if where not in known.reported:  # once, not every minute
        known.reported.add(where)
        logger.error("cannot post in %s: %s", where, why)
    return None, why.rstrip(".")


def how_to_set(where: str, setting: str) -> str:
    """How a lead gets posts into a channel: make it and invite the bot, or name another."""
    return (
        f"To post there, create {escape(where)} (a public channel I join by myself; a private "
        f"one needs `/invite @Line of Sight`), or ask whoever runs the bot to set `{setting}` "
        "to another channel."
    )
