"""`content/teams.yaml`: each team's name and managers, with file:line problems for the rest."""

from __future__ import annotations

import asyncio
import io
from zoneinfo import ZoneInfo

from bot.cli import _user_group_handles
from bot.content import check_content, run_content_check
from bot.content.teams import Team, load_teams
from tests.conftest import BOT_TOKEN

LONDON = ZoneInfo("Europe/London")

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


def content_check(folder, **kwargs):
    """What `line-of-sight content check` prints, and its exit code."""
    (folder / "briefings").mkdir(exist_ok=True)
    out = io.StringIO()
    code = run_content_check(folder, LONDON, out, **kwargs)
    return code, out.getvalue()


def test_the_content_check_command_names_what_check_content_finds_in_teams_yaml(tmp_path):
    write(tmp_path, '"@fostering-team":\n  nam: Fostering\n')
    (tmp_path / "briefings").mkdir()
    found = [str(p) for p in check_content(tmp_path, LONDON)]
    code, out = content_check(tmp_path)
    assert found  # the file is broken
    assert code == 1
    for problem in found:
        assert problem in out


def test_a_teams_handle_slack_does_not_know_is_a_problem_the_rest_are_fine(tmp_path):
    write(tmp_path, GOOD)
    code, out = content_check(
        tmp_path,
        teams=("@fostering-team", "@north-team", "@fostreing-team"),
        known_groups={"fostering-team", "north-team"},
    )
    assert code == 1
    assert "TEAMS: @fostreing-team is not a user group in this Slack workspace" in out
    assert "@north-team is not" not in out


def test_a_team_described_but_not_listed_in_teams_is_a_warning_at_its_line(tmp_path):
    write(tmp_path, GOOD)
    code, out = content_check(tmp_path, teams=("@fostering-team",))
    assert code == 0
    assert "teams.yaml:4: warning: @north-team is described here but TEAMS does not list it" in out
    assert "1 team (not checked with Slack)" in out


async def test_the_handles_are_asked_of_slack_when_a_token_is_at_hand(slack):
    handles = await asyncio.to_thread(_user_group_handles, BOT_TOKEN, slack.api_url)
    assert handles is not None
    assert {"social-workers", "engagement-leads"} <= handles
    refused = await asyncio.to_thread(_user_group_handles, "xoxb-not-ours", slack.api_url)
    assert refused is None  # invalid_auth: said on stderr, and the rest is still checked
