"""Publishing a briefing to the channels in its audience, at most once per version and channel."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.audiences import AudienceUnavailable, Resolution
from bot.content import Audience, Briefing, load_briefings
from bot.slack.mrkdwn import escape
from bot.storage.outbox import AudienceEntry
from bot.timefmt import format_local
from handlers.briefings.blocks import build_briefing_message, notification_text

if TYPE_CHECKING:
    from bot.deps import Deps

logger = logging.getLogger(__name__)


@dataclass
class PublishOutcome:
    """What happened for each audience entry, in words for the manager."""

    lines: list[str]
    posted: int


async def load_library(deps: Deps) -> dict[str, Briefing]:
    """Read `content/` afresh, so an edited file is what gets published (off the event loop)."""
    return await asyncio.to_thread(load_briefings, deps.config.content_dir, deps.config.timezone)


async def publish_briefing(
    deps: Deps, briefing: Briefing, published_by: str, *, again: bool = False
) -> PublishOutcome:
    """Send a briefing to its audience: a post in each channel, a DM to each person, once each.

    `again` re-posts where an earlier publish was interrupted (the manager checked the channel).
    """
    channels = [a for a in briefing.audience if a.kind == "channel"]
    # User groups and people can only be reached by DM; channels too, for `dm` and `both`.
    by_dm = [
        a for a in briefing.audience if a.kind != "channel" or briefing.deliver in ("dm", "both")
    ]
    resolution = None
    if by_dm:
        # Everyone to be messaged is listed before anything at all is sent, so an entry Slack
        # cannot list stops the whole publish instead of leaving it half done.
        try:
            resolution = await deps.audiences.resolve(by_dm)
        except AudienceUnavailable as error:
            return PublishOutcome([str(error)], 0)
    outcome = PublishOutcome([], 0)
    reached: set[str] = set()
    if briefing.deliver != "dm" and channels:
        outcome = await _post_to_channels(deps, briefing, channels, published_by, again, reached)
    if resolution is not None:
        if briefing.deliver == "channel":
            # Whoever the channel post reached needs no DM as well: one copy each. Only posts
            # that succeeded count, so nobody is left out by a channel that failed.
            resolution = resolution.without(reached)
        if resolution.people:
            line = await _queue_direct_messages(deps, briefing, published_by, resolution)
            outcome = PublishOutcome([*outcome.lines, line], outcome.posted + 1)
        elif briefing.deliver == "dm":
            outcome.lines.append("There was nobody to message directly: check the audience.")
    return outcome


async def _post_to_channels(
    deps: Deps,
    briefing: Briefing,
    channels: list[Audience],
    published_by: str,
    again: bool,
    reached: set[str],
) -> PublishOutcome:
    """Post to each channel entry once per version; add who each post reached to `reached`."""
    lines: list[str] = []
    posted = 0
    now = deps.clock()
    for audience in channels:
        shown = escape(audience.raw)
        claim = await deps.storage.publications.claim_publication(
            briefing_id=briefing.id,
            version=briefing.version,
            title=briefing.title,
            audience=audience.raw,
            acknowledge=briefing.acknowledge,
            published_by=published_by,
            now=now,
        )
        if claim.already is not None and claim.already["status"] == "interrupted":
            if not (
                again
                and await deps.storage.publications.reclaim_interrupted(
                    claim.publication_id, published_by=published_by, now=now
                )
            ):
                lines.append(
                    f"Posting version {briefing.version} to {shown} was interrupted last time, "
                    f"so it may already be there. Check {shown}: if it isn't, use "
                    f"`/brief publish {briefing.id} again`."
                )
                continue
        elif claim.already is not None:
            when = claim.already.get("published_at") or ""
            where = (
                f"<#{claim.already['channel_id']}>" if claim.already.get("channel_id") else shown
            )
            state = "is being posted" if claim.already["status"] == "posting" else "was posted"
            # Its members had this version in the channel: they need no DM of it either.
            reached.update(await deps.storage.publications.recipients_of(claim.publication_id))
            lines.append(
                f"Version {briefing.version} {state} to {where} already"
                f"{' on ' + format_local(when, deps.config.timezone) if when else ''}. "
                "To send it again, change the text and raise `version:` in its file."
            )
            continue
        try:
            response = await deps.client.chat_postMessage(
                channel=audience.ref,
                text=notification_text(briefing),
                blocks=build_briefing_message(
                    briefing,
                    published_by=published_by,
                    published_at=now.isoformat(),
                    tz=deps.config.timezone,
                ),
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as error:
            await deps.storage.publications.release_publication(claim.publication_id)
            lines.append(_post_failure(shown, str(error.response.get("error")), briefing))
            continue
        except (aiohttp.ClientError, TimeoutError) as error:
            await deps.storage.publications.release_publication(claim.publication_id)
            logger.warning("could not reach Slack to post: %s", error.__class__.__name__)
            lines.append(
                f"I couldn't reach Slack to post to {shown}. Check the channel: if the briefing "
                "is not there, publish again in a minute."
            )
            continue
        except BaseException:
            # A bug or shutdown mid-post: free the claim so the version can still be published.
            await deps.storage.publications.release_publication(claim.publication_id)
            raise
        channel_id = str(response["channel"])
        # Posted first, members after: people can press Acknowledge while the (paged)
        # member list is still being fetched, and their click must count.
        await deps.storage.publications.mark_posted(
            claim.publication_id, channel_id=channel_id, message_ts=str(response["ts"])
        )
        recipients = await channel_members(deps, channel_id)
        posted += 1
        if recipients is None:
            lines.append(
                f"Posted to <#{channel_id}>. I couldn't list its members, so its reach and "
                "acknowledgement figures will be incomplete."
            )
            continue
        await deps.storage.publications.add_recipients(claim.publication_id, recipients)
        reached.update(recipients)
        lines.append(f"Posted to <#{channel_id}> ({len(recipients)} people).")
    return PublishOutcome(lines, posted)


async def _queue_direct_messages(
    deps: Deps, briefing: Briefing, published_by: str, resolution: Resolution
) -> str:
    """Queue one DM per person in the outbox (once per version) and say what will happen."""
    now = deps.clock()
    blocks = build_briefing_message(
        briefing, published_by=published_by, published_at=now.isoformat(), tz=deps.config.timezone
    )
    prepared = await deps.storage.outbox.prepare(
        briefing_id=briefing.id,
        version=briefing.version,
        title=briefing.title,
        acknowledge=briefing.acknowledge,
        published_by=published_by,
        message={"text": notification_text(briefing), "blocks": [b.to_dict() for b in blocks]},
        entries=[AudienceEntry(r.entry.raw, r.people) for r in resolution.entries],
        now=now,
    )
    if prepared.already:
        return (
            f"Version {briefing.version} has been sent by direct message already. To send it "
            "again, change the text and raise `version:` in its file."
        )
    deps.outbox.wake()
    skipped = resolution.skipped
    left_out = f" ({skipped} left out: bots or deactivated accounts)" if skipped else ""
    people = "person" if prepared.queued == 1 else "people"
    return (
        f"Sending by direct message to {prepared.queued} {people}{left_out}, paced within "
        "Slack's limits. A message in your DM with me shows how it goes."
    )


async def channel_members(deps: Deps, channel_id: str) -> list[str] | None:
    """The people in the channel at posting time (no bots): the briefing's reach.

    None when Slack would not list the members: the reach is then unknown, not zero.
    """
    members: list[str] = []
    cursor: str | None = None
    try:
        while True:
            page = await deps.client.conversations_members(
                channel=channel_id, limit=1000, cursor=cursor
            )
            members += page.get("members", [])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
    except SlackApiError as error:
        logger.warning("could not list members of a channel: %s", error.response.get("error"))
        return None
    except (aiohttp.ClientError, TimeoutError) as error:
        logger.warning("could not list members of a channel: %s", error.__class__.__name__)
        return None
    people = await deps.directory.people(expected=members)
    if people is None:  # keep everyone but ourselves rather than lose the reach altogether
        return [m for m in members if m != deps.bot_user_id]
    return [m for m in members if m in people]


def _post_failure(shown: str, error: str, briefing: Briefing) -> str:
    source = escape(briefing.source.name)
    if error == "not_in_channel":
        return (
            f"I'm not in {shown} yet, so nothing was posted there. Add me with "
            f"`/invite @Line of Sight` in {shown}, then publish again."
        )
    if error in ("channel_not_found", "invalid_channel"):
        return f"I can't find the channel {shown}. Check the audience in `{source}`."
    if error == "is_archived":
        return f"{shown} is archived, so nothing was posted there."
    return f"Slack said `{escape(error)}` when I posted to {shown}; nothing was posted there."
