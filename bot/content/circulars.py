"""Circulars: `content/circulars/*.md`, the regular round-up (the seed's "regular briefings and
circulars for staff and partners").

    ---
    id: weekly-round-up
    title: The week in children's services
    audience: ["#social-work-all"]
    schedule: every Friday 09:00
    publisher: U0SM01        # who it is from, and who is told when a week has nothing new
    ---
    The intro, in Markdown: a line or two from the Director.

Each time its schedule comes round, the bot gathers what is new since the last one — the
briefings published and how many acknowledged, the questions answered ("you said, we did"),
the practice notes added or reviewed — into one message through the outbox; with nothing new
it is skipped, and the publisher is told.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import get_args
from zoneinfo import ZoneInfo

from bot.content.briefings import Deliver, parse_audience_field
from bot.content.broken import Loaded, read_kind
from bot.content.documents import Context, Document, Fields, Kind, Problem
from bot.content.values import Audience, id_problem
from bot.recurrence import Recurrence

MAX_TITLE = 150
_KEYS = ("id", "title", "audience", "schedule", "publisher", "deliver")
_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")


@dataclass(frozen=True)
class Circular:
    id: str
    title: str
    audience: tuple[Audience, ...]
    schedule: Recurrence
    publisher: str
    deliver: Deliver
    intro: str
    path: str


def _parse(doc: Document, ctx: Context, problems: list[Problem]) -> Circular | None:
    start = len(problems)
    f = Fields(doc, doc.node, doc.data, problems)
    f.unknown(_KEYS)
    circular_id = f.text("id", required=True)
    if circular_id is not None and (why := id_problem(circular_id)) is not None:
        f.problem(f.line_of("id"), why)
    title = f.text("title", required=True, limit=MAX_TITLE)
    audience = parse_audience_field(f, ctx)
    schedule = None
    raw = f.text("schedule", required=True, limit=100)
    if raw is not None:
        try:
            schedule = Recurrence.parse(raw)
        except ValueError as error:
            f.problem(f.line_of("schedule"), f"schedule: {error}")
    publisher = f.text("publisher", required=True, limit=20)
    if publisher is not None and not _USER.match(publisher):
        f.problem(
            f.line_of("publisher"),
            f"publisher {publisher!r} must be a Slack user id such as U0SM01 (their profile, "
            "⋮, Copy member ID): who it is from, and who is told when there is nothing new",
        )
    deliver = doc.data.get("deliver", "channel")
    if deliver not in get_args(Deliver):
        f.problem(f.line_of("deliver"), f"deliver is {deliver!r}: use channel, dm or both")
    if (
        len(problems) > start
        or circular_id is None
        or title is None
        or audience is None
        or schedule is None
        or publisher is None
    ):
        return None
    return Circular(
        circular_id, title, audience, schedule, publisher, deliver, doc.body.strip(), str(doc.path)
    )


CIRCULARS: Kind[Circular] = Kind("circulars", "circular", _parse, lambda c: c.id, optional=True)


def read_circulars(content_dir: Path, tz: ZoneInfo) -> Loaded[Circular]:
    """The circulars ready to go, by id, and each file left out for its problems: a broken
    circular (or briefing) stops no other circular."""
    return read_kind(content_dir, CIRCULARS, tz)
