"""Socket Mode: the stand-in's websocket works with slack_bolt's AsyncSocketModeHandler."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from slack_standin import RateLimits, SlackDriver, SlackStandIn, Workspace
from slack_standin.harness import eventually

BOT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"


@pytest.fixture
async def standin() -> AsyncIterator[SlackStandIn]:
    ws = Workspace(team_id="T0LOS", team_name="Bromley Children's Services")
    ws.add_user("U0BEN", name="ben", real_name="Ben Carter")
    ws.add_channel("C0SWALL", "social-work-all", members=["U0BEN"])
    s = SlackStandIn(ws, rate_limits=RateLimits.disabled())
    await s.start()
    yield s
    await s.stop()


async def test_connection_gets_hello_and_needs_a_ticket(standin: SlackStandIn) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=standin.api_url)
    url = (await client.apps_connections_open(app_token=APP_TOKEN))["url"]
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(url) as sock:
            hello = await sock.receive_json()
            assert hello["type"] == "hello"
            assert hello["connection_info"]["app_id"] == "A0LOS"
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await http.ws_connect(url)  # tickets are single use


async def test_bolt_socket_mode_handler_round_trip(standin: SlackStandIn) -> None:
    app = AsyncApp(client=AsyncWebClient(token=BOT_TOKEN, base_url=standin.api_url))
    home_opened: list[str] = []

    @app.command("/brief")
    async def brief(ack: Any, command: dict[str, Any]) -> None:
        await ack(f"Brief: {command['text']}")

    @app.event("app_home_opened")
    async def home(event: dict[str, Any], client: AsyncWebClient) -> None:
        home_opened.append(event["user"])
        await client.views_publish(
            user_id=event["user"],
            view={
                "type": "home",
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Hi"}}],
            },
        )

    handler = AsyncSocketModeHandler(app, APP_TOKEN)
    await handler.connect_async()
    try:
        await standin.wait_for_socket()
        async with SlackDriver(standin, mode="socket") as driver:
            resp = await driver.slash_command("U0BEN", "/brief", "practice week")
            assert resp.status == 200
            assert resp.json == {"text": "Brief: practice week"}
            assert [(s.kind, s.text) for s in standin.seen_by("U0BEN")] == [
                ("response", "Brief: practice week")
            ]
            event = await driver.app_home_opened("U0BEN")
            assert event.status == 200
            await eventually(lambda: standin.home_view("U0BEN") is not None)
            assert home_opened == ["U0BEN"]
    finally:
        await handler.close_async()
    assert [c.method for c in standin.calls][:1] == ["apps.connections.open"]


async def test_socket_envelope_shape(standin: SlackStandIn) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=standin.api_url)
    url = (await client.apps_connections_open(app_token=APP_TOKEN))["url"]
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as sock:
        await sock.receive_json()  # hello
        async with SlackDriver(standin, mode="socket") as driver:
            pending = asyncio.create_task(
                driver.send_event({"type": "app_mention"}, event_id="Ev1", retry_num=2)
            )
            envelope = json.loads((await sock.receive()).data)
            assert envelope["type"] == "events_api"
            assert envelope["payload"]["event_id"] == "Ev1"
            assert envelope["retry_attempt"] == 2
            assert envelope["retry_reason"] == "http_timeout"
            assert envelope["accepts_response_payload"] is False
            await sock.send_json({"envelope_id": envelope["envelope_id"]})
            resp = await pending
            assert resp.status == 200
            assert resp.body == ""
