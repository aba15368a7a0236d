"""Practice search's slash command words: `/practice <words>`, and the two `/engage` words it
adds for engagement leads (`gaps`, `reload`).

`/practice` records nothing, so its store half only answers Slack (`common.accept`) and
`answer_command` does the search once Slack has its answer.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.slack.mrkdwn import escape
from handlers.practice.blocks import build_gaps, build_help, build_search_view
from handlers.practice.common import (
    GAP_DAYS,
    LEADS_ONLY,
    NOT_READY,
    NOTHING_TO_SEARCH,
    forum,
    is_lead,
    note_unsure,
    results,
    today,
)

if TYPE_CHECKING:
    from bot.deps import Deps

logger = logging.getLogger(__name__)

EngageAnswer = tuple[str, list[dict[str, Any]] | None]


async def answer_command(deps: Deps, said: None, body: dict[str, Any]) -> None:
    """`/practice <words>`: the best matches, privately; on its own, the search modal."""
    library = deps.practice
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
    blocks = [b.to_dict() for b in await results(deps, found)]
    title = f"Practice guidance for “{escape(found.query[:200])}”"
    await deps.replies.respond(body["response_url"], title, blocks=blocks)
    await note_unsure(deps, found)  # after the answer: the person never waits on the count


async def engage_gaps(deps: Deps, user_id: str, text: str) -> EngageAnswer:
    """`/engage gaps`: what staff looked for and did not find (engagement leads)."""
    if not await is_lead(deps, user_id):
        return LEADS_ONLY, None
    since = today(deps) - timedelta(days=GAP_DAYS)
    gaps = await deps.storage.gaps.gaps(since)
    helped = await deps.storage.gaps.helped(since)
    blocks = build_gaps(gaps, days=GAP_DAYS, helped=helped, forum=forum(deps))
    return "Practice search gaps", [b.to_dict() for b in blocks]


async def engage_reload(deps: Deps, user_id: str, text: str) -> EngageAnswer:
    """`/engage reload`: read the guidance again; searches meanwhile use the old index."""
    if not await is_lead(deps, user_id):
        return LEADS_ONLY, None
    shelf = await deps.practice.load()
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
