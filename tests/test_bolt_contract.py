"""Bolt's internals the request path leans on, one named test each.

Bolt is held to one minor release (pyproject.toml). Before the range is moved on, these say
which reliance an upgrade broke, by name, rather than a click failing somewhere in the suite:

- bot/web.py builds an HTTP request from a body it has already parsed, through Bolt's Socket
  Mode form of `AsyncBoltRequest`, then sets it back to HTTP;
- bot/socket_mode.py calls `send_async_response` and `build_headers` from the Socket Mode
  adapter's internals;
- bot/deps.py hands every listener Bolt's `AsyncArgs` (a listener that names `args`), and
  reads the names it may ask for from `AsyncArgs.__init__`;
- bot/app.py gives Bolt a logger so that Bolt copies its level, not the root's, to its own.
"""

from __future__ import annotations

import inspect
import json
import logging
from typing import Any

import pytest
from slack_bolt.adapter.socket_mode.async_internals import send_async_response
from slack_bolt.adapter.socket_mode.internals import build_headers
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.error import BoltError
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_bolt.logger import get_bolt_logger
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import bolt_logger
from bot.deps import BOLT_ARGS, bind
from bot.web import ParsedBoltRequest

CLICK = {
    "type": "block_actions",
    "team": {"id": "T0TEST"},
    "user": {"id": "U0SW01", "team_id": "T0TEST"},
    "api_app_id": "A0TEST",
    "token": "unused",
    "trigger_id": "1.2.3",
    "response_url": "https://hooks.slack.test/actions/1",
    "actions": [{"action_id": "contract_click", "block_id": "b", "type": "button", "value": "v"}],
}


def _app() -> AsyncApp:
    async def authorize() -> AuthorizeResult:
        return AuthorizeResult(enterprise_id=None, team_id="T0TEST", bot_token="xoxb-test")

    return AsyncApp(
        client=AsyncWebClient(token="xoxb-test", base_url="http://127.0.0.1:9/api/"),
        signing_secret="unused",
        authorize=authorize,
        process_before_response=True,
        request_verification_enabled=False,
        raise_error_for_unhandled_request=True,
    )


def test_bolt_takes_a_parsed_body_only_in_its_socket_mode_form():
    with pytest.raises(BoltError):
        AsyncBoltRequest(body=dict(CLICK), mode="http")
    body = dict(CLICK)
    request = ParsedBoltRequest(raw_body=json.dumps(CLICK), body=body, query="", headers={})
    assert request.body is body  # not parsed again
    assert request.mode == "http"
    assert request.raw_body == json.dumps(CLICK)
    assert request.context.user_id == "U0SW01"
    assert request.context.team_id == "T0TEST"


async def test_a_request_built_from_a_parsed_body_is_dispatched_as_bolt_would():
    app = _app()
    seen: dict[str, Any] = {}

    async def on_click(args: AsyncArgs) -> None:
        seen["args"] = args
        await args.ack()

    app.action("contract_click")(on_click)
    body = dict(CLICK)
    request = ParsedBoltRequest(raw_body=json.dumps(CLICK), body=body, query="", headers={})
    response = await app.async_dispatch(request)
    assert response.status == 200
    args = seen["args"]
    assert isinstance(args, AsyncArgs)
    assert args.body is body
    assert args.action["value"] == "v"
    assert args.context.user_id == "U0SW01"


async def test_a_listener_naming_args_can_be_given_every_name_bolt_args_lists():
    app = _app()
    seen: dict[str, Any] = {}

    async def everything(deps: object, **named: Any) -> None:
        seen.update(named)
        await named["ack"]()

    everything.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("deps", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY) for n in sorted(BOLT_ARGS)]
    )
    app.action("contract_click")(bind(object(), everything))
    request = ParsedBoltRequest(raw_body="", body=dict(CLICK), query="", headers={})
    assert (await app.async_dispatch(request)).status == 200
    assert set(seen) == BOLT_ARGS
    for name in ("ack", "body", "client", "context", "respond", "say", "action", "logger"):
        assert seen[name] is not None, name
    assert {"ack", "body", "client", "context", "respond", "view", "command", "event"} <= BOLT_ARGS


def test_the_socket_mode_internals_keep_their_names_and_shapes():
    assert list(inspect.signature(send_async_response).parameters) == [
        "client",
        "req",
        "bolt_resp",
        "start_time",
    ]
    request = SocketModeRequest(
        type="interactive", envelope_id="e1", payload=CLICK, retry_attempt=2, retry_reason="timeout"
    )
    assert build_headers(request) == {"x-slack-retry-num": "2", "x-slack-retry-reason": "timeout"}
    assert build_headers(SocketModeRequest(type="interactive", envelope_id="e2", payload={})) in (
        None,
        {},
    )


async def test_socket_mode_acknowledges_with_the_listeners_answer_on_the_socket():
    sent: list[Any] = []

    class Socket:
        # Bolt logs the whole answer when the client's logger is at DEBUG: bot/app.py holds it
        # at WARNING (see test_bolt_copies_the_level_of_the_logger_it_is_given_not_the_roots).
        logger = logging.getLogger("tests.contract.socket")

        async def send_socket_mode_response(self, response: Any) -> None:
            sent.append(response)

    request = SocketModeRequest(type="interactive", envelope_id="e1", payload=CLICK)
    answer = BoltResponse(
        status=200, body='{"text": "Thanks"}', headers={"content-type": "application/json"}
    )
    await send_async_response(Socket(), request, answer, 0.0)  # type: ignore[arg-type]
    assert len(sent) == 1
    assert sent[0].envelope_id == "e1"
    assert sent[0].payload == {"text": "Thanks"}


def test_bolt_copies_the_level_of_the_logger_it_is_given_not_the_roots():
    root = logging.getLogger()
    before = root.level
    try:
        root.setLevel(logging.DEBUG)
        given = bolt_logger()
        made = get_bolt_logger(AsyncApp, base_logger=given)
        assert made.level == logging.WARNING
        assert get_bolt_logger(AsyncApp).level == logging.DEBUG  # what it does when not given one
    finally:
        root.setLevel(before)
        bolt_logger()
