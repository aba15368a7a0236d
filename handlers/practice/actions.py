"""Practice search's buttons: Home's "Search practice", a result's "Open", "Did this help?",
and an engagement lead's "Raise at the surgery" and "Dismiss: not a gap" on a gap.

Each is a store half (records what was clicked, then answers Slack) and a follow-up that
talks to Slack once the answer has gone (see bot/deps.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck
from slack_sdk.errors import SlackApiError

from bot.practice.library import Found
from bot.slack.mrkdwn import escape, escape_within
from bot.slack.roles import ENGAGEMENT_LEAD
from bot.storage import WriteTimeout
from handlers.practice.blocks import (
    HELPED_ACTION,
    build_note_view,
    build_search_view,
    gap_question,
    read_feedback,
)
from handlers.practice.commands import engage_gaps
from handlers.practice.common import (
    AGAIN,
    GONE,
    LEADS_ONLY,
    THANKS_HELPED,
    THANKS_NOT,
    forum,
    is_lead,
    note_gap,
    notice,
    results,
    today,
    update_modal,
)

if TYPE_CHECKING:
    from bot.deps import Deps

logger = logging.getLogger(__name__)

NO_FORUM = "Neither the surgery nor the Practice Advisory Group is running."
NOT_RAISED = "That didn't go through, so nothing was raised. Please try again."
GAP_GONE = "Sorry, I can't find that gap any more."


@dataclass(frozen=True)
class Feedback:
    """What a "Did this help?" click recorded: the search it was about and the answer.
    `kept` is False when the count did not commit in time: the person is asked to click again."""

    query: str
    helped: bool
    kept: bool = True


def clicked(body: dict[str, Any]) -> dict[str, Any]:
    """The button the person clicked (Slack sends one action per click)."""
    return dict((body.get("actions") or [{}])[0])


async def open_search(deps: Deps, said: None, body: dict[str, Any]) -> None:
    """Home's "Search practice": the search modal."""
    await deps.client.views_open(trigger_id=body["trigger_id"], view=build_search_view())


async def open_note(deps: Deps, said: None, body: dict[str, Any]) -> None:
    """ "Open": the whole note, over the search modal or on its own."""
    library = deps.practice
    note = library.note(str(clicked(body).get("value") or ""))
    in_modal = (body.get("view") or {}).get("type") == "modal"
    if note is None and not in_modal:
        await deps.replies.tell(body, GONE)
        return
    view = build_note_view(note, library.due) if note else notice(GONE)
    try:
        if in_modal:
            await deps.client.views_push(trigger_id=body["trigger_id"], view=view)
        else:
            await deps.client.views_open(trigger_id=body["trigger_id"], view=view)
    except SlackApiError as error:
        logger.info("a practice note did not open (%s)", error.response.get("error"))


async def store_feedback(deps: Deps, ack: AsyncAck, body: dict[str, Any]) -> Feedback | None:
    """ "Did this help?": counted before Slack hears back (the words only, for a "No").
    None when the button's value could not be read (nothing is counted, nothing said)."""
    action = clicked(body)
    read = read_feedback(str(action.get("value") or ""))
    helped = action.get("action_id") == HELPED_ACTION
    said: Feedback | None = None
    if read is not None:
        query, note_ids = read
        try:
            await count_feedback(deps, query, note_ids, helped=helped)
        except WriteTimeout:
            said = Feedback(query, helped, kept=False)
        else:
            said = Feedback(query, helped)
    await ack()
    return said


async def count_feedback(deps: Deps, query: str, note_ids: list[str], *, helped: bool) -> None:
    """A "Yes" counts the best match; a "No" keeps the search's words as a gap."""
    if helped:
        # The best match is the one that helped; a forged id counts nothing.
        for note_id in note_ids[:1]:
            if deps.practice.note(note_id) is not None:
                await deps.storage.gaps.record_helped(note_id, today(deps))
    else:
        await note_gap(deps, Found(query, False), "unhelpful")


async def after_feedback(deps: Deps, said: Feedback | None, body: dict[str, Any]) -> None:
    """Thank the person where they clicked: the results again, with the thanks on top."""
    if said is None:
        return
    view = body.get("view") or {}
    in_modal = view.get("type") == "modal"
    if not said.kept:
        if in_modal:
            await update_modal(deps, view, notice(AGAIN))
        else:
            await deps.replies.tell(body, AGAIN)
        return
    thanks = THANKS_HELPED if said.helped else THANKS_NOT
    found = await deps.practice.search(said.query)
    blocks = [b.to_dict() for b in await results(deps, found, feedback=thanks)]
    if in_modal:
        shown = build_search_view(await results(deps, found, feedback=thanks), query=said.query)
        await update_modal(deps, view, shown)
    elif body.get("response_url"):
        await deps.replies.respond(body["response_url"], thanks, blocks=blocks, replace=True)


async def store_raise(deps: Deps, ack: AsyncAck, body: dict[str, Any]) -> str:
    """ "Raise at the surgery": the gap goes on the board as a question, once. Returns what
    to tell the lead."""
    user_id = body["user"]["id"]
    query = str(clicked(body).get("value") or "")[:500]
    where = forum(deps)
    if not await is_lead(deps, user_id):
        said = LEADS_ONLY
    elif where is None:
        said = NO_FORUM
    else:
        said = await raise_gap(deps, query, forum=where, by=user_id)
    await ack()
    return said


async def raise_gap(deps: Deps, query: str, *, forum: str, by: str) -> str:
    """Put the gap on the board as a question, under the Practice topic if there is one."""
    recent = await deps.storage.gaps.gaps(today(deps) - timedelta(days=365), limit=500)
    gaps = {g.query: g for g in recent}
    topics = deps.config.surgery_topics
    topic = "Practice" if "Practice" in topics else topics[0]
    try:
        status, made = await deps.storage.gaps.raise_as_question(
            query,
            text=gap_question(gaps.get(query), query),
            topic=topic,
            forum=forum,
            by=by,
            now=deps.clock(),
        )
    except WriteTimeout:
        return NOT_RAISED
    if status == "raised":  # the gap says so, and the question waits: on every lead's Home
        deps.home.soon(roles=(ENGAGEMENT_LEAD,))
        return f"Raised as *{escape(getattr(made, 'ref', ''))}*: it is on the board for votes."
    if status == "already":
        return f"That was raised already, as *{escape(str(made))}*."
    return GAP_GONE


DISMISSED = {
    "dismissed": "Dismissed “{}”: it is off the gaps, and not counted again.",
    "already": "“{}” was dismissed already.",
    "unknown": GAP_GONE,
}
NOT_DISMISSED = "That didn't go through, so nothing was dismissed. Please try again."


async def store_dismiss(deps: Deps, ack: AsyncAck, body: dict[str, Any]) -> str:
    """ "Dismiss: not a gap" (engagement leads): gone from the gaps, never counted again.
    Returns what to tell the lead."""
    query = str(clicked(body).get("value") or "")[:500]
    if not await is_lead(deps, body["user"]["id"]):
        said = LEADS_ONLY
    else:
        try:
            done = await deps.storage.gaps.dismiss(query, today(deps))
        except WriteTimeout:
            said = NOT_DISMISSED
        else:
            said = DISMISSED[done].format(escape_within(query, 200))
            if done == "dismissed":  # leads' Homes list the week's gaps
                deps.home.soon(roles=(ENGAGEMENT_LEAD,))
    await ack()
    return said


async def after_raise(deps: Deps, said: str, body: dict[str, Any]) -> None:
    """The gaps list again with the outcome on top, where the lead clicked; else privately."""
    _, blocks = await engage_gaps(deps, body["user"]["id"], "gaps")
    if body.get("response_url") and blocks is not None:
        head = [{"type": "section", "text": {"type": "mrkdwn", "text": said}}]
        await deps.replies.respond(
            body["response_url"], said, blocks=head + blocks[:49], replace=True
        )
    else:
        await deps.replies.tell(body, said)
