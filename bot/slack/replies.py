"""Private answers to what a person did, wherever they did it.

A slash command or a click on a message comes with a `response_url`: the answer goes there,
seen only by that person. A click on the Home tab has none, so the answer is shown at the top of
their Home tab instead. Replies go through one shared HTTP session: Bolt's own `respond()` opens
a new connection for every reply, which under a burst of clicks costs more than the click.
A reply that cannot be delivered (Slack unreachable, the response_url used up) is logged; the
person's action itself was stored before Slack was answered. Replies go through the same proxy
as the Web API client (`HTTPS_PROXY` and the rest, read once by slack_sdk's own loader): on a
council network with a mandatory outbound proxy, every answer would otherwise fail.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_sdk.proxy_env_variable_loader import load_http_proxy_from_env

if TYPE_CHECKING:
    from bot.home import Home

logger = logging.getLogger(__name__)
# The loader logs the proxy's URL at debug level, and a proxy URL can hold a password.
_QUIET = logging.getLogger(f"{__name__}.proxy")
_QUIET.setLevel(logging.WARNING)


class Replies:
    """`respond` over a response_url; `tell` a person privately, by response_url or on Home."""

    def __init__(self, session: aiohttp.ClientSession, home: Home, *, proxy: str | None = None):
        self._session = session
        self._home = home
        # Read once, as AsyncWebClient does, not per reply (a lookup per request is what
        # aiohttp's trust_env would cost under a burst of clicks).
        self._proxy = proxy or load_http_proxy_from_env(_QUIET) or None

    async def respond(
        self,
        response_url: str,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        replace: bool = False,
    ) -> None:
        """Send an ephemeral message to a response_url (5 uses in 30 minutes, by Slack's rules).

        `replace` swaps the message the person clicked in for this one (a confirmation that
        becomes what it did), rather than adding another under it.
        """
        message: dict[str, Any] = {
            "text": text,
            "response_type": "ephemeral",
            "replace_original": replace,
        }
        if blocks is not None:
            message["blocks"] = blocks
        # Posted with aiohttp directly: slack_sdk's AsyncWebhookClient adds a client object, a
        # proxy lookup in the environment and retry machinery to every reply, which under a
        # burst of clicks cost a quarter of the bot's CPU. A response_url takes one JSON POST.
        try:
            async with self._session.post(
                response_url,
                json=message,
                proxy=self._proxy,
                timeout=aiohttp.ClientTimeout(total=10),
            ) as response:
                if response.status != 200:
                    logger.warning("a private reply was refused: HTTP %d", response.status)
                await response.read()
        except (aiohttp.ClientError, TimeoutError) as error:
            logger.warning("could not deliver a private reply (%s)", error.__class__.__name__)

    async def tell(self, body: dict[str, Any], text: str) -> None:
        """Tell the person behind `body` something privately, where they acted."""
        response_url = body.get("response_url")
        user_id = (body.get("user") or {}).get("id") or body.get("user_id")
        if response_url:
            await self.respond(str(response_url), text)
        elif (body.get("view") or {}).get("type") == "home" and user_id:
            await self._home.publish(str(user_id), notice=text)
        else:
            logger.warning("no way to tell the person privately (no response_url, not Home)")
