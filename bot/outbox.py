"""The outbox sender: every copy sent to many people goes through here, once each.

One sender task works through `deliveries` (see `bot/storage/outbox.py`):

- **Paced** under the workspace cap for chat.postMessage (`OUTBOX_PER_MINUTE`) with aiolimiter's
  leaky bucket: a second's worth at a time, then the steady rate.
- **429**: every send stops until the `Retry-After` has passed — never a send before it — and
  the delivery goes back to the queue. **5xx and lost connections** back off exponentially.
- **Exactly once**: a delivery is marked in flight (committed) before its chat.postMessage,
  which carries the delivery id in its message `metadata`. If the answer is lost (a dropped
  connection, a timeout, a `kill -9`), the copy is looked for with conversations.history before
  anything is sent again: found, it is recorded as sent; not found, it is sent.
- **Resumes by itself** at start-up: in-flight deliveries are resolved first, then the queue runs.
- **Reports** each finished broadcast to its publisher in one private message.

The client here has no retry handlers of its own: slack_sdk would resend a post whose
connection dropped without looking first, and would sleep through a 429 out of our sight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from aiolimiter import AsyncLimiter
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.mrkdwn import escape
from bot.storage import Storage
from bot.storage.outbox import Delivery

logger = logging.getLogger(__name__)

METADATA_TYPE = "line_of_sight_delivery"
# Errors that no retry will mend, per Slack's chat.postMessage documentation.
PERMANENT = {
    "channel_not_found",
    "user_not_found",
    "user_disabled",
    "is_archived",
    "not_in_channel",
    "cannot_dm_bot",
    "messages_tab_disabled",
    "restricted_action",
    "invalid_blocks",
    "msg_too_long",
}
BACKOFF_START = timedelta(seconds=2)
BACKOFF_MOST = timedelta(minutes=5)
MAX_ATTEMPTS = 10  # transient failures, then the delivery is given up as failed
# How far before a delivery went in flight to look for its copy (clocks differ a little).
LOOKBACK = timedelta(minutes=2)


class OutboxSender:
    """Start with `await start()` (after storage is open); `await stop()` finishes one send."""

    def __init__(
        self,
        storage: Storage,
        client: AsyncWebClient,
        *,
        per_minute: float,
        clock: Callable[[], datetime],
        timezone: Any = None,
    ):
        self._storage = storage
        self._client = client
        self._clock = clock
        # A second's worth at a time, never a minute's burst: Slack documents "short bursts"
        # without a size, and a burst it refuses costs a whole Retry-After.
        self._limiter = AsyncLimiter(per_minute / 60, 1)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._paused_until: datetime | None = None
        self._messages: dict[int, dict[str, Any]] = {}
        self.sent = 0  # copies sent since start (for logs and tests)

    async def start(self) -> None:
        """Resolve what a stop left in flight, then work through the queue in the background."""
        await self._recover()
        self._task = asyncio.create_task(self._run(), name="outbox")

    def wake(self) -> None:
        """New deliveries were queued: look at once rather than at the next poll."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop sending; a send under way is finished and recorded first."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def idle(self, timeout: float = 60.0) -> bool:
        """Wait until nothing is due (tests, the demo); False if `timeout` passed first."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            due = await self._storage.outbox.next_due()
            if due is None and not await self._storage.outbox.in_flight():
                return True
            await asyncio.sleep(0.05)
        return False

    # -- the loop ----------------------------------------------------------------------------

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self._step()
            except Exception:  # never let one bad row stop every broadcast
                logger.exception("the outbox sender failed a step; carrying on")
                await self._sleep(5.0)

    async def _step(self) -> None:
        now = self._clock()
        if self._paused_until is not None and now < self._paused_until:
            await self._sleep((self._paused_until - now).total_seconds())
            return
        await self._report_finished()
        delivery = await self._storage.outbox.claim_next(now)
        if delivery is None:
            due = await self._storage.outbox.next_due()
            wait = 30.0
            if due:
                wait = max(0.05, (datetime.fromisoformat(due) - now).total_seconds())
            await self._sleep(min(wait, 30.0))
            return
        await self._limiter.acquire()
        await self._send(delivery)

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake early for new work or a stop."""
        self._wake.clear()
        if self._stopping:  # a stop that came before the clear is not lost
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), max(0.0, seconds))

    # -- one send ------------------------------------------------------------------------------

    async def _message(self, broadcast_id: int) -> dict[str, Any]:
        if broadcast_id not in self._messages:
            self._messages[broadcast_id] = await self._storage.outbox.message(broadcast_id)
        return self._messages[broadcast_id]

    async def _send(self, delivery: Delivery) -> None:
        if delivery.look_first:
            try:
                if await self._resolve(delivery):
                    await self._finish(delivery.broadcast_id)
                    return
            except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
                await self._look_again_later(delivery, _name(error))
                return
        message = await self._message(delivery.broadcast_id)
        try:
            response = await self._client.chat_postMessage(
                channel=delivery.target,  # a user id: Slack opens the DM itself
                text=message["text"],
                blocks=message["blocks"],
                metadata={
                    "event_type": METADATA_TYPE,
                    "event_payload": {"delivery_id": delivery.id},
                },
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as error:
            await self._refused(delivery, error)
        except (aiohttp.ClientError, TimeoutError) as error:
            # The post may have reached Slack before the connection dropped: look first.
            logger.warning("lost the answer to a send (%s); looking for the copy", _name(error))
            try:
                if not await self._resolve(delivery):
                    await self._back_off(delivery, _name(error))
            except (SlackApiError, aiohttp.ClientError, TimeoutError) as lookup_error:
                await self._look_again_later(delivery, _name(lookup_error))
        else:
            await self._storage.outbox.mark_sent(
                delivery.id,
                channel_id=str(response["channel"]),
                message_ts=str(response["ts"]),
                now=self._clock(),
            )
            self.sent += 1
        await self._finish(delivery.broadcast_id)

    async def _refused(self, delivery: Delivery, error: SlackApiError) -> None:
        status = error.response.status_code
        code = str(error.response.get("error") or f"http_{status}")
        if status == 429:
            retry_after = _retry_after(error)
            now = self._clock()
            self._paused_until = now + timedelta(seconds=retry_after)
            logger.warning("Slack asked the outbox to wait %d s (429)", retry_after)
            await self._storage.outbox.retry_later(
                delivery.id, not_before=self._paused_until, error="ratelimited"
            )
        elif code in PERMANENT:
            await self._storage.outbox.mark_failed(delivery.id, error=code)
        elif status >= 500 or code in ("internal_error", "fatal_error", "service_unavailable"):
            await self._back_off(delivery, code)
        else:
            logger.warning("a send was refused (%s); not retried", code)
            await self._storage.outbox.mark_failed(delivery.id, error=code)

    async def _back_off(self, delivery: Delivery, reason: str) -> None:
        if delivery.attempts >= MAX_ATTEMPTS:
            await self._storage.outbox.mark_failed(delivery.id, error=reason)
            return
        delay = min(BACKOFF_MOST, BACKOFF_START * 2 ** (delivery.attempts - 1))
        await self._storage.outbox.retry_later(
            delivery.id, not_before=self._clock() + delay, error=reason
        )

    async def _look_again_later(self, delivery: Delivery, reason: str) -> None:
        """Slack cannot be asked now whether the copy arrived: ask again before any resend."""
        logger.warning("could not look for a copy (%s); will look again", reason)
        delay = min(BACKOFF_MOST, BACKOFF_START * 2 ** (delivery.attempts - 1))
        await self._storage.outbox.retry_later(
            delivery.id, not_before=self._clock() + delay, error="lost"
        )

    async def _finish(self, broadcast_id: int) -> None:
        if await self._storage.outbox.finish_if_done(broadcast_id, self._clock()):
            await self._report(broadcast_id)

    # -- exactly once across crashes ------------------------------------------------------------

    async def _recover(self) -> None:
        """At start: every delivery left in flight is found in Slack or sent again."""
        left = await self._storage.outbox.in_flight()
        if left:
            logger.info("resolving %d delivery(ies) left in flight by a stop", len(left))
        for delivery in left:
            try:
                found = await self._resolve(delivery)
            except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
                await self._look_again_later(delivery, _name(error))
                continue
            if not found:
                await self._storage.outbox.retry_later(
                    delivery.id, not_before=self._clock(), error="resent after a stop"
                )
            await self._finish(delivery.broadcast_id)

    async def _resolve(self, delivery: Delivery) -> bool:
        """Look for this delivery's copy in the DM; record it as sent if it is there."""
        opened = await self._client.conversations_open(users=delivery.target)
        channel = str(opened["channel"]["id"])
        since = datetime.fromisoformat(delivery.claimed_at) - LOOKBACK
        cursor = None
        while True:
            page = await self._client.conversations_history(
                channel=channel,
                oldest=f"{since.timestamp():.6f}",
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
            )
            messages: list[dict[str, Any]] = page.get("messages", [])
            for message in messages:
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if (
                    metadata.get("event_type") == METADATA_TYPE
                    and payload.get("delivery_id") == delivery.id
                ):
                    await self._storage.outbox.mark_sent(
                        delivery.id,
                        channel_id=channel,
                        message_ts=str(message["ts"]),
                        now=self._clock(),
                    )
                    logger.info("a copy sent before a stop was found; not sending it again")
                    return True
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return False

    # -- telling the publisher -----------------------------------------------------------------

    async def _report_finished(self) -> None:
        for broadcast_id in await self._storage.outbox.unreported():
            await self._report(broadcast_id)

    async def _report(self, broadcast_id: int) -> None:
        """Tell the publisher; a report is a chat.postMessage too, so it waits its turn."""
        if self._paused_until is not None and self._clock() < self._paused_until:
            return  # sent once the pause is over (`_report_finished`)
        summary = await self._storage.outbox.summary(broadcast_id)
        await self._limiter.acquire()
        try:
            await self._client.chat_postMessage(
                channel=summary["published_by"],
                text=build_broadcast_report(summary),
                unfurl_links=False,
            )
        except SlackApiError as error:
            if error.response.status_code == 429:
                self._paused_until = self._clock() + timedelta(seconds=_retry_after(error))
            else:
                logger.warning(
                    "could not tell the publisher how a broadcast went (%s)", _name(error)
                )
                await self._storage.outbox.mark_reported(broadcast_id)  # not retried forever
            return
        except (aiohttp.ClientError, TimeoutError) as error:
            logger.warning("could not tell the publisher how a broadcast went (%s)", _name(error))
            return
        await self._storage.outbox.mark_reported(broadcast_id)


def build_broadcast_report(summary: dict[str, Any]) -> str:
    """The publisher's private summary of a finished broadcast by direct message."""
    counts = summary["counts"]
    sent, failed = counts.get("sent", 0), counts.get("failed", 0)
    total = sent + failed + counts.get("cancelled", 0)
    lines = [
        f"*{escape(summary['title'])}* (version {summary['version']}) has gone out by direct "
        f"message: delivered to {sent} of {total} {'person' if total == 1 else 'people'}."
    ]
    if failed:
        reasons = ", ".join(
            f"{n} {escape(str(reason)).replace('_', ' ')}"
            for reason, n in summary["errors"].items()
        )
        lines.append(f"{failed} could not be reached ({reasons}).")
    lines.append(f"See who has acknowledged with `/brief status {summary['briefing_id']}`.")
    return "\n".join(lines)


def _retry_after(error: SlackApiError) -> int:
    headers = error.response.headers or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(1, int(str(value)))
    except (TypeError, ValueError):
        return 1


def _name(error: BaseException) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error"))
    return error.__class__.__name__
