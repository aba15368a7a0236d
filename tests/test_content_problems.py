"""A broken content file takes only itself out (issue 18, item 1), end to end against the
stand-in: the others publish, schedule and go out as normal; its publisher is told plainly what
to fix, without server paths; a misspelt id is offered the close ones; `/brief list` and the
leads' Home say which files have problems."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime

import pytest

from handlers.briefings import schedule
from handlers.briefings.circulars import JOB as CIRCULARS_JOB
from handlers.briefings.problems_home import HOME_SECTION
from slack_standin.harness import posts
from tests.clocks import Clock
from tests.conftest import (
    ENGAGEMENT_LEAD,
    REPO,
    SENIOR_MANAGER,
    SOCIAL_WORK_ALL,
    SOCIAL_WORKERS,
    publish_confirmed,
)

# Broken in one field: deliver.
DUTY_CHANGES = """---
id: duty-changes
title: Changes to the duty rota
audience: ["#social-work-all"]
deliver: emial
---
From Monday the duty rota changes.
"""
UNREADABLE = "---\nid: rota\ntitle: [unclosed\n---\nBody\n"
CIRCULAR = """---
id: weekly-round-up
title: The week in children's services
audience: ["#social-work-all"]
schedule: every Friday 09:00
publisher: U0SM01
---
Here is what changed this week, in one place.
"""
BROKEN_CIRCULAR = (
    CIRCULAR.replace("weekly-round-up", "monthly-news")
    .replace("every Friday", "every Funday")
    .replace("The week in children's services", "Monthly news")
)
SCHEDULED = "getting-to-good-seminars"  # publish_at: 2026-12-01 09:00 (London), deliver: both
BEFORE = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
AFTER = datetime(2026, 12, 1, 9, 1, tzinfo=UTC)
FRIDAY = datetime(2026, 12, 4, 9, 1, tzinfo=UTC)
TEAM_MANAGERS = "C0TMS"
# Anything that looks like a server path: /tmp/…, /srv/…, /home/…
SERVER_PATH = re.compile(r"(?<![\w<])/(?:tmp|srv|home|var|work|opt|usr|private)/")


@pytest.fixture
def clock():
    return Clock(BEFORE)


@pytest.fixture
def content_dir(tmp_path):
    folder = tmp_path / "content"
    shutil.copytree(REPO / "content", folder)
    (folder / "briefings" / "duty-changes.md").write_text(DUTY_CHANGES, encoding="utf-8")
    (folder / "briefings" / "rota.md").write_text(UNREADABLE, encoding="utf-8")
    (folder / "circulars").mkdir()
    (folder / "circulars" / "weekly-round-up.md").write_text(CIRCULAR, encoding="utf-8")
    (folder / "circulars" / "monthly-news.md").write_text(BROKEN_CIRCULAR, encoding="utf-8")
    return folder


def replies(slack, user=SENIOR_MANAGER):
    return [s.text for s in slack.seen_by(user) if s.kind in ("response", "ephemeral")]


async def brief(driver, bot, text, user=SENIOR_MANAGER):
    await publish_confirmed(driver, bot, text, user=user)
    assert await bot.outbox.idle(30)
    return replies(driver.standin, user)[-1]


def no_server_paths(text, content_dir):
    assert str(content_dir) not in text
    assert not SERVER_PATH.search(text), text
    assert "python -m" not in text


async def test_a_valid_briefing_publishes_with_a_broken_file_beside_it(slack, bot, driver):
    reply = await brief(driver, bot, "publish recruitment-funding now")
    assert "is on its way: a post in 1 channel" in reply
    assert len([m for m in posts(slack, SOCIAL_WORK_ALL) if m.blocks]) == 1


async def test_publishing_the_broken_one_says_plainly_what_to_fix(slack, bot, driver, content_dir):
    reply = await brief(driver, bot, "publish duty-changes")
    assert reply == (
        "*Changes to the duty rota* can't be published until its file is fixed, so nothing was "
        "sent.\n"
        "`duty-changes.md` has a problem:\n"
        "• Line 5: deliver is 'emial': use channel (post in the channels), dm (message each "
        "person) or both\n"
        "Whoever keeps the briefing files can put this right; with the files to hand, "
        "`content check` shows every problem and its line. Other briefings are not affected."
    )
    no_server_paths(reply, content_dir)
    # A file whose settings cannot be read at all is found by its name, and said plainly.
    reply = await brief(driver, bot, "publish rota")
    assert reply.startswith("`rota` can't be published until its file is fixed")
    assert "• Line 3: the settings at the top of the file are not valid YAML" in reply
    no_server_paths(reply, content_dir)
    assert slack.calls_to("chat.postMessage") == []


async def test_a_misspelt_id_is_offered_the_close_ones_and_the_list(slack, bot, driver):
    reply = await brief(driver, bot, "publish recruitment-fundng")
    assert reply == (
        "There's no briefing called `recruitment-fundng`. Did you mean `recruitment-funding`? "
        "`/brief list` shows the briefings ready to publish."
    )
    # A broken one's id is offered too: publishing it then says what to fix.
    assert "Did you mean `duty-changes`?" in await brief(driver, bot, "publish duty-chnages")
    reply = await brief(driver, bot, "publish zzzz")
    assert reply == (
        "There's no briefing called `zzzz`. `/brief list` shows the briefings ready to publish."
    )
    assert slack.calls_to("chat.postMessage") == []


async def test_status_of_the_broken_one_says_what_to_fix(slack, bot, driver, content_dir):
    reply = await brief(driver, bot, "status duty-changes", user=ENGAGEMENT_LEAD)
    assert reply.startswith(
        "*Changes to the duty rota* has not been published: its file needs fixing first."
    )
    assert "• Line 5: deliver is 'emial'" in reply
    no_server_paths(reply, content_dir)


async def test_the_list_shows_the_ready_ones_and_how_many_files_have_problems(
    slack, bot, driver, content_dir
):
    for user in (SENIOR_MANAGER, ENGAGEMENT_LEAD):
        reply = await brief(driver, bot, "list", user=user)
        assert reply.startswith("*Briefings ready to publish*\n")
        assert "• `recruitment-funding` — What the extra recruitment money" in reply
        assert "• `duty-changes`" not in reply
        assert reply.endswith(
            "_2 files have problems, so they are left out until fixed: `duty-changes.md`, "
            "`rota.md`. `/brief publish &lt;id&gt;` on one says what to fix._"
        )
        no_server_paths(reply, content_dir)


async def test_leads_see_the_content_with_problems_on_home_and_nobody_else_does(
    slack, bot, driver, content_dir
):
    for user in (ENGAGEMENT_LEAD, SENIOR_MANAGER, SOCIAL_WORKERS[0]):
        await driver.app_home_opened(user)
    await bot.work.idle()
    home = slack.home_view(ENGAGEMENT_LEAD)
    [note] = [b for b in home["blocks"] if b.get("block_id") == HOME_SECTION]
    lines = note["text"]["text"].split("\n")
    assert lines[0].startswith("*Content with problems*")
    assert lines[1:] == [
        "• `duty-changes.md` (briefing): Line 5: deliver is 'emial': use channel (post in the "
        "channels), dm (message each person) or both",
        "• `rota.md` (briefing): Line 3: the settings at the top of the file are not valid "
        "YAML (expected ',' or ']', but got '<stream end>'): check the indentation, and put "
        "quotes around any value that starts with #, @ or a quote mark".replace(
            "<", "&lt;"
        ).replace(">", "&gt;"),
        "• `monthly-news.md` (circular): Line 5: schedule: write it like 'every Friday 09:00', "
        "'every weekday 08:30' or 'first Tuesday 14:00' (got 'every Funday 09:00')",
    ]
    no_server_paths(json.dumps(home), content_dir)
    for user in (SENIOR_MANAGER, SOCIAL_WORKERS[0]):
        assert "Content with problems" not in json.dumps(slack.home_view(user))


async def test_the_composer_still_offers_the_ready_briefings(slack, bot, driver):
    await driver.slash_command(SENIOR_MANAGER, "/brief", "")
    await bot.work.idle()
    [view] = slack.views_for(SENIOR_MANAGER)
    [start] = [b for b in view["blocks"] if b.get("block_id") == "start"]
    values = {o["value"] for group in start["accessory"]["option_groups"] for o in group["options"]}
    assert "content:recruitment-funding" in values
    assert "content:duty-changes" not in values


async def test_a_scheduled_briefing_goes_out_with_a_broken_file_beside_it(
    slack, bot, driver, clock
):
    reply = await brief(driver, bot, f"publish {SCHEDULED}")
    assert "is scheduled for 1 Dec 2026, 09:00" in reply
    clock.now = AFTER
    await schedule.send_due(bot.deps)
    assert await bot.outbox.idle(30)
    assert len([m for m in posts(slack, TEAM_MANAGERS) if m.blocks]) == 1
    assert [m for m in slack.messages(SENIOR_MANAGER) if "is on its way" in m.text]


async def test_a_scheduled_briefing_whose_own_file_breaks_tells_its_publisher_plainly(
    slack, bot, driver, clock, content_dir
):
    await brief(driver, bot, f"publish {SCHEDULED}")
    path = content_dir / "briefings" / f"{SCHEDULED}.md"
    path.write_text(path.read_text(encoding="utf-8").replace("deliver: both", "deliver: bth"))
    clock.now = AFTER
    await schedule.send_due(bot.deps)
    assert await bot.outbox.idle(30)
    assert posts(slack, TEAM_MANAGERS) == []
    [told] = [m.text for m in slack.messages(SENIOR_MANAGER) if "was due to go out" in m.text]
    assert "was due to go out, but its file now has a problem, so nothing was sent." in told
    assert "deliver is 'bth'" in told
    assert told.endswith(f"Once it is fixed, `/brief publish {SCHEDULED} now` sends it.")
    no_server_paths(told, content_dir)


async def test_the_circular_goes_out_with_a_broken_one_beside_it(
    slack, bot, driver, clock, content_dir
):
    clock.now = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    await brief(driver, bot, "publish recruitment-funding now")
    clock.now = FRIDAY
    await bot.scheduler.run_now(CIRCULARS_JOB)
    assert await bot.outbox.idle(30)
    issues = [
        m for m in posts(slack, SOCIAL_WORK_ALL) if "The week in children" in json.dumps(m.blocks)
    ]
    assert len(issues) == 1
    # Its own preview says plainly what to fix.
    reply = await brief(driver, bot, "circular preview monthly-news")
    assert reply.startswith(
        "The circular *Monthly news* can't go out until its file is fixed: nothing will be "
        "sent meanwhile.\n`monthly-news.md` has a problem:\n• Line 5: schedule: "
    )
    no_server_paths(reply, content_dir)
