"""`open_modal` with a fake Slack client, and the stand-in's latency and `disconnect`: fast,
each able to fail on its own (the journeys through Slack are in test_modal_deadlines.py and
test_socket_disconnect.py)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.modals import FAILED, open_modal
from bot.slack.views import LOADING, build_loading_view, build_notice_view
from slack_standin import RateLimits, SlackStandIn, Workspace


def test_the_loading_view_is_a_modal_saying_one_moment_under_its_title():
    view = build_loading_view("Follow-up").to_dict()
    assert view["type"] == "modal"
    assert view["title"]["text"] == "Follow-up"
    assert LOADING in json.dumps(view, ensure_ascii=False)
    assert "submit" not in view  # nothing to send until it is filled in
    assert build_loading_view("x" * 40).to_dict()["title"]["text"] == "x" * 24  # Slack's cap


class Client:
    """Records views.open / views.update; `refuse` makes views.update answer that error."""

    def __init__(self, refuse: str | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.refuse = refuse
        self.opened = asyncio.Event()

    async def views_open(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("open", kwargs))
        self.opened.set()
        return {"ok": True, "view": {"id": "V1", "hash": "h1"}}

    async def views_update(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("update", kwargs))
        if self.refuse:
            raise SlackApiError("refused", {"ok": False, "error": self.refuse})
        return {"ok": True}


def shown(view: View) -> str:
    return json.dumps(view.to_dict(), ensure_ascii=False)


async def made(after: float, text: str = "Ready") -> View:
    await asyncio.sleep(after)
    return build_notice_view("Done", text)


async def test_quick_work_opens_its_own_modal_once():
    client = Client()
    await open_modal(client, "T1", made(0), title="Done")  # type: ignore[arg-type]
    [(what, kwargs)] = client.calls
    assert (what, kwargs["trigger_id"]) == ("open", "T1")
    assert "Ready" in shown(kwargs["view"])


async def test_slow_work_opens_one_moment_at_once_then_updates_it_by_id_and_hash():
    client = Client()
    started = time.monotonic()
    task = asyncio.create_task(open_modal(client, "T1", made(1.0), title="Done", wait=0.1))  # type: ignore[arg-type]
    await asyncio.wait_for(client.opened.wait(), 2)
    assert time.monotonic() - started < 0.5  # not after the work
    assert LOADING in shown(client.calls[0][1]["view"])
    await task
    [_, (what, kwargs)] = client.calls
    assert (what, kwargs["view_id"], kwargs["hash"]) == ("update", "V1", "h1")
    assert "Ready" in shown(kwargs["view"])


async def test_a_closed_modal_refusing_the_update_breaks_nothing():
    client = Client(refuse="not_found")
    await open_modal(client, "T1", made(0.2), title="Done", wait=0.01)  # type: ignore[arg-type]
    assert [c[0] for c in client.calls] == ["open", "update"]


async def test_work_that_fails_says_so_in_the_modal_and_is_raised():
    async def broken() -> View:
        await asyncio.sleep(0.2)
        raise RuntimeError("boom")

    client = Client()
    with pytest.raises(RuntimeError):
        await open_modal(client, "T1", broken(), title="Done", wait=0.01)  # type: ignore[arg-type]
    assert FAILED in shown(client.calls[-1][1]["view"])


# -- the stand-in ------------------------------------------------------------------------------


@pytest.fixture
async def standin():
    ws = Workspace(team_id="T0LOS", team_name="Bromley Children's Services")
    ws.add_user("U0BEN", name="ben", real_name="Ben Carter")
    s = SlackStandIn(ws, rate_limits=RateLimits.disabled(), latency={"auth.test": 0.3})
    await s.start()
    yield s
    await s.stop()


async def test_latency_delays_the_named_method_only(standin):
    client = AsyncWebClient(token=standin.bot_token, base_url=standin.api_url)
    started = time.monotonic()
    await client.auth_test()
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    await client.users_info(user="U0BEN")
    assert time.monotonic() - started < 0.3
    standin.latency["*"] = 0.2  # every method not named
    started = time.monotonic()
    await client.users_info(user="U0BEN")
    assert time.monotonic() - started >= 0.2


async def test_a_trigger_expires_three_seconds_after_the_interaction_by_the_stand_ins_clock(
    standin,
):
    client = AsyncWebClient(token=standin.bot_token, base_url=standin.api_url)
    view = build_loading_view("Hello")
    now = time.time()
    standin.clock = lambda: now
    trigger = standin.issue_trigger("U0BEN")
    standin.clock = lambda: now + 3.1
    with pytest.raises(SlackApiError) as refused:
        await client.views_open(trigger_id=trigger, view=view)
    assert refused.value.response["error"] == "expired_trigger_id"
    trigger = standin.issue_trigger("U0BEN")
    standin.clock = lambda: now + 3.1 + 2.9
    assert (await client.views_open(trigger_id=trigger, view=view))["ok"]


async def test_disconnect_is_slacks_message_then_the_connection_closes(standin):
    client = AsyncWebClient(token=standin.bot_token, base_url=standin.api_url)
    url = (await client.apps_connections_open(app_token=standin.app_token))["url"]
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as sock:
        assert (await sock.receive_json())["type"] == "hello"
        assert await standin.disconnect("warning") == 1
        assert await sock.receive_json() == {
            "type": "disconnect",
            "reason": "warning",
            "debug_info": {"host": "applink-standin"},
        }
        assert await standin.disconnect("link_disabled", close_after=0.05) == 1
        assert (await sock.receive_json())["reason"] == "link_disabled"
        closing = await asyncio.wait_for(sock.receive(), 2)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert standin.disconnects == ["warning", "link_disabled"]
    with pytest.raises(RuntimeError):  # nobody connected again: nothing can be sent
        await standin.send_envelope(
            "events_api", {}, accepts_response_payload=False, connect_wait=0.1
        )
