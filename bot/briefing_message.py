"""A briefing as staff receive it: the message the outbox delivers, built in one place.

The briefings feature sends it, the composer previews it (the preview is the delivered copy,
not a look-alike), and `python -m bot content preview` prints it; so the builder lives here,
beside the Acknowledge button's action and value that the feature answers.
"""

from __future__ import annotations

import re
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

from bot.comprehension import CHECK_BUTTON, TAKE_ACTION, check_value
from bot.content import Briefing
from bot.content.values import ID_PATTERN, VERSION_PATTERN
from bot.slack.long_messages import MESSAGE_TEXT_BUDGET, block_text_length
from bot.slack.mrkdwn import escape, markdown_to_mrkdwn, split_mrkdwn
from bot.timefmt import format_local

ACK_ACTION = "briefing_acknowledge"
# A message holds 50 blocks: the body gets 45 sections, the rest is header, footer, buttons.
MAX_BODY_SECTIONS = 45
_ACK_VALUE = re.compile(rf"^({ID_PATTERN})@({VERSION_PATTERN})$")
# A measured copy's publisher and time: as long as a real one's can be (an 11-character user
# id; two-digit day and hour).
_MEASURED_BY = "U" + "0" * 10
_MEASURED_AT = "2026-12-31T23:59:00+00:00"


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
    briefing: Briefing,
    *,
    published_by: str,
    published_at: str,
    tz: ZoneInfo,
    corrected_at: str | None = None,
    check_version: int | None = None,
) -> list[Block]:
    """The briefing as a message: title, body, who and when, and Acknowledge.

    A correction (`corrected_at`, with the file's `correction:` note) says so under the title,
    where someone re-reading their copy sees it first. `check_version` is the version whose
    check the button opens: an earlier one, when a correction kept its check.
    """
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=briefing.title[:150]))]
    if corrected_at and briefing.correction:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f":pencil2: *Updated {format_local(corrected_at, tz)}:* "
                        f"{escape(briefing.correction)}"
                    )
                ]
            )
        )
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
    buttons = []
    if briefing.acknowledge:
        buttons.append(
            ButtonElement(
                text="Acknowledge",
                action_id=ACK_ACTION,
                value=ack_value(briefing.id, briefing.version),
                style="primary",
            )
        )
    if briefing.check is not None:
        buttons.append(
            ButtonElement(
                text=CHECK_BUTTON,
                action_id=TAKE_ACTION,
                value=check_value(briefing.id, check_version or briefing.version),
            )
        )
    if buttons:
        blocks.append(ActionsBlock(block_id=f"ack:{briefing.id}", elements=buttons))
    return blocks


def message_length(briefing: Briefing, tz: ZoneInfo) -> int:
    """Characters of block text in the briefing's message as staff get it (with its correction
    note, if it has one): the very blocks `build_briefing_message` makes, measured."""
    blocks = build_briefing_message(
        briefing,
        published_by=_MEASURED_BY,
        published_at=_MEASURED_AT,
        tz=tz,
        corrected_at=_MEASURED_AT if briefing.correction else None,
    )
    return block_text_length(blocks)


def too_long_by(briefing: Briefing, tz: ZoneInfo) -> int:
    """How many characters the briefing's message is over what one Slack message takes (0: it
    fits). Slack refuses a longer one for every recipient (`msg_blocks_too_long`)."""
    return max(0, message_length(briefing, tz) - MESSAGE_TEXT_BUDGET)


def too_long_problem(over: int) -> str:
    """What `content check` says of a briefing `over` characters too long for one message."""
    return (
        f"the briefing is too long for one Slack message: {over:,} characters over the "
        f"{MESSAGE_TEXT_BUDGET:,} a message can hold (title, body and correction as sent). "
        "Shorten the body, or put the full text in a document and link to it"
    )
