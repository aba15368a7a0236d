"""Practice search's modal submission: the search modal's Search button.

It records nothing but a gap, and answers in Slack's own reply (`response_action`), so the
whole work is the store half and there is no follow-up.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck

from handlers.practice.blocks import QUERY_ACTION, QUERY_BLOCK, build_search_view
from handlers.practice.common import NOT_READY, NOTHING_TO_SEARCH, note_unsure, results

if TYPE_CHECKING:
    from bot.deps import Deps

logger = logging.getLogger(__name__)

EMPTY_SEARCH = "Type what you're looking for, e.g. return home interview."


def typed_query(view: dict[str, Any]) -> str:
    """What the person typed in the search box, with its runs of spaces folded."""
    values = (view.get("state") or {}).get("values") or {}
    raw = ((values.get(QUERY_BLOCK) or {}).get(QUERY_ACTION) or {}).get("value") or ""
    return " ".join(str(raw).split())


async def store_search(deps: Deps, ack: AsyncAck, view: dict[str, Any]) -> None:
    """The modal's Search: the results replace the modal's lower half, at once."""
    library = deps.practice
    text = typed_query(view)
    if not text:
        await ack(response_action="errors", errors={QUERY_BLOCK: EMPTY_SEARCH})
        return
    if library.shelf is None:
        await ack(response_action="errors", errors={QUERY_BLOCK: NOT_READY})
        return
    found = await library.search(text)
    if not found.searchable:
        await ack(response_action="errors", errors={QUERY_BLOCK: NOTHING_TO_SEARCH.strip()})
        return
    shown = build_search_view(await results(deps, found, wait=False), query=found.query)
    await ack(response_action="update", view=shown)
    await note_unsure(deps, found)  # after the answer: the person never waits for it
