"""A bad day at Slack, on purpose: seeded random 429s, 500s and dropped connections.

Slack's Web API fails in three ways a bot must live with, and the stand-in can play each at a
given rate, from a seed so a failing run can be replayed:

- **429** ``ratelimited`` with a ``Retry-After`` of a random whole number of seconds (as Slack
  answers when a limit is met, whatever the bot's own pacing). Nothing is done. A call to the
  method before that ``Retry-After`` has passed is recorded in ``SlackStandIn.early_retries``,
  exactly as for a 429 from the limits themselves.
- **500** ``internal_error``. Slack documents that "it's possible some aspect of the operation
  succeeded before the error was raised": so half of them (by the seed) happen *after* the call
  took effect, half before.
- **A dropped connection**: the socket is closed with no answer. Again either before or after
  the call took effect; the bot cannot tell which, as with a real network.

``SlackStandIn(chaos=Chaos(seed=7))`` or ``standin.chaos = Chaos(...)`` turns it on;
``standin.chaos = None`` turns it off. ``methods`` limits it to some Web API methods (all but
``apps.connections.open`` by default, whose failures Socket Mode tests play apart). What was
injected is counted in ``Chaos.injected`` and listed in ``Chaos.log``; ``force`` queues a
given failure for a method's next calls, so a short run meets every kind.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = ["Chaos", "Fault"]

KINDS = ("ratelimited", "error_before", "error_after", "drop_before", "drop_after")


@dataclass(frozen=True)
class Fault:
    """One injected failure: ``kind`` is one of ``KINDS``; ``retry_after`` for a 429."""

    kind: str
    method: str
    retry_after: int = 0

    @property
    def after(self) -> bool:
        """True if the call takes effect before it fails."""
        return self.kind.endswith("_after")


@dataclass
class Chaos:
    """Rates (0–1) of each failure per Web API call, drawn from ``random.Random(seed)``."""

    seed: int = 0
    ratelimited: float = 0.05
    retry_after: tuple[int, int] = (1, 3)
    server_error: float = 0.01
    dropped: float = 0.01
    methods: frozenset[str] | None = None
    exempt: frozenset[str] = frozenset({"apps.connections.open"})
    injected: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    log: list[Fault] = field(default_factory=list)
    calls: int = 0

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._forced: list[Fault] = []

    def force(self, kind: str, method: str, times: int = 1, retry_after: int = 1) -> None:
        """The next ``times`` calls to ``method`` meet ``kind`` (before any random draw), so a
        short run is sure to meet each kind at least once."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {KINDS}")
        wait = retry_after if kind == "ratelimited" else 0
        self._forced.extend([Fault(kind, method, wait)] * times)

    def roll(self, method: str) -> Fault | None:
        """The failure (if any) this call to ``method`` meets."""
        if method in self.exempt or (self.methods is not None and method not in self.methods):
            return None
        self.calls += 1
        forced = next((f for f in self._forced if f.method == method), None)
        if forced is not None:
            self._forced.remove(forced)
            self.injected[forced.kind] += 1
            self.log.append(forced)
            return forced
        draw = self._random.random()
        fault: Fault | None = None
        if draw < self.ratelimited:
            low, high = self.retry_after
            fault = Fault("ratelimited", method, self._random.randint(low, high))
        elif draw < self.ratelimited + self.server_error:
            fault = Fault(self._random.choice(("error_before", "error_after")), method)
        elif draw < self.ratelimited + self.server_error + self.dropped:
            fault = Fault(self._random.choice(("drop_before", "drop_after")), method)
        if fault is not None:
            self.injected[fault.kind] += 1
            self.log.append(fault)
        return fault

    @property
    def total(self) -> int:
        return sum(self.injected.values())
