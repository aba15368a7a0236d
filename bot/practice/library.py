"""The practice library: the notes and the directory as staff search them now.

`Library.load()` reads `CONTENT_DIR` and builds a fresh search index on a worker thread, then
swaps the whole shelf in at once: a search during a rebuild answers from the old shelf, and a
rebuild that fails keeps it. A broken note or directory entry is left out (the log names the
file, never its text) and the rest still load, so one typo never stops the bot or empties search.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time as clock
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.content import content_glossary
from bot.content.audiences import load_named_audiences
from bot.content.directory import DirectoryEntry, load_directory
from bot.content.documents import Context, Problem, scan
from bot.content.notes import PRACTICE, PracticeNote, due_for_review
from bot.practice.search import (
    MAX_QUERY,
    Document,
    Hit,
    Index,
    build_query,
    english_words,
    has_real_words,
)
from bot.slack.mrkdwn import plain_text

logger = logging.getLogger(__name__)

NOTES_SHOWN = 3
HELPERS_SHOWN = 2


@dataclass(frozen=True)
class Shelf:
    """One complete build: never changed once made."""

    index: Index
    notes: dict[str, PracticeNote]
    entries: dict[str, DirectoryEntry]
    skipped: tuple[Problem, ...] = ()
    seconds: float = 0.0


@dataclass(frozen=True)
class Found:
    """What a search found: the best notes, and who can help."""

    query: str  # what was searched (cut to MAX_QUERY)
    cut: bool  # the person's text was longer and was cut
    notes: list[tuple[Hit, PracticeNote]] = field(default_factory=list)
    helpers: list[tuple[Hit, DirectoryEntry]] = field(default_factory=list)
    searchable: bool = True  # False: no word in it to search by ("???", "what is the")
    real: bool = True  # False: found nothing, and no word in it is a word ("xyzzy plugh")

    @property
    def empty(self) -> bool:
        return not self.notes and not self.helpers

    @property
    def sure(self) -> bool:
        """Something matched strongly: a note or someone who can help."""
        return any(h.strong for h, _ in self.notes) or any(h.strong for h, _ in self.helpers)


def build_shelf(content_dir: Path, tz: ZoneInfo, today: date) -> Shelf:
    """Read the notes, the directory and the glossary, and index them (on a worker thread)."""
    started = clock.perf_counter()
    named, _ = load_named_audiences(content_dir)
    found = scan(content_dir, PRACTICE, Context(tz, named))
    entries, directory_problems = load_directory(content_dir, today)
    # A broken glossary of the service's own is skipped like a broken note: the shipped serves.
    glossary, glossary_problems = content_glossary(content_dir)
    skipped = tuple(found.problems) + tuple(directory_problems) + tuple(glossary_problems)
    documents = [
        Document("note", n.id, n.title, " ".join(n.tags), plain_text(n.body))
        for n in found.items.values()
    ] + [
        Document(
            "directory",
            e.id,
            e.name,
            " ".join(e.helps_with),
            " ".join(filter(None, [*e.helps_with, e.notes or ""])),
        )
        for e in entries.values()
    ]
    index = Index(documents, glossary)
    english_words()  # read once here, off the event loop, for the first search of noise
    return Shelf(index, dict(found.items), entries, skipped, seconds=clock.perf_counter() - started)


class Library:
    """The current shelf, searched without blocking the event loop, rebuilt on request."""

    def __init__(
        self,
        content_dir: Path,
        tz: ZoneInfo,
        *,
        review_months: int,
        clock: Callable[[], datetime],
    ):
        self._content_dir = content_dir
        self._tz = tz
        self.review_months = review_months
        self._clock = clock
        self._shelf: Shelf | None = None
        self._building = asyncio.Lock()
        # One search at a time on the index's connection: it is shared by worker threads.
        self._searching = threading.Lock()

    @property
    def shelf(self) -> Shelf | None:
        return self._shelf

    def today(self) -> date:
        return self._clock().astimezone(self._tz).date()

    async def load(self) -> Shelf:
        """Build a fresh shelf off the event loop and swap it in; the old one serves meanwhile."""
        async with self._building:
            shelf = await asyncio.to_thread(build_shelf, self._content_dir, self._tz, self.today())
            for path in sorted({p.path for p in shelf.skipped}):
                count = sum(1 for p in shelf.skipped if p.path == path)
                # Which file and how many problems: `content check` says what they are.
                logger.warning(
                    "practice content %s was skipped (%d problem(s); run content check)",
                    path,
                    count,
                )
            logger.info(
                "practice search ready: %d note(s), %d directory entr(ies) in %.2f s",
                len(shelf.notes),
                len(shelf.entries),
                shelf.seconds,
            )
            self._shelf = shelf
            return shelf

    async def search(self, text: str) -> Found:
        """The best notes and who can help, for what a person typed."""
        query = " ".join(text.split())
        cut = len(query) > MAX_QUERY
        query = query[:MAX_QUERY]
        shelf = self._shelf
        if shelf is None:
            return Found(query, cut)
        if build_query(query, shelf.index.glossary) is None:
            return Found(query, cut, searchable=False)
        notes, helpers = await asyncio.to_thread(self._search, shelf, query)
        real = bool(notes or helpers) or has_real_words(query, shelf.index.glossary)
        return Found(query, cut, notes, helpers, real=real)

    def _search(
        self, shelf: Shelf, query: str
    ) -> tuple[list[tuple[Hit, PracticeNote]], list[tuple[Hit, DirectoryEntry]]]:
        with self._searching:
            found = shelf.index.search_each(
                query, {"note": NOTES_SHOWN, "directory": HELPERS_SHOWN}
            )
        note_hits, helper_hits = found.get("note", []), found.get("directory", [])
        notes = [(h, shelf.notes[h.id]) for h in note_hits if h.id in shelf.notes]
        helpers = [(h, shelf.entries[h.id]) for h in helper_hits if h.id in shelf.entries]
        return notes, helpers

    def note(self, note_id: str) -> PracticeNote | None:
        shelf = self._shelf
        return None if shelf is None else shelf.notes.get(note_id)

    def due(self, checked: date) -> bool:
        """Is guidance checked on this date due for review?"""
        return due_for_review(checked, self.today(), self.review_months)

    def topics(self, limit: int = 12) -> list[str]:
        """What the library holds, for a search that found nothing: note titles, A to Z."""
        shelf = self._shelf
        if shelf is None:
            return []
        return sorted(n.title for n in shelf.notes.values())[:limit]
