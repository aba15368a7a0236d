"""Benchmark: practice search over 2,000 notes, against a bare FTS5 MATCH on the same index.

    python bench/search.py [--quick]

Journey: a social worker in a car park types `/practice rhi timescales`. Behind the answer is
`Library.search`, as the bot calls it: the query built from their words (stop words out,
the last word a prefix, the glossary's abbreviations both ways), run on a worker thread for
notes and again for "who can help", ranked by bm25 with titles and tags weighted, each with
its passage cut and highlighted. It is timed against the least SQLite can do on the same
index in the same run: one bare `MATCH` of the same words, ORed, `ORDER BY rank LIMIT 3`.

The content is 2,000 generated practice notes (Markdown files with front matter, written to a
temporary CONTENT_DIR: titles, tags and 150-400 words of body drawn from the service's
vocabulary and the glossary's abbreviations) plus the shipped directory. Printed:

- build: reading, checking and indexing the 2,000 files (`build_shelf`, what start-up and
  `/engage reload` do on their worker thread), and the index alone;
- per query: p50 and p95 in microseconds for the bare MATCH, the engine (`Index.search`,
  one kind) and the whole search as the bot runs it (`Library.search`), and the p95 ratios.
  Goal: the whole search's p95 within 2x the bare MATCH's.

Queries (300 a round, five rounds alternating which goes first) are the realistic ones in
tests/test_practice_queries.py plus word pairs drawn from the notes, so most find something.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.practice.library import Library, build_shelf  # noqa: E402
from bot.practice.search import STOP_WORDS, Document, Index, load_glossary, words_of  # noqa: E402

GOAL = 2.0
LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
REALISTIC = [
    "CSE",
    "child sexual exploitation",
    "what is the RHI timescale",
    "PLO letter before proceedings",
    "IRO",
    "LAC review timescales",
    "ASYE supervision",
    "MASH referral",
    "interviewed",
    "superv",
    "allegation against a foster carer",
    "county lines",
    "a child went missing from care",
    "how often should I visit a child on a plan",
    "levels of need",
    "strategy meeting",
    "the form won't save",
    "step down to early help",
    "weekend emergency",
    "interpreter",
]
TOPICS = [
    "missing",
    "exploitation",
    "supervision",
    "visits",
    "recording",
    "chronology",
    "threshold",
    "referral",
    "court",
    "review",
    "placement",
    "contact",
    "assessment",
    "conference",
    "planning",
    "education",
    "health",
    "housing",
    "disability",
    "adoption",
    "fostering",
    "leaving care",
    "pathway plan",
    "advocacy",
    "consent",
    "information sharing",
    "domestic abuse",
    "neglect",
    "parental mental health",
    "substance misuse",
]


def vocabulary() -> list[str]:
    """The words of the shipped notes, and the glossary's spelled-out forms."""
    words: list[str] = []
    for path in sorted((REPO / "content" / "practice").glob("*.md")):
        words += [w for w in words_of(path.read_text(encoding="utf-8")) if len(w) > 2]
    for longs in load_glossary().values():
        for long in longs:
            words += long.split()
    return words


def write_notes(folder: Path, n: int, rng: random.Random) -> None:
    """`n` practice notes as authors write them, and the shipped directory."""
    (folder / "practice").mkdir(parents=True)
    (folder / "directory.yaml").write_text(
        (REPO / "content" / "directory.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    words = vocabulary()
    shorts = list(load_glossary())
    for i in range(n):
        topic = rng.choice(TOPICS)
        title = f"{topic.capitalize()}: {' '.join(rng.sample(words, 4))} ({i})"
        tags = sorted({topic, *rng.sample(words, 3), rng.choice(shorts).lower()})
        paragraphs = []
        for _ in range(rng.randint(3, 6)):
            sentence = rng.sample(words, rng.randint(30, 60))
            if rng.random() < 0.3:
                sentence.insert(rng.randrange(len(sentence)), rng.choice(shorts))
            paragraphs.append(" ".join(sentence).capitalize() + ".")
        reviewed = date(2026, 11, 1) - timedelta(days=rng.randint(0, 500))
        (folder / "practice" / f"note-{i:04d}.md").write_text(
            "---\n"
            f"id: note-{i:04d}\n"
            f"title: {json.dumps(title)}\n"
            "owner: Principal Social Worker\n"
            f"reviewed: {reviewed.isoformat()}\n"
            f"tags: {json.dumps(tags)}\n"
            "---\n" + "\n\n".join(paragraphs) + "\n",
            encoding="utf-8",
        )


def bare_query(text: str) -> str | None:
    """The same words as the plainest FTS5 query: each quoted, ORed, the same stop words left
    out as the bot leaves out (no prefix, no glossary)."""
    words = [w for w in words_of(text) if w not in STOP_WORDS]
    return " OR ".join(f'"{w}"' for w in words) or None


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def run(quick: bool) -> int:
    rng = random.Random(7)
    notes = 400 if quick else 2000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "content"
        write_notes(folder, notes, rng)
        builds = []
        for _ in range(1 if quick else 3):
            started = time.perf_counter()
            shelf = build_shelf(folder, LONDON, NOW.date())
            builds.append(time.perf_counter() - started)
        assert len(shelf.notes) == notes, (len(shelf.notes), shelf.skipped[:3])
        documents = [
            Document("note", n.id, n.title, " ".join(n.tags), n.body) for n in shelf.notes.values()
        ]
        started = time.perf_counter()
        Index(documents, load_glossary())
        index_only = time.perf_counter() - started

        library = Library(folder, LONDON, review_months=12, clock=lambda: NOW)
        await library.load()
        index = library.shelf.index  # type: ignore[union-attr]
        bodies = [n.body for n in shelf.notes.values()]
        queries = list(REALISTIC)
        while len(queries) < 300:
            words = words_of(rng.choice(bodies))
            start = rng.randrange(max(1, len(words) - 2))
            queries.append(" ".join(words[start : start + rng.randint(1, 3)]))
        rounds = 2 if quick else 5
        timings: dict[str, list[float]] = {"bare": [], "engine": [], "bot": []}
        found = 0

        def time_bare(q: str) -> None:
            query = bare_query(q)
            if query:
                t = time.perf_counter()
                index.bare_match(query)
                timings["bare"].append(time.perf_counter() - t)

        def time_engine(q: str) -> None:
            t = time.perf_counter()
            index.search(q, kind="note", limit=3)
            timings["engine"].append(time.perf_counter() - t)

        for r in range(rounds):
            for q in queries:
                order = [time_bare, time_engine] if r % 2 == 0 else [time_engine, time_bare]
                for fn in order:
                    fn(q)
                t = time.perf_counter()
                result = await library.search(q)
                timings["bot"].append(time.perf_counter() - t)
                found += bool(result.notes)

    print(f"practice search over {notes:,} generated notes and 14 directory entries")
    print(
        f"build (read, check, index {notes:,} files): best {min(builds):.2f} s of "
        f"{len(builds)}; the index alone {index_only:.2f} s"
    )
    share = found / (len(queries) * rounds)
    print(f"{len(queries)} queries x {rounds} rounds; {share:.0%} found notes")
    bare95 = percentile(timings["bare"], 95)
    for name, label in (
        ("bare", "bare FTS5 MATCH, ORDER BY rank LIMIT 3"),
        ("engine", "Index.search (query building, bm25 weights, snippet)"),
        ("bot", "Library.search as the bot runs it (notes + who can help, worker thread)"),
    ):
        samples = timings[name]
        p50 = statistics.median(samples) * 1e6
        p95 = percentile(samples, 95) * 1e6
        ratio = "" if name == "bare" else f"  p95 {p95 / (bare95 * 1e6):.2f}x bare"
        print(f"  {label:74} p50 {p50:7.0f} us  p95 {p95:7.0f} us{ratio}")
    ratio = percentile(timings["bot"], 95) / bare95
    verdict = "met" if ratio <= GOAL else "MISSED"
    print(f"goal: the bot's p95 within {GOAL:g}x the bare MATCH's: {ratio:.2f}x, {verdict}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="400 notes, fewer rounds")
    args = parser.parse_args()
    return asyncio.run(run(args.quick))


if __name__ == "__main__":
    sys.exit(main())
