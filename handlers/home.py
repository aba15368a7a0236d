"""App Home: opening the tab shows each person their sections (see `bot/home.py`); and the
refresh job, which republishes the Homes that acts (`deps.home.soon`) and the outbox's
deliveries changed, each at most once every `REFRESH_SECONDS`."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.async_app import AsyncAck

from bot.home import REFRESH_JOB, REFRESH_SECONDS
from bot.slack.roles import ENGAGEMENT_LEAD
from bot.storage.writer import utc_iso

if TYPE_CHECKING:
    from bot.deps import Deps

logger = logging.getLogger(__name__)


async def note_home_opened(
    deps: Deps, ack: AsyncAck, event: dict[str, Any], body: dict[str, Any]
) -> bool:
    """Remember the event id first, so a retried delivery is answered but not redone.
    Returns whether this is the first delivery (a write that timed out counts as first)."""
    first = True
    if event.get("tab") == "home":
        first = await deps.storage.events.first_of(body, deps.clock())
    await ack()
    return first


async def show_home(deps: Deps, said: bool, event: dict[str, Any]) -> None:
    """Opening the Home tab shows what is waiting for this person; `said`: first delivery."""
    if event.get("tab") != "home":
        return
    if not said:
        logger.info("event already handled (Slack retry)")
        return
    await deps.home.opened(event["user"])


FIRST_LOOK = timedelta(hours=1)  # the first run after a start looks back this far


@dataclass
class Watch:
    """Where the refresh job's read of the outbox's deliveries got to (see
    `Dashboard.delivered_since`); None before its first run, which looks back `FIRST_LOOK`
    (past the bot's start: what is found again costs the leads one refresh)."""

    mark: str | None = None
    at_mark: frozenset[str] = field(default_factory=frozenset)


async def refresh_homes(deps: Deps, watch: Watch) -> None:
    """The refresh job: mark the Homes the outbox's latest deliveries changed (the people a
    briefing reached, its publisher, the leads), then republish every stale Home."""
    mark = watch.mark or utc_iso(deps.clock() - FIRST_LOOK)
    delivered = await deps.storage.dashboard.delivered_since(mark, watch.at_mark)
    watch.mark, watch.at_mark = delivered.mark, delivered.at_mark
    deps.home.soon(
        delivered.people | delivered.publishers,
        roles=(ENGAGEMENT_LEAD,) if delivered.leads else (),
    )
    await deps.home.refresh_stale(deps.clock(), deps.roles.members)


def register(app: AsyncApp, deps: Deps) -> None:
    """Wire the Home tab and its refresh job."""
    app.event("app_home_opened")(deps.work.listener(deps, note_home_opened, follow_up=show_home))
    watch = Watch()
    deps.scheduler.every(
        REFRESH_JOB,
        functools.partial(refresh_homes, deps, watch),
        seconds=REFRESH_SECONDS,
        run_at_start=False,
    )
