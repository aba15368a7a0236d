"""Named audiences: `content/audiences.yaml`, each audience defined once and used by name.

    all-social-workers: ["@social-workers", "@team-managers"]
    leadership: ["@senior-managers", "#team-managers"]

A briefing's `audience: ["all-social-workers"]` then means those entries. A name is lowercase
letters, numbers and hyphens; its entries are channels, user groups or people (not other names,
so what a name means can be read at a glance). The file is optional.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.content.documents import Problem, open_yaml
from bot.content.values import AUDIENCE_HELP, Audience, id_problem, parse_audience

FILE = "audiences.yaml"

NamedAudiences = dict[str, tuple[Audience, ...]]


def load_named_audiences(content_dir: Path) -> tuple[NamedAudiences, list[Problem]]:
    """Every named audience, and every problem in the file (file:line, how to fix it)."""
    path = content_dir / FILE
    node, problems = open_yaml(path)

    def fail(line: int, message: str) -> None:
        problems.append(Problem(path, line, message))

    if node is None:
        return {}, problems
    if not isinstance(node, yaml.MappingNode):
        fail(1, 'write one audience a line, e.g. all-social-workers: ["@social-workers"]')
        return {}, problems

    named: NamedAudiences = {}
    for key_node, value_node in node.value:
        line = _line(key_node)
        name = str(key_node.value)
        why = id_problem(name)
        if why is not None:
            fail(line, f"audience name {why.removeprefix('id ')}")
            continue
        if name in named:
            fail(line, f"audience {name!r} is defined twice: keep one")
            continue
        if not isinstance(value_node, yaml.SequenceNode) or not value_node.value:
            fail(line, f'audience {name!r} needs a list of entries, e.g. {name}: ["#channel"]')
            continue
        entries: list[Audience] = []
        ok = True
        for item in value_node.value:
            item_line = _line(item)
            raw = item.value if isinstance(item, yaml.ScalarNode) else None
            if not raw or not isinstance(raw, str):
                fail(item_line, f"entry in {name!r} {AUDIENCE_HELP}; put it in quotes")
                ok = False
                continue
            try:
                entry = parse_audience(raw.strip())
            except ValueError as e:
                fail(item_line, str(e))
                ok = False
                continue
            if entry.kind == "named":
                fail(
                    item_line,
                    f"{name!r} names another audience ({entry.raw!r}): list its channels and "
                    "user groups here instead",
                )
                ok = False
                continue
            if any(e.raw == entry.raw for e in entries):
                fail(item_line, f"{name!r} lists {entry.raw!r} twice: remove one")
                continue
            entries.append(entry)
        if ok:
            named[name] = tuple(entries)
    return named, problems


def _line(node: yaml.Node) -> int:
    # This file is all YAML (no front matter), so a node's line is its mark + 1.
    return node.start_mark.line + 1
