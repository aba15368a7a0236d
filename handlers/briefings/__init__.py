"""Briefings: `/brief` for senior managers (and its composer, compose.py), the Acknowledge button
for everyone, and the Home section that lists what is waiting for a person's acknowledgement.

Every listener is a store half and a follow-up (see `bot/deps.py`): the store half records what
the person did and answers Slack; the follow-up does what needs Slack (replies, posting, Home).
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any

from apscheduler.triggers.interval import IntervalTrigger
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block

from bot.briefing_message import ACK_ACTION, parse_ack_value
from bot.deps import BUSY
from bot.slack.mrkdwn import escape
from bot.slack.roles import RoleCheckUnavailable
from bot.storage import WriteTimeout
from handlers.briefings import catchup, circulars, compose, confirm, reminders, schedule
from handlers.briefings.blocks import (
    CANCEL_ACTION,
    CONFIRM_ACTION,
    CONFIRM_LARGE_ACTION,
    ack_reply,
    build_waiting_section,
    confirmation_reply,
)
from handlers.briefings.commands import Reply, answer

if TYPE_CHECKING:
    from bot.deps import Deps

logger = logging.getLogger(__name__)

COMMAND = "/brief"
HOME_SECTION = "briefings"
GONE = "Sorry, I can't find that briefing any more, so nothing was recorded."
ROLE_UNCHECKED = "I couldn't check your role just now, so nothing was sent. Try again in a minute."


def register(app: AsyncApp, deps: Deps) -> None:
    """Wire `/brief`, the Acknowledge button and briefings' Home section."""

    async def accept_brief(ack: Any, context: dict[str, Any]) -> None:
        """`/brief …` records nothing itself: answer Slack at once, work afterwards."""
        await ack()

    async def answer_brief(context: dict[str, Any], body: dict[str, Any]) -> None:
        """`/brief …`: help, list, publish or status, answered privately; `/brief` alone opens
        the composer for a senior manager."""
        if not (body.get("text") or "").strip() and await _is_manager(body["user_id"]):
            await open_composer(body["trigger_id"], body["user_id"])
            return
        reply = await answer(deps, body["user_id"], body.get("text") or "")
        if isinstance(reply, Reply):
            await deps.replies.respond(body["response_url"], reply.text, blocks=reply.blocks)
        else:
            await deps.replies.respond(body["response_url"], reply)

    async def store_confirmation(
        ack: Any, body: dict[str, Any], action: dict[str, Any], context: dict[str, Any]
    ) -> None:
        """Confirm: the publisher's role is checked afresh, then the broadcast is queued (or
        scheduled) before Slack hears back."""
        user_id = body["user"]["id"]
        token = str(action.get("value") or "")
        if action["action_id"] == CANCEL_ACTION:
            outcome = await deps.storage.confirmations.cancel(token, user_id=user_id)
        else:
            refused = await refusal_at_click(token, user_id)
            if refused is not None:
                context["refused"] = refused
                await ack()
                return
            outcome = await deps.storage.confirmations.confirm(
                token,
                user_id=user_id,
                now=deps.clock(),
                twice_above=deps.config.confirm_twice_above,
                second=action["action_id"] == CONFIRM_LARGE_ACTION,
            )
        context["confirmation"] = outcome
        await ack()

    async def refusal_at_click(token: str, user_id: str) -> tuple[str, bool] | None:
        """Why a Send or Schedule click on the publisher's own confirmation must send nothing,
        with whether the confirmation gives way to it; None to go ahead. The role is asked of
        Slack afresh: someone taken off the senior managers since the confirmation was shown
        is refused, and so is anyone when Slack cannot say, rather than trusting a list that
        may be minutes old. Other clicks (not theirs, done, gone) are `confirm`'s to answer."""
        if not await deps.storage.confirmations.awaits(token, user_id=user_id):
            return None
        try:
            allowed = await deps.roles.is_senior_manager(user_id, fresh=True)
        except RoleCheckUnavailable:
            logger.warning("a publish click was refused: the role check failed")
            return ROLE_UNCHECKED, False  # the buttons stay, to try again
        if allowed:
            return None
        logger.info("a publish click was refused: no longer a senior manager")
        return (
            "Only senior managers can send briefings, so nothing was sent. If you should be "
            f"able to, ask {escape(deps.config.access_contact)} to add you to the senior "
            "managers list.",
            True,
        )

    async def after_confirmation(context: dict[str, Any], body: dict[str, Any]) -> None:
        """Confirm or cancel: the confirmation becomes what happened (or asks once more), or
        the click's refusal is said beside it."""
        outcome = context.get("confirmation")
        blocks: list[dict[str, Any]] | None = None
        if outcome is None:
            text, replace = context["refused"]
        else:
            if outcome.status == "queued":
                deps.outbox.wake()
            token = str(((body.get("actions") or [{}])[0]).get("value") or "")
            text, blocks, replace = confirmation_reply(outcome, deps.config, token)
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

    async def store_acknowledgement(
        ack: Any, body: dict[str, Any], action: dict[str, Any], context: dict[str, Any]
    ) -> None:
        """Acknowledge: the acknowledgement is committed before Slack hears back."""
        parsed = parse_ack_value(action.get("value"))
        result = None
        if parsed is not None:
            result = await deps.storage.acknowledgements.record_ack(
                briefing_id=parsed[0],
                version=parsed[1],
                user_id=body["user"]["id"],
                now=deps.clock(),
            )
        context["acknowledgement"] = result
        await ack()

    async def thank_for_acknowledgement(context: dict[str, Any], body: dict[str, Any]) -> None:
        """Acknowledge: a private "Thanks", on Home or under the message."""
        result = context.get("acknowledgement")
        if result is None:
            reply = GONE
        else:
            logger.info("acknowledgement %s", "recorded" if result.new else "repeated")
            reply = ack_reply(result.title, result, deps.config.timezone)
        await deps.replies.tell(body, reply)

    async def waiting_section(user_id: str) -> list[Block]:
        awaiting = await deps.storage.acknowledgements.awaiting_ack(user_id)
        blocks = build_waiting_section(awaiting, deps.config.timezone)
        if await _is_manager(user_id):
            blocks = [*blocks, *compose.build_new_button()]
        return blocks

    async def _is_manager(user_id: str) -> bool:
        try:
            return await deps.roles.is_senior_manager(user_id)
        except RoleCheckUnavailable:
            return False

    open_composer = compose.register(
        app, deps, plan_and_confirm=functools.partial(confirm.plan_and_confirm, deps)
    )

    # Bolt tries listeners in the order they were added, at a cost for each: the hot path first.
    app.action(ACK_ACTION)(
        deps.work.legacy_listener(store_acknowledgement, follow_up=thank_for_acknowledgement)
    )
    app.command(COMMAND)(deps.work.legacy_listener(accept_brief, follow_up=answer_brief, busy=BUSY))
    confirming = deps.work.legacy_listener(store_confirmation, follow_up=after_confirmation)
    for action_id in (CONFIRM_ACTION, CONFIRM_LARGE_ACTION, CANCEL_ACTION):
        app.action(action_id)(confirming)
    deps.home.add_section(HOME_SECTION, waiting_section, order=10)

    async def send_circulars() -> None:
        await circulars.send_due(deps)

    # Once a minute: an issue is due at its schedule's time and recorded once per period.
    deps.scheduler.add_job(
        circulars.JOB, send_circulars, IntervalTrigger(seconds=60), run_at_start=True
    )

    async def send_scheduled() -> None:
        await schedule.send_due(deps)

    # Rebuilt from the database at every start by construction: the job reads `schedules`.
    deps.scheduler.add_job(
        schedule.JOB,
        send_scheduled,
        IntervalTrigger(seconds=schedule.POLL_SECONDS),
        run_at_start=True,
    )

    async def send_reminders() -> None:
        await reminders.send_due(deps)

    deps.scheduler.add_job(
        reminders.JOB,
        send_reminders,
        IntervalTrigger(seconds=reminders.POLL_SECONDS),
        run_at_start=True,
    )

    async def note_joiner(ack: Any, body: dict[str, Any], context: dict[str, Any]) -> None:
        """A join: remember the event id first, so a retried delivery is not redone."""
        first = True
        if body.get("event_id"):
            try:
                first = await deps.storage.events.first_delivery(
                    str(body["event_id"]), deps.clock(), timeout=1.0
                )
            except WriteTimeout:
                first = True  # catching up twice sends nothing twice (bot/storage/catchup.py)
        context["first_delivery"] = first
        await ack()

    async def catch_up_joiner(context: dict[str, Any], body: dict[str, Any]) -> None:
        """Someone joined a channel or the workspace: catch them up on what asks for them."""
        if not context.get("first_delivery"):
            return
        event = body.get("event") or {}
        if event.get("type") == "member_joined_channel":
            await catchup.joined_channel(deps, str(event["user"]), str(event["channel"]))
        elif event.get("type") == "team_join":
            user = event.get("user") or {}
            if user.get("id") and not (user.get("is_bot") or user.get("deleted")):
                await catchup.joined_workspace(deps, str(user["id"]))

    joiners = deps.work.legacy_listener(note_joiner, follow_up=catch_up_joiner)
    app.event("member_joined_channel")(joiners)
    app.event("team_join")(joiners)

    async def reconcile() -> None:
        await catchup.reconcile(deps)

    # At the start of working hours (what it sends arrives with the morning), and at start-up
    # (a day it was down for is not skipped).
    deps.scheduler.add_job(catchup.JOB, reconcile, catchup.daily_trigger(deps), run_at_start=True)
