"""Briefings' Block Kit and text builders: pure functions, called directly by tests."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

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

from bot.content import Briefing
from bot.content.values import ID_PATTERN, VERSION_PATTERN
from bot.slack.mrkdwn import escape, markdown_to_mrkdwn, split_mrkdwn
from bot.storage import AckResult
from bot.storage.outbox import DM_PREFIX
from bot.timefmt import format_local

ACK_ACTION = "briefing_acknowledge"

# A message may hold 50 blocks: header, context and actions leave 47 for the body.
MAX_BODY_SECTIONS = 45
# A Home tab holds 100 blocks; the waiting list takes two a briefing and leaves room for others.
MAX_WAITING_LISTED = 30
# Button values come back from Slack untrusted: accept only the shape we sent, which is the
# shape `content check` allows for ids and versions (one definition in bot.content.values).
_ACK_VALUE = re.compile(rf"^({ID_PATTERN})@({VERSION_PATTERN})$")

HELP = (
    "*Briefings* — one key message, sent to the people who need it.\n"
    "• `/brief help` — this help\n"
    "• `/brief publish &lt;briefing id&gt;` — send a briefing to its audience, or schedule it "
    "for its `publish_at` (senior managers); add `now` to send one that is set for later, or "
    "`at 2026-12-02 09:00` to choose the time\n"
    "• `/brief status &lt;briefing id&gt;` — who it reached and how many have acknowledged "
    "(senior managers and engagement leads)\n"
    "• `/brief list` — the briefings ready to publish (senior managers and engagement leads)\n"
    "• `/brief scheduled` — what is set to go out later; `/brief cancel &lt;briefing id&gt;` "
    "stops a scheduled briefing or the rest of one being sent (senior managers)\n"
    "Press *Acknowledge* on a briefing to show you've read it. Your waiting briefings are on "
    "the bot's Home tab."
)


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


def build_waiting_section(awaiting: list[dict[str, Any]], tz: ZoneInfo) -> list[Block]:
    """Briefings' part of the Home tab: what waits for this person's acknowledgement."""
    if not awaiting:
        return [
            SectionBlock(
                text=MarkdownTextObject(
                    text="You're all caught up: no briefings are waiting for you to acknowledge."
                )
            ),
            _home_hint(),
        ]
    count = len(awaiting)
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*{count} briefing{'s' if count != 1 else ''} waiting for you to acknowledge*"
            )
        )
    ]
    for row in awaiting[:MAX_WAITING_LISTED]:
        where = f"in <#{row['channel_id']}>" if row.get("channel_id") else "to you directly"
        blocks.append(
            SectionBlock(
                block_id=f"briefing:{row['briefing_id']}@{row['version']}",
                text=MarkdownTextObject(
                    text=f"*{escape(row['title'])}*\nSent {where} on "
                    f"{format_local(row['published_at'], tz)}"
                ),
                accessory=ButtonElement(
                    text="Acknowledge",
                    action_id=ACK_ACTION,
                    value=ack_value(row["briefing_id"], row["version"]),
                ),
            )
        )
    if count > MAX_WAITING_LISTED:
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text=f"…and {count - MAX_WAITING_LISTED} more.")]
            )
        )
    blocks.append(_home_hint())
    return blocks


def _home_hint() -> ContextBlock:
    return ContextBlock(
        elements=[
            MarkdownTextObject(
                text="Briefings arrive in your channels. `/brief help` shows what you can do."
            )
        ]
    )


def _where(publication: dict[str, Any]) -> str:
    """Where a publication went: a channel, or direct messages to an audience entry."""
    if publication.get("channel_id"):
        return f"<#{publication['channel_id']}>"
    entry = str(publication.get("audience", "")).removeprefix(DM_PREFIX)
    return f"direct messages to {escape(entry)}"


def build_status(
    posts: list[dict[str, Any]],
    summary: dict[str, int],
    tz: ZoneInfo,
    min_group: int,
    entries: list[dict[str, Any]] | None = None,
) -> str:
    """A briefing's reach and acknowledgements; small groups' figures are never shown."""
    first = posts[0]
    where = ", ".join(_where(p) for p in posts)
    reached = summary["reached"]
    lines = [
        f"*{escape(first['title'])}* (version {first['version']})",
        f"• {'Posted to' if first.get('channel_id') else 'Sent as'} {where}, first on "
        f"{format_local(first['published_at'], tz)}",
    ]
    unknown = [_where(p) for p in posts if not p.get("reach_known", 1)]
    if unknown:
        lines.append(
            f"• I couldn't list the members of {', '.join(unknown)} when it was posted, so "
            "the figures below leave them out."
        )
        if len(unknown) == len(posts):
            return "\n".join([*lines[:2], "• Reach unknown: no channel's members could be listed."])
    if reached == 0:
        lines.append("• It reached nobody: there was no one but bots in its channels.")
    elif reached < min_group:
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
    if entries and (len(entries) > 1 or any(e["queued"] for e in entries)):
        lines.append("*By audience entry*")
        lines += [_entry_line(e, min_group) for e in entries]
    return "\n".join(lines)


def _entry_line(entry: dict[str, Any], min_group: int) -> str:
    """One audience entry's figures: reach, acknowledgements, and its DMs' progress."""
    reached, acked = entry["reached"], entry["acknowledged"]
    parts = []
    if entry["queued"]:
        parts.append(f"delivered to {reached} of {entry['queued']}")
        if entry["failed"]:
            parts.append(f"{entry['failed']} could not be reached")
        if entry["to_send"]:
            parts.append(f"{entry['to_send']} still to send")
    else:
        parts.append(f"reached {reached}")
    if reached >= min_group:
        parts.append(f"{acked} acknowledged ({round(100 * acked / reached)}%)")
    elif reached:
        parts.append(f"figures hidden for groups under {min_group}")
    return f"• {_where(entry)}: " + ", ".join(parts)
