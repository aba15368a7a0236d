"""Who has not acknowledged a briefing, by name, and its one reminder sent now.

`/brief waiting <id>`, and the **Who hasn't acknowledged** button under `/brief status`, show
its publisher (a senior manager) or an engagement lead, privately, the people the latest
version reached who have not acknowledged it: mentions sorted by name, a page at a time, as of
now, leaving out deactivated accounts and bots. **Send the reminder now** (after Slack's
"are you sure?") queues the round's one reminder through the outbox to those still waiting, if
it has not gone; if it has, it says when. Every listing and every press is kept in
`results_audit` (`/engage audit` shows it); names are never counted into a figure.

The list is a store half that records nothing (`accept_waiting`) and a follow-up that checks the
role, reads the list, audits the view and answers (`show_waiting`); the reminder is a store half
that checks the role afresh and queues in one transaction before Slack hears back
(`store_remind_now`), and a follow-up that wakes the outbox and says what happened.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from bot.audiences import AudienceUnavailable
from bot.briefing_message import parse_ack_value
from bot.content.teams import load_teams
from bot.slack.mrkdwn import escape
from bot.slack.roles import ENGAGEMENT_LEAD, SENIOR_MANAGER, Verdict
from bot.storage.acknowledgements import Unacknowledged
from bot.storage.audit import LISTED, REMINDED
from bot.timefmt import format_local
from handlers.briefings.reminders import end_of_working_day, in_working_hours, reminder_message
from handlers.briefings.waiting_blocks import (
    WaitingList,
    build_waiting,
    parse_waiting_value,
    waiting_text,
)

if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncAck

    from bot.deps import Deps

logger = logging.getLogger(__name__)

Answer = tuple[str, list[dict[str, Any]] | None]

ROLE_UNKNOWN = "I couldn't check your role just now. Try again soon."
NOT_PUBLISHER = (
    "Senior managers can see who hasn't acknowledged the briefings they published; engagement "
    "leads can see it for any briefing."
)
CLICK_WRITE_TIMEOUT = 2.0  # the reminder is queued before Slack hears back: keep inside 3 s


def _refused(deps: Deps) -> str:
    contact = escape(deps.config.access_contact)
    return (
        "Only engagement leads, and senior managers for the briefings they published, can see "
        f"who hasn't acknowledged a briefing. If you should be able to, ask {contact}."
    )


def may_list(verdict: Verdict, user_id: str, published_by: str | None) -> bool:
    """May this person see every name? Engagement leads for any briefing, senior managers for
    those they published. A listed team's managers see their own team's (`managed_teams`)."""
    if verdict.holds(ENGAGEMENT_LEAD):
        return True
    return verdict.holds(SENIOR_MANAGER) and published_by == user_id


async def listing(deps: Deps, user_id: str, briefing_id: str, offset: int = 0) -> Answer:
    """The private answer to `/brief waiting <id>` and to the list's buttons: (text, blocks)."""
    verdict = await deps.roles.allows(user_id, {ENGAGEMENT_LEAD, SENIOR_MANAGER})
    managed = [] if verdict.holds(ENGAGEMENT_LEAD) else await managed_teams(deps, user_id)
    if verdict.unknown and not managed:
        return ROLE_UNKNOWN, None
    if not verdict.allowed and not managed:
        return _refused(deps), None
    briefing_id = briefing_id.strip().lower()
    if not briefing_id:
        return "Which briefing? For example `/brief waiting recruitment-funding`.", None
    version = await deps.storage.publications.latest_posted_version(briefing_id)
    found = (
        None
        if version is None
        else await deps.storage.acknowledgements.unacknowledged(briefing_id, version)
    )
    if found is None:
        return f"No briefing called `{escape(briefing_id[:64])}` has been sent.", None
    own_team_only = not may_list(verdict, user_id, found.published_by)
    if own_team_only:
        if not managed:
            return NOT_PUBLISHER, None
        listed = await deps.storage.dashboard.teams_when_sent(briefing_id, found.version)
        if found.asks and not set(managed) & set(listed or ()):
            return not_by_team(found, before_teams=listed is None), None
        # A team manager: their own teams' people, as the teams stood when it was sent.
        team = await deps.storage.acknowledgements.in_teams(briefing_id, found.version, managed)
        found = replace(found, people=tuple(p for p in found.people if p in team))
    if not found.asks:
        return (
            f"*{escape(found.title)}* does not ask people to acknowledge it, so there is nobody "
            "to list.",
            None,
        )
    page = await _page(deps, found, offset)
    if own_team_only:  # the one reminder is the publisher's and the leads' to send
        page = replace(page, can_remind=False)
    now = deps.clock()
    await deps.storage.audit.record(
        user_id=user_id, action=LISTED, briefing_id=briefing_id, version=found.version, now=now
    )
    return waiting_text(page), [b.to_dict() for b in build_waiting(page)]


def not_by_team(found: Unacknowledged, *, before_teams: bool) -> str:
    """What a team manager is told of a version whose people were not kept by team when it
    was sent: it went before teams (or before their team) were listed, so nobody can say
    which of those still to acknowledge were in their team then. Never "nobody", which would
    read as everyone in the team having acknowledged; and who can list them instead."""
    version = f" (version {found.version})" if found.version > 1 else ""
    when = "teams were listed" if before_teams else "your team was listed"
    publisher = (
        f"its publisher, <@{found.published_by}>," if found.published_by else "its publisher"
    )
    return (
        f"*{escape(found.title)}*{version} was sent before {when}, so who it reached was not "
        "kept by team and it cannot be broken down by team: I can't tell which of the people "
        "still to acknowledge it are in your team. To see who hasn't acknowledged it, ask "
        f"{publisher} or an engagement lead."
    )


async def managed_teams(deps: Deps, user_id: str) -> list[str]:
    """The teams (`TEAMS`, described in content/teams.yaml) this person manages: named as a
    manager by id, or in a manager user group as Slack lists it now. A group Slack cannot
    list grants nothing."""
    if not deps.config.teams:
        return []
    teams = await asyncio.to_thread(load_teams, deps.config.content_dir)
    managed = []
    for handle, team in teams[0].items():
        if handle not in deps.config.teams:
            continue
        if user_id in team.managers:
            managed.append(handle)
            continue
        groups = [m for m in team.managers if m.startswith("@")]
        try:
            members = await deps.audiences.teams(groups) if groups else {}
        except AudienceUnavailable:
            continue
        if any(user_id in people for people in members.values()):
            managed.append(handle)
    return managed


async def _page(deps: Deps, found: Unacknowledged, offset: int) -> WaitingList:
    """One page: the people still to acknowledge who are people now (not deactivated, not
    bots), sorted by name, and where the reminder round stands."""
    tz = deps.config.timezone
    named = await deps.people.named(found.people)
    if named is None:
        people = list(found.people)
    else:
        people = sorted(
            (user for user in found.people if user in named),
            key=lambda user: (named[user].casefold(), user),
        )
    standing = await deps.storage.reminders.standing(found.briefing_id, found.version)
    reminded_at = standing.reminded_at if standing else None
    stopped = bool(standing and standing.stopped)
    return WaitingList(
        briefing_id=found.briefing_id,
        version=found.version,
        title=found.title,
        people=tuple(people),
        as_of=format_local(deps.clock(), tz),
        offset=offset,
        reminded_at=format_local(reminded_at, tz) if reminded_at else None,
        can_remind=bool(people) and standing is not None and not stopped and not reminded_at,
        stopped=stopped,
        unchecked=named is None,
    )


# -- the list's buttons ------------------------------------------------------------------------


async def accept_waiting(deps: Deps, ack: AsyncAck) -> None:
    """Listing records nothing before Slack hears back (the audit row is written with the
    answer, once the role is known)."""
    await ack()


async def show_waiting(
    deps: Deps, said: None, body: dict[str, Any], action: dict[str, Any]
) -> None:
    """**Who hasn't acknowledged** (under `/brief status`) or **Next**: the list, privately."""
    parsed = parse_waiting_value(action.get("value"))
    url = body.get("response_url")
    if not url:
        return
    if parsed is None:
        await deps.replies.respond(str(url), "Sorry, I can't find that briefing any more.")
        return
    text, blocks = await listing(deps, body["user"]["id"], parsed[0], parsed[1])
    await deps.replies.respond(str(url), text, blocks=blocks)


# -- the reminder, now -------------------------------------------------------------------------


@dataclass(frozen=True)
class RemindOutcome:
    """What a **Send the reminder now** press did, to say beside the list."""

    text: str
    queued: bool = False


async def store_remind_now(
    deps: Deps, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]
) -> RemindOutcome:
    """The role is asked of Slack afresh (it sends to many), then the round's one reminder is
    queued in one transaction, before Slack hears back."""
    outcome = await _remind(deps, body["user"]["id"], action.get("value"))
    await ack()
    return outcome


async def _remind(deps: Deps, user_id: str, value: str | None) -> RemindOutcome:
    parsed = parse_ack_value(value)
    if parsed is None:
        return RemindOutcome("Sorry, I can't find that briefing any more, so nothing was sent.")
    briefing_id, version = parsed
    verdict = await deps.roles.allows(user_id, {ENGAGEMENT_LEAD, SENIOR_MANAGER}, fresh=True)
    if verdict.unknown:
        return RemindOutcome("I couldn't check your role just now, so nothing was sent.")
    found = await deps.storage.acknowledgements.unacknowledged(briefing_id, version)
    if not verdict.allowed or found is None or not may_list(verdict, user_id, found.published_by):
        return RemindOutcome(f"{_refused(deps)} Nothing was sent.")
    if await deps.storage.publications.latest_posted_version(briefing_id) != version:
        return RemindOutcome(
            f"A newer version of *{escape(found.title)}* has gone out since, so nothing was "
            f"sent. `/brief waiting {briefing_id}` lists who it is waiting on now."
        )
    now, config = deps.clock(), deps.config
    if not in_working_hours(now, config.timezone, config.working_hours, config.working_days):
        start, end = (f"{t:%H:%M}" for t in config.working_hours)
        return RemindOutcome(
            f"Reminders only go in working hours ({start}–{end} on working days), so nothing "
            "was sent. Press it again then."
        )
    standing = await deps.storage.reminders.standing(briefing_id, version)
    if standing is None:
        return RemindOutcome(f"*{escape(found.title)}* has no reminder to send.")
    await deps.storage.audit.record(
        user_id=user_id, action=REMINDED, briefing_id=briefing_id, version=version, now=now
    )
    reminded = await deps.storage.reminders.remind_now(
        standing.round,
        reminder_message(standing.round, config.timezone),
        now,
        send_by=end_of_working_day(now, config.timezone, config.working_hours),
        people=await deps.people.people(),
        timeout=CLICK_WRITE_TIMEOUT,
    )
    title = f"*{escape(found.title)}*"
    if reminded.stopped:
        return RemindOutcome(f"{title} was cancelled, so no reminder goes.")
    if reminded.reminded_at:
        went = format_local(reminded.reminded_at, config.timezone)
        return RemindOutcome(
            f"The reminder for {title} went on {went}, so nothing more was sent: each person "
            "gets one reminder."
        )
    if not reminded.sent:
        return RemindOutcome(
            f"Everyone {title} reached has acknowledged it since: nobody to remind."
        )
    people = f"{reminded.sent:,} {'person' if reminded.sent == 1 else 'people'}"
    return RemindOutcome(
        f"Sending the reminder for {title} to the {people} who hadn't acknowledged it: one DM "
        "each, within Slack's limits. Nobody gets a second.",
        queued=True,
    )


async def after_remind_now(deps: Deps, said: RemindOutcome, body: dict[str, Any]) -> None:
    """Wake the outbox if anything was queued; say what happened under the list."""
    if said.queued:
        deps.outbox.wake()
    url = body.get("response_url")
    if url:
        await deps.replies.respond(str(url), said.text)
    else:
        await deps.replies.tell(body, said.text)
