"""The checks feature's section of the Home tab: the open checks this person has yet to take;
for an engagement lead, the dashboard (the latest briefings with their funnel, the checks
closing soon, the follow-ups under way); for a senior manager, how their latest broadcasts'
delivery is going (`dashboard_blocks.py`)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from slack_sdk.models.blocks import Block

from bot.slack.roles import ENGAGEMENT_LEAD, SENIOR_MANAGER
from bot.storage.writer import utc_iso
from handlers.checks.blocks import build_home_section
from handlers.checks.dashboard_blocks import (
    CLOSING_DAYS,
    FOLLOW_UP_DAYS,
    OWN_BROADCASTS,
    RECENT,
    LeadDashboard,
    build_lead_dashboard,
    build_own_broadcasts,
)
from handlers.checks.trends import gather_trends

if TYPE_CHECKING:
    from datetime import datetime

    from bot.deps import Deps


async def home_section(deps: Deps, user_id: str) -> list[Block]:
    """Checks on versions this person received and has not taken, while they are open; then
    an engagement lead's dashboard, and a senior manager's own broadcasts' delivery. Neither
    when Slack cannot say who they are: Home is built for everyone and must not fail."""
    now, tz = deps.clock(), deps.config.timezone
    waiting = await deps.storage.checks.waiting_for(user_id, now)
    blocks = build_home_section(waiting, tz)
    verdict = await deps.roles.allows(user_id, {ENGAGEMENT_LEAD, SENIOR_MANAGER})
    if verdict.allowed and verdict.holds(ENGAGEMENT_LEAD):
        blocks += build_lead_dashboard(await gather_dashboard(deps, now), tz)
    if verdict.allowed and verdict.holds(SENIOR_MANAGER):
        mine = await deps.storage.dashboard.broadcasts_by(user_id, limit=OWN_BROADCASTS)
        blocks += build_own_broadcasts(mine, tz)
    return blocks


async def gather_dashboard(deps: Deps, now: datetime) -> LeadDashboard:
    """The newest RECENT briefings released as `/engage trends` releases them (one release
    per check, acknowledgements in one batch), and what was sent and closes soon."""
    storage = deps.storage
    trend = await gather_trends(storage, now, limit=RECENT)
    closing, closing_in_all = await storage.dashboard.closing_soon(
        utc_iso(now), utc_iso(now + timedelta(days=CLOSING_DAYS))
    )
    follow_ups = await storage.dashboard.follow_ups_since(
        utc_iso(now - timedelta(days=FOLLOW_UP_DAYS))
    )
    return LeadDashboard(
        trend.rows,
        trend.total,
        closing,
        closing_in_all,
        follow_ups,
        storage.disclosure.min_group,
        now,
    )
