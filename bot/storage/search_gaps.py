"""Practice search's gaps: what staff looked for and did not find, for engagement leads.

Kept as the query's text and the day only: no user id, no time finer than the day, no note of
which channel it came from. Rows older than `KEEP_DAYS` are deleted as new ones come in. A gap
a lead dismissed is deleted, and its words are never counted again (`gaps_dismissed`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlite_utils import Database

from bot.storage.questions import (
    PERSON_WRITE_TIMEOUT,
    Question,
    insert_question,
    log_moderation,
)
from bot.storage.writer import Writer, utc_iso

KEEP_DAYS = 365
MAX_GAP = 500
Reason = Literal["no_match", "weak", "unhelpful"]
Dismissed = Literal["dismissed", "already", "unknown"]


@dataclass(frozen=True)
class Gap:
    query: str
    count: int  # searches over the period
    no_match: int
    unhelpful: int
    last_day: str
    raised_as: str | None  # the surgery question's ref, once a lead raised it
    weak: int = 0  # searches that found only matches that might help


def normalise(query: str) -> str:
    """One form per query, so "RHI  timescales" and "rhi timescales" count together."""
    return " ".join(query.split()).lower()[:MAX_GAP]


class PracticeGaps:
    """Named operations on `practice_gaps`, `practice_helped` and `gaps_raised`."""

    def __init__(self, writer: Writer):
        self._w = writer

    async def record_gap(self, query: str, reason: Reason, day: date) -> None:
        """Count one search that found nothing, or did not help (by its text and day only)."""
        text = normalise(query)
        if not text:
            return
        oldest = (day - timedelta(days=KEEP_DAYS)).isoformat()

        def record(db: Database) -> None:
            db.execute("DELETE FROM practice_gaps WHERE day < ?", [oldest])
            db.execute(
                "INSERT INTO practice_gaps (day, query, reason, count)"
                " SELECT ?1, ?2, ?3, 1 WHERE NOT EXISTS"
                " (SELECT 1 FROM gaps_dismissed WHERE query = ?2)"
                " ON CONFLICT (day, query, reason) DO UPDATE SET count = count + 1",
                [day.isoformat(), text, reason],
            )

        await self._w.write(record, timeout=PERSON_WRITE_TIMEOUT)

    async def record_helped(self, note_id: str, day: date) -> None:
        """Count one "yes, it helped" for a note, by day."""
        oldest = (day - timedelta(days=KEEP_DAYS)).isoformat()

        def record(db: Database) -> None:
            db.execute("DELETE FROM practice_helped WHERE day < ?", [oldest])
            db.execute(
                "INSERT INTO practice_helped (day, note_id, count) VALUES (?, ?, 1)"
                " ON CONFLICT (day, note_id) DO UPDATE SET count = count + 1",
                [day.isoformat(), note_id[:64]],
            )

        await self._w.write(record, timeout=PERSON_WRITE_TIMEOUT)

    async def gaps(self, since: date, limit: int = 15) -> list[Gap]:
        """Gaps since a day, most searched first (then most recent)."""

        def query(db: Database) -> list[Gap]:
            rows = db.execute(
                "SELECT g.query, SUM(g.count),"
                " SUM(CASE WHEN g.reason = 'no_match' THEN g.count ELSE 0 END),"
                " SUM(CASE WHEN g.reason = 'unhelpful' THEN g.count ELSE 0 END),"
                " MAX(g.day), r.question_ref,"
                " SUM(CASE WHEN g.reason = 'weak' THEN g.count ELSE 0 END)"
                " FROM practice_gaps g LEFT JOIN gaps_raised r ON r.query = g.query"
                " WHERE g.day >= ?"
                " AND NOT EXISTS (SELECT 1 FROM gaps_dismissed x WHERE x.query = g.query)"
                " GROUP BY g.query"
                " ORDER BY SUM(g.count) DESC, MAX(g.day) DESC, g.query LIMIT ?",
                [since.isoformat(), limit],
            ).fetchall()
            return [
                Gap(q, int(n), int(a), int(b), d, ref, int(w)) for q, n, a, b, d, ref, w in rows
            ]

        return await self._w.read(query)

    async def helped(self, since: date) -> int:
        """How many said a search helped, since a day."""
        return int(
            await self._w.read(
                lambda db: db.execute(
                    "SELECT COALESCE(SUM(count), 0) FROM practice_helped WHERE day >= ?",
                    [since.isoformat()],
                ).fetchone()[0]
            )
        )

    async def dismiss(self, query: str, day: date) -> Dismissed:
        """A lead says this is not a gap: its counted searches are deleted and its words kept
        only so they are never counted or listed again. "unknown" when nothing was counted."""
        key = normalise(query)

        def dismiss_it(db: Database) -> Dismissed:
            if db.execute("SELECT 1 FROM gaps_dismissed WHERE query = ?", [key]).fetchone():
                return "already"
            if not db.execute("SELECT 1 FROM practice_gaps WHERE query = ?", [key]).fetchone():
                return "unknown"
            db.execute("DELETE FROM practice_gaps WHERE query = ?", [key])
            db.execute(
                "INSERT INTO gaps_dismissed (query, dismissed_at) VALUES (?, ?)",
                [key, day.isoformat()],
            )
            return "dismissed"

        return await self._w.write(dismiss_it, timeout=PERSON_WRITE_TIMEOUT)

    async def raise_as_question(
        self, query: str, *, text: str, topic: str, forum: str, by: str, now: datetime
    ) -> tuple[Literal["raised", "already", "unknown"], Question | str | None]:
        """Put a gap on the surgery's board as a question, once: ("raised", the question), or
        ("already", its ref). It is nobody's question (no asker is stored) and goes straight on
        the board, since an engagement lead raised it; the log says which lead."""
        key = normalise(query)
        hour = now.replace(minute=0, second=0, microsecond=0)

        def raise_it(db: Database) -> tuple[Literal["raised", "already", "unknown"], Any]:
            row = db.execute(
                "SELECT question_ref FROM gaps_raised WHERE query = ?", [key]
            ).fetchone()
            if row is not None:
                return "already", row[0]
            if not db.execute("SELECT 1 FROM practice_gaps WHERE query = ?", [key]).fetchone():
                return "unknown", None
            question = insert_question(
                db,
                text=text,
                topic=topic,
                forum=forum,
                asked_by=None,
                asker=None,
                at=hour,
                quoted=None,
                state="accepted",
            )
            db.execute(
                "INSERT INTO gaps_raised (query, question_ref, raised_at) VALUES (?, ?, ?)",
                [key, question.ref, now.date().isoformat()],
            )
            log_moderation(
                db,
                at=utc_iso(now),
                by=by,
                question_id=question.id,
                action="raise",
                detail="from practice search gaps",
            )
            return "raised", question

        return await self._w.write(raise_it, timeout=PERSON_WRITE_TIMEOUT)
