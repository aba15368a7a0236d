"""Surgery and Practice Advisory Group questions: asking (anonymously if chosen), the board and
its votes, and moderation by engagement leads.

`/ask`, the "Ask the practice surgery" shortcut and the "Ask about this" message shortcut open
the asking modal. A question is checked for case detail (bot/guardrail.py) and the asker's
daily limit, and committed before Slack hears back. People are known only by pseudonyms
(bot/pseudonyms.py): nothing stored says who asked an anonymous question, or who voted.

Every listener is a store half and a follow-up (see `bot/deps.py`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import aiohttp
from apscheduler.triggers.interval import IntervalTrigger
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from bot.deps import BUSY
from bot.guardrail import describe, find_case_detail
from bot.slack.mrkdwn import escape
from bot.slack.roles import RoleCheckUnavailable
from bot.slack.views import build_notice_view
from bot.storage import WriteTimeout, utc_iso
from bot.timefmt import format_local
from handlers.surgery.blocks import (
    ACCEPT_ACTION,
    ANSWER_ACTION,
    ANSWER_CALLBACK,
    ASK_CALLBACK,
    ASK_SHORTCUT,
    CHANGE_CALLBACK,
    DECLINE_ACTION,
    DECLINE_CALLBACK,
    FORUM_BLOCK,
    FORUMS,
    INTO_ACTION,
    INTO_BLOCK,
    MERGE_CALLBACK,
    MESSAGE_SHORTCUT,
    MORE_ACTION,
    OPEN_ASK_ACTION,
    QUESTION_BLOCK,
    REASON_ACTION,
    REASON_BLOCK,
    TOPIC_BLOCK,
    VOTE_ACTION,
    build_agenda_message,
    build_answer_dm,
    build_answer_public,
    build_answer_view,
    build_answered,
    build_ask_button,
    build_ask_view,
    build_board,
    build_change_view,
    build_decline_view,
    build_merge_view,
    build_moderated_board,
    build_my_questions,
    build_queue,
    build_receipt_view,
    build_to_answer,
    read_question,
    safe_permalink,
)

if TYPE_CHECKING:
    from bot.deps import Deps

logger = logging.getLogger(__name__)

COMMAND = "/ask"
AGENDA_JOB = "surgery:agendas"
HOME_SECTION = "surgery"
HELP = (
    "*Surgery questions* — for the monthly staff surgery and the Practice Advisory Group\n"
    "• `/ask` or `/ask <your question>` — ask (anonymously unless you untick it)\n"
    "• `/ask list` — the board, most votes first (`/ask list recent`: newest first)\n"
    "• `/ask mine` — your questions and where they have got to, with their answers\n"
    '• `/ask answered` — "You said, we did": questions answered, and what was done\n'
    "Your questions and the board are on my Home tab too."
)
LEADS_ONLY = "Only engagement leads can review questions."
NOT_STORED = "That didn't go through, so nothing was kept. Please try again."


def register(app: AsyncApp, deps: Deps) -> None:
    """Wire `/ask`, the shortcuts, the asking modal, votes, moderation and Home's sections."""

    def own_tag(user_id: str) -> Callable[[str], str]:
        """The asker's pseudonym for one anonymous question, by its reference."""
        return lambda ref: deps.pseudonyms.own(ref, user_id)

    def today() -> str:
        return deps.clock().astimezone(deps.config.timezone).date().isoformat()

    def voter(user_id: str) -> str:
        return deps.pseudonyms.voter(user_id)

    async def is_lead(user_id: str) -> bool:
        try:
            return await deps.roles.is_engagement_lead(user_id)
        except RoleCheckUnavailable:
            return False

    async def accept(ack: Any, context: dict[str, Any]) -> None:
        """Opening a modal or a list records nothing: answer Slack at once, then do it."""
        await ack()

    async def open_ask(
        trigger_id: str, *, text: str = "", quoted: str | None = None, unlinked: bool = False
    ) -> None:
        view = build_ask_view(
            deps.config.surgery_topics,
            deps.config.safeguarding_note,
            text=text,
            quoted=quoted,
            forums=tuple(deps.config.forums),
            unlinked=unlinked,
        )
        await deps.client.views_open(trigger_id=trigger_id, view=view)

    async def answer_command(context: dict[str, Any], body: dict[str, Any]) -> None:
        """`/ask`: the modal (pre-filled with any text), or the board, or their questions."""
        text = " ".join((body.get("text") or "").split())
        user_id = body["user_id"]
        word = text.lower()
        if word in ("help", "?"):
            await deps.replies.respond(body["response_url"], HELP)
        elif word in ("list", "list votes", "list recent"):
            order: Literal["votes", "recent"] = "recent" if word.endswith("recent") else "votes"
            board = await deps.storage.questions.board(order=order, voter=voter(user_id))
            blocks = [b.to_dict() for b in build_board(board, order=order)]
            await deps.replies.respond(body["response_url"], "The question board", blocks=blocks)
        elif word == "answered":
            answered = await deps.storage.questions.answered(limit=10)
            blocks = [b.to_dict() for b in build_answered(answered)]
            await deps.replies.respond(body["response_url"], "You said, we did", blocks=blocks)
        elif word == "mine":
            mine = await deps.storage.questions.mine(user_id, own_tag(user_id), now=deps.clock())
            blocks = [b.to_dict() for b in build_my_questions(mine)]
            if blocks:
                await deps.replies.respond(body["response_url"], "My questions", blocks=blocks)
            else:
                await deps.replies.respond(
                    body["response_url"], "You haven't asked a question yet. `/ask` to ask one."
                )
        else:
            await open_ask(body["trigger_id"], text=(body.get("text") or "").strip())

    async def from_shortcut(context: dict[str, Any], body: dict[str, Any]) -> None:
        await open_ask(body["trigger_id"])

    async def from_message(context: dict[str, Any], body: dict[str, Any]) -> None:
        """ "Ask about this" on a message: the modal, linking it (quoted if Slack gives a link)."""
        channel = (body.get("channel") or {}).get("id")
        ts = (body.get("message") or {}).get("ts") or body.get("message_ts")
        link, private = None, False
        if channel and ts:
            try:
                # Only a message in a public channel is linked: a link into a DM, a group DM
                # or a private channel would say who could have asked.
                info = (await deps.client.conversations_info(channel=channel))["channel"]
                public = bool(info.get("is_channel")) and not any(
                    info.get(k) for k in ("is_private", "is_im", "is_mpim", "is_group")
                )
                if public:
                    answer = await deps.client.chat_getPermalink(channel=channel, message_ts=ts)
                    link = safe_permalink(answer.get("permalink"))
                else:
                    private = True
            except SlackApiError as error:
                private = True  # a conversation the bot cannot see is not public
                logger.info("no link for a message (%s)", error.response.get("error"))
        await open_ask(body["trigger_id"], quoted=link, unlinked=private)

    async def open_from_home(context: dict[str, Any], body: dict[str, Any]) -> None:
        await open_ask(body["trigger_id"])

    async def store_question(
        ack: Any, body: dict[str, Any], view: dict[str, Any], context: dict[str, Any]
    ) -> None:
        """Send question: checked, then committed before Slack hears back; the modal becomes
        the receipt."""
        values = (view.get("state") or {}).get("values") or {}
        text, topic, forum, anonymous = read_question(values)
        text = text.strip()
        errors: dict[str, str] = {}
        if not text:
            errors[QUESTION_BLOCK] = "Write your question."
        elif len(text) > 3000:
            errors[QUESTION_BLOCK] = "That's over 3,000 characters: please shorten it."
        else:
            found = find_case_detail(text)
            if found:
                # What was found, and why; never logged (it is case detail).
                errors[QUESTION_BLOCK] = (
                    f"This looks like it has case detail in it ({describe(found)}). Please take "
                    "it out: questions are read by others and kept. See the note below for "
                    "where a concern about a child goes."
                )[:2000]
        if topic not in deps.config.surgery_topics:
            errors[TOPIC_BLOCK] = "Choose one of the topics."
        if forum not in deps.config.forums:
            errors[FORUM_BLOCK] = "Choose where it should go: that one is not running now."
        if errors:
            logger.info("a question was returned for changes (%s)", ", ".join(sorted(errors)))
            await ack(response_action="errors", errors=errors)
            return
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            meta = {}
        quoted = safe_permalink(meta.get("quoted") if isinstance(meta, dict) else None)
        user_id = body["user"]["id"]
        try:
            day = today()  # once: the count and its tag must be of the same day
            asked = await deps.storage.questions.ask(
                text=text,
                topic=topic,
                forum=forum,
                anonymous=anonymous,
                user_id=user_id,
                own_tag=own_tag(user_id),
                quota_tag=deps.pseudonyms.quota(day, user_id),
                day=day,
                quoted=quoted,
                now=deps.clock(),
                per_day=deps.config.questions_per_day,
            )
        except WriteTimeout:
            await ack(
                response_action="errors",
                errors={QUESTION_BLOCK: "That didn't go through, so nothing was kept. Send again."},
            )
            return
        if asked.status == "too_many" or asked.question is None:
            await ack(
                response_action="errors",
                errors={
                    QUESTION_BLOCK: f"You've asked {deps.config.questions_per_day} questions "
                    "today, the most there can be. Please ask this one tomorrow."
                },
            )
            return
        logger.info("a question was recorded")  # never which kind: that narrows who asked
        await ack(response_action="update", view=build_receipt_view(asked.question))

    async def store_vote(ack: Any, body: dict[str, Any], context: dict[str, Any]) -> None:
        """A vote, once per person, committed before Slack hears back."""
        value = str(((body.get("actions") or [{}])[0]).get("value") or "")
        if not value.isdigit() or len(value) > 16:
            context["vote"] = "unknown"
            await ack()
            return
        try:
            voted = await deps.storage.questions.vote(int(value), voter(body["user"]["id"]))
        except WriteTimeout:
            context["vote"] = "not_stored"
            await ack()
            return
        context["vote"] = voted.status
        await ack()

    async def after_vote(context: dict[str, Any], body: dict[str, Any]) -> None:
        notes = {
            "recorded": "Thanks: your vote is counted.",
            "repeat": "You've voted for that one already: each person's vote counts once.",
            "closed": "That question is no longer open for votes.",
            "unknown": "Sorry, I can't find that question.",
            "not_stored": "That didn't go through, so nothing was kept. Please try again.",
        }
        note = notes.get(str(context.get("vote")), notes["unknown"])
        user_id = body["user"]["id"]
        if (body.get("view") or {}).get("type") == "home":
            await deps.home.publish(user_id, notice=note)
        elif body.get("response_url"):
            board = await deps.storage.questions.board(order="votes", voter=voter(user_id))
            blocks = [b.to_dict() for b in build_board(board, order="votes")]
            blocks.insert(0, {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
            await deps.replies.respond(body["response_url"], note, blocks=blocks, replace=True)

    async def store_acceptance(ack: Any, body: dict[str, Any], context: dict[str, Any]) -> None:
        """Accept a question onto the board (engagement leads), recorded before Slack hears."""
        user_id = body["user"]["id"]
        value = str(((body.get("actions") or [{}])[0]).get("value") or "")
        if not await is_lead(user_id):
            context["said"] = LEADS_ONLY
        elif not value.isdigit() or len(value) > 16:
            context["said"] = "Sorry, I can't find that question."
        else:
            try:
                done = await deps.storage.questions.moderate(
                    int(value), action="accept", by=user_id, now=deps.clock()
                )
            except WriteTimeout:
                context["said"] = NOT_STORED
            else:
                context["said"] = _moderated(done, "is on the board now")
        await ack()

    async def after_moderation(context: dict[str, Any], body: dict[str, Any]) -> None:
        said = str(context.get("said") or "")
        if (body.get("view") or {}).get("type") == "home":
            await deps.home.publish(body["user"]["id"], notice=said)
        else:
            await deps.replies.tell(body, said)

    async def open_decline(context: dict[str, Any], body: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        value = str(((body.get("actions") or [{}])[0]).get("value") or "")
        question = (
            await deps.storage.questions.get(int(value))
            if value.isdigit() and len(value) <= 16
            else None
        )
        if not await is_lead(user_id):
            view = build_notice_view("Decline", LEADS_ONLY)
        elif question is None:
            view = build_notice_view("Decline", "Sorry, I can't find that question.")
        elif question.state != "pending":
            view = build_notice_view("Decline", f"{question.ref} has been reviewed already.")
        else:
            view = build_decline_view(question)
        await deps.client.views_open(trigger_id=body["trigger_id"], view=view)

    async def store_decline(
        ack: Any, body: dict[str, Any], view: dict[str, Any], context: dict[str, Any]
    ) -> None:
        """Decline, with the reason the asker sees: recorded before Slack hears back."""
        user_id = body["user"]["id"]
        values = (view.get("state") or {}).get("values") or {}
        reason = str(((values.get(REASON_BLOCK) or {}).get(REASON_ACTION) or {}).get("value") or "")
        try:
            question_id = int(json.loads(view.get("private_metadata") or "")["q"])
        except (ValueError, KeyError, TypeError):
            await ack(response_action="update", view=build_notice_view("Decline", "Not found."))
            return
        if not reason.strip():
            await ack(response_action="errors", errors={REASON_BLOCK: "Say why, for the asker."})
            return
        if not await is_lead(user_id):
            await ack(response_action="update", view=build_notice_view("Decline", LEADS_ONLY))
            return
        try:
            done = await deps.storage.questions.moderate(
                question_id, action="decline", by=user_id, now=deps.clock(), reason=reason
            )
        except WriteTimeout:
            await ack(response_action="errors", errors={REASON_BLOCK: NOT_STORED})
            return
        text = _moderated(done, "is declined; the asker sees why under My questions")
        await ack(response_action="update", view=build_notice_view("Decline", text))

    def question_id(value: str) -> int | None:
        return int(value) if value.isdigit() and len(value) <= 16 else None

    async def open_more(context: dict[str, Any], body: dict[str, Any]) -> None:
        """The board's overflow: answer it, merge a duplicate, or change its topic or forum."""
        user_id = body["user"]["id"]
        action = (body.get("actions") or [{}])[0]
        what, _, raw = str((action.get("selected_option") or {}).get("value") or "").partition(":")
        found = question_id(raw)
        question = await deps.storage.questions.get(found) if found is not None else None
        if not await is_lead(user_id):
            view = build_notice_view("Review", LEADS_ONLY)
        elif question is None or what not in ("merge", "change", "answer"):
            view = build_notice_view("Review", "Sorry, I can't find that question.")
        elif what == "answer":  # answered outside a meeting: straight from the board
            if question.state not in ("accepted", "agenda"):
                view = build_notice_view("Answer", f"{question.ref} has been answered or closed.")
            else:
                view = build_answer_view(question)
        elif what == "merge":
            if question.state not in ("pending", "accepted"):
                view = build_notice_view("Merge", f"{question.ref} can no longer be merged.")
            else:
                merge = build_merge_view(question, await deps.storage.questions.candidates())
                view = merge or build_notice_view(
                    "Merge", "There is no other question to merge into."
                )
        elif question.state not in ("pending", "accepted"):
            view = build_notice_view("Change", f"{question.ref} can no longer be changed.")
        else:
            view = build_change_view(question, deps.config.surgery_topics)
        await deps.client.views_open(trigger_id=body["trigger_id"], view=view)

    def modal_question(view: dict[str, Any]) -> int | None:
        try:
            return int(json.loads(view.get("private_metadata") or "")["q"])
        except (ValueError, KeyError, TypeError):
            return None

    async def store_merge(
        ack: Any, body: dict[str, Any], view: dict[str, Any], context: dict[str, Any]
    ) -> None:
        """Merge: votes combine, the asker sees which it joined; recorded before Slack hears."""
        user_id = body["user"]["id"]
        values = (view.get("state") or {}).get("values") or {}
        chosen = ((values.get(INTO_BLOCK) or {}).get(INTO_ACTION) or {}).get("selected_option")
        into = question_id(str((chosen or {}).get("value") or ""))
        source = modal_question(view)
        if not await is_lead(user_id):
            await ack(response_action="update", view=build_notice_view("Merge", LEADS_ONLY))
            return
        if source is None or into is None:
            await ack(response_action="errors", errors={INTO_BLOCK: "Choose a question."})
            return
        try:
            done = await deps.storage.questions.moderate(
                source, action="merge", by=user_id, now=deps.clock(), into=into
            )
        except WriteTimeout:
            await ack(response_action="errors", errors={INTO_BLOCK: NOT_STORED})
            return
        text = _moderated(done, "is merged; its votes count for the question it joined")
        await ack(response_action="update", view=build_notice_view("Merge", text))

    async def store_change(
        ack: Any, body: dict[str, Any], view: dict[str, Any], context: dict[str, Any]
    ) -> None:
        user_id = body["user"]["id"]
        values = (view.get("state") or {}).get("values") or {}
        _, topic, forum, _ = read_question(values)
        errors = {}
        if topic not in deps.config.surgery_topics:
            errors[TOPIC_BLOCK] = "Choose one of the topics."
        if forum not in deps.config.forums:
            errors[FORUM_BLOCK] = "Choose where it should go: that one is not running now."
        source = modal_question(view)
        if not await is_lead(user_id):
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
        text = _moderated(done, f"is now under {escape(topic)}, for the {FORUMS[forum]}")
        await ack(response_action="update", view=build_notice_view("Change", text))

    async def open_answer(context: dict[str, Any], body: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        value = str(((body.get("actions") or [{}])[0]).get("value") or "")
        found = question_id(value)
        question = await deps.storage.questions.get(found) if found is not None else None
        if not await is_lead(user_id):
            view = build_notice_view("Answer", LEADS_ONLY)
        elif question is None:
            view = build_notice_view("Answer", "Sorry, I can't find that question.")
        elif question.state not in ("accepted", "agenda"):
            view = build_notice_view(
                "Answer", f"{question.ref} has been answered or closed already."
            )
        else:
            view = build_answer_view(question)
        await deps.client.views_open(trigger_id=body["trigger_id"], view=view)

    async def store_answer(
        ack: Any, body: dict[str, Any], view: dict[str, Any], context: dict[str, Any]
    ) -> None:
        """The answer: recorded, and queued to the asker and "You said, we did", before Slack
        hears back."""
        user_id = body["user"]["id"]
        values = (view.get("state") or {}).get("values") or {}
        answer = str(((values.get("answer") or {}).get("answer") or {}).get("value") or "")
        action = str(((values.get("action") or {}).get("action") or {}).get("value") or "")
        source = modal_question(view)
        if not await is_lead(user_id):
            await ack(response_action="update", view=build_notice_view("Answer", LEADS_ONLY))
            return
        if not answer.strip():
            await ack(response_action="errors", errors={"answer": "Write the answer."})
            return
        if source is None:
            await ack(response_action="update", view=build_notice_view("Answer", "Not found."))
            return
        channel = await postable(deps.config.you_said_we_did_channel)
        if channel is None:
            text = (
                f"I can't post in {escape(deps.config.you_said_we_did_channel)}, so nothing was "
                "kept. Check YOU_SAID_WE_DID_CHANNEL and that I'm in the channel, then send again."
            )
            await ack(response_action="errors", errors={"answer": text})
            return
        try:
            done = await deps.storage.questions.answer(
                source,
                answer=answer,
                action=action,
                by=user_id,
                now=deps.clock(),
                channel=channel,
                render_public=build_answer_public,
                render_asker=build_answer_dm,
            )
        except WriteTimeout:
            await ack(response_action="errors", errors={"answer": NOT_STORED})
            return
        context["answered"] = done.status == "done"
        text = _moderated(done, 'is answered: its asker and "You said, we did" will see it')
        await ack(response_action="update", view=build_notice_view("Answer", text))

    async def send_answer(context: dict[str, Any], body: dict[str, Any]) -> None:
        if context.get("answered"):
            deps.outbox.wake()

    async def draw_agenda(forum: str, *, early: bool = False) -> tuple[str, int, int] | None:
        """The next meeting's agenda for `forum`, drawn up and queued to its channel once:
        at its cut-off, or `early` when a lead asks. (channel, questions, carried), or None
        if it is not due, was drawn up already, or its channel cannot be found."""
        now = deps.clock()
        rule, where = deps.config.forums[forum]
        meeting = rule.next_after(now, deps.config.timezone)
        cutoff = rule.cutoff(meeting, deps.config.agenda_cutoff_days)
        if not early and now < cutoff:
            return None
        if await deps.storage.questions.agenda_drawn(forum, meeting):
            return None
        if not early and not await deps.storage.questions.count_on_board(forum):
            # Nothing to put on it: it stays open (a first start after the cut-off, say),
            # and a question accepted before the meeting still makes it.
            return None
        channel = await postable(where)
        if channel is None:
            return None
        when = format_local(utc_iso(meeting), deps.config.timezone)

        def render(agenda: list[Any], carried: int) -> dict[str, Any]:
            return build_agenda_message(forum, when, agenda, carried)

        drawn = await deps.storage.questions.draw_agenda(
            forum=forum,
            meeting_at=meeting,
            size=deps.config.agenda_size,
            channel=channel,
            render=render,
            now=now,
        )
        if drawn is None:
            return None
        agenda, carried = drawn  # as the posted agenda says
        logger.info("%s agenda drawn up: %d question(s)", forum, len(agenda))
        deps.outbox.wake()
        return where, len(agenda), carried

    channels: dict[str, str] = {}  # channel name -> id, looked up once
    reported: set[str] = set()

    async def postable(where: str) -> str | None:
        """The channel's id if the bot can post there; else None, logged once a problem."""
        try:
            if where not in channels:
                channels[where] = await asyncio.wait_for(deps.audiences.channel_id(where), 1.5)
            # Bounded: an answer's submit waits on this before Slack hears back.
            why = await asyncio.wait_for(deps.audiences.cannot_post(channels[where], where), 1.5)
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
            why = f"{where} cannot be found ({type(error).__name__})"
        if why is None:
            reported.discard(where)
            return channels[where]
        if where not in reported:  # once, not every minute
            reported.add(where)
            logger.error("cannot post in %s: %s", where, why)
        return None

    async def draw_agendas() -> None:
        """At each forum's cut-off, its next meeting's agenda, once (rebuilt from the
        database at every start: `agendas` says which were drawn up)."""
        for forum in deps.config.forums:
            await draw_agenda(forum)
        await deps.storage.questions.scrub()  # a WAL a reader kept from being emptied at once

    async def engage_agenda(user_id: str, text: str) -> tuple[str, list[dict[str, Any]] | None]:
        """`/engage agenda surgery|pag`: draw up the next meeting's agenda now, before its
        cut-off (engagement leads)."""
        if not await is_lead(user_id):
            return LEADS_ONLY, None
        forum = [*text.split(), "", ""][1].lower()
        if forum not in deps.config.forums:
            running = " or ".join(f"`{f}`" for f in deps.config.forums) or "none is running"
            return f"Which forum? `/engage agenda &lt;forum&gt;`, with {running}.", None
        done = await draw_agenda(forum, early=True)
        if done is None:
            return (
                f"The next {FORUMS[forum]} agenda was drawn up already, or its channel "
                f"({escape(deps.config.forums[forum][1])}) cannot be found.",
                None,
            )
        where, chosen, carried = done
        return (
            f"The {FORUMS[forum]} agenda is posted in {escape(where)}: {chosen} question"
            f"{'s' if chosen != 1 else ''}, {carried} carried forward to the meeting after.",
            None,
        )

    deps.engage.add(
        "agenda",
        engage_agenda,
        "`/engage agenda surgery|pag` — post the next meeting's agenda now, before its cut-off",
    )

    deps.scheduler.add_job(AGENDA_JOB, draw_agendas, IntervalTrigger(minutes=1), run_at_start=True)

    async def engage_queue(user_id: str, text: str) -> tuple[str, list[dict[str, Any]] | None]:
        """`/engage queue`: the questions waiting for review (engagement leads)."""
        if not await is_lead(user_id):
            return LEADS_ONLY, None
        # Slack shows 50 blocks in a message: each part gets its share, and says if there are
        # more (Home and a second look after acting show the rest).
        waiting = await deps.storage.questions.pending(limit=100)
        board = await deps.storage.questions.board(order="votes", voter="", limit=100)
        to_answer = await deps.storage.questions.on_agenda(limit=100)
        blocks = build_queue(waiting[:7], total=len(waiting)) or [
            SectionBlock(text=MarkdownTextObject(text="No questions are waiting for review."))
        ]
        blocks += _more(len(waiting) - 7, "waiting for review")
        blocks += build_to_answer(to_answer[:7], deps.config.timezone)
        blocks += _more(len(to_answer) - 7, "on an agenda to answer")
        blocks += build_moderated_board(board[:10])
        blocks += _more(len(board) - 10, "on the board")
        return "Questions to review", [b.to_dict() for b in blocks]

    deps.engage.add("queue", engage_queue, "`/engage queue` — surgery questions waiting for review")

    app.view(ASK_CALLBACK)(deps.work.legacy_listener(store_question))
    app.action(VOTE_ACTION)(deps.work.legacy_listener(store_vote, follow_up=after_vote))
    app.command(COMMAND)(deps.work.legacy_listener(accept, follow_up=answer_command, busy=BUSY))
    app.shortcut(ASK_SHORTCUT)(deps.work.legacy_listener(accept, follow_up=from_shortcut))
    app.shortcut(MESSAGE_SHORTCUT)(deps.work.legacy_listener(accept, follow_up=from_message))
    app.action(OPEN_ASK_ACTION)(deps.work.legacy_listener(accept, follow_up=open_from_home))
    app.action(ACCEPT_ACTION)(
        deps.work.legacy_listener(store_acceptance, follow_up=after_moderation)
    )
    app.action(DECLINE_ACTION)(deps.work.legacy_listener(accept, follow_up=open_decline))
    app.view(DECLINE_CALLBACK)(deps.work.legacy_listener(store_decline))
    app.action(MORE_ACTION)(deps.work.legacy_listener(accept, follow_up=open_more))
    app.view(MERGE_CALLBACK)(deps.work.legacy_listener(store_merge))
    app.view(CHANGE_CALLBACK)(deps.work.legacy_listener(store_change))
    app.action(ANSWER_ACTION)(deps.work.legacy_listener(accept, follow_up=open_answer))
    app.view(ANSWER_CALLBACK)(deps.work.legacy_listener(store_answer, follow_up=send_answer))

    async def home_section(user_id: str) -> list[Any]:
        blocks: list[Any] = []
        if await is_lead(user_id):
            blocks += build_queue(await deps.storage.questions.pending(limit=5))
            blocks += build_to_answer(
                await deps.storage.questions.on_agenda(limit=5), deps.config.timezone
            )
        blocks += build_my_questions(
            await deps.storage.questions.mine(user_id, own_tag(user_id), limit=5, now=deps.clock())
        )
        board = await deps.storage.questions.board(order="votes", voter=voter(user_id), limit=5)
        blocks += build_board(board, order="votes")
        return blocks + build_ask_button()

    deps.home.add_section(HOME_SECTION, home_section, order=30)


def _more(n: int, where: str) -> list[Any]:
    if n <= 0:
        return []
    return [SectionBlock(text=MarkdownTextObject(text=f"_…and {n} more {where}_"))]


def _moderated(done: Any, what: str) -> str:
    question = done.question
    if done.status == "done" and question is not None:
        return f"{question.ref} {what}."
    if done.status == "not_pending" and question is not None:
        return f"{question.ref} has been reviewed already ({escape(question.state)})."
    if done.status == "invalid":
        return f"That can't be done: {escape(done.reason)}."
    return "Sorry, I can't find that question."
