"""The directory of who can help: `content/directory.yaml`, one entry per service or role.

    - id: child-exploitation-team
      name: Child Exploitation Team (with the police)
      helps_with: [child sexual exploitation, criminal exploitation, children missing]
      reach:
        channel: "#child-exploitation"
        usergroup: "@cse-team"
        phone: 020 7946 0312
        hours: Monday to Friday, 9am to 5pm
      verified: 2026-09-14

The service asked for a Resource Directory "so that all partners know who can help with
different issues"; `/practice` shows its entries beside the notes they match ("who can help").
Every entry needs an id, a name, what it helps with, at least one way to reach it and the date
someone last checked those details (`verified`, never in the future). The file is optional.

A broken entry is reported with its line and left out; the others still load, so one typo never
empties the directory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from bot.content.documents import Problem, open_yaml
from bot.content.values import id_problem

FILE = "directory.yaml"
MAX_NAME = 150
MAX_ITEM = 200
_KEYS = ("id", "name", "helps_with", "reach", "verified", "notes")
_REACH = ("channel", "usergroup", "phone", "email", "hours", "link")
_CHANNEL = re.compile(r"#[a-z0-9][a-z0-9_-]{0,79}")
_USERGROUP = re.compile(r"@[a-z0-9][a-z0-9._-]{0,79}")
_PHONE = re.compile(r"\+?[0-9][0-9 ()-]{5,24}[0-9]")
_EMAIL = re.compile(r"[^\s@<>|]+@[^\s@<>|]+\.[a-z]{2,}", re.IGNORECASE)
_URL = re.compile(r"https://[^\s<>|]+")


@dataclass(frozen=True)
class DirectoryEntry:
    id: str
    name: str
    helps_with: tuple[str, ...]
    channel: str | None
    usergroup: str | None
    phone: str | None
    email: str | None
    hours: str | None
    link: str | None
    verified: date
    notes: str | None
    path: Path
    line: int


def load_directory(
    content_dir: Path, today: date
) -> tuple[dict[str, DirectoryEntry], list[Problem]]:
    """Every good entry by id, and every problem (file:line, how to fix it)."""
    path = content_dir / FILE
    node, problems = open_yaml(path)

    def fail(line: int, message: str) -> None:
        problems.append(Problem(path, line, message))

    if node is None:
        return {}, problems
    if not isinstance(node, yaml.SequenceNode):
        fail(1, "write the directory as a list of entries, each starting '- id: …'")
        return {}, problems

    entries: dict[str, DirectoryEntry] = {}
    first_line: dict[str, int] = {}
    for item in node.value:
        entry = _entry(item, today, fail, path)
        if entry is None:
            continue
        if entry.id in entries:
            fail(
                entry.line,
                f"id {entry.id!r} is already used on line {first_line[entry.id]}: give each "
                "entry its own id",
            )
            continue
        entries[entry.id] = entry
        first_line[entry.id] = entry.line
    return entries, problems


def _line(node: yaml.Node) -> int:
    # This file is all YAML (no front matter), so a node's line is its mark + 1.
    return node.start_mark.line + 1


def _entry(node: yaml.Node, today: date, fail: Any, path: Path) -> DirectoryEntry | None:
    line = _line(node)
    if not isinstance(node, yaml.MappingNode):
        fail(line, "each entry is a set of fields starting '- id: …' (id, name, helps_with, …)")
        return None
    fields: dict[str, yaml.Node] = {}
    lines: dict[str, int] = {}
    bad = False
    for key_node, value_node in node.value:
        key = str(key_node.value)
        if key in fields:
            fail(_line(key_node), f"{key} is given twice (first on line {lines[key]}): keep one")
            bad = True
        elif key not in _KEYS:
            fail(_line(key_node), f"unknown field {key!r}: use one of {', '.join(_KEYS)}")
            bad = True
        fields[key] = value_node
        lines[key] = _line(key_node)

    def text(key: str, limit: int = MAX_ITEM, *, required: bool = False) -> str | None:
        nonlocal bad
        value = fields.get(key)
        if value is None or (isinstance(value, yaml.ScalarNode) and value.value == ""):
            if required:
                fail(line, f"{key} is missing: add '{key}: …'")
                bad = True
            return None
        if not isinstance(value, yaml.ScalarNode) or value.tag.endswith(("bool", "null")):
            fail(lines[key], f"{key} must be text: put it in quotes")
            bad = True
            return None
        raw = " ".join(str(value.value).split())
        if len(raw) > limit:
            fail(lines[key], f"{key} is {len(raw)} characters; keep to {limit}")
            bad = True
            return None
        return raw

    entry_id = text("id", 64, required=True)
    if entry_id is not None and (why := id_problem(entry_id)) is not None:
        fail(lines["id"], why)
        bad = True
    name = text("name", MAX_NAME, required=True)
    notes = text("notes", 500)
    helps = _helps_with(fields.get("helps_with"), lines.get("helps_with", line), fail)
    if helps is None:
        bad = True
    reach = _reach(fields.get("reach"), lines.get("reach", line), fail)
    if reach is None:
        bad = True
    verified = _verified(fields.get("verified"), lines.get("verified", line), today, fail)
    if verified is None:
        bad = True
    if bad or entry_id is None or name is None or helps is None or reach is None:
        return None
    assert verified is not None
    return DirectoryEntry(
        entry_id,
        name,
        helps,
        reach.get("channel"),
        reach.get("usergroup"),
        reach.get("phone"),
        reach.get("email"),
        reach.get("hours"),
        reach.get("link"),
        verified,
        notes,
        path,
        line,
    )


def _helps_with(node: yaml.Node | None, line: int, fail: Any) -> tuple[str, ...] | None:
    hint = "helps_with must list what they help with, e.g. [missing children, exploitation]"
    if node is None:
        fail(line, "helps_with is missing: " + hint.removeprefix("helps_with must "))
        return None
    if _is_text(node):
        assert isinstance(node, yaml.ScalarNode)
        items = [node.value]
    elif isinstance(node, yaml.SequenceNode) and node.value:
        if not all(_is_text(i) for i in node.value):
            fail(line, hint + " (each one words, not yes/no or empty)")
            return None
        items = [str(i.value) for i in node.value]
    else:
        fail(line, hint)
        return None
    if any(len(i) > MAX_ITEM for i in items):
        fail(line, f"each thing in helps_with must be {MAX_ITEM} characters at most")
        return None
    return tuple(" ".join(i.split()) for i in items)


def _is_text(node: yaml.Node) -> bool:
    """A scalar that is words: not empty, not YAML's null or true/false."""
    return (
        isinstance(node, yaml.ScalarNode)
        and bool(str(node.value).strip())
        and not node.tag.endswith(("bool", "null"))
    )


def _reach(node: yaml.Node | None, line: int, fail: Any) -> dict[str, str] | None:
    how = "channel, usergroup, phone, email, link or hours"
    if node is None:
        fail(line, f"reach is missing: say how to reach them ({how})")
        return None
    if not isinstance(node, yaml.MappingNode):
        fail(line, f"reach must be fields ({how}), e.g. 'phone: 020 7946 0000' on its own line")
        return None
    found: dict[str, str] = {}
    ok = True
    for key_node, value_node in node.value:
        key, at = str(key_node.value), _line(key_node)
        if key not in _REACH:
            fail(at, f"unknown way to reach them {key!r}: use {how}")
            ok = False
            continue
        if not _is_text(value_node):
            fail(at, f"reach {key} must be text: put it in quotes")
            ok = False
            continue
        value = " ".join(str(value_node.value).split())
        problem = _reach_problem(key, value)
        if problem:
            fail(at, problem)
            ok = False
            continue
        found[key] = value
    if ok and not set(found) - {"hours"}:
        fail(line, "reach needs at least one way in (channel, usergroup, phone, email or link)")
        ok = False
    return found if ok else None


def _reach_problem(key: str, value: str) -> str | None:
    if key == "channel" and not _CHANNEL.fullmatch(value):
        return (
            f"channel {value!r} is not a Slack channel name: write it in quotes with its #, "
            "lowercase, e.g. '#child-exploitation'"
        )
    if key == "usergroup" and not _USERGROUP.fullmatch(value):
        return f"usergroup {value!r} is not a user group handle: write it in quotes, e.g. '@edt'"
    if key == "phone" and not _PHONE.fullmatch(value):
        return f"phone {value!r} is not a phone number: digits and spaces, e.g. 020 7946 0000"
    if key == "email" and not _EMAIL.fullmatch(value):
        return f"email {value!r} is not an email address"
    if key == "link" and not _URL.fullmatch(value):
        return f"link {value!r} must be a web address starting https://"
    if len(value) > MAX_ITEM:
        return f"reach {key} is {len(value)} characters; keep to {MAX_ITEM}"
    return None


def _verified(node: yaml.Node | None, line: int, today: date, fail: Any) -> date | None:
    if node is None:
        fail(
            line,
            "verified is missing: add 'verified: 2026-11-01', the date the details were checked",
        )
        return None
    raw = str(node.value).strip() if isinstance(node, yaml.ScalarNode) else ""
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        fail(line, f"verified is {raw!r}: write a date, e.g. 2026-11-01")
        return None
    if value > today:
        fail(
            line,
            f"verified is {value.isoformat()}, in the future: write the date the details were "
            "last checked",
        )
        return None
    return value
