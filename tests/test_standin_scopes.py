"""The stand-in's conversations.join and OAuth scopes, as Slack's reference describes them.

conversations.join (scope `channels:join`): a public channel only; a private one, a DM or a group
DM answers `method_not_supported_for_channel_type`; an archived one `is_archived`; one already
joined succeeds with the warning `already_in_channel`. Every method checks its scope
(`missing_scope`, with `needed` and `provided`), and every answer to a bot token names its scopes
in the `x-oauth-scopes` header. By default the token has manifest.yml's bot scopes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import yaml
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slack_standin import SlackStandIn, Workspace
from slack_standin.scopes import manifest_scopes
from tests.conftest import REPO

BOT_TOKEN = "xoxb-test-token"


@pytest.fixture
def workspace() -> Workspace:
    ws = Workspace(team_id="T0LOS", team_name="Bromley Children's Services")
    ws.add_user("U0AMARA", name="amara", real_name="Amara Okafor")
    ws.add_user("U0BEN", name="ben", real_name="Ben Carter")
    ws.add_channel("C0QUIET", "quiet-room", members=["U0BEN"], bot_member=False)
    ws.add_channel("C0IN", "already-in", members=["U0BEN"])
    ws.add_channel("C0OLD", "old-news", members=["U0BEN"], bot_member=False, is_archived=True)
    ws.add_channel("G0SECRET", "secret", members=["U0BEN"], bot_member=False, is_private=True)
    ws.add_channel("G0INVITED", "invited", members=["U0BEN"], is_private=True)
    return ws


@pytest.fixture
async def standin(workspace: Workspace) -> AsyncIterator[SlackStandIn]:
    async with SlackStandIn(workspace, bot_token=BOT_TOKEN) as server:
        yield server


@pytest.fixture
def client(standin: SlackStandIn) -> AsyncWebClient:
    return AsyncWebClient(token=BOT_TOKEN, base_url=standin.api_url)


async def refused(call) -> dict:
    with pytest.raises(SlackApiError) as caught:
        await call
    return dict(caught.value.response.data)


async def test_joining_a_public_channel_makes_the_bot_a_member(standin, client, workspace):
    joined = await client.conversations_join(channel="C0QUIET")
    assert joined["channel"]["id"] == "C0QUIET"
    assert joined["channel"]["is_member"] is True
    assert "warning" not in joined.data
    assert workspace.bot_user_id in workspace.channels["C0QUIET"].members
    info = await client.conversations_info(channel="C0QUIET")
    assert info["channel"]["is_member"] is True


async def test_joining_a_channel_already_joined_warns_already_in_channel(client, workspace):
    before = list(workspace.channels["C0IN"].members)
    joined = await client.conversations_join(channel="C0IN")
    assert joined["ok"] is True
    assert joined["warning"] == "already_in_channel"
    assert joined["response_metadata"]["warnings"] == ["already_in_channel"]
    assert workspace.channels["C0IN"].members == before  # not added twice


@pytest.mark.parametrize("channel", ["G0SECRET", "G0INVITED"])
async def test_a_private_channel_cannot_be_joined_only_invited_to(client, workspace, channel):
    answer = await refused(client.conversations_join(channel=channel))
    assert answer["error"] == "method_not_supported_for_channel_type"
    assert workspace.bot_user_id not in workspace.channels["G0SECRET"].members


async def test_a_dm_cannot_be_joined(client, workspace):
    dm = workspace.im_with("U0AMARA")
    answer = await refused(client.conversations_join(channel=dm.id))
    assert answer["error"] == "method_not_supported_for_channel_type"


async def test_an_archived_or_unknown_channel_cannot_be_joined(client, workspace):
    assert (await refused(client.conversations_join(channel="C0OLD")))["error"] == "is_archived"
    assert workspace.bot_user_id not in workspace.channels["C0OLD"].members
    answer = await refused(client.conversations_join(channel="C0NOWHERE"))
    assert answer["error"] == "channel_not_found"


async def test_joining_needs_channels_join(standin, client, workspace):
    standin.scopes = frozenset({"chat:write", "channels:read"})
    answer = await refused(client.conversations_join(channel="C0QUIET"))
    assert answer == {
        "ok": False,
        "error": "missing_scope",
        "needed": "channels:join",
        "provided": "channels:read,chat:write",
    }
    assert workspace.bot_user_id not in workspace.channels["C0QUIET"].members


async def test_every_method_checks_its_scope_and_conversations_by_their_type(standin, client):
    standin.scopes = frozenset({"channels:read", "chat:write"})
    assert (await client.conversations_info(channel="C0QUIET"))["ok"]
    # A private channel's details need groups:read; its history groups:history.
    answer = await refused(client.conversations_info(channel="G0INVITED"))
    assert (answer["error"], answer["needed"]) == ("missing_scope", "groups:read")
    answer = await refused(client.conversations_history(channel="C0IN"))
    assert (answer["error"], answer["needed"]) == ("missing_scope", "channels:history")
    answer = await refused(client.conversations_list(types="public_channel,private_channel"))
    assert (answer["error"], answer["needed"]) == ("missing_scope", "groups:read")
    answer = await refused(client.users_list())
    assert (answer["error"], answer["needed"]) == ("missing_scope", "users:read")
    answer = await refused(client.usergroups_list())
    assert (answer["error"], answer["needed"]) == ("missing_scope", "usergroups:read")
    # auth.test needs none.
    assert (await client.auth_test())["ok"]


async def test_every_answer_names_the_tokens_scopes_in_x_oauth_scopes(standin, client):
    tested = await client.auth_test()
    assert tested.headers["x-oauth-scopes"] == ",".join(sorted(standin.scopes or ()))
    joined = await client.conversations_join(channel="C0QUIET")
    assert joined.headers["x-accepted-oauth-scopes"] == "channels:join"
    standin.scopes = frozenset({"chat:write"})
    with pytest.raises(SlackApiError) as caught:
        await client.users_list()
    assert caught.value.response.headers["x-oauth-scopes"] == "chat:write"


def test_by_default_the_token_has_the_manifests_bot_scopes(workspace):
    manifest = yaml.safe_load((REPO / "manifest.yml").read_text(encoding="utf-8"))
    expected = frozenset(manifest["oauth_config"]["scopes"]["bot"])
    assert manifest_scopes() == expected
    assert SlackStandIn(workspace).scopes == expected
    assert "channels:join" in expected  # the bot joins public channels it posts in
    assert SlackStandIn(workspace, scopes=["chat:write"]).scopes == {"chat:write"}
