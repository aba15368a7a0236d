"""Content: the files authors write, checked with file:line problems before anyone is messaged.

`documents.py` holds what every content type shares (front matter, fields with lines, problems,
scanning a folder); `values.py` the values several types parse (ids, audiences, times);
`audiences.py` the named audiences of `audiences.yaml`; each content type has its own module
(`briefings.py`, `practice.py`, `circulars.py`) and is listed in `KINDS` so `content check`
covers it. `directory.py` reads `directory.yaml`, who can help with what.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from bot.clarity import ClarityRules, check_clarity
from bot.content.audiences import load_named_audiences
from bot.content.briefings import BRIEFINGS, Briefing, Check, Question, load_briefings
from bot.content.circulars import CIRCULARS, Circular
from bot.content.directory import DirectoryEntry, load_directory
from bot.content.documents import ContentError, Context, Kind, Problem, scan
from bot.content.notes import PRACTICE, PracticeNote, due_for_review
from bot.content.teams import listing_problems, load_teams
from bot.content.values import Audience, parse_audience, parse_duration, parse_local_time
from bot.practice.search import GlossaryError, load_glossary

__all__ = [
    "Audience",
    "Briefing",
    "Check",
    "Circular",
    "ContentError",
    "DirectoryEntry",
    "PracticeNote",
    "Problem",
    "Question",
    "check_content",
    "content_glossary",
    "due_for_review",
    "load_briefings",
    "load_directory",
    "parse_audience",
    "parse_duration",
    "parse_local_time",
    "run_content_check",
]

# Every kind of content `content check` reads, in the order it reports them.
KINDS: tuple[Kind[Any], ...] = (BRIEFINGS, PRACTICE, CIRCULARS)
# How old a practice note's review or a directory entry's check may be before it is shown
# "due for review" (REVIEW_MONTHS).
REVIEW_MONTHS = 12
GLOSSARY_FILE = "glossary.yaml"


def check_content(content_dir: Path, tz: ZoneInfo) -> list[Problem]:
    """Every problem in the content, in file then line order; empty when all is well."""
    named, problems = load_named_audiences(content_dir)
    ctx = Context(tz, named)
    problems += [p for kind in KINDS for p in scan(content_dir, kind, ctx).problems]
    problems += load_directory(content_dir, datetime.now(tz).date())[1]
    problems += load_teams(content_dir)[1]
    return problems + content_glossary(content_dir)[1]


def content_glossary(content_dir: Path) -> tuple[dict[str, tuple[str, ...]], list[Problem]]:
    """The glossary with the service's own `glossary.yaml` on top, and its problem if it could
    not be read: then the shipped glossary serves, and `content check` says what to fix."""
    try:
        return load_glossary(content_dir / GLOSSARY_FILE), []
    except GlossaryError as error:
        return load_glossary(), [Problem(error.path, error.line, error.message)]


def review_warnings(
    notes: Any, entries: Any, today: date, months: int = REVIEW_MONTHS
) -> list[Problem]:
    """Guidance due for review: still shown to staff (with a warning), so not a problem that
    fails `content check`, but listed there for its owner."""
    warnings = [
        Problem(
            Path(note.path),
            note.reviewed_line,
            f"warning: reviewed {note.reviewed.isoformat()}, over {months} months ago, so it "
            f"shows as due for review: ask {note.owner} to check it, then update 'reviewed'",
        )
        for note in notes
        if due_for_review(note.reviewed, today, months)
    ]
    return warnings + [
        Problem(
            entry.path,
            entry.line,
            f"warning: {entry.name!r} was verified {entry.verified.isoformat()}, over {months} "
            "months ago, so it shows as due for review: check the details, then update "
            "'verified'",
        )
        for entry in entries
        if due_for_review(entry.verified, today, months)
    ]


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def clarity_warnings(
    briefings: Iterable[Briefing], content_dir: Path, rules: ClarityRules | None = None
) -> list[Problem]:
    """The clarity check's findings for each briefing, as warnings at the line they are about
    (a sentence's line, the title's, a question's): worth fixing, not a reason to refuse."""
    glossary = content_glossary(content_dir)[0]
    warnings: list[Problem] = []
    for briefing in briefings:
        questions = [(q.ask, q.answer) for q in briefing.check.questions] if briefing.check else []
        findings = check_clarity(
            briefing.title, briefing.body, questions, glossary=glossary, rules=rules
        )
        if not findings:
            continue
        try:
            lines = briefing.source.read_text(encoding="utf-8-sig").splitlines()
        except OSError:
            lines = []
        for finding in findings:
            line = _line_with(lines, finding.anchor)
            warnings.append(Problem(briefing.source, line, f"warning: clarity: {finding}"))
    return warnings


def _line_with(lines: list[str], anchor: str) -> int:
    """The first line holding the anchor's opening words: four, else fewer (a sentence may
    begin at the end of a wrapped line)."""
    words = anchor.split()[:4]
    for n in range(len(words), 0, -1):
        start = " ".join(words[:n])
        for number, line in enumerate(lines, 1):
            if start in " ".join(line.split()):
                return number
    return 1


def run_content_check(
    content_dir: Path,
    tz: ZoneInfo,
    out: TextIO,
    *,
    review_months: int = REVIEW_MONTHS,
    clarity: ClarityRules | None = None,
    teams: tuple[str, ...] = (),
    known_groups: set[str] | None = None,
) -> int:
    """`line-of-sight content check [DIR]`: print each problem and a summary; 0 if clean, else 1.

    Guidance due for review and the clarity check's findings are printed as warnings, which do
    not change the exit code. With `TEAMS` and the workspace's user groups (`known_groups`,
    when Slack could be asked), a handle Slack does not know is a problem."""
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
    today = datetime.now(tz).date()
    entries, directory_problems = load_directory(content_dir, today)
    problems += directory_problems + content_glossary(content_dir)[1]
    problems += load_teams(content_dir)[1]
    team_problems, team_warnings = listing_problems(content_dir, teams, known_groups)
    problems += team_problems
    notes = next(found for kind, found in scans if kind is PRACTICE).items.values()
    warnings = review_warnings(notes, entries.values(), today, review_months) + team_warnings
    briefings = next(found for kind, found in scans if kind is BRIEFINGS).items.values()
    warnings += clarity_warnings(briefings, content_dir, clarity)
    for problem in problems:
        print(problem, file=out)
    for warning in warnings:
        print(warning, file=out)
    if problems:
        files = len({p.path for p in problems})
        print(f"{_plural(len(problems), 'problem')} in {_plural(files, 'file')}", file=out)
        return 1
    checked = ", ".join(
        _plural(found.files, kind.noun) for kind, found in scans if found.files or not kind.optional
    )
    if entries:
        many = "directory entry" if len(entries) == 1 else "directory entries"
        checked += f", {len(entries)} {many}"
    if named:
        checked += f", {_plural(len(named), 'named audience')}"
    if teams:
        how = "checked with Slack" if known_groups is not None else "not checked with Slack"
        checked += f", {_plural(len(teams), 'team')} ({how})"
    due = f" ({_plural(len(warnings), 'warning')})" if warnings else ""
    print(f"{checked} checked, no problems{due}", file=out)
    return 0
