"""`GET /metrics`: what an operator watches, in Prometheus' text exposition format.

Off unless `METRICS=on` (bot/config.py). When on, `LineOfSight` makes one `Metrics`, installs
it, and `bot/web.py` serves it at `/metrics` on `PORT`, beside `/healthz`. Built on the official
`prometheus-client`, with a registry of our own (not its process-wide default, so two bots in one
test process never share counts) rendered by its `generate_latest` inside our aiohttp route: the
library's own HTTP server and its thread are never started.

The places that see something happen (the request path in both modes, the scheduler, the
outbox, the Slack client's retry handler) call this module's functions — `request_answered`,
`job_ran`, `sent`, `ratelimited` — which cost nothing when metrics are off (no `Metrics` is
installed). A backup module tells us of each backup with `backup_finished(at)`, or hands us a
way to find the newest one with `set_last_backup_source(fn)` (so the age is right after a
restart too); without either, the backup age is simply not exported.

No personal data, ever: every label comes from a fixed vocabulary — a command's name, a
button's action id or a form's callback id (from our code, with any digits folded to `N`), an
event's type, a timed job's id, a delivery's purpose. Never a user id, a channel, a briefing's id
or title, a question or an answer. Briefing ids are left out too though they are authors' file
names, not people's: they grow without end over the years (one series each, forever, which is
what Prometheus warns against) and a name such as `lado-referral-team-b` can say more than a
dashboard needs. A label that does not look like one of ours, or one past the first
`MAX_ROUTES`, is counted as `other`.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

PREFIX = "line_of_sight"
CONTENT_TYPE = CONTENT_TYPE_LATEST
MAX_ROUTES = 200  # distinct route labels kept; more become "other"
# Slack wants an answer within 3 s: the buckets are finest where a person feels the wait.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)
RATELIMIT_PLACES = ("outbox", "api")  # the outbox's own pause; the Slack client's retries
JOB_OUTCOMES = ("ok", "failed")

# command:/brief, block_actions:ack_briefing, view_submission:compose, event:app_home_opened
_ROUTE = re.compile(r"^[a-z_]{1,32}(?::[A-Za-z0-9_./-]{1,64})?$")
_NAME = re.compile(r"^[A-Za-z0-9_./:-]{1,64}$")

DepthSource = Callable[[datetime], Awaitable[dict[str, int]]]
BackupSource = Callable[[], "datetime | None"]


def route_of(what: str) -> str:
    """A request's route label from its log description (`bot/web.describe_request`).

    The kind and its first name only (`block_actions:ack_briefing`), digits folded to `N`
    (`follow_up_N`); a refusal before the body was read (`refused (...)`, `too large`) is
    `refused`, a body that is not Slack's `malformed`.
    """
    head = what.split(" ", 1)[0]
    if head == "malformed":
        return "malformed"
    if ":" not in head:
        refused = what.startswith(("refused", "too large", "body incomplete"))
        return "refused" if refused else "other"
    route = re.sub(r"\d+", "N", ":".join(head.split(":")[:2]))
    return route if _ROUTE.match(route) else "other"


def name_of(text: str) -> str:
    """A job id or a purpose as a label: digits folded, anything unexpected `other`."""
    folded = re.sub(r"\d+", "N", text)
    return folded if _NAME.match(folded) else "other"


class Metrics:
    """One bot's counters, histograms and gauges, in a registry of its own."""

    def __init__(self, *, version: str = "", depth: DepthSource | None = None):
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._depth = depth
        self._routes: set[str] = set()
        self.backup_at: datetime | None = None
        self.backup_source: BackupSource | None = None
        self._now: datetime | None = None  # the moment render() reads the gauges at
        ProcessCollector(namespace=PREFIX, registry=r)  # RSS, CPU, open files (Linux only)
        Gauge(f"{PREFIX}_info", "The running release", ["version"], registry=r).labels(
            version=version or "unknown"
        ).set(1)
        self.requests = Counter(
            f"{PREFIX}_requests",
            "Slack requests answered, by route (kind and command/action/callback/event name) "
            "and HTTP status, in both modes",
            ["route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            f"{PREFIX}_answer_seconds",
            "Time from a Slack request's arrival to its answer, by kind",
            ["kind"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.outbox_depth = Gauge(
            f"{PREFIX}_outbox_depth",
            "Outbox deliveries not yet sent: due now, waiting for later (a retry, working "
            "hours), or in flight",
            ["state"],
            registry=r,
        )
        self.sent = Counter(
            f"{PREFIX}_outbox_sent",
            "Messages the outbox posted, by purpose (rate() is the send rate)",
            ["purpose"],
            registry=r,
        )
        self.ratelimited = Counter(
            f"{PREFIX}_slack_ratelimited",
            "429 answers from Slack, by where they were met",
            ["where"],
            registry=r,
        )
        self.jobs = Counter(
            f"{PREFIX}_jobs",
            "Timed jobs run, by job and outcome (ok, failed)",
            ["job", "outcome"],
            registry=r,
        )
        r.register(_BackupAge(self))  # only once a backup is known: 0 would read as "just now"
        for where in RATELIMIT_PLACES:
            self.ratelimited.labels(where=where)  # shown as 0 from the start
        for state in ("due", "later", "in_flight"):
            self.outbox_depth.labels(state=state)

    def request(self, what: str, status: int, seconds: float) -> None:
        route = route_of(what)
        if route not in self._routes:
            if len(self._routes) >= MAX_ROUTES:
                route = "other"
            else:
                self._routes.add(route)
        self.requests.labels(route=route, status=str(status)).inc()
        self.latency.labels(kind=route.split(":", 1)[0]).observe(seconds)

    async def render(self, now: datetime | None = None) -> bytes:
        """The exposition text, with the gauges read at this moment."""
        now = now or datetime.now(UTC)
        if self._depth is not None:
            for state, count in (await self._depth(now)).items():
                self.outbox_depth.labels(state=state).set(count)
        self._now = now
        # On a worker thread: the backup-age gauge looks at BACKUP_DIR's files (perhaps a
        # network mount), which must never hold up Slack's requests on the event loop.
        return await asyncio.to_thread(generate_latest, self.registry)

    def backup_age(self) -> float | None:
        """Seconds since the newest backup known, at the last render; None if none is known."""
        last = self._last_backup()
        if last is None:
            return None
        return max(0.0, ((self._now or datetime.now(UTC)) - last).total_seconds())

    def _last_backup(self) -> datetime | None:
        known = [self.backup_at]
        if self.backup_source is not None:
            known.append(self.backup_source())
        times = [t for t in known if t is not None]
        return max(times) if times else None


class _BackupAge(Collector):
    """`last_backup_age_seconds`, exported only when a backup is known."""

    def __init__(self, owner: Metrics):
        self._owner = owner

    def collect(self) -> Iterable[Metric]:
        age = self._owner.backup_age()
        if age is not None:
            yield GaugeMetricFamily(
                f"{PREFIX}_last_backup_age_seconds",
                "Seconds since the newest backup finished (absent until one is known)",
                value=age,
            )

    def describe(self) -> Iterable[Metric]:
        return []


# -- the hooks: no-ops unless a Metrics is installed --------------------------------------------

_installed: list[Metrics] = []
_backup_source: BackupSource | None = None


def install(metrics: Metrics) -> None:
    metrics.backup_source = _backup_source
    _installed.append(metrics)


def uninstall(metrics: Metrics) -> None:
    if metrics in _installed:
        _installed.remove(metrics)


def request_answered(what: str, status: int, started: float) -> None:
    """A Slack request was answered (`started` from `time.perf_counter()`)."""
    if _installed:
        seconds = time.perf_counter() - started
        for m in _installed:
            m.request(what, status, seconds)


def job_ran(job_id: str, ok: bool) -> None:
    for m in _installed:
        m.jobs.labels(job=name_of(job_id), outcome=JOB_OUTCOMES[0 if ok else 1]).inc()


def sent(purpose: str) -> None:
    for m in _installed:
        m.sent.labels(purpose=name_of(purpose.split("#", 1)[0])).inc()  # agenda#2: agenda


def ratelimited(where: str) -> None:
    for m in _installed:
        m.ratelimited.labels(where=where if where in RATELIMIT_PLACES else "other").inc()


def backup_finished(at: datetime) -> None:
    """For a backup module: a backup finished at `at` (aware)."""
    for m in _installed:
        m.backup_at = at


def set_last_backup_source(source: BackupSource | None) -> None:
    """For a backup module: how to find when the newest backup was taken (None: unknown).

    Called at import or start; applies to the bot running now and any started later.
    """
    global _backup_source
    _backup_source = source
    for m in _installed:
        m.backup_source = source


def labels_in(text: str) -> list[dict[str, Any]]:
    """Every sample's labels in an exposition text (for tests and the privacy check)."""
    from prometheus_client.parser import text_string_to_metric_families

    return [s.labels for f in text_string_to_metric_families(text) for s in f.samples]
