"""The workspace's user groups as Slack has them now: each group's handle, id and members.

Every user group the bot reads goes through here: an audience entry (@social-workers), a team in
`TEAMS`, a role (`SENIOR_MANAGERS=@senior-managers`), the composer's picker. They share one
list, `usergroups.list` with `include_users` (one Tier 2 call for every group and its members;
Slack allows about 20 a minute for the whole workspace), taken when first needed and then kept
up to date by Slack's own events, applied as they arrive (`apply`):

- `subteam_members_changed`: who was added to and removed from a group. Each carries the
  group's `date_update` before and after; one whose "before" is not the date held here means
  a change was missed, and the list is taken again at the next need;
- `subteam_updated`: a group renamed or disabled, or its members as a whole (trusted unless
  Slack cut the list at 500, or it is older than what is held);
- `subteam_created`: a new group.

A backstop bounds how stale the list can be if an event is lost: it is taken again once it is
`LISTED_FOR` (10 minutes) old, and at once whenever an event may have been missed (a gap in
the dates above; Socket Mode connecting again, `socket_message`). Single-flight: a burst of
publishes, or twenty checks at once, share one call. When Slack cannot say, readers get
`UserGroupsUnavailable` with Slack's reason (as a failed `usergroups.list` always did), and
Slack is not asked again for `RETRY_SECONDS`; a reader that sends nothing (`stale_ok`, a role
check to show a list) keeps the last list instead.

People added to a group are announced to whoever asked (`when_joined`: catch-up sends them what
the group was sent), once per event, by the event's listener (`handlers/usergroups.py`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

logger = logging.getLogger(__name__)

LISTED_FOR = 600.0  # seconds a list is trusted, events and all, before it is taken again
RETRY_SECONDS = 15.0  # after a failed list, Slack is not asked again for this long
EVENTS = ("subteam_members_changed", "subteam_updated", "subteam_created")
TRUNCATED_AT = 500  # subteam_updated lists at most this many users

Joined = Callable[[str, tuple[str, ...]], Awaitable[object]]


class UserGroupsUnavailable(Exception):
    """Slack could not list the user groups just now; `code` is Slack's error, if it gave one."""

    def __init__(self, code: str | None, reason: str):
        super().__init__(reason)
        self.code = code


@dataclass(frozen=True)
class Group:
    """One user group as last known: its handle (no @), name, members and Slack's date."""

    id: str
    handle: str
    name: str
    members: frozenset[str]
    date_update: int = 0


class Groups(Mapping[str, Group]):
    """The user groups at one moment, by id (disabled ones left out)."""

    def __init__(self, groups: Mapping[str, Group]):
        self._groups = dict(groups)
        self._ids = {g.handle: g.id for g in self._groups.values()}

    def __getitem__(self, group_id: str) -> Group:
        return self._groups[group_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._groups)

    def __len__(self) -> int:
        return len(self._groups)

    def id_of(self, handle: str) -> str | None:
        """The id of the group `@handle` (with or without the @), or None."""
        return self._ids.get(handle.strip().lstrip("@"))

    def members(self, group_id: str) -> frozenset[str] | None:
        group = self._groups.get(group_id)
        return None if group is None else group.members


class UserGroups:
    """The user groups and their members, listed once and kept fresh by Slack's events."""

    def __init__(
        self,
        client: AsyncWebClient | None,
        *,
        listed_for: float = LISTED_FOR,
        retry_seconds: float = RETRY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._client = client
        self._listed_for = listed_for
        self._retry = retry_seconds
        self._clock = clock
        self._groups: dict[str, Group] = {}
        self._listed_at: float | None = None
        self._missed: str | None = None  # why the list can no longer be trusted, if it can't
        self._missed_at = 0.0
        self._failed: tuple[float, UserGroupsUnavailable] | None = None
        self._listing: asyncio.Task[None] | None = None
        self._replay: list[dict[str, Any]] | None = None  # events that came while listing
        self._joined: list[Joined] = []
        self._hellos = 0

    # -- reading -------------------------------------------------------------------------------

    async def groups(self, *, stale_ok: bool = False, timeout: float | None = None) -> Groups:
        """The groups now: the list held, if it is still trusted; else Slack's, listed once
        for every caller waiting (within `timeout`, if given). Raises `UserGroupsUnavailable`
        when Slack cannot say, unless `stale_ok` and an earlier list is held."""
        if self._trusted():
            return Groups(self._groups)
        failed = self._failed
        if failed is not None and self._clock() - failed[0] < self._retry:
            return self._fallback(stale_ok, failed[1])
        if self._listing is None or self._listing.done():
            self._listing = asyncio.create_task(self._list())
            self._listing.add_done_callback(_retrieved)
        listing = self._listing
        try:
            async with asyncio.timeout(timeout):
                await asyncio.shield(listing)
        except TimeoutError:
            return self._fallback(stale_ok, UserGroupsUnavailable(None, "Slack was too slow"))
        except UserGroupsUnavailable as error:
            return self._fallback(stale_ok, error)
        return Groups(self._groups)

    async def members(self, group_id: str) -> frozenset[str] | None:
        """Everyone in one group now (None: no such group). Raises `UserGroupsUnavailable`."""
        return (await self.groups()).members(group_id)

    def _trusted(self) -> bool:
        listed = self._listed_at
        return (
            listed is not None
            and self._missed is None
            and self._clock() - listed < self._listed_for
        )

    def _fallback(self, stale_ok: bool, error: UserGroupsUnavailable) -> Groups:
        if stale_ok and self._listed_at is not None:
            return Groups(self._groups)
        raise UserGroupsUnavailable(error.code, str(error))  # each reader its own

    async def _list(self) -> None:
        """One `usergroups.list`; the events that arrived meanwhile are applied again on top
        (each only if newer than what the list says)."""
        assert self._client is not None, "no Slack client"
        self._replay = []
        started = self._clock()
        try:
            listed = await self._client.usergroups_list(include_users=True)
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
            code = str(error.response.get("error")) if isinstance(error, SlackApiError) else None
            reason = code or type(error).__name__
            logger.warning("the user groups could not be listed (%s)", reason)
            failure = UserGroupsUnavailable(code, reason)
            self._failed = (self._clock(), failure)
            raise failure from None
        finally:
            replay, self._replay = self._replay, None
        found: list[dict[str, Any]] = listed.get("usergroups", [])
        self._groups = {
            g["id"]: _group(g) for g in found if g.get("id") and not g.get("date_delete")
        }
        self._listed_at, self._failed = started, None
        if self._missed_at <= started:  # not if something was missed while Slack answered
            self._missed = None
        for event in replay or ():
            self.apply(event)

    # -- Slack's events --------------------------------------------------------------------------

    def apply(self, event: dict[str, Any]) -> None:
        """One of Slack's subteam events (`EVENTS`), applied to the list held. Safe to apply
        twice (a retried delivery) and in any order (each checks Slack's dates)."""
        if self._replay is not None:
            self._replay.append(event)
        if self._listed_at is None:
            return  # nothing held yet: the first list will have it
        kind = event.get("type")
        if kind == "subteam_members_changed":
            self._members_changed(event)
        elif kind in ("subteam_updated", "subteam_created"):
            self._updated(event.get("subteam") or {})

    def _members_changed(self, event: dict[str, Any]) -> None:
        group = self._groups.get(str(event.get("subteam_id")))
        date = _int(event.get("date_update"))
        if group is None:
            self.expire("a change to a group not listed")
            return
        if date < group.date_update:
            return  # older than what is held (a late delivery): already in the list
        if (
            date > group.date_update
            and _int(event.get("date_previous_update")) != group.date_update
        ):
            self.expire("a change to a group was missed")
        members = (group.members | _ids(event.get("added_users"))) - _ids(
            event.get("removed_users")
        )
        self._groups[group.id] = replace(group, members=members, date_update=date)

    def _updated(self, subteam: dict[str, Any]) -> None:
        group_id = str(subteam.get("id") or "")
        if not group_id:
            return
        if subteam.get("date_delete"):
            self._groups.pop(group_id, None)
            return
        held = self._groups.get(group_id)
        fresh = _group(subteam)
        users, count = subteam.get("users"), subteam.get("user_count")
        if isinstance(users, list):  # whole unless cut: fewer than `user_count` says
            whole = len(users) < TRUNCATED_AT if count is None else _int(count) == len(users)
        else:  # a new group has none, and says so
            whole = _int(count) == 0 and held is None
        if held is not None and (fresh.date_update < held.date_update or not whole):
            # Renamed; its members stay as held: they are newer, or not all listed here.
            self._groups[group_id] = replace(held, handle=fresh.handle, name=fresh.name)
        if held is not None and fresh.date_update < held.date_update:
            return
        if not whole:
            self.expire("a group whose members were not all given")
            return
        self._groups[group_id] = fresh

    def expire(self, why: str) -> None:
        """The list may be missing a change: take it again at the next need."""
        if self._listed_at is None:
            return  # nothing held: the first list will have it
        if self._missed is None:
            logger.info("user groups to be listed again: %s", why)
            self._missed = why
        self._missed_at = self._clock()

    async def socket_message(self, client: Any, message: dict[str, Any], raw: Any) -> None:
        """A Socket Mode message listener: every connection after the first starts with
        `hello`, and events sent while it was down may be lost."""
        if message.get("type") == "hello":
            self._hellos += 1
            if self._hellos > 1:
                self.expire("Socket Mode connected again")

    # -- people added ----------------------------------------------------------------------------

    def when_joined(self, announce: Joined) -> None:
        """Call `announce(group_id, added)` when Slack says people were added to a group."""
        self._joined.append(announce)

    async def joined(self, group_id: str, added: Iterable[str]) -> None:
        """People were added to `group_id` (once per event): tell whoever asked."""
        people = tuple(dict.fromkeys(added))
        for announce in self._joined:
            try:
                await announce(group_id, people)
            except Exception:
                logger.exception("could not act on people added to a user group")


def _retrieved(task: asyncio.Task[None]) -> None:
    """A list nobody waited for to the end (they timed out) fails quietly: it was logged."""
    if not task.cancelled():
        task.exception()


def _group(g: dict[str, Any]) -> Group:
    return Group(
        id=str(g.get("id")),
        handle=str(g.get("handle") or ""),
        name=str(g.get("name") or ""),
        members=_ids(g.get("users")),
        date_update=_int(g.get("date_update")),
    )


def _ids(users: Any) -> frozenset[str]:
    return frozenset(str(u) for u in users) if isinstance(users, list) else frozenset()


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
