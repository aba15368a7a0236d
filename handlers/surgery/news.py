"""Sending news to anonymous askers who asked to be told (`bot/storage/question_news.py`).

Each message is unsealed only to be sent: the asker's id is never logged, never written
anywhere but the sealed row, and the row is deleted once Slack has the message. One pass at a
time per app (a lock), so a row found in flight was left by a bot that stopped mid-send: its
DM is searched for the message (by the news id in its metadata, and its words) before it is
sent again.
A named asker's news goes through the outbox instead, like any DM.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.sender import PERMANENT, UNCLEAR, UNREACHABLE, WORKSPACE_PAUSE, WORKSPACE_REFUSALS
from bot.storage.question_news import News

if TYPE_CHECKING:
    from bot.deps import Deps

logger = logging.getLogger(__name__)

NEWS_JOB = "surgery:asker-news"
METADATA_TYPE = "line_of_sight_news"
PER_PASS = 50  # a pass sends at most this many; the next pass (30 s on) sends the rest
MAX_ATTEMPTS = 8
BACKOFF = timedelta(minutes=1)


async def send_news(deps: Deps) -> None:
    """Send what is due to anonymous askers, one at a time; forget watches past their time."""
    async with deps.storage.questions.news.lock:
        await deps.storage.questions.scrub()  # a WAL a reader kept from being emptied before
        await deps.storage.questions.news.expire(deps.clock())
        for _ in range(PER_PASS):
            news = await deps.storage.questions.news.claim(deps.clock())
            if news is None or not await send_one(deps, news):
                return  # nothing left, or Slack asked the app to wait: the pass ends


async def send_one(deps: Deps, news: News) -> bool:
    """One message: unsealed, looked for first if it may have gone, sent, then deleted.
    False when Slack asked the app to wait (a 429, a refused app): no more this pass."""
    store = deps.storage.questions.news
    user_id = deps.pseudonyms.unseal(news.sealed)
    if user_id is None:  # sealed under another key: ASKER_KEY (or the token) changed
        logger.warning("news for an anonymous asker could not be unsealed (the key changed?)")
        await store.done(news.id)
        return True
    try:
        if news.look_first and await already_sent(deps, user_id, news):
            await store.done(news.id)
            return True
        await deps.client.chat_postMessage(
            channel=user_id,
            text=news.message["text"],
            blocks=news.message["blocks"],
            metadata={"event_type": METADATA_TYPE, "event_payload": {"news_id": news.id}},
            unfurl_links=False,
            unfurl_media=False,
        )
    except SlackApiError as error:
        return await refused(deps, news, error)
    except (aiohttp.ClientError, TimeoutError):  # Slack may have posted it: look first
        await again(deps, news, BACKOFF * 2 ** min(news.attempts, 6), maybe_sent=True)
        return True
    except Exception:  # never a row that fails the same way, forever, ahead of the rest
        logger.exception("news for an anonymous asker failed unexpectedly")
        await again(deps, news, BACKOFF * 2 ** min(news.attempts, 6), maybe_sent=True)
        return True
    await store.done(news.id)
    logger.info("news sent to an anonymous asker")  # never whom, nor of which question
    return True


async def already_sent(deps: Deps, user_id: str, news: News) -> bool:
    """Whether the asker's DM with the bot already holds this news: its id in the metadata,
    and its words (an id can come again once its row is deleted; a question's news of one
    kind never does)."""
    opened = await deps.client.conversations_open(users=user_id)
    page = await deps.client.conversations_history(
        channel=str(opened["channel"]["id"]), limit=100, include_all_metadata=True
    )
    messages: list[dict[str, Any]] = page.get("messages", [])
    return any(
        (m.get("metadata") or {}).get("event_type") == METADATA_TYPE
        and ((m.get("metadata") or {}).get("event_payload") or {}).get("news_id") == news.id
        and m.get("text") == news.message["text"]
        for m in messages
    )


async def refused(deps: Deps, news: News, error: SlackApiError) -> bool:
    """Slack said no: wait when asked to, give up when no retry can mend it. False when the
    wait is the app's, not this message's (a 429, a refused app): the rest would meet it too."""
    code = str(error.response.get("error") or error.response.status_code)
    if error.response.status_code == 429:
        wait = int(error.response.headers.get("Retry-After", "30") or 30)
        await deps.storage.questions.news.hold(  # not sent, and not counted as a try
            news.id, not_before=deps.clock() + timedelta(seconds=wait)
        )
        return False
    elif code in WORKSPACE_REFUSALS:
        # The app itself was refused (a revoked token, a missing scope): nobody's news is
        # given up for that, as the outbox keeps its messages.
        logger.error("Slack refused the app (%s): news to askers waits", code)
        await deps.storage.questions.news.hold(news.id, not_before=deps.clock() + WORKSPACE_PAUSE)
        return False
    elif code in PERMANENT or code in UNREACHABLE:
        logger.warning("news for an anonymous asker could not be sent (%s); dropped", code)
        await deps.storage.questions.news.done(news.id)
    else:
        unclear = error.response.status_code >= 500 or code in UNCLEAR
        await again(deps, news, BACKOFF * 2 ** min(news.attempts, 6), maybe_sent=unclear)
    return True


async def again(deps: Deps, news: News, wait: timedelta, *, maybe_sent: bool = False) -> None:
    """Try later, unless it has been tried enough: then it is dropped (and deleted).
    `maybe_sent`: Slack may have it already, so the next try looks in the DM first."""
    if news.attempts + 1 >= MAX_ATTEMPTS:
        logger.warning("news for an anonymous asker could not be sent after %d tries", MAX_ATTEMPTS)
        await deps.storage.questions.news.done(news.id)
        return
    await deps.storage.questions.news.later(
        news.id, not_before=deps.clock() + wait, maybe_sent=maybe_sent
    )
