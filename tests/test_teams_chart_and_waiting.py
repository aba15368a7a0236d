"""Two views of one team, end to end with `TEAMS` set (the workspace and teams of
tests/test_teams.py): the trend's **Chart** under `/engage trends @team` draws that team's own
released figures, titled with its name; and a team manager asking who hasn't acknowledged a
version sent before teams (or their team) were listed is told it cannot be broken down by team,
and whom to ask, never "nobody"."""

from __future__ import annotations

from handlers.checks.chart_actions import SENT
from handlers.checks.trends import CHART_ACTION as TRENDS_CHART
from tests.conftest import ENGAGEMENT_LEAD, SENIOR_MANAGER, TEAM_MANAGER, publish_confirmed
from tests.test_teams import (  # noqa: F401 (fixtures: the teams' workspace, content, config)
    acknowledge,
    config,
    content_dir,
    trends_seen,
    workspace,
)


def responses(slack, user):
    return [s for s in slack.seen_by(user) if s.kind == "response"]


async def chart_of(driver, bot, text):
    """`/engage trends …` as the lead, then its **Chart**: the upload, its DM copy, alt text."""
    slack = driver.standin
    seen = await trends_seen(driver, bot, text)
    await driver.click(ENGAGEMENT_LEAD, seen, TRENDS_CHART)
    await bot.work.idle()
    assert responses(slack, ENGAGEMENT_LEAD)[-1].text == SENT
    upload = [f for f in slack.files.values() if f.completed][-1]
    dm = slack.workspace.im_with(ENGAGEMENT_LEAD).id
    shared = [m for m in slack.messages(dm) if m.files][-1].files[0]
    alt = slack.calls_to("files.getUploadURLExternal")[-1].args.get("alt_txt", "")
    return upload, shared["title"], alt


async def sent_and_ten_acknowledged(slack, bot, driver):
    await publish_confirmed(driver, bot, "publish duty-changes")
    assert await bot.outbox.idle(30)
    workers = sorted(slack.workspace.usergroups["S0SWS"].users)
    await acknowledge(driver, bot, slack, workers[:10])  # the north team's own ten
    return workers


async def test_the_trend_chart_under_a_team_draws_that_teams_figures(slack, bot, driver):
    await sent_and_ten_acknowledged(slack, bot, driver)

    upload, title, alt = await chart_of(driver, bot, "trends @north-team")
    assert upload.filename == "understanding-over-time-north-team.png"
    assert title == "Understanding over time: North locality"
    assert alt.startswith("Understanding over time: North locality: Changes to the duty")
    # The team's own released figures (20 reached in north), not the whole service's (40).
    assert "acknowledged 10 of 20 reached, 50%" in alt
    assert "understood first time 10 of 10 who took it, 100%" in alt
    assert "of 40 reached" not in alt

    # Four people: too small to show, drawn so, never as a number.
    _, title, alt = await chart_of(driver, bot, "trends @fostering-team")
    assert title == "Understanding over time: @fostering-team"
    assert "reached fewer than 10, nothing shown" in alt

    # Without a team, the whole service's figures, as before.
    upload, title, alt = await chart_of(driver, bot, "trends")
    assert (upload.filename, title) == ("understanding-over-time.png", "Understanding over time")
    assert "acknowledged 10 of 40 reached, 25%" in alt


async def test_a_team_chart_leaves_out_what_was_not_broken_down_by_team(slack, bot, driver):
    await sent_and_ten_acknowledged(slack, bot, driver)
    await bot.storage.call(lambda db: db.execute("UPDATE broadcasts SET teams = NULL"))
    await bot.storage.call(lambda db: db.execute("DELETE FROM broadcast_teams"))
    seen = await trends_seen(driver, bot, "trends @north-team")
    await driver.click(ENGAGEMENT_LEAD, seen, TRENDS_CHART)
    await bot.work.idle()
    assert responses(slack, ENGAGEMENT_LEAD)[-1].text == (
        "There is nothing to chart for North locality: the briefings in this trend are not "
        "broken down by team for it (they reached nobody in it, or went before it was listed "
        "as a team)."
    )
    assert not [f for f in slack.files.values() if f.completed]  # no empty chart


async def forget_teams(bot, listed: list[str] | None) -> None:
    """As a version sent before `TEAMS` (NULL: no team's members kept) or before some teams
    were listed (only `listed` kept) stands in the database."""
    import json

    teams = None if listed is None else json.dumps(listed)

    def forget(db):
        db.execute("UPDATE broadcasts SET teams = ?", [teams])
        keep = listed or []
        marks = ",".join("?" * len(keep)) or "''"
        db.execute(f"DELETE FROM broadcast_teams WHERE team NOT IN ({marks})", keep)

    await bot.storage.call(forget)


async def waiting_as_manager(driver, bot):
    await driver.slash_command(TEAM_MANAGER, "/brief", "waiting duty-changes")
    await bot.work.idle()
    return responses(driver.standin, TEAM_MANAGER)[-1]


async def test_a_version_sent_before_teams_says_so_to_a_team_manager(slack, bot, driver):
    workers = await sent_and_ten_acknowledged(slack, bot, driver)
    await forget_teams(bot, None)
    seen = await waiting_as_manager(driver, bot)
    text = seen.text + str(seen.blocks or "")
    assert seen.text == (
        "*Changes to the duty system* was sent before teams were listed, so who it reached was "
        "not kept by team and it cannot be broken down by team: I can't tell which of the "
        "people still to acknowledge it are in your team. To see who hasn't acknowledged it, "
        f"ask its publisher, <@{SENIOR_MANAGER}>, or an engagement lead."
    )
    assert not any(f"<@{u}>" in text for u in workers)
    assert "nobody" not in text.lower()
    assert "everyone" not in text.lower()

    # A lead still lists everyone by name: the version itself is whole.
    await driver.slash_command(ENGAGEMENT_LEAD, "/brief", "waiting duty-changes")
    await bot.work.idle()
    listed = str(responses(slack, ENGAGEMENT_LEAD)[-1].blocks)
    assert all(f"<@{u}>" in listed for u in workers[10:13])


async def test_a_version_sent_before_their_team_was_listed_says_so_too(slack, bot, driver):
    await sent_and_ten_acknowledged(slack, bot, driver)
    await forget_teams(bot, ["@south-team"])
    seen = await waiting_as_manager(driver, bot)
    assert seen.text.startswith(
        "*Changes to the duty system* was sent before your team was listed, so who it reached "
        "was not kept by team"
    )
