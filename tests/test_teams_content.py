"""`content/teams.yaml`: each team's name and managers, with file:line problems for the rest."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.content import check_content
from bot.content.teams import Team, load_teams, shown_name

GOOD = """\
"@fostering-team":
  name: Fostering
  managers: ["@fostering-managers", "U0FOS01"]
"@north-team":
  name: North locality
"""


def write(tmp_path, text):
    (tmp_path / "teams.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_each_team_has_its_name_and_managers(tmp_path):
    teams, problems = load_teams(write(tmp_path, GOOD))
    assert problems == []
    assert teams == {
        "@fostering-team": Team("@fostering-team", "Fostering", ("@fostering-managers", "U0FOS01")),
        "@north-team": Team("@north-team", "North locality"),
    }
    assert shown_name(teams, "@north-team") == "North locality"
    assert shown_name(teams, "@south-team") == "@south-team"  # not described: its handle
    assert shown_name(teams, "not in a listed team") == "not in a listed team"


def test_no_file_is_no_teams_and_no_problem(tmp_path):
    assert load_teams(tmp_path) == ({}, [])


def test_a_broken_entry_is_left_out_and_named_at_its_line(tmp_path):
    text = GOOD + (
        '"south-team":\n'  # line 6: no @
        "  name: South\n"
        '"@cse-team":\n'
        '  managers: ["@cse-managers"]\n'  # line 9: no name
        '"@duty-team":\n'
        "  name: Duty\n"
        '  managers: ["Jo Bloggs"]\n'  # line 12: not an id or a group
    )
    teams, problems = load_teams(write(tmp_path, text))
    assert sorted(teams) == ["@fostering-team", "@north-team"]
    found = [(p.line, p.message) for p in problems]
    assert found[0][0] == 6
    assert "not a user-group handle" in found[0][1]
    assert "@cse-team needs a name" in found[1][1]
    assert found[2] == (12, "'Jo Bloggs' is not a user id (U0123ABCD) or a user group (@managers)")


def test_content_check_names_a_broken_teams_file(tmp_path):
    write(tmp_path, "- just a list\n")
    (tmp_path / "briefings").mkdir()
    problems = check_content(tmp_path, ZoneInfo("Europe/London"))
    assert [(p.path.name, p.line) for p in problems] == [("teams.yaml", 1)]
