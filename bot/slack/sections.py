"""Long text in as few Block Kit sections as Slack's limits allow."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

SECTION_LIMIT = 3000  # Slack's limit on a section's text


def sections(block_id: str, lines: list[str]) -> list[Block]:
    """Lines packed into as few sections as Slack's 3,000 characters allow (a long one cut)."""
    blocks: list[Block] = []
    chunk: list[str] = []
    for line in lines:
        line = line if len(line) <= SECTION_LIMIT else line[: SECTION_LIMIT - 1] + "…"
        if chunk and len("\n".join([*chunk, line])) > SECTION_LIMIT:
            blocks.append(_section(f"{block_id}:{len(blocks)}", chunk))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(_section(f"{block_id}:{len(blocks)}", chunk))
    return blocks


def _section(block_id: str, lines: list[str]) -> SectionBlock:
    return SectionBlock(block_id=block_id, text=MarkdownTextObject(text="\n".join(lines)))
