"""Comprehension checks' results as stored: the raw figures, and who looked at them.

The raw figures (`results_for`) are for tests and the benchmark, never shown: views take the
disclosure layer's released figures (`Disclosure.check`). Who viewed or exported a check's
results is kept (`record_access`), never what they saw.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from bot.comprehension import per_question
from bot.storage.check_keys import Check, CheckArea, read_check
from bot.storage.figures import COVERED as _COVERED
from bot.storage.writer import utc_iso


@dataclass
class Results:
    """One check's raw figures, for tests and the layer's own checks: never shown. Views take
    the disclosure layer's released figures (`Disclosure.check`)."""

    check: Check
    reached: int = 0
    acknowledged: int = 0
    took: int = 0
    first_time: int = 0
    after_retake: int = 0
    retook: int = 0
    outside: int = 0
    per_question: list[dict[str, Any]] = field(default_factory=list)
    clarity: list[int] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)


class CheckResults(CheckArea):
    """Checks' results: the raw figures and the audit of who looked."""

    async def record_access(
        self, check: Check, *, user_id: str, action: str, now: datetime
    ) -> None:
        """Keep who viewed or exported a check's results, and when (never what they saw)."""

        def audit_access(db: Database) -> None:
            db.execute(
                "INSERT INTO results_audit (at, user_id, action, briefing_id, version)"
                " VALUES (?, ?, ?, ?, ?)",
                [utc_iso(now), user_id, action, check.briefing_id, check.version],
            )

        await self._w.write(audit_access)

    async def results_for(self, briefing_id: str, version: int) -> Results | None:
        """The funnel, per-question figures, misconceptions and clarity of one check."""

        def count_results(db: Database) -> Results | None:
            check = read_check(db, briefing_id, version)
            if check is None:
                return None
            results = Results(check)
            key = {"b": briefing_id, "v": version}
            results.reached, results.acknowledged = db.execute(
                "SELECT COUNT(DISTINCT r.user_id), COUNT(DISTINCT a.user_id)"
                " FROM recipients r JOIN publications p ON p.id = r.publication_id"
                " LEFT JOIN acknowledgements a ON a.user_id = r.user_id"
                "   AND a.briefing_id = p.briefing_id AND a.version = p.version"
                f" WHERE p.briefing_id = :b AND {_COVERED.format(p='p')} AND p.status = 'posted'",
                key,
            ).fetchone()
            counted = "briefing_id = :b AND version = :v AND outside = 0"
            results.took, results.first_time = db.execute(
                f"SELECT COUNT(*), COALESCE(SUM(all_correct), 0) FROM check_submissions"
                f" WHERE {counted} AND attempt = 1",
                key,
            ).fetchone()
            results.retook, results.after_retake = db.execute(
                f"SELECT COUNT(*), COALESCE(SUM(all_correct), 0) FROM check_submissions"
                f" WHERE {counted} AND attempt = 2",
                key,
            ).fetchone()
            results.outside = db.execute(
                "SELECT COUNT(*) FROM check_submissions WHERE briefing_id = :b"
                " AND version = :v AND outside = 1 AND attempt = 1",
                key,
            ).fetchone()[0]
            chosen: dict[tuple[int, int], int] = {
                (q, o): n
                for q, o, n in db.execute(
                    "SELECT a.question, a.option, COUNT(*) FROM check_answers a"
                    " JOIN check_submissions s ON s.id = a.submission_id"
                    " WHERE s.briefing_id = :b AND s.version = :v AND s.outside = 0"
                    " AND s.attempt = 1 GROUP BY a.question, a.option",
                    key,
                )
            }
            results.per_question = per_question(check.questions, lambda n, o: chosen.get((n, o), 0))
            for clarity, n in db.execute(
                f"SELECT clarity, COUNT(*) FROM check_submissions WHERE {counted}"
                " AND attempt = 1 AND clarity IS NOT NULL GROUP BY clarity",
                key,
            ):
                results.clarity += [int(clarity)] * n
            results.comments = [
                str(row[0])
                for row in db.execute(
                    f"SELECT comment FROM check_submissions WHERE {counted}"
                    " AND attempt = 1 AND comment IS NOT NULL"
                    " ORDER BY RANDOM() LIMIT 50",  # never in the order people answered
                    key,
                )
            ]
            return results

        return await self._w.read(count_results)
