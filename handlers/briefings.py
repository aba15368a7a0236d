"""Briefings: `/brief` for senior managers, and the Acknowledge button for everyone."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import aiohttp
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.content import Briefing, ContentError, load_briefings
from bot.mrkdwn import escape, markdown_to_mrkdwn, split_mrkdwn
from bot.roles import RoleCheckUnavailable
from bot.storage import AckResult
from bot.timefmt import format_local

if TYPE_CHECKING:
    from bot.app import Deps

logger = logging.getLogger(__name__)

COMMAND = "/brief"
ACK_ACTION = "briefing_acknowledge"

# A message may hold 50 blocks: header, context and actions leave 47 for the body.
MAX_BODY_SECTIONS = 45
# Button values come back from Slack untrusted: accept only the shape we sent.
_ACK_VALUE = re.compile(r"^([a-z0-9][a-z0-9-]{0,63})@([1-9][0-9]{0,5})$")

HELP = (
    "*Briefings* — one key message, sent to the people who need it.\n"
    "• `/brief help` — this help\n"
    "• `/brief publish &lt;briefing id&gt;` — post a briefing to its channels "
    "(senior managers); add `now` to send one that is set for later\n"
    "• `/brief status &lt;briefing id&gt;` — who it reached and how many have acknowledged "
    "(senior managers and engagement leads)\n"
    "• `/brief list` — the briefings ready to publish (senior managers and engagement leads)\n"
    "Press *Acknowledge* on a briefing to show you've read it. Your waiting briefings are on "
    "the bot's Home tab."
)


# -- Block Kit builders (pure) -----------------------------------------------------------------


def ack_value(briefing_id: str, version: int) -> str:
    return f"{briefing_id}@{version}"


def parse_ack_value(value: str | None) -> tuple[str, int] | None:
    """The (briefing id, version) a button carries, or None if it is not one we made."""
    match = _ACK_VALUE.match(value or "")
    return (match.group(1), int(match.group(2))) if match else None


def notification_text(briefing: Briefing) -> str:
    """The `text` fallback: what a phone notification and a screen reader get first."""
    text = f"Briefing: {briefing.title} — {briefing.summary}"
    return escape(text[:3000])


def build_briefing_message(
    briefing: Briefing, *, published_by: str, published_at: str, tz: ZoneInfo
) -> list[Block]:
    """The briefing as a channel message: title, body, who and when, and Acknowledge."""
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=briefing.title[:150]))]
    chunks = split_mrkdwn(markdown_to_mrkdwn(briefing.body), 3000)
    if len(chunks) > MAX_BODY_SECTIONS:
        chunks = [
            *chunks[: MAX_BODY_SECTIONS - 1],
            "_The rest of this briefing is too long "
            "for one message: ask the author for the full text._",
        ]
    blocks += [SectionBlock(text=MarkdownTextObject(text=chunk)) for chunk in chunks]
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Published by <@{published_by}> · {format_local(published_at, tz)}"
                    f" · version {briefing.version}"
                )
            ]
        )
    )
    if briefing.acknowledge:
        blocks.append(
            ActionsBlock(
                block_id=f"ack:{briefing.id}",
                elements=[
                    ButtonElement(
                        text="Acknowledge",
                        action_id=ACK_ACTION,
                        value=ack_value(briefing.id, briefing.version),
                        style="primary",
                    )
                ],
            )
        )
    return blocks


def ack_reply(title: str, result: AckResult, tz: ZoneInfo) -> str:
    """The private answer to an Acknowledge click."""
    if result.new:
        return f"Thanks — you've acknowledged *{escape(title)}*."
    return (
        f"You already acknowledged *{escape(title)}* on "
        f"{format_local(result.acknowledged_at, tz)}. Nothing more to do."
    )


# -- the publish flow --------------------------------------------------------------------------


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
    """Post a briefing to each channel in its audience, at most once per version and channel.

    `again` re-posts where an earlier publish was interrupted (the manager checked the channel).
    """
    lines: list[str] = []
    posted = 0
    channels = [a for a in briefing.audience if a.kind == "channel"]
    others = [a for a in briefing.audience if a.kind != "channel"]
    if briefing.deliver in ("dm", "both") or others:
        names = ", ".join(escape(a.raw) for a in others) or "its audience"
        lines.append(
            f"Direct messages to {names} are not sent yet: DM delivery is coming in a later "
            "release. Only channels are posted to."
        )
    if briefing.deliver == "dm":
        lines.append("This briefing is delivered by direct message only, so nothing was posted.")
        return PublishOutcome(lines, posted)
    if not channels:
        lines.append("This briefing has no channel in its audience, so nothing was posted.")
        return PublishOutcome(lines, posted)

    now = deps.clock()
    for audience in channels:
        shown = escape(audience.raw)
        claim = await deps.storage.claim_publication(
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
                and await deps.storage.reclaim_interrupted(
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
            await deps.storage.release_publication(claim.publication_id)
            lines.append(_post_failure(shown, str(error.response.get("error")), briefing))
            continue
        except (aiohttp.ClientError, TimeoutError) as error:
            await deps.storage.release_publication(claim.publication_id)
            logger.warning("could not reach Slack to post: %s", error.__class__.__name__)
            lines.append(
                f"I couldn't reach Slack to post to {shown}. Check the channel: if the briefing "
                "is not there, publish again in a minute."
            )
            continue
        except BaseException:
            # A bug or shutdown mid-post: free the claim so the version can still be published.
            await deps.storage.release_publication(claim.publication_id)
            raise
        channel_id = str(response["channel"])
        # Posted first, members after: people can press Acknowledge while the (paged)
        # member list is still being fetched, and their click must count.
        await deps.storage.mark_posted(
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
        await deps.storage.add_recipients(claim.publication_id, recipients)
        lines.append(f"Posted to <#{channel_id}> ({len(recipients)} people).")
    return PublishOutcome(lines, posted)


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


# -- listeners ---------------------------------------------------------------------------------


def register(app: AsyncApp, deps: Deps) -> None:
    """Wire `/brief` and the Acknowledge button."""

    @deps.work.track
    async def on_brief(ack: Any, command: dict[str, Any], respond: Any) -> None:
        """`/brief …`: help, list, publish or status, answered privately."""
        await ack()
        text = " ".join((command.get("text") or "").split())
        sub, _, rest = text.partition(" ")
        sub = sub.lower()
        user_id = command["user_id"]
        if sub in ("", "help"):
            reply = HELP
        elif sub == "list":
            reply = await _list(deps, user_id)
        elif sub == "publish":
            reply = await _publish(deps, user_id, rest)
        elif sub == "status":
            reply = await _status(deps, user_id, rest)
        else:
            reply = f"I don't know `/brief {escape(sub[:40])}`. Try `/brief help`."
        await respond(text=reply, response_type="ephemeral")

    @deps.work.track
    async def on_acknowledge(
        ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any
    ) -> None:
        """Acknowledge: record it once and thank the person privately."""
        await ack()
        user_id = body["user"]["id"]
        parsed = parse_ack_value(action.get("value"))
        publications = await deps.storage.publications_of(*parsed) if parsed else []
        in_home = (body.get("container") or {}).get("type") == "view"
        if not parsed or not publications:
            reply = "Sorry, I can't find that briefing any more, so nothing was recorded."
        else:
            result = await deps.storage.record_ack(
                briefing_id=parsed[0], version=parsed[1], user_id=user_id, now=deps.clock()
            )
            logger.info("acknowledgement %s", "recorded" if result.new else "repeated")
            reply = ack_reply(publications[0]["title"], result, deps.config.timezone)
        if in_home:
            from handlers.home import publish_home

            await publish_home(deps, user_id, notice=reply)
        else:
            await respond(text=reply, response_type="ephemeral", replace_original=False)

    app.command(COMMAND)(on_brief)
    app.action(ACK_ACTION)(on_acknowledge)


async def _list(deps: Deps, user_id: str) -> str:
    # Titles of briefings not yet published can be sensitive (a restructure, say).
    try:
        if not await _is_manager_or_lead(deps, user_id):
            return (
                "Only senior managers and engagement leads can see the briefings ready to publish."
            )
    except RoleCheckUnavailable:
        return "I couldn't check your role just now. Try again soon."
    try:
        library = await load_library(deps)
    except ContentError as error:
        return _content_problems(error)
    if not library:
        return "There are no briefings in the content folder yet."
    lines = [f"• `{escape(b.id)}` — {escape(b.title)}" for b in library.values()]
    return "*Briefings ready to publish*\n" + "\n".join(lines[:40])


async def _publish(deps: Deps, user_id: str, args: str) -> str:
    try:
        allowed = await deps.roles.is_senior_manager(user_id)
    except RoleCheckUnavailable:
        return "I couldn't check who can publish just now, so nothing was posted. Try again soon."
    if not allowed:
        return (
            "Only senior managers can publish briefings, so nothing was posted. If you should "
            f"be able to, ask {escape(deps.config.access_contact)} to add you to the senior "
            "managers list."
        )
    briefing_id, *words = args.lower().split() or [""]
    flags = set(words)
    if not briefing_id:
        return "Which briefing? For example `/brief publish recruitment-funding` (`/brief list`)."
    if flags - {"now", "again"}:
        odd = " ".join(sorted(flags - {"now", "again"}))
        return (
            f"I don't understand `{escape(odd[:40])}`. "
            "Use `/brief publish &lt;briefing id&gt;`, adding `now` to send it at once."
        )
    try:
        library = await load_library(deps)
    except ContentError as error:
        return _content_problems(error)
    briefing = library.get(briefing_id)
    if briefing is None:
        return _unknown(briefing_id, library)
    if briefing.publish_at and briefing.publish_at > deps.clock() and "now" not in flags:
        # The author meant it for later; scheduled sending arrives with the scheduler work.
        when = format_local(briefing.publish_at, deps.config.timezone)
        return (
            f"*{escape(briefing.title)}* is set to publish on {when}, so nothing was posted. "
            "Scheduled publishing is not switched on yet: to send it now, use "
            f"`/brief publish {briefing.id} now`."
        )
    outcome = await publish_briefing(deps, briefing, user_id, again="again" in flags)
    head = (
        f"*{escape(briefing.title)}* (version {briefing.version})"
        if outcome.posted
        else f"Nothing new was posted for *{escape(briefing.title)}*."
    )
    tail = (
        f"\nSee who has acknowledged with `/brief status {briefing.id}`." if outcome.posted else ""
    )
    return head + "\n" + "\n".join(f"• {line}" for line in outcome.lines) + tail


async def _status(deps: Deps, user_id: str, briefing_id: str) -> str:
    try:
        allowed = await _is_manager_or_lead(deps, user_id)
    except RoleCheckUnavailable:
        return "I couldn't check your role just now. Try again soon."
    if not allowed:
        return "Only senior managers and engagement leads can see a briefing's figures."
    briefing_id = briefing_id.lower()
    if not briefing_id:
        return "Which briefing? For example `/brief status recruitment-funding`."
    # Figures come from what was posted, so they survive a later edit or a removed file.
    version = await deps.storage.latest_posted_version(briefing_id)
    if version is None:
        try:
            library = await load_library(deps)
        except ContentError as error:
            return _content_problems(error)
        if briefing_id in library:
            return f"*{escape(library[briefing_id].title)}* has not been published yet."
        return _unknown(briefing_id, library)
    posts = await deps.storage.publications_of(briefing_id, version)
    summary = await deps.storage.ack_summary(briefing_id, version)
    return build_status(posts, summary, deps.config.timezone, deps.config.min_group_size)


def build_status(
    posts: list[dict[str, Any]], summary: dict[str, int], tz: ZoneInfo, min_group: int
) -> str:
    """A briefing's reach and acknowledgements; small groups' figures are never shown."""
    first = posts[0]
    where = ", ".join(f"<#{p['channel_id']}>" for p in posts)
    reached = summary["reached"]
    lines = [
        f"*{escape(first['title'])}* (version {first['version']})",
        f"• Posted to {where}, first on {format_local(first['published_at'], tz)}",
    ]
    unknown = [f"<#{p['channel_id']}>" for p in posts if not p.get("reach_known", 1)]
    if unknown:
        lines.append(
            f"• I couldn't list the members of {', '.join(unknown)} when it was posted, so "
            "the figures below leave them out."
        )
        if len(unknown) == len(posts):
            return "\n".join([*lines[:2], "• Reach unknown: no channel's members could be listed."])
    if reached < min_group:
        lines.append(
            f"• Reached {reached} {'person' if reached == 1 else 'people'}. Acknowledgement "
            f"figures are only shown for groups of {min_group} or more, to protect individuals."
        )
    else:
        acked = summary["acknowledged_of_reached"]
        verb = "has" if acked == 1 else "have"
        lines.append(
            f"• Reached {reached} people; {acked} of them {verb} acknowledged "
            f"({round(100 * acked / reached)}%)."
        )
    return "\n".join(lines)


async def _is_manager_or_lead(deps: Deps, user_id: str) -> bool:
    return await deps.roles.is_senior_manager(user_id) or await deps.roles.is_engagement_lead(
        user_id
    )


def _unknown(briefing_id: str, library: dict[str, Briefing]) -> str:
    known = ", ".join(f"`{escape(i)}`" for i in sorted(library)[:15]) or "none yet"
    return f"There's no briefing called `{escape(briefing_id[:64])}`. Briefings: {known}."


def _content_problems(error: ContentError, limit: int = 5) -> str:
    problems: Sequence[Any] = error.problems
    shown = "\n".join(f"• `{escape(str(p))}`" for p in problems[:limit])
    more = f"\n…and {len(problems) - limit} more." if len(problems) > limit else ""
    return (
        "The briefings folder has problems, so nothing was done. Fix these "
        f"(`python -m bot content check` lists them all):\n{shown}{more}"
    )
