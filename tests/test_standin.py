"""The Slack stand-in answers the real slack_sdk client the way Slack does.

Every Web API test goes through ``slack_sdk.web.async_client.AsyncWebClient`` so the encodings
slack_sdk really uses (JSON, form, query string, GET) are proven against the stand-in.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from slack_standin import RateLimits, SlackStandIn, Workspace

BOT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"


class FakeClock:
    """A settable clock so expiry tests need no sleeps."""

    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# ------------------------------------------------------------------ fixtures
@pytest.fixture
def workspace() -> Workspace:
    ws = Workspace(team_id="T0LOS", team_name="Bromley Children's Services")
    ws.add_user("U0AMARA", name="amara", real_name="Amara Okafor")
    ws.add_user("U0BEN", name="ben", real_name="Ben Carter")
    ws.add_user("U0CARA", name="cara", real_name="Cara Singh")
    ws.add_channel("C0SWALL", "social-work-all", members=["U0AMARA", "U0BEN", "U0CARA"])
    ws.add_channel("C0TMS", "team-managers", members=["U0AMARA"])
    ws.add_channel("C0QUIET", "quiet-room", members=["U0BEN"], bot_member=False)
    ws.add_channel("G0SECRET", "secret", members=["U0BEN"], bot_member=False, is_private=True)
    ws.add_usergroup("S0TMS", handle="team-managers", name="Team managers", users=["U0AMARA"])
    return ws


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def standin(workspace: Workspace, clock: FakeClock) -> AsyncIterator[SlackStandIn]:
    s = SlackStandIn(
        workspace,
        bot_token=BOT_TOKEN,
        app_token=APP_TOKEN,
        signing_secret="test-signing-secret",
        rate_limits=RateLimits.disabled(),
    )
    s.clock = clock
    await s.start(host="127.0.0.1", port=0)
    yield s
    await s.stop()


@pytest.fixture
def client(standin: SlackStandIn) -> AsyncWebClient:
    return AsyncWebClient(token=BOT_TOKEN, base_url=standin.api_url, retry_handlers=[])


async def api_error(coro: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        await coro
    return info.value


def section(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def modal(title: str = "Ask a question", **extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title},
        "blocks": [section("hello")],
        **extra,
    }


# ------------------------------------------------------------------ auth
async def test_missing_token_is_not_authed(standin: SlackStandIn) -> None:
    anon = AsyncWebClient(token=None, base_url=standin.api_url, retry_handlers=[])
    err = await api_error(anon.auth_test())
    assert err.response["error"] == "not_authed"
    assert err.response.status_code == 200


async def test_wrong_token_is_invalid_auth(standin: SlackStandIn) -> None:
    bad = AsyncWebClient(token="xoxb-wrong", base_url=standin.api_url, retry_handlers=[])
    err = await api_error(bad.chat_postMessage(channel="C0SWALL", text="hi"))
    assert err.response["error"] == "invalid_auth"
    assert standin.messages("C0SWALL") == []


async def test_app_token_cannot_post_messages(standin: SlackStandIn) -> None:
    app = AsyncWebClient(token=APP_TOKEN, base_url=standin.api_url, retry_handlers=[])
    err = await api_error(app.chat_postMessage(channel="C0SWALL", text="hi"))
    assert err.response["error"] == "not_allowed_token_type"


async def test_unknown_method(client: AsyncWebClient) -> None:
    err = await api_error(client.api_call("chat.postMessagez"))
    assert err.response["error"] == "unknown_method"


async def test_auth_test_describes_the_bot(client: AsyncWebClient, workspace: Workspace) -> None:
    resp = await client.auth_test()
    assert resp["team_id"] == "T0LOS"
    assert resp["user_id"] == workspace.bot_user_id == "U0BOT"
    assert resp["bot_id"] == "B0BOT"
    assert resp["team"] == "Bromley Children's Services"
    assert resp["url"].startswith("https://")
    assert resp["user"]


# ------------------------------------------------------------------ chat.postMessage
@pytest.mark.parametrize("ref", ["C0SWALL", "#social-work-all", "social-work-all"])
async def test_post_message_resolves_channel_id_and_name(
    client: AsyncWebClient, standin: SlackStandIn, ref: str
) -> None:
    resp = await client.chat_postMessage(channel=ref, text="Practice week starts Monday")
    assert resp["channel"] == "C0SWALL"
    assert resp["message"]["text"] == "Practice week starts Monday"
    assert resp["message"]["bot_id"] == "B0BOT"
    [msg] = standin.messages("C0SWALL")
    assert msg.ts == resp["ts"]
    assert msg.user == "U0BOT"
    assert standin.calls_to("chat.postMessage")[0].args["channel"] == ref


async def test_post_message_to_user_id_goes_to_their_dm(
    client: AsyncWebClient, standin: SlackStandIn
) -> None:
    resp = await client.chat_postMessage(channel="U0BEN", text="Your check-in")
    opened = await client.conversations_open(users="U0BEN")
    assert resp["channel"].startswith("D")
    assert resp["channel"] == opened["channel"]["id"]
    assert [s.kind for s in standin.seen_by("U0BEN")] == ["dm"]
    assert standin.seen_by("U0AMARA") == []


async def test_post_message_errors(client: AsyncWebClient) -> None:
    assert (await api_error(client.chat_postMessage(channel="C0QUIET", text="x"))).response[
        "error"
    ] == "not_in_channel"
    assert (await api_error(client.chat_postMessage(channel="G0SECRET", text="x"))).response[
        "error"
    ] == "channel_not_found"
    assert (await api_error(client.chat_postMessage(channel="C0NOPE", text="x"))).response[
        "error"
    ] == "channel_not_found"
    with pytest.warns(UserWarning, match="`text` argument is missing"):
        err = await api_error(client.chat_postMessage(channel="C0SWALL"))
    assert err.response["error"] == "no_text"


async def test_blocks_sent_as_json_string_in_a_form_body(
    client: AsyncWebClient, standin: SlackStandIn
) -> None:
    blocks = [section("*Hello*")]
    resp = await client.api_call(
        "chat.postMessage",
        data={"channel": "C0SWALL", "text": "Hello", "blocks": json.dumps(blocks)},
    )
    assert resp["ok"]
    [msg] = standin.messages("C0SWALL")
    assert msg.blocks[0]["text"]["text"] == "*Hello*"
    # Slack gives every block an id when it stores the message.
    assert msg.blocks[0]["block_id"]


async def test_invalid_blocks_are_rejected_with_messages(
    client: AsyncWebClient, standin: SlackStandIn
) -> None:
    err = await api_error(
        client.chat_postMessage(channel="C0SWALL", text="x", blocks=[section("a" * 3001)])
    )
    assert err.response["error"] == "invalid_blocks"
    assert "/blocks/0/text/text" in err.response["response_metadata"]["messages"][0]
    assert standin.messages("C0SWALL") == []


async def test_blocks_without_text_are_posted_with_a_warning(
    client: AsyncWebClient, standin: SlackStandIn
) -> None:
    with pytest.warns(
        UserWarning, match="`text` argument is missing"
    ):  # slack_sdk itself warns before sending
        resp = await client.chat_postMessage(channel="C0SWALL", blocks=[section("only blocks")])
    assert resp["ok"]
    assert standin.calls_to("chat.postMessage")[0].warnings == ["missing_text_in_blocks"]
    assert resp["response_metadata"]["warnings"] == ["missing_text_in_blocks"]


async def test_post_message_with_text_has_no_warning(
    client: AsyncWebClient, standin: SlackStandIn
) -> None:
    await client.chat_postMessage(channel="C0SWALL", text="fallback", blocks=[section("b")])
    assert standin.calls_to("chat.postMessage")[0].warnings == []


async def test_thread_reply_needs_an_existing_parent(
    client: AsyncWebClient, standin: SlackStandIn
) -> None:
    parent = await client.chat_postMessage(channel="C0SWALL", text="parent")
    reply = await client.chat_postMessage(channel="C0SWALL", text="r", thread_ts=parent["ts"])
    assert reply["message"]["thread_ts"] == parent["ts"]
    err = await api_error(client.chat_postMessage(channel="C0SWALL", text="r", thread_ts="1.2"))
    assert err.response["error"] == "thread_not_found"


# ------------------------------------------------------------------ chat.update / delete
async def test_update_keeps_history_and_errors(
    client: AsyncWebClient, standin: SlackStandIn
) -> None:
    posted = await client.chat_postMessage(channel="C0SWALL", text="v1")
    updated = await client.chat_update(channel="C0SWALL", ts=posted["ts"], text="v2")
    assert updated["text"] == "v2"
    [msg] = standin.messages("C0SWALL")
    assert msg.text == "v2"
    assert [e["text"] for e in msg.edits] == ["v1"]

    err = await api_error(client.chat_update(channel="C0SWALL", ts="1.000001", text="v3"))
    assert err.response["error"] == "message_not_found"
    human = standin.add_user_message("U0BEN", "C0SWALL", "typed by Ben")
    err = await api_error(client.chat_update(channel="C0SWALL", ts=human.ts, text="hijack"))
    assert err.response["error"] == "cant_update_message"


async def test_delete_removes_message_from_everyone(
    client: AsyncWebClient, standin: SlackStandIn
) -> None:
    posted = await client.chat_postMessage(channel="C0SWALL", text="oops")
    await client.chat_delete(channel="C0SWALL", ts=posted["ts"])
    assert standin.messages("C0SWALL") == []
    assert standin.seen_by("U0BEN") == []


# ------------------------------------------------------------------ ephemeral / visibility
async def test_ephemeral_is_seen_only_by_its_user(
    client: AsyncWebClient, standin: SlackStandIn
) -> None:
    resp = await client.chat_postEphemeral(channel="C0SWALL", user="U0BEN", text="just you")
    assert resp["message_ts"]
    assert [(s.kind, s.text) for s in standin.seen_by("U0BEN")] == [("ephemeral", "just you")]
    assert standin.seen_by("U0AMARA") == []
    assert standin.messages("C0SWALL") == []


async def test_ephemeral_to_non_member_is_rejected(client: AsyncWebClient) -> None:
    err = await api_error(client.chat_postEphemeral(channel="C0TMS", user="U0BEN", text="x"))
    assert err.response["error"] == "user_not_in_channel"
    err = await api_error(client.chat_postEphemeral(channel="C0TMS", user="U0NOBODY", text="x"))
    assert err.response["error"] == "user_not_found"


async def test_non_member_does_not_see_channel_messages(
    client: AsyncWebClient, standin: SlackStandIn
) -> None:
    await client.chat_postMessage(channel="C0TMS", text="managers only")
    await client.chat_postMessage(channel="C0SWALL", text="everyone")
    assert [s.text for s in standin.seen_by("U0AMARA")] == ["managers only", "everyone"]
    assert [(s.kind, s.text) for s in standin.seen_by("U0BEN")] == [("channel", "everyone")]


# ------------------------------------------------------------------ conversations / users
async def test_conversations_open_is_stable_per_user(client: AsyncWebClient) -> None:
    first = await client.conversations_open(users="U0AMARA")
    second = await client.conversations_open(users=["U0AMARA"])
    other = await client.conversations_open(users="U0BEN")
    assert first["channel"]["id"] == second["channel"]["id"]
    assert first["channel"]["id"].startswith("D")
    assert other["channel"]["id"] != first["channel"]["id"]
    assert second["already_open"] is True
    err = await api_error(client.conversations_open(users="U0GHOST"))
    assert err.response["error"] == "user_not_found"


async def test_conversations_members_paginates(
    client: AsyncWebClient, workspace: Workspace
) -> None:
    members: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = await client.conversations_members(channel="C0SWALL", limit=2, cursor=cursor)
        members += page["members"]
        pages += 1
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert pages == 2
    assert members == workspace.channels["C0SWALL"].members
    err = await api_error(client.conversations_members(channel="C0SWALL", cursor="garbage!"))
    assert err.response["error"] == "invalid_cursor"
    err = await api_error(client.conversations_members(channel="G0SECRET"))
    assert err.response["error"] == "channel_not_found"


async def test_users_info_and_list(
    client: AsyncWebClient, standin: SlackStandIn, workspace: Workspace
) -> None:
    info = await client.users_info(user="U0AMARA")
    assert info["user"]["real_name"] == "Amara Okafor"
    assert info["user"]["profile"]["real_name"] == "Amara Okafor"
    err = await api_error(client.users_info(user="U0GHOST"))
    assert err.response["error"] == "user_not_found"

    ids: list[str] = []
    async for page in await client.users_list(limit=2):
        ids += [m["id"] for m in page["members"]]
    assert ids == list(workspace.users)
    assert "U0BOT" in ids
    assert len(standin.calls_to("users.list")) == 2


async def test_usergroups(client: AsyncWebClient) -> None:
    groups = await client.usergroups_list(include_users=True)
    [tms] = groups["usergroups"]
    assert tms["handle"] == "team-managers"
    assert tms["users"] == ["U0AMARA"]
    assert "users" not in (await client.usergroups_list())["usergroups"][0]
    listed = await client.usergroups_users_list(usergroup="S0TMS")
    assert listed["users"] == ["U0AMARA"]
    err = await api_error(client.usergroups_users_list(usergroup="S0NOPE"))
    assert err.response["error"] == "no_such_subteam"


# ------------------------------------------------------------------ views
async def test_views_open_needs_a_fresh_single_use_trigger(
    client: AsyncWebClient, standin: SlackStandIn, clock: FakeClock
) -> None:
    trigger = standin.issue_trigger("U0BEN")
    opened = await client.views_open(trigger_id=trigger, view=modal(callback_id="ask"))
    view = opened["view"]
    assert view["id"].startswith("V")
    assert view["callback_id"] == "ask"
    assert view["hash"]
    assert standin.views_for("U0BEN") == [view]
    assert [s.kind for s in standin.seen_by("U0BEN")] == ["modal"]

    err = await api_error(client.views_open(trigger_id=trigger, view=modal()))
    assert err.response["error"] == "exchanged_trigger_id"
    err = await api_error(client.views_open(trigger_id="123.456.abc", view=modal()))
    assert err.response["error"] == "invalid_trigger_id"
    late = standin.issue_trigger("U0BEN")
    clock.advance(3.01)
    err = await api_error(client.views_open(trigger_id=late, view=modal()))
    assert err.response["error"] == "expired_trigger_id"


async def test_trigger_just_inside_three_seconds_works(
    client: AsyncWebClient, standin: SlackStandIn, clock: FakeClock
) -> None:
    trigger = standin.issue_trigger("U0BEN")
    clock.advance(2.9)
    assert (await client.views_open(trigger_id=trigger, view=modal()))["ok"]


async def test_invalid_view_is_rejected_and_too_large_view_too(
    client: AsyncWebClient, standin: SlackStandIn
) -> None:
    err = await api_error(
        client.views_open(trigger_id=standin.issue_trigger("U0BEN"), view=modal(title="x" * 25))
    )
    assert err.response["error"] == "invalid_arguments"
    assert "/view/title/text" in err.response["response_metadata"]["messages"][0]
    huge = modal(private_metadata="")
    huge["blocks"] = [section("y" * 2900) for _ in range(90)]
    err = await api_error(client.views_open(trigger_id=standin.issue_trigger("U0BEN"), view=huge))
    assert err.response["error"] == "view_too_large"


async def test_views_push_update_and_hash_conflict(
    client: AsyncWebClient, standin: SlackStandIn
) -> None:
    first = (await client.views_open(trigger_id=standin.issue_trigger("U0BEN"), view=modal("One")))[
        "view"
    ]
    pushed = (
        await client.views_push(
            trigger_id=standin.issue_trigger("U0BEN"),
            view=modal("Two", external_id="ext-two"),
        )
    )["view"]
    assert pushed["previous_view_id"] == first["id"]
    assert pushed["root_view_id"] == first["id"]
    updated = (
        await client.views_update(view_id=first["id"], view=modal("One v2"), hash=first["hash"])
    )["view"]
    assert updated["id"] == first["id"]
    assert updated["hash"] != first["hash"]
    err = await api_error(
        client.views_update(view_id=first["id"], view=modal("stale"), hash=first["hash"])
    )
    assert err.response["error"] == "hash_conflict"
    by_ext = await client.views_update(external_id="ext-two", view=modal("Two v2"))
    assert by_ext["view"]["id"] == pushed["id"]
    assert [v["title"]["text"] for v in standin.views_for("U0BEN")] == ["One v2", "Two v2"]
    err = await api_error(client.views_update(view_id="V0NOPE", view=modal()))
    assert err.response["error"] == "not_found"


async def test_views_publish_sets_home_tab(client: AsyncWebClient, standin: SlackStandIn) -> None:
    home = {"type": "home", "blocks": [section("Welcome")]}
    first = await client.views_publish(user_id="U0BEN", view=home)
    await client.views_publish(user_id="U0BEN", view={"type": "home", "blocks": [section("v2")]})
    current = standin.home_view("U0BEN")
    assert current is not None
    assert current["id"] == first["view"]["id"]
    assert current["blocks"][0]["text"]["text"] == "v2"
    assert [s.kind for s in standin.seen_by("U0BEN")] == ["home"]
    err = await api_error(client.views_publish(user_id="U0BEN", view=modal()))
    assert err.response["error"] == "invalid_arguments"
    err = await api_error(
        client.views_publish(user_id="U0BEN", view={"type": "home", "blocks": []})
    )
    assert err.response["error"] == "invalid_arguments"


# ------------------------------------------------------------------ files
async def test_files_upload_v2_round_trip(client: AsyncWebClient, standin: SlackStandIn) -> None:
    resp = await client.files_upload_v2(
        channel="C0SWALL",
        content="name,score\nAmara,5\n",
        filename="pulse.csv",
        title="Pulse results",
        initial_comment="This week's pulse",
    )
    assert resp["file"]["title"] == "Pulse results"
    [msg] = standin.messages("C0SWALL")
    assert msg.text == "This week's pulse"
    assert msg.files[0]["name"] == "pulse.csv"
    stored = standin.files[resp["file"]["id"]]
    assert stored.data == b"name,score\nAmara,5\n"


async def test_complete_upload_needs_uploaded_bytes(client: AsyncWebClient) -> None:
    url = await client.files_getUploadURLExternal(filename="x.txt", length=3)
    err = await api_error(
        client.files_completeUploadExternal(files=[{"id": url["file_id"], "title": "x"}])
    )
    assert err.response["error"] == "file_not_found"
    err = await api_error(client.files_completeUploadExternal(files=[{"id": "F0NOPE"}]))
    assert err.response["error"] == "file_not_found"


# ------------------------------------------------------------------ socket mode url
async def test_apps_connections_open_needs_app_token(
    client: AsyncWebClient, standin: SlackStandIn
) -> None:
    resp = await client.apps_connections_open(app_token=APP_TOKEN)
    assert resp["url"].startswith(f"ws://127.0.0.1:{standin.port}/link/?ticket=")
    err = await api_error(client.apps_connections_open(app_token=BOT_TOKEN))
    assert err.response["error"] == "invalid_auth"


# ------------------------------------------------------------------ rate limits
async def test_forced_429_carries_retry_after(standin: SlackStandIn) -> None:
    standin.force_ratelimit("chat.postMessage", times=1, retry_after=7)
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            standin.api_url + "chat.postMessage",
            json={"channel": "C0SWALL", "text": "x"},
            headers={"Authorization": f"Bearer {BOT_TOKEN}"},
        ) as resp,
    ):
        assert resp.status == 429
        assert resp.headers["Retry-After"] == "7"
        assert await resp.json() == {"ok": False, "error": "ratelimited"}
    assert standin.calls[-1].http_status == 429


async def test_retry_handler_succeeds_after_one_forced_429(standin: SlackStandIn) -> None:
    client = AsyncWebClient(
        token=BOT_TOKEN,
        base_url=standin.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    standin.force_ratelimit("chat.postMessage", times=1, retry_after=1)
    started = time.monotonic()
    resp = await client.chat_postMessage(channel="C0SWALL", text="after a pause")
    assert resp["ok"]
    assert time.monotonic() - started >= 1.0
    assert [c.http_status for c in standin.calls_to("chat.postMessage")] == [429, 200]
    assert len(standin.messages("C0SWALL")) == 1


async def test_without_retry_handler_429_is_an_error(
    client: AsyncWebClient, standin: SlackStandIn
) -> None:
    standin.force_ratelimit("users.list", times=1, retry_after=2)
    err = await api_error(client.users_list())
    assert err.response.status_code == 429
    assert err.response.headers["Retry-After"] == "2"


async def test_a_forced_error_answers_the_next_call_then_the_method_works_again(
    client: AsyncWebClient, standin: SlackStandIn
) -> None:
    standin.force_error("usergroups.users.list", "fatal_error")
    err = await api_error(client.usergroups_users_list(usergroup="S0TMS"))
    assert err.response["error"] == "fatal_error"
    assert (await client.usergroups_users_list(usergroup="S0TMS"))["users"]
    assert [c.ok for c in standin.calls_to("usergroups.users.list")] == [False, True]


@pytest.fixture
async def limited(workspace: Workspace, clock: FakeClock) -> AsyncIterator[SlackStandIn]:
    s = SlackStandIn(workspace, rate_limits=RateLimits())
    s.clock = clock
    await s.start()
    yield s
    await s.stop()


async def test_tier2_method_allows_twenty_then_429_then_refills(
    limited: SlackStandIn, clock: FakeClock
) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=limited.api_url, retry_handlers=[])
    for _ in range(20):
        await client.usergroups_list()
    err = await api_error(client.usergroups_list())
    assert err.response.status_code == 429
    assert int(err.response.headers["Retry-After"]) == 3  # 20/min = one every 3 s
    clock.advance(3)
    assert (await client.usergroups_list())["ok"]


async def test_post_message_is_limited_per_channel(limited: SlackStandIn, clock: FakeClock) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=limited.api_url, retry_handlers=[])
    burst = limited.rate_limits.post_channel_burst
    for i in range(int(burst)):
        await client.chat_postMessage(channel="C0SWALL", text=f"{i}")
    err = await api_error(client.chat_postMessage(channel="C0SWALL", text="too fast"))
    assert err.response.status_code == 429
    assert err.response.headers["Retry-After"] == "1"
    # Another channel has its own allowance.
    assert (await client.chat_postMessage(channel="C0TMS", text="elsewhere"))["ok"]
    clock.advance(1)
    assert (await client.chat_postMessage(channel="C0SWALL", text="paced"))["ok"]


async def test_post_message_workspace_cap(workspace: Workspace, clock: FakeClock) -> None:
    limits = RateLimits(post_workspace_per_minute=5, post_channel_burst=100)
    async with SlackStandIn(workspace, rate_limits=limits) as s:
        s.clock = clock
        client = AsyncWebClient(token=BOT_TOKEN, base_url=s.api_url, retry_handlers=[])
        for i in range(5):
            await client.chat_postMessage(channel="U0BEN" if i % 2 else "C0SWALL", text="x")
        err = await api_error(client.chat_postMessage(channel="C0TMS", text="x"))
        assert err.response.status_code == 429
        assert err.response.headers["Retry-After"] == "12"


async def test_scale_multiplies_allowance(workspace: Workspace, clock: FakeClock) -> None:
    async with SlackStandIn(workspace, rate_limits=RateLimits(scale=0.1)) as s:
        s.clock = clock
        client = AsyncWebClient(token=BOT_TOKEN, base_url=s.api_url, retry_handlers=[])
        await client.usergroups_list()
        await client.usergroups_list()
        err = await api_error(client.usergroups_list())  # 20 * 0.1 = 2 per minute
        assert err.response.status_code == 429


# ------------------------------------------------------------------ response_url
async def post_json(url: str, body: dict[str, Any]) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.post(url, json=body) as resp:
        return resp.status, await resp.text()


async def test_response_url_allows_five_uses(standin: SlackStandIn) -> None:
    url = standin.issue_response_url("U0BEN", "C0SWALL", None)
    for i in range(5):
        assert await post_json(url, {"text": f"reply {i}"}) == (200, "ok")
    assert await post_json(url, {"text": "sixth"}) == (404, "used_url")
    seen = standin.seen_by("U0BEN")
    assert [s.kind for s in seen] == ["response"] * 5
    assert standin.seen_by("U0AMARA") == []


async def test_response_url_expires_after_30_minutes(
    standin: SlackStandIn, clock: FakeClock
) -> None:
    url = standin.issue_response_url("U0BEN", "C0SWALL", None)
    clock.advance(30 * 60 + 1)
    assert await post_json(url, {"text": "late"}) == (404, "expired_url")


async def test_response_url_in_channel_is_a_channel_message(standin: SlackStandIn) -> None:
    url = standin.issue_response_url("U0BEN", "C0SWALL", None)
    assert await post_json(url, {"text": "for all", "response_type": "in_channel"}) == (200, "ok")
    assert [m.text for m in standin.messages("C0SWALL")] == ["for all"]
    assert [s.kind for s in standin.seen_by("U0BEN")] == ["channel", "response"]
    assert [s.kind for s in standin.seen_by("U0AMARA")] == ["channel"]


async def test_response_url_replace_and_delete_original(
    client: AsyncWebClient, standin: SlackStandIn
) -> None:
    await client.chat_postMessage(channel="C0SWALL", text="Vote now")
    [original] = standin.messages("C0SWALL")
    url = standin.issue_response_url("U0BEN", "C0SWALL", original)
    assert await post_json(url, {"replace_original": True, "text": "Voting closed"}) == (200, "ok")
    assert standin.messages("C0SWALL")[0].text == "Voting closed"
    assert original.edits[0]["text"] == "Vote now"
    assert await post_json(url, {"delete_original": True}) == (200, "ok")
    assert standin.messages("C0SWALL") == []


async def test_response_url_validates_blocks(standin: SlackStandIn) -> None:
    url = standin.issue_response_url("U0BEN", "C0SWALL", None)
    status, body = await post_json(url, {"text": "x", "blocks": [{"type": "bogus"}]})
    assert (status, body) == (400, "invalid_blocks")
    assert await post_json(url, {}) == (400, "no_text")


# ------------------------------------------------------------------ sample workspace
def test_sample_workspace_is_deterministic_and_realistic() -> None:
    a, b = Workspace.sample(), Workspace.sample()
    assert list(a.users) == list(b.users)
    people = [u for u in a.users.values() if not u.is_bot]
    assert len(people) == 12
    assert {u.role for u in people} == {
        "director",
        "senior_manager",
        "team_manager",
        "engagement_lead",
        "social_worker",
    }
    assert any("agency" in u.title for u in people)
    assert any("newly qualified" in u.title for u in people)
    names = {c.name for c in a.channels.values()}
    assert names >= {"social-work-all", "team-managers", "practice-advisory-group", "general"}
    handles = {g.handle for g in a.usergroups.values()}
    assert handles == {"senior-managers", "team-managers", "engagement-leads", "social-workers"}
    assert len([u for u in Workspace.sample(n_staff=30).users.values() if not u.is_bot]) == 30
