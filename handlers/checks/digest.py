"""The weekly digest to engagement leads: once a week (`DIGEST_AT`, default Mon 09:00 in
`TIMEZONE`), a DM to each lead of what is new since the last one: the briefings first sent,
each with its funnel as the disclosure layer released it; the checks closing in the coming
week; the surgery board's top questions by votes; the practice-search gaps.

When it goes. The job runs every minute (and at start). A week's digest is due once its
occurrence of `DIGEST_AT` has passed and no row for it (or a later one) is in `digest_runs`;
its row and its message to the leads are written in one transaction (bot/storage/digests.py)
and sent through the outbox: once a week, across restarts and crashes. A bot that was stopped
at the time sends it at its next start, if that comes before the next week's time; a week
missed whole is not sent late, and the next digest covers it (it starts where the last one
ended). A new database's first run records the week as `started` and sends nothing: the first
digest covers from then, so installing the bot mid-week does not send one at once.

A week with nothing new (no briefing first sent, no check closing in the coming week, no
question put on the board, no practice gap) is recorded as skipped, and nobody gets a message;
the disclosure layer is not asked. While Slack cannot say who the leads are it waits, and
tries again next minute.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.slack.roles import ENGAGEMENT_LEAD
from bot.storage.digests import Status
from bot.storage.writer import utc_iso
from bot.timefmt import format_local
from handlers.checks.digest_blocks import Digest, build_digest, gaps_from
from handlers.checks.trends import Since, gather_trends

if TYPE_CHECKING:
    from bot.deps import Deps

logger = logging.getLogger(__name__)

JOB = "checks:digest"
BRIEFINGS = 10  # the newest new briefings shown, each with its funnel
QUESTIONS = 5  # the board's top by votes
GAPS = 5  # the most searched practice gaps
AHEAD = timedelta(days=7)  # checks closing within this of the digest


async def send_digest_if_due(deps: Deps) -> None:
    """The job: this week's digest, if its time has come and it has not been recorded."""
    rule = deps.config.digest_at
    if rule is None:  # DIGEST_AT=off
        return
    now = deps.clock()
    period = rule.latest(now, deps.config.timezone)
    last = await deps.storage.digests.last_run()
    if last is not None and datetime.fromisoformat(last.period) >= period:
        return  # this week's is recorded (or a later one, DIGEST_AT having moved earlier)
    gap = await deps.storage.restores.last_gap()
    if gap is not None and gap.holds(period):
        # It may have gone before the restore: not again. The next one covers from now.
        number = await _unsent(deps, period, "held", None, now)
        logger.warning("weekly digest %s held: due before the restore, not recorded", number)
        return
    if last is None:
        await _unsent(deps, period, "started", None, now)
        logger.info("weekly digest: first start; the first digest will cover from now")
        return
    digest = await look(deps, since=datetime.fromisoformat(last.until), until=now)
    if digest.items == 0:
        number = await _unsent(deps, period, "skipped", digest, now)
        logger.info("weekly digest %s skipped: nothing new", number)
        return
    leads = await deps.roles.members(ENGAGEMENT_LEAD)
    if leads is None:
        logger.warning("weekly digest waits: Slack could not say who the engagement leads are")
        return
    if not leads:
        number = await _unsent(deps, period, "skipped", digest, now)
        logger.warning("weekly digest %s skipped: ENGAGEMENT_LEADS names nobody", number)
        return
    digest = await release(deps, digest)
    number = await deps.storage.digests.record(
        period=period,
        status="sent",
        items=digest.items,
        since=digest.since,
        until=now,
        message=build_digest(digest, deps.config.timezone),
        leads=sorted(leads),
        now=now,
    )
    if number is not None:
        logger.info("weekly digest %s queued to %d engagement leads", number, len(leads))
        deps.outbox.wake()


async def _unsent(
    deps: Deps, period: datetime, status: Status, digest: Digest | None, now: datetime
) -> int | None:
    """Record a week whose digest is not sent (a first start, nothing new, nobody to send
    it to): the next one starts from now."""
    return await deps.storage.digests.record(
        period=period,
        status=status,
        items=digest.items if digest else 0,
        since=digest.since if digest else None,
        until=now,
        message=None,
        leads=[],
        now=now,
    )


async def look(deps: Deps, *, since: datetime, until: datetime) -> Digest:
    """What is new since `since`, without asking the disclosure layer for any figure: a week
    with nothing new releases nothing. Briefings are counted here, their figures come later."""
    storage = deps.storage
    _, new_briefings = await storage.publications.sent_briefings(since=utc_iso(since), limit=1)
    rule = deps.config.digest_at
    return Digest(
        since=since,
        until=until,
        new_briefings=new_briefings,
        trend=None,
        closing=await storage.digests.closing(until, until + AHEAD),
        questions=await storage.questions.board(order="votes", voter="", limit=QUESTIONS),
        new_questions=await storage.digests.new_on_board(since),
        gaps=await storage.gaps.gaps(gaps_from(since, deps.config.timezone), limit=GAPS),
        schedule=_schedule(rule.text if rule else ""),
    )


async def release(deps: Deps, digest: Digest) -> Digest:
    """The new briefings' figures, as the disclosure layer releases them (and keeps: the
    digest shows what `/engage trends` and the results show)."""
    label = f"since {format_local(digest.since, deps.config.timezone)}"
    trend = await gather_trends(
        deps.storage, digest.until, since=Since(digest.since, label), limit=BRIEFINGS
    )
    return replace(digest, trend=trend, new_briefings=trend.total)


def _schedule(text: str) -> str:
    """`every monday 09:00` -> `every Monday at 09:00`."""
    words = text.split()
    if len(words) != 3:
        return "once a week"
    return f"every {words[1].capitalize()} at {words[2]}"
