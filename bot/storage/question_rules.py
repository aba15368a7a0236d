"""The surgery's rules for what may happen to a question: pure decisions, no database.

`bot/storage/questions.py` applies these inside its write transactions (the check and the
write must be one commit: two quick submits must not both slip under the daily limit), so it
has to be able to import them, and nothing in `bot/` may import a feature. They are kept here,
apart from the SQL, so that the storage only stores and each rule reads (and is tested) as a
rule. The feature's own decisions, those that need no transaction, are in
`handlers/surgery/rules.py`.
"""

from __future__ import annotations

from typing import Literal

Action = Literal["accept", "decline", "merge", "change"]
# Why a step was refused: the status a caller shows, and what could not be done.
Refusal = tuple[Literal["not_pending", "invalid"], str]

MOVABLE = ("pending", "accepted")  # may be merged, moved to another topic or forum, merged into
ANSWERABLE = ("accepted", "agenda")  # on the board, or on an agenda: may be answered
MAX_REASON = 500  # a decline's reason, as the asker reads it
MAX_ANSWER = 3000
MAX_ACTION = 1000  # "what we did"


def may_ask(asked_today: int, per_day: int) -> bool:
    """A person may ask `per_day` questions a day; the count is the day's, under its pseudonym."""
    return asked_today < per_day


def vote_refusal(state: str | None) -> Literal["unknown", "closed"] | None:
    """Votes are for questions on the board: not one waiting, on an agenda, or closed."""
    if state is None:
        return "unknown"
    return None if state == "accepted" else "closed"


def moderation_refusal(
    action: Action, state: str, *, reason: str = "", target_state: str | None = None
) -> Refusal | None:
    """Whether a lead's step may act on a question in `state`, or why not.

    Accept and decline act on a question waiting for review; merge on one waiting or on the
    board; change (its topic or forum) likewise. A decline says why, for the asker; a merge
    needs another question (`target_state`: None when there is none, or it is the same
    question), itself waiting or on the board.
    """
    if action == "change":
        return None if state in MOVABLE else ("not_pending", "")
    if state != "pending" and not (action == "merge" and state == "accepted"):
        return ("not_pending", "")
    if action == "decline" and not reason.strip():
        return ("invalid", "say why, for the asker")
    if action == "merge":
        if target_state is None:
            return ("invalid", "that question to merge into")
        if target_state not in MOVABLE:
            return ("invalid", "it has been answered or closed")
    return None


def answer_refusal(state: str, answer: str) -> Refusal | None:
    """A question is answered once, from the board or an agenda, and never with nothing."""
    if state not in ANSWERABLE:
        return ("not_pending", "")
    if not answer.strip():
        return ("invalid", "write the answer")
    return None


def kept_reason(reason: str) -> str:
    return reason.strip()[:MAX_REASON]


def kept_answer(answer: str, action: str) -> tuple[str, str | None]:
    """The answer and "what we did" as kept: trimmed, cut to length, no empty action."""
    return answer.strip()[:MAX_ANSWER], action.strip()[:MAX_ACTION] or None
