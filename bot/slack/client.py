"""The Slack Web API client, set up once with the retries Slack's rate limits call for."""

from __future__ import annotations

import aiohttp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics
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
            CountedRateLimitRetryHandler(max_retry_count=3),
        ]
        if retries
        else [],
    )


class CountedRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """slack_sdk's 429 handler (wait `Retry-After`, then retry), counting every 429 for /metrics,
    the last one after the retries run out too (slack_sdk asks this before its own count)."""

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is not None and response.status_code == 429:
            metrics.ratelimited("api")
            if request.url.rstrip("/").rsplit("/", 1)[-1] in TRIGGERED:
                # A trigger_id lives 3 seconds: a retry after Retry-After would only meet
                # `expired_trigger_id`. Refused now, the listener says so and the person
                # clicks again (found by the fault suite).
                return False
        return await super().can_retry_async(
            state=state, request=request, response=response, error=error
        )


# Methods that take a trigger_id, which expires 3 s after the click.
TRIGGERED = frozenset({"views.open", "views.push", "dialog.open"})
