"""The surgery's modal submissions: a question asked, and a lead's decline, merge, change and
answer.

Each is checked, then committed before Slack hears back, and answered in the modal itself
(its errors, or a notice in its place). Only an answer has a follow-up: the outbox is woken to
send it at once.
"""

from __future__ import annotations

import functools
import json
import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck

from bot.slack.mrkdwn import escape
from bot.slack.submissions import Outcome
from bot.slack.views import build_notice_view
from bot.storage import WriteTimeout
from bot.storage.questions import Asked, Moderated
from handlers.surgery.blocks import (
    FORUMS,
    INTO_ACTION,
    INTO_BLOCK,
    QUESTION_BLOCK,
    REASON_ACTION,
    REASON_BLOCK,
    TOPIC_BLOCK,
    build_answer_public,
    build_news,
    build_receipt_view,
    read_question,
    read_tell,
    safe_permalink,
)
from handlers.surgery.channels import checked, how_to_set
from handlers.surgery.common import (
    LEADS_ONLY,
    NOT_STORED,
    deliver_news,
    is_lead,
    moderated,
    own_tag,
    refresh_leads,
    today,
)
from handlers.surgery.rules import modal_question, placement_errors, question_errors, question_id

if TYPE_CHECKING:
    from bot.deps import Deps

logger = logging.getLogger(__name__)


def modal_values(view: dict[str, Any]) -> dict[str, Any]:
    return (view.get("state") or {}).get("values") or {}


def typed(values: dict[str, Any], block: str, action: str) -> str:
    """What was typed into one input of a modal (untrusted)."""
    return str(((values.get(block) or {}).get(action) or {}).get("value") or "")


async def store_question(
    deps: Deps, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]
) -> None:
    """Send question: checked, then committed before Slack hears back; the modal becomes
    the receipt. A copy of the same submission (Slack's view id and hash) gets the first's
    answer and records nothing more (`deps.submissions`)."""
    outcome = await deps.submissions.once(
        view,
        functools.partial(decide_question, deps, body, view),
        kept=lambda said: said.get("response_action") == "update",
    )
    await ack(**outcome)


async def decide_question(deps: Deps, body: dict[str, Any], view: dict[str, Any]) -> Outcome:
    """The question checked and kept, and what the acknowledgement says: field errors, or
    the receipt."""
    text, topic, forum, anonymous = read_question(modal_values(view))
    tell = anonymous and read_tell(modal_values(view))
    text = text.strip()
    errors = question_errors(
        text,
        topic,
        forum,
        topics=deps.config.surgery_topics,
        forums=tuple(deps.config.forums),
    )
    if errors:
        logger.info("a question was returned for changes (%s)", ", ".join(sorted(errors)))
        return {"response_action": "errors", "errors": errors}
    try:
        asked = await ask(deps, body["user"]["id"], text, topic, forum, anonymous, view, tell)
    except WriteTimeout:
        return {
            "response_action": "errors",
            "errors": {QUESTION_BLOCK: "That didn't go through, so nothing was kept. Send again."},
        }
    if asked.status == "too_many" or asked.question is None:
        return {
            "response_action": "errors",
            "errors": {
                QUESTION_BLOCK: f"You've asked {deps.config.questions_per_day} questions "
                "today, the most there can be. Please ask this one tomorrow."
            },
        }
    logger.info("a question was recorded")  # never which kind: that narrows who asked
    return {"response_action": "update", "view": build_receipt_view(asked.question, told=tell)}


async def ask(
    deps: Deps,
    user_id: str,
    text: str,
    topic: str,
    forum: str,
    anonymous: bool,
    view: dict[str, Any],
    tell: bool = False,
) -> Asked:
    """Keep a checked question, with the message it is about (checked again), counted against
    the asker's daily limit under that day's pseudonym; an anonymous asker who asked to be
    told of news gives their id sealed under the outside key (`Pseudonyms.seal`)."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        meta = {}
    quoted = safe_permalink(meta.get("quoted") if isinstance(meta, dict) else None)
    day = today(deps)  # once: the count and its tag must be of the same day
    return await deps.storage.questions.ask(
        text=text,
        topic=topic,
        forum=forum,
        anonymous=anonymous,
        user_id=user_id,
        own_tag=own_tag(deps, user_id),
        quota_tag=deps.pseudonyms.quota(day, user_id),
        day=day,
        quoted=quoted,
        now=deps.clock(),
        per_day=deps.config.questions_per_day,
        sealed=deps.pseudonyms.seal(user_id) if anonymous and tell else None,
    )


async def store_decline(
    deps: Deps, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]
) -> None:
    """Decline, with the reason the asker sees: recorded before Slack hears back."""
    user_id = body["user"]["id"]
    reason = typed(modal_values(view), REASON_BLOCK, REASON_ACTION)
    source = modal_question(view)
    if source is None:
        await ack(response_action="update", view=build_notice_view("Decline", "Not found."))
        return
    if not reason.strip():
        await ack(response_action="errors", errors={REASON_BLOCK: "Say why, for the asker."})
        return
    if not await is_lead(deps, user_id):
        await ack(response_action="update", view=build_notice_view("Decline", LEADS_ONLY))
        return
    try:
        done = await deps.storage.questions.moderate(
            source,
            action="decline",
            by=user_id,
            now=deps.clock(),
            reason=reason,
            render_news=build_news,
        )
    except WriteTimeout:
        await ack(response_action="errors", errors={REASON_BLOCK: NOT_STORED})
        return
    text = moderated(done, "is declined; its asker can see why")
    await ack(response_action="update", view=build_notice_view("Decline", text))


async def store_merge(
    deps: Deps, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]
) -> None:
    """Merge: votes combine, the asker sees which it joined; recorded before Slack hears."""
    user_id = body["user"]["id"]
    values = modal_values(view)
    chosen = ((values.get(INTO_BLOCK) or {}).get(INTO_ACTION) or {}).get("selected_option")
    into = question_id(str((chosen or {}).get("value") or ""))
    source = modal_question(view)
    if not await is_lead(deps, user_id):
        await ack(response_action="update", view=build_notice_view("Merge", LEADS_ONLY))
        return
    if source is None or into is None:
        await ack(response_action="errors", errors={INTO_BLOCK: "Choose a question."})
        return
    try:
        done = await deps.storage.questions.moderate(
            source, action="merge", by=user_id, now=deps.clock(), into=into, render_news=build_news
        )
    except WriteTimeout:
        await ack(response_action="errors", errors={INTO_BLOCK: NOT_STORED})
        return
    text = moderated(done, "is merged; its votes count for the question it joined")
    await ack(response_action="update", view=build_notice_view("Merge", text))


async def store_change(
    deps: Deps, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]
) -> None:
    """A question's new topic or forum (engagement leads), recorded before Slack hears."""
    user_id = body["user"]["id"]
    _, topic, forum, _ = read_question(modal_values(view))
    errors = placement_errors(
        topic, forum, topics=deps.config.surgery_topics, forums=tuple(deps.config.forums)
    )
    source = modal_question(view)
    if not await is_lead(deps, user_id):
        await ack(response_action="update", view=build_notice_view("Change", LEADS_ONLY))
        return
    if errors or source is None:
        await ack(response_action="errors", errors=errors or {TOPIC_BLOCK: "Not found."})
        return
    try:
        done = await deps.storage.questions.moderate(
            source, action="change", by=user_id, now=deps.clock(), topic=topic, forum=forum
        )
    except WriteTimeout:
        await ack(response_action="errors", errors={TOPIC_BLOCK: NOT_STORED})
        return
    text = moderated(done, f"is now under {escape(topic)}, for the {FORUMS[forum]}")
    await ack(response_action="update", view=build_notice_view("Change", text))


async def store_answer(
    deps: Deps, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]
) -> bool:
    """The answer: recorded, and queued to the asker and "You said, we did", before Slack
    hears back. Returns whether it was (so the outbox is woken to send it now)."""
    user_id = body["user"]["id"]
    values = modal_values(view)
    answer, action = typed(values, "answer", "answer"), typed(values, "action", "action")
    source = modal_question(view)
    if not await is_lead(deps, user_id):
        await ack(response_action="update", view=build_notice_view("Answer", LEADS_ONLY))
        return False
    if not answer.strip():
        await ack(response_action="errors", errors={"answer": "Write the answer."})
        return False
    if source is None:
        await ack(response_action="update", view=build_notice_view("Answer", "Not found."))
        return False
    where = deps.config.you_said_we_did_channel
    channel, why = await checked(deps, where)
    try:
        done = await deps.storage.questions.answer(
            source,
            answer=answer,
            action=action,
            by=user_id,
            now=deps.clock(),
            # No channel to post in: the public copy comes to the lead, and nothing is lost.
            public_to=("channel", channel) if channel else ("dm", user_id),
            render_public=build_answer_public,
            render_news=build_news,
        )
    except WriteTimeout:
        await ack(response_action="errors", errors={"answer": NOT_STORED})
        return False
    await ack(
        response_action="update", view=build_notice_view("Answer", answered(done, why, where))
    )
    return done.status == "done"


def answered(done: Moderated, why: str, where: str) -> str:
    """What a lead is told once an answer is recorded: where it went, and, when "You said,
    we did" had no channel to go to, why, where it went instead and how to set one."""
    if done.status != "done" or done.question is None:
        return moderated(done, "is answered")
    if not why:
        return moderated(done, 'is answered: its asker and "You said, we did" will see it')
    return (
        f'{done.question.ref} is answered, and its asker will see it. {why}, so "You said, we '
        'did" has come to you by direct message instead, to share where you like; everyone '
        f"can read it with `/ask answered`. {how_to_set(where, 'YOU_SAID_WE_DID_CHANNEL')}"
    )


async def send_answer(deps: Deps, said: bool, body: dict[str, Any]) -> None:
    """An answer was queued: send it now (the outbox, and news to anonymous askers), not at
    the next poll, and show the leads their queue without it."""
    if said:
        await refresh_leads(deps, body)
        await deliver_news(deps)
