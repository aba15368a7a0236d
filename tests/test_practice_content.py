"""Practice content as authors write it: the directory of who can help and the glossary, checked
with file:line, and guidance due for review listed as warnings that do not fail `content check`."""

from __future__ import annotations

import io
import time
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.content import check_content, load_directory, review_warnings, run_content_check
from bot.content.documents import Context, scan
from bot.content.notes import PRACTICE, due_for_review
from bot.practice.library import build_shelf
from bot.practice.search import GlossaryError, load_glossary
from tests.conftest import billion_laughs

LONDON = ZoneInfo("Europe/London")
REPO = Path(__file__).resolve().parents[1]
TODAY = date(2026, 12, 1)

GOOD_ENTRY = """\
- id: mash
  name: MASH
  helps_with: [referrals]
  reach:
    channel: "#mash"
    phone: 020 7946 0100
  verified: 2026-10-01
"""


def directory(tmp_path: Path, text: str) -> Path:
    content = tmp_path / "content"
    (content / "briefings").mkdir(parents=True, exist_ok=True)
    (content / "directory.yaml").write_text(text, encoding="utf-8")
    return content


def messages(content: Path) -> list[str]:
    return [str(p).removeprefix(f"{content}/") for p in load_directory(content, TODAY)[1]]


def test_a_good_entry_loads_with_every_way_to_reach_it(tmp_path):
    entries, problems = load_directory(directory(tmp_path, GOOD_ENTRY), TODAY)
    assert problems == []
    entry = entries["mash"]
    assert (entry.name, entry.helps_with, entry.channel, entry.phone) == (
        "MASH",
        ("referrals",),
        "#mash",
        "020 7946 0100",
    )
    assert entry.verified == date(2026, 10, 1)
    assert entry.line == 1


def test_a_duplicate_id_names_the_first_one_s_line(tmp_path):
    content = directory(tmp_path, GOOD_ENTRY + "\n" + GOOD_ENTRY)
    assert messages(content) == [
        "directory.yaml:9: id 'mash' is already used on line 1: give each entry its own id"
    ]


def test_a_missing_name_a_future_date_and_an_unknown_channel_form_are_each_reported(tmp_path):
    content = directory(
        tmp_path,
        GOOD_ENTRY
        + """\
- id: legal
  helps_with: [court]
  reach:
    channel: Legal Team
  verified: 2999-01-01
- id: no-way-in
  name: Nobody
  helps_with: [nothing]
  reach:
    hours: never
  verified: 2026-01-01
""",
    )
    found = messages(content)
    assert "directory.yaml:8: name is missing: add 'name: …'" in found
    assert any(
        m.startswith("directory.yaml:11: channel 'Legal Team' is not a Slack channel")
        for m in found
    )
    assert any(
        m.startswith("directory.yaml:12: verified is 2999-01-01, in the future") for m in found
    )
    assert any(m.startswith("directory.yaml:16: reach needs at least one way in") for m in found)
    # The good entry still loads: one broken entry never empties the directory.
    assert set(load_directory(content, TODAY)[0]) == {"mash"}


def test_odd_fields_and_unreadable_values_are_reported_with_how_to_fix_them(tmp_path):
    content = directory(
        tmp_path,
        """\
- id: Bad Id
  name: X
  helps_with: []
  reach:
    fax: 0123
    phone: call us
    link: http://insecure.example
  verified: last week
  colour: blue
""",
    )
    found = messages(content)
    assert any(m.startswith("directory.yaml:1: id 'Bad Id' must use only lowercase") for m in found)
    assert any(m.startswith("directory.yaml:3: helps_with must list") for m in found)
    assert any(m.startswith("directory.yaml:5: unknown way to reach them 'fax'") for m in found)
    assert any(
        m.startswith("directory.yaml:6: phone 'call us' is not a phone number") for m in found
    )
    assert any(m.startswith("directory.yaml:7: link 'http://insecure.example' must") for m in found)
    assert any(
        m.startswith("directory.yaml:8: verified is 'last week': write a date") for m in found
    )
    assert any(m.startswith("directory.yaml:9: unknown field 'colour'") for m in found)


def test_a_directory_that_is_not_yaml_is_one_problem_at_its_line(tmp_path):
    content = directory(tmp_path, GOOD_ENTRY + "- id: [unclosed\n")
    [problem] = messages(content)
    assert problem.startswith("directory.yaml:9: not valid YAML")
    assert check_content(content, LONDON)[-1].line == 9  # content check reports it too


def test_a_directory_that_is_a_mapping_says_how_to_write_it(tmp_path):
    content = directory(tmp_path, "mash: 020 7946 0100\n")
    assert messages(content) == [
        "directory.yaml:1: write the directory as a list of entries, each starting '- id: …'"
    ]


def test_due_for_review_is_after_the_configured_months():
    assert not due_for_review(date(2025, 12, 1), TODAY, 12)
    assert due_for_review(date(2025, 11, 30), TODAY, 12)
    assert due_for_review(date(2026, 5, 31), TODAY, 6)
    assert not due_for_review(date(2026, 6, 1), TODAY, 6)


def test_guidance_due_for_review_is_a_warning_and_the_check_still_passes(tmp_path):
    content = directory(tmp_path, GOOD_ENTRY.replace("2026-10-01", "2020-01-01"))
    (content / "practice").mkdir()
    (content / "practice" / "old.md").write_text(
        "---\nid: old\ntitle: Old\nowner: The PSW\nreviewed: 2020-01-01\n---\nText.\n"
    )
    (content / "practice" / "new.md").write_text(
        "---\nid: new\ntitle: New\nowner: The PSW\nreviewed: 2026-11-01\n---\nText.\n"
    )
    (content / "briefings" / "b.md").write_text(
        "---\nid: b\ntitle: B\naudience: ['#general']\n---\nBody.\n"
    )
    out = io.StringIO()
    assert run_content_check(content, LONDON, out, review_months=12) == 0
    lines = out.getvalue().strip().splitlines()
    assert lines[0] == (
        f"{content}/practice/old.md:5: warning: reviewed 2020-01-01, over 12 months ago, so it "
        "shows as due for review: ask The PSW to check it, then update 'reviewed'"
    )
    assert lines[1].startswith(f"{content}/directory.yaml:1: warning: 'MASH' was verified 2020")
    assert lines[-1] == (
        "1 briefing, 2 practice notes, 1 directory entry checked, no problems (2 warnings)"
    )


def test_the_shipped_directory_and_notes_cover_the_services_named_in_the_report():
    entries, problems = load_directory(REPO / "content", TODAY)
    assert problems == []
    assert {
        "mash",
        "child-exploitation-team",
        "iro-service",
        "legal-services",
        "emergency-duty-team",
        "lado",
        "return-home-interview-service",
    } <= set(entries)
    notes = scan(REPO / "content", PRACTICE, Context(LONDON)).items
    assert {
        "practice-standards",
        "threshold-document",
        "child-exploitation",
        "iro-service",
        "legal-gateway",
        "out-of-hours-duty",
        "lado",
        "return-home-interviews",
        "supervision",
        "recording-system",
    } <= set(notes)
    # As shipped, only the out-of-hours note is past its review (to show the warning).
    warned = review_warnings(notes.values(), entries.values(), TODAY)
    assert [w.path.name for w in warned] == ["out-of-hours-duty.md"]


def test_a_control_character_is_a_problem_at_its_line_not_a_crash(tmp_path):
    content = directory(tmp_path, GOOD_ENTRY + "- id: edt\n  name: EDT\x0b team\n")
    [problem] = messages(content)
    assert problem.startswith("directory.yaml:9: a character YAML cannot read")
    (content / "practice").mkdir()
    (content / "practice" / "note.md").write_text(
        "---\nid: note\ntitle: A\x07 note\nowner: X\nreviewed: 2026-01-01\n---\nText.\n"
    )
    found = [str(p) for p in check_content(content, LONDON)]
    assert any("note.md:3: front matter has a character YAML cannot read" in p for p in found)


def test_yaml_nulls_booleans_and_dates_with_tails_are_not_read_as_words(tmp_path):
    content = directory(
        tmp_path,
        GOOD_ENTRY.replace("[referrals]", "[true, ~]").replace("2026-10-01", "2025-01-01xyz"),
    )
    found = messages(content)
    assert any(m.startswith("directory.yaml:3: helps_with must list") for m in found)
    assert any(m.startswith("directory.yaml:7: verified is '2025-01-01xyz'") for m in found)


# -- YAML aliases: a "billion laughs" is refused at its first alias, never expanded ------------

ALIAS_REFUSED = (
    "the YAML alias *a0 is not allowed: write the value out in full instead "
    "(content may not use anchors and aliases)"
)


def test_an_alias_bomb_in_the_directory_is_one_problem_at_its_line_in_no_time(tmp_path):
    content = directory(tmp_path, GOOD_ENTRY + "- id: bomb\n" + billion_laughs(indent="  "))
    started = time.perf_counter()
    found = messages(content)
    assert time.perf_counter() - started < 2.0  # expanded, it would never finish
    assert found == [f"directory.yaml:10: {ALIAS_REFUSED}"]


def test_an_alias_bomb_in_the_glossary_fails_content_check_at_its_line(tmp_path):
    content = directory(tmp_path, GOOD_ENTRY)
    (content / "briefings" / "b.md").write_text(
        "---\nid: b\ntitle: B\naudience: ['#general']\n---\nBody.\n"
    )
    glossary = content / "glossary.yaml"
    glossary.write_text("PSW: principal social worker\n" + billion_laughs(), encoding="utf-8")
    out = io.StringIO()
    started = time.perf_counter()
    code = run_content_check(content, LONDON, out)
    assert time.perf_counter() - started < 2.0
    assert code == 1
    assert f"{glossary}:3: {ALIAS_REFUSED}" in out.getvalue().splitlines()


def test_the_practice_library_skips_an_alias_bomb_glossary_and_keeps_the_shipped_one(tmp_path):
    content = directory(tmp_path, GOOD_ENTRY)
    (content / "glossary.yaml").write_text(billion_laughs(), encoding="utf-8")
    started = time.perf_counter()
    shelf = build_shelf(content, LONDON, TODAY)
    assert time.perf_counter() - started < 2.0
    assert [str(p) for p in shelf.skipped] == [f"{content / 'glossary.yaml'}:2: {ALIAS_REFUSED}"]
    assert shelf.index.search("multi agency safeguarding hub")  # "MASH", by the shipped glossary


def test_the_glossary_loader_refuses_an_alias_with_its_file_and_line(tmp_path):
    glossary = tmp_path / "glossary.yaml"
    glossary.write_text(billion_laughs(), encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(GlossaryError) as refused:
        load_glossary(glossary)
    assert time.perf_counter() - started < 2.0
    assert str(refused.value) == f"{glossary}:2: {ALIAS_REFUSED}"
