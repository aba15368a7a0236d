"""docs/PRIVACY.md has a line for every database table and column, and for nothing else.

Each table is a heading, ### `table`, followed by a Markdown table with one row per column; a
row starts with `table.column` in backticks and fills four more cells: what it holds, why, who
can see it, and how long it is kept. A migration that adds a table or a column fails here until
the doc says what it holds and who sees it; one that drops one fails until its line goes.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlite_utils import Database

DOC = Path(__file__).resolve().parents[1] / "docs" / "PRIVACY.md"
NAME = r"[A-Za-z_][A-Za-z0-9_]*"
HEADING = re.compile(rf"^### `({NAME})`\s*$")
ROW = re.compile(rf"^\|\s*`({NAME})\.({NAME})`\s*\|(.*)\|\s*$")
MENTION = re.compile(rf"`({NAME})\.({NAME})`")
CELLS = ("what it holds", "why", "who can see it", "kept")

Schema = dict[str, set[str]]


def documented(text: str) -> tuple[Schema, list[str]]:
    """The tables (by heading) and columns (by row) the doc has lines for, and what is wrong
    with its form: a row under another table's heading, a row twice, an empty cell, a row
    that starts with a backticked name the format does not read."""
    found: Schema = {}
    problems: list[str] = []
    table: str | None = None
    for number, line in enumerate(text.splitlines(), 1):
        heading = HEADING.match(line)
        if heading:
            table = heading.group(1)
            if table in found:
                problems.append(f"line {number}: a second heading for `{table}`")
            found.setdefault(table, set())
            continue
        row = ROW.match(line)
        if row is None:
            if re.match(r"^\|\s*`", line):
                problems.append(f"line {number}: not a `table.column` row: {line[:60]}")
            continue
        name, column, rest = row.groups()
        where = f"line {number}: `{name}.{column}`"
        if name != table:
            problems.append(f"{where} is under the heading for `{table}`")
        if column in found.get(name, set()):
            problems.append(f"{where} has a line already")
        found.setdefault(name, set()).add(column)
        cells = [cell.strip() for cell in rest.split("|")]
        if len(cells) != len(CELLS) or not all(cells):
            problems.append(f"{where} needs {len(CELLS)} filled cells: {', '.join(CELLS)}")
    return found, problems


def compare(schema: Schema, doc: Schema) -> list[str]:
    """What the doc lacks, and what it names that the schema does not have."""
    problems = [f"table `{t}` has no heading" for t in sorted(set(schema) - set(doc))]
    problems += [f"table `{t}` is not in the schema" for t in sorted(set(doc) - set(schema))]
    for table in sorted(set(schema) | set(doc)):
        have, said = schema.get(table, set()), doc.get(table, set())
        problems += [f"`{table}.{c}` has no line" for c in sorted(have - said)]
        problems += [f"`{table}.{c}` is not in the schema" for c in sorted(said - have)]
    return problems


def stale_mentions(schema: Schema, text: str) -> list[str]:
    """Any `table.column` named anywhere in the doc, prose included, must exist."""
    return sorted(
        {
            f"`{table}.{column}` is named but not in the schema"
            for table, column in MENTION.findall(text)
            if column not in schema.get(table, set())
        }
    )


def read_schema(db: Database) -> Schema:
    """Every table in the main database (WITHOUT ROWID ones too; not sqlite_* internals, and
    not temporary tables, which live in sqlite_temp_master) and every column of each."""
    tables = [
        row[0]
        for row in db.execute(
            "SELECT name FROM main.sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        )
    ]
    return {
        table: {row[0] for row in db.execute("SELECT name FROM pragma_table_info(?)", [table])}
        for table in tables
    }


async def test_every_table_and_column_has_a_line_and_every_line_a_column(storage):
    def listing(db: Database) -> tuple[Schema, set[str]]:
        # A temporary table, as the disclosure layer makes on this connection: never listed.
        db.execute("CREATE TEMP TABLE IF NOT EXISTS _scratch (x TEXT)")
        without_rowid = {
            row[0]
            for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%WITHOUT ROWID%'"
            )
        }
        return read_schema(db), without_rowid

    schema, without_rowid = await storage.call(listing)
    # The listing sees what it must: WITHOUT ROWID tables and sqlite-utils' bookkeeping, and
    # no internals or temporary tables.
    assert without_rowid
    assert without_rowid <= set(schema)
    assert "_sqlite_migrations" in schema
    assert "_scratch" not in schema
    assert not any(name.startswith("sqlite_") for name in schema)
    assert all(schema.values())
    text = DOC.read_text(encoding="utf-8")
    doc, form = documented(text)
    assert form == []
    assert compare(schema, doc) == []
    assert stale_mentions(schema, text) == []


SAMPLE = """
### `things`

| column | what it holds | why | who can see it | kept |
|---|---|---|---|---|
| `things.id` | a number | a key | database only | until deleted |
| `things.name` | a name | to show it | everyone | until deleted |
"""


def test_the_check_fails_for_a_column_added_without_a_line():
    doc, form = documented(SAMPLE)
    assert form == []
    assert compare({"things": {"id", "name"}}, doc) == []
    assert compare({"things": {"id", "name", "secret"}}, doc) == ["`things.secret` has no line"]
    assert compare({"things": {"id", "name"}, "more": {"id"}}, doc) == [
        "table `more` has no heading",
        "`more.id` has no line",
    ]


def test_the_check_fails_for_a_line_whose_column_or_table_is_gone():
    doc, _ = documented(SAMPLE)
    assert compare({"things": {"id"}}, doc) == ["`things.name` is not in the schema"]
    assert compare({}, doc) == [
        "table `things` is not in the schema",
        "`things.id` is not in the schema",
        "`things.name` is not in the schema",
    ]
    assert stale_mentions({"things": {"id"}}, "Prose about `things.name`.") == [
        "`things.name` is named but not in the schema"
    ]


def test_a_line_out_of_format_is_not_taken_as_documenting_anything():
    broken = SAMPLE.replace("`things.name`", "things.name").replace(
        "| `things.id` | a number | a key | database only | until deleted |",
        "| `things.id` | a number | a key | database only |  |",
    )
    doc, form = documented(broken + "\n### `other`\n| `things.extra` | a | b | c | d |\n")
    assert compare({"things": {"id", "name", "extra"}, "other": set()}, doc) == [
        "`things.name` has no line"
    ]
    assert len(form) == 2
    assert "needs 4 filled cells" in form[0]
    assert "is under the heading for `other`" in form[1]
