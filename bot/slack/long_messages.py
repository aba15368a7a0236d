"""Messages within Slack's length limits: measured as Slack counts them, and split when long.

What Slack documents, and what the bot keeps to:

- **`text`**: chat.postMessage's reference asks for at most 4,000 characters and lists
  `msg_too_long` ("Message text is too long") among its errors; the 2018 changelog
  ("Truncating really long messages") cut at 40,000, and Slack now refuses instead
  (seratch/ChatGPT-in-Slack #102). Our `text` is a notification line, kept under 40,000.
- **Blocks**: 50 a message; a section's text 3,000 characters, a header's 150, a context
  element's 3,000 (the Block Kit reference, block by block). `invalid_blocks` otherwise.
- **All the blocks together**: `msg_blocks_too_long` is in chat.postMessage's error list with
  no number beside it (the stand-in applies it to every method that takes message blocks,
  slack_standin/blockkit.py `MAX_BLOCK_TEXT`). A Slack engineer put it at
  "12,000 text characters with a buffer for block containers" (slackapi/bolt-js #2509, quoted
  in #2867; the markdown block's documented cumulative limit is 12,000); reports put the refusal
  anywhere from 11,341 characters of text in 45 blocks to 13,297 in markdown blocks
  (bolt-js #2509, #2867). The stand-in refuses more than `SLACK_BLOCK_TEXT_LIMIT`; everything
  the bot builds keeps to `MESSAGE_TEXT_BUDGET`, which leaves room for the containers.

A message's length is `block_text_length`: every text string in its blocks, as sent (escaped
`&amp;` counts five), so what is measured is the message itself, never an estimate.
`split_message` turns a message that is too long into several, in order, each within both the
budget and the block count, for the outbox to queue (bot/storage/outbox.py `queue_message`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from slack_sdk.models.blocks import Block

__all__ = [
    "MAX_MESSAGE_BLOCKS",
    "MAX_SECTION_TEXT",
    "MAX_TEXT",
    "MESSAGE_TEXT_BUDGET",
    "SLACK_BLOCK_TEXT_LIMIT",
    "block_text_length",
    "over_budget",
    "pack_lines",
    "split_message",
]

SLACK_BLOCK_TEXT_LIMIT = 12_000  # where Slack answers msg_blocks_too_long (see above)
MESSAGE_TEXT_BUDGET = 11_000  # what the bot allows itself: a thousand for the containers
MAX_MESSAGE_BLOCKS = 50
MAX_SECTION_TEXT = 3_000
MAX_TEXT = 40_000  # `text` past this is msg_too_long
_MARKER_ROOM = 60  # a part's "Part 2 of 3" line


def _texts(value: Any) -> Iterable[str]:
    """Every string held under a `text` key, however deep (text objects, rich text)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "text" and isinstance(item, str):
                yield item
            else:
                yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


def _as_dicts(blocks: Sequence[Block | dict[str, Any]]) -> list[dict[str, Any]]:
    return [b.to_dict() if isinstance(b, Block) else b for b in blocks]


def block_text_length(blocks: Sequence[Block | dict[str, Any]]) -> int:
    """Characters of text in these blocks, as Slack adds them up for `msg_blocks_too_long`."""
    return sum(len(text) for text in _texts(_as_dicts(blocks)))


def over_budget(blocks: Sequence[Block | dict[str, Any]]) -> int:
    """How many characters past `MESSAGE_TEXT_BUDGET` these blocks are (0: they fit)."""
    return max(0, block_text_length(blocks) - MESSAGE_TEXT_BUDGET)


def pack_lines(lines: Sequence[str], limit: int = MAX_SECTION_TEXT) -> list[str]:
    """Whole lines packed into as few texts of at most `limit` characters as they fit in, in
    order (for sections). A line longer than `limit` is cut, with an ellipsis."""
    packed: list[str] = []
    current = ""
    for line in lines:
        if len(line) > limit:
            line = line[: limit - 1] + "…"
        if current and len(current) + 1 + len(line) > limit:
            packed.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        packed.append(current)
    return packed


def _marker(n: int, total: int) -> dict[str, Any]:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": f"Part {n} of {total}"}],
    }


def split_message(
    message: dict[str, Any],
    *,
    budget: int = MESSAGE_TEXT_BUDGET,
    max_blocks: int = MAX_MESSAGE_BLOCKS,
) -> list[dict[str, Any]]:
    """The message as one or more messages, in order, each within `budget` characters of block
    text and `max_blocks` blocks: the message itself (a list of one) when it fits.

    Blocks are kept whole and in their order; each part ends with "Part n of N" so a reader
    knows more is coming, and its `text` (the notification) says which part it is. Buttons
    stay with the blocks they were beside, in the last part where a message ends with them.
    """
    blocks = _as_dicts(message.get("blocks") or [])
    if len(blocks) <= max_blocks and block_text_length(blocks) <= budget:
        return [message]
    room, block_room = budget - _MARKER_ROOM, max_blocks - 1
    parts: list[list[dict[str, Any]]] = [[]]
    used = 0
    for block in blocks:
        size = block_text_length([block])
        if parts[-1] and (used + size > room or len(parts[-1]) >= block_room):
            parts.append([])
            used = 0
        parts[-1].append(block)
        used += size
    total = len(parts)
    text = str(message.get("text") or "")
    out = []
    for n, part in enumerate(parts, 1):
        label = f" (part {n} of {total})"
        out.append(
            {
                **message,
                "text": text[: MAX_TEXT - len(label)] + label,
                "blocks": [*part, _marker(n, total)],
            }
        )
    return out
