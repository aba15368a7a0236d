"""The Slack Web API client, set up once with the retries Slack's rate limits call for."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot import metrics
from bot.config import Config


def make_client(
    config: Config,
    session: aiohttp.ClientSession | None = None,
    *,
    with_token: bool = True,
    retries: bool = True,
    pause: MethodPause | None = None,
) -> AsyncWebClient:
    """A client for `SLACK_API_URL` that retries connection errors and honours 429 Retry-After.

    Passing `retry_handlers` replaces slack_sdk's default list, so the connection-error handler
    the default would have given is listed again here. Bolt gets a client `with_token=False`
    and no session of ours: it takes the token from our `authorize` answer for each request, and
    our listeners never use it (they use `deps.client`), so it needs no connections kept open.
    Clients given the same `pause` wait out each other's 429s (see `MethodPause`).
    """
    pause = pause if pause is not None else MethodPause()
    return PacedWebClient(
        pause,
        token=config.bot_token if with_token else None,
        base_url=config.api_url,
        session=session,
        timeout=30,
        # `retries=False` (the outbox): no handlers at all, not slack_sdk's default list.
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            CountedRateLimitRetryHandler(pause, max_retry_count=3),
        ]
        if retries
        else [],
    )


class CountedRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """slack_sdk's 429 handler (wait `Retry-After`, then retry), counting every 429 for /metrics,
    the last one after the retries run out too (slack_sdk asks this before its own count), and
    telling the client's `MethodPause`, so that no other call to that method goes early."""

    def __init__(self, pause: MethodPause, **options: Any) -> None:
        super().__init__(**options)
        self.pause = pause

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
            method = request.url.rstrip("/").rsplit("/", 1)[-1]
            self.pause.limited(method, _retry_after(response.headers))
            if method in TRIGGERED:
                # A trigger_id lives 3 seconds: a retry after Retry-After would only meet
                # `expired_trigger_id`. Refused now, the listener says so and the person
                # clicks again (found by the fault suite).
                return False
        return await super().can_retry_async(
            state=state, request=request, response=response, error=error
        )


# Methods that take a trigger_id, which expires 3 s after the click.
TRIGGERED = frozenset({"views.open", "views.push", "dialog.open"})

# How long a call that takes a trigger_id may wait out a 429 and still be in time: the trigger
# was made when the person clicked, some of its 3 s went on the way here.
TRIGGER_WAIT = 2.0


class MethodPause:
    """Which Web API methods Slack has limited, and until when: one record for all the calls a
    process makes, so that a 429 met by one call holds back every other call to that method
    until its Retry-After has passed, as Slack asks ("wait before calling that method again").

    slack_sdk's retry handler waits only in the call that met the 429; fifty people opening a
    check at once would otherwise go on calling a limited method (found by the crash suite).
    Hand-written: slack_sdk has no shared limiter, and this is a few lines.

    Kept per method, chat.postMessage included, although its limit is partly per channel: a
    429 does not say which limit it met, and the outbox already treats one as the workspace's
    (its pause, in the database). Over-pausing costs a Retry-After, usually a second. Calls go
    through `PacedWebClient.api_call`, so a response's own paging (`AsyncSlackResponse`'s
    iteration, which calls `_request`) would pass by: the bot pages by hand (bot/audiences.py).
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self.sleep = sleep  # a test's own clock moves when it "sleeps"
        self._until: dict[str, float] = {}

    def limited(self, method: str, retry_after: float) -> None:
        """Slack answered `method` with a 429 asking for `retry_after` seconds."""
        until = self._clock() + max(retry_after, 0.0)
        self._until[method] = max(until, self._until.get(method, 0.0))

    def left(self, method: str) -> float:
        """Seconds before `method` may be called again (0: now)."""
        return max(self._until.get(method, 0.0) - self._clock(), 0.0)


class PacedWebClient(AsyncWebClient):
    """An AsyncWebClient whose every call first waits out its method's `MethodPause`.

    A call taking a trigger_id that would have to wait longer than `TRIGGER_WAIT` is refused at
    once, as Slack would refuse it (`ratelimited`), without calling: by the time it could go its
    trigger would have expired, and the person is better told now to press again.
    """

    def __init__(self, pause: MethodPause, **options: Any) -> None:
        super().__init__(**options)
        self.pause = pause

    async def api_call(self, api_method: str, **options: Any) -> AsyncSlackResponse:
        wait = self.pause.left(api_method)
        if wait > 0:
            if api_method in TRIGGERED and wait > TRIGGER_WAIT:
                raise SlackApiError(
                    f"{api_method} is rate limited for {wait:.1f} s more",
                    {"ok": False, "error": "ratelimited"},
                )
            await self.pause.sleep(wait)
        try:
            return await super().api_call(api_method, **options)
        except SlackApiError as error:
            response = error.response
            if getattr(response, "status_code", None) == 429:  # no retries left, or none given
                self.pause.limited(api_method, _retry_after(getattr(response, "headers", {})))
            raise


def _retry_after(headers: Any) -> float:
    """Seconds from a 429's Retry-After header (1 when absent or unreadable, as slack_sdk)."""
    for key, value in (headers or {}).items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) and value else value
            try:
                return float(raw)
            except (TypeError, ValueError):
                break
    return 1.0
