"""Reminders: after a briefing's `remind_after`, one DM to each person yet to acknowledge it.

Never outside working hours (`WORKING_HOURS` on `WORKING_DAYS`, in `TIMEZONE`): a reminder due
at night or at the weekend waits for the next working morning, and one queued but not sent by
the end of the working day (a long queue, a pause Slack asked for) waits for the next. At most
one reminder per person per acknowledgement round, ever (see `bot/storage/reminders.py`); they
go through the outbox. A publisher or lead may send the round's reminder early, from the list of
who has not acknowledged (waiting.py): the same message, the same once.
"""

from __future__ import annotations

import logging
from datetime import datetime, time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.slack.mrkdwn import escape
from bot.storage.reminders import Round
from handlers.briefings.blocks import build_reminder_message

if TYPE_CHECKING:
    from bot.deps import Deps

logger = logging.getLogger(__name__)

JOB = "briefings:reminders"
POLL_SECONDS = 15  # a reminder goes within 15 s of its time (a cheap, indexed look)


def in_working_hours(
    now: datetime, tz: ZoneInfo, hours: tuple[time, time], days: frozenset[int]
) -> bool:
    """Is `now` inside working hours where the service is (Monday is day 0)?"""
    local = now.astimezone(tz)
    return local.weekday() in days and hours[0] <= local.time().replace(tzinfo=None) < hours[1]


def end_of_working_day(now: datetime, tz: ZoneInfo, hours: tuple[time, time]) -> datetime:
    """When today's working hours end: a reminder not sent by then waits for the next day."""
    return datetime.combine(now.astimezone(tz).date(), hours[1], tzinfo=tz)


def reminder_message(due: Round, tz: ZoneInfo) -> dict[str, Any]:
    """The one reminder's message, as the outbox sends it (timed, or "remind them now")."""
    blocks = build_reminder_message(
        due.title, due.briefing_id, due.version, due.sent_from, due.channel_id, tz
    )
    return {
        "text": f"Reminder: {escape(due.title)} is waiting for you to acknowledge it.",
        "blocks": [b.to_dict() for b in blocks],
    }


async def send_due(deps: Deps) -> int:
    """Queue the reminders that are due, if it is working hours; how many were queued."""
    now = deps.clock()
    config = deps.config
    if not in_working_hours(now, config.timezone, config.working_hours, config.working_days):
        return 0
    send_by = end_of_working_day(now, config.timezone, config.working_hours)
    await deps.storage.reminders.carry_over(now, send_by=send_by)
    queued = 0
    for due in await deps.storage.reminders.due(now):
        message = reminder_message(due, config.timezone)
        queued += await deps.storage.reminders.queue(due, message, now, send_by=send_by)
    if queued:
        logger.info("%d reminder(s) queued", queued)
        deps.outbox.wake()
    return queued
