"""Briefings' buttons: Acknowledge (everyone), and Send / Schedule it / Cancel on a publisher's
confirmation.

Each is a store half and a follow-up (see `bot/deps.py`): the store half records the click and
answers Slack, so a 200 means it is on disk; the follow-up says what happened, privately.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from bot.briefing_message import parse_ack_value
from bot.slack.mrkdwn import escape
from bot.slack.roles import ENGAGEMENT_LEAD, SENIOR_MANAGER
from bot.storage.acknowledgements import AckResult
from bot.storage.confirmations import Outcome
from handlers.briefings import compose
from handlers.briefings.blocks import (
    CANCEL_ACTION,
    CONFIRM_LARGE_ACTION,
    ack_reply,
    confirmation_reply,
)

if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncAck

    from bot.deps import Deps

logger = logging.getLogger(__name__)

GONE = "Sorry, I can't find that briefing any more, so nothing was recorded."
ROLE_UNCHECKED = "I couldn't check your role just now, so nothing was sent. Try again in a minute."


# -- Acknowledge -------------------------------------------------------------------------------


async def store_acknowledgement(
    deps: Deps, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]
) -> AckResult | None:
    """Acknowledge: the acknowledgement is committed before Slack hears back. None when the
    button names no briefing we hold (its value is unreadable)."""
    parsed = parse_ack_value(action.get("value"))
    result = None
    if parsed is not None:
        result = await deps.storage.acknowledgements.record_ack(
            briefing_id=parsed[0],
            version=parsed[1],
            user_id=body["user"]["id"],
            now=deps.clock(),
        )
    await ack()
    return result


async def thank_for_acknowledgement(
    deps: Deps, said: AckResult | None, body: dict[str, Any]
) -> None:
    """Acknowledge: a private "Thanks", on Home or under the message. A new acknowledgement
    changes the person's own Home (what waits for them) and the leads' (the released figures):
    both are marked for the Home refresh first, which never waits (`Home.soon`)."""
    if said is None:
        reply = GONE
    else:
        logger.info("acknowledgement %s", "recorded" if said.new else "repeated")
        if said.new:
            deps.home.soon([body["user"]["id"]], roles=(ENGAGEMENT_LEAD,))
        reply = ack_reply(said.title, said, deps.config.timezone)
    await deps.replies.tell(body, reply)


# -- the publisher's confirmation --------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """Why a Send or Schedule click sent nothing, said beside the confirmation."""

    text: str
    replace: bool  # the confirmation gives way to it; False keeps its buttons, to try again


async def store_confirmation(
    deps: Deps, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]
) -> Outcome | Refusal:
    """Confirm: the publisher's role is checked afresh, then the broadcast is queued (or
    scheduled) before Slack hears back. Cancel: the confirmation is closed."""
    user_id = body["user"]["id"]
    token = str(action.get("value") or "")
    if action["action_id"] == CANCEL_ACTION:
        outcome = await deps.storage.confirmations.cancel(token, user_id=user_id)
    else:
        refused = await refusal_at_click(deps, token, user_id)
        if refused is not None:
            await ack()
            return refused
        outcome = await deps.storage.confirmations.confirm(
            token,
            user_id=user_id,
            now=deps.clock(),
            twice_above=deps.config.confirm_twice_above,
            second=action["action_id"] == CONFIRM_LARGE_ACTION,
        )
    await ack()
    return outcome


async def refusal_at_click(deps: Deps, token: str, user_id: str) -> Refusal | None:
    """Why a Send or Schedule click on the publisher's own confirmation must send nothing;
    None to go ahead.

    The role is asked of Slack afresh: someone taken off the senior managers since the
    confirmation was shown is refused, and so is anyone when Slack cannot say, rather than
    trusting a list that may be minutes old. Other clicks (not theirs, done, gone) are
    `confirm`'s to answer.
    """
    if not await deps.storage.confirmations.awaits(token, user_id=user_id):
        return None
    verdict = await deps.roles.allows(user_id, {SENIOR_MANAGER}, fresh=True)
    if verdict.allowed:
        return None
    if verdict.unknown:
        logger.warning("a publish click was refused: the role check failed")
        return Refusal(ROLE_UNCHECKED, replace=False)
    logger.info("a publish click was refused: no longer a senior manager")
    return Refusal(
        "Only senior managers can send briefings, so nothing was sent. If you should be "
        f"able to, ask {escape(deps.config.access_contact)} to add you to the senior "
        "managers list.",
        replace=True,
    )


async def after_confirmation(deps: Deps, said: Outcome | Refusal, body: dict[str, Any]) -> None:
    """Confirm or cancel: the confirmation becomes what happened (or asks once more), or
    the click's refusal is said beside it."""
    blocks: list[dict[str, Any]] | None = None
    if isinstance(said, Refusal):
        text, replace = said.text, said.replace
    else:
        if said.status == "queued":
            deps.outbox.wake()
            # The publisher's Home lists their broadcasts (the rest follows its deliveries).
            deps.home.soon([body["user"]["id"]])
        token = str(((body.get("actions") or [{}])[0]).get("value") or "")
        text, blocks, replace = confirmation_reply(said, deps.config, token)
    url = body.get("response_url")
    view = body.get("view") or {}
    if url:
        await deps.replies.respond(str(url), text, blocks=blocks, replace=replace)
    elif view.get("type") == "modal":  # confirmed in the composer's preview
        shown = compose.build_outcome_view(text, blocks)
        try:
            await deps.client.views_update(view_id=view.get("id"), view=shown)
        except SlackApiError as error:
            logger.info("the preview was not updated (%s)", error.response.get("error"))
