"""Modals that open within Slack's 3 s, however long the work behind them takes.

A `trigger_id` can open a modal for 3 s after the click or command (then `views.open` answers
`expired_trigger_id`, and the person sees nothing happen). What goes in a modal can need a
role check on a cold cache, Slack's own answers (`conversations.info`, a user-group list) or a
429's Retry-After, any of which can take longer. So `open_modal` gives the work a moment
(`AT_ONCE`): done by then, its modal opens as it is; not, a "One moment…" modal opens at once
and is replaced (`views.update`, by its id and hash) when the work is done. A person who closed
it meanwhile loses nothing: the refused update is only logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TypeVar

from slack_sdk.errors import SlackApiError

from bot.slack.views import build_loading_view, build_notice_view

if TYPE_CHECKING:
    from slack_sdk.models.views import View
    from slack_sdk.web.async_client import AsyncWebClient

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Seconds the work behind a modal may take before "One moment…" is shown instead: well inside
#: Slack's 3 s, leaving room for the request's way here and `views.open`'s own round trip.
AT_ONCE = 0.5
FAILED = "Sorry, that didn't work; it has been logged. Please try again in a minute."


async def settled(task: asyncio.Future[T], within: float) -> bool:
    """Whether `task` is done within `within` seconds (it is left running if not)."""
    if within > 0 and not task.done():
        await asyncio.wait({task}, timeout=within)
    return task.done()


async def open_modal(
    client: AsyncWebClient,
    trigger_id: str,
    work: Awaitable[View],
    *,
    title: str,
    wait: float = AT_ONCE,
) -> None:
    """Open the modal `work` makes, within Slack's 3 s: as it is if it is ready within `wait`
    seconds, else "One moment…" (titled `title`) at once, updated when it is. Work that fails
    is said in the modal and raised (so the listener's failure is logged as any other)."""
    task = asyncio.ensure_future(work)
    if await settled(task, wait):
        await client.views_open(trigger_id=trigger_id, view=_made(task, title))
        task.result()  # raise a failure, now the person has been told
        return
    try:
        opened = await client.views_open(trigger_id=trigger_id, view=build_loading_view(title))
    except BaseException:
        task.cancel()
        raise
    await asyncio.wait({task})
    await update_opened(client, opened.get("view") or {}, _made(task, title))
    task.result()


def _made(task: asyncio.Future[View], title: str) -> View:
    """The view the work made, or the failure notice if it raised."""
    if task.cancelled() or task.exception() is not None:
        return build_notice_view(title, FAILED)
    return task.result()


async def update_opened(client: AsyncWebClient, opened: dict[str, Any], view: View) -> bool:
    """Replace a modal this bot opened (`opened`: the view Slack answered with). False, logged,
    if Slack refused: the person closed it meanwhile (`not_found`) or it changed since
    (`hash_conflict`); either way there is nothing more to show them."""
    try:
        await client.views_update(view_id=opened.get("id"), hash=opened.get("hash"), view=view)
    except SlackApiError as error:
        logger.info("a modal was not updated (%s)", error.response.get("error"))
        return False
    return True
