"""HTTP mode: the routes, the signature-first request path, and the one log line per request.

Order matters. A request's body is read (and refused past `MAX_BODY_BYTES`), then its signature
and timestamp are checked with Bolt's own verifier (`slack_sdk.signature.SignatureVerifier`,
the one Bolt's request-verification middleware uses) before a single byte of it is parsed. So:

- a body over 1 MB: 413;
- headers not whole within `HEADER_TIMEOUT`, or a body within `BODY_TIMEOUT`: the connection is
  closed (`SlowClientGuard`), so slow clients cannot hold the server's connections;
- unsigned, wrongly signed, or over 5 minutes old: 401, whatever the body;
- signed, but not a body Slack sends (or one Bolt cannot read, or JSON nested too deeply for
  Python's parser): 400;
- signed and well formed, but nothing listens for it: 400 (an event: 200, so Slack won't retry);
- signed and handled: Bolt's answer, sent only once the listener's write has committed.

None of the refusals reaches a listener or writes anything.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import yarl
from aiohttp import web
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from bot import metrics
from bot.deps import Work

logger = logging.getLogger("line_of_sight")

MAX_BODY_BYTES = 1024 * 1024  # Slack's own payloads are far smaller; a view is at most 250 kB
# A request must arrive whole: its headers within HEADER_TIMEOUT of its first byte (or of the
# connection opening), its body within BODY_TIMEOUT of its headers. Slack sends both in one go.
HEADER_TIMEOUT = 10.0
BODY_TIMEOUT = 30.0


def describe_request(body: Any) -> str:
    """Name a Slack request for the log without its contents: never a body, token or answer."""
    try:
        if body.get("command"):
            return f"command:{body['command']}"
        if body.get("type") == "event_callback":
            return f"event:{(body.get('event') or {}).get('type', '?')}"
        kind = str(body.get("type", "unrecognised"))
        ids = [str(a.get("action_id", "?")) for a in body.get("actions") or []]
        callback = (body.get("view") or {}).get("callback_id")
    except (AttributeError, TypeError):  # a signed but malformed payload
        return "unrecognised"
    return ":".join([kind, *ids, *([str(callback)] if callback else [])])


def log_request(what: str, status: int, started: float, retry: str | None = None) -> None:
    """One line per request, in both modes: what it was, the outcome, the time to answer.

    Also counted for `/metrics` when it is on (by route and status; see bot/metrics.py)."""
    metrics.request_answered(what, status, started)
    logger.info(
        "request %s -> %d in %.1f ms%s",
        what,
        status,
        (time.perf_counter() - started) * 1000,
        f" (retry {retry})" if retry else "",
    )


def _user_id_ok(body: dict[str, Any]) -> bool:
    user = body.get("user")
    return isinstance(user, dict) and isinstance(user.get("id"), str)


def has_slack_shape(body: Any) -> bool:
    """The outline of the requests Slack sends, in the parts Bolt and our listeners read."""
    if not isinstance(body, dict):
        return False
    expected = {"event": dict, "view": dict, "user": dict, "actions": list, "container": dict}
    for key, shape in expected.items():
        if key in body and not isinstance(body[key], shape):
            return False
    if "command" in body:  # a slash command's form
        return all(isinstance(body.get(k), str) for k in ("command", "user_id", "response_url"))
    kind = body.get("type")
    actions = body.get("actions")
    if kind == "block_actions":  # Bolt matches on actions[0]["action_id"]
        return (
            _user_id_ok(body)
            and isinstance(actions, list)
            and len(actions) > 0
            and all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions)
        )
    if kind in ("view_submission", "view_closed"):  # Bolt reads view.type and view.callback_id
        view = body.get("view")
        return (
            _user_id_ok(body)
            and isinstance(view, dict)
            and all(isinstance(view.get(k), str) for k in ("type", "callback_id"))
        )
    if kind in ("shortcut", "message_action"):
        return _user_id_ok(body) and isinstance(body.get("callback_id"), str)
    if kind == "event_callback":
        event = body.get("event")
        return isinstance(event, dict) and isinstance(event.get("type"), str)
    return all(isinstance(a, dict) for a in actions or [])


def parse_slack_body(text: str, content_type: str) -> dict[str, Any]:
    """A Slack request body as Bolt reads it: JSON, a form, or a form holding `payload=` JSON.

    The form is decoded by yarl (aiohttp's URL library, in C) rather than urllib's parse_qsl,
    which Bolt uses: a click's payload carries the whole message it was on, and for a briefing
    that is about 8 kB of percent-encoded JSON, which urllib takes ~290 µs to decode and yarl
    ~25 µs. Same result (the last of a repeated key wins, as with `dict(parse_qsl(...))`); and a
    form is read as `payload=` JSON only when it has that field, where Bolt also does so when the
    word "payload" appears anywhere in it — a slash command's text, say — and then reads nothing.
    """
    if not text:
        return {}
    if content_type == "application/json" or text.startswith("{"):
        return _json_object(text)
    form = dict(yarl.URL.build(query_string=text, encoded=True).query.items())
    if "payload" in form:
        return _json_object(form["payload"])
    return form


def _json_object(text: str) -> dict[str, Any]:
    """A JSON object, or a ValueError: what the request path answers 400.

    JSON nested deeper than Python's recursion limit (`[[[[…` a few thousand deep) makes `json`
    raise RecursionError, which is not a ValueError and would have been a 500. Slack nests a
    dozen levels at most, so such a body is malformed like any other.
    """
    try:
        parsed = json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if not isinstance(parsed, dict):
        raise ValueError("JSON that is not an object")
    return parsed


class ParsedBoltRequest(AsyncBoltRequest):
    """An HTTP request for Bolt whose body we have already parsed (see `parse_slack_body`).

    Bolt's request takes a parsed body only in its Socket Mode form, so it is built that way and
    then given back its raw body and its HTTP mode: to Bolt it is the request it would have built.
    """

    def __init__(self, *, raw_body: str, body: dict[str, Any], query: str, headers: dict[str, str]):
        super().__init__(body=body, query=query, headers=headers, mode="socket_mode")  # type: ignore[arg-type]
        self.raw_body = raw_body
        self.mode = "http"


def _refuse(status: int, what: str, started: float) -> web.Response:
    log_request(what, status, started)
    return web.json_response({"error": what}, status=status)


class SlackEndpoint:
    """`POST /slack/events`: verify, then parse, then let Bolt dispatch."""

    def __init__(self, bolt: AsyncApp, signing_secret: str, work: Work):
        self._bolt = bolt
        self._verifier = SignatureVerifier(signing_secret)
        self._work = work

    async def handle(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _refuse(413, "too large", started)
        except ConnectionError:
            # The body never came whole: the client left, or was cut off for sending it too
            # slowly (SlowClientGuard). Nobody is left to answer; this is for the log line.
            return _refuse(408, "body incomplete (connection closed)", started)
        headers = request.headers
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            # Slack's bodies are UTF-8, and its verifier signs text: this one cannot be verified.
            return _refuse(401, "refused (body cannot be verified)", started)
        try:
            signed = self._verifier.is_valid(
                body=text,
                timestamp=headers.get("X-Slack-Request-Timestamp"),
                signature=headers.get("X-Slack-Signature"),
            )
        except (ValueError, TypeError):  # a timestamp that is not a number, a non-ASCII signature
            signed = False
        if not signed:
            return _refuse(401, "refused (bad or missing signature)", started)
        content_type = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        try:
            body = parse_slack_body(text, content_type)
        except ValueError:  # JSON errors are ValueErrors
            return _refuse(400, "malformed", started)
        if not has_slack_shape(body):
            return _refuse(400, "malformed", started)
        try:
            bolt_request = ParsedBoltRequest(
                raw_body=text,
                body=body,
                query=request.query_string,
                headers={k.lower(): v for k, v in headers.items()},
            )
        except (ValueError, TypeError, AttributeError, KeyError):
            # Bolt reads parts of the body as it builds the request; what it cannot read is
            # not Slack's.
            logger.debug("request body could not be read", exc_info=True)
            return _refuse(400, "malformed", started)
        try:
            try:
                bolt_response = await self._bolt.async_dispatch(bolt_request)
            except Exception:
                # Bolt's error handling itself failed while reading the request, before any
                # listener ran (a listener's failure is answered by the app's error handler).
                logger.exception("Bolt could not read a signed request")
                return _refuse(400, "malformed", started)
            status = bolt_response.status
            if status == 404:  # no listener for a well-formed request
                if body.get("type") == "event_callback":
                    log_request(describe_request(body) + " (not handled)", 200, started)
                    return web.Response(status=200)
                return _refuse(400, describe_request(body) + " (not handled)", started)
            response = await to_aiohttp_response(bolt_response)
            # Send the answer now, so that the follow-ups started below never delay it.
            await response.prepare(request)
            await response.write_eof()
            log_request(describe_request(body), status, started, headers.get("X-Slack-Retry-Num"))
            return response
        finally:
            self._work.after_answer(bolt_request.context)


def build_web_app(
    *,
    healthz: Callable[[], Awaitable[dict[str, Any]]],
    events: SlackEndpoint | None,
    exposition: metrics.Metrics | None = None,
) -> web.Application:
    """The aiohttp app: POST /slack/events (all Slack traffic), GET /healthz, and GET /metrics
    only when metrics are on (`METRICS=on`): otherwise it is not there at all (404)."""

    async def health(request: web.Request) -> web.Response:
        report = await healthz()
        return web.json_response(report, status=200 if report["ok"] else 503)

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_get("/healthz", health)
    if exposition is not None:
        app.router.add_get("/metrics", MetricsEndpoint(exposition).handle)
    if events is not None:
        app.router.add_post("/slack/events", events.handle)
    return app


class MetricsEndpoint:
    """`GET /metrics`: the Prometheus text exposition of one bot's `Metrics`."""

    def __init__(self, exposition: metrics.Metrics):
        self._metrics = exposition

    async def handle(self, request: web.Request) -> web.Response:
        body = await self._metrics.render()
        return web.Response(body=body, headers={"Content-Type": metrics.CONTENT_TYPE})


class SlowClientGuard(RequestHandler):
    """aiohttp's connection handler, with deadlines for a request to arrive whole.

    aiohttp's server has no header-read timeout: its parser waits as long as bytes keep coming,
    and the only timer on a connection still sending headers is the keep-alive one, 3,630 s by
    default (deliberately longer than any proxy's idle timeout: aiohttp PR #9285). So a client
    that drips a header every few seconds ("slowloris") holds a connection, and a file
    descriptor, for an hour, and a thousand such clients hold a thousand. Lowering
    `keepalive_timeout` instead would also close idle kept-alive connections that a proxy in
    front of us still trusts, and the next request it sent on one would fail.

    So, like Go's ReadHeaderTimeout or nginx's client_header_timeout: one loop timer per
    connection (no task). Headers must be whole within `header_timeout` of the connection
    opening or of a later request's first byte, and the body within `body_timeout` of its
    headers; a connection that misses its deadline is closed. A handler still reading that body
    sees the connection lost (ConnectionResetError). An idle kept-alive connection is left to
    aiohttp's keep-alive timer, as before.
    """

    __slots__ = ("_body", "_body_timeout", "_deadline", "_header_timeout")

    def __init__(
        self, manager: web.Server, *, header_timeout: float, body_timeout: float, **kwargs: Any
    ):
        super().__init__(manager, **kwargs)
        self._header_timeout = header_timeout
        self._body_timeout = body_timeout
        self._deadline: asyncio.TimerHandle | None = None
        self._body: StreamReader | None = None  # the latest request's body, until it is whole

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._set_deadline(self._header_timeout)  # a connection that never sends counts too

    def data_received(self, data: bytes) -> None:
        if data and self._deadline is None:  # the first byte of a request on a kept connection
            self._set_deadline(self._header_timeout)
        queued = len(self._messages)
        super().data_received(data)  # parses headers into _messages; feeds bodies to their reader
        if len(self._messages) > queued:  # a request's headers are whole: now its body's turn
            self._body = self._messages[-1][1]
            self._set_deadline(self._body_timeout)
        if self._body is not None and self._body.is_eof():
            self._body = None
            self._clear_deadline()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._clear_deadline()
        self._body = None
        super().connection_lost(exc)

    def _set_deadline(self, seconds: float) -> None:
        self._clear_deadline()
        self._deadline = self._loop.call_later(seconds, self._too_slow)

    def _clear_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        logger.debug("closed a connection whose request did not arrive in time")
        self.force_close()


class _GuardedServer(web.Server):
    """The aiohttp server an AppRunner builds, whose connections are each a `SlowClientGuard`.

    aiohttp's Server makes a plain RequestHandler per connection and takes no other class, so
    this one is made from the runner's, with the same handler and settings. That reads two of
    its private attributes (`_loop`, `_kwargs`), as `SlowClientGuard` reads `_messages`: should
    an aiohttp release move them, tests/test_slow_clients.py fails.
    """

    def __init__(self, made: web.Server, *, header_timeout: float, body_timeout: float):
        super().__init__(
            made.request_handler,
            request_factory=made.request_factory,
            handler_cancellation=made.handler_cancellation,
            loop=made._loop,
            **made._kwargs,
        )
        self._deadlines = {"header_timeout": header_timeout, "body_timeout": body_timeout}

    def __call__(self) -> RequestHandler:
        return SlowClientGuard(self, loop=self._loop, **self._deadlines, **self._kwargs)


class GuardedAppRunner(web.AppRunner):
    """`web.AppRunner`, serving through `SlowClientGuard`: slow clients are cut off."""

    def __init__(
        self,
        app: web.Application,
        *,
        header_timeout: float = HEADER_TIMEOUT,
        body_timeout: float = BODY_TIMEOUT,
        **kwargs: Any,
    ):
        super().__init__(app, **kwargs)
        self._deadlines = {"header_timeout": header_timeout, "body_timeout": body_timeout}

    async def _make_server(self) -> web.Server:
        return _GuardedServer(await super()._make_server(), **self._deadlines)
