"""What practice search's listeners share: its texts, the day, keeping a gap, the results.

Kept apart from the listeners so that the slash command, the modal and the buttons say the
same thing the same way, and a gap is kept by one rule (its words only, never case detail).
"""

from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.guardrail import find_case_detail
from bot.practice.library import Found
from bot.slack.mrkdwn import escape
from bot.slack.roles import ENGAGEMENT_LEAD
from bot.slack.views import build_notice_view
from bot.storage import WriteTimeout
from bot.storage.search_gaps import Reason
from handlers.practice.blocks import build_results

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


async def accept(deps: Deps, ack: AsyncAck) -> None:
    """Searching and opening record nothing: Slack hears back at once, the answer follows."""
    await ack()


def today(deps: Deps) -> date:
    """The service's day, in its own timezone: gaps and "helped" are counted by day only."""
    return deps.clock().astimezone(deps.config.timezone).date()


async def is_lead(deps: Deps, user_id: str) -> bool:
    """Gaps and reloads are for engagement leads; when Slack cannot say, the answer is no."""
    verdict = await deps.roles.allows(user_id, {ENGAGEMENT_LEAD})
    return verdict.allowed


async def note_gap(deps: Deps, found: Found, reason: Reason) -> None:
    """Count a search that found nothing (or only what might help) or did not help: its words
    only, never case detail (a child's name or date of birth typed into the box), and never
    words that are no words at all."""
    if not found.real:  # keyboard noise ("xyzzy plugh"): nothing to learn from
        return
    if find_case_detail(found.query):
        logger.info("a practice search gap was not kept: it looked like case detail")
        return
    await deps.storage.gaps.record_gap(found.query, reason, today(deps))
    deps.home.soon(roles=(ENGAGEMENT_LEAD,))  # the leads' Homes list the week's gaps


async def note_unsure(deps: Deps, found: Found) -> None:
    """After the answer: a search with no strong match is a gap (the person never waits)."""
    if found.sure:
        return
    try:
        await note_gap(deps, found, "no_match" if found.empty else "weak")
    except WriteTimeout:
        logger.warning("a practice search gap could not be kept in time")


async def results(
    deps: Deps, found: Found, feedback: str | None = None, *, wait: bool = True
) -> list[Block]:
    """The results; "who can help" links a channel Slack knows (waiting a second at most
    for the list, and not at all before an ack)."""
    library = deps.practice
    links = await deps.audiences.shown_channels(wait=1.0 if wait else 0) if found.helpers else {}
    return build_results(
        found, library.due, topics=library.topics(), feedback=feedback, channels=links
    )


def notice(text: str) -> View:
    """What went wrong, in the search modal: Back returns to it."""
    return build_notice_view("Practice search", escape(text), close="Back")


def forum(deps: Deps) -> str | None:
    """Where a gap goes as a question: the Practice Advisory Group, else the surgery."""
    for name in ("pag", "surgery"):
        if name in deps.config.forums:
            return name
    return None


async def update_modal(deps: Deps, view: dict[str, Any], shown: View) -> None:
    """Replace the modal a click came from (unless it changed meanwhile: its hash)."""
    try:
        await deps.client.views_update(view_id=view.get("id"), hash=view.get("hash"), view=shown)
    except SlackApiError as error:
        logger.info("the search modal was not updated (%s)", error.response.get("error"))
