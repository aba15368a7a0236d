"""Briefings as Markdown files with YAML front matter, checked before anyone is messaged.

Briefings are written by senior managers and the engagement lead, reviewed like code, and sent to
hundreds of social workers. A typo in an audience or a wrong answer in a comprehension check is
embarrassing at best and misleading at worst, so every file is checked as a whole and every
problem is reported with its file, line and how to fix it (`line-of-sight content check`).

Layout: `content/briefings/*.md`. One parse per file turns it into either a `Briefing` or a list of
`Problem`s; `check_content` and `load_briefings` share that parse. Practice notes and the resource
directory will follow the same shape: write a parse function that validates a `_Document` with
`_Fields`, declare a `_Kind` like `_BRIEFINGS` (folder, noun, parse, id), and scan it with `_scan`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Generic, Literal, TextIO, TypeVar, cast, get_args
from zoneinfo import ZoneInfo

import yaml

from bot.mrkdwn import LINK_PATTERN, is_linkable_url, plain_text

__all__ = [
    "Audience",
    "Briefing",
    "Check",
    "ContentError",
    "Problem",
    "Question",
    "check_content",
    "load_briefings",
    "parse_audience",
    "parse_duration",
    "run_content_check",
]

Deliver = Literal["channel", "dm", "both"]
AudienceKind = Literal["channel", "usergroup", "user"]

# Slack limits (see shared/SLACK.md): a header block's text is 150 characters, an option's 75.
MAX_TITLE = 150
MAX_ASK = 150
MAX_OPTION = 75
MAX_ID = 64
MIN_QUESTIONS, MAX_QUESTIONS = 1, 10
MIN_OPTIONS, MAX_OPTIONS = 2, 6
DEFAULT_CLOSES_AFTER = timedelta(days=7)


# ---------------------------------------------------------------------------------------------
# The model


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
    """Raised by the loaders when content has problems: nothing is sent from broken content."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Audience:
    """One audience entry: a channel, a user group or a person, by name or by Slack id.

    `ref` is the name without its `#`/`@`, or the id. Names are resolved to ids at send time;
    ids survive renames, names are easier to review.
    """

    raw: str
    kind: AudienceKind
    ref: str

    @property
    def is_id(self) -> bool:
        """True when `ref` is a Slack id (C…, S…, U…), False when it is a name to look up."""
        return not self.raw.startswith(("#", "@"))


@dataclass(frozen=True)
class Question:
    """One multiple-choice question in a comprehension check."""

    ask: str
    options: tuple[str, ...]
    answer: str  # exactly one of `options`
    explain: str  # shown after answering, right or wrong: "Here's what the briefing says…"


@dataclass(frozen=True)
class Check:
    """A short comprehension check: did the message land, and what was misunderstood?"""

    closes_after: timedelta
    remind_after: timedelta | None
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Briefing:
    """A briefing or circular, ready to send. Built only from a file with no problems."""

    id: str
    title: str
    audience: tuple[Audience, ...]
    deliver: Deliver
    acknowledge: bool
    version: int  # bump it when a change means people must acknowledge again
    publish_at: datetime | None  # aware, in the configured timezone
    summary: str  # plain text, for notifications and screen readers
    body: str  # Markdown; render with bot.mrkdwn.markdown_to_mrkdwn
    check: Check | None
    source: Path


# ---------------------------------------------------------------------------------------------
# Values that other features parse too (`/brief` takes an audience and durations)

_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{6,}")
_USERGROUP_ID = re.compile(r"S[A-Z0-9]{6,}")
_USER_ID = re.compile(r"[UW][A-Z0-9]{6,}")
# Slack channel names: lowercase letters, numbers, hyphens, underscores, up to 80 characters.
_CHANNEL_NAME = re.compile(r"[a-z0-9_-]{1,80}")
_HANDLE = re.compile(r"[a-z0-9._-]{1,80}")
_AUDIENCE_HELP = "must start with # (channel), @ (user group), or be a C…/S…/U… id"


def parse_audience(raw: str) -> Audience:
    """Parse `#channel`, `@user-group`, or a C…/G…, S…, U…/W… id; ValueError says how to fix it."""
    if raw.startswith("#"):
        name = raw[1:]
        if not _CHANNEL_NAME.fullmatch(name):
            raise ValueError(
                f"audience entry {raw!r} is not a Slack channel name: use lowercase letters, "
                "numbers, hyphens and underscores after the #, e.g. '#social-work-all'"
            )
        return Audience(raw, "channel", name)
    if raw.startswith("@"):
        handle = raw[1:]
        if not _HANDLE.fullmatch(handle):
            raise ValueError(
                f"audience entry {raw!r} is not a user group handle: use lowercase letters, "
                "numbers, hyphens, underscores and dots after the @, e.g. '@team-managers'"
            )
        return Audience(raw, "usergroup", handle)
    if _CHANNEL_ID.fullmatch(raw):
        return Audience(raw, "channel", raw)
    if _USERGROUP_ID.fullmatch(raw):
        return Audience(raw, "usergroup", raw)
    if _USER_ID.fullmatch(raw):
        return Audience(raw, "user", raw)
    raise ValueError(f"audience entry {raw!r} {_AUDIENCE_HELP}")


_DURATION = re.compile(r"(\d+)\s*([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(raw: str) -> timedelta:
    """Parse `30m`, `48h`, `7d` or `2w` into a positive timedelta; ValueError otherwise."""
    m = _DURATION.fullmatch(raw.strip())
    if not m or int(m[1]) == 0:
        raise ValueError(f"{raw!r} is not a duration: write a whole number and a unit, e.g. 7d")
    return timedelta(**{_UNITS[m[2]]: int(m[1])})


def parse_local_time(raw: str | datetime, tz: ZoneInfo) -> datetime:
    """Parse `YYYY-MM-DD HH:MM` (or an ISO datetime) as a real local time in `tz`.

    A time in the spring-forward gap does not exist and is rejected. A time in the autumn
    fall-back hour happens twice; we take the first (fold=0, still on summer time), which is what
    anyone scheduling "01:30" that night most likely means.
    """
    if isinstance(raw, datetime):
        when = raw
    else:
        text = raw.strip()
        try:
            when = datetime.strptime(text, "%Y-%m-%d %H:%M")
        except ValueError:
            try:
                when = datetime.fromisoformat(text)
            except ValueError:
                raise ValueError(
                    f"{text!r} is not a date and time: "
                    "write YYYY-MM-DD HH:MM, e.g. 2026-12-01 09:00"
                ) from None
    if when.tzinfo is not None:
        return when.astimezone(tz)
    local = when.replace(tzinfo=tz, fold=0)
    if local.astimezone(ZoneInfo("UTC")).astimezone(tz).replace(tzinfo=None) != when:
        raise ValueError(
            f"{when:%Y-%m-%d %H:%M} does not exist in {tz.key}: the clocks go forward then; "
            "pick a time at least an hour later"
        )
    return local


# ---------------------------------------------------------------------------------------------
# Reading a file: front matter and body, each YAML node with its line in the file


@dataclass
class _Document:
    path: Path
    node: yaml.MappingNode
    data: dict[str, Any]
    body: str
    body_line: int  # line of the first body line in the file


def _file_line(node: yaml.Node) -> int:
    # +1 for the opening `---` (the YAML starts on the file's second line), +1 for 1-based.
    return node.start_mark.line + 2


def _read_document(path: Path, problems: list[Problem]) -> _Document | None:
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

    loader = yaml.SafeLoader("\n".join(lines[1:end]))
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 2 if mark else 1
        fail(line, f"front matter is not valid YAML ({e.problem or e.context}): {_YAML_HINT}")
        return None
    except yaml.YAMLError as e:
        fail(1, f"front matter is not valid YAML ({e}): {_YAML_HINT}")
        return None
    finally:
        loader.dispose()
    if node is None:
        node, data = yaml.MappingNode("tag:yaml.org,2002:map", []), {}
    if not isinstance(node, yaml.MappingNode) or not isinstance(data, dict):
        fail(2, "front matter must be 'key: value' lines, e.g. 'title: …'")
        return None
    return _Document(path, node, data, "\n".join(lines[end + 1 :]), end + 2)


_YAML_HINT = (
    "check the indentation, and put quotes around any value that starts with #, @ or a quote mark"
)


# ---------------------------------------------------------------------------------------------
# Validating fields


class _Fields:
    """A YAML mapping's fields with their lines; collects problems instead of stopping at one."""

    def __init__(
        self,
        doc: _Document,
        node: yaml.MappingNode,
        data: dict[str, Any],
        problems: list[Problem],
        where: str = "",
    ) -> None:
        self.doc, self.data, self.problems, self.where = doc, data, problems, where
        self.line = _file_line(node)
        self.nodes: dict[str, yaml.Node] = {}
        for key_node, _ in node.value:
            key = str(key_node.value)
            if key in self.nodes:
                self.problem(
                    _file_line(key_node),
                    f"{where}{key} is given twice (first on line {_file_line(self.nodes[key])}): "
                    "keep one",
                )
            self.nodes[key] = key_node
        self.values = {str(k.value): v for k, v in node.value}

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.doc.path, line, message))

    def line_of(self, key: str) -> int:
        return _file_line(self.nodes[key]) if key in self.nodes else self.line

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
# Briefings

_BRIEFING_KEYS = (
    "id",
    "title",
    "audience",
    "deliver",
    "acknowledge",
    "version",
    "publish_at",
    "summary",
    "check",
)
_CHECK_KEYS = ("closes_after", "remind_after", "questions")
_QUESTION_KEYS = ("ask", "options", "answer", "explain")
_SLUG = re.compile(r"[a-z0-9-]+")


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:MAX_ID] or "my-briefing"


def _parse_briefing(doc: _Document, tz: ZoneInfo, problems: list[Problem]) -> Briefing | None:
    """Validate one briefing's fields; return it only if this file has no problems."""
    start = len(problems)
    f = _Fields(doc, doc.node, doc.data, problems)
    f.unknown(_BRIEFING_KEYS)

    briefing_id = f.text("id", required=True)
    if briefing_id is not None:
        if not _SLUG.fullmatch(briefing_id):
            f.problem(
                f.line_of("id"),
                f"id {briefing_id!r} must use only lowercase letters, numbers and hyphens, "
                f"e.g. {_slugify(briefing_id)!r}",
            )
        elif len(briefing_id) > MAX_ID:
            f.problem(
                f.line_of("id"),
                f"id is {len(briefing_id)} characters; the limit is {MAX_ID}: shorten it",
            )
    title = f.text("title", required=True, limit=MAX_TITLE)
    audience = _audience(f)

    deliver = doc.data.get("deliver", "channel")
    if deliver not in get_args(Deliver):
        f.problem(
            f.line_of("deliver"),
            f"deliver is {deliver!r}: use channel (post in the channels), dm (message each "
            "person) or both",
        )
    elif (
        deliver in ("channel", "both")
        and audience
        and not any(a.kind == "channel" for a in audience)
    ):
        f.problem(
            f.line_of("deliver"),
            f"deliver: {deliver} needs a channel in the audience: add one (e.g. "
            "'#social-work-all') or use deliver: dm",
        )

    acknowledge = doc.data.get("acknowledge", False)
    if not isinstance(acknowledge, bool):
        f.problem(f.line_of("acknowledge"), f"acknowledge is {acknowledge!r}: use true or false")

    version = doc.data.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        f.problem(f.line_of("version"), f"version is {version!r}: use a whole number, 1 or more")

    publish_at = None
    raw_publish = doc.data.get("publish_at")
    if raw_publish is not None:
        if isinstance(raw_publish, str | datetime):
            try:
                publish_at = parse_local_time(raw_publish, tz)
            except ValueError as e:
                f.problem(f.line_of("publish_at"), f"publish_at {e}")
        else:
            what = "only a date" if isinstance(raw_publish, date) else repr(raw_publish)
            f.problem(
                f.line_of("publish_at"),
                f"publish_at is {what}: write a date and time, e.g. 2026-12-01 09:00",
            )

    summary = f.text("summary")
    check = _check(doc, f)

    body = doc.body.strip()
    if not body:
        f.problem(doc.body_line, "the briefing has no body: write the message after the '---' line")
    _check_links(doc, problems)

    if len(problems) > start or briefing_id is None or title is None or audience is None:
        return None
    return Briefing(
        id=briefing_id,
        title=title,
        audience=audience,
        deliver=cast(Deliver, deliver),
        acknowledge=acknowledge,
        version=version,
        publish_at=publish_at,
        summary=summary or _first_paragraph(body),
        body=body,
        check=check,
        source=doc.path,
    )


def _audience(f: _Fields) -> tuple[Audience, ...] | None:
    if "audience" not in f.data:
        f.problem(f.line, 'audience is missing: add e.g. audience: ["#social-work-all"]')
        return None
    node, value = f.values["audience"], f.data["audience"]
    line = f.line_of("audience")
    if value is None or value == []:
        f.problem(
            line,
            'audience is empty: list who gets it, e.g. audience: ["#social-work-all"] (in YAML an '
            "unquoted # starts a comment, so use quotes)",
        )
        return None
    if not isinstance(value, list) or not isinstance(node, yaml.SequenceNode):
        f.problem(line, f'audience must be a list, e.g. audience: ["{value}"]')
        return None
    entries: list[Audience] = []
    seen: set[str] = set()
    ok = True
    for item_node, item in zip(node.value, value, strict=True):
        item_line = _file_line(item_node)
        if item is None:
            f.problem(
                item_line,
                "audience entry is empty: in YAML an unquoted # starts a comment, so write "
                "'#channel-name' in quotes",
            )
            ok = False
            continue
        if not isinstance(item, str):
            f.problem(item_line, f"audience entry {item!r} {_AUDIENCE_HELP}")
            ok = False
            continue
        try:
            entry = parse_audience(item.strip())
        except ValueError as e:
            f.problem(item_line, str(e))
            ok = False
            continue
        if entry.raw in seen:
            f.problem(item_line, f"audience lists {entry.raw!r} twice: remove one")
        seen.add(entry.raw)
        entries.append(entry)
    return tuple(entries) if ok else None


def _check(doc: _Document, parent: _Fields) -> Check | None:
    if "check" not in doc.data or doc.data["check"] is None:
        return None
    node, value = parent.values["check"], doc.data["check"]
    if not isinstance(value, dict) or not isinstance(node, yaml.MappingNode):
        parent.problem(
            parent.line_of("check"),
            "check must be 'key: value' lines (closes_after, remind_after, questions), indented "
            "under check:",
        )
        return None
    f = _Fields(doc, node, value, parent.problems, "check.")
    f.unknown(_CHECK_KEYS)
    closes_after = f.duration("closes_after") if "closes_after" in value else DEFAULT_CLOSES_AFTER
    remind_after = f.duration("remind_after")
    if closes_after and remind_after and remind_after >= closes_after:
        f.problem(
            f.line_of("remind_after"),
            "check.remind_after must be shorter than check.closes_after, or the reminder would "
            "come after the check has closed",
        )

    questions: list[Question] = []
    q_node, q_value = f.values.get("questions"), value.get("questions")
    if q_value is None:
        f.problem(f.line, "check.questions is missing: add at least one question, or remove check")
    elif not isinstance(q_value, list) or not isinstance(q_node, yaml.SequenceNode):
        f.problem(f.line_of("questions"), "check.questions must be a list of '- ask: …' items")
    elif not MIN_QUESTIONS <= len(q_value) <= MAX_QUESTIONS:
        f.problem(
            f.line_of("questions"),
            f"check has {len(q_value)} questions: use {MIN_QUESTIONS} to {MAX_QUESTIONS} "
            "(three is plenty on a phone)",
        )
    else:
        for n, (item_node, item) in enumerate(zip(q_node.value, q_value, strict=True), 1):
            question = _question(doc, f, n, item_node, item)
            if question:
                questions.append(question)
    if closes_after is None or (q_value and len(questions) != len(q_value)) or not questions:
        return None
    return Check(closes_after, remind_after, tuple(questions))


def _question(
    doc: _Document, parent: _Fields, n: int, node: yaml.Node, value: Any
) -> Question | None:
    where = f"question {n} "
    if not isinstance(value, dict) or not isinstance(node, yaml.MappingNode):
        parent.problem(
            _file_line(node), f"{where}must be 'ask:', 'options:', 'answer:' and 'explain:' lines"
        )
        return None
    f = _Fields(doc, node, value, parent.problems, where)
    f.unknown(_QUESTION_KEYS)
    ask = f.text("ask", required=True, limit=MAX_ASK)
    explain = f.text("explain", required=True)
    answer = f.text("answer", required=True, limit=MAX_OPTION)

    options: list[str] = []
    o_node, o_value = f.values.get("options"), value.get("options")
    if o_value is None:
        f.problem(f.line, f'{where}options is missing: add e.g. options: ["Yes", "No"]')
        return None
    if not isinstance(o_value, list) or not isinstance(o_node, yaml.SequenceNode):
        f.problem(f.line_of("options"), f'{where}options must be a list, e.g. ["Yes", "No"]')
        return None
    if not MIN_OPTIONS <= len(o_value) <= MAX_OPTIONS:
        f.problem(
            f.line_of("options"),
            f"{where}has {len(o_value)} options: give {MIN_OPTIONS} to {MAX_OPTIONS}",
        )
    ok = True
    for n_option, (item_node, item) in enumerate(zip(o_node.value, o_value, strict=True), 1):
        text = f.check_text(item, _file_line(item_node), f"{where}option {n_option}", MAX_OPTION)
        if text is None:
            ok = False
        elif text in options:
            f.problem(_file_line(item_node), f"{where}lists the option {text!r} twice: remove one")
            ok = False
        else:
            options.append(text)
    if ok and answer is not None and answer not in options:
        close = difflib.get_close_matches(answer, options, n=1)
        hint = f" — did you mean {close[0]!r}?" if close else ""
        f.problem(
            f.line_of("answer"),
            f"{where}answer {answer!r} is not one of its options: copy it exactly{hint}",
        )
        return None
    if not ok or ask is None or explain is None or answer is None:
        return None
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        return None
    return Question(ask, tuple(options), answer, explain)


def _check_links(doc: _Document, problems: list[Problem]) -> None:
    """Flag links Slack cannot open; they would be shown as text."""
    in_fence = False
    for offset, line in enumerate(doc.body.split("\n")):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        if in_fence:
            continue
        for m in LINK_PATTERN.finditer(line):
            if not is_linkable_url(m["url"]):
                problems.append(
                    Problem(
                        doc.path,
                        doc.body_line + offset,
                        f"link to {m['url']!r} cannot be opened from Slack: use a full https:// "
                        "address (or mailto:)",
                    )
                )


def _first_paragraph(body: str) -> str:
    """The first paragraph of the body as plain text, skipping headings and code."""
    for paragraph in re.split(r"\n\s*\n", body):
        stripped = paragraph.strip()
        if stripped and not stripped.startswith(("#", "```", "~~~")):
            return plain_text(stripped)
    return plain_text(body).split("\n", 1)[0]


# ---------------------------------------------------------------------------------------------
# Directories


T = TypeVar("T")


@dataclass(frozen=True)
class _Kind(Generic[T]):
    """One kind of content: where its files live and how one file becomes an item."""

    folder: str
    noun: str  # "briefing" — for messages
    parse: Callable[[_Document, ZoneInfo, list[Problem]], T | None]
    item_id: Callable[[T], str]


_BRIEFINGS: _Kind[Briefing] = _Kind("briefings", "briefing", _parse_briefing, lambda b: b.id)


@dataclass
class _Scan(Generic[T]):
    items: dict[str, T] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    files: int = 0


def _scan(content_dir: Path, kind: _Kind[T], tz: ZoneInfo) -> _Scan[T]:
    """Parse every file of one kind once, collecting items and problems in file order."""
    scan: _Scan[T] = _Scan()
    if not content_dir.is_dir():
        scan.problems.append(
            Problem(content_dir, 0, "no such directory: pass the folder that holds briefings/")
        )
        return scan
    folder = content_dir / kind.folder
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
        doc = _read_document(path, problems)
        item = None
        if doc is not None:
            item = kind.parse(doc, tz, problems)
            item_id = _raw_id(doc)
            if item_id is not None and item_id in first_seen:
                problems.append(
                    Problem(
                        path,
                        _id_line(doc),
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


def _raw_id(doc: _Document) -> str | None:
    value = doc.data.get("id")
    return value.strip() if isinstance(value, str) and value.strip() else None


def _id_line(doc: _Document) -> int:
    for key_node, _ in doc.node.value:
        if key_node.value == "id":
            return _file_line(key_node)
    return 1


# ---------------------------------------------------------------------------------------------
# Public entry points


def check_content(content_dir: Path, tz: ZoneInfo) -> list[Problem]:
    """Every problem in the content, in file then line order; empty when all is well."""
    return _scan(content_dir, _BRIEFINGS, tz).problems


def load_briefings(content_dir: Path, tz: ZoneInfo) -> dict[str, Briefing]:
    """All briefings by id; raises `ContentError` listing every problem if there are any."""
    scan = _scan(content_dir, _BRIEFINGS, tz)
    if scan.problems:
        raise ContentError(scan.problems)
    return scan.items


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
    scan = _scan(content_dir, _BRIEFINGS, tz)
    for problem in scan.problems:
        print(problem, file=out)
    if scan.problems:
        files = len({p.path for p in scan.problems})
        print(f"{_plural(len(scan.problems), 'problem')} in {_plural(files, 'file')}", file=out)
        return 1
    print(f"{_plural(scan.files, 'briefing')} checked, no problems", file=out)
    return 0
