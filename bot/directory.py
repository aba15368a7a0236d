"""Who in the workspace is a person: not a bot, not Slackbot, not a deactivated account.

A briefing's reach is the people who could read it. Channel member lists include other apps'
bots, and counting them would make every acknowledgement rate look worse than it is. The list
comes from users.list (Tier 2, paged), cached for ten minutes so a publish to several channels
costs one walk of the directory.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

logger = logging.getLogger(__name__)

SLACKBOT = "USLACKBOT"  # Slackbot is not flagged is_bot by users.list


class Directory:
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
        self._people: tuple[float, frozenset[str]] | None = None
        self._lock = asyncio.Lock()

    async def people(self) -> frozenset[str] | None:
        """Every person's user id, or None when Slack could not say (and nothing is cached)."""
        async with self._lock:
            if self._people and self._clock() - self._people[0] < self._ttl:
                return self._people[1]
            try:
                people = await self._fetch()
            except SlackApiError as error:
                logger.warning(
                    "could not list the workspace's people: %s", error.response.get("error")
                )
                return self._people[1] if self._people else None
            self._people = (self._clock(), people)
            return people

    async def _fetch(self) -> frozenset[str]:
        people: set[str] = set()
        cursor: str | None = None
        while True:
            page = await self._client.users_list(limit=200, cursor=cursor)
            members: list[dict[str, Any]] = page.get("members", [])
            for member in members:
                if member.get("is_bot") or member.get("deleted") or member.get("id") == SLACKBOT:
                    continue
                people.add(member["id"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return frozenset(people)
