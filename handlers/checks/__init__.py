"""Comprehension checks: "Take the 30-second check" on a briefing opens its questions; the
answers are stored before Slack hears back, and the modal turns into the feedback at once:
the score and, for each wrong answer, the right one and why, with one retake offered.

Every listener is a store half and a follow-up (see `bot/deps.py`).
"""

from __future__ import annotations

import json
import logging
import re
from typing import TYPE_CHECKING, Any

from apscheduler.triggers.interval import IntervalTrigger
from slack_bolt.app.async_app import AsyncApp

from bot.comprehension import (
    FOLLOW_UP_ACTION,
    FOLLOW_UP_CALLBACK,
    REANSWER_ACTION,
    REANSWER_CALLBACK,
    RETAKE_ACTION,
    SUBMIT_CALLBACK,
    TAKE_ACTION,
    Marked,
    parse_check_value,
)
from bot.slack.roles import RoleCheckUnavailable
from bot.slack.views import build_notice_view
from bot.storage import WriteTimeout
from bot.storage.checks import NOT_YET
from handlers.checks import results
from handlers.checks.blocks import (
    NOTE_ACTION,
    NOTE_BLOCK,
    allowed_blocks,
    build_check_view,
    build_feedback_view,
    build_follow_up_message,
    build_follow_up_view,
    build_home_section,
    build_reanswer_feedback,
    build_reanswer_view,
    parse_follow_up,
    parse_metadata,
    parse_reanswer,
    parse_retake_token,
    parse_retake_value,
    read_answers,
)

if TYPE_CHECKING:
    from bot.deps import Deps

logger = logging.getLogger(__name__)

HOME_SECTION = "checks"
CLOSE_JOB = "checks:close"
FOLLOW_UP_CLOSED = (
    "This check has closed, so there is nothing left to follow up: its results are final."
)
CLOSED = "This check has closed, so answers are no longer taken. Thank you for looking."
TAKEN = "You've taken this check already: thank you. Your answers are recorded."
GONE = "Sorry, I can't find that check, so nothing was recorded."


_FEEDBACK: dict[tuple[str, int, str, int, tuple[bool, ...]], dict[str, Any]] = {}


def feedback(check: Any, attempt: int, marked: Marked) -> dict[str, Any]:
    """The feedback modal, as Slack's JSON. Everyone with the same right and wrong answers
    sees the same one, so it is built once per pattern (at most 2 x 2^5 per check): building
    Block Kit through slack_sdk's models is the costliest step of answering otherwise."""
    key = (check.briefing_id, check.version, check.fingerprint, attempt, marked.right)
    built = _FEEDBACK.get(key)
    if built is None:
        if len(_FEEDBACK) >= 4096:
            _FEEDBACK.clear()
        built = _FEEDBACK[key] = build_feedback_view(check, attempt, marked).to_dict()
    return built


def register(app: AsyncApp, deps: Deps) -> None:
    """Wire the check button, the questions modal, the retake and the closing job."""

    async def accept(ack: Any, context: dict[str, Any]) -> None:
        """Opening the questions records nothing: answer Slack at once, open them after."""
        await ack()

    async def open_questions(context: dict[str, Any], body: dict[str, Any]) -> None:
        """Take the check: its questions in a modal, unless it has closed or was taken."""
        action = (body.get("actions") or [{}])[0]
        parsed = parse_check_value(action.get("value"))
        user_id = body["user"]["id"]
        check = await deps.storage.checks.check_for(*parsed) if parsed else None
        if check is None:
            view = build_notice_view("30-second check", GONE)
        elif not check.open_at(deps.clock()):
            view = build_notice_view("30-second check", CLOSED)
        elif await deps.storage.checks.retake_open(check, user_id):
            view = build_check_view(check, attempt=2)  # the feedback was closed: still theirs
        elif await deps.storage.checks.attempts_of(check.briefing_id, check.version, user_id):
            view = build_notice_view("30-second check", TAKEN)
        else:
            view = build_check_view(check, attempt=1)
        await deps.client.views_open(trigger_id=body["trigger_id"], view=view)

    async def open_retake(context: dict[str, Any], body: dict[str, Any]) -> None:
        """Try once more: the same questions again, in the same modal."""
        action = (body.get("actions") or [{}])[0]
        parsed = parse_retake_value(action.get("value"))
        check = await deps.storage.checks.check_for(*parsed[:2]) if parsed else None
        if parsed is None or check is None:
            view = build_notice_view("30-second check", GONE)
        elif not check.open_at(deps.clock()):
            view = build_notice_view("30-second check", CLOSED)
        else:  # an anonymous check's pass goes with the questions, and is checked on sending
            view = build_check_view(check, attempt=2, retake_token=parsed[2])
        current = body.get("view") or {}
        await deps.client.views_update(view_id=current.get("id"), view=view)

    async def store_answers(
        ack: Any, body: dict[str, Any], view: dict[str, Any], context: dict[str, Any]
    ) -> None:
        """Send answers: committed before Slack hears back; the modal becomes the feedback."""
        parsed = parse_metadata(view.get("private_metadata"))
        check = await deps.storage.checks.definition(*parsed[:2]) if parsed else None
        if parsed is None or check is None:
            await ack(response_action="update", view=build_notice_view("Not recorded", GONE))
            return
        values = (view.get("state") or {}).get("values") or {}
        if set(values) - allowed_blocks(check):  # an answer to a question not in this version
            text = "Sorry, those answers could not be recorded: they are not this check's."
            await ack(response_action="update", view=build_notice_view("Not recorded", text))
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
            first = next(iter(values), "q0")
            await ack(
                response_action="errors",
                errors={
                    first: "That didn't go through, so nothing was recorded. Press Send again."
                },
            )
            return
        logger.info("check answers %s", result.status)
        if result.marked is not None:  # recorded, or an anonymous repeat (feedback again)
            if result.retake_token:  # an anonymous pass is each person's own: not kept
                shown: Any = build_feedback_view(
                    check, result.attempt, result.marked, retake_token=result.retake_token
                )
            else:
                shown = feedback(check, result.attempt, result.marked)
            await ack(response_action="update", view=shown)
        elif result.status in ("repeat", "done"):
            await ack(response_action="update", view=build_notice_view("30-second check", TAKEN))
        elif result.status == "closed":
            await ack(response_action="update", view=build_notice_view("30-second check", CLOSED))
        else:
            text = f"Sorry, those answers could not be recorded: {result.reason}."
            await ack(response_action="update", view=build_notice_view("Not recorded", text))

    async def answer_engage(user_id: str, text: str) -> tuple[str, list[dict[str, Any]] | None]:
        """`/engage results|export|close …`, answered privately."""
        return await results.answer(deps, user_id, text)

    for word, line in results.HELP_LINES.items():
        deps.engage.add(word, answer_engage, line)

    async def may_follow_up(user_id: str, check: Any) -> bool:
        """Engagement leads, and the senior manager who published it."""
        try:
            if await deps.roles.is_engagement_lead(user_id):
                return True
            return bool(
                await deps.roles.is_senior_manager(user_id)
                and await deps.storage.checks.published_by(check) == user_id
            )
        except RoleCheckUnavailable:
            return False

    async def open_follow_up(context: dict[str, Any], body: dict[str, Any]) -> None:
        """A follow-up button on the results: the note to write, in a modal."""
        action = (body.get("actions") or [{}])[0]
        parsed = parse_follow_up(action.get("value"))
        check = await deps.storage.checks.check_for(*parsed[:2]) if parsed else None
        if parsed is None or check is None:
            view = build_notice_view("Follow-up", GONE)
        elif not await may_follow_up(body["user"]["id"], check):
            view = build_notice_view("Follow-up", results.NOT_ALLOWED)
        elif not check.open_at(deps.clock()):
            view = build_notice_view("Follow-up", FOLLOW_UP_CLOSED)
        else:
            view = build_follow_up_view(check, parsed[2])
        await deps.client.views_open(trigger_id=body["trigger_id"], view=view)

    async def store_follow_up(
        ack: Any, body: dict[str, Any], view: dict[str, Any], context: dict[str, Any]
    ) -> None:
        """Send: the clarification is queued in the outbox before Slack hears back."""
        try:
            meta = json.loads(view.get("private_metadata") or "")
            briefing_id, version = str(meta["b"]), int(meta["v"])
            question = None if meta["q"] is None else int(meta["q"])
        except (ValueError, KeyError, TypeError):
            await ack(response_action="update", view=build_notice_view("Follow-up", GONE))
            return
        check = await deps.storage.checks.check_for(briefing_id, version)
        user_id = body["user"]["id"]
        values = (view.get("state") or {}).get("values") or {}
        note = str(((values.get(NOTE_BLOCK) or {}).get(NOTE_ACTION) or {}).get("value") or "")
        if check is None or (question is not None and not 0 <= question < len(check.questions)):
            await ack(response_action="update", view=build_notice_view("Follow-up", GONE))
            return
        if not note.strip():
            await ack(response_action="errors", errors={NOTE_BLOCK: "Write the note to send."})
            return
        if not await may_follow_up(user_id, check):
            await ack(
                response_action="update", view=build_notice_view("Follow-up", results.NOT_ALLOWED)
            )
            return
        if not check.open_at(deps.clock()):
            await ack(
                response_action="update", view=build_notice_view("Follow-up", FOLLOW_UP_CLOSED)
            )
            return
        sent = await deps.storage.checks.queue_follow_up(
            check,
            question=question,
            message=build_follow_up_message(check, note.strip(), question),
            published_by=user_id,
            now=deps.clock(),
        )
        context["follow_up_sent"] = bool(sent and sent > 0)
        if sent == NOT_YET:
            n = deps.config.min_group_size
            text = (
                f"Follow-ups go only to audiences of {n} or more, and a question's clarification "
                f"once the released figures show {n} or more answers and a wrong one among "
                "them: who a follow-up went to must not say more than the figures do."
            )
        elif sent is None:
            text = "That clarification was sent already: each goes once. Results show how it went."
        elif check.mode == "anonymous":
            text = (
                f"Sent to everyone it reached ({sent}) by direct message, paced within Slack's "
                "limits: the check is anonymous, so nobody can be singled out. `/engage "
                "results` shows how it went, before and after."
            )
        else:
            # The same words whoever (and however many, none included) it went to: set against
            # the released figures, a count, or "nobody", would say how the people who
            # answered since the last release did.
            text = (
                "Sent by direct message to whoever it concerns, paced within Slack's limits. "
                "Who it went to is not named or counted to you. `/engage results` shows how "
                "the check's figures move."
            )
        await ack(response_action="update", view=build_notice_view("Follow-up", text))

    async def open_reanswer(context: dict[str, Any], body: dict[str, Any]) -> None:
        """ "Answer it again", from an anonymous check's clarification: that one question."""
        action = (body.get("actions") or [{}])[0]
        parsed = parse_reanswer(action.get("value"))
        check = await deps.storage.checks.check_for(*parsed[:2]) if parsed else None
        if parsed is None or check is None or not parsed[2] < len(check.questions):
            view = build_notice_view("30-second check", GONE)
        elif not check.open_at(deps.clock()):
            view = build_notice_view("30-second check", CLOSED)
        else:
            view = build_reanswer_view(check, parsed[2])
        await deps.client.views_open(trigger_id=body["trigger_id"], view=view)

    async def store_reanswer(
        ack: Any, body: dict[str, Any], view: dict[str, Any], context: dict[str, Any]
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
        selected = ((values[f"q{question}"]).get("answer") or {}).get("selected_option") or {}
        try:
            choice = int(str(selected["value"]))
        except (KeyError, TypeError, ValueError):
            await ack(response_action="errors", errors={f"q{question}": "Choose an answer."})
            return
        try:
            done = await deps.storage.checks.reanswer(
                check,
                question=question,
                user_id=body["user"]["id"],
                choice=choice,
                now=deps.clock(),
            )
        except WriteTimeout:
            await ack(
                response_action="errors",
                errors={
                    f"q{question}": "That didn't go through, so nothing was recorded. Press "
                    "Send again."
                },
            )
            return
        logger.info("check re-answer %s", done.status)
        notices = {
            "repeat": ("30-second check", "You've answered this again already: thank you."),
            "closed": ("30-second check", CLOSED),
            "outside": (
                "Not recorded",
                "Sorry, this check was not sent to you, so nothing was recorded.",
            ),
            "unknown": ("Not recorded", GONE),
            "invalid": ("Not recorded", "Sorry, that answer is not one of this question's."),
        }
        if done.status == "recorded":
            reply = build_reanswer_feedback(check, question, done.right)
        else:
            reply = build_notice_view(*notices[done.status])
        await ack(response_action="update", view=reply)

    async def send_follow_up(context: dict[str, Any], body: dict[str, Any]) -> None:
        if context.get("follow_up_sent"):
            deps.outbox.wake()

    # Bolt tries listeners in the order they were added, at a cost for each: the hot path first.
    app.view(SUBMIT_CALLBACK)(deps.work.legacy_listener(store_answers))
    app.action(re.compile(rf"^{FOLLOW_UP_ACTION}_(\d|none)$"))(
        deps.work.legacy_listener(accept, follow_up=open_follow_up)
    )
    app.view(FOLLOW_UP_CALLBACK)(
        deps.work.legacy_listener(store_follow_up, follow_up=send_follow_up)
    )
    app.action(REANSWER_ACTION)(deps.work.legacy_listener(accept, follow_up=open_reanswer))
    app.view(REANSWER_CALLBACK)(deps.work.legacy_listener(store_reanswer))
    app.action(TAKE_ACTION)(deps.work.legacy_listener(accept, follow_up=open_questions))
    app.action(RETAKE_ACTION)(deps.work.legacy_listener(accept, follow_up=open_retake))

    async def home_section(user_id: str) -> list[Any]:
        waiting = await deps.storage.checks.waiting_for(user_id, deps.clock())
        return build_home_section(waiting, deps.config.timezone)

    deps.home.add_section(HOME_SECTION, home_section, order=20)

    async def close_due() -> None:
        """Close checks whose time has come; and empty the WAL of anything anonymous written
        in the last minute (see `Checks.scrub`)."""
        closed = await deps.storage.checks.close_due(deps.clock())
        if closed:
            logger.info("%d check(s) closed", closed)
        await deps.storage.checks.scrub()

    # Rebuilt from the database at every start by construction: the job reads `checks`.
    deps.scheduler.add_job(CLOSE_JOB, close_due, IntervalTrigger(seconds=60), run_at_start=True)
