"""Named audiences: defined once in audiences.yaml, used by name, checked with file:line."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.content import check_content, load_briefings
from bot.content.briefings import read_briefings

LONDON = ZoneInfo("Europe/London")

BRIEFING = """\
---
id: sample
title: A sample briefing
audience: {audience}
deliver: dm
---
Body.
"""


def content(tmp_path: Path, audiences: str | None, audience: str) -> Path:
    (tmp_path / "briefings").mkdir()
    (tmp_path / "briefings" / "sample.md").write_text(
        BRIEFING.format(audience=audience), encoding="utf-8"
    )
    if audiences is not None:
        (tmp_path / "audiences.yaml").write_text(audiences, encoding="utf-8")
    return tmp_path


def test_a_named_audience_stands_for_its_entries(tmp_path):
    folder = content(
        tmp_path,
        'all-social-workers: ["@social-workers", "@team-managers"]\n',
        '["all-social-workers", "U0PARTNER1", "@team-managers"]',
    )
    [briefing] = load_briefings(folder, LONDON).values()
    assert [a.raw for a in briefing.audience] == ["@social-workers", "@team-managers", "U0PARTNER1"]
    assert [a.kind for a in briefing.audience] == ["usergroup", "usergroup", "user"]


def test_an_unknown_name_is_reported_at_its_line_with_the_names_there_are(tmp_path):
    folder = content(tmp_path, 'leadership-team: ["@senior-managers"]\n', '["all-staff"]')
    [problem] = check_content(folder, LONDON)
    assert (problem.path.name, problem.line) == ("sample.md", 4)
    assert "no audience called 'all-staff' in audiences.yaml" in problem.message
    assert "leadership-team" in problem.message


@pytest.mark.parametrize(
    ("yaml_text", "line", "expected"),
    [
        ('a: ["@x"]\na: ["@y"]\n', 2, "audience 'a' is defined twice"),
        ("team: []\n", 1, "audience 'team' needs a list of entries"),
        ('team: ["#ok", "nope!"]\n', 1, "audience entry 'nope!' must start with #"),
        ('team: ["other"]\nother: ["@x"]\n', 1, "'team' names another audience ('other')"),
        ('Big Team: ["@x"]\n', 1, "audience name 'Big Team' must use only lowercase letters"),
        ('team: ["@x", "@x"]\n', 1, "'team' lists '@x' twice"),
        ("team: [\n", 2, "not valid YAML"),
    ],
    ids=["twice", "empty", "bad-entry", "nested", "bad-name", "repeated-entry", "broken-yaml"],
)
def test_problems_in_audiences_yaml_are_reported_with_file_and_line(
    tmp_path, yaml_text, line, expected
):
    folder = content(tmp_path, yaml_text, '["#social-work-all"]')
    problems = [p for p in check_content(folder, LONDON) if p.path.name == "audiences.yaml"]
    assert problems, "no problem reported"
    assert problems[0].line == line
    assert expected in problems[0].message
    # A briefing that does not use the broken audience still publishes; the file is named.
    loaded = read_briefings(folder, LONDON)
    assert list(loaded.ready) == ["sample"]
    [broken] = loaded.broken
    assert (broken.file, broken.noun, broken.problems[0].line) == (
        "audiences.yaml",
        "named audiences",
        line,
    )
    assert loaded.broken_one("audiences") is None  # never offered as a briefing


def test_the_shipped_audiences_are_used_by_a_shipped_briefing():
    shipped = Path(__file__).resolve().parent.parent / "content"
    briefing = load_briefings(shipped, LONDON)["threshold-document"]
    assert [a.raw for a in briefing.audience] == ["@social-workers", "@team-managers"]
