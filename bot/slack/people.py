"""Who in the workspace is a person: not a bot, not Slackbot, not a deactivated account.

A briefing's reach is the people who could read it. Channel member lists include other apps'
bots, and counting them would make every acknowledgement rate look worse than it is. The list
comes from users.list (Tier 2, paged), cached for ten minutes so a publish to several channels
costs one walk of the directory; someone the cache has never seen (a new starter) makes it walk
again, at most once a minute.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

logger = logging.getLogger(__name__)

SLACKBOT = "USLACKBOT"  # Slackbot is not flagged is_bot by users.list
NEWCOMER_REFRESH_SECONDS = 60.0


@dataclass(frozen=True)
class _Snapshot:
    at: float
    people: frozenset[str]
    known: frozenset[str]  # everyone users.list returned, bots included
    names: Mapping[str, str] = field(default_factory=dict)  # a person's name, as Slack shows it


class People:
    """The set of people in the workspace, refreshed at most every `ttl_seconds`."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        ttl_seconds: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._client = client
        self._ttl = ttl_seconds
        self._clock = clock
        self._snapshot: _Snapshot | None = None
        self._lock = asyncio.Lock()

    async def people(self, expected: Iterable[str] = ()) -> frozenset[str] | None:
        """Every person's user id, or None when Slack could not say (and nothing is cached).

        `expected` are ids about to be filtered (a channel's members): one the cache has never
        seen means the cache is older than that person, so it is refreshed.
        """
        async with self._lock:
            snapshot = self._snapshot
            if snapshot is not None:
                age = self._clock() - snapshot.at
                newcomer = any(user not in snapshot.known for user in expected)
                if age < self._ttl and not (newcomer and age >= NEWCOMER_REFRESH_SECONDS):
                    return snapshot.people
            try:
                self._snapshot = await self._fetch()
            except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
                logger.warning("could not list the workspace's people: %s", _reason(error))
                return snapshot.people if snapshot else None
            return self._snapshot.people

    async def named(self, expected: Iterable[str] = ()) -> dict[str, str] | None:
        """Every person's user id with their name as Slack shows it (for sorting a list of
        mentions by name; "" where Slack gave none), or None when Slack could not say."""
        people = await self.people(expected)
        if people is None:
            return None
        names = self._snapshot.names if self._snapshot is not None else {}
        return {user: names.get(user, "") for user in people}

    async def is_person(self, user_id: str) -> bool | None:
        """Is this one account a person? From the cache if it knows them, else users.info
        (Tier 4), so one newcomer costs one call, not a walk of the directory. None: unknown."""
        snapshot = self._snapshot
        if snapshot is not None and user_id in snapshot.known:
            return user_id in snapshot.people
        try:
            user = (await self._client.users_info(user=user_id))["user"]
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
            logger.warning("could not look a person up: %s", _reason(error))
            return None
        return not (user.get("is_bot") or user.get("deleted") or user_id == SLACKBOT)

    async def _fetch(self) -> _Snapshot:
        people: set[str] = set()
        known: set[str] = set()
        names: dict[str, str] = {}
        cursor: str | None = None
        while True:
            page = await self._client.users_list(limit=200, cursor=cursor)
            members: list[dict[str, Any]] = page.get("members", [])
            for member in members:
                known.add(member["id"])
                if member.get("is_bot") or member.get("deleted") or member["id"] == SLACKBOT:
                    continue
                people.add(member["id"])
                profile = member.get("profile") or {}
                names[member["id"]] = str(
                    member.get("real_name") or profile.get("real_name") or member.get("name") or ""
                )
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return _Snapshot(self._clock(), frozenset(people), frozenset(known), names)


def _reason(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error"))
    return error.__class__.__name__
