"""Practice search: SQLite FTS5 over practice notes and the directory of who can help.

The index is built from content, not stored: an in-memory SQLite database of its own, made
off the event loop and swapped in whole, so a search during a rebuild answers from the old
one. FTS5 gives bm25 ranking (title and tags weighted above the body), the porter stemmer
(`interviews`, `interviewed` → `interview`) and prefix matching. The field's abbreviations
(CSE, LAC/CLA, IRO…) are data, in a glossary: a query for either form finds the other.

A person's words are never FTS5 syntax: each is quoted as a term, so quotes, `*`, `NEAR`, `-`,
`^`, `:` or a lone `AND` are searched as the words they are and never raise.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.slack.mrkdwn import escape

MAX_QUERY = 500
_GLOSSARY = Path(__file__).with_name("glossary.yaml")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
# Words that say nothing about what someone is looking for: left out of the query, so that
# "what do I do when a child goes missing" is ranked on "child", "goes" and "missing".
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "should",
        "the",
        "their",
        "there",
        "this",
        "to",
        "we",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
    ]
)
# Weights for bm25 over (title, tags, body): a match in the title counts most.
_WEIGHTS = (10.0, 5.0, 1.0)
_OPEN, _CLOSE = "\x02", "\x03"  # snippet markers, never in people's text


@dataclass(frozen=True)
class Document:
    """One searchable thing: a practice note, or a directory entry."""

    kind: str  # note | directory
    id: str
    title: str
    tags: str
    body: str


@dataclass(frozen=True)
class Hit:
    kind: str
    id: str
    title: str
    passage: str  # mrkdwn: escaped, the matched words in bold
    score: float


def load_glossary(*files: Path) -> dict[str, tuple[str, ...]]:
    """The shipped glossary, then each file's entries on top (a later file wins)."""
    glossary: dict[str, tuple[str, ...]] = {}
    for path in (_GLOSSARY, *files):
        if not path.is_file():
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for short, long in data.items():
            words = [long] if isinstance(long, str) else list(long or [])
            glossary[str(short).upper()] = tuple(" ".join(str(w).lower().split()) for w in words)
    return glossary


def words_of(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def build_query(text: str, glossary: Mapping[str, tuple[str, ...]]) -> str | None:
    """An FTS5 query for what a person typed, or None if nothing in it can be searched.

    Each word is a quoted term (the last one a prefix); an abbreviation also matches its
    spelled-out forms, and
    a spelled-out form also its abbreviation. Terms are ORed: bm25 ranks the notes that match
    more of them (and rarer ones) first.
    """
    words = words_of(text[:MAX_QUERY])
    terms: list[str] = []
    for n, word in enumerate(words):
        if word in _STOP and word.upper() not in glossary:
            continue
        # The last word may be half-typed ("superv"); the others are whole words, matched by
        # their stem: as prefixes too, "sign language" would find "significant".
        options = [f'"{word}"*' if n == len(words) - 1 else f'"{word}"']
        for long in glossary.get(word.upper(), ()):
            options.append(_phrase(long))
        terms.append(options[0] if len(options) == 1 else "(" + " OR ".join(options) + ")")
    joined = " ".join(words)
    for short, longs in glossary.items():
        if any(f" {long} " in f" {joined} " for long in longs):
            terms.append(f'"{short.lower()}"')
    return " OR ".join(dict.fromkeys(terms)) or None


def _phrase(words: str) -> str:
    return '"' + " ".join(w for w in words_of(words)) + '"'


class Index:
    """A built index: `search(text)` gives the best matches, best first."""

    def __init__(self, documents: Iterable[Document], glossary: Mapping[str, tuple[str, ...]]):
        self.glossary = dict(glossary)
        # Its own connection, made and filled by whichever thread builds it; searched only
        # after it is complete (check_same_thread off: it is never written again).
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute(
            "CREATE VIRTUAL TABLE documents USING fts5(kind UNINDEXED, id UNINDEXED,"
            " title, tags, body, tokenize='porter unicode61')"
        )
        self._db.executemany(
            "INSERT INTO documents (kind, id, title, tags, body) VALUES (?, ?, ?, ?, ?)",
            [(d.kind, d.id, d.title, d.tags, d.body) for d in documents],
        )
        self._db.commit()
        self.size = int(self._db.execute("SELECT COUNT(*) FROM documents").fetchone()[0])

    def search(self, text: str, *, kind: str | None = None, limit: int = 3) -> list[Hit]:
        """The best `limit` matches for what a person typed (of one `kind`, if given)."""
        query = build_query(text, self.glossary)
        if query is None:
            return []
        where = "documents MATCH ?" + (" AND kind = ?" if kind else "")
        params: list[object] = [query, *([kind] if kind else []), limit]
        rows = self._db.execute(
            "SELECT kind, id, title, snippet(documents, 4, ?, ?, '…', 24),"
            f" bm25(documents, 0, 0, {_WEIGHTS[0]}, {_WEIGHTS[1]}, {_WEIGHTS[2]}) AS score"
            f" FROM documents WHERE {where} ORDER BY score LIMIT ?",
            [_OPEN, _CLOSE, *params],
        ).fetchall()
        return [Hit(k, i, t, highlight(p), float(s)) for k, i, t, p, s in rows]

    def bare_match(self, query: str, limit: int = 3) -> list[tuple[str, str]]:
        """A bare FTS5 MATCH on the same index: the floor `bench/search.py` compares with."""
        return self._db.execute(
            "SELECT kind, id FROM documents WHERE documents MATCH ? ORDER BY rank LIMIT ?",
            [query, limit],
        ).fetchall()


def highlight(snippet: str) -> str:
    """A passage as Slack shows it: escaped, then the matched words in bold."""
    return escape(snippet).replace(_OPEN, "*").replace(_CLOSE, "*")
