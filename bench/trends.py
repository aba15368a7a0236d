"""Benchmark: `/engage trends` over 500 briefings and 1,000,000 answers, against a bare SQL
aggregate of the same figures, in the same run.

    python bench/trends.py [--quick] [--briefings 500] [--people 2000]

Journey: a year and more of briefings, each sent to the same 2,000 staff (`#everyone`, and a
third of them in `#north` too, so people fall in two patterns of groups), each with a
two-question attributed check that every one of them took once (2,000 answers a briefing,
1,000,000 in all, 2,000,000 answer rows), three in five acknowledging and one in ten
retaking. An engagement lead runs `/engage trends` over all 500 (the bot lists the latest 20;
the benchmark asks `gather_trends` for every one, so the cost of the whole history is what is
timed). Ours: `handlers.checks.trends.gather_trends` then `build_trends`, as the bot runs
them: for each briefing the disclosure layer's release of its check (funnel, each question's
options, retakes, clarity, follow-ups and its acknowledgement round, by pattern of groups, read
in one snapshot on the reader thread, then the release kept in a short write), as a lead's
second and later views run it (the first chooses each subject's groups and works out each
person's pattern of groups, which the connection keeps for the next view: it is printed apart).
Against it: the least the database can do for the same figures, four bare `GROUP BY`s over the
same file (reached per briefing; acknowledged per briefing; took, understood first time,
retook and understood after the retake per briefing; each question's options per briefing).
Goal: <= 3x.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zoneinfo import ZoneInfo

from bot.storage import Storage
from bot.storage.outbox import Plan, PlannedEntry, queue_plan
from handlers.checks.trends import build_trends, gather_trends

GOAL = 3.0
START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")
QUESTIONS = [
    {"ask": f"Question {n}?", "options": ["A", "B", "C", "D"], "answer": "B", "explain": "B."}
    for n in range(2)
]
BARE = (
    # reached, per briefing
    "SELECT p.briefing_id, COUNT(DISTINCT r.user_id) FROM recipients r"
    " JOIN publications p ON p.id = r.publication_id WHERE p.status = 'posted'"
    " GROUP BY p.briefing_id",
    # acknowledged, per briefing
    "SELECT briefing_id, version, COUNT(*) FROM acknowledgements GROUP BY briefing_id, version",
    # took / understood first time, retook / understood after the retake
    "SELECT briefing_id, version, attempt, COUNT(*), SUM(all_correct) FROM check_submissions"
    " WHERE outside = 0 GROUP BY briefing_id, version, attempt",
    # each question's options at the first attempt
    "SELECT s.briefing_id, s.version, a.question, a.option, COUNT(*) FROM check_answers a"
    " JOIN check_submissions s ON s.id = a.submission_id WHERE s.outside = 0 AND s.attempt = 1"
    " GROUP BY s.briefing_id, s.version, a.question, a.option",
)


def seed(db, briefings: int, people: int) -> int:
    """`briefings` briefings a week apart, each to the same `people`, each answered by all."""
    members = tuple(f"U{n:07d}" for n in range(people))
    submission = 0
    for b in range(briefings):
        at = START + timedelta(days=b)
        briefing_id = f"briefing-{b:04d}"
        plan = Plan(
            briefing_id=briefing_id,
            version=1,
            title=f"Briefing {b}",
            acknowledge=True,
            published_by="U0SM01",
            message={"text": "t", "blocks": []},
            entries=(
                PlannedEntry(raw="#everyone", ref="C0ALL", post=True, members=members),
                PlannedEntry(raw="#north", ref="C0NORTH", post=True, members=members[::3]),
            ),
            check={
                "questions": QUESTIONS,
                "clarity": False,
                "mode": "attributed",
                "closes_after_s": 86400,
            },
        )
        queue_plan(db, plan, at)
        db.conn.executemany(
            "INSERT OR IGNORE INTO recipients (publication_id, user_id, reached_at)"
            " SELECT id, ?, ? FROM publications WHERE briefing_id = ? AND audience = '#everyone'",
            [(person, at.isoformat(), briefing_id) for person in members],
        )
        submissions, answers, taken, acks = [], [], [], []
        for n, person in enumerate(members):
            shift = (n + b) % 4
            choices = [1, 1] if shift == 0 else [shift % 4, (shift + 1) % 4]
            right = [c == 1 for c in choices]
            submission += 1
            submissions.append(
                (submission, briefing_id, 1, 1, person, 0, sum(right), int(all(right)))
            )
            answers += [
                (submission, q, c, int(r))
                for q, (c, r) in enumerate(zip(choices, right, strict=True))
            ]
            retook = not all(right) and n % 10 == 1
            if retook:
                submission += 1
                submissions.append((submission, briefing_id, 1, 2, person, 0, 2, 1))
                answers += [(submission, q, 1, 1) for q in range(2)]
            taken.append((briefing_id, 1, person, 2 if retook else 1, int(all(right))))
            if n % 5 < 3:
                acks.append((briefing_id, 1, person, at.isoformat()))
        db.conn.executemany(
            "INSERT INTO check_submissions (id, briefing_id, version, attempt, taker, outside,"
            " correct, all_correct, teams, submitted_at) VALUES (?,?,?,?,?,?,?,?,'[]', NULL)",
            submissions,
        )
        db.conn.executemany("INSERT INTO check_answers VALUES (?, ?, ?, ?)", answers)
        db.conn.executemany("INSERT INTO check_taken VALUES (?, ?, ?, ?, ?)", taken)
        db.conn.executemany(
            "INSERT INTO acknowledgements (briefing_id, version, user_id, acknowledged_at)"
            " VALUES (?, ?, ?, ?)",
            acks,
        )
    db.execute("UPDATE publications SET status = 'posted'")
    db.conn.commit()
    return submission


async def run(args: argparse.Namespace) -> int:
    now = START + timedelta(days=args.briefings + 30)
    with tempfile.TemporaryDirectory(prefix="los-trends-") as folder:
        path = Path(folder) / "trends.db"
        storage = Storage(path)
        await storage.open()
        started = time.perf_counter()
        rows = await storage.call(lambda db: seed(db, args.briefings, args.people))
        seeded = time.perf_counter() - started

        async def ours_once():
            trend = await gather_trends(storage, now, limit=args.briefings)
            blocks = build_trends(trend, LONDON)
            return trend, blocks

        t = time.perf_counter()
        await ours_once()
        first_view = time.perf_counter() - t
        ours, bare = [], []
        for _ in range(args.repeat):  # interleaved, so drift falls on both alike
            t = time.perf_counter()
            trend, blocks = await ours_once()
            ours.append(time.perf_counter() - t)
            with sqlite3.connect(path) as raw:
                t = time.perf_counter()
                for sql in BARE:
                    raw.execute(sql).fetchall()
                bare.append(time.perf_counter() - t)
        await storage.close()
    assert len(trend.rows) == args.briefings, len(trend.rows)
    took = sum(r.figures.answers.total("took") for r in trend.rows if r.figures)
    assert took == args.briefings * args.people, took
    ratio = statistics.median(o / b for o, b in zip(ours, bare, strict=True))
    met = "met" if ratio <= GOAL else "MISSED"
    print("trends: gather_trends + build_trends vs bare GROUP BYs (same file, same run)")
    print(
        f"  {args.briefings:,} briefings x {args.people:,} people: {rows:,} submissions "
        f"({args.briefings * args.people:,} first answers); seeded in {seeded:.1f} s"
    )
    print(f"  ours, median of {args.repeat} (ms)        {1000 * statistics.median(ours):10.1f}")
    print(f"  bare GROUP BYs, median (ms)          {1000 * statistics.median(bare):10.1f}")
    print(f"  first view, choosing groups (ms)     {1000 * first_view:10.1f}   (not in the ratio)")
    print(f"  ratio (median of the pairs)          {ratio:10.2f}x   <= {GOAL:.0f}x  {met}")
    print(f"  blocks built: {len(blocks)} (every briefing; the bot lists the latest 20)")
    summary = {"briefings": args.briefings, "people": args.people, "ratio": round(ratio, 3)}
    print(json.dumps(summary))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50 briefings x 500 people")
    parser.add_argument("--briefings", type=int)
    parser.add_argument("--people", type=int)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if args.briefings is None:
        args.briefings = 50 if args.quick else 500
    if args.people is None:
        args.people = 500 if args.quick else 2000
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
