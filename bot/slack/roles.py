"""Who may publish and who may see results, from SENIOR_MANAGERS and ENGAGEMENT_LEADS.

Entries are user ids or user-group handles. A group's members come from the bot's one list of
user groups (`bot/slack/usergroups.py`), which Slack's events keep up to date: a person added
to @senior-managers can publish within seconds of Slack saying so, one taken off is refused as
soon, and a burst of commands or publishes costs no call to Slack at all.

A click that sends something to many people (a publish confirmation's Send or Schedule it)
asks with `fresh=True`: the list must be one Slack's events are keeping (listed within the last
ten minutes, no event known to be missed); else it is listed again now, within
`FRESH_TIMEOUT_SECONDS`, and if Slack cannot answer, the check fails rather than trust a list
that may still hold someone taken off it. Other checks keep the last list when Slack cannot
answer.

Every route asks through one method, `allows(user_id, {roles})`, which answers allowed, refused
or unknown (Slack could not say), so no listener writes its own try/except around a role check.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Collection
from dataclasses import dataclass

from bot.slack.usergroups import UserGroups, UserGroupsUnavailable

logger = logging.getLogger(__name__)

# How long a fresh check waits for Slack when the list must be taken again: the click's answer
# is due within Slack's 3 s, and a rate-limited call would otherwise wait out its Retry-After.
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
        usergroups: UserGroups,
        *,
        senior_managers: tuple[str, ...],
        engagement_leads: tuple[str, ...],
        fresh_timeout: float = FRESH_TIMEOUT_SECONDS,
    ):
        self._usergroups = usergroups
        self._entries = {"senior_manager": senior_managers, "engagement_lead": engagement_leads}
        self._fresh_timeout = fresh_timeout
        self._unknown_handles: set[str] = set()  # named once in the log, not at every check

    async def allows(
        self, user_id: str, roles: Collection[Role], *, fresh: bool = False
    ) -> Verdict:
        """Allowed if the person holds any of `roles`; unknown if Slack could not say for a
        role they might hold; else refused. With `fresh` (a click that sends something), from a
        list Slack's events are keeping, or Slack's own now (see the module doc)."""
        held: set[Role] = set()
        unknown = False
        for role in sorted(roles):
            try:
                members = await self._members_of(role, fresh=fresh)
            except RoleCheckUnavailable:
                unknown = True
                continue
            if user_id in members:
                held.add(role)
        if held:
            return Verdict(Access.ALLOWED, frozenset(held))
        return Verdict(Access.UNKNOWN if unknown else Access.REFUSED)

    async def members(self, role: Role) -> frozenset[str] | None:
        """Everyone who holds `role` (from the list `allows` reads), for showing each of them
        what changed; None when Slack cannot say."""
        try:
            return await self._members_of(role, fresh=False)
        except RoleCheckUnavailable:
            return None

    async def is_senior_manager(self, user_id: str, *, fresh: bool = False) -> bool:
        """With `fresh`, from a list Slack's events are keeping (see the module doc); raises
        `RoleCheckUnavailable` when Slack cannot say, whatever an older list holds."""
        return user_id in await self._members_of("senior_manager", fresh=fresh)

    async def is_engagement_lead(self, user_id: str) -> bool:
        return user_id in await self._members_of("engagement_lead", fresh=False)

    async def _members_of(self, role: str, *, fresh: bool) -> frozenset[str]:
        """The role's members. Not `fresh`: from the list held, the last one if Slack cannot
        answer now. `fresh`: no older list stands in when Slack cannot answer in time."""
        entries = self._entries[role]
        users = {e for e in entries if not e.startswith("@")}
        handles = sorted(e for e in entries if e.startswith("@"))
        if not handles:
            return frozenset(users)
        try:
            groups = await self._usergroups.groups(
                stale_ok=not fresh, timeout=self._fresh_timeout if fresh else None
            )
        except UserGroupsUnavailable as error:
            if fresh:
                logger.warning("a fresh role check failed (%s)", error)
            raise RoleCheckUnavailable(str(error)) from error
        for handle in handles:
            group_id = groups.id_of(handle)
            if group_id is None:
                if handle not in self._unknown_handles:
                    self._unknown_handles.add(handle)
                    logger.warning("user group %s is configured but does not exist", handle)
                continue
            users.update(groups.members(group_id) or ())
        return frozenset(users)
