"""Publishing a briefing: plan who it reaches, ask the publisher, then queue it in the outbox.

Everything a broadcast needs is resolved first (`plan_briefing`): each channel is checked to
take a post, each user group is listed, bots and deactivated accounts are left out. Only a plan
with no problems is shown to the publisher for confirmation, so an unknown channel or a group
Slack cannot list stops the publish before anything is sent. Channel posts and DMs alike then go
through the outbox (`bot/sender.py`): paced, and exactly once across crashes.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from bot.audiences import AudienceUnavailable
from bot.briefing_message import build_briefing_message, notification_text
from bot.content import Briefing, load_briefings
from bot.content.audiences import load_named_audiences
from bot.content.composed import composed_briefing
from bot.storage.outbox import Plan, PlannedEntry, Prepared

if TYPE_CHECKING:
    from bot.deps import Deps


logger = logging.getLogger(__name__)


class NobodyToReach(Exception):
    """The audience resolved to nobody at all: refused rather than sent to no one."""


async def load_library(deps: Deps) -> dict[str, Briefing]:
    """Read `content/` afresh, so an edited file is what gets published (off the event loop),
    with the briefings composed in Slack beside them (a file's id wins)."""
    tz = deps.config.timezone
    library = await asyncio.to_thread(load_briefings, deps.config.content_dir, tz)
    named = (await asyncio.to_thread(load_named_audiences, deps.config.content_dir))[0]
    for draft in await deps.storage.drafts.all():
        if draft.id in library:
            continue
        try:
            library[draft.id] = composed_briefing(draft.id, draft.version, draft.fields, tz, named)
        except ValueError:  # its audience names one no longer defined: the composer says so
            logger.warning("composed briefing %s left out: its named audience is gone", draft.id)
    return library


async def plan_briefing(deps: Deps, briefing: Briefing, published_by: str) -> Plan:
    """Who the briefing reaches and how, resolved now; raises `AudienceUnavailable` naming every
    entry that cannot be reached, or `NobodyToReach`.

    Channels are posted to unless `deliver: dm`; with `dm` or `both` their members are also
    messaged. User groups and people are always messaged. With `deliver: channel`, anyone a
    channel post reaches gets no DM as well: one copy each.
    """
    posting = briefing.deliver != "dm"
    resolution = await deps.audiences.resolve(briefing.audience, posting=posting)
    in_posted_channels = {
        p for r in resolution.entries if r.entry.kind == "channel" and posting for p in r.people
    }
    entries = []
    for resolved in resolution.entries:
        is_channel = resolved.entry.kind == "channel"
        post = is_channel and posting
        if is_channel:
            people = resolved.people if briefing.deliver in ("dm", "both") else ()
        elif briefing.deliver == "channel":
            people = tuple(p for p in resolved.people if p not in in_posted_channels)
        else:
            people = resolved.people
        entries.append(
            PlannedEntry(
                raw=resolved.entry.raw,
                ref=resolved.ref,
                post=post,
                members=resolved.people if post else (),
                people=people,
                skipped=resolved.skipped,
            )
        )
    now = deps.clock()
    corrects = None
    if briefing.correction:
        dms, posts = await deps.storage.outbox.earlier_copies(briefing.id, briefing.version)
        corrects = now.isoformat() if dms or posts else None
    teams = await deps.audiences.teams(deps.config.teams) if deps.config.teams else None
    check = _check_as_sent(briefing)
    check_version = briefing.version
    if check and corrects and not briefing.reacknowledge:
        # A correction that does not matter keeps the check people may have taken already, if
        # its questions are the same: answers before and after it count together.
        earlier = await deps.storage.checks.latest(briefing.id)
        if earlier is not None and earlier.open_at(now) and _same_check(earlier, check):
            check, check_version = None, earlier.version
    blocks = build_briefing_message(
        briefing,
        published_by=published_by,
        published_at=now.isoformat(),
        tz=deps.config.timezone,
        corrected_at=corrects,
        check_version=check_version,
    )
    plan = Plan(
        briefing_id=briefing.id,
        version=briefing.version,
        title=briefing.title,
        acknowledge=briefing.acknowledge,
        published_by=published_by,
        message={"text": notification_text(briefing), "blocks": [b.to_dict() for b in blocks]},
        entries=tuple(entries),
        correction=briefing.correction,
        reacknowledge=briefing.reacknowledge,
        remind_after_s=(
            int(briefing.remind_after.total_seconds()) if briefing.remind_after else None
        ),
        check=check,
        teams=teams,
    )
    if not plan.people and not (corrects and briefing.correction):
        raise NobodyToReach(briefing.title)
    return plan


def _check_as_sent(briefing: Briefing) -> dict[str, Any] | None:
    """The briefing's comprehension check, kept with the broadcast: answers are marked against
    what people were asked, whatever the file says later."""
    check = briefing.check
    if check is None:
        return None
    return {
        "questions": [
            {"ask": q.ask, "options": list(q.options), "answer": q.answer, "explain": q.explain}
            for q in check.questions
        ],
        "clarity": check.clarity,
        "mode": check.mode,
        "closes_after_s": int(check.closes_after.total_seconds()),
    }


def _same_check(earlier: Any, check: dict[str, Any]) -> bool:
    return bool(
        earlier.questions == check["questions"]
        and earlier.mode == check["mode"]
        and earlier.clarity == bool(check["clarity"])
    )


async def send_planned(deps: Deps, plan: Plan) -> Prepared:
    """Queue a plan with no confirmation (a schedule the publisher confirmed earlier)."""
    prepared = await deps.storage.outbox.prepare(plan, deps.clock())
    deps.outbox.wake()
    return prepared


__all__ = ["AudienceUnavailable", "NobodyToReach", "load_library", "plan_briefing", "send_planned"]
