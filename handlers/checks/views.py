"""The checks feature's modal submissions: a check's answers, a follow-up's note, and a
question answered again. Each is stored before Slack hears back, and the modal turns into
its answer in the same reply (`response_action`)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck
from slack_sdk.models.views import View

from bot.comprehension import Marked
from bot.slack.roles import ENGAGEMENT_LEAD
from bot.slack.views import build_notice_view
from bot.storage import WriteTimeout
from bot.storage.checks import NOT_YET, Check, Submitted
from handlers.checks.blocks import (
    NOTE_ACTION,
    NOTE_BLOCK,
    allowed_blocks,
    build_feedback_view,
    build_follow_up_message,
    build_reanswer_feedback,
    parse_metadata,
    parse_retake_token,
    read_answers,
)
from handlers.checks.common import (
    CHECK_TITLE,
    CLOSED,
    FOLLOW_UP_CLOSED,
    GONE,
    NOT_ALLOWED,
    TAKEN,
    may_follow_up,
)

if TYPE_CHECKING:
    from bot.deps import Deps

logger = logging.getLogger(__name__)

NOT_THIS_CHECKS = "Sorry, those answers could not be recorded: they are not this check's."
SEND_AGAIN = "That didn't go through, so nothing was recorded. Press Send again."
REANSWER_NOTICES = {
    "repeat": (CHECK_TITLE, "You've answered this again already: thank you."),
    "closed": (CHECK_TITLE, CLOSED),
    "outside": ("Not recorded", "Sorry, this check was not sent to you, so nothing was recorded."),
    "unknown": ("Not recorded", GONE),
    "invalid": ("Not recorded", "Sorry, that answer is not one of this question's."),
}

_FEEDBACK: dict[tuple[str, int, str, str, int, tuple[bool, ...]], dict[str, Any]] = {}


def feedback(check: Check, attempt: int, marked: Marked) -> dict[str, Any]:
    """The feedback modal, as Slack's JSON. Everyone with the same right and wrong answers
    sees the same one, so it is built once per pattern (at most 2 x 2^5 per check): building
    Block Kit through slack_sdk's models is the costliest step of answering otherwise.
    The key holds everything the modal is built from: the mode too, since an anonymous
    check's feedback offers no retake without a pass, and two databases in one process
    (tests, the demo) may hold the same check under both modes."""
    key = (check.briefing_id, check.version, check.fingerprint, check.mode, attempt, marked.right)
    built = _FEEDBACK.get(key)
    if built is None:
        if len(_FEEDBACK) >= 4096:
            _FEEDBACK.clear()
        built = _FEEDBACK[key] = build_feedback_view(check, attempt, marked).to_dict()
    return built


def submitted_view(check: Check, result: Submitted) -> View | dict[str, Any]:
    """What the modal turns into once a submission has been through storage."""
    if result.marked is not None:  # recorded, or an anonymous repeat (feedback again)
        if result.retake_token:  # an anonymous pass is each person's own: not kept
            return build_feedback_view(
                check, result.attempt, result.marked, retake_token=result.retake_token
            )
        return feedback(check, result.attempt, result.marked)
    if result.status in ("repeat", "done"):
        return build_notice_view(CHECK_TITLE, TAKEN)
    if result.status == "closed":
        return build_notice_view(CHECK_TITLE, CLOSED)
    text = f"Sorry, those answers could not be recorded: {result.reason}."
    return build_notice_view("Not recorded", text)


async def store_answers(
    deps: Deps, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]
) -> None:
    """Send answers: committed before Slack hears back; the modal becomes the feedback."""
    parsed = parse_metadata(view.get("private_metadata"))
    check = await deps.storage.checks.definition(*parsed[:2]) if parsed else None
    if parsed is None or check is None:
        await ack(response_action="update", view=build_notice_view("Not recorded", GONE))
        return
    values = (view.get("state") or {}).get("values") or {}
    if set(values) - allowed_blocks(check):  # an answer to a question not in this version
        await ack(response_action="update", view=build_notice_view("Not recorded", NOT_THIS_CHECKS))
        return
    choices, errors, clarity, comment = read_answers(values, len(check.questions))
    if errors or choices is None:
        await ack(response_action="errors", errors=errors)
        return
    try:
        result = await deps.storage.checks.submit(
            briefing_id=check.briefing_id,
            version=check.version,
            attempt=parsed[2],
            user_id=body["user"]["id"],
            choices=choices,
            clarity=clarity,
            comment=comment,
            now=deps.clock(),
            retake_token=parse_retake_token(view.get("private_metadata")),
        )
    except WriteTimeout:
        await ack(response_action="errors", errors={next(iter(values), "q0"): SEND_AGAIN})
        return
    logger.info("check answers %s", result.status)
    await ack(response_action="update", view=submitted_view(check, result))
    if result.status == "recorded":  # the taker's Home (checks waiting) and the leads' figures
        deps.home.soon([body["user"]["id"]], roles=(ENGAGEMENT_LEAD,))


@dataclass(frozen=True)
class FollowUpQueued:
    """What a follow-up's Send left for its follow-up half: whether anything went into the
    outbox, so the sender is woken only when there is something to send."""

    to_send: bool


@dataclass(frozen=True)
class FollowUpNote:
    """A follow-up modal's submission, as read from its metadata and its one input."""

    briefing_id: str
    version: int
    question: int | None
    note: str


def read_follow_up(view: dict[str, Any]) -> FollowUpNote | None:
    """The check, question and note a follow-up modal sent, or None if its metadata is not
    the shape we send."""
    try:
        meta = json.loads(view.get("private_metadata") or "")
        briefing_id, version = str(meta["b"]), int(meta["v"])
        question = None if meta["q"] is None else int(meta["q"])
    except (ValueError, KeyError, TypeError):
        return None
    values = (view.get("state") or {}).get("values") or {}
    note = str(((values.get(NOTE_BLOCK) or {}).get(NOTE_ACTION) or {}).get("value") or "")
    return FollowUpNote(briefing_id, version, question, note)


def follow_up_reply(min_group: int, check: Check, sent: int | None) -> str:
    """What the lead is told once a follow-up was (or was not) queued. Never who, and for an
    attributed check never how many: that would be a figure about acts not yet released."""
    if sent == NOT_YET:
        n = min_group
        return (
            f"Follow-ups go only to audiences of {n} or more, and a question's clarification "
            f"once the released figures show {n} or more answers and a wrong one among "
            "them: who a follow-up went to must not say more than the figures do."
        )
    if sent is None:
        return "That clarification was sent already: each goes once. Results show how it went."
    if check.mode == "anonymous":
        return (
            f"Sent to everyone it reached ({sent}) by direct message, paced within Slack's "
            "limits: the check is anonymous, so nobody can be singled out. `/engage "
            "results` shows how it went, before and after."
        )
    # The same words whoever (and however many, none included) it went to: set against
    # the released figures, a count, or "nobody", would say how the people who
    # answered since the last release did.
    return (
        "Sent by direct message to whoever it concerns, paced within Slack's limits. "
        "Who it went to is not named or counted to you. `/engage results` shows how "
        "the check's figures move."
    )


async def store_follow_up(
    deps: Deps, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]
) -> FollowUpQueued:
    """Send: the clarification is queued in the outbox before Slack hears back."""
    nothing = FollowUpQueued(to_send=False)
    sent_note = read_follow_up(view)
    if sent_note is None:
        await ack(response_action="update", view=build_notice_view("Follow-up", GONE))
        return nothing
    check = await deps.storage.checks.check_for(sent_note.briefing_id, sent_note.version)
    user_id = body["user"]["id"]
    question = sent_note.question
    if check is None or (question is not None and not 0 <= question < len(check.questions)):
        await ack(response_action="update", view=build_notice_view("Follow-up", GONE))
        return nothing
    if not sent_note.note.strip():
        await ack(response_action="errors", errors={NOTE_BLOCK: "Write the note to send."})
        return nothing
    if not await may_follow_up(deps, user_id, check):
        await ack(response_action="update", view=build_notice_view("Follow-up", NOT_ALLOWED))
        return nothing
    if not check.open_at(deps.clock()):
        await ack(response_action="update", view=build_notice_view("Follow-up", FOLLOW_UP_CLOSED))
        return nothing
    sent = await deps.storage.checks.queue_follow_up(
        check,
        question=question,
        message=build_follow_up_message(check, sent_note.note.strip(), question),
        published_by=user_id,
        now=deps.clock(),
    )
    text = follow_up_reply(deps.config.min_group_size, check, sent)
    await ack(response_action="update", view=build_notice_view("Follow-up", text))
    return FollowUpQueued(to_send=bool(sent and sent > 0))


async def wake_outbox(deps: Deps, said: FollowUpQueued) -> None:
    """A queued follow-up goes out through the outbox's sender: wake it now, not at its poll.
    The leads' Homes list the follow-ups under way (their delivery follows by the outbox)."""
    if said.to_send:
        deps.outbox.wake()
        deps.home.soon(roles=(ENGAGEMENT_LEAD,))


def reanswered_choice(values: dict[str, Any], question: int) -> int | None:
    """The option chosen for the question asked again, or None if none was."""
    selected = ((values[f"q{question}"]).get("answer") or {}).get("selected_option") or {}
    try:
        return int(str(selected["value"]))
    except (KeyError, TypeError, ValueError):
        return None


async def store_reanswer(
    deps: Deps, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]
) -> None:
    """The question answered again: stored (anonymously) before Slack hears back."""
    try:
        meta = json.loads(view.get("private_metadata") or "")
        briefing_id, version, question = str(meta["b"]), int(meta["v"]), int(meta["q"])
    except (ValueError, KeyError, TypeError):
        await ack(response_action="update", view=build_notice_view("Not recorded", GONE))
        return
    check = await deps.storage.checks.check_for(briefing_id, version)
    values = (view.get("state") or {}).get("values") or {}
    if check is None or set(values) != {f"q{question}"}:
        await ack(response_action="update", view=build_notice_view("Not recorded", GONE))
        return
    choice = reanswered_choice(values, question)
    if choice is None:
        await ack(response_action="errors", errors={f"q{question}": "Choose an answer."})
        return
    try:
        done = await deps.storage.checks.reanswer(
            check, question=question, user_id=body["user"]["id"], choice=choice, now=deps.clock()
        )
    except WriteTimeout:
        await ack(response_action="errors", errors={f"q{question}": SEND_AGAIN})
        return
    logger.info("check re-answer %s", done.status)
    if done.status == "recorded":
        deps.home.soon(roles=(ENGAGEMENT_LEAD,))  # the figures after a clarification
        reply = build_reanswer_feedback(check, question, done.right)
    else:
        reply = build_notice_view(*REANSWER_NOTICES[done.status])
    await ack(response_action="update", view=reply)
