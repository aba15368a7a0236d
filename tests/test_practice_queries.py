"""What staff type, over the shipped guidance: the note they need comes first.

A table of realistic searches, with abbreviations both ways, prefixes, plurals and tenses, and
one search only the directory can answer. If a change to ranking, stemming or the glossary
breaks one, this is where it shows.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.practice.library import Library

REPO = Path(__file__).resolve().parents[1]

QUERIES = [
    # abbreviations, and their spelled-out forms
    ("CSE", "child-exploitation"),
    ("child sexual exploitation", "child-exploitation"),
    ("what is the RHI timescale", "return-home-interviews"),
    ("return home interview", "return-home-interviews"),
    ("PLO letter before proceedings", "legal-gateway"),
    ("public law outline", "legal-gateway"),
    ("IRO", "iro-service"),
    ("independent reviewing officer", "iro-service"),
    ("LAC review timescales", "iro-service"),
    ("child looked after review", "iro-service"),
    ("LADO", "lado"),
    ("local authority designated officer", "lado"),
    ("ASYE supervision", "supervision"),
    ("MASH referral", "threshold-document"),
    ("EDT", "out-of-hours-duty"),
    ("EHM", "early-help"),
    # plurals, tenses and word prefixes
    ("interviews", "return-home-interviews"),
    ("interviewed", "return-home-interviews"),
    ("superv", "supervision"),
    ("exploit", "child-exploitation"),
    # as people put it
    ("allegation against a foster carer", "lado"),
    ("county lines", "child-exploitation"),
    ("a child went missing from care", "return-home-interviews"),
    ("how often should I visit a child on a plan", "practice-standards"),
    ("levels of need", "threshold-document"),
    ("strategy meeting", "strategy-discussions"),
    ("section 47", "strategy-discussions"),
    ("the form won't save", "recording-system"),
    ("step down to early help", "early-help"),
    ("weekend emergency", "out-of-hours-duty"),
    ("legal gateway", "legal-gateway"),
    # possessives, with either apostrophe
    ("LADO’s timescales", "lado"),
    ("the IRO's role", "iro-service"),
]


@pytest.fixture(scope="module")
def library():
    shelf = Library(
        REPO / "content",
        ZoneInfo("Europe/London"),
        review_months=12,
        clock=lambda: datetime(2026, 12, 1, 12, tzinfo=UTC),
    )
    asyncio.run(shelf.load())
    return shelf


@pytest.mark.parametrize(("query", "first"), QUERIES)
async def test_the_note_staff_need_comes_first(library, query, first):
    found = await library.search(query)
    assert found.notes, f"nothing found for {query!r}"
    assert found.notes[0][1].id == first, [n.id for _, n in found.notes]


def test_the_table_is_at_least_twenty_queries_over_at_least_ten_notes():
    assert len(QUERIES) >= 20
    assert len({first for _, first in QUERIES}) >= 10


@pytest.mark.parametrize(
    ("query", "helper"),
    [
        ("interpreter", "interpreting-service"),
        ("translation", "interpreting-service"),
        ("counselling", "employee-assistance"),
        ("forgotten my password", "it-service-desk"),
    ],
)
async def test_a_search_only_the_directory_can_answer_finds_who_can_help(library, query, helper):
    found = await library.search(query)
    assert found.notes == []
    assert found.helpers[0][1].id == helper


async def test_who_can_help_comes_with_the_notes(library):
    found = await library.search("CSE")
    assert found.helpers[0][1].id == "child-exploitation-team"
    found = await library.search("PLO")
    assert "legal-services" in [e.id for _, e in found.helpers]


async def test_the_matched_words_are_bold_in_the_passage(library):
    found = await library.search("return home interview")
    passage = found.notes[0][0].passage
    assert "*interview*" in passage.lower() or "*interviews*" in passage.lower()


@pytest.mark.parametrize(
    "query",
    ['"', "*", "NEAR(", "-missing", "^lado", "title:lado", "(((", "AND", "OR NOT", "lado)"],
)
async def test_fts5_syntax_is_searched_as_words_and_never_raises(library, query):
    found = await library.search(query)
    assert found.query == query
    if query in ("^lado", "title:lado", "lado)"):
        assert found.notes[0][1].id == "lado"


async def test_a_query_over_500_characters_is_cut_and_says_so(library):
    found = await library.search("lado " * 200)
    assert found.cut
    assert len(found.query) == 500
    assert found.notes[0][1].id == "lado"


async def test_nothing_to_search_finds_nothing_rather_than_failing(library):
    for query in ("", "   ", "the and of", "???"):
        found = await library.search(query)
        assert found.empty
