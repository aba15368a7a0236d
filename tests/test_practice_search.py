"""Practice search, as a library: ranking, stemming, prefixes, abbreviations both ways, and a
person's words never taken as FTS5 syntax."""

from __future__ import annotations

import pytest

from bot.practice.search import MAX_QUERY, Document, Index, build_query, load_glossary

NOTES = [
    Document(
        "note",
        "return-home-interviews",
        "Return home interviews",
        "missing rhi",
        "When a child returns after going missing, offer a return home interview within "
        "72 hours. Interviews are done by someone independent of the placement.",
    ),
    Document(
        "note",
        "cse-police",
        "Child sexual exploitation: working with the police",
        "exploitation police",
        "Refer concerns about child sexual exploitation to the "
        "CSE team the same day; the police co-locate with it on Tuesdays.",
    ),
    Document(
        "note",
        "iro-service",
        "The IRO service",
        "looked after reviews",
        "Every child looked after has an independent reviewing officer, who chairs their "
        "reviews & can escalate a plan that drifts.",
    ),
    Document(
        "note",
        "supervision",
        "Supervision standards",
        "supervision reflective",
        "Supervision is monthly, recorded, and reflective: <b>not</b> just case management.",
    ),
    Document(
        "directory",
        "edt",
        "Emergency duty team",
        "out of hours",
        "Out of hours referrals: the emergency duty team, 5pm to 9am and weekends.",
    ),
]


@pytest.fixture(scope="module")
def index():
    return Index(NOTES, load_glossary())


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("return home interview", "return-home-interviews"),
        ("RHI", "return-home-interviews"),
        ("interviewed", "return-home-interviews"),  # tense
        ("interviews", "return-home-interviews"),  # plural
        ("interv", "return-home-interviews"),  # a prefix
        ("CSE", "cse-police"),
        ("child sexual exploitation", "cse-police"),
        ("IRO", "iro-service"),
        ("independent reviewing officer", "iro-service"),
        ("LAC", "iro-service"),  # LAC / CLA / child looked after
        ("CLA reviews", "iro-service"),
        ("what do I do about supervision?", "supervision"),
        ("EDT", "edt"),
        ("out of hours", "edt"),
    ],
)
def test_the_expected_note_comes_first(index, query, first):
    kind = next(d.kind for d in NOTES if d.id == first)  # notes and the directory apart
    hits = index.search(query, kind=kind)
    assert hits, query
    assert hits[0].id == first, [h.id for h in hits]


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        "child*",
        "NEAR(police",
        "-police",
        "^police",
        "title:police",
        "(((",
        "AND",
        "police OR",
        "a b c",
        "",
        "   ",
        "!!!",
    ],
)
def test_fts5_syntax_in_a_query_never_raises(index, query):
    index.search(query)  # searched as words, or nothing to search


def test_a_passage_is_escaped_and_its_matched_words_bold(index):
    [hit] = index.search("reflective supervision", limit=1)
    assert "&lt;b&gt;" in hit.passage
    assert "<b>" not in hit.passage
    assert "*Supervision*" in hit.passage or "*supervision*" in hit.passage


def test_a_long_query_is_cut():
    query = build_query("police " * 1000, load_glossary())
    assert query is not None
    assert len(query) < MAX_QUERY * 3


def test_a_glossary_in_content_adds_to_the_shipped_one(tmp_path):
    extra = tmp_path / "glossary.yaml"
    extra.write_text("FGC: [family group conference]\nCSE: [exploitation of children]\n")
    glossary = load_glossary(extra)
    assert glossary["FGC"] == ("family group conference",)
    assert glossary["CSE"] == ("exploitation of children",)  # overridden
    assert "IRO" in glossary  # still shipped
