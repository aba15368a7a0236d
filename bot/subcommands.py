"""One slash command that several features add words to, such as `/engage results` (checks)
and `/engage queue` (surgery questions).

Slack gives an app one listener per command in practice: Bolt runs the first listener that
matches. So the command's listener lives in one place (handlers/engage.py) and asks this
registry which feature answers the first word; features add their words in `register`, and
`/engage help` lists them all. No feature imports another.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

Answer = Callable[[str, str], Awaitable[tuple[str, list[dict[str, Any]] | None]]]


@dataclass(frozen=True)
class _Word:
    answer: Answer
    help: str


class Subcommands:
    """The words of one command: `add(word, answer, help)`, then `find(word)`."""

    def __init__(self, command: str, title: str):
        self.command = command
        self._title = title
        self._words: dict[str, _Word] = {}

    def add(self, word: str, answer: Answer, help_line: str) -> None:
        """`answer(user_id, text)` gives the private reply (text, blocks) to `command text`."""
        if word in self._words:
            raise ValueError(f"{self.command} {word} is added twice")
        self._words[word] = _Word(answer, help_line)

    def find(self, word: str) -> Answer | None:
        known = self._words.get(word.lower())
        return None if known is None else known.answer

    def help(self) -> str:
        lines = [self._title]
        lines += [f"• {w.help}" for w in self._words.values() if w.help]
        return "\n".join(lines)
