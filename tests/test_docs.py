"""The docs and the code stay in step: each check reads both sides and fails on any difference.

- Settings: every name `bot/config.py` reads from the environment has a row in
  docs/OPERATIONS.md's settings tables, and every setting named anywhere in the docs is read.
- Slash commands: manifest.yml and docs/COMMANDS.md name the same ones.
- Subcommands: the words of `/brief`, `/engage`, `/ask` and `/practice` that COMMANDS.md lists
  are the ones the code offers (its help texts, `/engage`'s registry, the manifest's hints), and
  every word any doc names is one the code answers.
- The command line: every `python -m bot …` the docs name is in bot/cli.py's parser, and every
  command in the parser is in docs/OPERATIONS.md.
- Links: every relative link in README.md and docs/*.md points at a file that exists, and an
  anchor at a heading in it.

Everything is read from source text or the AST, so the checks do not depend on how the
listeners are wired today.
"""

from __future__ import annotations

import ast
import functools
import re
from inspect import getsource
from pathlib import Path

import pytest
import yaml
from slack_sdk.proxy_env_variable_loader import load_http_proxy_from_env

REPO = Path(__file__).resolve().parents[1]
DOCS = sorted((REPO / "docs").glob("*.md"))
ALL_DOCS = [REPO / "README.md", *DOCS]
COMMANDS_DOC = REPO / "docs" / "COMMANDS.md"
OPERATIONS_DOC = REPO / "docs" / "OPERATIONS.md"
COMMANDS = ("/brief", "/engage", "/ask", "/practice")
CODE_SOURCES = sorted([*(REPO / "bot").rglob("*.py"), *(REPO / "handlers").rglob("*.py")])
# A setting's shape: capitals, digits and underscores, with at least one underscore (a bare
# word such as `HOST` is matched by the table rows instead).
SETTING = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
WORD = re.compile(r"^[a-z][a-z-]*$")


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def prose(text: str) -> str:
    """The text outside fenced code blocks (examples, sequence diagrams, terminal output)."""
    return re.sub(r"^(```|~~~).*?^\1[^\n]*$", "", text, flags=re.M | re.S)


def backticked(text: str) -> list[str]:
    return re.findall(r"`([^`\n]+)`", prose(text))


# -- (a) settings ---------------------------------------------------------------------------------


@functools.cache
def config_settings() -> tuple[set[str], set[str]]:
    """What bot/config.py reads: the keys of `VARIABLES` (the gate: `from_env` keeps only those),
    and every name it reads with `get(NAME…)` or names as a string outside that dict (through a
    helper such as `number(NAME, …)`, or in a table of names)."""
    tree = ast.parse(read(REPO / "bot" / "config.py"))
    gate: set[str] = set()
    inside_gate: set[int] = set()
    for node in ast.walk(tree):
        target = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        if isinstance(target, ast.Name) and target.id == "VARIABLES":
            assert isinstance(node.value, ast.Dict), "VARIABLES should be a dict literal"
            gate = {k.value for k in node.value.keys if isinstance(k, ast.Constant)}
            inside_gate = {id(n) for n in ast.walk(node.value)}
    assert gate, "no VARIABLES dict in bot/config.py: how does it read the environment now?"
    read_names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in inside_gate:
            continue
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if name == "get" and isinstance(first, ast.Constant) and isinstance(first.value, str):
                read_names.add(first.value)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and (SETTING.match(node.value) or node.value in gate)
        ):
            read_names.add(node.value)  # `number("PORT", …)`, a tuple of names, `_CLARITY`
    return gate, read_names


def documented_settings(text: str) -> set[str]:
    """The names in the first cell of each row of the doc's tables headed `| setting |`."""
    found: set[str] = set()
    in_table = False
    for line in text.splitlines():
        if not line.startswith("|"):
            in_table = False
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0].lower() == "setting":
            in_table = True
        elif in_table and not set(cells[0]) <= {"-", ":"}:
            found |= set(re.findall(r"`([A-Z][A-Z0-9_]*)`", cells[0]))
    return found


def test_config_reads_only_settings_it_declares():
    gate, read_names = config_settings()
    assert read_names - gate == set(), (
        "bot/config.py reads these, but `from_env` only keeps names in VARIABLES"
    )
    unread = {n for n in gate if n not in read_names}
    assert unread == set(), "in VARIABLES but never read by bot/config.py"


def test_every_setting_has_a_row_in_operations_and_every_row_is_a_setting():
    gate, _ = config_settings()
    rows = documented_settings(read(OPERATIONS_DOC))
    assert gate - rows == set(), "read by bot/config.py but without a row in docs/OPERATIONS.md"
    assert rows - gate == set(), "a row in docs/OPERATIONS.md that bot/config.py does not read"


@pytest.mark.parametrize("doc", ALL_DOCS, ids=lambda p: p.name)
def test_every_setting_a_doc_names_is_read_by_config(doc):
    gate, _ = config_settings()
    rows = documented_settings(read(doc))
    named = {s for s in backticked(read(doc)) if SETTING.match(s)} | rows
    # Also `NAME=value` as written in examples (`LOG_LEVEL=WARNING`).
    named |= {s.split("=")[0] for s in backticked(read(doc)) if re.match(r"^[A-Z_]+=", s)}
    # The proxy's variables are slack_sdk's to read (tests/test_proxy.py shows every call
    # honours them), not bot/config.py's.
    proxy = {s for s in ("HTTPS_PROXY", "HTTP_PROXY") if s in getsource(load_http_proxy_from_env)}
    assert named - gate - proxy == set(), f"{doc.name} names settings bot/config.py does not read"


# -- (b) slash commands ---------------------------------------------------------------------------


@functools.cache
def manifest() -> dict:
    return yaml.safe_load(read(REPO / "manifest.yml"))


def manifest_commands() -> set[str]:
    return {c["command"] for c in manifest()["features"]["slash_commands"]}


def commands_named(text: str) -> set[str]:
    """Slash commands named in backticks: `/brief`, `/brief publish <id>`…"""
    return {m.group(1) for s in backticked(text) if (m := re.match(r"^(/[a-z][a-z-]*)\b", s))}


def test_the_commands_doc_and_the_manifest_name_the_same_slash_commands():
    named = commands_named(read(COMMANDS_DOC))
    declared = manifest_commands()
    assert declared - named == set(), "in manifest.yml but not in docs/COMMANDS.md"
    assert named - declared == set(), "in docs/COMMANDS.md but not in manifest.yml"


@pytest.mark.parametrize("doc", ALL_DOCS, ids=lambda p: p.name)
def test_every_slash_command_a_doc_names_is_in_the_manifest(doc):
    # `/invite` is Slack's own; `/healthz`, `/metrics` and `/slack/events` are the bot's HTTP
    # routes; the rest are folders the deployment sections name (`/data`, `/var/lib/…`).
    folders = {"/app", "/data", "/etc", "/opt", "/tmp", "/var", "/srv", "/mnt", "/backups"}
    named = commands_named(read(doc)) - {"/invite", "/healthz", "/metrics", "/slack"} - folders
    assert named - manifest_commands() == set()


# -- (c) subcommands ------------------------------------------------------------------------------


def first_words(spans: list[str], command: str) -> set[str]:
    """The first word after `command` in each span that starts with it (not `<free text>`)."""
    words = set()
    for span in spans:
        rest = span[len(command) :] if span.startswith(command + " ") else ""
        word = rest.split()[0] if rest.split() else ""
        if WORD.match(word):
            words.add(word)
    return words


@functools.cache
def code_strings() -> dict[Path, list[str]]:
    """Every string constant in bot/ and handlers/, f-strings' literal parts included."""
    found: dict[Path, list[str]] = {}
    for path in CODE_SOURCES:
        tree = ast.parse(read(path))
        found[path] = [
            n.value
            for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
        ]
    return found


@functools.cache
def code_words() -> dict[str, set[str]]:
    """The words the code itself tells people about: each command's help texts and replies (a
    backticked `/brief publish …` in any string), and `/engage`'s registry
    (`engage.add("word", …)`)."""
    offered: dict[str, set[str]] = {c: set() for c in COMMANDS}
    for strings in code_strings().values():
        spans = [s for text in strings for s in re.findall(r"`([^`]+)`", text)]
        for command in COMMANDS:
            offered[command] |= first_words(spans, command)
    offered["/engage"] |= engage_registry()
    return offered


@functools.cache
def offered_words() -> dict[str, set[str]]:
    """The words offered anywhere: the code's (`code_words`) and the manifest's usage hints
    (`list | mine | help`)."""
    offered = {c: set(words) for c, words in code_words().items()}
    for entry in manifest()["features"]["slash_commands"]:
        if entry["command"] in offered:
            hint = re.sub(r"\[[^\]]*\]|<[^>]*>|\([^)]*\)", "", entry.get("usage_hint", ""))
            offered[entry["command"]] |= {w for w in re.split(r"[\s|]+", hint) if WORD.match(w)}
    return offered


@functools.cache
def engage_registry() -> set[str]:
    """`/engage`'s words as each feature registers them (`engage.add("word", …)`)."""
    words = set()
    for path in CODE_SOURCES:
        for node in ast.walk(ast.parse(read(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add"
                and isinstance(node.func.value, ast.Attribute)
                and node.func.value.attr == "engage"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                words.add(node.args[0].value)
    return words


def own_nodes(fn: ast.AST):
    """The nodes of a function's own body, not those of functions nested in it."""
    for child in ast.iter_child_nodes(fn):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        yield child
        yield from own_nodes(child)


@functools.cache
def dispatched_words() -> dict[str, set[str]]:
    """The words the code answers: constants compared with (`sub == "list"`,
    `word in ("help", "?")`) in the function that answers the command, which names it in its
    own strings (its docstring, its "I don't know `/brief …`")."""
    answered: dict[str, set[str]] = {c: set() for c in COMMANDS}
    for path in sorted((REPO / "handlers").rglob("*.py")):
        for fn in ast.walk(ast.parse(read(path))):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            nodes = list(own_nodes(fn))
            strings = [
                n.value for n in nodes if isinstance(n, ast.Constant) and isinstance(n.value, str)
            ]
            compared = set()
            for node in nodes:
                if isinstance(node, ast.Compare):
                    for right in node.comparators:
                        items = right.elts if isinstance(right, ast.Tuple | ast.Set) else [right]
                        compared |= {
                            i.value.split()[0]
                            for i in items
                            if isinstance(i, ast.Constant)
                            and isinstance(i.value, str)
                            and i.value.split()
                        }
            for command in COMMANDS:
                if any(f"`{command}" in s for s in strings):
                    answered[command] |= {w for w in compared if WORD.match(w)}
    return answered


def reference_rows(text: str) -> dict[str, set[str]]:
    """The words COMMANDS.md lists: the first cell of each table row naming a command."""
    listed: dict[str, set[str]] = {c: set() for c in COMMANDS}
    for line in prose(text).splitlines():
        if not line.startswith("|"):
            continue
        first = line.strip().strip("|").split("|")[0]
        spans = re.findall(r"`([^`\n]+)`", first)
        for command in COMMANDS:
            listed[command] |= first_words(spans, command)
    return listed


def test_the_code_offers_subcommands_for_every_command():
    """The extraction itself works: if the help texts moved out of reach, this says so."""
    offered = offered_words()
    assert {"publish", "status", "list", "help"} <= offered["/brief"]
    assert {"results", "queue", "gaps"} <= offered["/engage"]
    assert {"list", "mine"} <= offered["/ask"]
    assert {"publish", "list"} <= dispatched_words()["/brief"]


# Commands whose text can be what they act on (`/ask <question>`), not only a word.
FREE_TEXT = {"/ask", "/practice"}


@pytest.mark.parametrize("command", COMMANDS)
def test_the_manifests_usage_hint_offers_only_what_the_command_answers(command):
    """Slack shows the hint as people type: each alternative starts with a word the command
    answers, or says what free text it takes (`[your question]`), or notes the command alone."""
    (entry,) = [e for e in manifest()["features"]["slash_commands"] if e["command"] == command]
    for alternative in entry["usage_hint"].split("|"):
        first = alternative.split()[0]
        if first.startswith("(alone"):
            continue
        if first.startswith("["):
            assert command in FREE_TEXT, f"{command} takes no free text: {alternative!r}"
            continue
        answered = dispatched_words()[command] | code_words()[command]
        assert first in answered, f"{command} does not answer {first!r}"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_the_code_offers_is_in_the_commands_doc(command):
    listed = reference_rows(read(COMMANDS_DOC))[command]
    missing = offered_words()[command] - listed
    assert missing == set(), f"{command} offers these, but docs/COMMANDS.md has no row for them"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_the_commands_doc_lists_exists(command):
    listed = reference_rows(read(COMMANDS_DOC))[command]
    known = offered_words()[command] | dispatched_words()[command]
    assert listed - known == set(), f"docs/COMMANDS.md lists {command} words the code lacks"


@pytest.mark.parametrize("doc", ALL_DOCS, ids=lambda p: p.name)
def test_every_brief_and_engage_word_a_doc_names_exists(doc):
    """`/brief` and `/engage` take no free text, so any word after them is a subcommand.
    (`/ask` and `/practice` take a question or a search: only COMMANDS.md's rows count.)"""
    spans = backticked(read(doc))
    for command in ("/brief", "/engage"):
        known = offered_words()[command] | dispatched_words()[command]
        named = first_words(spans, command)
        assert named - known == set(), f"{doc.name} names {command} words the code lacks"


# -- (d) the command line -------------------------------------------------------------------------


@functools.cache
def cli_commands() -> set[str]:
    """`serve`, `content check`…: every command and subcommand in bot/cli.py's parser."""
    from argparse import _SubParsersAction

    from bot.cli import build_parser

    def walk(parser, prefix: str) -> set[str]:
        found: set[str] = set()
        for action in parser._actions:
            if isinstance(action, _SubParsersAction):
                for name, sub in action.choices.items():
                    found.add(f"{prefix}{name}")
                    found |= walk(sub, f"{prefix}{name} ")
        return found

    return walk(build_parser(), "")


def cli_named(text: str) -> set[tuple[str, str]]:
    """Each `python -m bot WORD [WORD]` (or `line-of-sight …`) the text names."""
    return set(re.findall(r"(?:python -m bot|line-of-sight) ([a-z]+)(?: ([a-z]+))?", text))


def test_every_cli_command_is_in_operations():
    named = cli_named(read(OPERATIONS_DOC))
    mentioned = {first for first, _ in named} | {f"{a} {b}" for a, b in named if b}
    missing = cli_commands() - mentioned
    assert missing == set(), "in bot/cli.py but not in docs/OPERATIONS.md"


@pytest.mark.parametrize("doc", ALL_DOCS, ids=lambda p: p.name)
def test_every_cli_command_a_doc_names_exists(doc):
    commands = cli_commands()
    unknown = set()
    for first, second in cli_named(read(doc)):
        has_subcommands = any(c.startswith(first + " ") for c in commands)
        if first not in commands:
            unknown.add(first)
        elif has_subcommands and f"{first} {second}" not in commands:
            unknown.add(f"{first} {second}".strip())
    assert unknown == set(), f"{doc.name} names commands bot/cli.py lacks"


# -- (e) links ------------------------------------------------------------------------------------


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    for line in prose(read(path)).splitlines():
        if m := re.match(r"^#{1,6}\s+(.*)$", line):
            base = slug(m.group(1))
            name, n = base, 1
            while name in found:
                name, n = f"{base}-{n}", n + 1
            found.add(name)
    return found


def links(text: str) -> list[str]:
    return re.findall(r"\]\(([^)\s]+)\)", prose(text))


def broken_links(doc: Path) -> list[str]:
    broken = []
    for link in links(read(doc)):
        if re.match(r"^[a-z]+:", link):
            continue  # https:, mailto:
        target, _, anchor = link.partition("#")
        path = (doc.parent / target).resolve() if target else doc
        if not path.exists():
            broken.append(f"{link}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            broken.append(f"{link}: no such heading in {path.name}")
    return broken


@pytest.mark.parametrize("doc", ALL_DOCS, ids=lambda p: p.name)
def test_every_relative_link_points_at_a_file_and_heading_that_exist(doc):
    assert broken_links(doc) == []


def test_the_link_checker_catches_a_missing_file_and_a_missing_heading(tmp_path):
    doc = tmp_path / "A.md"
    doc.write_text(
        "# Real heading\n[x](B.md) [y](#no-such) [z](#real-heading) [w](https://x.example)\n"
        "```\n[in a fence](C.md)\n```\n",
        encoding="utf-8",
    )
    assert broken_links(doc) == ["B.md: no such file", "#no-such: no such heading in A.md"]
