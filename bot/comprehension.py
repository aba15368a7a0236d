"""Comprehension checks, as shared by the features that show them and the one that runs them.

The briefing message carries a "Take the 30-second check" button (handlers/briefings) that the
checks feature (handlers/checks) answers; both name it through here, so neither imports the
other. Scoring is here too: a pure function over a check as sent and a person's choices.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.content.values import ID_PATTERN, VERSION_PATTERN

TAKE_ACTION = "check_take"
RETAKE_ACTION = "check_retake"
SUBMIT_CALLBACK = "check_submit"
FOLLOW_UP_ACTION = "check_follow_up"
FOLLOW_UP_CALLBACK = "check_follow_up_note"
# An anonymous check's clarification asks its question again (it cannot know who to ask).
REANSWER_ACTION = "check_reanswer"
REANSWER_CALLBACK = "check_reanswer_submit"
CHECK_BUTTON = "Take the 30-second check"
# Button values come back untrusted: only the shape we send.
_VALUE = re.compile(rf"^({ID_PATTERN})@({VERSION_PATTERN})$")


def check_value(briefing_id: str, version: int) -> str:
    return f"{briefing_id}@{version}"


def parse_check_value(value: str | None) -> tuple[str, int] | None:
    match = _VALUE.match(value or "")
    return (match.group(1), int(match.group(2))) if match else None


@dataclass(frozen=True)
class Marked:
    """One attempt, marked: which questions were right, and the score."""

    choices: tuple[int, ...]  # the option index chosen for each question
    right: tuple[bool, ...]

    @property
    def correct(self) -> int:
        return sum(self.right)

    @property
    def all_correct(self) -> bool:
        return all(self.right)


def mark(questions: list[dict[str, Any]], choices: tuple[int, ...]) -> Marked:
    """Mark choices against the check as it was sent (`questions` from the database)."""
    right = tuple(
        q["options"][choice] == q["answer"] for q, choice in zip(questions, choices, strict=True)
    )
    return Marked(choices, right)
