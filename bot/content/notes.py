"""Practice notes: `content/practice/*.md`, the guidance staff search with `/practice`.

Front matter: `id`, `title`, `owner` (who keeps it right), `reviewed` (the date it was last
checked, never in the future), `tags`, and optionally `source` (a link to the full document)
and `applies_to` (who it is for). The body is Markdown. A note reviewed longer ago than the
service allows is still searched, and shown "due for review" (that is the reader's call).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from dateutil.relativedelta import relativedelta

from bot.content.documents import Context, Document, Fields, Kind, Problem
from bot.content.values import id_problem

MAX_TITLE = 150
MAX_TAGS = 20
_KEYS = ("id", "title", "owner", "reviewed", "tags", "source", "applies_to")
_URL = re.compile(r"^https?://[^\s<>|]+$")


@dataclass(frozen=True)
class PracticeNote:
    id: str
    title: str
    owner: str
    reviewed: date
    tags: tuple[str, ...]
    source: str | None
    applies_to: str | None
    body: str
    path: str
    reviewed_line: int = 1  # where `reviewed` is, for the "due for review" warning


def _parse(doc: Document, ctx: Context, problems: list[Problem]) -> PracticeNote | None:
    start = len(problems)
    f = Fields(doc, doc.node, doc.data, problems)
    f.unknown(_KEYS)
    note_id = f.text("id", required=True)
    if note_id is not None and (problem := id_problem(note_id)) is not None:
        f.problem(f.line_of("id"), problem)
    title = f.text("title", required=True, limit=MAX_TITLE)
    owner = f.text("owner", required=True, limit=200)
    reviewed = _reviewed(f, ctx)
    tags = _tags(f)
    source = f.text("source", limit=500)
    if source is not None and not _URL.match(source):
        f.problem(f.line_of("source"), f"source {source!r} must be a link starting https://")
    applies = doc.data.get("applies_to")
    if isinstance(applies, list):
        applies = ", ".join(str(a) for a in applies)
    applies_to = (
        f.check_text(applies, f.line_of("applies_to"), "applies_to", 300) if applies else None
    )
    if not doc.body.strip():
        f.problem(doc.body_line, "the note has no text: write the guidance under the front matter")
    if len(problems) > start or note_id is None or title is None or owner is None:
        return None
    if reviewed is None:
        return None
    return PracticeNote(
        note_id,
        title,
        owner,
        reviewed,
        tags,
        source,
        applies_to,
        doc.body.strip(),
        str(doc.path),
        f.line_of("reviewed"),
    )


def _reviewed(f: Fields, ctx: Context) -> date | None:
    value = f.data.get("reviewed")
    if value is None:
        f.problem(
            f.line, "reviewed is missing: add 'reviewed: 2026-11-01', the date it was checked"
        )
        return None
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value).strip())
        except ValueError:
            f.problem(
                f.line_of("reviewed"), f"reviewed is {value!r}: write a date, e.g. 2026-11-01"
            )
            return None
    today = datetime.now(ctx.tz).date()
    if value > today:
        f.problem(
            f.line_of("reviewed"),
            f"reviewed is {value.isoformat()}, in the future: write the date it was last checked",
        )
        return None
    return value


def _tags(f: Fields) -> tuple[str, ...]:
    value = f.data.get("tags")
    if value is None:
        return ()
    if isinstance(value, str):
        value = [t for t in value.split(",")]
    if not isinstance(value, list) or not all(isinstance(t, str) and t.strip() for t in value):
        f.problem(f.line_of("tags"), "tags must be a list of words, e.g. [missing, rhi]")
        return ()
    if len(value) > MAX_TAGS:
        f.problem(f.line_of("tags"), f"{len(value)} tags: keep to {MAX_TAGS} at most")
        return ()
    return tuple(t.strip().lower() for t in value)


def due_for_review(checked: date, today: date, months: int) -> bool:
    """True when guidance last checked on `checked` is older than the service allows: shown
    "due for review" to readers and listed by `content check`."""
    return checked + relativedelta(months=months) < today


PRACTICE: Kind[PracticeNote] = Kind(
    "practice", "practice note", _parse, lambda n: n.id, optional=True
)
