"""Who an audience entry means, right now: the people a broadcast by direct message reaches.

User groups are listed through Slack when the broadcast is prepared (not cached: a change to
@team-managers this morning must count), people are themselves, and a channel, for `deliver: dm`
or `both`, means its members. Bots, Slackbot and deactivated accounts are skipped and counted.
If any entry cannot be listed the whole broadcast stops before a single send, with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.content import Audience
from bot.slack.mrkdwn import escape
from bot.slack.people import People

logger = logging.getLogger(__name__)


SHOWN_FOR = 600.0  # seconds a list shown to people (channel links, a picker) is kept


@dataclass
class _Shown:
    value: Any
    at: float | None = None
    task: asyncio.Task[None] | None = None


class AudienceUnavailable(Exception):
    """Entries Slack could not list or post to; the message names each, why, and what to do."""


@dataclass(frozen=True)
class Resolved:
    """One entry's people, its Slack id, and how many members were skipped (bots, deactivated)."""

    entry: Audience
    people: tuple[str, ...]
    skipped: int = 0
    ref: str = ""  # the entry's id: C… for a channel, S… for a user group, U… for a person


@dataclass
class Resolution:
    entries: list[Resolved] = field(default_factory=list)

    @property
    def people(self) -> set[str]:
        return {p for e in self.entries for p in e.people}

    @property
    def skipped(self) -> int:
        return sum(e.skipped for e in self.entries)


class Audiences:
    """Resolves audience entries to people through Slack."""

    def __init__(self, client: AsyncWebClient, people: People, *, bot_user_id: str):
        self._client = client
        self._people = people
        self._bot_user_id = bot_user_id
        self._shown: dict[str, _Shown] = {}

    async def resolve(self, entries: Sequence[Audience], *, posting: bool = False) -> Resolution:
        """Every entry's people; raises `AudienceUnavailable` naming every entry that failed.

        With `posting`, each channel is also checked to take a post from the bot (it is a member
        and the channel is not archived), so that nothing is half sent for a channel that would
        refuse it.
        """
        members: list[tuple[Audience, str, list[str]]] = []
        problems: list[str] = []
        for entry in entries:
            try:
                ref = await self._ref(entry)
                if posting and entry.kind == "channel":
                    problem = await self._cannot_post(entry, ref)
                    if problem:
                        problems.append(problem)
                        continue
                found = [m for m in await self._members(entry, ref) if m != self._bot_user_id]
                members.append((entry, ref, found))
            except SlackApiError as error:
                problems.append(_why(entry, str(error.response.get("error"))))
            except (aiohttp.ClientError, TimeoutError):
                problems.append(
                    f"I couldn't reach Slack to list {escape(entry.raw)}. Try again in a minute."
                )
        if problems:
            raise AudienceUnavailable("\n".join(problems))
        everyone = [m for _, _, found in members for m in found]
        people = await self._people.people(expected=everyone)
        if people is None:
            raise AudienceUnavailable(
                "I couldn't list the workspace's people to leave out bots and deactivated "
                "accounts. Try again in a minute."
            )
        resolution = Resolution()
        for entry, ref, found in members:
            kept = tuple(dict.fromkeys(m for m in found if m in people))
            resolution.entries.append(
                Resolved(entry, kept, skipped=len(set(found)) - len(kept), ref=ref)
            )
        return resolution

    async def teams(self, handles: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """Who is in each of the service's teams now (`TEAMS`), to keep with a broadcast: its
        figures break down by team as they stood when it was sent. A handle Slack does not
        know is left out (and logged: it is named at start too); when Slack cannot say, this
        raises `AudienceUnavailable`, like an audience entry, rather than keep a broadcast
        whose breakdown would quietly lack a team."""
        if not handles:
            return {}
        try:
            listed: list[dict[str, Any]] = (await self._client.usergroups_list()).get(
                "usergroups", []
            )
            ids = {str(g.get("handle")): str(g["id"]) for g in listed if not g.get("date_delete")}
            found: dict[str, tuple[str, ...]] = {}
            for handle in handles:
                group = ids.get(handle.lstrip("@"))
                if group is None:
                    logger.warning("team %s is not a user group Slack knows: left out", handle)
                    continue
                members = await self.members_of(group)
                found[handle] = tuple(sorted({m for m in members if m != self._bot_user_id}))
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
            logger.warning("the teams could not be listed (%s)", type(error).__name__)
            raise AudienceUnavailable(
                "I couldn't list the service's teams (TEAMS) in Slack. Try again in a minute."
            ) from None
        return found

    async def _ref(self, entry: Audience) -> str:
        if entry.is_id or entry.kind == "user":
            return entry.ref
        if entry.kind == "usergroup":
            return await self._group_id(entry.ref)
        return await self._channel_id(entry.ref)

    async def _cannot_post(self, entry: Audience, channel_id: str) -> str | None:
        """Why the bot could not post in this channel, or None if it can."""
        info = (await self._client.conversations_info(channel=channel_id))["channel"]
        shown = escape(entry.raw)
        if info.get("is_archived"):
            return f"{shown} is archived: take it out of the audience, or unarchive it."
        if not info.get("is_member", True):
            return f"I'm not in {shown} yet: add me with `/invite @Line of Sight` in {shown}."
        return None

    async def _members(self, entry: Audience, ref: str) -> list[str]:
        if entry.kind == "user":
            return [ref]
        return await self.members_of(ref)

    async def members_of(self, ref: str) -> list[str]:
        """Everyone in a user group (S…) or a channel (C…/G…) now, as Slack lists them.
        Raises SlackApiError, aiohttp.ClientError or TimeoutError when Slack cannot say."""
        if ref.startswith("S"):
            listed = await self._client.usergroups_users_list(usergroup=ref)
            return list(listed.get("users", []))
        members: list[str] = []
        cursor = None
        while True:
            page = await self._client.conversations_members(channel=ref, limit=1000, cursor=cursor)
            members += page.get("members", [])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return members

    async def channel_id(self, ref: str) -> str:
        """A channel's id from `#name`, `name` or its id. Raises SlackApiError
        (channel_not_found) when there is no such channel the bot can see."""
        ref = ref.strip()
        if re.fullmatch(r"[CG][A-Z0-9]{2,}", ref):
            return ref
        return await self._channel_id(ref.lstrip("#"))

    async def cannot_post(self, channel_id: str, shown: str) -> str | None:
        """Why the bot could not post in this channel (archived, not a member), or None.
        Raises SlackApiError when Slack cannot say."""
        info = (await self._client.conversations_info(channel=channel_id))["channel"]
        if info.get("is_archived"):
            return f"{escape(shown)} is archived."
        if not info.get("is_member", True):
            return f"I'm not in {escape(shown)} yet: add me with `/invite @Line of Sight` there."
        return None

    async def _group_id(self, handle: str) -> str:
        listed = await self._client.usergroups_list()
        groups: list[dict[str, Any]] = listed.get("usergroups", [])
        for group in groups:
            if group.get("handle") == handle:
                return str(group["id"])
        raise SlackApiError("no such user group", {"ok": False, "error": "no_such_subteam"})

    # -- lists shown to people: channel links, the composer's user-group picker ---------------

    async def shown_channels(self, *, wait: float) -> dict[str, str]:
        """Channel names to ids, for showing a name as a link: listed at most every
        `SHOWN_FOR`, waiting at most `wait` seconds for a fresh list (0: never, before an ack);
        until one comes, what was known (plain names if nothing)."""

        async def fetch() -> dict[str, str]:
            channels = [c async for c in self._channels(exclude_archived=True)]
            return {str(c.get("name")): str(c["id"]) for c in channels}

        found: dict[str, str] = await self._shown_list("channels", fetch, wait, {})
        return found

    async def shown_user_groups(self, *, wait: float) -> list[dict[str, Any]]:
        """The workspace's user groups, for a picker: as `shown_channels`. (A broadcast still
        lists a group's members afresh: only the names are kept.)"""

        async def fetch() -> list[dict[str, Any]]:
            listed: list[dict[str, Any]] = (await self._client.usergroups_list()).get(
                "usergroups", []
            )
            return [g for g in listed if not g.get("date_delete")]

        groups: list[dict[str, Any]] = await self._shown_list("user_groups", fetch, wait, [])
        return groups

    async def _shown_list(
        self, key: str, fetch: Callable[[], Awaitable[Any]], wait: float, empty: Any
    ) -> Any:
        """One list shown to people, refreshed on its own task when older than `SHOWN_FOR`
        (conversations.list and usergroups.list are Tier 2), never failing an answer."""
        shown = self._shown.setdefault(key, _Shown(value=empty))
        stale = shown.at is None or time.monotonic() - shown.at > SHOWN_FOR
        if stale and (shown.task is None or shown.task.done()):

            async def refresh() -> None:
                try:
                    shown.value = await fetch()
                    shown.at = time.monotonic()
                except Exception as error:  # plain names, typed entries: never a failure
                    shown.at = time.monotonic()  # tried: not again on every answer
                    logger.info("no %s list from Slack (%s)", key, error.__class__.__name__)

            shown.task = asyncio.create_task(refresh())
        if stale and wait > 0 and shown.task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(shown.task), wait)
        return shown.value

    async def _channels(self, *, exclude_archived: bool) -> AsyncIterator[dict[str, Any]]:
        """Every channel the bot can see (private ones it is in), page by page."""
        cursor = None
        while True:
            page = await self._client.conversations_list(
                limit=1000,
                cursor=cursor,
                exclude_archived=exclude_archived,
                types="public_channel,private_channel",
            )
            channels: list[dict[str, Any]] = page.get("channels", [])
            for channel in channels:
                yield channel
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return

    async def _channel_id(self, name: str) -> str:
        # Archived ones too: found, an archived channel is named as archived.
        async for channel in self._channels(exclude_archived=False):
            if channel.get("name") == name:
                return str(channel["id"])
        raise SlackApiError("no such channel", {"ok": False, "error": "channel_not_found"})


def _why(entry: Audience, error: str) -> str:
    shown = escape(entry.raw)
    if error in ("no_such_subteam", "subteam_not_found"):
        return f"There is no user group {shown}: check the audience."
    if error == "channel_not_found":
        return f"I can't find the channel {shown}: check the audience."
    if error == "missing_scope":
        return (
            f"I'm not allowed to list {shown} (a permission is missing from the app): ask "
            "whoever manages the Slack app to reinstall it."
        )
    return f"Slack said `{escape(error)}` when I listed {shown}."
