"""Writing a briefing in Slack: the composer, its field errors, the true preview, Send, drafts."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from bot.briefing_message import ACK_ACTION
from bot.comprehension import TAKE_ACTION
from handlers.briefings.blocks import CONFIRM_ACTION
from handlers.briefings.compose import EDIT_ACTION, OPEN_ACTION, START_ACTION
from slack_standin.harness import posts
from tests.conftest import ENGAGEMENT_LEAD, SENIOR_MANAGER, SOCIAL_WORK_ALL, SOCIAL_WORKERS

LONDON = ZoneInfo("Europe/London")
BODY = (
    "From Monday, each team covers duty one day a week. Your team manager has the rota. "
    "Tell them by Friday if you cannot do your day."
)


def text_input(value):
    return {"value": {"type": "plain_text_input", "value": value}}


def form(
    *,
    title="The new duty rota starts on Monday",
    body=BODY,
    channels=(SOCIAL_WORK_ALL,),
    others="",
    deliver="channel",
    acknowledge=True,
    date=None,
    at=None,
    question=None,
):
    values = {
        "title": {"title": {"type": "plain_text_input", "value": title}},
        "body": {"body": {"type": "plain_text_input", "value": body}},
        "channels": {
            "channels": {
                "type": "multi_conversations_select",
                "selected_conversations": list(channels),
            }
        },
        "others": {"others": {"type": "plain_text_input", "value": others}},
        "deliver": {"deliver": {"type": "radio_buttons", "selected_option": {"value": deliver}}},
        "options": {
            "options": {
                "type": "checkboxes",
                "selected_options": [{"value": "acknowledge"}] if acknowledge else [],
            }
        },
    }
    if date:
        values["date"] = {"date": {"type": "datepicker", "selected_date": date}}
    if at:
        values["time"] = {"time": {"type": "timepicker", "selected_time": at}}
    if question:
        ask, options, answer, explain = question
        values["q1_ask"] = text_input(ask)
        values["q1_options"] = text_input("\n".join(options))
        values["q1_answer"] = text_input(answer)
        values["q1_explain"] = text_input(explain)
    return values


async def open_composer(driver, bot, user=SENIOR_MANAGER):
    await driver.slash_command(user, "/brief", "")
    await bot.work.idle()
    [view] = driver.standin.views_for(user)
    assert view["callback_id"] == "brief_compose"
    return view


async def preview(driver, bot, values, user=SENIOR_MANAGER):
    view = await open_composer(driver, bot, user)
    response = await driver.submit_view(user, view, values)
    await bot.work.idle()
    return response, driver.standin.views_for(user)[-1]


async def drafts(bot):
    return await bot.storage.call(lambda db: db["composed_briefings"].count)


async def test_a_briefing_written_in_slack_reaches_its_audience_once_and_is_acknowledged(
    slack, bot, driver
):
    question = (
        "Who has the rota?",
        ["Your team manager", "The duty desk"],
        "Your team manager",
        "Your team manager has the rota.",
    )
    _, shown = await preview(driver, bot, form(question=question))
    assert shown["callback_id"] == "brief_compose_preview"
    assert await drafts(bot) == 1
    preview_blocks = json.loads(json.dumps(shown["blocks"]))  # the view is replaced on Send
    await driver.click(SENIOR_MANAGER, shown, CONFIRM_ACTION)
    await bot.work.idle()
    assert await bot.outbox.idle(30)
    [post] = posts(slack, SOCIAL_WORK_ALL)
    # The preview's blocks are the delivered copy's, block for block (block ids aside, which
    # Slack makes up where none is given).
    start = 1  # after "As staff will see it:"
    delivered = post.blocks
    previewed = preview_blocks[start : start + len(delivered)]
    strip = lambda blocks: [{k: v for k, v in b.items() if k != "block_id"} for b in blocks]  # noqa: E731
    assert strip(previewed) == strip(delivered)
    assert "The new duty rota starts on Monday" in json.dumps(delivered)
    # One copy; acknowledging and the check work as for a content briefing.
    assert len(posts(slack, SOCIAL_WORK_ALL)) == 1
    worker = SOCIAL_WORKERS[0]
    await driver.click(worker, post, ACK_ACTION)
    await bot.work.idle()
    acks = await bot.storage.call(
        lambda db: db.execute("SELECT briefing_id, version FROM acknowledgements").fetchall()
    )
    assert [tuple(a) for a in acks] == [("the-new-duty-rota-starts-on-monday", 1)]
    await driver.click(worker, post, TAKE_ACTION)
    await bot.work.idle()
    [check] = slack.views_for(worker)
    assert "Who has the rota?" in json.dumps(check["blocks"])
    # What Send did replaced the preview.
    assert "is on its way" in json.dumps(slack.views_for(SENIOR_MANAGER)[-1]["blocks"])


async def test_every_bad_field_is_a_field_error_and_nothing_is_saved(slack, bot, driver):
    past = (datetime.now(LONDON) - timedelta(days=1)).date().isoformat()
    response, _ = await preview(
        driver,
        bot,
        form(
            title="   ",
            body="  ",
            channels=(),
            date=past,
            at="09:00",
            question=("Who has it?", ["A", "B"], "C", ""),
        ),
    )
    errors = response.json["errors"]
    assert errors["title"].startswith("Give it a title")
    assert errors["body"] == "Write the message."
    assert errors["channels"].startswith("Choose who it is for")
    assert "has passed" in errors["date"]
    assert errors["q1_answer"].startswith("The right choice must be one of the choices")
    assert await drafts(bot) == 0


async def test_unknown_audience_entries_and_half_a_schedule_are_explained(slack, bot, driver):
    response, _ = await preview(driver, bot, form(others="nobody-here", date="2099-01-01"))
    errors = response.json["errors"]
    assert errors["others"].startswith("There is no named audience 'nobody-here'")
    assert errors["time"] == "Give both a date and a time, or neither."
    response, _ = await preview(driver, bot, form(others="Team Managers"))
    assert "others" in response.json["errors"]


async def test_only_senior_managers_compose(slack, bot, driver):
    worker = SOCIAL_WORKERS[0]
    await driver.slash_command(worker, "/brief", "")
    await bot.work.idle()
    assert slack.views_for(worker) == []
    await driver.app_home_opened(worker)
    await bot.work.idle()
    assert OPEN_ACTION not in json.dumps(slack.home_view(worker))
    await driver.app_home_opened(SENIOR_MANAGER)
    await bot.work.idle()
    assert OPEN_ACTION in json.dumps(slack.home_view(SENIOR_MANAGER))


async def test_a_scheduled_briefing_waits_for_its_time(slack, bot, driver):
    day = (datetime.now(LONDON) + timedelta(days=2)).date().isoformat()
    _, shown = await preview(driver, bot, form(date=day, at="09:00"))
    assert "Schedule" in json.dumps(shown["blocks"])
    await driver.click(SENIOR_MANAGER, shown, CONFIRM_ACTION)
    await bot.work.idle()
    assert posts(slack, SOCIAL_WORK_ALL) == []
    rows = await bot.storage.call(
        lambda db: db.execute("SELECT briefing_id FROM schedules").fetchall()
    )
    assert [r[0] for r in rows] == ["the-new-duty-rota-starts-on-monday"]


async def test_a_draft_reopens_and_a_change_after_sending_is_the_next_version(slack, bot, driver):
    _, shown = await preview(driver, bot, form())
    await driver.click(SENIOR_MANAGER, shown, CONFIRM_ACTION)
    await bot.work.idle()
    assert await bot.outbox.idle(30)
    view = await open_composer(driver, bot)
    await driver.click(
        SENIOR_MANAGER, view, START_ACTION, value="draft:the-new-duty-rota-starts-on-monday"
    )
    await bot.work.idle()
    [view] = slack.views_for(SENIOR_MANAGER)[-1:]
    assert "The new duty rota starts on Monday" in json.dumps(view["blocks"])
    await driver.submit_view(SENIOR_MANAGER, view, form(body=BODY + " Thank you."))
    await bot.work.idle()
    draft = await bot.storage.drafts.get("the-new-duty-rota-starts-on-monday")
    assert draft is not None
    assert draft.version == 2
    # Edit from the preview goes back to the saved fields.
    shown = slack.views_for(SENIOR_MANAGER)[-1]
    await driver.click(SENIOR_MANAGER, shown, EDIT_ACTION)
    await bot.work.idle()
    assert "Thank you." in json.dumps(slack.views_for(SENIOR_MANAGER)[-1]["blocks"])


async def test_a_draft_is_refused_to_someone_who_is_not_a_senior_manager(slack, bot, driver):
    await preview(driver, bot, form())
    lead = ENGAGEMENT_LEAD  # not a senior manager, not its author
    view = await open_composer(driver, bot)  # the manager's composer, driven as the lead
    del view
    payload = {
        "type": "block_actions",
        "user": {"id": lead},
        "team": {"id": slack.ws.team_id},
        "api_app_id": slack.ws.app_id,
        "trigger_id": slack.issue_trigger(lead),
        "view": {"id": "V-forged", "type": "modal"},
        "actions": [
            {
                "action_id": START_ACTION,
                "type": "static_select",
                "selected_option": {"value": "draft:the-new-duty-rota-starts-on-monday"},
            }
        ],
    }
    response = await driver.raw_post(
        urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
    )
    await bot.work.idle()
    assert response.status == 200
    updates = [c for c in slack.calls_to("views.update") if c.args.get("view_id") == "V-forged"]
    assert updates
    assert "Only senior managers" in json.dumps(updates[-1].args)
    assert "Your team manager has the rota" not in json.dumps(updates[-1].args)


async def test_brief_alone_is_help_for_anyone_who_cannot_compose(slack, bot, driver):
    worker = SOCIAL_WORKERS[1]
    await driver.slash_command(worker, "/brief", "")
    await bot.work.idle()
    [reply] = [s for s in slack.seen_by(worker) if s.kind == "response"]
    assert reply.text.startswith("*Briefings*")
    assert "`/brief` — write a briefing in Slack" in reply.text


def test_a_body_over_slacks_limit_is_a_field_error_even_if_the_client_let_it_through():
    from handlers.briefings.compose import read_compose

    values = form(body="word " * 700)  # 3,500 characters: Slack's input stops at 3,000
    _, errors = read_compose(values, tz=LONDON, now=datetime.now(LONDON), named={})
    assert errors["body"] == "That's 3,499 characters; Slack takes 3,000. Shorten it."


async def test_user_groups_and_named_audiences_are_picked_from_a_list(slack, bot, driver):
    view = await open_composer(driver, bot)
    groups = next(b for b in view["blocks"] if b.get("block_id") == "groups")
    values = [o["value"] for o in groups["element"]["options"]]
    assert "@team-managers" in values
    assert "all-social-workers" in values  # from audiences.yaml
    picked = form(channels=())
    picked["groups"] = {
        "groups": {"type": "multi_static_select", "selected_options": [{"value": "@team-managers"}]}
    }
    await driver.submit_view(SENIOR_MANAGER, view, picked)
    await bot.work.idle()
    shown = slack.views_for(SENIOR_MANAGER)[-1]
    assert "@team-managers — a direct message each to" in json.dumps(
        shown["blocks"], ensure_ascii=False
    )


def test_a_time_the_clocks_skip_is_refused_not_moved():
    from handlers.briefings.compose import read_compose

    values = form(date="2027-03-28", at="01:30")  # the clocks go forward at 01:00
    _, errors = read_compose(values, tz=LONDON, now=datetime(2026, 12, 1, tzinfo=LONDON), named={})
    assert "time" in errors
