"""What the checks feature's listeners share: the words they answer with, the store half
that records nothing, and who may follow a check up."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncAck

from bot.slack.roles import ENGAGEMENT_LEAD, SENIOR_MANAGER
from bot.storage.checks import Check

if TYPE_CHECKING:
    from bot.deps import Deps

HOME_SECTION = "checks"
CLOSE_JOB = "checks:close"
CHECK_TITLE = "30-second check"
FOLLOW_UP_CLOSED = (
    "This check has closed, so there is nothing left to follow up: its results are final."
)
CLOSED = "This check has closed, so answers are no longer taken. Thank you for looking."
TAKEN = "You've taken this check already: thank you. Your answers are recorded."
GONE = "Sorry, I can't find that check, so nothing was recorded."
NOT_ALLOWED = (
    "Only engagement leads, and senior managers for their own briefings, can see a check's results."
)


async def accept(deps: Deps, ack: AsyncAck) -> None:
    """Opening a modal records nothing: answer Slack at once, open it in the follow-up."""
    await ack()


async def may_follow_up(deps: Deps, user_id: str, check: Check) -> bool:
    """Engagement leads, and the senior manager who published it. When Slack cannot say
    who holds a role, nobody may: a follow-up messages people."""
    verdict = await deps.roles.allows(user_id, {SENIOR_MANAGER, ENGAGEMENT_LEAD})
    if verdict.holds(ENGAGEMENT_LEAD):
        return True
    return (
        verdict.holds(SENIOR_MANAGER) and await deps.storage.checks.published_by(check) == user_id
    )
