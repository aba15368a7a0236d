"""Who may publish and who may see results, from SENIOR_MANAGERS and ENGAGEMENT_LEADS.

Entries are user ids or user-group handles. Groups are resolved through Slack (usergroups.list,
usergroups.users.list) and cached briefly, so a person added to @senior-managers can publish within
minutes without a restart, and a burst of commands does not become a burst of API calls.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

logger = logging.getLogger(__name__)


class RoleCheckUnavailable(Exception):
    """Slack could not tell us who is in a user group, and there is no earlier answer to use."""


class Roles:
    """Answers "is this person a senior manager / an engagement lead?"."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        senior_managers: tuple[str, ...],
        engagement_leads: tuple[str, ...],
        ttl_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._client = client
        self._entries = {"senior_manager": senior_managers, "engagement_lead": engagement_leads}
        self._ttl = ttl_seconds
        self._clock = clock
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = asyncio.Lock()

    async def is_senior_manager(self, user_id: str) -> bool:
        return user_id in await self._resolve("senior_manager")

    async def is_engagement_lead(self, user_id: str) -> bool:
        return user_id in await self._resolve("engagement_lead")

    async def _resolve(self, role: str) -> frozenset[str]:
        cached = self._members.get(role)
        if cached and self._clock() - cached[0] < self._ttl:
            return cached[1]
        async with self._lock:  # one refresh at a time: concurrent checks share its answer
            cached = self._members.get(role)
            if cached and self._clock() - cached[0] < self._ttl:
                return cached[1]
            try:
                members = await self._fetch(self._entries[role])
            except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
                # Slack said no, or could not be reached: the same for the person asking.
                reason = (
                    str(error.response.get("error"))
                    if isinstance(error, SlackApiError)
                    else error.__class__.__name__
                )
                if cached:
                    logger.warning("role refresh failed (%s); using the earlier list", reason)
                    # Try Slack again in a minute, not on every check while it is failing.
                    self._members[role] = (self._clock() - self._ttl + 60, cached[1])
                    return cached[1]
                raise RoleCheckUnavailable(reason) from error
            self._members[role] = (self._clock(), members)
            return members

    async def _fetch(self, entries: tuple[str, ...]) -> frozenset[str]:
        users = {e for e in entries if not e.startswith("@")}
        handles = {e[1:] for e in entries if e.startswith("@")}
        if handles:
            groups = await self._client.usergroups_list()
            listed_groups: list[dict[str, str]] = groups.get("usergroups", [])
            by_handle = {g["handle"]: g["id"] for g in listed_groups}
            for handle in sorted(handles):
                group_id = by_handle.get(handle)
                if group_id is None:
                    logger.warning("user group @%s is configured but does not exist", handle)
                    continue
                listed = await self._client.usergroups_users_list(usergroup=group_id)
                users.update(listed.get("users", []))
        return frozenset(users)
