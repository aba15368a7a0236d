"""The surgery's own rules, as pure functions: what a question may hold, when an agenda is
due and which questions make it, and how a click or a modal names its question.

No Slack and no database here, so each rule reads (and is tested) as a rule. The rules the
storage applies inside its writes (the daily limit, votes, which step a lead may take when)
are in `bot/storage/question_rules.py`, because the storage cannot import a feature.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from bot.guardrail import describe, find_case_detail
from bot.storage.questions import MAX_QUESTION, Question
from handlers.surgery.blocks import FORUM_BLOCK, QUESTION_BLOCK, TOPIC_BLOCK


def question_id(value: str) -> int | None:
    """A question's id from a button's value, or None: a value is untrusted text."""
    return int(value) if value.isdigit() and len(value) <= 16 else None


def modal_question(view: dict[str, Any]) -> int | None:
    """The question a lead's modal is about, from its private metadata."""
    try:
        return int(json.loads(view.get("private_metadata") or "")["q"])
    except (ValueError, KeyError, TypeError):
        return None


def question_errors(
    text: str, topic: str, forum: str, *, topics: tuple[str, ...], forums: tuple[str, ...]
) -> dict[str, str]:
    """What must change before a question is kept, by the modal's block: something to ask,
    not too long, no case detail (what was found, and why; never logged: it is case detail),
    one of the topics, and a forum running now."""
    errors: dict[str, str] = {}
    if not text:
        errors[QUESTION_BLOCK] = "Write your question."
    elif len(text) > MAX_QUESTION:
        errors[QUESTION_BLOCK] = f"{too_long(text)}. Please shorten it: nothing was kept."
    elif not has_words(text):
        errors[QUESTION_BLOCK] = "Write your question in words, so that it can be answered."
    else:
        found = find_case_detail(text)
        if found:
            errors[QUESTION_BLOCK] = (
                f"This looks like it has case detail in it ({describe(found)}). Please take "
                "it out: questions are read by others and kept. See the note below for "
                "where a concern about a child goes."
            )[:2000]
    return errors | placement_errors(topic, forum, topics=topics, forums=forums)


# A word: two letters or more (any alphabet), not digits or marks.
_WORD = re.compile(r"[^\W\d_]{2,}")


def has_words(text: str) -> bool:
    """A question needs words: one of two letters or more, at least ("?", "???", "1?" or
    ":)" are not a question anyone can answer; "Why?" may be, with its topic)."""
    return _WORD.search(text) is not None


def too_long(text: str) -> str:
    """How far over the limit a question is, counted, never cut: "4,012 characters: the
    limit is 3,000"."""
    return f"{len(text):,} characters: the limit is {MAX_QUESTION:,}"


def placement_errors(
    topic: str, forum: str, *, topics: tuple[str, ...], forums: tuple[str, ...]
) -> dict[str, str]:
    """A question's topic is one of the topics, and its forum one running now."""
    errors: dict[str, str] = {}
    if topic not in topics:
        errors[TOPIC_BLOCK] = "Choose one of the topics."
    if forum not in forums:
        errors[FORUM_BLOCK] = "Choose where it should go: that one is not running now."
    return errors


def agenda_due(now: datetime, cutoff: datetime, *, early: bool) -> bool:
    """An agenda is drawn up at its meeting's cut-off, or before it when a lead asks."""
    return early or now >= cutoff


def agenda_worth_drawing(on_board: int) -> bool:
    """At the cut-off, an agenda with nothing on it is not drawn up: it stays open (a first
    start after the cut-off, say), and a question accepted before the meeting still makes it.
    (A lead who asks early gets one, empty or not.)"""
    return on_board > 0


def choose_agenda(on_board: list[Question], *, size: int) -> tuple[list[Question], list[Question]]:
    """Which of a forum's questions on the board make its agenda: the top `size` by votes,
    the longest-waiting first among equals. (The agenda, those carried forward.)"""
    ranked = sorted(on_board, key=lambda q: (-q.votes, q.asked_at, q.id))
    return ranked[:size], ranked[size:]
