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
from bot.slack.mrkdwn import escape, markdown_to_mrkdwn, split_mrkdwn
from bot.timefmt import format_local

ACK_ACTION = "briefing_acknowledge"
# A message holds 50 blocks: the body gets 45 sections, the rest is header, footer, buttons.
MAX_BODY_SECTIONS = 45
_ACK_VALUE = re.compile(rf"^({ID_PATTERN})@({VERSION_PATTERN})$")


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
