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

import gzip
import math
import re
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from bot import safe_yaml
from bot.slack.mrkdwn import escape_within

MAX_QUERY = 500
_GLOSSARY = Path(__file__).with_name("glossary.yaml")
_WORDS = Path(__file__).with_name("words.txt.gz")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
_POSSESSIVE = re.compile(r"['’]s$")
PASSAGE = 600  # characters of a passage at most, before escaping
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
STOP_WORDS = _STOP
# How sure a match is. Each meaningful word of the query weighs what bm25 itself gives it (its
# idf over the whole index: a word every note has weighs nothing, a rare one much); a match is
# *strong* when it holds at least half the query's weight and scores at least half as well as
# the best match of its kind, and "might help" otherwise. Tested on a table of realistic
# searches (tests/test_practice_confidence.py).
STRONG_SHARE = 0.5
STRONG_RELATIVE = 0.5
# Words about the guidance rather than its subject: when the index does not know them they
# say nothing about what is looked for ("the IRO's role" is about the IRO).
_META = frozenset(
    [
        "about",
        "advice",
        "find",
        "guidance",
        "guide",
        "help",
        "info",
        "information",
        "know",
        "looking",
        "mean",
        "meaning",
        "means",
        "need",
        "please",
        "policies",
        "policy",
        "procedure",
        "procedures",
        "process",
        "question",
        "questions",
        "role",
        "roles",
        "rule",
        "rules",
        "say",
        "says",
        "tell",
    ]
)
# Weights for bm25 over (title, tags, body): a match in the title counts most.
_WEIGHTS = (10.0, 5.0, 1.0)
_KEPT_TERMS = 4096  # terms whose rows are kept, per index (a few hundred bytes each)
_OPEN, _CLOSE = "\x02", "\x03"  # snippet markers (char(2), char(3)), never in people's text


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
    share: float = 1.0  # of the query's weight, how much this match holds (0 to 1)
    strong: bool = True  # False: it "might help" (see STRONG_SHARE)


@dataclass(frozen=True)
class Term:
    """One meaningful word of a query and the FTS5 expression that matches it (its spelled-out
    or abbreviated forms too), for weighing how much of a query a match holds."""

    word: str
    match: str


class GlossaryError(ValueError):
    """A glossary file that cannot be read: where (`file:line`) and what to fix."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = path, line, message


def load_glossary(*files: Path) -> dict[str, tuple[str, ...]]:
    """The shipped glossary, then each file's entries on top (a later file wins); raises
    `GlossaryError` for a file that cannot be read."""
    glossary: dict[str, tuple[str, ...]] = {}
    for path in (_GLOSSARY, *files):
        if not path.is_file():
            continue
        for short, long in _read_glossary(path).items():
            words = [long] if isinstance(long, str) else list(long or [])
            glossary[str(short).upper()] = tuple(" ".join(str(w).lower().split()) for w in words)
    return glossary


def _read_glossary(path: Path) -> dict[Any, Any]:
    """A glossary file's entries, or `GlossaryError` at the line of what is wrong: YAML that
    does not parse, an alias (refused, never expanded: bot/safe_yaml.py), or not a mapping."""
    try:
        data = safe_yaml.load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise GlossaryError(path, 1, "file is not UTF-8 text: save it as UTF-8") from None
    except safe_yaml.AliasRefused as e:
        raise GlossaryError(path, e.line + 1, e.refusal) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise GlossaryError(
            path,
            mark.line + 1 if mark else 1,
            f"not valid YAML ({e.problem or e.context}): check the indentation",
        ) from None
    except yaml.YAMLError as e:
        raise GlossaryError(path, 1, f"not valid YAML ({e.__class__.__name__})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise GlossaryError(path, 1, "write the glossary as 'ABBREVIATION: what it stands for'")
    return data


def words_of(text: str) -> list[str]:
    """The words of a text, lowercased; a possessive's 's dropped ("LADO's" is "lado")."""
    return [_POSSESSIVE.sub("", w.lower()) for w in _WORD.findall(text)]


def build_query(text: str, glossary: Mapping[str, tuple[str, ...]]) -> str | None:
    """An FTS5 query for what a person typed, or None if nothing in it can be searched.

    Each word is a quoted term (the last one a prefix); an abbreviation also matches its
    spelled-out forms, and
    a spelled-out form also its abbreviation. Terms are ORed: bm25 ranks the notes that match
    more of them (and rarer ones) first.
    """
    return parse_query(text, glossary)[0]


def parse_query(
    text: str, glossary: Mapping[str, tuple[str, ...]]
) -> tuple[str | None, list[Term]]:
    """`build_query`'s query, and the query's meaningful words as `Term`s (an abbreviation
    found by its spelled-out form counts for each of that form's words)."""
    words = words_of(text[:MAX_QUERY])
    terms: list[str] = []
    meant: list[Term] = []
    joined = f" {' '.join(words)} "
    covered: dict[str, list[str]] = {}
    shorts: list[str] = []
    for short, longs in glossary.items():
        for long in longs:
            if f" {long} " in joined:
                shorts.append(f'"{short.lower()}"')
                for w in long.split():
                    covered.setdefault(w, []).append(f'"{short.lower()}"')
    for n, word in enumerate(words):
        if word in _STOP and word.upper() not in glossary:
            continue
        # The last word may be half-typed ("superv"); the others are whole words, matched by
        # their stem: as prefixes too, "sign language" would find "significant". An
        # abbreviation is whole too ("LA" is not "law").
        last = n == len(words) - 1 and word.upper() not in glossary
        options = [f'"{word}"*' if last else f'"{word}"']
        for long in glossary.get(word.upper(), ()):
            options.append(_phrase(long))
        terms.append(options[0] if len(options) == 1 else "(" + " OR ".join(options) + ")")
        alternatives = list(dict.fromkeys(options + covered.get(word, [])))
        meant.append(Term(word, " OR ".join(alternatives)))
    terms += shorts
    return " OR ".join(dict.fromkeys(terms)) or None, list({t.match: t for t in meant}.values())


@cache
def everyday_words() -> frozenset[str]:
    """Everyday English (the Dale-Chall list of familiar words, which textstat ships): a word
    of it the index does not know is filler ("a child *went* missing"), not a gap."""
    path = resources.files("textstat") / "resources" / "en" / "easy_words.txt"
    return frozenset(path.read_text(encoding="utf-8").split()) | _META


@cache
def english_words() -> frozenset[str]:
    """A British English word list (SCOWL's, see words.NOTICE), read once."""
    data = gzip.decompress(_WORDS.read_bytes()).decode("utf-8")
    return frozenset(data.split())


def has_real_words(text: str, glossary: Mapping[str, tuple[str, ...]]) -> bool:
    """Is there a word in this that means something: not a stop word, and an abbreviation of
    the glossary, a word of its spelled-out forms, or an English word? Keyboard noise
    ("xyzzy plugh", "asdf") is not, so it never becomes a gap. (A word the index holds is
    found by the search itself, so this is asked only of searches that found nothing.)"""
    spelled = {w for longs in glossary.values() for long in longs for w in long.split()}
    english = english_words()
    for word in words_of(text[:MAX_QUERY]):
        if word in _STOP and word.upper() not in glossary:
            continue
        if word.upper() in glossary or word in spelled or _english(word, english):
            return True
    return False


def _english(word: str, english: frozenset[str]) -> bool:
    """In the word list, as it is or without a plural's or tense's ending ("carers")."""
    if word in english:
        return True
    return any(
        word.endswith(end) and word[: -len(end)] + add in english
        for end, add in (("s", ""), ("es", ""), ("ies", "y"), ("ed", ""), ("ed", "e"), ("ing", ""))
    )


def _phrase(words: str) -> str:
    return '"' + " ".join(w for w in words_of(words)) + '"'


class Index:
    """A built index: `search(text)` gives the best matches, best first.

    Each kind of document (notes, the directory) has its own FTS5 table: a search of one
    kind never walks the other's matches, and the small directory is searched in microseconds.
    """

    def __init__(self, documents: Iterable[Document], glossary: Mapping[str, tuple[str, ...]]):
        self.glossary = dict(glossary)
        # Its own connection, made and filled by whichever thread builds it; searched only
        # after it is complete (check_same_thread off: it is never written again).
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        by_kind: dict[str, list[Document]] = {}
        for d in documents:
            by_kind.setdefault(d.kind, []).append(d)
        self._tables: dict[str, str] = {}
        self._sizes: dict[str, int] = {}
        self._postings: dict[tuple[str, str], int] = {}
        for n, (kind, docs) in enumerate(sorted(by_kind.items())):
            table = f"documents_{n}"
            self._tables[kind] = table
            self._sizes[kind] = len(docs)
            self._db.execute(
                f"CREATE VIRTUAL TABLE {table} USING fts5(id UNINDEXED, title, tags, body,"
                " tokenize='porter unicode61')"
            )
            self._db.executemany(
                f"INSERT INTO {table} (id, title, tags, body) VALUES (?, ?, ?, ?)",
                [(d.id, d.title, d.tags, d.body) for d in docs],
            )
        self._db.commit()

    def search(self, text: str, *, kind: str | None = None, limit: int = 3) -> list[Hit]:
        """The best `limit` matches for what a person typed (of one `kind`, if given), each
        marked strong or "might help"."""
        kinds = [kind] if kind is not None else list(self._tables)
        found = self.search_each(text, dict.fromkeys(kinds, limit))
        hits = [h for rows in found.values() for h in rows]
        return sorted(hits, key=lambda h: h.score)[:limit]

    def search_each(self, text: str, limits: Mapping[str, int]) -> dict[str, list[Hit]]:
        """The best matches of each kind (up to its limit), the query read and weighed once."""
        query, terms = parse_query(text, self.glossary)
        if query is None:
            return {}
        found = {k: self._best(k, query, n) for k, n in limits.items() if k in self._tables}
        weights = self._weights(terms) if any(found.values()) else []
        return {k: self._judged(k, rows, weights) for k, rows in found.items()}

    def _best(self, kind: str, query: str, limit: int) -> list[tuple[int, Hit]]:
        table = self._tables[kind]
        # The best rows first, then a passage for those alone: snippet() in the ranking query
        # would be worked out for every match before the sort kept three.
        rows = self._db.execute(
            f"SELECT best.rowid, d.id, d.title,"
            f" snippet({table}, 3, char(2), char(3), '…', 24), best.score"
            f" FROM (SELECT rowid, bm25({table}, 0, {_WEIGHTS[0]}, {_WEIGHTS[1]},"
            f" {_WEIGHTS[2]}) AS score FROM {table} WHERE {table} MATCH ?1"
            f" ORDER BY score LIMIT ?2) AS best"
            f" JOIN {table} AS d ON d.rowid = best.rowid"
            f" WHERE {table} MATCH ?1 ORDER BY best.score",
            [query, limit],
        ).fetchall()
        return [(r, Hit(kind, i, t, highlight(p), float(s))) for r, i, t, p, s in rows]

    def _weights(self, terms: list[Term]) -> list[tuple[float, dict[str, int]]]:
        """Each meaningful word's weight (bm25's idf over the whole index) and, per kind, the
        rows that hold it (a bit set). A word no row holds weighs the most, unless it is
        everyday English: then it is filler and left out."""
        weights = []
        total = sum(self._sizes.values())
        for term in terms:
            rows = {kind: self._rows(kind, term.match) for kind in self._tables}
            held = sum(r.bit_count() for r in rows.values())
            if not held and term.word in everyday_words():
                continue
            weights.append((math.log(1 + (total - held + 0.5) / (held + 0.5)), rows))
        return weights

    def _rows(self, kind: str, match: str) -> int:
        """The rows of a kind that hold a term, as a bit set (kept: the index never changes)."""
        key = (kind, match)
        rows = self._postings.get(key)
        if rows is None:
            table = self._tables[kind]
            bits = bytearray(self._sizes[kind] // 8 + 1)
            for (rowid,) in self._db.execute(
                f"SELECT rowid FROM {table} WHERE {table} MATCH ?", [match]
            ):
                bits[rowid >> 3] |= 1 << (rowid & 7)
            rows = int.from_bytes(bits, "little")
            if len(self._postings) >= _KEPT_TERMS:
                self._postings.clear()
            self._postings[key] = rows
        return rows

    def _judged(
        self, kind: str, rows: list[tuple[int, Hit]], weights: list[tuple[float, dict[str, int]]]
    ) -> list[Hit]:
        """The hits, each with its share of the query's weight and whether it is strong."""
        if not rows:
            return []
        whole = sum(w for w, _ in weights)
        best = min(hit.score for _, hit in rows)
        judged = []
        for rowid, hit in rows:
            held = sum(w for w, bits in weights if bits[kind] >> rowid & 1)
            share = held / whole if whole > 0 else 1.0
            # bm25 is negative, better the lower; a best of about 0 ties everything.
            close = best > -1e-6 or hit.score <= best * STRONG_RELATIVE
            strong = share >= STRONG_SHARE - 1e-9 and close
            judged.append(replace(hit, share=share, strong=strong))
        return judged

    def bare_match(self, query: str, limit: int = 3, kind: str = "note") -> list[tuple[str]]:
        """A bare FTS5 MATCH on the same index: the floor `bench/search.py` compares with."""
        table = self._tables[kind]
        return self._db.execute(
            f"SELECT id FROM {table} WHERE {table} MATCH ? ORDER BY rank LIMIT ?",
            [query, limit],
        ).fetchall()


def highlight(snippet: str) -> str:
    """A passage as Slack shows it: at most `PASSAGE` characters, escaped (never cut inside an
    `&amp;`), then the matched words in bold, every bold closed."""
    text = escape_within(snippet, PASSAGE)
    if text.count(_OPEN) > text.count(_CLOSE):
        text += _CLOSE
    return text.replace(_OPEN, "*").replace(_CLOSE, "*")
