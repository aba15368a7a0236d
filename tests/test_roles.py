"""Roles: user ids and user-group handles, the groups read from the one list of user groups that
Slack's events keep; a fresh check (a publish click) never falls back on a list Slack's events
are no longer known to keep."""

from __future__ import annotations

import time

import pytest
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.roles import ENGAGEMENT_LEAD, Access, RoleCheckUnavailable, Roles
from bot.slack.roles import SENIOR_MANAGER as SENIOR_MANAGER_ROLE
from bot.slack.usergroups import LISTED_FOR, RETRY_SECONDS, UserGroups
from tests.conftest import BOT_TOKEN, DIRECTOR, SENIOR_MANAGER, SOCIAL_WORKERS, TEAM_MANAGER


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def managers_by_group(client, clock=None, **kw):
    """Senior managers as @senior-managers, the groups' list on the given clock."""
    groups = UserGroups(client, clock=clock or Clock())
    roles = Roles(groups, senior_managers=("@senior-managers",), engagement_leads=(), **kw)
    return roles, groups


@pytest.fixture
def client(slack):
    return AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)


def revoked(slack):
    return AsyncWebClient(token="xoxb-revoked", base_url=slack.api_url)


async def test_user_ids_and_group_members_are_senior_managers(client):
    roles = Roles(
        UserGroups(client), senior_managers=("U0TM01", "@senior-managers"), engagement_leads=()
    )
    assert await roles.is_senior_manager(TEAM_MANAGER)  # listed by id
    assert await roles.is_senior_manager(DIRECTOR)  # in @senior-managers
    assert not await roles.is_senior_manager(SOCIAL_WORKERS[0])
    assert not await roles.is_engagement_lead(SENIOR_MANAGER)  # nobody configured


async def test_the_list_is_kept_by_events_and_taken_again_after_ten_minutes(slack, client):
    clock = Clock()
    roles, groups = managers_by_group(client, clock)
    for _ in range(5):
        assert await roles.is_senior_manager(SENIOR_MANAGER)
        assert await roles.is_senior_manager(SENIOR_MANAGER, fresh=True)
    assert len(slack.calls_to("usergroups.list")) == 1
    assert slack.calls_to("usergroups.users.list") == []  # every member came with the list
    group = slack.workspace.usergroups["S0SMS"]
    before = group.date_update
    slack.workspace.set_usergroup_users("S0SMS", [*group.users, SOCIAL_WORKERS[0]], at=2e9)
    groups.apply(
        {
            "type": "subteam_members_changed",
            "subteam_id": "S0SMS",
            "date_previous_update": before,
            "date_update": group.date_update,
            "added_users": [SOCIAL_WORKERS[0]],
            "removed_users": [],
        }
    )
    assert await roles.is_senior_manager(SOCIAL_WORKERS[0], fresh=True)  # at once
    assert len(slack.calls_to("usergroups.list")) == 1
    slack.workspace.usergroups["S0SMS"].users.remove(SOCIAL_WORKERS[0])  # and no event came
    clock.now += LISTED_FOR - 1
    assert await roles.is_senior_manager(SOCIAL_WORKERS[0])
    clock.now += 1
    assert not await roles.is_senior_manager(SOCIAL_WORKERS[0])  # the backstop
    assert len(slack.calls_to("usergroups.list")) == 2


async def test_a_missing_group_grants_nobody(client):
    roles = Roles(UserGroups(client), senior_managers=("@no-such-group",), engagement_leads=())
    assert not await roles.is_senior_manager(SENIOR_MANAGER)


async def test_when_slack_cannot_answer_the_earlier_list_is_used_else_it_fails_closed(slack):
    clock = Clock()
    bad, _ = managers_by_group(revoked(slack), clock)
    with pytest.raises(RoleCheckUnavailable):
        await bad.is_senior_manager(SENIOR_MANAGER)
    roles, groups = managers_by_group(
        AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url), clock
    )
    assert await roles.is_senior_manager(SENIOR_MANAGER)
    clock.now += LISTED_FOR
    groups._client = revoked(slack)
    assert await roles.is_senior_manager(SENIOR_MANAGER)  # stale but known
    with pytest.raises(RoleCheckUnavailable):  # … but not for a click that sends something
        await roles.is_senior_manager(SENIOR_MANAGER, fresh=True)


async def test_a_failing_list_is_not_asked_again_on_every_check(slack, client):
    clock = Clock()
    roles, groups = managers_by_group(client, clock)
    assert await roles.is_senior_manager(SENIOR_MANAGER)
    clock.now += LISTED_FOR
    groups._client = revoked(slack)
    before = len(slack.calls)
    for _ in range(5):
        assert await roles.is_senior_manager(SENIOR_MANAGER)
        assert (await roles.allows(SENIOR_MANAGER, {SENIOR_MANAGER_ROLE}, fresh=True)).unknown
    assert len(slack.calls) - before == 1  # one failed list, then the earlier one
    clock.now += RETRY_SECONDS
    await roles.is_senior_manager(SENIOR_MANAGER)
    assert len(slack.calls) - before == 2


async def test_a_network_failure_with_nothing_listed_fails_closed(slack):
    from slack_standin.harness import free_port

    unreachable = AsyncWebClient(token=BOT_TOKEN, base_url=f"http://127.0.0.1:{free_port()}/api/")
    roles, _ = managers_by_group(unreachable)
    with pytest.raises(RoleCheckUnavailable):
        await roles.is_senior_manager(SENIOR_MANAGER)


async def test_a_fresh_check_lists_again_once_an_event_may_have_been_missed(slack, client):
    roles, groups = managers_by_group(client)
    assert await roles.is_senior_manager(SENIOR_MANAGER)
    slack.workspace.usergroups["S0SMS"].users.remove(SENIOR_MANAGER)
    assert await roles.is_senior_manager(SENIOR_MANAGER, fresh=True)  # no event: still held
    await groups.socket_message(None, {"type": "hello"}, None)  # the first connection
    assert await roles.is_senior_manager(SENIOR_MANAGER, fresh=True)
    await groups.socket_message(None, {"type": "hello"}, None)  # connected again
    assert not await roles.is_senior_manager(SENIOR_MANAGER, fresh=True)
    assert len(slack.calls_to("usergroups.list")) == 2


async def test_a_fresh_check_gives_up_in_time_when_slack_asks_it_to_wait(slack):
    waiting = AsyncWebClient(
        token=BOT_TOKEN,
        base_url=slack.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=3)],
    )
    roles, _ = managers_by_group(waiting, fresh_timeout=0.05)
    slack.force_ratelimit("usergroups.list", times=1, retry_after=30)
    started = time.monotonic()
    with pytest.raises(RoleCheckUnavailable):
        await roles.is_senior_manager(SENIOR_MANAGER, fresh=True)
    assert time.monotonic() - started < 1.0  # not the 30 s Slack asked for


async def test_allows_answers_allowed_refused_or_unknown_and_which_roles_are_held(slack, client):
    roles = Roles(
        UserGroups(client), senior_managers=("@senior-managers",), engagement_leads=(TEAM_MANAGER,)
    )
    both = {SENIOR_MANAGER_ROLE, ENGAGEMENT_LEAD}
    manager = await roles.allows(DIRECTOR, both)
    assert manager.allowed
    assert manager.holds(SENIOR_MANAGER_ROLE)
    assert not manager.holds(ENGAGEMENT_LEAD)
    lead = await roles.allows(TEAM_MANAGER, both)
    assert lead.held == {ENGAGEMENT_LEAD}
    refused = await roles.allows(SOCIAL_WORKERS[0], both)
    assert refused.access is Access.REFUSED
    assert not refused.allowed
    assert not refused.unknown
    assert not (await roles.allows(TEAM_MANAGER, {SENIOR_MANAGER_ROLE})).allowed

    unsure = Roles(
        UserGroups(revoked(slack)),
        senior_managers=("@senior-managers",),
        engagement_leads=(TEAM_MANAGER,),
    )
    unknown = await unsure.allows(DIRECTOR, {SENIOR_MANAGER_ROLE})
    assert unknown.unknown
    assert not unknown.allowed
    # A role that Slack need not be asked about still grants access when the other is unknown.
    assert (await unsure.allows(TEAM_MANAGER, both)).held == {ENGAGEMENT_LEAD}
    with pytest.raises(RoleCheckUnavailable):
        await unsure.is_senior_manager(DIRECTOR, fresh=True)
    assert (await unsure.allows(DIRECTOR, {SENIOR_MANAGER_ROLE}, fresh=True)).unknown
