"""Briefings composed in Slack: saved as drafts, reopened, and published like a content file's.

A composed briefing keeps its fields (as JSON, the same ones a file's front matter has) and a
version. Saving it again after that version has gone out raises the version, as an author
raises `version:` in a file, so a changed briefing is a new version with its own
acknowledgements and a correction path like any other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from bot.content.values import slugify
from bot.storage.questions import PERSON_WRITE_TIMEOUT
from bot.storage.writer import Writer, utc_iso


@dataclass(frozen=True)
class Draft:
    id: str
    author: str
    version: int
    fields: dict[str, Any]
    updated_at: str


def _sent(db: Database, briefing_id: str, version: int) -> bool:
    """Has this version gone out, or been scheduled? Then a change is a new version."""
    return any(
        db.execute(
            f"SELECT 1 FROM {table} WHERE briefing_id = ? AND version = ? LIMIT 1",
            [briefing_id, version],
        ).fetchone()
        for table in ("broadcasts", "schedules")
    )


def _used(db: Database, briefing_id: str) -> bool:
    """Is an id taken: by a draft, or by anything ever sent or scheduled under it (a retired
    file's briefing keeps its history)?"""
    if db.execute("SELECT 1 FROM composed_briefings WHERE id = ?", [briefing_id]).fetchone():
        return True
    return any(
        db.execute(f"SELECT 1 FROM {table} WHERE briefing_id = ? LIMIT 1", [briefing_id]).fetchone()
        for table in ("broadcasts", "publications", "schedules")
    )


def _draft(row: Any) -> Draft:
    draft_id, author, version, fields, updated_at = row
    return Draft(draft_id, author, version, json.loads(fields), updated_at)


class Drafts:
    """Named operations on `composed_briefings`."""

    def __init__(self, writer: Writer):
        self._w = writer

    async def save(
        self,
        fields: dict[str, Any],
        *,
        draft_id: str | None,
        user_id: str,
        now: datetime,
        taken: frozenset[str] = frozenset(),
    ) -> Draft:
        """Save a new draft (its id made from the title, clear of `taken` content ids) or
        change one; a change to a version that has gone out is the next version."""
        at = utc_iso(now)
        text = json.dumps(fields, ensure_ascii=False, sort_keys=True)

        def write_draft(db: Database) -> Draft:
            row = (
                db.execute(
                    "SELECT id, version, fields FROM composed_briefings WHERE id = ?", [draft_id]
                ).fetchone()
                if draft_id
                else None
            )
            if row is None:
                base = slugify(str(fields.get("title") or "briefing"))[:56].strip("-")
                new_id, n = base or "briefing", 1
                while new_id in taken or _used(db, new_id):
                    n += 1
                    new_id = f"{base}-{n}"
                db.execute(
                    "INSERT INTO composed_briefings (id, author, version, fields, created_at,"
                    " updated_at, updated_by) VALUES (?, ?, 1, ?, ?, ?, ?)",
                    [new_id, user_id, text, at, at, user_id],
                )
                saved = new_id
            else:
                saved, version, before = row
                if before != text and _sent(db, saved, version):
                    version += 1
                db.execute(
                    "UPDATE composed_briefings SET fields = ?, version = ?, updated_at = ?,"
                    " updated_by = ? WHERE id = ?",
                    [text, version, at, user_id, saved],
                )
            got = db.execute(
                "SELECT id, author, version, fields, updated_at FROM composed_briefings"
                " WHERE id = ?",
                [saved],
            ).fetchone()
            return _draft(got)

        return await self._w.write(write_draft, timeout=PERSON_WRITE_TIMEOUT)

    async def get(self, draft_id: str) -> Draft | None:
        def query(db: Database) -> Draft | None:
            row = db.execute(
                "SELECT id, author, version, fields, updated_at FROM composed_briefings"
                " WHERE id = ?",
                [draft_id],
            ).fetchone()
            return None if row is None else _draft(row)

        return await self._w.read(query)

    async def all(self, author: str | None = None, limit: int = 100_000) -> list[Draft]:
        """Composed briefings, newest first (one author's, if given)."""

        def query(db: Database) -> list[Draft]:
            where, params = ("WHERE author = ?", [author]) if author else ("", [])
            rows = db.execute(
                "SELECT id, author, version, fields, updated_at FROM composed_briefings"
                f" {where} ORDER BY updated_at DESC LIMIT ?",
                [*params, limit],
            ).fetchall()
            return [_draft(row) for row in rows]

        return await self._w.read(query)
