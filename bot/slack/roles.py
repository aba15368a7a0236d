"""Who may publish and who may see results, from SENIOR_MANAGERS and ENGAGEMENT_LEADS.

Entries are user ids or user-group handles. Groups are resolved through Slack (usergroups.list,
usergroups.users.list) and cached briefly, so a person added to @senior-managers can publish within
minutes without a restart, and a burst of commands does not become a burst of API calls.

A click that sends something to many people (a publish confirmation's Send or Schedule it) asks
with `fresh=True`: a list at most `FRESH_SECONDS` old, else Slack now, within
`FRESH_TIMEOUT_SECONDS`; if Slack cannot answer, the check fails rather than trust a list that
may still hold someone taken off it minutes ago.

Every route asks through one method, `allows(user_id, {roles})`, which answers allowed, refused
or unknown (Slack could not say), so no listener writes its own try/except around a role check.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

logger = logging.getLogger(__name__)

# How old a list a fresh check may still use: a double click, or a big audience's second
# confirmation, asks Slack once, not twice in a row.
FRESH_SECONDS = 5.0
# How long a fresh check waits for Slack: the click's answer is due within Slack's 3 s, and a
# rate-limited call would otherwise wait out its Retry-After.
FRESH_TIMEOUT_SECONDS = 1.0


class RoleCheckUnavailable(Exception):
    """Slack could not tell us who is in a user group, and there is no earlier answer to use."""


class Role(enum.StrEnum):
    SENIOR_MANAGER = "senior_manager"
    ENGAGEMENT_LEAD = "engagement_lead"


SENIOR_MANAGER = Role.SENIOR_MANAGER
ENGAGEMENT_LEAD = Role.ENGAGEMENT_LEAD


class Access(enum.Enum):
    ALLOWED = "allowed"
    REFUSED = "refused"
    UNKNOWN = "unknown"  # Slack could not say, and no earlier list may stand in


@dataclass(frozen=True)
class Verdict:
    """What `Roles.allows` found: the access, and which of the asked-for roles the person holds."""

    access: Access
    held: frozenset[Role] = frozenset()

    @property
    def allowed(self) -> bool:
        return self.access is Access.ALLOWED

    @property
    def unknown(self) -> bool:
        return self.access is Access.UNKNOWN

    def holds(self, role: Role) -> bool:
        return role in self.held


class Roles:
    """Answers "is this person a senior manager / an engagement lead?"."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        senior_managers: tuple[str, ...],
        engagement_leads: tuple[str, ...],
        ttl_seconds: float = 300.0,
        fresh_seconds: float = FRESH_SECONDS,
        fresh_timeout: float = FRESH_TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._client = client
        self._entries = {"senior_manager": senior_managers, "engagement_lead": engagement_leads}
        self._ttl = ttl_seconds
        self._fresh_seconds = fresh_seconds
        self._fresh_timeout = fresh_timeout
        self._clock = clock
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = asyncio.Lock()

    async def allows(
        self, user_id: str, roles: Collection[Role], *, fresh: bool = False
    ) -> Verdict:
        """Allowed if the person holds any of `roles`; unknown if Slack could not say for a
        role they might hold; else refused. With `fresh` (a click that sends something), as
        Slack lists the groups now (see the module doc)."""
        held: set[Role] = set()
        unknown = False
        for role in sorted(roles):
            try:
                members = await (self._fresh(role) if fresh else self._resolve(role))
            except RoleCheckUnavailable:
                unknown = True
                continue
            if user_id in members:
                held.add(role)
        if held:
            return Verdict(Access.ALLOWED, frozenset(held))
        return Verdict(Access.UNKNOWN if unknown else Access.REFUSED)

    async def members(self, role: Role) -> frozenset[str] | None:
        """Everyone who holds `role` (cached as `allows` is), for showing each of them what
        changed; None when Slack cannot say."""
        try:
            return await self._resolve(role)
        except RoleCheckUnavailable:
            return None

    async def is_senior_manager(self, user_id: str, *, fresh: bool = False) -> bool:
        """With `fresh`, as Slack lists the group now (see the module doc); raises
        `RoleCheckUnavailable` when it cannot say, whatever an older list holds."""
        if fresh:
            return user_id in await self._fresh("senior_manager")
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
                reason = _reason(error)
                if cached:
                    logger.warning("role refresh failed (%s); using the earlier list", reason)
                    # Try Slack again in a minute, not on every check while it is failing.
                    self._members[role] = (self._clock() - self._ttl + 60, cached[1])
                    return cached[1]
                raise RoleCheckUnavailable(reason) from error
            self._members[role] = (self._clock(), members)
            return members

    async def _fresh(self, role: str) -> frozenset[str]:
        """The role's members as Slack lists them now (or a few seconds ago), for a click that
        sends something: no earlier list stands in when Slack cannot answer in time."""
        cached = self._members.get(role)
        if cached and self._clock() - cached[0] < self._fresh_seconds:
            return cached[1]
        try:
            async with asyncio.timeout(self._fresh_timeout), self._lock:
                cached = self._members.get(role)  # a concurrent check may just have asked
                if cached and self._clock() - cached[0] < self._fresh_seconds:
                    return cached[1]
                members = await self._fetch(self._entries[role])
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
            logger.warning("a fresh role check failed (%s)", _reason(error))
            raise RoleCheckUnavailable(_reason(error)) from error
        self._members[role] = (self._clock(), members)  # other checks use it too
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


def _reason(error: Exception) -> str:
    """Slack's error code, or what kind of failure it was: never a token or a body."""
    if isinstance(error, SlackApiError):
        return str(error.response.get("error"))
    return error.__class__.__name__
