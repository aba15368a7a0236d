"""The one way the bot reads YAML that people write: PyYAML's SafeLoader, refusing aliases.

Content (front matter, `audiences.yaml`, `directory.yaml`, `glossary.yaml`) is written by
authors and read at start, on `/engage reload` and by `content check`. An alias (`*a`) stands
for the node its anchor (`&a`) names, so ten nested levels of nine aliases, a few hundred bytes
(the "billion laughs"), stand for 9^10 values: anything that walks them, such as a message
quoting a wrong value or the glossary listing its words, never finishes. Counting aliases does
not bound that (81 of them can stand for 387 million values), and no content needs them, so
the loader refuses the first alias where it stands, before anything is built from it; the
problem names the alias and its line. Anchors alone are harmless and left alone.

This module imports nothing of the bot's: `bot.content` and `bot.practice` both use it.
"""

from __future__ import annotations

from typing import Any

import yaml


class AliasRefused(yaml.MarkedYAMLError):
    """A YAML alias in content: refused at its line, never expanded."""

    def __init__(self, alias: str, mark: yaml.Mark | None) -> None:
        super().__init__(problem=f"found the alias *{alias}", problem_mark=mark)
        self.alias = alias
        self.line = mark.line if mark else 0  # 0-based, in the text that was read
        self.refusal = (
            f"the YAML alias *{alias} is not allowed: write the value out in full instead "
            "(content may not use anchors and aliases)"
        )


class ContentLoader(yaml.SafeLoader):
    """SafeLoader that raises `AliasRefused` at the first alias."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            mark = event.start_mark  # the pure-Python parser's marks are yaml.Mark
            raise AliasRefused(str(event.anchor), mark if isinstance(mark, yaml.Mark) else None)
        return super().compose_node(parent, index)


def compose(text: str) -> yaml.Node | None:
    """The document's nodes, each with its line (`yaml.compose`), aliases refused."""
    return yaml.compose(text, Loader=ContentLoader)


def load(text: str) -> Any:
    """The document's values (`yaml.safe_load`), aliases refused."""
    return yaml.load(text, Loader=ContentLoader)
