"""The Slack Web API client, set up once with the retries Slack's rate limits call for."""

from __future__ import annotations

import aiohttp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Config


def make_client(
    config: Config,
    session: aiohttp.ClientSession | None = None,
    *,
    with_token: bool = True,
    retries: bool = True,
) -> AsyncWebClient:
    """A client for `SLACK_API_URL` that retries connection errors and honours 429 Retry-After.

    Passing `retry_handlers` replaces slack_sdk's default list, so the connection-error handler
    the default would have given is listed again here. Bolt gets a client `with_token=False`
    and no session of ours: it takes the token from our `authorize` answer for each request, and
    our listeners never use it (they use `deps.client`), so it needs no connections kept open.
    """
    return AsyncWebClient(
        token=config.bot_token if with_token else None,
        base_url=config.api_url,
        session=session,
        timeout=30,
        # `retries=False` (the outbox): no handlers at all, not slack_sdk's default list.
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
        ]
        if retries
        else [],
    )
