"""The surgery's timed work: each forum's agenda, drawn up at its meeting's cut-off.

The job runs every minute (and at start), over our own tables: `agendas` says which were
drawn up, so a restart neither loses nor repeats one.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING

from bot.storage import utc_iso
from bot.timefmt import format_local
from handlers.surgery.blocks import build_agenda_message
from handlers.surgery.channels import postable
from handlers.surgery.rules import agenda_due, agenda_worth_drawing, choose_agenda

if TYPE_CHECKING:
    from bot.deps import Deps

logger = logging.getLogger(__name__)


async def draw_agendas(deps: Deps) -> None:
    """At each forum's cut-off, its next meeting's agenda, once (rebuilt from the
    database at every start: `agendas` says which were drawn up)."""
    for forum in deps.config.forums:
        await draw_agenda(deps, forum)
    await deps.storage.questions.scrub()  # a WAL a reader kept from being emptied at once


async def draw_agenda(
    deps: Deps, forum: str, *, early: bool = False
) -> tuple[str, int, int] | None:
    """The next meeting's agenda for `forum`, drawn up and queued to its channel once:
    at its cut-off, or `early` when a lead asks. (channel, questions, carried), or None
    if it is not due, was drawn up already, or its channel cannot be found."""
    now = deps.clock()
    rule, where = deps.config.forums[forum]
    meeting = rule.next_after(now, deps.config.timezone)
    cutoff = rule.cutoff(meeting, deps.config.agenda_cutoff_days)
    if not agenda_due(now, cutoff, early=early):
        return None
    if await deps.storage.questions.agenda_drawn(forum, meeting):
        return None
    if not early and not agenda_worth_drawing(await deps.storage.questions.count_on_board(forum)):
        return None
    channel = await postable(deps, where)
    if channel is None:
        return None
    when = format_local(utc_iso(meeting), deps.config.timezone)
    drawn = await deps.storage.questions.draw_agenda(
        forum=forum,
        meeting_at=meeting,
        channel=channel,
        choose=functools.partial(choose_agenda, size=deps.config.agenda_size),
        render=functools.partial(build_agenda_message, forum, when),
        now=now,
    )
    if drawn is None:
        return None
    agenda, carried = drawn  # as the posted agenda says
    logger.info("%s agenda drawn up: %d question(s)", forum, len(agenda))
    deps.outbox.wake()
    return where, len(agenda), carried
