"""The surgery's timed work: each forum's agenda, drawn up at its meeting's cut-off.

The job runs every minute (and at start), over our own tables: `agendas` says which were
drawn up, so a restart neither loses nor repeats one.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from bot.doctor import FORUM_SETTINGS
from bot.slack.roles import ENGAGEMENT_LEAD
from bot.storage import utc_iso
from bot.timefmt import format_local
from handlers.surgery.blocks import build_agenda_message
from handlers.surgery.channels import checked, how_to_set
from handlers.surgery.rules import agenda_due, agenda_worth_drawing, choose_agenda

if TYPE_CHECKING:
    from bot.deps import Deps

logger = logging.getLogger(__name__)

# The setting that names each forum's channel, for telling a lead how to set one.


async def draw_agendas(deps: Deps) -> None:
    """At each forum's cut-off, its next meeting's agenda, once (rebuilt from the
    database at every start: `agendas` says which were drawn up)."""
    for forum in deps.config.forums:
        await draw_agenda(deps, forum)
    await deps.storage.questions.scrub()  # a WAL a reader kept from being emptied at once


@dataclass(frozen=True)
class Drawn:
    """What became of a meeting's agenda: posted in its channel, sent to the engagement leads
    (no channel the bot can post in: `why`, and `how` to set one), drawn up `already`,
    `not_due`, or `nowhere` to go (no channel, and no leads Slack could name)."""

    status: Literal["posted", "to_leads", "already", "not_due", "nowhere"]
    where: str = ""
    chosen: int = 0
    carried: int = 0
    why: str = ""
    how: str = ""
    drawn_at: str | None = None


async def draw_agenda(deps: Deps, forum: str, *, early: bool = False, by: str = "") -> Drawn:
    """The next meeting's agenda for `forum`, drawn up and queued once: at its cut-off, or
    `early` when a lead (`by`) asks. It goes to the forum's channel; when the bot cannot post
    there (a new workspace has no #staff-surgery), to the engagement leads by DM, saying why
    and how to set a channel, so the meeting still has its agenda."""
    now = deps.clock()
    rule, where = deps.config.forums[forum]
    meeting = rule.next_after(now, deps.config.timezone)
    cutoff = rule.cutoff(meeting, deps.config.agenda_cutoff_days)
    if not agenda_due(now, cutoff, early=early):
        return Drawn("not_due")
    if drawn_at := await deps.storage.questions.agenda_drawn(forum, meeting):
        return Drawn("already", drawn_at=drawn_at)
    if not early and not agenda_worth_drawing(await deps.storage.questions.count_on_board(forum)):
        return Drawn("not_due")
    channel, why = await checked(deps, where)
    how = "" if channel else how_to_set(where, FORUM_SETTINGS.get(forum, "SURGERY_CHANNEL"))
    if channel:
        targets = [("channel", channel)]
    else:
        leads = await deps.roles.members(ENGAGEMENT_LEAD)
        people = sorted((leads or set()) | ({by} if by else set()))
        if not people:
            return Drawn("nowhere", why=why, how=how)
        targets = [("dm", person) for person in people]
    when = format_local(utc_iso(meeting), deps.config.timezone)
    note = "" if channel else f"_For engagement leads: {why}, so this agenda comes to you. {how}_"
    drawn = await deps.storage.questions.draw_agenda(
        forum=forum,
        meeting_at=meeting,
        targets=targets,
        choose=functools.partial(choose_agenda, size=deps.config.agenda_size),
        render=functools.partial(build_agenda_message, forum, when, note=note),
        now=now,
    )
    if drawn is None:
        return Drawn("already", drawn_at=await deps.storage.questions.agenda_drawn(forum, meeting))
    agenda, carried = drawn  # as the posted agenda says
    logger.info("%s agenda drawn up: %d question(s)", forum, len(agenda))
    deps.outbox.wake()
    status: Literal["posted", "to_leads"] = "posted" if channel else "to_leads"
    return Drawn(status, where, len(agenda), carried, why, how)
