"""Scheduled briefings going out: a job that sends each one once, when its time comes."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import TYPE_CHECKING

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.content.briefings import read_briefings
from bot.slack.mrkdwn import escape
from bot.storage.restores import Gap
from bot.storage.schedules import Schedule
from bot.timefmt import format_local
from handlers.briefings.blocks import describe_queued
from handlers.briefings.problem_blocks import build_broken_reply
from handlers.briefings.publish import (
    AudienceUnavailable,
    NobodyToReach,
    load_library,
    plan_briefing,
    send_planned,
)

if TYPE_CHECKING:
    from bot.deps import Deps

logger = logging.getLogger(__name__)

JOB = "briefings:scheduled"
POLL_SECONDS = 15  # how often the job looks: a 09:00 briefing goes by 09:00:15


async def send_due(deps: Deps) -> None:
    """Send every schedule whose time has come (and any a stop left half sent), once each."""
    due = await deps.storage.schedules.due(deps.clock())
    gap = await deps.storage.restores.last_gap() if due else None
    for schedule in due:
        if await _held(deps, schedule, gap):
            continue
        if not await deps.storage.schedules.mark(
            schedule.id, "firing", only_from=("scheduled", "firing")
        ):
            continue  # cancelled meanwhile
        try:
            note = await _send(deps, schedule)
        except Exception:
            # One schedule failing must neither block the others nor retry forever unheard.
            logger.exception("a scheduled briefing could not be sent")
            note = (
                f"*{escape(schedule.title)}* was due to go out, but something went wrong on our "
                "side and it has been logged. Check `/brief status "
                f"{schedule.briefing_id}` and publish it again if need be."
            )
        if note is None:
            continue  # moved later in its file: it waits for its new time
        await deps.storage.schedules.mark(schedule.id, "fired", only_from=("firing",))
        await _tell(deps, schedule.published_by, note)


async def _held(deps: Deps, schedule: Schedule, gap: Gap | None) -> bool:
    """Held (and its publisher told) if it was due before a restore the bot runs from: the
    backup does not record it as sent, but it may have gone after the backup was taken. One
    the backup caught queued is not held: the outbox finishes it, looking for copies sent."""
    if gap is None or not gap.holds(datetime.fromisoformat(schedule.at)):
        return False
    if await deps.storage.schedules.queued(schedule.briefing_id, schedule.version):
        return False
    if await deps.storage.schedules.mark(schedule.id, "held", only_from=("scheduled", "firing")):
        logger.warning("a scheduled briefing due before the restore, not recorded as sent, held")
        await _tell(deps, schedule.published_by, held_note(deps, schedule, gap))
    return True


def held_note(deps: Deps, schedule: Schedule, gap: Gap) -> str:
    """Why a schedule due before a restore, and not recorded as sent, was not sent."""
    tz = deps.config.timezone
    return (
        f"*{escape(schedule.title)}* was due to go out at {format_local(schedule.at, tz)}. "
        f"Since then the bot has been restored from a backup taken at "
        f"{format_local(gap.taken_at, tz)}, which does not record it as sent. It may have gone "
        "out after that backup was taken, so I have not sent it again. Look in its channels or "
        f"your DMs with me: if it did not go, `/brief publish {schedule.briefing_id} now`, or "
        "choose a new time."
    )


async def _send(deps: Deps, schedule: Schedule) -> str | None:
    # A broken file takes only itself out: every other schedule goes out as normal.
    library = await load_library(deps)
    briefing = library.get(schedule.briefing_id)
    if briefing is None:
        loaded = await asyncio.to_thread(
            read_briefings, deps.config.content_dir, deps.config.timezone
        )
        broken = loaded.broken_one(schedule.briefing_id)
        if broken is not None:  # its own file has problems now: say which, plainly
            return build_broken_reply(broken, why="scheduled")
    if briefing is None or briefing.version != schedule.version:
        return (
            f"*{escape(schedule.title)}* was due to go out, but its file has changed or gone "
            f"since you scheduled version {schedule.version}, so nothing was sent. Check it and "
            f"publish it again."
        )
    scheduled_for = datetime.fromisoformat(schedule.at)
    if briefing.publish_at is not None and briefing.publish_at > max(deps.clock(), scheduled_for):
        # The file now says later than the schedule: it moves with the file.
        await deps.storage.schedules.reschedule(schedule.id, briefing.publish_at)
        return None
    if await deps.storage.schedules.status_of(schedule.id) != "firing":
        return f"*{escape(schedule.title)}* was cancelled before it went out: nothing was sent."
    logger.info("a scheduled briefing is going out")
    title = escape(schedule.title)
    try:
        plan = await plan_briefing(deps, briefing, schedule.published_by)
    except AudienceUnavailable as error:
        problems = "\n".join(f"• {line}" for line in str(error).splitlines())
        return (
            f"*{title}* was due to go out, but I can't reach everyone in its audience, so "
            f"nothing was sent.\n{problems}\nFix it, then `/brief publish {briefing.id} now`."
        )
    except NobodyToReach:
        return f"*{title}* was due to go out, but its audience has nobody in it: nothing was sent."
    return describe_queued(plan, await send_planned(deps, plan))


async def _tell(deps: Deps, user_id: str, text: str) -> None:
    try:
        await deps.client.chat_postMessage(channel=user_id, text=text, unfurl_links=False)
    except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
        logger.warning("could not tell the publisher a schedule fired (%s)", type(error).__name__)
