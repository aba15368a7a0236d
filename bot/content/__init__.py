"""Content: the files authors write, checked with file:line problems before anyone is messaged.

`documents.py` holds what every content type shares (front matter, fields with lines, problems,
scanning a folder); `values.py` the values several types parse (ids, audiences, times);
`audiences.py` the named audiences of `audiences.yaml`; each content type has its own module
(`briefings.py`, `practice.py`; the directory and circulars later) and is listed in `KINDS`
so `content check` covers it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from bot.content.audiences import load_named_audiences
from bot.content.briefings import BRIEFINGS, Briefing, Check, Question, load_briefings
from bot.content.documents import ContentError, Context, Kind, Problem, scan
from bot.content.practice import PRACTICE, PracticeNote
from bot.content.values import Audience, parse_audience, parse_duration, parse_local_time

__all__ = [
    "Audience",
    "Briefing",
    "Check",
    "ContentError",
    "PracticeNote",
    "Problem",
    "Question",
    "check_content",
    "load_briefings",
    "parse_audience",
    "parse_duration",
    "parse_local_time",
    "run_content_check",
]

# Every kind of content `content check` reads, in the order it reports them.
KINDS: tuple[Kind[Any], ...] = (BRIEFINGS, PRACTICE)


def check_content(content_dir: Path, tz: ZoneInfo) -> list[Problem]:
    """Every problem in the content, in file then line order; empty when all is well."""
    named, problems = load_named_audiences(content_dir)
    ctx = Context(tz, named)
    return problems + [p for kind in KINDS for p in scan(content_dir, kind, ctx).problems]


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def run_content_check(content_dir: Path, tz: ZoneInfo, out: TextIO) -> int:
    """`line-of-sight content check [DIR]`: print each problem and a summary; 0 if clean, else 1."""
    if not content_dir.is_dir():
        print(
            f"{content_dir}: no such directory — run from the project folder or pass the content "
            "folder, e.g. line-of-sight content check content",
            file=out,
        )
        return 1
    named, problems = load_named_audiences(content_dir)
    ctx = Context(tz, named)
    scans = [(kind, scan(content_dir, kind, ctx)) for kind in KINDS]
    problems += [p for _, found in scans for p in found.problems]
    for problem in problems:
        print(problem, file=out)
    if problems:
        files = len({p.path for p in problems})
        print(f"{_plural(len(problems), 'problem')} in {_plural(files, 'file')}", file=out)
        return 1
    checked = ", ".join(
        _plural(found.files, kind.noun) for kind, found in scans if found.files or not kind.optional
    )
    if named:
        checked += f", {_plural(len(named), 'named audience')}"
    print(f"{checked} checked, no problems", file=out)
    return 0
