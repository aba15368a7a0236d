"""The outbox sender: every copy sent to many people goes through here, once each.

Kept whole because it is one task's state machine: the pacing, the pause a 429 set, the
in-flight mark, the look before a resend and the progress message all read and change the same
sender's state, and exactly-once holds only if they are read together. Its tables are already
apart (bot/storage/outbox.py); what is left is that one loop and the words it reports with.

One sender task works through `deliveries` (see `bot/storage/outbox.py`):

- **Paced** under the workspace cap for chat.postMessage (`OUTBOX_PER_MINUTE`) with aiolimiter's
  leaky bucket: a second's worth at a time, then the steady rate.
- **429**: every send stops until the `Retry-After` has passed — never a send before it — and
  the delivery goes back to the queue. **5xx and lost connections** back off exponentially.
- **Exactly once**: a delivery is marked in flight (committed) before its chat.postMessage,
  which carries the delivery id in its message `metadata`. If the answer is lost (a dropped
  connection, a timeout, a `kill -9`), the copy is looked for with conversations.history before
  anything is sent again: found, it is recorded as sent; not found, it is sent.
- **Resumes by itself** at start-up: deliveries left in flight are looked for before anything is
  sent again, and a pause a 429 asked for is still kept.
- **Shows progress** to the publisher in one message (sent of total, failures, time left), updated
  in place as it goes and ending as the summary of who was reached.

The client here has no retry handlers of its own: slack_sdk would resend a post whose
connection dropped without looking first, and would sleep through a 429 out of our sight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from aiolimiter import AsyncLimiter
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics
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
# The app itself was refused (a revoked token, a scope the install lacks): nobody's fault.
WORKSPACE_REFUSALS = {
    "invalid_auth",
    "not_authed",
    "token_revoked",
    "token_expired",
    "account_inactive",
    "missing_scope",
    "no_permission",
    "team_access_not_granted",
    "ekm_access_denied",
}
WORKSPACE_PAUSE = timedelta(minutes=5)
# Failures after which Slack may have posted the copy anyway.
UNCLEAR = {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}
# Looking a person's DM up says they cannot be reached at all.
UNREACHABLE = {"user_not_found", "user_disabled", "channel_not_found", "cannot_dm_bot"}
# An earlier copy that can no longer be updated (deleted, or its channel gone).
NOT_UPDATABLE = {
    "message_not_found",
    "cant_update_message",
    "edit_window_closed",
    "channel_not_found",
    "is_archived",
}
LOST_WAIT = timedelta(seconds=3)
PROGRESS_EVERY = timedelta(seconds=10)  # give Slack a moment before looking for a lost copy
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
        updates_per_minute: float = 40,
    ):
        self._storage = storage
        self._client = client
        self._clock = clock
        # A second's worth at a time (at least one send), never a minute's burst: Slack documents
        # "short bursts" without a size, and a burst it refuses costs a whole Retry-After.
        rate = per_minute / 60
        burst = max(1.0, rate)
        self._limiter = AsyncLimiter(burst, burst / rate)
        # chat.update is Tier 3 (50+ a minute, a minute's burst), apart from chat.postMessage's
        # cap: corrections go under their own rate, leaving room for the progress messages.
        self._update_limiter = AsyncLimiter(updates_per_minute, 60)
        self._updates_per_second = updates_per_minute / 60
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._paused_until: datetime | None = None
        self._messages: dict[int, dict[str, Any]] = {}
        self._joins: set[str] = set()  # channels joined (or tried) to post in, this run
        self._per_second = rate
        self._progress_at: dict[int, float] = {}  # when each progress message was last updated
        self._quiet = asyncio.Event()  # set by a step that found nothing to send, after telling

    async def start(self) -> None:
        """Pick up a pause and anything a stop left in flight, then work in the background."""
        paused = await self._storage.outbox.paused_until()
        if paused:
            self._paused_until = datetime.fromisoformat(paused)
        left = await self._storage.outbox.in_flight()
        if left:
            logger.info("%d delivery(ies) were in flight at a stop; looking for them", len(left))
        for delivery in left:  # each is looked for in Slack before anything is sent again
            await self._storage.outbox.retry_later(
                delivery.id, not_before=self._clock(), error="lost"
            )
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
        """Wait until nothing is due and every publisher has been told (tests, the demo);
        False if `timeout` passed first.

        The last copy's record empties the outbox a moment before its broadcast is marked done
        and its publisher's summary sent, so an empty outbox alone is not enough: a whole step
        of the sender must start after it (telling publishers first) and find nothing to do.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if await self._storage.outbox.idle(self._clock()):
                if self._task is None or self._task.done():
                    return True
                self._quiet.clear()
                self.wake()
                try:
                    await asyncio.wait_for(self._quiet.wait(), max(0.0, deadline - loop.time()))
                except TimeoutError:
                    return False
                if await self._storage.outbox.idle(self._clock()):
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
        # Cleared before looking for work, never after: a wake() that comes while this step
        # finds nothing to do then ends the sleep that follows, instead of being lost.
        self._wake.clear()
        now = self._clock()
        if self._paused_until is not None and now < self._paused_until:
            await self._sleep((self._paused_until - now).total_seconds())
            return
        await self._report_finished()
        # The turn is taken before the claim, so no row ever waits in flight for its turn.
        await self._limiter.acquire()
        if self._paused_until is not None and self._clock() < self._paused_until:
            return  # a summary just met a 429: nothing more until its Retry-After has passed
        updates = self._update_limiter.has_capacity()  # else updates wait; sends go past them
        delivery = await self._storage.outbox.claim_next(self._clock(), updates=updates)
        if delivery is None:
            self._quiet.set()
            due = await self._storage.outbox.next_due(self._clock())
            wait = 30.0
            if due:
                wait = max(0.05, (datetime.fromisoformat(due) - self._clock()).total_seconds())
            if not updates:
                wait = min(wait, 1.0)  # an update's turn comes round soon
            await self._sleep(min(wait, 30.0))
            return
        try:
            await self._send(delivery)
        except Exception:
            # Whatever happened, the copy may be in Slack: it is looked for before a resend.
            logger.exception("a send failed unexpectedly; it will be looked for first")
            await self._lost(delivery)
        await self._progress(delivery.broadcast_id)

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake early for new work (or a stop) that came since the step began."""
        if self._stopping:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), max(0.0, seconds))

    async def _pause(self, seconds: float, reason: str) -> None:
        """No send of any kind until `seconds` from now, even across a restart."""
        if reason == "ratelimited":
            metrics.ratelimited("outbox")
        until = self._clock() + timedelta(seconds=seconds)
        if self._paused_until is None or until > self._paused_until:
            self._paused_until = until
        await self._storage.outbox.pause(self._paused_until, reason)

    # -- one send ------------------------------------------------------------------------------

    async def _message(self, broadcast_id: int) -> dict[str, Any]:
        if broadcast_id not in self._messages:
            self._messages[broadcast_id] = await self._storage.outbox.message(broadcast_id)
        return self._messages[broadcast_id]

    async def _send(self, delivery: Delivery) -> None:
        if delivery.kind == "update" and delivery.look_only:
            # A correction stopped by a newer one (or a cancel): its update must not come
            # after the newer one's and put back the older words.
            await self._storage.outbox.mark_cancelled(delivery.id)
            return
        if delivery.purpose == "reminder" and await self._storage.reminders.acknowledged(
            delivery.broadcast_id, delivery.target
        ):
            await self._storage.outbox.mark_cancelled(delivery.id)  # acknowledged meanwhile
            await self._finish(delivery.broadcast_id)
            return
        if delivery.corrects and delivery.kind != "update":
            # A fresh copy in a correction: unless an earlier copy turned up meanwhile (a send
            # that was in flight or lost when the correction was queued).
            action, channel_id, ts = await self._storage.outbox.settle_correction(delivery)
            if action == "wait":
                await self._storage.outbox.retry_later(
                    delivery.id, not_before=self._clock() + LOST_WAIT, error="waiting"
                )
                return
            if action == "update":
                delivery = replace(delivery, kind="update", channel_id=channel_id, message_ts=ts)
        if delivery.kind == "update":  # a correction: idempotent, so never looked for
            await self._update(delivery)
            await self._finish(delivery.broadcast_id)
            return
        if delivery.look_only:  # cancelled: record what went, send nothing
            if await self._look(delivery) == "absent":
                await self._storage.outbox.mark_cancelled(delivery.id)
            return
        if delivery.look_first and await self._look(delivery) != "absent":
            await self._finish(delivery.broadcast_id)
            return
        message = await self._message(delivery.broadcast_id)
        try:
            response = await self._client.chat_postMessage(
                channel=delivery.target,  # a channel, or a user id: Slack opens the DM itself
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
            # The post may have reached Slack before the answer was lost: look before a resend.
            logger.warning("lost the answer to a send (%s); will look for the copy", _name(error))
            await self._lost(delivery)
        else:
            if "invalid_metadata" in str(response.get("warning") or ""):
                # Slack posted it without the delivery id: a lost answer could not be found.
                logger.error("Slack dropped a delivery's metadata (%s)", response.get("warning"))
            await self._storage.outbox.mark_sent(
                delivery.id,
                channel_id=str(response["channel"]),
                message_ts=str(response["ts"]),
                now=self._clock(),
            )
            metrics.sent(delivery.purpose)
        await self._finish(delivery.broadcast_id)

    async def _update(self, delivery: Delivery) -> None:
        """Bring one earlier copy up to date in place (a correction)."""
        await self._update_limiter.acquire()
        message = await self._message(delivery.broadcast_id)
        try:
            await self._client.chat_update(
                channel=delivery.channel_id or "",
                ts=delivery.message_ts or "",
                text=message["text"],
                blocks=message["blocks"],
            )
        except SlackApiError as error:
            code = str(error.response.get("error"))
            if code in NOT_UPDATABLE:
                await self._storage.outbox.mark_failed(delivery.id, error=code)
            else:
                await self._refused(delivery, error)
        except (aiohttp.ClientError, TimeoutError):
            await self._lost(delivery)  # retried: an update made twice shows the same
        else:
            await self._storage.outbox.mark_sent(
                delivery.id,
                channel_id=delivery.channel_id or "",
                message_ts=delivery.message_ts or "",
                now=self._clock(),
            )

    async def _refused(self, delivery: Delivery, error: SlackApiError) -> None:
        status = error.response.status_code
        code = str(error.response.get("error") or f"http_{status}")
        if status == 429:
            retry_after = _retry_after(error)
            logger.warning("Slack asked the outbox to wait %d s (429)", retry_after)
            await self._pause(retry_after, "ratelimited")
            await self._storage.outbox.retry_later(
                delivery.id, not_before=self._paused_until or self._clock(), error="ratelimited"
            )
        elif code in WORKSPACE_REFUSALS:
            # Not this person's fault: the app itself was refused. Nobody is marked failed.
            logger.error("Slack refused the app (%s): the outbox waits, then tries again", code)
            await self._pause(WORKSPACE_PAUSE.total_seconds(), code)
            await self._storage.outbox.retry_later(
                delivery.id, not_before=self._paused_until or self._clock(), error=code
            )
        elif code == "not_in_channel" and await self._joined(delivery):
            # Not posted (Slack refused it): now in, it goes at once, still exactly once.
            await self._storage.outbox.retry_later(
                delivery.id, not_before=self._clock(), error="joined"
            )
        elif code in PERMANENT:
            await self._storage.outbox.mark_failed(delivery.id, error=code)
        elif status >= 500 or code in UNCLEAR:
            await self._lost(delivery)  # Slack may have posted it before failing
        else:
            logger.warning("a send was refused (%s); not retried", code)
            await self._storage.outbox.mark_failed(delivery.id, error=code)

    async def _joined(self, delivery: Delivery) -> bool:
        """A channel post refused because the bot is not in the channel: join it if Slack lets
        an app (a public channel, `channels:join`), once per channel per run. The bot joins
        when it first posts, never when a publish is only previewed, since joining shows in the
        channel. False if it cannot (private: someone must `/invite` it), so the post fails
        with Slack's reason."""
        channel = delivery.target
        if delivery.kind != "channel" or channel in self._joins:
            return False
        self._joins.add(channel)
        try:
            await self._client.conversations_join(channel=channel)
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
            logger.warning("could not join a channel to post there (%s)", _name(error))
            return False
        logger.info("joined channel %s to post there", channel)
        return True

    async def _lost(self, delivery: Delivery) -> None:
        """The send's outcome is unknown: look for the copy, after a back-off, before a resend."""
        if delivery.attempts >= MAX_ATTEMPTS:
            await self._storage.outbox.mark_failed(delivery.id, error="unreachable")
            return
        delay = max(LOST_WAIT, min(BACKOFF_MOST, BACKOFF_START * 2 ** (delivery.attempts - 1)))
        await self._storage.outbox.retry_later(
            delivery.id, not_before=self._clock() + delay, error="lost"
        )

    async def _finish(self, broadcast_id: int) -> None:
        if await self._storage.outbox.finish_if_done(broadcast_id, self._clock()):
            await self._report(broadcast_id)

    # -- exactly once across crashes ------------------------------------------------------------

    async def _look(self, delivery: Delivery) -> str:
        """Is this delivery's copy in Slack? "found" (recorded), "absent", or "later"."""
        try:
            found = await self._resolve(delivery)
        except SlackApiError as error:
            code = str(error.response.get("error"))
            if error.response.status_code == 429:
                await self._pause(_retry_after(error), "ratelimited")
                await self._storage.outbox.retry_later(
                    delivery.id, not_before=self._paused_until or self._clock(), error="lost"
                )
            elif code in UNREACHABLE:
                await self._storage.outbox.mark_failed(delivery.id, error=code)
            elif code == "missing_scope":
                # Without the history scopes the copy cannot be looked for; sending again
                # could make a second one. It is recorded as unverified, never resent.
                logger.error(
                    "Slack refused the outbox's look-up (missing_scope): reinstall the app from "
                    "manifest.yml (im:history, channels:history, groups:history)"
                )
                await self._storage.outbox.mark_failed(delivery.id, error="unverifiable")
            elif code in WORKSPACE_REFUSALS:
                logger.error("Slack refused the outbox's look-up (%s); waiting, then again", code)
                await self._pause(WORKSPACE_PAUSE.total_seconds(), code)
                await self._storage.outbox.retry_later(
                    delivery.id, not_before=self._paused_until or self._clock(), error="lost"
                )
            else:
                await self._lost(delivery)
            return "later"
        except (aiohttp.ClientError, TimeoutError):
            await self._lost(delivery)
            return "later"
        return "found" if found else "absent"

    async def _resolve(self, delivery: Delivery) -> bool:
        """Look for this delivery's copy (in the DM or the channel); record it if it is there."""
        if delivery.kind == "channel":
            channel = delivery.target
        else:
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
                    logger.info("a copy whose answer was lost was found; not sending it again")
                    return True
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return False

    # -- telling the publisher -----------------------------------------------------------------

    async def _report_finished(self) -> None:
        for broadcast_id in await self._storage.outbox.unreported():
            await self._report(broadcast_id)

    async def _progress(self, broadcast_id: int) -> None:
        """Keep the publisher's one progress message current: posted at the first send, then
        updated every `PROGRESS_EVERY` at most (chat.update is Tier 3, apart from the
        chat.postMessage cap the broadcast uses)."""
        if self._paused_until is not None and self._clock() < self._paused_until:
            return  # no call of any kind inside a Retry-After
        now = asyncio.get_running_loop().time()
        last = self._progress_at.get(broadcast_id)
        if last is not None and now - last < PROGRESS_EVERY.total_seconds():
            return
        summary = await self._storage.outbox.summary(broadcast_id)
        if summary["status"] != "sending" or summary["purpose"] != "briefing":
            return  # the final summary takes over (`_report`); reminders have none
        self._progress_at[broadcast_id] = now
        text = build_broadcast_progress(summary, self._per_second, self._updates_per_second)
        try:
            if summary["progress_ts"]:
                await self._client.chat_update(
                    channel=summary["progress_channel"], ts=summary["progress_ts"], text=text
                )
                return
            await self._limiter.acquire()
            posted = await self._client.chat_postMessage(
                channel=summary["published_by"], text=text, unfurl_links=False
            )
        except SlackApiError as error:
            if error.response.status_code == 429:
                await self._pause(_retry_after(error), "ratelimited")
            logger.warning("could not update the publisher's progress (%s)", _name(error))
            return
        except (aiohttp.ClientError, TimeoutError) as error:
            logger.warning("could not update the publisher's progress (%s)", _name(error))
            return
        await self._storage.outbox.set_progress(
            broadcast_id, channel_id=str(posted["channel"]), ts=str(posted["ts"])
        )

    async def _report(self, broadcast_id: int) -> None:
        """Tell the publisher, at most once: the progress message becomes the summary, or (with
        none) the summary is a message of its own, which waits its turn under the cap.

        It is marked reported before it is sent: a summary lost to a crash can be read again in
        `/brief status`, while one sent twice would be noise.
        """
        if self._paused_until is not None and self._clock() < self._paused_until:
            return  # sent once the pause is over (`_report_finished`)
        summary = await self._storage.outbox.summary(broadcast_id)
        await self._storage.outbox.mark_reported(broadcast_id)
        self._progress_at.pop(broadcast_id, None)
        if summary["purpose"] != "briefing":
            return  # reminders and catch-up copies trickle out: `/brief status` shows them
        text = build_broadcast_report(summary)
        try:
            if summary["progress_ts"]:
                await self._client.chat_update(
                    channel=summary["progress_channel"], ts=summary["progress_ts"], text=text
                )
            else:
                await self._limiter.acquire()
                await self._client.chat_postMessage(
                    channel=summary["published_by"], text=text, unfurl_links=False
                )
        except SlackApiError as error:
            if error.response.status_code == 429:
                await self._pause(_retry_after(error), "ratelimited")
            logger.warning("could not tell the publisher how a broadcast went (%s)", _name(error))
        except (aiohttp.ClientError, TimeoutError) as error:
            logger.warning("could not tell the publisher how a broadcast went (%s)", _name(error))


def _tally(summary: dict[str, Any], kind: str) -> tuple[int, int, int]:
    """(done, failed, still to go) of one kind of delivery."""
    counts = summary["kinds"].get(kind, {})
    left = counts.get("pending", 0) + counts.get("in_flight", 0)
    return counts.get("sent", 0), counts.get("failed", 0), left


def build_broadcast_progress(
    summary: dict[str, Any], per_second: float, updates_per_second: float = 40 / 60
) -> str:
    """The publisher's progress line while a broadcast runs: sent of total, failures, time left.

    Updates (a correction) go at chat.update's slower rate, so they count for more time left.
    """
    counts = summary["counts"]
    sent, failed = counts.get("sent", 0), counts.get("failed", 0)
    left = counts.get("pending", 0) + counts.get("in_flight", 0)
    total = sent + failed + left
    updates_left = sum(_tally(summary, "update")[2:])
    seconds = (left - updates_left) / per_second if per_second else 0
    seconds += updates_left / updates_per_second
    eta = "under 2 minutes left" if seconds < 90 else f"about {round(seconds / 60)} minutes left"
    how = "by direct message" if set(summary["kinds"]) <= {"dm"} else "to its audience"
    text = (
        f"Sending *{escape(summary['title'])}* (version {summary['version']}) {how}: "
        f"{sent} of {total} delivered"
    )
    if failed:
        text += f", {failed} could not be reached"
    return f"{text}; {eta}. This message updates as it goes."


def build_broadcast_report(summary: dict[str, Any]) -> str:
    """The publisher's private summary of a finished (or cancelled) broadcast."""
    title = f"*{escape(summary['title'])}* (version {summary['version']})"
    counts = summary["counts"]
    cancelled = summary["status"] == "cancelled"
    lines = [f"{title} was cancelled: nothing more will be sent." if cancelled else ""]
    if cancelled and summary.get("superseded_by"):
        lines[0] = (
            f"{title} was stopped part-way: version {summary['superseded_by']} corrects it, and "
            "updates the copies that had gone."
        )
    posted, unposted, _ = _tally(summary, "channel")
    if posted or unposted:
        lines.append(f"Posted in {posted} channel{'s' if posted != 1 else ''}.")
        for channel, error in summary["unposted"]:
            lines.append(
                f"Could not post in <#{escape(channel)}>: {escape(str(error)).replace('_', ' ')}."
            )
    sent, failed, left = _tally(summary, "dm")
    total = sent + failed + left + counts.get("cancelled", 0)
    if total:
        people = "person" if total == 1 else "people"
        lines.append(f"Delivered by direct message to {sent} of {total} {people}.")
    updated, stale, _ = _tally(summary, "update")
    if updated or stale:
        note = escape(summary["correction"] or "")
        lines.append(
            f"Corrected in place: {updated} of {updated + stale} earlier copies now show the "
            f"note: _{note}_"
        )
    dm_failed = failed + stale
    if dm_failed:
        reasons = ", ".join(
            f"{n} {escape(str(reason)).replace('_', ' ')}"
            for reason, n in summary["errors"].items()
        )
        lines.append(f"{dm_failed} could not be reached ({reasons}).")
    if not cancelled:
        lines[0] = f"{title} has gone out."
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
