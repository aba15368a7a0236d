"""The service's own teams (`TEAMS`): results break down by them, whatever the audience was.

Forty social workers, sent one briefing as one audience entry (@social-workers): without teams
it has no breakdown at all. With `TEAMS=@north-team,@south-team,@fostering-team` (north and
south overlap by ten; fostering is four people) the figures break down by team, someone in two
teams counts in both, the ten in no team are "not in a listed team", fostering is too small to
show, and who was in each team is the team as it stood when the briefing was sent.
"""

from __future__ import annotations

import pytest

from bot.config import Config
from handlers.briefings import ACK_ACTION
from slack_standin import Workspace
from tests.conftest import (
    APP_TOKEN,
    BOT_PER_MINUTE,
    BOT_TOKEN,
    ENGAGEMENT_LEAD,
    SIGNING_SECRET,
    publish_confirmed,
)
from tests.test_check_results import BRIEFING as WITH_DUTY_TEAM
from tests.test_check_results import copy_of, results_seen, take

BRIEFING = WITH_DUTY_TEAM.replace(
    'audience: ["@social-workers", "@duty-team"]', 'audience: ["@social-workers"]'
)
TEAMS = "@north-team,@south-team,@fostering-team"


@pytest.fixture
def workspace():
    ws = Workspace.sample(n_staff=40 + 6)
    social_workers = sorted(ws.usergroups["S0SWS"].users)
    ws.add_usergroup("S0NTH", handle="north-team", name="North", users=social_workers[:20])
    ws.add_usergroup("S0STH", handle="south-team", name="South", users=social_workers[10:30])
    ws.add_usergroup("S0FOS", handle="fostering-team", name="Fostering", users=social_workers[:4])
    return ws


@pytest.fixture
def content_dir(tmp_path):
    folder = tmp_path / "content" / "briefings"
    folder.mkdir(parents=True)
    (folder / "duty-changes.md").write_text(BRIEFING, encoding="utf-8")
    # The north team has a name people know (content/teams.yaml); the others show by handle.
    (tmp_path / "content" / "teams.yaml").write_text(
        '"@north-team":\n  name: North locality\n  managers: ["@team-managers"]\n',
        encoding="utf-8",
    )
    return tmp_path / "content"


@pytest.fixture
def config(tmp_path, slack, content_dir, request):
    settings = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_PATH": str(tmp_path / "los.db"),
        "CONTENT_DIR": str(content_dir),
        "SENIOR_MANAGERS": "@senior-managers",
        "ENGAGEMENT_LEADS": "@engagement-leads",
        "OUTBOX_PER_MINUTE": str(BOT_PER_MINUTE),
    }
    teams = getattr(request, "param", TEAMS)
    if teams:
        settings["TEAMS"] = teams
    return Config.from_env(settings, dotenv=None)


def result_lines(seen) -> list[str]:
    text = "\n".join(b["text"]["text"] for b in seen.blocks if b.get("text"))
    return [line for line in text.splitlines() if line.startswith("• ")]


async def acknowledge(driver, bot, slack, people):
    """Each acknowledges and takes the check, getting it all right."""
    for person in people:
        await driver.click(person, copy_of(slack, person), ACK_ACTION)
        await take(driver, bot, person, (1, 0))
    await bot.work.idle()


async def test_results_break_down_by_the_services_teams_not_the_audience(slack, bot, driver):
    await publish_confirmed(driver, bot, "publish duty-changes")
    assert await bot.outbox.idle(30)
    workers = sorted(slack.workspace.usergroups["S0SWS"].users)
    await acknowledge(driver, bot, slack, workers[:10])  # the north team's own ten

    seen = await results_seen(driver, bot, ENGAGEMENT_LEAD)
    lines = result_lines(seen)
    north = [line for line in lines if line.startswith("• North locality: ")]
    south = [line for line in lines if line.startswith("• @south-team: ")]
    nobody = [line for line in lines if line.startswith("• not in a listed team: ")]
    assert north == [
        "• North locality: reached 20, acknowledged 10 (50%), took the check 10 (50%), understood"
        " first time 10 of the 10 who took it (100%)"
    ]
    # Nobody in south has acted: that looks the same as fewer than ten having (on purpose),
    # and never like a count of nobody.
    held = (
        "reached {}, acknowledged: held back until 10 or more in the team have acknowledged, "
        "took the check: held back until 10 or more in the team have taken it"
    )
    assert south == ["• @south-team: " + held.format(20)]
    assert nobody == ["• not in a listed team: " + held.format(10)]
    # Four people: their figures would single them out, so the team is not broken down.
    assert "• @fostering-team: fewer than 10" in lines
    assert not any(line.startswith("• @social-workers") for line in lines)


async def test_a_team_is_taken_as_it_stood_when_the_briefing_was_sent(slack, bot, driver):
    await publish_confirmed(driver, bot, "publish duty-changes")
    assert await bot.outbox.idle(30)
    workers = sorted(slack.workspace.usergroups["S0SWS"].users)
    # Ten move from north to the no-team part of the service after it went out.
    north = slack.workspace.usergroups["S0NTH"]
    north.users[:] = [u for u in north.users if u not in workers[:10]]
    await acknowledge(driver, bot, slack, workers[:10])
    lines = result_lines(await results_seen(driver, bot, ENGAGEMENT_LEAD))
    assert any(
        line.startswith("• North locality: reached 20, acknowledged 10 (50%)") for line in lines
    )
    assert any(
        line.startswith("• not in a listed team: reached 10, acknowledged: held back")
        for line in lines
    )


@pytest.mark.parametrize("config", [False], indirect=True)
async def test_without_teams_one_audience_entry_has_no_breakdown(slack, bot, driver):
    await publish_confirmed(driver, bot, "publish duty-changes")
    assert await bot.outbox.idle(30)
    workers = sorted(slack.workspace.usergroups["S0SWS"].users)
    await acknowledge(driver, bot, slack, workers[:10])
    seen = await results_seen(driver, bot, ENGAGEMENT_LEAD)
    assert result_lines(seen) == []
    assert "Acknowledged: *10* of the 40 reached (25%)" in str(seen.blocks)


@pytest.mark.parametrize("config", [TEAMS + ",@no-such-team"], indirect=True)
async def test_a_team_slack_does_not_know_is_named_at_start_and_the_rest_work(
    slack, config, driver, bot, caplog
):
    # `bot` started before caplog could see it: start a second look the way start-up does.
    caplog.clear()
    await bot.check_setup()
    named = [r.getMessage() for r in caplog.records if "@no-such-team" in r.getMessage()]
    assert named == [
        "set-up: ✗ @no-such-team (TEAMS): not a user group in this workspace, so figures are "
        "not broken down by it: check the handle (in Slack: People, then User groups)"
    ]
    await publish_confirmed(driver, bot, "publish duty-changes")
    assert await bot.outbox.idle(30)
    workers = sorted(slack.workspace.usergroups["S0SWS"].users)
    await acknowledge(driver, bot, slack, workers[:10])
    lines = result_lines(await results_seen(driver, bot, ENGAGEMENT_LEAD))
    assert any(line.startswith("• North locality: reached 20") for line in lines)


async def test_status_shows_acknowledgements_by_team(slack, bot, driver):
    await publish_confirmed(driver, bot, "publish duty-changes")
    assert await bot.outbox.idle(30)
    workers = sorted(slack.workspace.usergroups["S0SWS"].users)
    await acknowledge(driver, bot, slack, workers[:10])
    await driver.slash_command(ENGAGEMENT_LEAD, "/brief", "status duty-changes")
    await bot.work.idle()
    [reply] = [s.text for s in slack.seen_by(ENGAGEMENT_LEAD) if s.kind == "response"]
    by_team = reply.split("*By team*\n")[1].splitlines()
    assert by_team == [
        "• North locality: reached 20, 10 acknowledged (50%)",
        "• @south-team: reached 20, acknowledgements held back until 10 or more in the team "
        "have acknowledged",
        "• not in a listed team: reached 10, acknowledgements held back until 10 or more in "
        "the team have acknowledged",
        "• @fostering-team: fewer than 10",
    ]
    assert "@social-workers: delivered to 40 of 40" in reply
    assert "figures hidden" not in reply  # an entry is not a group here: teams are


async def test_the_csv_breaks_down_by_team_with_their_names(slack, bot, driver):
    from tests.test_export import by_key, read_csv

    await publish_confirmed(driver, bot, "publish duty-changes")
    assert await bot.outbox.idle(30)
    workers = sorted(slack.workspace.usergroups["S0SWS"].users)
    await acknowledge(driver, bot, slack, workers[:10])
    await results_seen(driver, bot, ENGAGEMENT_LEAD)
    await driver.slash_command(ENGAGEMENT_LEAD, "/engage", "export duty-changes")
    await bot.work.idle()
    [upload] = [f for f in slack.files.values() if f.completed]
    rows = read_csv(upload.data)
    table = by_key(rows)

    def shown(team: str) -> list[tuple[str, str, str, str]]:
        return [
            (r["figure"], r["value"], r["base"], r["percent"])
            for r in rows
            if r["team"] == team and r["suppressed"] == "false"
        ]

    # The teams' own names; the ten who acknowledged and took it are all in north.
    assert shown("North locality") == [
        ("reached", "20", "", ""),
        ("acknowledged", "10", "20", "50"),
        ("took_check", "10", "20", "50"),
        ("understood_first_time", "10", "10", "100"),
    ]
    # A handle is kept as text, not a formula.
    assert shown("'@south-team") == [("reached", "20", "", "")]
    assert table["'@south-team", "took_check"]["suppressed_why"] == (
        "held back until 10 or more in the team have taken the check"
    )
    assert shown("not in a listed team")[0] == ("reached", "10", "", "")
    assert table["all", "acknowledged"]["value"] == "10"
    # Nobody else took the check: understood is held back there, flagged, with no number.
    for team in ("'@south-team", "not in a listed team"):
        row = table[team, "understood_first_time"]
        assert (row["suppressed"], row["value"]) == ("true", "")
    fostering = [r for r in rows if r["team"] == "'@fostering-team"]
    assert len(fostering) == 4
    assert {(r["suppressed"], r["value"], r["suppressed_why"]) for r in fostering} == {
        ("true", "", "fewer than 10 in the team")
    }


async def test_a_team_manager_lists_their_own_teams_unacknowledged_only(slack, bot, driver):
    from handlers.briefings.waiting_blocks import REMIND_NOW_ACTION
    from tests.conftest import SOCIAL_WORKERS, TEAM_MANAGER

    await publish_confirmed(driver, bot, "publish duty-changes")
    assert await bot.outbox.idle(30)
    workers = sorted(slack.workspace.usergroups["S0SWS"].users)
    await acknowledge(driver, bot, slack, workers[:10])
    # teams.yaml names @team-managers as the north team's managers.
    await driver.slash_command(TEAM_MANAGER, "/brief", "waiting duty-changes")
    await bot.work.idle()
    [seen] = [s for s in slack.seen_by(TEAM_MANAGER) if s.kind == "response"]
    listed = {u for u in workers if f"<@{u}>" in str(seen.blocks)}
    assert listed == set(workers[10:20])  # north, as it stood when sent, not yet acknowledged
    assert REMIND_NOW_ACTION not in str(seen.blocks)  # the one reminder is not theirs to send
    await driver.slash_command(SOCIAL_WORKERS[0], "/brief", "waiting duty-changes")
    await bot.work.idle()
    refused = [s for s in slack.seen_by(SOCIAL_WORKERS[0]) if s.kind == "response"][-1]
    assert refused.text.startswith("Only ")
    assert "<@" not in str(refused.blocks or "") + refused.text


async def trends_seen(driver, bot, text):
    await driver.slash_command(ENGAGEMENT_LEAD, "/engage", text)
    await bot.work.idle()
    return [s for s in driver.standin.seen_by(ENGAGEMENT_LEAD) if s.kind == "response"][-1]


async def test_trends_show_one_teams_own_figures_and_refuse_an_unknown_team(slack, bot, driver):
    await publish_confirmed(driver, bot, "publish duty-changes")
    assert await bot.outbox.idle(30)
    workers = sorted(slack.workspace.usergroups["S0SWS"].users)
    await acknowledge(driver, bot, slack, workers[:10])
    north = str((await trends_seen(driver, bot, "trends @north-team")).blocks)
    assert "with North locality's own figures" in north
    assert "_North locality_: reached 20 · Acknowledged: *10* of the 20 reached (50%)" in north
    assert "Understood first time: *10* of the 10 who took it (100%)" in north
    fostering = str((await trends_seen(driver, bot, "trends @fostering-team")).blocks)
    assert "_@fostering-team: fewer than 10, so that no smaller group" in fostering
    unknown = await trends_seen(driver, bot, "trends @nobody-team")
    assert unknown.text.startswith("`@nobody-team` is not one of the service's teams.")
    assert not unknown.blocks
    trail = str((await trends_seen(driver, bot, "audit")).text)
    trail += str((await trends_seen(driver, bot, "audit")).blocks)
    assert f"<@{ENGAGEMENT_LEAD}> viewed understanding over time `@north-team`" in trail
