"""Comprehension checks, taken as staff take them: the button, the modal, instant feedback.

recruitment-funding (#social-work-all) carries a three-question check.
"""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import quote_plus

from bot.briefing_message import ACK_ACTION
from bot.comprehension import RETAKE_ACTION, SUBMIT_CALLBACK, TAKE_ACTION
from slack_standin.harness import posts
from tests.conftest import SOCIAL_WORK_ALL, SOCIAL_WORKERS, publish_confirmed

BRIEFING = "recruitment-funding"
RIGHT = ("1", "1", "1")  # the options' indexes of the right answers, question by question


async def published(driver, bot):
    await publish_confirmed(driver, bot, f"publish {BRIEFING}")
    assert await bot.outbox.idle(30)
    [post] = posts(driver.standin, SOCIAL_WORK_ALL)
    return post


def answers(*picked: str) -> dict:
    return {
        f"q{n}": {"answer": {"type": "radio_buttons", "selected_option": {"value": value}}}
        for n, value in enumerate(picked)
    }


async def open_check(driver, bot, worker, post):
    await driver.click(worker, post, TAKE_ACTION)
    await bot.work.idle()
    [view] = driver.standin.views_for(worker)
    return view


def texts(view) -> str:
    return "\n".join(
        b["text"]["text"] for b in view["blocks"] if b.get("type") == "section" and b.get("text")
    )


async def stored(bot):
    return await bot.storage.call(
        lambda db: list(
            db.query("SELECT attempt, taker, correct, all_correct FROM check_submissions")
        )
    )


async def test_the_briefing_carries_the_check_and_its_questions_open_in_a_modal(slack, bot, driver):
    post = await published(driver, bot)
    buttons = [e for b in post.blocks if b["type"] == "actions" for e in b["elements"]]
    assert [b["text"]["text"] for b in buttons] == ["Acknowledge", "Take the 30-second check"]
    view = await open_check(driver, bot, SOCIAL_WORKERS[0], post)
    assert view["callback_id"] == SUBMIT_CALLBACK
    questions = [b for b in view["blocks"] if b["type"] == "input"]
    assert [q["element"]["type"] for q in questions] == ["radio_buttons"] * 3
    assert questions[0]["label"]["text"] == "Which money is a one-off, for 2017 to 2019 only?"


async def test_answers_are_marked_at_once_and_only_wrong_ones_are_explained(slack, bot, driver):
    post = await published(driver, bot)
    worker = SOCIAL_WORKERS[0]
    view = await open_check(driver, bot, worker, post)
    response = await driver.submit_view(worker, view, answers("0", "1", "1"))  # first is wrong
    assert response.status == 200
    [feedback] = slack.views_for(worker)
    text = texts(feedback)
    assert "*You got 2 of 3 right.* Here's what the briefing says:" in text
    assert "The answer is *The £1.5m*." in text  # the wrong one, explained
    assert text.count("The answer is") == 1  # the right ones are not
    assert await stored(bot) == [{"attempt": 1, "taker": worker, "correct": 2, "all_correct": 0}]
    retake = [e for b in feedback["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [e["action_id"] for e in retake] == [RETAKE_ACTION]


async def test_one_retake_counts_apart_from_the_first_attempt(slack, bot, driver):
    post = await published(driver, bot)
    worker = SOCIAL_WORKERS[1]
    view = await open_check(driver, bot, worker, post)
    await driver.submit_view(worker, view, answers("0", "0", "0"))
    [feedback] = slack.views_for(worker)
    await driver.click(worker, feedback, RETAKE_ACTION)
    await bot.work.idle()
    [again] = slack.views_for(worker)
    assert "One more go" in texts(again)
    await driver.submit_view(worker, again, answers(*RIGHT))
    [last] = slack.views_for(worker)
    assert "*You got all 3 right.*" in texts(last)  # three questions: "all 3"
    assert not [b for b in last["blocks"] if b["type"] == "actions"]  # no third go
    assert [(r["attempt"], r["all_correct"]) for r in await stored(bot)] == [(1, 0), (2, 1)]
    results = await bot.storage.checks.results_for(BRIEFING, 1)
    assert (results.took, results.first_time, results.after_retake) == (1, 0, 1)


async def test_a_double_submit_and_slacks_retry_count_once(slack, bot, driver):
    post = await published(driver, bot)
    worker = SOCIAL_WORKERS[2]
    view = await open_check(driver, bot, worker, post)
    payload = {
        "type": "view_submission",
        "team": {"id": slack.workspace.team_id},
        "user": {"id": worker},
        "api_app_id": slack.workspace.app_id,
        "view": {**view, "state": {"values": answers(*RIGHT)}},
    }
    body = "payload=" + quote_plus(json.dumps(payload))
    for _ in range(3):  # the person's double click, then Slack's retry
        response = await driver.raw_post(body, "application/x-www-form-urlencoded")
        assert response.status == 200
    await bot.work.idle()
    assert await stored(bot) == [{"attempt": 1, "taker": worker, "correct": 3, "all_correct": 1}]
    assert "taken this check already" in json.dumps(response.json)


async def test_every_question_must_be_answered_or_the_modal_says_which(slack, bot, driver):
    post = await published(driver, bot)
    worker = SOCIAL_WORKERS[3]
    view = await open_check(driver, bot, worker, post)
    payload = {
        "type": "view_submission",
        "team": {"id": slack.workspace.team_id},
        "user": {"id": worker},
        "view": {**view, "state": {"values": answers("1", "1")}},  # the third left out
    }
    response = await driver.raw_post(
        "payload=" + quote_plus(json.dumps(payload)), "application/x-www-form-urlencoded"
    )
    assert response.json == {
        "response_action": "errors",
        "errors": {"q2": "Choose an answer to this one."},
    }
    assert await stored(bot) == []


async def test_tampered_answers_or_metadata_store_nothing(slack, bot, driver):
    post = await published(driver, bot)
    worker = SOCIAL_WORKERS[4]
    view = await open_check(driver, bot, worker, post)
    for tampered in (
        {**view, "state": {"values": answers("1", "1", "9")}},  # no such option
        {**view, "private_metadata": '{"b": "recruitment-funding", "v": 7, "a": 1}'},
        {**view, "private_metadata": "not json"},
        {**view, "private_metadata": '{"b": "recruitment-funding", "v": 1, "a": 2}'},  # no first
    ):
        if tampered["private_metadata"] != view["private_metadata"]:
            tampered["state"] = {"values": answers(*RIGHT)}
        payload = {"type": "view_submission", "user": {"id": worker}, "view": tampered}
        response = await driver.raw_post(
            "payload=" + quote_plus(json.dumps(payload)), "application/x-www-form-urlencoded"
        )
        assert response.status == 200
        assert response.json["response_action"] == "update"
        assert "could not be recorded" in json.dumps(response.json) or "can't find" in (
            json.dumps(response.json)
        )
    assert await stored(bot) == []


async def test_a_closed_check_refuses_answers_politely(slack, bot, driver):
    post = await published(driver, bot)
    worker = SOCIAL_WORKERS[5]
    view = await open_check(driver, bot, worker, post)
    later = bot.deps.clock() + timedelta(days=8)  # closes_after: 7d
    bot.deps.clock = lambda: later
    await bot.storage.checks.close_due(later)
    await driver.submit_view(worker, view, answers(*RIGHT))
    [notice] = slack.views_for(worker)
    assert "This check has closed" in texts(notice)
    assert await stored(bot) == []
    await driver.close_view(worker, notice)
    await driver.click(worker, post, TAKE_ACTION)  # a late click
    await bot.work.idle()
    [late] = slack.views_for(worker)
    assert "This check has closed" in texts(late)


async def test_taking_the_check_counts_as_having_read_the_briefing(slack, bot, driver):
    """Someone who took the check read the briefing: they are acknowledged (and so never
    reminded to acknowledge), without pressing the button as well; one who did neither is not."""
    post = await published(driver, bot)
    taker, other = SOCIAL_WORKERS[0], SOCIAL_WORKERS[1]
    view = await open_check(driver, bot, taker, post)
    await driver.submit_view(taker, view, answers("0", "1", "1"))  # one wrong: still read it
    await bot.work.idle()
    acknowledged = await bot.storage.call(
        lambda db: [r[0] for r in db.execute("SELECT user_id FROM acknowledgements")]
    )
    assert acknowledged == [taker]
    assert other not in acknowledged
    await driver.click(taker, post, ACK_ACTION)
    await bot.work.idle()
    assert "You already acknowledged" in str(slack.seen_by(taker)[-1])
