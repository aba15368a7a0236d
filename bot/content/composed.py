"""A briefing composed in Slack, as the same `Briefing` a content file makes.

The composer (handlers/briefings/compose.py) keeps a draft's fields as a file's front matter
would hold them; `composed_briefing` turns them into a `Briefing`, so a composed briefing goes
through the same plan, confirmation, outbox, acknowledgements and checks as any other.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.content.briefings import DEFAULT_CLOSES_AFTER, Briefing, Check, Question, first_paragraph
from bot.content.values import Audience, parse_audience

SOURCE_PREFIX = "slack:"  # a composed briefing's `source`: where it was written


def composed_briefing(
    draft_id: str,
    version: int,
    fields: dict[str, Any],
    tz: ZoneInfo,
    named: dict[str, tuple[Audience, ...]] | None = None,
) -> Briefing:
    """The briefing a draft's fields describe (they were checked when it was saved)."""
    entries: list[Audience] = []
    for raw in fields.get("audience") or []:
        entry = parse_audience(str(raw))
        if entry.kind == "named":
            if entry.ref not in (named or {}):
                raise ValueError(
                    f"The named audience {entry.raw!r} is no longer in audiences.yaml: edit "
                    "the briefing's audience, then preview again."
                )
            entries += list((named or {})[entry.ref])
        else:
            entries.append(entry)
    check = None
    questions = fields.get("check", {}).get("questions") if fields.get("check") else None
    if questions:
        check = Check(
            closes_after=DEFAULT_CLOSES_AFTER,
            remind_after=None,
            questions=tuple(
                Question(q["ask"], tuple(q["options"]), q["answer"], q.get("explain") or "")
                for q in questions
            ),
            mode=fields["check"].get("mode", "attributed"),
        )
    publish_at = fields.get("publish_at")
    body = str(fields.get("body") or "")
    return Briefing(
        id=draft_id,
        title=str(fields.get("title") or ""),
        audience=tuple(dict.fromkeys(entries)),
        deliver=fields.get("deliver", "channel"),
        acknowledge=bool(fields.get("acknowledge", True)),
        version=version,
        publish_at=datetime.fromisoformat(publish_at).astimezone(tz) if publish_at else None,
        summary=first_paragraph(body),
        body=body,
        check=check,
        source=Path(f"{SOURCE_PREFIX}{draft_id}"),
    )
