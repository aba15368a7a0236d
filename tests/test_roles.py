"""Roles: user ids and user-group handles, resolved through Slack and cached briefly; a fresh
check (a publish click) asks Slack and never falls back on an older list."""

from __future__ import annotations

import time

import pytest
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.roles import (
    ENGAGEMENT_LEAD,
    FRESH_SECONDS,
    Access,
    RoleCheckUnavailable,
    Roles,
)
from bot.slack.roles import SENIOR_MANAGER as SENIOR_MANAGER_ROLE
from tests.conftest import BOT_TOKEN, DIRECTOR, SENIOR_MANAGER, SOCIAL_WORKERS, TEAM_MANAGER


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def managers_by_group(client, clock):
    """Senior managers as @senior-managers, cached for five minutes of the given clock."""
    return Roles(
        client,
        senior_managers=("@senior-managers",),
        engagement_leads=(),
        ttl_seconds=300,
        clock=clock,
    )


@pytest.fixture
def client(slack):
    return AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)


async def test_user_ids_and_group_members_are_senior_managers(client):
    roles = Roles(client, senior_managers=("U0TM01", "@senior-managers"), engagement_leads=())
    assert await roles.is_senior_manager(TEAM_MANAGER)  # listed by id
    assert await roles.is_senior_manager(DIRECTOR)  # in @senior-managers
    assert not await roles.is_senior_manager(SOCIAL_WORKERS[0])
    assert not await roles.is_engagement_lead(SENIOR_MANAGER)  # nobody configured


async def test_group_membership_is_cached_then_refreshed(slack, client):
    clock = Clock()
    roles = managers_by_group(client, clock)
    for _ in range(5):
        await roles.is_senior_manager(SENIOR_MANAGER)
    assert len(slack.calls_to("usergroups.users.list")) == 1
    slack.workspace.usergroups["S0SMS"].users.append(SOCIAL_WORKERS[0])
    assert not await roles.is_senior_manager(SOCIAL_WORKERS[0])  # still the cached list
    clock.now += 301
    assert await roles.is_senior_manager(SOCIAL_WORKERS[0])
    assert len(slack.calls_to("usergroups.users.list")) == 2


async def test_a_missing_group_grants_nobody(client):
    roles = Roles(client, senior_managers=("@no-such-group",), engagement_leads=())
    assert not await roles.is_senior_manager(SENIOR_MANAGER)


async def test_when_slack_cannot_answer_the_earlier_list_is_used_else_it_fails_closed(
    slack, client
):
    clock = Clock()
    roles = managers_by_group(client, clock)
    bad = Roles(
        AsyncWebClient(token="xoxb-revoked", base_url=slack.api_url),
        senior_managers=("@senior-managers",),
        engagement_leads=(),
    )
    with pytest.raises(RoleCheckUnavailable):
        await bad.is_senior_manager(SENIOR_MANAGER)
    assert await roles.is_senior_manager(SENIOR_MANAGER)
    clock.now += 301
    roles._client = AsyncWebClient(token="xoxb-revoked", base_url=slack.api_url)
    assert await roles.is_senior_manager(SENIOR_MANAGER)  # stale but known


async def test_a_failing_refresh_is_not_retried_on_every_check(slack, client):
    clock = Clock()
    roles = managers_by_group(client, clock)
    assert await roles.is_senior_manager(SENIOR_MANAGER)
    clock.now += 301
    roles._client = AsyncWebClient(token="xoxb-revoked", base_url=slack.api_url)
    before = len(slack.calls)
    for _ in range(5):
        assert await roles.is_senior_manager(SENIOR_MANAGER)
    assert len(slack.calls) - before == 1  # one failed refresh, then the earlier list
    clock.now += 61
    await roles.is_senior_manager(SENIOR_MANAGER)
    assert len(slack.calls) - before == 2


async def test_a_network_failure_with_nothing_cached_fails_closed(slack):
    from slack_standin.harness import free_port

    unreachable = AsyncWebClient(token=BOT_TOKEN, base_url=f"http://127.0.0.1:{free_port()}/api/")
    roles = Roles(unreachable, senior_managers=("@senior-managers",), engagement_leads=())
    with pytest.raises(RoleCheckUnavailable):
        await roles.is_senior_manager(SENIOR_MANAGER)


async def test_a_fresh_check_asks_slack_once_the_list_is_a_few_seconds_old(slack, client):
    clock = Clock()
    roles = managers_by_group(client, clock)
    assert await roles.is_senior_manager(SENIOR_MANAGER)
    slack.workspace.usergroups["S0SMS"].users.remove(SENIOR_MANAGER)
    assert await roles.is_senior_manager(SENIOR_MANAGER, fresh=True)  # asked a moment ago
    clock.now += FRESH_SECONDS
    assert not await roles.is_senior_manager(SENIOR_MANAGER, fresh=True)
    assert len(slack.calls_to("usergroups.users.list")) == 2
    assert not await roles.is_senior_manager(SENIOR_MANAGER)  # the fresh list is kept


async def test_a_fresh_check_slack_cannot_answer_fails_though_a_list_is_cached(slack, client):
    clock = Clock()
    roles = managers_by_group(client, clock)
    assert await roles.is_senior_manager(SENIOR_MANAGER)
    clock.now += 60
    slack.force_error("usergroups.users.list", "fatal_error")
    with pytest.raises(RoleCheckUnavailable):
        await roles.is_senior_manager(SENIOR_MANAGER, fresh=True)
    assert await roles.is_senior_manager(SENIOR_MANAGER)  # other checks keep the cached list


async def test_a_fresh_check_gives_up_in_time_when_slack_asks_it_to_wait(slack):
    waiting = AsyncWebClient(
        token=BOT_TOKEN,
        base_url=slack.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=3)],
    )
    roles = Roles(
        waiting, senior_managers=("@senior-managers",), engagement_leads=(), fresh_timeout=0.05
    )
    slack.force_ratelimit("usergroups.users.list", times=1, retry_after=30)
    started = time.monotonic()
    with pytest.raises(RoleCheckUnavailable):
        await roles.is_senior_manager(SENIOR_MANAGER, fresh=True)
    assert time.monotonic() - started < 1.0  # not the 30 s Slack asked for


async def test_allows_answers_allowed_refused_or_unknown_and_which_roles_are_held(slack, client):
    roles = Roles(client, senior_managers=("@senior-managers",), engagement_leads=(TEAM_MANAGER,))
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

    revoked = Roles(
        AsyncWebClient(token="xoxb-revoked", base_url=slack.api_url),
        senior_managers=("@senior-managers",),
        engagement_leads=(TEAM_MANAGER,),
    )
    unknown = await revoked.allows(DIRECTOR, {SENIOR_MANAGER_ROLE})
    assert unknown.unknown
    assert not unknown.allowed
    # A role that Slack need not be asked about still grants access when the other is unknown.
    assert (await revoked.allows(TEAM_MANAGER, both)).held == {ENGAGEMENT_LEAD}
    with pytest.raises(RoleCheckUnavailable):
        await revoked.is_senior_manager(DIRECTOR, fresh=True)
    assert (await revoked.allows(DIRECTOR, {SENIOR_MANAGER_ROLE}, fresh=True)).unknown
