"""Briefings: `/brief` for senior managers (and its composer, compose.py), the Acknowledge button
for everyone, the publisher's confirmation, who has not acknowledged and its reminder now
(waiting.py), catch-up for joiners, the Home section that lists
what is waiting for a person's acknowledgement, and the timed sends (circulars, scheduled
briefings, reminders, the daily catch-up).

`register` only wires; the listeners live by surface: commands.py (`/brief`), actions.py
(buttons), events.py (joins), home.py (the Home section). Every listener is a store half and a
follow-up (see `bot/deps.py`): the store half records what the person did and answers Slack;
the follow-up does what needs Slack (replies, posting, Home).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from bot.briefing_message import ACK_ACTION
from bot.deps import BUSY
from handlers.briefings import (
    actions,
    catchup,
    circulars,
    commands,
    compose,
    events,
    home,
    problems_home,
    reminders,
    schedule,
    waiting,
)
from handlers.briefings.actions import GONE, ROLE_UNCHECKED
from handlers.briefings.blocks import CANCEL_ACTION, CONFIRM_ACTION, CONFIRM_LARGE_ACTION
from handlers.briefings.commands import COMMAND, Reply, answer
from handlers.briefings.home import HOME_SECTION
from handlers.briefings.waiting_blocks import REMIND_NOW_ACTION, WAITING_ACTION

if TYPE_CHECKING:
    from slack_bolt.app.async_app import AsyncApp

    from bot.deps import Deps

__all__ = [
    "ACK_ACTION",
    "CANCEL_ACTION",
    "COMMAND",
    "CONFIRM_ACTION",
    "CONFIRM_LARGE_ACTION",
    "GONE",
    "HOME_SECTION",
    "ROLE_UNCHECKED",
    "Reply",
    "answer",
    "register",
]


def register(app: AsyncApp, deps: Deps) -> None:
    """Wire `/brief` (and the composer), the Acknowledge and confirmation buttons, joins,
    briefings' Home section and its timed jobs."""
    compose.register(app, deps)

    # Bolt tries listeners in the order they were added, at a cost for each: the hot path first.
    app.action(ACK_ACTION)(
        deps.work.listener(
            deps, actions.store_acknowledgement, follow_up=actions.thank_for_acknowledgement
        )
    )
    app.command(COMMAND)(
        deps.work.listener(deps, commands.accept, follow_up=commands.answer_brief, busy=BUSY)
    )
    confirming = deps.work.listener(
        deps, actions.store_confirmation, follow_up=actions.after_confirmation
    )
    for action_id in (CONFIRM_ACTION, CONFIRM_LARGE_ACTION, CANCEL_ACTION):
        app.action(action_id)(confirming)
    app.action(WAITING_ACTION)(
        deps.work.listener(deps, waiting.accept_waiting, follow_up=waiting.show_waiting)
    )
    app.action(REMIND_NOW_ACTION)(
        deps.work.listener(deps, waiting.store_remind_now, follow_up=waiting.after_remind_now)
    )
    deps.home.add_section(HOME_SECTION, functools.partial(home.waiting_section, deps), order=10)
    # Engagement leads: the content files left out for their problems, on top while any are.
    deps.home.add_section(
        problems_home.HOME_SECTION,
        functools.partial(problems_home.problems_section, deps),
        order=problems_home.HOME_ORDER,
    )

    # Once a minute: an issue is due at its schedule's time and recorded once per period.
    deps.scheduler.every(circulars.JOB, functools.partial(circulars.send_due, deps), seconds=60)
    # Rebuilt from the database at every start by construction: the job reads `schedules`.
    deps.scheduler.every(
        schedule.JOB, functools.partial(schedule.send_due, deps), seconds=schedule.POLL_SECONDS
    )
    deps.scheduler.every(
        reminders.JOB, functools.partial(reminders.send_due, deps), seconds=reminders.POLL_SECONDS
    )

    joiners = deps.work.listener(deps, events.note_joiner, follow_up=events.catch_up_joiner)
    app.event("member_joined_channel")(joiners)
    app.event("team_join")(joiners)
    # People added to a user group (Slack's subteam_members_changed, taken by the user-group
    # host, handlers/usergroups.py) are caught up at once, not by the next daily run.
    deps.usergroups.when_joined(functools.partial(catchup.joined_group, deps))

    # At the start of working hours on working days (what it sends arrives with the morning),
    # and at start-up (a day it was down for is not skipped).
    deps.scheduler.daily(
        catchup.JOB,
        functools.partial(catchup.reconcile, deps),
        at=deps.config.working_hours[0],
        days=deps.config.working_days,
        run_at_start=True,
    )
