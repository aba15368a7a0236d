"""HTTP mode: the routes, the signature-first request path, and the one log line per request.

Order matters. A request's body is read (and refused past `MAX_BODY_BYTES`), then its signature
and timestamp are checked with Bolt's own verifier (`slack_sdk.signature.SignatureVerifier`,
the one Bolt's request-verification middleware uses) before a single byte of it is parsed. So:

- a body over 1 MB: 413;
- unsigned, wrongly signed, or over 5 minutes old: 401, whatever the body;
- signed, but not a body Slack sends (or one Bolt cannot read): 400;
- signed and well formed, but nothing listens for it: 400 (an event: 200, so Slack won't retry);
- signed and handled: Bolt's answer, sent only once the listener's write has committed.

None of the refusals reaches a listener or writes anything.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import yarl
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.deps import Work

logger = logging.getLogger("line_of_sight")

MAX_BODY_BYTES = 1024 * 1024  # Slack's own payloads are far smaller; a view is at most 250 kB


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
    """One line per request, in both modes: what it was, the outcome, the time to answer."""
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
        parsed = json.loads(text)
        if not isinstance(parsed, dict):
            raise ValueError("a JSON body that is not an object")
        return parsed
    form = dict(yarl.URL.build(query_string=text, encoded=True).query.items())
    if "payload" in form:
        payload = json.loads(form["payload"])
        if not isinstance(payload, dict):
            raise ValueError("a payload that is not an object")
        return payload
    return form


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
) -> web.Application:
    """The aiohttp app: POST /slack/events (all Slack traffic) and GET /healthz."""

    async def health(request: web.Request) -> web.Response:
        report = await healthz()
        return web.json_response(report, status=200 if report["ok"] else 503)

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_get("/healthz", health)
    if events is not None:
        app.router.add_post("/slack/events", events.handle)
    return app
