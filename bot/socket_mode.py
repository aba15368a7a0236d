"""Socket Mode: Bolt's own handler, with the same request log line as HTTP mode.

Requests arrive over a websocket that Slack opened with the app-level token, so there is no
signature to check; each is acknowledged on the socket once its store half (the write) is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time

from aiohttp import WSMessage
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import send_async_response
from slack_bolt.adapter.socket_mode.internals import build_headers
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.deps import Work
from bot.web import describe_request, log_request

logger = logging.getLogger(__name__)


class LoggedSocketModeHandler(AsyncSocketModeHandler):
    """Bolt's Socket Mode handler: one log line per request, follow-ups once acknowledged.

    `run_async_bolt_app` is Bolt's, spelled out here for the request's context, which holds the
    follow-ups to start once the acknowledgement is on the socket.
    """

    def __init__(self, app: AsyncApp, app_token: str | None, work: Work):
        super().__init__(app, app_token)
        self._work = work
        self._handling = 0
        self._idle = asyncio.Event()
        self._idle.set()
        # slack_sdk handles `disconnect` before its message listeners: this sees the raw frame.
        self.client.on_message_listeners.append(self.disconnect_said)

    async def disconnect_said(self, frame: WSMessage) -> None:
        """Slack's `disconnect` message: slack_sdk connects again at once, whatever the reason
        (a new connection is asked for, the old one closed; envelopes Slack held meanwhile come
        on the new one, and acks for those under way go there too). Said in the log, with the
        fix when it is one an operator must make."""
        data = frame.data if isinstance(frame.data, str) else ""
        if '"disconnect"' not in data:
            return
        try:
            message = json.loads(data)
        except ValueError:
            return
        if not isinstance(message, dict) or message.get("type") != "disconnect":
            return
        reason = str(message.get("reason") or "")
        if reason == "link_disabled":
            logger.warning(
                "Slack closed the Socket Mode connection: Socket Mode was turned off in the "
                "app's settings (api.slack.com/apps → Socket Mode). Turn it on again, or run "
                "`python -m bot serve` with a public Request URL."
            )
        else:
            logger.info("Slack asked for a new Socket Mode connection (%s)", reason or "no reason")

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        started = time.perf_counter()
        self._handling += 1
        self._idle.clear()
        bolt_request = AsyncBoltRequest(
            mode="socket_mode", body=req.payload, headers=build_headers(req)
        )
        try:
            bolt_response = await self.app.async_dispatch(bolt_request)
            if bolt_response.status == 200:
                await send_async_response(client, req, bolt_response, time.time())
            else:
                # Bolt acknowledges only a 200. Anything else (nothing listens for it; Bolt
                # could not read it) is still acknowledged, empty, as HTTP mode answers it,
                # or Slack would retry the event and show the person a timeout.
                await client.send_socket_mode_response(
                    SocketModeResponse(envelope_id=req.envelope_id)
                )
        finally:
            self._work.after_answer(bolt_request.context)
            self._handling -= 1
            if self._handling == 0:
                self._idle.set()
        retry = str(req.retry_attempt) if req.retry_attempt else None
        log_request(describe_request(req.payload), bolt_response.status, started, retry)

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for requests under way to be acknowledged, so a stop never strands one."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)
