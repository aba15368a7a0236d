"""Comprehension checks, as shared by the features that show them and the one that runs them.

The briefing message carries a "Take the 30-second check" button (handlers/briefings) that the
checks feature (handlers/checks) answers; both name it through here, so neither imports the
other. Scoring is here too: a pure function over a check as sent and a person's choices; and
the rules of taking and following up a check (which submissions are valid, whose turn an
attempt is, what an anonymous attempt counts, whom a follow-up goes to), pure functions that
storage calls inside its transactions, so that storage only reads and writes.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
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


# -- the rules of taking a check ---------------------------------------------------------------
# Pure functions, so storage only stores: it reads what it must inside its transaction (is the
# check open, how many attempts this person made) and these say what that means.

MAX_COMMENT = 500
ATTEMPTS = 2  # a first attempt and one retake


def submission_problem(
    questions: list[dict[str, Any]],
    asks_clarity: bool,
    choices: tuple[int, ...],
    clarity: int | None,
    comment: str | None,
) -> str | None:
    """Why these answers cannot be recorded against this check as sent, or None if they can.

    Checked again on the writer's thread, whatever the modal allowed: Slack returns what the
    person's client sent, and a crafted submission must not store an option that was never
    offered, a rating nobody asked for, or a rating off the scale."""
    if len(choices) != len(questions) or any(
        not 0 <= c < len(q["options"]) for c, q in zip(choices, questions, strict=False)
    ):
        return "the answers do not fit this check"
    if (clarity is not None or comment) and not asks_clarity:
        return "this check asks for no rating"
    if clarity is not None and not 1 <= clarity <= 5:
        return "clarity must be from 1 to 5"
    return None


class Attempt(enum.Enum):
    """What an attempt is, given how many this person has made already."""

    REPEAT = "repeat"  # made already: a double submit, or Slack's retry
    REPEAT_WITH_FEEDBACK = "repeat_with_feedback"  # an anonymous first attempt, made already
    REFUSED = "refused"  # out of turn, or past the one retake
    FIRST = "first"
    RETAKE = "retake"  # allowed only with a pass (anonymous) or after a first not all right


def next_attempt(attempt: int, made: int, anonymous: bool) -> Attempt:
    """Is `attempt` this person's next one? Each is made once, in turn, and there is one retake.

    An anonymous first attempt sent twice (two modals open) gets its feedback again, but no
    second retake pass: each pass is good once, so a second would be a second retake, and
    nothing stored may say whose pass was used."""
    if attempt <= made:
        return Attempt.REPEAT_WITH_FEEDBACK if anonymous and attempt == 1 else Attempt.REPEAT
    if attempt != made + 1 or attempt > ATTEMPTS:
        return Attempt.REFUSED
    return Attempt.FIRST if attempt == 1 else Attempt.RETAKE


def retake_still_theirs(attempts: int, first_correct: bool) -> bool:
    """A retake is still theirs after one attempt that was not all right (attributed checks:
    nothing stored says how an anonymous first attempt went)."""
    return attempts == 1 and not first_correct


def kept_rating(
    attempt: int, clarity: int | None, comment: str | None
) -> tuple[int | None, str | None]:
    """The clarity rating and comment kept with an attempt: the first attempt's only (a
    retake asks nothing new), the comment trimmed, and an empty one not kept."""
    if attempt != 1:
        return None, None
    return clarity, (comment or "").strip()[:MAX_COMMENT] or None


def anonymous_measures(attempt: int, marked: Marked, clarity: int | None) -> dict[str, int]:
    """What an anonymous attempt adds to its cell's counters: no row says who answered, so
    these counters are all the figures will have (see `bot/storage/figures.py`'s names)."""
    if attempt != 1:
        return {"retook": 1, "after_retake": int(marked.all_correct)}
    measures = {"took": 1, "first_time": int(marked.all_correct)}
    if clarity is not None:
        measures |= {"rated": 1, f"clarity:{clarity}": 1}
    for n, choice in enumerate(marked.choices):
        measures[f"q:{n}:{choice}"] = 1
    return measures


# -- the rules of following a check up ---------------------------------------------------------


class Audience(enum.Enum):
    """Whom a follow-up goes to, chosen inside the transaction that queues it."""

    EVERYONE_REACHED = "everyone_reached"  # anonymous: nothing says who answered what
    YET_TO_TAKE = "yet_to_take"  # a nudge
    WRONG_AT_FIRST = "wrong_at_first"  # a clarification: wrong at first, not right since


def follow_up_audience(anonymous: bool, question: int | None) -> Audience:
    """An anonymous check's follow-up goes to everyone it reached (already stored as its
    recipients, so sending says nothing new about anyone); an attributed one's nudge to those
    yet to take it, and its clarification to those who got `question` wrong at first."""
    if anonymous:
        return Audience.EVERYONE_REACHED
    return Audience.YET_TO_TAKE if question is None else Audience.WRONG_AT_FIRST


def correct_option(question: dict[str, Any]) -> int:
    """The index of a question's right answer among its options."""
    return int(question["options"].index(question["answer"]))


def follow_up_covered(shown: bool, took: int, correct: int, question: int | None) -> bool:
    """May a follow-up go, given the released figures? Not for an audience whose figures are
    never shown, nor a clarification until the released figures show takers and a wrong
    answer: one asked for anyway would say, by whether anybody was sent it, how those who
    answered since the last release did."""
    if not shown:
        return False
    return question is None or bool(took and took - correct)


def reanswer_fits(question: dict[str, Any], choice: int) -> bool:
    """Is `choice` one of the question's options?"""
    return 0 <= choice < len(question["options"])


def reanswer_right(question: dict[str, Any], choice: int) -> bool:
    """Is the question answered again rightly?"""
    return bool(question["options"][choice] == question["answer"])


def per_question(
    questions: list[dict[str, Any]], count: Callable[[int, int], int]
) -> list[dict[str, Any]]:
    """Each question's figures from `count(question, option)`: answered, correct, and the
    most-chosen wrong answer. One shape for the raw figures (storage) and the released ones
    (results), so the two can never describe a question differently."""
    found = []
    for n, question in enumerate(questions):
        counts = [count(n, o) for o in range(len(question["options"]))]
        right = correct_option(question)
        wrong = [(c, o) for o, c in enumerate(counts) if o != right and c]
        top = max(wrong, default=None)
        found.append(
            {
                "ask": question["ask"],
                "answered": sum(counts),
                "correct": counts[right],
                "misconception": question["options"][top[1]] if top else None,
                "misconception_count": top[0] if top else 0,
            }
        )
    return found
