"""Who an audience entry means, right now: the people a broadcast by direct message reaches.

User groups are listed through Slack when the broadcast is prepared (not cached: a change to
@team-managers this morning must count), people are themselves, and a channel, for `deliver: dm`
or `both`, means its members. Bots, Slackbot and deactivated accounts are skipped and counted.
If any entry cannot be listed the whole broadcast stops before a single send, with the reason.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.content import Audience
from bot.slack.directory import Directory
from bot.slack.mrkdwn import escape

logger = logging.getLogger(__name__)


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

    def __init__(self, client: AsyncWebClient, directory: Directory, *, bot_user_id: str):
        self._client = client
        self._directory = directory
        self._bot_user_id = bot_user_id

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
        people = await self._directory.people(expected=everyone)
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

    async def channel_ids(self) -> dict[str, str]:
        """Every channel the bot can see, name to id, in one listing (paged): for showing
        channel names as links without a lookup each."""
        found: dict[str, str] = {}
        cursor = None
        while True:
            page = await self._client.conversations_list(
                limit=1000, cursor=cursor, types="public_channel,private_channel"
            )
            listed: list[dict[str, Any]] = page.get("channels", [])
            for channel in listed:
                found[str(channel.get("name"))] = str(channel["id"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return found

    async def _channel_id(self, name: str) -> str:
        cursor = None
        while True:
            page = await self._client.conversations_list(
                limit=1000,
                cursor=cursor,
                exclude_archived=False,  # found, an archived channel is named as archived
                types="public_channel,private_channel",  # private: those the bot is in
            )
            channels: list[dict[str, Any]] = page.get("channels", [])
            for channel in channels:
                if channel.get("name") == name:
                    return str(channel["id"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
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
