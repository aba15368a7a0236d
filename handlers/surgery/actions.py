"""The surgery's buttons: a vote on the board, Home's "Ask a question", and a lead's Accept,
Decline…, Record the answer and the board's overflow (answer, merge, change).

A vote and an acceptance are recorded before Slack hears back and hand their outcome to the
follow-up, which tells the person; the other buttons only open a modal (`common.accept`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from slack_bolt.async_app import AsyncAck
from slack_sdk.models.views import View

from bot.asking import asked_text
from bot.slack.modals import open_modal
from bot.slack.views import build_notice_view
from bot.storage import WriteTimeout
from bot.storage.question_rules import ANSWERABLE, MOVABLE
from bot.storage.questions import Question
from handlers.surgery.blocks import (
    build_board,
    build_news,
)
from handlers.surgery.common import (
    LEADS_ONLY,
    NOT_FOUND,
    NOT_STORED,
    clicked_value,
    deliver_news,
    is_lead,
    moderated,
    open_ask,
    refresh_leads,
    voter,
)
from handlers.surgery.review_blocks import (
    build_answer_view,
    build_change_view,
    build_decline_view,
    build_merge_view,
)
from handlers.surgery.rules import question_id

if TYPE_CHECKING:
    from bot.deps import Deps

# What became of a vote: storage's answer, or that it did not go through.
VoteOutcome = Literal["recorded", "repeat", "closed", "unknown", "not_stored"]
VOTE_NOTES: dict[VoteOutcome, str] = {
    "recorded": "Thanks: your vote is counted.",
    "repeat": "You've voted for that one already: each person's vote counts once.",
    "closed": "That question is no longer open for votes.",
    "unknown": NOT_FOUND,
    "not_stored": NOT_STORED,
}


async def open_from_home(deps: Deps, said: None, body: dict[str, Any]) -> None:
    """Home's "Ask a question": the modal, empty."""
    await open_ask(deps, body["trigger_id"])


async def open_with_text(deps: Deps, said: None, body: dict[str, Any]) -> None:
    """Another feature's "Ask the surgery" (bot/asking.py, e.g. practice search that found
    nothing): the modal with its words in the question, over the modal it came from if any."""
    in_modal = (body.get("view") or {}).get("type") == "modal"
    await open_ask(deps, body["trigger_id"], text=asked_text(body), push=in_modal)


async def store_vote(deps: Deps, ack: AsyncAck, body: dict[str, Any]) -> VoteOutcome:
    """A vote, once per person (under their pseudonym), committed before Slack hears back."""
    found = question_id(clicked_value(body))
    if found is None:
        await ack()
        return "unknown"
    try:
        voted = await deps.storage.questions.vote(found, voter(deps, body["user"]["id"]))
    except WriteTimeout:
        await ack()
        return "not_stored"
    await ack()
    return voted.status


async def after_vote(deps: Deps, said: VoteOutcome, body: dict[str, Any]) -> None:
    """The voter hears what became of it where they voted: on Home, or above the board."""
    note = VOTE_NOTES[said]
    user_id = body["user"]["id"]
    if (body.get("view") or {}).get("type") == "home":
        await deps.home.publish(user_id, notice=note)
    elif body.get("response_url"):
        board = await deps.storage.questions.board(order="votes", voter=voter(deps, user_id))
        blocks = [b.to_dict() for b in build_board(board, order="votes")]
        blocks.insert(0, {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
        await deps.replies.respond(body["response_url"], note, blocks=blocks, replace=True)


async def store_acceptance(deps: Deps, ack: AsyncAck, body: dict[str, Any]) -> str:
    """Accept a question onto the board (engagement leads), recorded before Slack hears.
    Returns what the lead is told."""
    user_id = body["user"]["id"]
    value = clicked_value(body)
    if not await is_lead(deps, user_id):
        said = LEADS_ONLY
    elif (found := question_id(value)) is None:
        said = NOT_FOUND
    else:
        try:
            done = await deps.storage.questions.moderate(
                found, action="accept", by=user_id, now=deps.clock(), render_news=build_news
            )
        except WriteTimeout:
            said = NOT_STORED
        else:
            said = moderated(done, "is on the board now")
    await ack()
    return said


async def after_moderation(deps: Deps, said: str, body: dict[str, Any]) -> None:
    """The lead hears how it went where they clicked: on Home (refreshed), or privately; the
    asker is told."""
    user_id = body["user"]["id"]
    if (body.get("view") or {}).get("type") == "home":
        await deps.home.publish(user_id, notice=said)
        await refresh_leads(deps, body, but=user_id)
    else:
        await deps.replies.tell(body, said)
        await refresh_leads(deps, body)
    await deliver_news(deps)


async def open_decline(deps: Deps, said: None, body: dict[str, Any]) -> None:
    """Decline…: the modal asking why, for a question still waiting for review (opened
    within Slack's 3 s, whatever the role check takes: see bot/slack/modals.py)."""
    await open_modal(deps.client, body["trigger_id"], decline_view(deps, body), title="Decline")


async def decline_view(deps: Deps, body: dict[str, Any]) -> View:
    """The Decline… modal for the clicked question, or why there is none."""
    found = question_id(clicked_value(body))
    question = await deps.storage.questions.get(found) if found is not None else None
    if not await is_lead(deps, body["user"]["id"]):
        return build_notice_view("Decline", LEADS_ONLY)
    if question is None:
        return build_notice_view("Decline", NOT_FOUND)
    if question.state != "pending":
        return build_notice_view("Decline", f"{question.ref} has been reviewed already.")
    return build_decline_view(question)


async def open_more(deps: Deps, said: None, body: dict[str, Any]) -> None:
    """The board's overflow: answer it, merge a duplicate, or change its topic or forum."""
    await open_modal(deps.client, body["trigger_id"], more_view(deps, body), title="Review")


async def more_view(deps: Deps, body: dict[str, Any]) -> View:
    """The overflow step's modal for the chosen question, or why there is none."""
    action = (body.get("actions") or [{}])[0]
    what, _, raw = str((action.get("selected_option") or {}).get("value") or "").partition(":")
    found = question_id(raw)
    question = await deps.storage.questions.get(found) if found is not None else None
    if not await is_lead(deps, body["user"]["id"]):
        return build_notice_view("Review", LEADS_ONLY)
    if question is None or what not in ("merge", "change", "answer"):
        return build_notice_view("Review", NOT_FOUND)
    return await step_view(deps, what, question)


async def step_view(deps: Deps, what: str, question: Question) -> View:
    """The modal for one overflow step on `question`, or why that step cannot be taken now."""
    if what == "answer":  # answered outside a meeting: straight from the board
        if question.state not in ANSWERABLE:
            return build_notice_view("Answer", f"{question.ref} has been answered or closed.")
        return build_answer_view(question)
    if what == "merge":
        if question.state not in MOVABLE:
            return build_notice_view("Merge", f"{question.ref} can no longer be merged.")
        merge = build_merge_view(question, await deps.storage.questions.candidates())
        return merge or build_notice_view("Merge", "There is no other question to merge into.")
    if question.state not in MOVABLE:
        return build_notice_view("Change", f"{question.ref} can no longer be changed.")
    return build_change_view(question, deps.config.surgery_topics)


async def open_answer(deps: Deps, said: None, body: dict[str, Any]) -> None:
    """Record the answer: the modal, for a question on the board or an agenda."""
    await open_modal(deps.client, body["trigger_id"], answer_view(deps, body), title="Answer")


async def answer_view(deps: Deps, body: dict[str, Any]) -> View:
    """The answer modal for the clicked question, or why there is none."""
    found = question_id(clicked_value(body))
    question = await deps.storage.questions.get(found) if found is not None else None
    if not await is_lead(deps, body["user"]["id"]):
        return build_notice_view("Answer", LEADS_ONLY)
    if question is None:
        return build_notice_view("Answer", NOT_FOUND)
    if question.state not in ANSWERABLE:
        return build_notice_view("Answer", f"{question.ref} has been answered or closed already.")
    return build_answer_view(question)
