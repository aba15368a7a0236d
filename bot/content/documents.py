"""What every kind of content shares: front matter and body, fields with lines, file:line problems.

A content file is Markdown with YAML front matter. `read_document` splits it, keeping each YAML
node's line so that every problem can say where it is; `Fields` validates a mapping and collects
problems instead of stopping at the first; `scan` reads one kind's folder. Each content type
(briefings now; audiences, practice notes, the directory later) is a module beside this one with
a parse function and a `Kind`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

import yaml

from bot.content.values import parse_duration
from bot.safe_yaml import AliasRefused, ContentLoader
from bot.safe_yaml import compose as compose_yaml


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a content file, where it is and how to fix it."""

    path: Path
    line: int  # 1-based; 0 when the problem is about a whole directory
    message: str

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}: {self.message}"
            if self.line
            else f"{self.path}: {self.message}"
        )


class ContentError(Exception):
    """Content's problems as one error, for a caller that must refuse them all. The loaders no
    longer raise it: a broken file takes only itself out (bot/content/broken.py)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


# ---------------------------------------------------------------------------------------------
# Reading a file: front matter and body, each YAML node with its line in the file


@dataclass
class Document:
    path: Path
    node: yaml.MappingNode
    data: dict[str, Any]
    body: str
    body_line: int  # line of the first body line in the file


def file_line(node: yaml.Node) -> int:
    # +1 for the opening `---` (the YAML starts on the file's second line), +1 for 1-based.
    return node.start_mark.line + 2


def read_document(path: Path, problems: list[Problem]) -> Document | None:
    """Split a file into front matter (as YAML nodes and values) and body; None on failure."""

    def fail(line: int, message: str) -> None:
        problems.append(Problem(path, line, message))

    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        fail(1, f"file is not UTF-8 text ({e.reason}): save it as UTF-8")
        return None
    lines = text.replace("\r\n", "\n").split("\n")
    if lines[0].strip() != "---":
        fail(1, "file must start with a line '---' that opens the front matter (id, title, …)")
        return None
    try:
        end = next(i for i, line in enumerate(lines[1:], 1) if line.rstrip() in ("---", "..."))
    except StopIteration:
        fail(1, "front matter is never closed: add a line '---' after the last field")
        return None

    front = "\n".join(lines[1:end])
    try:
        loader = ContentLoader(front)
    except yaml.reader.ReaderError as e:  # a control character (Word's line break, a bell)
        fail(
            front.count("\n", 0, max(e.position, 0)) + 2,
            f"front matter has a character YAML cannot read ({e.character!r}): delete it",
        )
        return None
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except AliasRefused as e:  # never expanded: a billion laughs is refused at its first alias
        fail(e.line + 2, f"front matter: {e.refusal}")
        return None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 2 if mark else 1
        fail(line, f"front matter is not valid YAML ({e.problem or e.context}): {YAML_HINT}")
        return None
    except yaml.YAMLError as e:
        fail(_reader_line(e, front, 2), f"front matter is not valid YAML ({e}): {YAML_HINT}")
        return None
    finally:
        loader.dispose()
    if node is None:
        node, data = yaml.MappingNode("tag:yaml.org,2002:map", []), {}
    if not isinstance(node, yaml.MappingNode) or not isinstance(data, dict):
        fail(2, "front matter must be 'key: value' lines, e.g. 'title: …'")
        return None
    return Document(path, node, data, "\n".join(lines[end + 1 :]), end + 2)


def open_yaml(path: Path) -> tuple[yaml.Node | None, list[Problem]]:
    """An optional whole-YAML content file's nodes (None if absent or broken) and problems."""
    problems: list[Problem] = []
    if not path.is_file():
        return None, problems

    def fail(line: int, message: str) -> None:
        problems.append(Problem(path, line, message))

    return read_yaml_file(path, fail), problems


def read_yaml_file(path: Path, fail: Callable[[int, str], None]) -> yaml.Node | None:
    """A whole-YAML content file (audiences.yaml, directory.yaml) as nodes with their lines,
    or None with the problem reported at its line: not UTF-8, a control character YAML cannot
    read (Word's line break), an alias (bot/safe_yaml.py), or YAML that does not parse."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        fail(1, "file is not UTF-8 text: save it as UTF-8")
        return None
    try:
        return compose_yaml(text)
    except AliasRefused as e:
        fail(e.line + 1, e.refusal)
    except yaml.reader.ReaderError as e:
        fail(
            text.count("\n", 0, max(e.position, 0)) + 1,
            f"a character YAML cannot read ({e.character!r}): delete it",
        )
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        fail(
            mark.line + 1 if mark else 1,
            f"not valid YAML ({e.problem or e.context}): check the indentation, and put quotes "
            "around a value that starts with # or @",
        )
    except yaml.YAMLError as e:
        fail(1, f"not valid YAML ({e.__class__.__name__}): check the file's layout")
    return None


def _reader_line(error: yaml.YAMLError, text: str, offset: int) -> int:
    """The file line of a YAML error that has no mark (a reader error has a position)."""
    position = getattr(error, "position", None)
    if isinstance(position, int) and position >= 0:
        return text.count("\n", 0, position) + offset
    return 1


YAML_HINT = (
    "check the indentation, and put quotes around any value that starts with #, @ or a quote mark"
)


# ---------------------------------------------------------------------------------------------
# Validating fields


class Fields:
    """A YAML mapping's fields with their lines; collects problems instead of stopping at one."""

    def __init__(
        self,
        doc: Document,
        node: yaml.MappingNode,
        data: dict[str, Any],
        problems: list[Problem],
        where: str = "",
    ) -> None:
        self.doc, self.data, self.problems, self.where = doc, data, problems, where
        self.line = file_line(node)
        self.nodes: dict[str, yaml.Node] = {}
        for key_node, _ in node.value:
            key = str(key_node.value)
            if key in self.nodes:
                self.problem(
                    file_line(key_node),
                    f"{where}{key} is given twice (first on line {file_line(self.nodes[key])}): "
                    "keep one",
                )
            self.nodes[key] = key_node
        self.values = {str(k.value): v for k, v in node.value}

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.doc.path, line, message))

    def line_of(self, key: str) -> int:
        return file_line(self.nodes[key]) if key in self.nodes else self.line

    def unknown(self, allowed: Iterable[str]) -> None:
        allowed = list(allowed)
        for key in self.nodes:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = (
                    f"did you mean {close[0]!r}?" if close else f"use one of: {', '.join(allowed)}"
                )
                inside = f" in {self.where.rstrip('. ')}" if self.where else ""
                self.problem(self.line_of(key), f"unknown field {key!r}{inside}: {hint}")

    def text(self, key: str, *, required: bool = False, limit: int | None = None) -> str | None:
        if key not in self.data or self.data[key] is None:
            if required:
                self.problem(self.line, f"{self.where}{key} is missing: add '{key}: …'")
            return None
        return self.check_text(self.data[key], self.line_of(key), f"{self.where}{key}", limit)

    def check_text(self, value: Any, line: int, what: str, limit: int | None) -> str | None:
        if not isinstance(value, str):
            # YAML turns yes/no/on/off into booleans and 1.50 into a number.
            self.problem(line, f"{what} must be text, not {value!r}: put it in quotes")
            return None
        value = value.strip()
        if not value:
            self.problem(line, f"{what} is empty: write something or remove the line")
            return None
        if limit is not None and len(value) > limit:
            self.problem(
                line,
                f"{what} is {len(value)} characters; Slack shows at most {limit}: shorten it",
            )
            return None
        return value

    def duration(self, key: str) -> timedelta | None:
        value = self.data.get(key)
        if value is None:
            return None
        try:
            return parse_duration(str(value))
        except ValueError as e:
            self.problem(
                self.line_of(key), f"{self.where}{key}: {e} (m minutes, h hours, d days, w weeks)"
            )
            return None


# ---------------------------------------------------------------------------------------------
# Directories


T = TypeVar("T")


@dataclass(frozen=True)
class Context:
    """What parsing a file may need beyond the file: the time zone, the named audiences."""

    tz: ZoneInfo
    audiences: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Kind(Generic[T]):
    """One kind of content: where its files live and how one file becomes an item."""

    folder: str
    noun: str  # "briefing" — for messages
    parse: Callable[[Document, Context, list[Problem]], T | None]
    item_id: Callable[[T], str]
    optional: bool = False  # a content folder without this kind's folder is fine


@dataclass
class Scan(Generic[T]):
    items: dict[str, T] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    files: int = 0


def scan(content_dir: Path, kind: Kind[T], ctx: Context) -> Scan[T]:
    """Parse every file of one kind once, collecting items and problems in file order."""
    scan: Scan[T] = Scan()
    if not content_dir.is_dir():
        scan.problems.append(
            Problem(content_dir, 0, "no such directory: pass the folder that holds briefings/")
        )
        return scan
    folder = content_dir / kind.folder
    if not folder.is_dir() and kind.optional:
        return scan
    if not folder.is_dir():
        scan.problems.append(
            Problem(
                content_dir,
                0,
                f"no {kind.folder}/ folder here: {kind.noun}s live in {folder}/*.md",
            )
        )
        return scan
    first_seen: dict[str, Path] = {}
    for path in sorted(folder.glob("*.md")):
        scan.files += 1
        problems: list[Problem] = []
        doc = read_document(path, problems)
        item = None
        if doc is not None:
            item = kind.parse(doc, ctx, problems)
            item_id = raw_id(doc)
            if item_id is not None and item_id in first_seen:
                problems.append(
                    Problem(
                        path,
                        id_line(doc),
                        f"id {item_id!r} is already used by {first_seen[item_id]}: give each "
                        f"{kind.noun} its own id",
                    )
                )
                item = None
            elif item_id is not None:
                first_seen[item_id] = path
        if item is not None and not problems:
            scan.items[kind.item_id(item)] = item
        scan.problems.extend(sorted(problems, key=lambda p: p.line))
    return scan


def raw_id(doc: Document) -> str | None:
    value = doc.data.get("id")
    return value.strip() if isinstance(value, str) and value.strip() else None


def id_line(doc: Document) -> int:
    for key_node, _ in doc.node.value:
        if key_node.value == "id":
            return file_line(key_node)
    return 1
