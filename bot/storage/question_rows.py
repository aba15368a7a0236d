"""A surgery question's rows: its types, reading one, and the writes each step makes.

Each function here runs on the writer thread, in its caller's transaction (`questions.py`,
and `search_gaps.py` raising a gap as a question); none decides whether a step may happen:
that is `question_rules.py`, asked before these are called.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from sqlite_utils import Database

from bot.storage.outbox import queue_message
from bot.storage.writer import utc_iso

MAX_QUESTION = 3000
_REF_LETTERS = "ACDEFGHJKMNPQRTUVWXY3479"  # no 0/O, 1/I/L, 5/S, 8/B, 2/Z: read aloud safely

State = Literal["pending", "accepted", "agenda", "declined", "merged", "answered"]
# What an asker is told became of their question; after a final one nothing more is sent.
News = Literal["accepted", "declined", "merged", "answered"]
FINAL: tuple[News, ...] = ("answered", "declined")


@dataclass(frozen=True)
class Question:
    id: int
    ref: str
    text: str
    topic: str
    forum: str
    anonymous: bool
    asked_at: str
    state: str
    votes: int = 0
    quoted: str | None = None
    reason: str | None = None
    merged_into: str | None = None  # the ref it was merged into
    voted: bool = False  # by the person asking for the list
    meeting_at: str | None = None
    carried: int = 0
    answer: str | None = None
    action: str | None = None
    answered_at: str | None = None


@dataclass(frozen=True)
class Asked:
    status: Literal["recorded", "too_many"]
    question: Question | None = None


@dataclass(frozen=True)
class Voted:
    status: Literal["recorded", "repeat", "closed", "unknown"]


@dataclass(frozen=True)
class Moderated:
    status: Literal["done", "unknown", "not_pending", "invalid"]
    question: Question | None = None
    reason: str = ""


COLUMNS = (
    "q.id, q.ref, q.text, q.topic, q.forum, q.anonymous, q.asked_at, q.state,"
    " (SELECT COUNT(*) FROM question_votes v WHERE v.question_id = q.id), q.quoted, q.reason,"
    " (SELECT m.ref FROM questions m WHERE m.id = q.merged_into), q.meeting_at,"
    " COALESCE(q.carried, 0), q.answer, q.action, q.answered_at"
)


def question_from_row(row: Any, voted: bool = False) -> Question:
    return Question(
        int(row[0]),
        row[1],
        row[2],
        row[3],
        row[4],
        bool(row[5]),
        row[6],
        row[7],
        int(row[8]),
        row[9],
        row[10],
        row[11],
        voted,
        row[12],
        int(row[13]),
        row[14],
        row[15],
        row[16],
    )


def log_moderation(
    db: Database, *, at: str, by: str, question_id: int, action: str, detail: str = ""
) -> None:
    """Who did what to a question, when (in the caller's transaction): the audit trail."""
    db.execute(
        "INSERT INTO moderation_log (at, user_id, question_id, action, detail)"
        " VALUES (?, ?, ?, ?, ?)",
        [at, by, question_id, action, detail],
    )


def insert_question(
    db: Database,
    *,
    text: str,
    topic: str,
    forum: str,
    asked_by: str | None,
    asker: Callable[[str], str] | None,
    at: datetime,
    quoted: str | None,
    state: State,
) -> Question:
    """Write a new question under a fresh random id and reference (on the writer thread, in the
    caller's transaction). With neither `asked_by` nor `asker` it is anonymous; `asker(ref)`
    gives an anonymous asker's pseudonym for it."""
    for _ in range(20):  # a clash of random references is rare; try another
        ref = "Q-" + "".join(secrets.choice(_REF_LETTERS) for _ in range(4))
        if not db.execute("SELECT 1 FROM questions WHERE ref = ?", [ref]).fetchone():
            break
    question_id = secrets.randbits(48)
    db.execute(
        "INSERT INTO questions (id, ref, text, topic, forum, anonymous, asked_by, asker,"
        " asked_at, quoted, state, moderated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            question_id,
            ref,
            text,
            topic,
            forum,
            int(asked_by is None),
            asked_by,
            asker(ref) if asker is not None else None,
            utc_iso(at),
            quoted,
            state,
            None if state == "pending" else utc_iso(at),
        ],
    )
    question = one_question(db, question_id)
    assert question is not None
    return question


def followers(db: Database, question: Question, news: News) -> list[tuple[int, Question]]:
    """Whose askers hear `news` of `question`: its own, and, when it is answered or declined,
    those of every duplicate merged into it (or into one merged into it), each under their own
    reference, carrying the answer or the reason of the question they joined."""
    found = [(question.id, question)]
    if news not in FINAL:
        return found
    merged = db.execute(
        "WITH RECURSIVE joined(id) AS (SELECT id FROM questions WHERE merged_into = ?"
        " UNION SELECT q.id FROM questions q JOIN joined j ON q.merged_into = j.id)"
        " SELECT id FROM joined",
        [question.id],
    ).fetchall()
    for (merged_id,) in merged:
        duplicate = one_question(db, int(merged_id))
        if duplicate is not None and duplicate.state == "merged":
            carried = replace(
                duplicate, answer=question.answer, action=question.action, reason=question.reason
            )
            found.append((duplicate.id, carried))
    return found


def queue_news(
    db: Database,
    question: Question,
    news: News,
    render: Callable[[Question, News], dict[str, Any]],
    *,
    by: str,
    now: datetime,
) -> None:
    """Tell the askers what became of a question, in the transaction that did it, so no news
    is lost to a crash once the step is committed. A named asker's goes through the outbox
    (a DM, once, paced). An anonymous asker who asked to be told has it queued under their
    sealed id (`asker_news`), and, once the news is final (answered or declined), their
    watch (`asker_watch`) is deleted: nothing that could be unsealed stays after the last
    news is sent. An anonymous asker who did not ask finds it under My questions."""
    for question_id, shown in followers(db, question, news):
        asked_by, sealed = db.execute(
            "SELECT q.asked_by, w.sealed FROM questions q"
            " LEFT JOIN asker_watch w ON w.question_id = q.id WHERE q.id = ?",
            [question_id],
        ).fetchone()
        if asked_by:
            queue_message(
                db,
                key=("question-news", question_id, news),
                title=f"Your question {shown.ref}: {news}",
                message=render(shown, news),
                targets=[("dm", asked_by)],
                published_by=by,
                now=now,
            )
        elif sealed:
            db.execute(  # its id in order: one asker's news is sent in the order it came
                "INSERT INTO asker_news (sealed, message) VALUES (?, ?)",
                [sealed, json.dumps(render(shown, news))],
            )
            if news in FINAL:
                db.execute("DELETE FROM asker_watch WHERE question_id = ?", [question_id])


def move_question(db: Database, question: Question, *, topic: str | None, forum: str | None) -> str:
    """A question's new topic or forum (either left as it was when not given): its log detail."""
    db.execute(
        "UPDATE questions SET topic = COALESCE(?, topic), forum = COALESCE(?, forum) WHERE id = ?",
        [topic, forum, question.id],
    )
    return f"topic={topic or question.topic}; forum={forum or question.forum}"


def set_state(
    db: Database, question_id: int, state: State, *, at: str, reason: str | None = None
) -> str:
    """Accepted or declined (with the reason its asker reads): the log's detail, the reason."""
    if reason is None:
        db.execute(
            "UPDATE questions SET state = ?, moderated_at = ? WHERE id = ?",
            [state, at, question_id],
        )
        return ""
    db.execute(
        "UPDATE questions SET state = ?, reason = ?, moderated_at = ? WHERE id = ?",
        [state, reason, at, question_id],
    )
    return reason


def merge_into(db: Database, question_id: int, target: Question, *, at: str) -> str:
    """Its votes join the other's (a person who voted for both counts once there)."""
    db.execute(
        "INSERT OR IGNORE INTO question_votes (question_id, voter)"
        " SELECT ?, voter FROM question_votes WHERE question_id = ?",
        [target.id, question_id],
    )
    db.execute(
        "UPDATE questions SET state = 'merged', merged_into = ?, moderated_at = ? WHERE id = ?",
        [target.id, at, question_id],
    )
    return f"into {target.ref}"


def one_question(db: Database, question_id: int) -> Question | None:
    row = db.execute(f"SELECT {COLUMNS} FROM questions q WHERE q.id = ?", [question_id]).fetchone()
    return None if row is None else question_from_row(row)
