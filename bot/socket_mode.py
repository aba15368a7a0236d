"""Socket Mode: Bolt's own handler, with the same request log line as HTTP mode.

Requests arrive over a websocket that Slack opened with the app-level token, so there is no
signature to check; each is acknowledged on the socket once its store half (the write) is done.
"""

from __future__ import annotations

import time

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app, send_async_response
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from bot.web import describe_request, log_request


class LoggedSocketModeHandler(AsyncSocketModeHandler):
    """Bolt's Socket Mode handler, logging one line per request like HTTP mode."""

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        started = time.perf_counter()
        bolt_response = await run_async_bolt_app(self.app, req)
        await send_async_response(client, req, bolt_response, time.time())
        retry = str(req.retry_attempt) if req.retry_attempt else None
        log_request(describe_request(req.payload), bolt_response.status, started, retry)
