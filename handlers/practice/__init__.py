"""Practice search: `/practice <words>`, the search modal, a note in full, "Did this help?",
and for engagement leads the gaps (`/engage gaps`) and a rebuild of the index (`/engage reload`).

Search answers from `deps.practice` (bot/practice/library.py), built at start and swapped
whole on reload. What staff looked for and did not find is kept as its words and the day only
(bot/storage/search_gaps.py), and never when it looks like case detail (bot/guardrail.py).

Every listener is a store half and a follow-up (see `bot/deps.py`).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.deps import BUSY
from bot.guardrail import find_case_detail
from bot.practice.library import Found
from bot.slack.mrkdwn import escape
from bot.slack.roles import RoleCheckUnavailable
from bot.slack.views import build_notice_view
from bot.storage import WriteTimeout
from handlers.practice.blocks import (
    HELPED_ACTION,
    NOT_HELPED_ACTION,
    OPEN_NOTE_ACTION,
    OPEN_SEARCH_ACTION,
    QUERY_ACTION,
    QUERY_BLOCK,
    RAISE_ACTION,
    SEARCH_CALLBACK,
    build_gaps,
    build_help,
    build_home_section,
    build_note_view,
    build_results,
    build_search_view,
    gap_question,
    read_feedback,
)

if TYPE_CHECKING:
    from bot.deps import Deps

logger = logging.getLogger(__name__)

COMMAND = "/practice"
HOME_SECTION = "practice"
GAP_DAYS = 90
LEADS_ONLY = "Only engagement leads can see the gaps or reload the guidance."
NOT_READY = "Practice search is still starting up. Please try again in a minute."
GONE = "That note is no longer in the guidance: search again for the current one."
AGAIN = "That didn't go through, so nothing was kept. Please try again."
NOTHING_TO_SEARCH = "There's nothing in that to search by: try a few words about the topic.\n"
THANKS_HELPED = "Thanks — glad it helped."
THANKS_NOT = (
    "Thanks for saying. We keep the words you searched (never who searched) so the guidance can "
    "grow where it falls short. For an answer now, ask your team manager, or ask the staff "
    "surgery with `/ask`."
)


def register(app: AsyncApp, deps: Deps) -> None:
    """Wire `/practice`, the modal, the buttons, Home's section and two `/engage` words."""
    library = deps.practice

    def today() -> Any:
        return deps.clock().astimezone(deps.config.timezone).date()

    async def is_lead(user_id: str) -> bool:
        try:
            return await deps.roles.is_engagement_lead(user_id)
        except RoleCheckUnavailable:
            return False

    async def note_gap(found: Found, reason: Any) -> None:
        """Count a search that found nothing or did not help: its words only, never case
        detail (a child's name or date of birth typed into the box)."""
        if find_case_detail(found.query):
            logger.info("a practice search gap was not kept: it looked like case detail")
            return
        await deps.storage.gaps.record_gap(found.query, reason, today())

    async def results(found: Found, feedback: str | None = None, *, wait: bool = True) -> list[Any]:
        """The results; "who can help" links a channel Slack knows (waiting a second at most
        for the list, and not at all before an ack)."""
        links = (
            await deps.audiences.shown_channels(wait=1.0 if wait else 0) if found.helpers else {}
        )
        return build_results(
            found, library.due, topics=library.topics(), feedback=feedback, channels=links
        )

    def notice(text: str) -> Any:
        """What went wrong, in the search modal: Back returns to it."""
        return build_notice_view("Practice search", escape(text), close="Back")

    async def accept(ack: Any, context: dict[str, Any]) -> None:
        """Searching and opening record nothing: Slack hears back at once, the answer follows."""
        await ack()

    async def answer_command(context: dict[str, Any], body: dict[str, Any]) -> None:
        """`/practice <words>`: the best matches, privately; on its own, the search modal."""
        text = " ".join((body.get("text") or "").split())
        if text.lower() in ("help", "?"):
            await deps.replies.respond(body["response_url"], build_help())
            return
        if not text:
            await deps.client.views_open(trigger_id=body["trigger_id"], view=build_search_view())
            return
        if library.shelf is None:
            await deps.replies.respond(body["response_url"], NOT_READY)
            return
        found = await library.search(text)
        if not found.searchable:
            await deps.replies.respond(body["response_url"], NOTHING_TO_SEARCH + build_help())
            return
        blocks = [b.to_dict() for b in await results(found)]
        title = f"Practice guidance for “{escape(found.query[:200])}”"
        await deps.replies.respond(body["response_url"], title, blocks=blocks)
        if found.empty:  # after the answer: the person never waits on the count
            try:
                await note_gap(found, "no_match")
            except WriteTimeout:
                logger.warning("a practice search gap could not be kept in time")

    async def open_search(context: dict[str, Any], body: dict[str, Any]) -> None:
        await deps.client.views_open(trigger_id=body["trigger_id"], view=build_search_view())

    async def store_search(ack: Any, view: dict[str, Any], context: dict[str, Any]) -> None:
        """The modal's Search: the results replace the modal's lower half, at once."""
        values = (view.get("state") or {}).get("values") or {}
        raw = ((values.get(QUERY_BLOCK) or {}).get(QUERY_ACTION) or {}).get("value") or ""
        text = " ".join(str(raw).split())
        if not text:
            await ack(
                response_action="errors",
                errors={QUERY_BLOCK: "Type what you're looking for, e.g. return home interview."},
            )
            return
        if library.shelf is None:
            await ack(response_action="errors", errors={QUERY_BLOCK: NOT_READY})
            return
        found = await library.search(text)
        if not found.searchable:
            await ack(response_action="errors", errors={QUERY_BLOCK: NOTHING_TO_SEARCH.strip()})
            return
        if found.empty:
            try:
                await note_gap(found, "no_match")
            except WriteTimeout:
                logger.warning("a practice search gap could not be kept in time")
        shown = build_search_view(await results(found, wait=False), query=found.query)
        await ack(response_action="update", view=shown)

    async def open_note(context: dict[str, Any], body: dict[str, Any]) -> None:
        """ "Open": the whole note, over the search modal or on its own."""
        note_id = str(((body.get("actions") or [{}])[0]).get("value") or "")
        note = library.note(note_id)
        in_modal = (body.get("view") or {}).get("type") == "modal"
        if note is None and not in_modal:
            await deps.replies.tell(body, GONE)
            return
        view = (
            build_note_view(note, library.due)
            if note
            else build_notice_view("Practice search", escape(GONE), close="Back")
        )
        try:
            if in_modal:
                await deps.client.views_push(trigger_id=body["trigger_id"], view=view)
            else:
                await deps.client.views_open(trigger_id=body["trigger_id"], view=view)
        except SlackApiError as error:
            logger.info("a practice note did not open (%s)", error.response.get("error"))

    async def store_feedback(ack: Any, body: dict[str, Any], context: dict[str, Any]) -> None:
        """ "Did this help?": counted before Slack hears back (the words only, for a "No")."""
        action = (body.get("actions") or [{}])[0]
        read = read_feedback(str(action.get("value") or ""))
        helped = action.get("action_id") == HELPED_ACTION
        context["feedback"] = None
        if read is not None:
            query, note_ids = read
            try:
                if helped:
                    # The best match is the one that helped; a forged id counts nothing.
                    for note_id in note_ids[:1]:
                        if library.note(note_id) is not None:
                            await deps.storage.gaps.record_helped(note_id, today())
                else:
                    found = Found(query, False)
                    await note_gap(found, "unhelpful")
            except WriteTimeout:
                context["feedback"] = "not_stored"
            else:
                context["feedback"] = (query, helped)
        await ack()

    async def after_feedback(context: dict[str, Any], body: dict[str, Any]) -> None:
        said = context.get("feedback")
        if said is None:
            return
        view = body.get("view") or {}
        in_modal = view.get("type") == "modal"
        if said == "not_stored":
            if in_modal:
                await update(
                    view, build_notice_view("Practice search", escape(AGAIN), close="Back")
                )
            else:
                await deps.replies.tell(body, AGAIN)
            return
        query, helped = said
        thanks = THANKS_HELPED if helped else THANKS_NOT
        found = await library.search(query)
        blocks = [b.to_dict() for b in await results(found, feedback=thanks)]
        if in_modal:
            await update(
                view, build_search_view(await results(found, feedback=thanks), query=query)
            )
        elif body.get("response_url"):
            await deps.replies.respond(body["response_url"], thanks, blocks=blocks, replace=True)

    async def update(view: dict[str, Any], shown: Any) -> None:
        """Replace the modal a click came from (unless it changed meanwhile: its hash)."""
        try:
            await deps.client.views_update(
                view_id=view.get("id"), hash=view.get("hash"), view=shown
            )
        except SlackApiError as error:
            logger.info("the search modal was not updated (%s)", error.response.get("error"))

    async def engage_gaps(user_id: str, text: str) -> tuple[str, list[dict[str, Any]] | None]:
        """`/engage gaps`: what staff looked for and did not find (engagement leads)."""
        if not await is_lead(user_id):
            return LEADS_ONLY, None
        since = today() - timedelta(days=GAP_DAYS)
        gaps = await deps.storage.gaps.gaps(since)
        helped = await deps.storage.gaps.helped(since)
        blocks = build_gaps(gaps, days=GAP_DAYS, helped=helped, forum=_forum())
        return "Practice search gaps", [b.to_dict() for b in blocks]

    def _forum() -> str | None:
        """Where a gap goes as a question: the Practice Advisory Group, else the surgery."""
        for forum in ("pag", "surgery"):
            if forum in deps.config.forums:
                return forum
        return None

    async def engage_reload(user_id: str, text: str) -> tuple[str, list[dict[str, Any]] | None]:
        """`/engage reload`: read the guidance again; searches meanwhile use the old index."""
        if not await is_lead(user_id):
            return LEADS_ONLY, None
        shelf = await library.load()
        reply = (
            f"Practice guidance reloaded: {len(shelf.notes)} note(s) and {len(shelf.entries)} "
            f"directory entr{'y' if len(shelf.entries) == 1 else 'ies'}, in {shelf.seconds:.2f} s."
        )
        skipped = sorted({str(p.path) for p in shelf.skipped})
        if skipped:
            reply += (
                "\nLeft out, with problems (run `python -m bot content check` for what to fix): "
                + ", ".join(f"`{escape(path)}`" for path in skipped[:20])
            )
        return reply, None

    async def store_raise(ack: Any, body: dict[str, Any], context: dict[str, Any]) -> None:
        """ "Raise at the surgery": the gap goes on the board as a question, once."""
        user_id = body["user"]["id"]
        query = str(((body.get("actions") or [{}])[0]).get("value") or "")[:500]
        forum = _forum()
        if not await is_lead(user_id):
            context["said"] = LEADS_ONLY
        elif forum is None:
            context["said"] = "Neither the surgery nor the Practice Advisory Group is running."
        else:
            gaps = {
                g.query: g
                for g in await deps.storage.gaps.gaps(today() - timedelta(days=365), limit=500)
            }
            topics = deps.config.surgery_topics
            topic = "Practice" if "Practice" in topics else topics[0]
            try:
                status, made = await deps.storage.gaps.raise_as_question(
                    query,
                    text=gap_question(gaps.get(query), query),
                    topic=topic,
                    forum=forum,
                    by=user_id,
                    now=deps.clock(),
                )
            except WriteTimeout:
                context["said"] = "That didn't go through, so nothing was raised. Please try again."
            else:
                if status == "raised":
                    ref = getattr(made, "ref", "")
                    context["said"] = f"Raised as *{escape(ref)}*: it is on the board for votes."
                elif status == "already":
                    context["said"] = f"That was raised already, as *{escape(str(made))}*."
                else:
                    context["said"] = "Sorry, I can't find that gap any more."
        await ack()

    async def after_raise(context: dict[str, Any], body: dict[str, Any]) -> None:
        said = str(context.get("said") or "")
        user_id = body["user"]["id"]
        _, blocks = await engage_gaps(user_id, "gaps")
        if body.get("response_url") and blocks is not None:
            notice = [{"type": "section", "text": {"type": "mrkdwn", "text": said}}]
            await deps.replies.respond(
                body["response_url"], said, blocks=notice + blocks[:49], replace=True
            )
        else:
            await deps.replies.tell(body, said)

    async def home_section(user_id: str) -> list[Any]:
        return build_home_section()

    deps.engage.add(
        "gaps",
        engage_gaps,
        "`/engage gaps` — what staff searched practice guidance for and didn't find",
    )
    deps.engage.add(
        "reload", engage_reload, "`/engage reload` — read the practice notes and directory again"
    )
    app.command(COMMAND)(deps.work.legacy_listener(accept, follow_up=answer_command, busy=BUSY))
    app.view(SEARCH_CALLBACK)(deps.work.legacy_listener(store_search))
    app.action(OPEN_SEARCH_ACTION)(deps.work.legacy_listener(accept, follow_up=open_search))
    app.action(OPEN_NOTE_ACTION)(deps.work.legacy_listener(accept, follow_up=open_note))
    for action_id in (HELPED_ACTION, NOT_HELPED_ACTION):
        app.action(action_id)(deps.work.legacy_listener(store_feedback, follow_up=after_feedback))
    app.action(RAISE_ACTION)(deps.work.legacy_listener(store_raise, follow_up=after_raise))
    deps.home.add_section(HOME_SECTION, home_section, order=40)
