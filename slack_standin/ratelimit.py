"""Slack's Web API rate limits, modelled as token buckets.

Slack limits each method per workspace by tier (Tier 1: 1+/min … Tier 4: 100+/min) and allows
short bursts; chat.postMessage is special: about one message per second per channel, with a
short burst, plus a workspace-wide cap of several hundred per minute. Over the limit Slack
answers HTTP 429 with ``Retry-After`` in whole seconds. A bot that broadcasts to a whole service
meets these limits in production, so the stand-in enforces them by default.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["METHOD_TIERS", "RateLimiter", "RateLimits", "TokenBucket"]

#: Tier per method (Slack's published tiers; "special" methods are handled separately).
METHOD_TIERS: dict[str, int] = {
    "auth.test": 4,
    "chat.update": 3,
    "chat.delete": 3,
    "chat.getPermalink": 4,  # "special": hundreds a minute
    "chat.postEphemeral": 4,
    "conversations.open": 3,
    "conversations.members": 4,
    "conversations.info": 3,
    "conversations.history": 3,
    "conversations.list": 2,
    "conversations.join": 3,
    "users.info": 4,
    "users.list": 2,
    "usergroups.list": 2,
    "usergroups.users.list": 2,
    "views.open": 4,
    "views.push": 4,
    "views.update": 4,
    "views.publish": 4,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
    "apps.connections.open": 1,
}


@dataclass
class RateLimits:
    """Configuration. ``scale`` multiplies every allowance (2.0 = twice as generous).

    Bucket capacity (the burst) for a tier is a full minute's allowance, refilled continuously;
    chat.postMessage gets ``post_per_channel_per_second`` with ``post_channel_burst`` per
    channel and ``post_workspace_per_minute`` across the workspace.
    """

    scale: float = 1.0
    enabled: bool = True
    tiers: dict[int, float] = field(default_factory=lambda: {1: 1.0, 2: 20.0, 3: 50.0, 4: 100.0})
    post_per_channel_per_second: float = 1.0
    post_channel_burst: float = 3.0
    post_workspace_per_minute: float = 300.0
    #: The workspace bucket's burst; None means a full minute's allowance.
    post_workspace_burst: float | None = None

    @classmethod
    def disabled(cls) -> RateLimits:
        """No limits at all (forced 429s from ``force_ratelimit`` still apply)."""
        return cls(enabled=False)


@dataclass
class TokenBucket:
    """``capacity`` tokens, refilled at ``rate`` per second; one token per call."""

    capacity: float
    rate: float
    tokens: float
    updated: float

    def take(self, now: float) -> float:
        """Take a token; returns 0.0 on success or the seconds until one is available."""
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate

    def give_back(self) -> None:
        """Undo a take (when a later bucket refused the same call)."""
        self.tokens = min(self.capacity, self.tokens + 1.0)


class RateLimiter:
    """Decides whether a call may proceed; returns the ``Retry-After`` seconds if not."""

    def __init__(self, limits: RateLimits) -> None:
        self.limits = limits
        self._buckets: dict[str, TokenBucket] = {}
        self._forced: dict[str, list[int]] = {}

    def force(self, method: str, times: int, retry_after: int) -> None:
        """The next ``times`` calls to ``method`` get 429 with this Retry-After."""
        self._forced.setdefault(method, []).extend([retry_after] * times)

    def _bucket(self, key: str, per_minute: float, burst: float, now: float) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            capacity = max(1.0, burst * self.limits.scale)
            rate = per_minute * self.limits.scale / 60.0
            bucket = TokenBucket(capacity=capacity, rate=rate, tokens=capacity, updated=now)
            self._buckets[key] = bucket
        return bucket

    def check(self, method: str, now: float, channel: str | None = None) -> int | None:
        """``None`` if allowed, else integer seconds for ``Retry-After`` (at least 1)."""
        forced = self._forced.get(method)
        if forced:
            return forced.pop(0)
        if not self.limits.enabled:
            return None
        if method == "chat.postMessage":
            per_min = self.limits.post_workspace_per_minute
            burst = self.limits.post_workspace_burst or per_min
            ws_bucket = self._bucket("chat.postMessage", per_min, burst, now)
            wait = ws_bucket.take(now)
            if wait:
                return max(1, math.ceil(wait))
            if channel is not None:
                ch_bucket = self._bucket(
                    f"chat.postMessage:{channel}",
                    self.limits.post_per_channel_per_second * 60.0,
                    self.limits.post_channel_burst,
                    now,
                )
                wait = ch_bucket.take(now)
                if wait:
                    ws_bucket.give_back()
                    return max(1, math.ceil(wait))
            return None
        tier = METHOD_TIERS.get(method, 3)
        per_minute = self.limits.tiers[tier]
        wait = self._bucket(method, per_minute, per_minute, now).take(now)
        return max(1, math.ceil(wait)) if wait else None
