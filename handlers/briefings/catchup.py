"""Catch-up for people who join an audience after a briefing went out.

Four ways in: Slack's `member_joined_channel` (a channel audience), `subteam_members_changed`
(people added to a user-group audience, announced by `deps.usergroups`), `team_join` (a new
starter, checked against the user-group audiences), and a daily reconciliation at the start of
working hours (and at each start) that lists every current audience afresh: it mends anything
an event missed (a stop, a lost delivery). What a joiner gets, once, through the outbox, is in
`bot/storage/catchup.py`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.slack.usergroups import UserGroupsUnavailable
from bot.storage.catchup import CaughtUp, Current
from handlers.briefings.reminders import in_working_hours

if TYPE_CHECKING:
    from bot.deps import Deps

logger = logging.getLogger(__name__)

JOB = "briefings:catch-up"


async def _current(deps: Deps) -> list[Current]:
    if deps.config.catch_up_days <= 0:
        return []
    since = deps.clock() - timedelta(days=deps.config.catch_up_days)
    return await deps.storage.catchups.current(since)


async def joined_channel(deps: Deps, user_id: str, channel_id: str) -> CaughtUp:
    """Someone joined a channel: catch them up on what its audience entries were sent."""
    entries = [e for e in await _current(deps) if e.ref == channel_id]
    if not entries or user_id == deps.bot_user_id:
        return CaughtUp()
    if await deps.people.is_person(user_id) is not True:
        return CaughtUp()  # a bot, a deactivated account, or unknown: the daily run decides
    return await _add(deps, entries, {channel_id: [user_id]})


async def joined_group(deps: Deps, group_id: str, added: tuple[str, ...]) -> CaughtUp:
    """People were added to a user group: catch them up on what its audience entries were
    sent (those who are people; a bot or a deactivated account is left out)."""
    entries = [e for e in await _current(deps) if e.ref == group_id]
    if not entries:
        return CaughtUp()
    people = await deps.people.people(expected=added)
    if people is None:
        return CaughtUp()  # Slack could not say who is a person: the daily run decides
    joiners = [user for user in added if user in people and user != deps.bot_user_id]
    return await _add(deps, entries, {group_id: joiners})


async def joined_workspace(deps: Deps, user_id: str) -> CaughtUp:
    """A new starter: catch them up on the user-group audiences they are already in."""
    entries = [e for e in await _current(deps) if (e.ref or "").startswith("S")]
    members = {}
    for ref in {e.ref for e in entries if e.ref}:
        listed = await _members(deps, ref)
        members[ref] = [user_id] if listed and user_id in listed else []
    return await _add(deps, entries, members)


async def reconcile(deps: Deps) -> CaughtUp:
    """List every current audience afresh and catch up whoever is missing (daily)."""
    entries = await _current(deps)
    if any((e.ref or "").startswith("S") for e in entries):
        deps.usergroups.expire("the daily catch-up lists every audience afresh")
    members: dict[str, list[str]] = {}
    for ref in {e.ref for e in entries if e.ref and e.ref[0] in "CGS"}:
        listed = await _members(deps, ref)
        if listed is None:
            continue  # tried again tomorrow; nothing is lost meanwhile
        people = await deps.people.people(expected=listed)
        if people is not None:
            members[ref] = [m for m in listed if m in people and m != deps.bot_user_id]
    caught = await _add(deps, entries, members)
    if caught.messaged or caught.on_home:
        logger.info(
            "catch-up: %d direct message(s) queued, %d shown on Home",
            caught.messaged,
            caught.on_home,
        )
    return caught


async def _add(deps: Deps, entries: list[Current], members: dict[str, list[str]]) -> CaughtUp:
    # A channel that was also messaged directly (`deliver: both`): its joiners get the DM.
    by_dm = {(e.briefing_id, e.version, e.ref) for e in entries if e.by_dm}
    entries = [e for e in entries if e.by_dm or (e.briefing_id, e.version, e.ref) not in by_dm]
    messaged = on_home = 0
    homes: set[str] = set()
    for entry in entries:
        people = members.get(entry.ref or "", [])
        if not people:
            continue
        done = await deps.storage.catchups.add(
            entry, people, deps.clock(), not_before=next_working_time(deps)
        )
        messaged += done.messaged
        on_home += done.on_home
        homes.update(done.shown)
    if messaged:
        deps.outbox.wake()
    for person in homes:  # refreshed now, so it is there the next time they look
        try:
            await deps.home.publish(person)
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
            logger.warning("could not refresh a Home tab (%s)", type(error).__name__)
    return CaughtUp(messaged, on_home, tuple(sorted(homes)))


def next_working_time(deps: Deps) -> datetime:
    """Now, inside working hours; else when they next begin: a joiner at night is sent the
    briefing in the morning, like a reminder would be."""
    config = deps.config
    now = deps.clock()
    if in_working_hours(now, config.timezone, config.working_hours, config.working_days):
        return now
    local = now.astimezone(config.timezone)
    for days in range(8):
        day = (local + timedelta(days=days)).date()
        start = datetime.combine(day, config.working_hours[0], tzinfo=config.timezone)
        if day.weekday() in config.working_days and start > local:
            return start
    return now  # no working days configured: send at once


async def _members(deps: Deps, ref: str) -> list[str] | None:
    try:
        return await deps.audiences.members_of(ref)
    except (SlackApiError, UserGroupsUnavailable, aiohttp.ClientError, TimeoutError) as error:
        logger.warning("catch-up could not list an audience (%s)", type(error).__name__)
        return None
