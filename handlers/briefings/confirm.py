"""The composer's preview of a briefing: its delivered copy and the confirmation to send it.

Shared by the composer (handlers/briefings/compose.py) and the publish command's confirmation,
so a briefing written in Slack is confirmed exactly as a content briefing is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.content import Briefing
from bot.timefmt import format_local
from handlers.briefings.blocks import build_confirmation
from handlers.briefings.publish import AudienceUnavailable, NobodyToReach, plan_briefing

if TYPE_CHECKING:
    from bot.deps import Deps


async def plan_and_confirm(
    deps: Deps, briefing: Briefing, user_id: str
) -> tuple[list[Any], list[Any]]:
    """The composer's preview: the plan's own message (the delivered copy) and the
    confirmation a content briefing gets, with each entry's size and Send / Cancel."""
    try:
        plan = await plan_briefing(deps, briefing, user_id)
    except AudienceUnavailable as error:
        problems = "\n".join(f"• {line}" for line in str(error).splitlines())
        raise ValueError(
            f"I can't reach everyone in the audience, so nothing can be sent yet:\n{problems}"
            "\nEdit the audience (or fix it in Slack), then preview again."
        ) from None
    except NobodyToReach:
        raise ValueError(
            "The audience has nobody in it (only bots or deactivated accounts, or empty "
            "groups). Edit the audience, then preview again."
        ) from None
    at = briefing.publish_at if briefing.publish_at and briefing.publish_at > deps.clock() else None
    earlier = await deps.storage.outbox.earlier_copies(briefing.id, briefing.version)
    token = await deps.storage.confirmations.ask(plan, at=at, now=deps.clock())
    blocks = build_confirmation(
        plan,
        token,
        at_text=format_local(at, deps.config.timezone) if at else None,
        earlier=earlier,
        twice_above=deps.config.confirm_twice_above,
    )
    return list(plan.message["blocks"]), [b.to_dict() for b in blocks]
