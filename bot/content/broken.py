"""Content files left out for their problems: each takes only itself out, and says why.

A briefing or circular with a problem is not sent, but it must not stop any other: `read_kind`
answers the files that are ready and, beside them, each file `Broken` — its name (never the
server's path), the id and title it gives if those could be read, and its problems in the
author's words — for the publisher's reply, `/brief list` and the leads' Home note.
`content check` still lists every problem with the file's full path and line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from bot.content.audiences import load_named_audiences
from bot.content.documents import Context, Kind, Problem, raw_id, read_document, scan

T = TypeVar("T")

# A path left in a message (one file naming another): only its last part is shown.
_ANY_PATH = re.compile(r"(?<![\w:/.~-])(?:/[^\s/'\"`]+)+/([^\s/'\"`]+)")


@dataclass(frozen=True)
class Broken:
    """One content file left out because of its problems. Nothing in it is a server path."""

    file: str  # its name, e.g. "duty-changes.md"
    noun: str  # what it is: "briefing", "circular", "named audiences"…
    id: str | None  # the id it gives, if that much could be read
    title: str | None  # its title, likewise
    problems: tuple[Problem, ...]  # each with the file's name as its path, in line order

    def names(self, wanted: str) -> bool:
        """True when `wanted` is this file's id, or its name without `.md` (an id that could
        not be read is usually the file's name)."""
        return wanted in {self.id, Path(self.file).stem, self.file}


@dataclass(frozen=True)
class Loaded(Generic[T]):
    """One kind of content as read now: what is ready, by id, and what was left out."""

    ready: dict[str, T] = field(default_factory=dict)
    broken: tuple[Broken, ...] = ()

    def broken_one(self, wanted: str) -> Broken | None:
        """The broken content file (never `audiences.yaml`) `wanted` names, unless a ready
        item has that id."""
        if wanted in self.ready:
            return None
        return next((b for b in self.broken if b.file.endswith(".md") and b.names(wanted)), None)


def read_kind(content_dir: Path, kind: Kind[T], tz: ZoneInfo) -> Loaded[T]:
    """Every file of one kind: the ready items, and each broken file (with `audiences.yaml`
    first when it has problems, as briefings and circulars lean on it)."""
    named, audience_problems = load_named_audiences(content_dir)
    found = scan(content_dir, kind, Context(tz, named))
    broken = left_out(audience_problems, content_dir, "named audiences")
    broken += left_out(found.problems, content_dir, kind.noun)
    return Loaded(found.items, broken)


def left_out(problems: Iterable[Problem], content_dir: Path, noun: str) -> tuple[Broken, ...]:
    """The files these problems are in, one `Broken` each, in the order first met. A problem
    about a whole folder (no `briefings/` folder at all) names no file and is not one."""
    by_path: dict[Path, list[Problem]] = {}
    for problem in problems:
        if problem.line == 0 and not problem.path.suffix:
            continue
        by_path.setdefault(problem.path, []).append(problem)
    out = []
    for path, found in by_path.items():
        name = path.name
        shown = tuple(
            Problem(Path(name), p.line, without_paths(p.message, content_dir))
            for p in sorted(found, key=lambda p: p.line)
        )
        file_id, title = _id_and_title(path)
        out.append(Broken(name, noun, file_id, title, shown))
    return tuple(out)


def without_paths(message: str, content_dir: Path) -> str:
    """The message with every path cut to the file's name (`…/briefings/a.md` → `a.md`) and
    the content folder itself called that: nothing of the server's layout reaches Slack."""
    folder = str(content_dir)
    message = re.sub(re.escape(folder) + r"/(?:[^\s/'\"`]+/)*", "", message)
    if content_dir.is_absolute():
        message = message.replace(folder, "the content folder")
    return _ANY_PATH.sub(r"\1", message)


def _id_and_title(path: Path) -> tuple[str | None, str | None]:
    """What a broken file says it is, if its front matter can be read at all."""
    if path.suffix != ".md":
        return None, None
    try:
        doc = read_document(path, [])
    except OSError:  # gone or unreadable since the scan: its problems still stand
        return None, None
    if doc is None:
        return None, None
    title = doc.data.get("title")
    return raw_id(doc), " ".join(title.split())[:150] if isinstance(title, str) else None
