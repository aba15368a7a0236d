"""Clocks for end-to-end tests that move the bot's time: fixed where the test sets it, or set by
the test and ticking from there."""

from __future__ import annotations

import time
from datetime import datetime, timedelta


class Clock:
    """The bot's clock, set by the test and ticking from there in real time: the outbox's
    pauses (a 429's Retry-After) are on this clock, and must pass."""

    def __init__(self, now: datetime):
        self.now = now

    @property
    def now(self) -> datetime:
        return self._set + timedelta(seconds=time.monotonic() - self._at)

    @now.setter
    def now(self, moment: datetime) -> None:
        self._set, self._at = moment, time.monotonic()

    def __call__(self) -> datetime:
        return self.now


class FixedClock:
    """The bot's clock, standing where the test last set it."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now
