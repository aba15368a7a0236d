"""Who an audience entry means, right now: the people a broadcast by direct message reaches.

User groups come from the bot's one list of them (`bot/slack/usergroups.py`), which Slack's
events keep up to date (a change to @team-managers this morning counts) and which is never
more than ten minutes old; people are themselves, and a channel, for `deliver: dm` or `both`,
means its members. Bots, Slackbot and deactivated accounts are skipped and counted.
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
from bot.slack.usergroups import UserGroups, UserGroupsUnavailable

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

    def __init__(
        self,
        client: AsyncWebClient,
        people: People,
        *,
        bot_user_id: str,
        usergroups: UserGroups,
    ):
        self._client = client
        self._people = people
        self._usergroups = usergroups
        self._bot_user_id = bot_user_id
        # The token's scopes (from auth.test at start), or None before anyone knows them.
        self.token_scopes: frozenset[str] | None = None
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
            except UserGroupsUnavailable as error:
                problems.append(_why(entry, error.code) if error.code else _unreachable(entry))
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
            groups = await self._usergroups.groups()
        except UserGroupsUnavailable as error:
            logger.warning("the teams could not be listed (%s)", error)
            raise AudienceUnavailable(
                "I couldn't list the service's teams (TEAMS) in Slack. Try again in a minute."
            ) from None
        found: dict[str, tuple[str, ...]] = {}
        for handle in handles:
            group = groups.id_of(handle)
            if group is None:
                logger.warning("team %s is not a user group Slack knows: left out", handle)
                continue
            members = groups.members(group) or ()
            found[handle] = tuple(sorted({m for m in members if m != self._bot_user_id}))
        return found

    async def _ref(self, entry: Audience) -> str:
        if entry.is_id or entry.kind == "user":
            return entry.ref
        if entry.kind == "usergroup":
            return await self._group_id(entry.ref)
        return await self._channel_id(entry.ref)

    async def _cannot_post(self, entry: Audience, channel_id: str) -> str | None:
        """Why the bot could not post in this channel, or None if it can: a public channel it
        is not in yet is not joined now (planning is also a preview, which must leave no trace
        in the channel) but when the post is sent (`bot/sender.py`)."""
        return await self.cannot_post(
            channel_id,
            entry.raw,
            archived="take it out of the audience, or unarchive it",
            join=False,
        )

    async def _members(self, entry: Audience, ref: str) -> list[str]:
        if entry.kind == "user":
            return [ref]
        return await self.members_of(ref)

    async def members_of(self, ref: str) -> list[str]:
        """Everyone in a user group (S…, as Slack's events keep it) or a channel (C…/G…, as
        Slack lists it now). Raises SlackApiError (`no_such_subteam` for a group Slack does
        not have), `UserGroupsUnavailable`, aiohttp.ClientError or TimeoutError when Slack
        cannot say."""
        if ref.startswith("S"):
            found = await self._usergroups.members(ref)
            if found is None:
                raise SlackApiError("no such user group", {"ok": False, "error": "no_such_subteam"})
            return sorted(found)
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

    async def cannot_post(
        self, channel_id: str, shown: str, *, archived: str = "", join: bool = True
    ) -> str | None:
        """Why the bot could not post in this channel, or None if it can: archived (`archived`
        says what to do), or a private one it has not been invited to. A public channel it is
        not in yet it joins itself (conversations.join, as Slack lets an app), so nobody need
        `/invite` it there (with `join=False`, it only says it could: the outbox joins when it
        posts). Raises SlackApiError when Slack cannot say."""
        info = (await self._client.conversations_info(channel=channel_id))["channel"]
        where = escape(shown)
        if info.get("is_archived"):
            return f"{where} is archived{': ' + archived if archived else ''}."
        if info.get("is_member", True):
            return None
        if not is_public(info):
            return invite(where)
        if join:
            return await self._join(channel_id, where)
        if self.token_scopes is not None and "channels:join" not in self.token_scopes:
            return _may_not_join(where)
        return None

    async def _join(self, channel_id: str, where: str) -> str | None:
        """Join a public channel to post in it; why not, if Slack refuses (a missing
        `channels:join`, a channel archived or made private meanwhile)."""
        try:
            await self._client.conversations_join(channel=channel_id)
        except SlackApiError as error:
            code = str(error.response.get("error"))
            logger.warning("could not join channel %s to post there (%s)", channel_id, code)
            if code == "is_archived":
                return f"{where} is archived."
            if code == "missing_scope":
                return _may_not_join(where)
            if code in ("method_not_supported_for_channel_type", "channel_not_found"):
                return invite(where)
            return (
                f"I couldn't join {where} (Slack said `{escape(code)}`): add me with "
                f"`/invite @Line of Sight` in {where}."
            )
        logger.info("joined channel %s to post there", channel_id)
        return None

    async def _group_id(self, handle: str) -> str:
        found = (await self._usergroups.groups()).id_of(handle)
        if found is not None:
            return found
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
        """The workspace's user groups (id, handle, name), for a picker: from the one list of
        them, waiting at most `wait` seconds if it must be taken again; until then the last
        one (none if Slack has never answered)."""
        try:
            groups = await self._usergroups.groups(stale_ok=True, timeout=wait)
        except UserGroupsUnavailable:
            return []
        return [{"id": g.id, "handle": g.handle, "name": g.name} for g in groups.values()]

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


def is_public(info: dict[str, Any]) -> bool:
    """A conversation (as conversations.info answers) that anyone may join: a public channel."""
    private = any(info.get(k) for k in ("is_private", "is_im", "is_mpim", "is_group"))
    return bool(info.get("is_channel", True)) and not private


def invite(where: str) -> str:
    """What to do about a private channel the bot is not in: only a person can add it."""
    return f"I'm not in {where} yet: it is private, so add me with `/invite @Line of Sight` there."


def _unreachable(entry: Audience) -> str:
    return f"I couldn't reach Slack to list {escape(entry.raw)}. Try again in a minute."


def _may_not_join(where: str) -> str:
    return (
        f"I'm not in {where} yet, and the app may not join channels itself (its "
        "`channels:join` permission is missing): add me with `/invite @Line of "
        f"Sight` in {where}, or ask whoever manages the Slack app to reinstall it "
        "from manifest.yml."
    )


def _why(entry: Audience, error: str) -> str:
    shown = escape(entry.raw)
    if error in ("no_such_subteam", "subteam_not_found"):
        return f"There is no user group {shown}: check the audience."
    if error == "channel_not_found":
        return (
            f"I can't find the channel {shown}: check the audience. If it is private, add me "
            f"first with `/invite @Line of Sight` in {shown}."
        )
    if error == "missing_scope":
        return (
            f"I'm not allowed to list {shown} (a permission is missing from the app): ask "
            "whoever manages the Slack app to reinstall it."
        )
    return f"Slack said `{escape(error)}` when I listed {shown}."
