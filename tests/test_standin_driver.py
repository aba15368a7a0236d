"""The driver sends Slack's requests exactly as Slack does, and only what users could do."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from slack_standin import RateLimits, SlackDriver, SlackStandIn, Workspace
from slack_standin.harness import eventually

BOT_TOKEN = "xoxb-test-token"
SECRET = "test-signing-secret"


@dataclass
class Request:
    headers: dict[str, str]
    body: bytes


@dataclass
class Recorder:
    """A tiny bot endpoint: records each request and answers with ``reply``."""

    url: str = ""
    requests: list[Request] = field(default_factory=list)
    reply: Callable[[Request], web.Response] = lambda _: web.Response(status=200)

    def payload(self, i: int = -1) -> dict[str, Any]:
        form = parse_qs(self.requests[i].body.decode())
        return json.loads(form["payload"][0])

    def form(self, i: int = -1) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.requests[i].body.decode()).items()}


# ------------------------------------------------------------------ fixtures
@pytest.fixture
def workspace() -> Workspace:
    ws = Workspace(team_id="T0LOS", team_name="Bromley Children's Services")
    ws.add_user("U0AMARA", name="amara", real_name="Amara Okafor")
    ws.add_user("U0BEN", name="ben", real_name="Ben Carter")
    ws.add_channel("C0SWALL", "social-work-all", members=["U0AMARA", "U0BEN"])
    ws.add_channel("C0TMS", "team-managers", members=["U0AMARA"])
    return ws


@pytest.fixture
async def standin(workspace: Workspace) -> AsyncIterator[SlackStandIn]:
    s = SlackStandIn(workspace, signing_secret=SECRET, rate_limits=RateLimits.disabled())
    await s.start()
    yield s
    await s.stop()


@pytest.fixture
def client(standin: SlackStandIn) -> AsyncWebClient:
    return AsyncWebClient(token=BOT_TOKEN, base_url=standin.api_url, retry_handlers=[])


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    rec = Recorder()

    async def handle(request: web.Request) -> web.Response:
        seen = Request(headers=dict(request.headers), body=await request.read())
        rec.requests.append(seen)
        return rec.reply(seen)

    app = web.Application()
    app.router.add_post("/slack/events", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    rec.url = f"http://127.0.0.1:{port}/slack/events"
    yield rec
    await runner.cleanup()


@pytest.fixture
async def driver(standin: SlackStandIn, recorder: Recorder) -> AsyncIterator[SlackDriver]:
    async with SlackDriver(standin, bot_url=recorder.url, signing_secret=SECRET) as d:
        yield d


def verifies(seen: Request, secret: str = SECRET) -> bool:
    return SignatureVerifier(secret).is_valid_request(seen.body, seen.headers)


async def post_buttons(client: AsyncWebClient, channel: str = "C0SWALL") -> None:
    await client.chat_postMessage(
        channel=channel,
        text="Did this help?",
        blocks=[
            {"type": "section", "text": {"type": "mrkdwn", "text": "Did this help?"}},
            {
                "type": "actions",
                "block_id": "vote",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "answer",
                        "text": {"type": "plain_text", "text": "Yes"},
                        "value": "yes",
                    },
                    {
                        "type": "button",
                        "action_id": "answer_no",
                        "text": {"type": "plain_text", "text": "No"},
                        "value": "no",
                    },
                ],
            },
        ],
    )


# ------------------------------------------------------------------ signing
async def test_requests_are_signed_like_slack(driver: SlackDriver, recorder: Recorder) -> None:
    await driver.slash_command("U0BEN", "/brief", "publish x")
    await driver.app_home_opened("U0BEN")
    assert len(recorder.requests) == 2
    assert all(verifies(r) for r in recorder.requests)
    assert not verifies(recorder.requests[0], "another-secret")


async def test_raw_post_can_sign_wrongly(driver: SlackDriver, recorder: Recorder) -> None:
    await driver.raw_post("{}", "application/json", secret="wrong")
    await driver.raw_post("{}", "application/json", sign=False)
    await driver.raw_post("{}", "application/json", timestamp=1)
    assert not verifies(recorder.requests[0])
    assert "X-Slack-Signature" not in recorder.requests[1].headers
    assert not verifies(recorder.requests[2])  # stale timestamp


# ------------------------------------------------------------------ slash commands
async def test_slash_command_form_matches_slack(
    driver: SlackDriver, recorder: Recorder, standin: SlackStandIn, client: AsyncWebClient
) -> None:
    await driver.slash_command("U0AMARA", "/brief", "publish x", channel_id="C0TMS")
    form = recorder.form()
    assert list(form) == [
        "token",
        "team_id",
        "team_domain",
        "channel_id",
        "channel_name",
        "user_id",
        "user_name",
        "command",
        "text",
        "api_app_id",
        "is_enterprise_install",
        "response_url",
        "trigger_id",
    ]
    assert form["command"] == "/brief"
    assert form["text"] == "publish x"
    assert form["channel_name"] == "team-managers"
    assert recorder.requests[-1].headers["Content-Type"] == "application/x-www-form-urlencoded"
    # The trigger works for this user's modal, once.
    opened = await client.views_open(
        trigger_id=form["trigger_id"],
        view={
            "type": "modal",
            "title": {"type": "plain_text", "text": "Brief"},
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}],
        },
    )
    assert standin.views_for("U0AMARA") == [opened["view"]]


async def test_slash_command_default_channel_is_the_dm(
    driver: SlackDriver, recorder: Recorder, workspace: Workspace
) -> None:
    await driver.slash_command("U0BEN", "/brief")
    assert recorder.form()["channel_id"] == workspace.im_with("U0BEN").id
    assert recorder.form()["channel_name"] == "directmessage"


async def test_slash_command_only_in_channels_the_user_is_in(driver: SlackDriver) -> None:
    with pytest.raises(LookupError):
        await driver.slash_command("U0BEN", "/brief", channel_id="C0TMS")


async def test_slash_command_ack_text_is_shown_to_the_user(
    driver: SlackDriver, recorder: Recorder, standin: SlackStandIn
) -> None:
    recorder.reply = lambda _: web.json_response({"text": "Working on it"})
    await driver.slash_command("U0BEN", "/brief")
    assert [(s.kind, s.text) for s in standin.seen_by("U0BEN")] == [("response", "Working on it")]


async def test_slash_command_response_url_reaches_the_user(
    driver: SlackDriver, recorder: Recorder, standin: SlackStandIn
) -> None:
    await driver.slash_command("U0BEN", "/brief", channel_id="C0SWALL")
    url = recorder.form()["response_url"]
    async with aiohttp.ClientSession() as http, http.post(url, json={"text": "Done"}) as resp:
        assert resp.status == 200
    assert [(s.kind, s.text) for s in standin.seen_by("U0BEN")] == [("response", "Done")]
    assert standin.seen_by("U0AMARA") == []


# ------------------------------------------------------------------ clicks
async def test_click_builds_a_block_actions_payload(
    driver: SlackDriver, recorder: Recorder, standin: SlackStandIn, client: AsyncWebClient
) -> None:
    await post_buttons(client)
    [msg] = standin.messages("C0SWALL")
    await driver.click("U0BEN", msg, "answer")
    payload = recorder.payload()
    assert payload["type"] == "block_actions"
    assert payload["user"] == {"id": "U0BEN", "username": "ben", "name": "ben", "team_id": "T0LOS"}
    assert payload["container"] == {
        "type": "message",
        "message_ts": msg.ts,
        "channel_id": "C0SWALL",
        "is_ephemeral": False,
    }
    assert payload["channel"] == {"id": "C0SWALL", "name": "social-work-all"}
    assert payload["message"]["ts"] == msg.ts
    [action] = payload["actions"]
    assert action["action_id"] == "answer"
    assert action["block_id"] == "vote"
    assert action["value"] == "yes"
    assert action["type"] == "button"
    assert action["text"]["text"] == "Yes"
    assert payload["response_url"].startswith(standin.base_url + "/response/")
    assert payload["trigger_id"]
    assert verifies(recorder.requests[-1])


async def test_click_needs_the_user_to_see_the_button(
    driver: SlackDriver, standin: SlackStandIn, client: AsyncWebClient
) -> None:
    await post_buttons(client, channel="C0TMS")
    [msg] = standin.messages("C0TMS")
    with pytest.raises(LookupError):
        await driver.click("U0BEN", msg, "answer")  # Ben is not in #team-managers
    with pytest.raises(LookupError):
        await driver.click("U0AMARA", msg, "no_such_action")


async def test_click_on_a_replaced_message_uses_what_is_shown_now(
    driver: SlackDriver, standin: SlackStandIn, client: AsyncWebClient
) -> None:
    await post_buttons(client)
    [msg] = standin.messages("C0SWALL")
    await client.chat_update(channel="C0SWALL", ts=msg.ts, text="Thanks", blocks=[])
    with pytest.raises(LookupError):
        await driver.click("U0BEN", msg, "answer")


async def test_ephemeral_buttons_only_for_their_user(
    driver: SlackDriver, recorder: Recorder, standin: SlackStandIn, client: AsyncWebClient
) -> None:
    await client.chat_postEphemeral(
        channel="C0SWALL",
        user="U0BEN",
        text="Confirm?",
        blocks=[
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "ok",
                        "text": {"type": "plain_text", "text": "OK"},
                    }
                ],
            }
        ],
    )
    [seen] = standin.seen_by("U0BEN")
    with pytest.raises(LookupError):
        await driver.click("U0AMARA", seen, "ok")
    await driver.click("U0BEN", seen, "ok")
    payload = recorder.payload()
    assert payload["container"]["is_ephemeral"] is True
    assert "message" not in payload
    # Slack generated a block_id for the block that had none.
    assert payload["actions"][0]["block_id"]


async def test_click_response_url_replaces_the_original(
    driver: SlackDriver, recorder: Recorder, standin: SlackStandIn, client: AsyncWebClient
) -> None:
    await post_buttons(client)
    [msg] = standin.messages("C0SWALL")
    await driver.click("U0BEN", msg, "answer")
    url = recorder.payload()["response_url"]
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, json={"replace_original": True, "text": "Thanks for voting"}) as resp,
    ):
        assert resp.status == 200
    assert standin.messages("C0SWALL")[0].text == "Thanks for voting"


async def test_select_option_click(
    driver: SlackDriver, recorder: Recorder, standin: SlackStandIn, client: AsyncWebClient
) -> None:
    await client.chat_postMessage(
        channel="C0SWALL",
        text="Pick",
        blocks=[
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "Pick"},
                "accessory": {
                    "type": "static_select",
                    "action_id": "pick",
                    "options": [
                        {"text": {"type": "plain_text", "text": "A"}, "value": "a"},
                        {"text": {"type": "plain_text", "text": "B"}, "value": "b"},
                    ],
                },
            }
        ],
    )
    [msg] = standin.messages("C0SWALL")
    await driver.click("U0BEN", msg, "pick", value="b")
    assert recorder.payload()["actions"][0]["selected_option"]["value"] == "b"
    with pytest.raises(LookupError):
        await driver.click("U0BEN", msg, "pick", value="z")


# ------------------------------------------------------------------ views
QUESTION_MODAL = {
    "type": "modal",
    "callback_id": "ask",
    "private_metadata": "check-42",
    "title": {"type": "plain_text", "text": "Ask"},
    "submit": {"type": "plain_text", "text": "Send"},
    "blocks": [
        {
            "type": "input",
            "block_id": "q",
            "label": {"type": "plain_text", "text": "Question"},
            "element": {"type": "plain_text_input", "action_id": "text", "max_length": 500},
        },
        {
            "type": "input",
            "block_id": "anon",
            "optional": True,
            "label": {"type": "plain_text", "text": "Anonymous?"},
            "element": {
                "type": "checkboxes",
                "action_id": "flag",
                "options": [{"text": {"type": "plain_text", "text": "Yes"}, "value": "anon"}],
            },
        },
    ],
}


async def open_modal(standin: SlackStandIn, client: AsyncWebClient, user: str) -> dict[str, Any]:
    resp = await client.views_open(trigger_id=standin.issue_trigger(user), view=QUESTION_MODAL)
    return dict(resp["view"])


async def test_submit_view_payload_and_empty_ack_closes(
    driver: SlackDriver, recorder: Recorder, standin: SlackStandIn, client: AsyncWebClient
) -> None:
    view = await open_modal(standin, client, "U0BEN")
    values = {"q": {"text": {"type": "plain_text_input", "value": "When is supervision?"}}}
    resp = await driver.submit_view("U0BEN", view, values)
    assert resp.status == 200
    payload = recorder.payload()
    assert payload["type"] == "view_submission"
    assert payload["view"]["id"] == view["id"]
    assert payload["view"]["callback_id"] == "ask"
    assert payload["view"]["private_metadata"] == "check-42"
    assert payload["view"]["hash"] == view["hash"]
    state = payload["view"]["state"]["values"]
    assert state["q"]["text"] == {"type": "plain_text_input", "value": "When is supervision?"}
    assert state["anon"]["flag"] == {"type": "checkboxes", "selected_options": []}
    assert standin.views_for("U0BEN") == []


async def test_submit_view_errors_keep_the_modal_open(
    driver: SlackDriver, recorder: Recorder, standin: SlackStandIn, client: AsyncWebClient
) -> None:
    recorder.reply = lambda _: web.json_response(
        {"response_action": "errors", "errors": {"q": "Too vague"}}
    )
    view = await open_modal(standin, client, "U0BEN")
    resp = await driver.submit_view("U0BEN", view, {"q": {"text": {"value": "?"}}})
    assert resp.json == {"response_action": "errors", "errors": {"q": "Too vague"}}
    assert [v["id"] for v in standin.views_for("U0BEN")] == [view["id"]]
    assert standin.interaction_errors == []


async def test_errors_for_a_non_input_block_are_an_interaction_error(
    driver: SlackDriver, recorder: Recorder, standin: SlackStandIn, client: AsyncWebClient
) -> None:
    recorder.reply = lambda _: web.json_response(
        {"response_action": "errors", "errors": {"not_a_block": "Nope"}}
    )
    view = await open_modal(standin, client, "U0BEN")
    await driver.submit_view("U0BEN", view, {"q": {"text": {"value": "?"}}})
    assert standin.interaction_errors == ["errors for non-input blocks: ['not_a_block']"]


async def test_submit_view_update_push_and_clear(
    driver: SlackDriver, recorder: Recorder, standin: SlackStandIn, client: AsyncWebClient
) -> None:
    thanks = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Thanks"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Sent"}}],
    }
    view = await open_modal(standin, client, "U0BEN")
    recorder.reply = lambda _: web.json_response({"response_action": "update", "view": thanks})
    await driver.submit_view("U0BEN", view, {"q": {"text": {"value": "x"}}})
    [updated] = standin.views_for("U0BEN")
    assert updated["id"] == view["id"]
    assert updated["title"]["text"] == "Thanks"

    view2 = await open_modal(standin, client, "U0AMARA")
    recorder.reply = lambda _: web.json_response({"response_action": "push", "view": thanks})
    await driver.submit_view("U0AMARA", view2, {"q": {"text": {"value": "x"}}})
    assert [v["title"]["text"] for v in standin.views_for("U0AMARA")] == ["Ask", "Thanks"]
    with pytest.raises(LookupError):  # only the top modal can be submitted
        await driver.submit_view("U0AMARA", view2, {"q": {"text": {"value": "x"}}})

    view3 = await open_modal(standin, client, "U0AMARA")
    recorder.reply = lambda _: web.json_response({"response_action": "clear"})
    await driver.submit_view("U0AMARA", view3, {"q": {"text": {"value": "x"}}})
    assert standin.views_for("U0AMARA") == []
    assert standin.interaction_errors == []


async def test_invalid_response_action_view_is_an_interaction_error(
    driver: SlackDriver, recorder: Recorder, standin: SlackStandIn, client: AsyncWebClient
) -> None:
    bad = {"type": "modal", "title": {"type": "plain_text", "text": "x" * 30}, "blocks": []}
    recorder.reply = lambda _: web.json_response({"response_action": "update", "view": bad})
    view = await open_modal(standin, client, "U0BEN")
    await driver.submit_view("U0BEN", view, {"q": {"text": {"value": "x"}}})
    assert standin.interaction_errors
    assert standin.views_for("U0BEN")[0]["title"]["text"] == "Ask"


async def test_submit_refuses_what_slack_would_not_send(
    driver: SlackDriver, standin: SlackStandIn, client: AsyncWebClient
) -> None:
    view = await open_modal(standin, client, "U0BEN")
    with pytest.raises(ValueError, match="required"):
        await driver.submit_view("U0BEN", view, {})
    with pytest.raises(ValueError, match="max_length"):
        await driver.submit_view("U0BEN", view, {"q": {"text": {"value": "x" * 501}}})
    with pytest.raises(LookupError):
        await driver.submit_view("U0BEN", view, {"nope": {"x": {"value": "1"}}})
    with pytest.raises(LookupError):
        await driver.submit_view("U0AMARA", view, {"q": {"text": {"value": "x"}}})


async def test_click_in_a_modal(
    driver: SlackDriver, recorder: Recorder, standin: SlackStandIn, client: AsyncWebClient
) -> None:
    view = (
        await client.views_open(
            trigger_id=standin.issue_trigger("U0BEN"),
            view={
                "type": "modal",
                "title": {"type": "plain_text", "text": "More"},
                "blocks": [
                    {
                        "type": "actions",
                        "elements": [
                            {
                                "type": "button",
                                "action_id": "more",
                                "text": {"type": "plain_text", "text": "More"},
                            }
                        ],
                    }
                ],
            },
        )
    )["view"]
    await driver.click("U0BEN", view, "more")
    payload = recorder.payload()
    assert payload["container"] == {"type": "view", "view_id": view["id"]}
    assert payload["view"]["id"] == view["id"]
    assert "response_url" not in payload
    with pytest.raises(LookupError):
        await driver.click("U0AMARA", view, "more")


# ------------------------------------------------------------------ events
async def test_app_home_opened_envelope_and_retry_headers(
    driver: SlackDriver, recorder: Recorder, workspace: Workspace
) -> None:
    first = await driver.app_home_opened("U0BEN")
    await driver.app_home_opened("U0BEN", event_id=first.event_id, retry_num=1)
    body0 = json.loads(recorder.requests[0].body)
    body1 = json.loads(recorder.requests[1].body)
    assert body0["type"] == "event_callback"
    assert body0["event"]["type"] == "app_home_opened"
    assert body0["event"]["user"] == "U0BEN"
    assert body0["event"]["tab"] == "home"
    assert body0["event"]["channel"] == workspace.im_with("U0BEN").id
    assert body0["authorizations"][0]["user_id"] == "U0BOT"
    assert set(body0) >= {
        "token",
        "team_id",
        "api_app_id",
        "event",
        "type",
        "event_id",
        "event_time",
        "authorizations",
        "is_ext_shared_channel",
        "event_context",
    }
    assert body1["event_id"] == body0["event_id"] == first.event_id
    assert "X-Slack-Retry-Num" not in recorder.requests[0].headers
    assert recorder.requests[1].headers["X-Slack-Retry-Num"] == "1"
    assert recorder.requests[1].headers["X-Slack-Retry-Reason"] == "http_timeout"
    assert recorder.requests[1].headers["Content-Type"] == "application/json"


# ------------------------------------------------------------------ a real Bolt app
@pytest.fixture
async def bolt_url(standin: SlackStandIn) -> AsyncIterator[str]:
    """A minimal slack_bolt AsyncApp (signature checks on) talking to the stand-in."""
    app = AsyncApp(
        signing_secret=SECRET,
        client=AsyncWebClient(token=BOT_TOKEN, base_url=standin.api_url),
    )

    @app.command("/brief")
    async def brief(ack: Any, respond: Any, command: dict[str, Any]) -> None:
        await ack()
        await respond(f"Brief: {command['text']}")

    @app.action("answer")
    async def answer(ack: Any, respond: Any) -> None:
        await ack()
        await respond(replace_original=True, text="Thanks for voting")

    runner = web.AppRunner(app.web_app(path="/slack/events"))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    await runner.cleanup()


async def test_bolt_accepts_driver_requests_and_respond_works(
    standin: SlackStandIn, bolt_url: str, client: AsyncWebClient
) -> None:
    async with SlackDriver(standin, bot_url=bolt_url, signing_secret=SECRET) as d:
        resp = await d.slash_command("U0BEN", "/brief", "practice week", channel_id="C0SWALL")
        assert resp.status == 200
        await eventually(lambda: len(standin.seen_by("U0BEN")) == 1)
        assert [(s.kind, s.text) for s in standin.seen_by("U0BEN")] == [
            ("response", "Brief: practice week")
        ]
        await post_buttons(client)
        [msg] = standin.messages("C0SWALL")
        assert (await d.click("U0AMARA", msg, "answer")).status == 200
        await eventually(lambda: standin.messages("C0SWALL")[0].text == "Thanks for voting")
        bad = await d.raw_post("{}", "application/json", secret="wrong-secret")
        assert bad.status == 401


async def test_changing_a_user_groups_members_sends_slacks_two_events_signed(
    standin: SlackStandIn, driver: SlackDriver, recorder: Recorder, client: AsyncWebClient
) -> None:
    group = standin.ws.add_usergroup("S0TMS", handle="tms", name="Team managers", users=["U0AMARA"])
    before = group.date_update
    sent = await driver.set_usergroup_users("S0TMS", ["U0BEN"])
    assert [r.status for r in sent] == [200, 200]
    assert all(verifies(r) for r in recorder.requests)
    envelopes = [json.loads(r.body) for r in recorder.requests]
    assert [e["type"] for e in envelopes] == ["event_callback", "event_callback"]
    changed, updated = (e["event"] for e in envelopes)
    after = standin.ws.usergroups["S0TMS"].date_update
    assert after > before
    assert {k: v for k, v in changed.items() if k != "event_ts"} == {
        "type": "subteam_members_changed",
        "subteam_id": "S0TMS",
        "team_id": "T0LOS",
        "date_previous_update": before,
        "date_update": after,
        "added_users": ["U0BEN"],
        "added_users_count": 1,
        "removed_users": ["U0AMARA"],
        "removed_users_count": 1,
    }
    assert updated["type"] == "subteam_updated"
    assert updated["subteam"]["users"] == ["U0BEN"]
    assert updated["subteam"]["user_count"] == 1
    assert updated["subteam"]["date_update"] == after
    [listed] = (await client.usergroups_list(include_users=True))["usergroups"]
    assert (listed["users"], listed["date_update"]) == (["U0BEN"], after)
    assert await driver.set_usergroup_users("S0TMS", ["U0BEN"]) == []  # no change: no event
    assert len(recorder.requests) == 2
    await driver.create_usergroup("S0NEW", "duty", "Duty")
    created = json.loads(recorder.requests[-1].body)["event"]
    assert created["type"] == "subteam_created"
    assert created["subteam"]["user_count"] == 0
    assert "users" not in created["subteam"]
