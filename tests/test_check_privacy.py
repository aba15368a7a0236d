"""Anonymous checks keep nothing that points back to a person; the Home tab lists open checks;
answers from outside the audience are kept apart."""

from __future__ import annotations

import json
import logging

import pytest

from bot.comprehension import TAKE_ACTION
from slack_standin.harness import posts
from tests.conftest import SOCIAL_WORK_ALL, SOCIAL_WORKERS, publish_confirmed

ANONYMOUS = """---
id: staff-survey
title: What we heard in the staff survey
audience: ["#social-work-all"]
deliver: channel
acknowledge: true
check:
  mode: anonymous
  clarity: true
  questions:
    - ask: What did most staff ask for?
      options: ["Lower caseloads", "Longer hours"]
      answer: "Lower caseloads"
      explain: Lower caseloads came first in the survey.
---
Thank you to everyone who answered the staff survey.
"""


@pytest.fixture
def content_dir(tmp_path):
    folder = tmp_path / "content" / "briefings"
    folder.mkdir(parents=True)
    (folder / "staff-survey.md").write_text(ANONYMOUS, encoding="utf-8")
    return tmp_path / "content"


def answers(choice: str, clarity: str | None = None, comment: str | None = None) -> dict:
    values = {"q0": {"answer": {"type": "radio_buttons", "selected_option": {"value": choice}}}}
    if clarity:
        values["clarity"] = {
            "clarity": {"type": "radio_buttons", "selected_option": {"value": clarity}}
        }
    if comment:
        values["comment"] = {"comment": {"type": "plain_text_input", "value": comment}}
    return values


def occurrences(path, user_id: str) -> int:
    """How often a user id's bytes are in the database file and its WAL, ASCII and UTF-16."""
    total = 0
    for file in (path, path.with_name(path.name + "-wal")):
        if file.exists():
            data = file.read_bytes()
            for encoded in (user_id.encode("ascii"), user_id.encode("utf-16-le")):
                total += data.count(encoded)
    return total


async def take(driver, bot, person, values):
    [post] = posts(driver.standin, SOCIAL_WORK_ALL)
    await driver.click(person, post, TAKE_ACTION)
    await bot.work.idle()
    [view] = driver.standin.views_for(person)
    await driver.submit_view(person, view, values)
    await bot.work.idle()


async def test_an_anonymous_answer_adds_nothing_that_names_the_person(
    slack, bot, driver, config, caplog
):
    caplog.set_level(logging.DEBUG)
    await publish_confirmed(driver, bot, "publish staff-survey")
    assert await bot.outbox.idle(30)
    person = SOCIAL_WORKERS[0]
    await bot.storage.call(lambda db: db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall())
    before = occurrences(config.database_path, person)
    caplog.clear()  # what answering logs, at every level
    await take(driver, bot, person, answers("0", clarity="4", comment="The chart was unclear"))
    after = occurrences(config.database_path, person)
    assert after == before  # answering wrote not one more copy of who they are
    rows = await bot.storage.call(
        lambda db: list(db.query("SELECT taker, submitted_at, clarity FROM check_submissions"))
    )
    assert rows == [{"taker": None, "submitted_at": None, "clarity": 4}]
    assert person not in caplog.text
    assert "The chart was unclear" not in caplog.text
    # One submission each is still enforced.
    await driver.close_view(person, slack.views_for(person)[0])
    [post] = posts(slack, SOCIAL_WORK_ALL)
    await driver.click(person, post, TAKE_ACTION)
    await bot.work.idle()
    assert "taken this check already" in str(slack.views_for(person)[0]["blocks"])
    assert await bot.storage.call(lambda db: db["check_submissions"].count) == 1


async def test_closing_an_anonymous_check_deletes_the_key_that_told_people_apart(
    slack, bot, driver
):
    await publish_confirmed(driver, bot, "publish staff-survey")
    assert await bot.outbox.idle(30)
    await take(driver, bot, SOCIAL_WORKERS[1], answers("0"))
    check = await bot.storage.checks.latest("staff-survey")
    assert check is not None
    assert await bot.storage.checks.close(check, bot.deps.clock())
    key = await bot.storage.call(
        lambda db: db.execute("SELECT taker_key FROM checks").fetchone()[0]
    )
    assert key is None
    assert check is not None


async def test_home_lists_the_open_checks_a_person_has_yet_to_take(slack, bot, driver):
    await publish_confirmed(driver, bot, "publish staff-survey")
    assert await bot.outbox.idle(30)
    person = SOCIAL_WORKERS[2]
    await driver.app_home_opened(person)
    await bot.work.idle()
    home = slack.home_view(person)
    assert "1 quick check for you" in str(home["blocks"])
    await driver.click(person, home, TAKE_ACTION)  # taken from Home
    await bot.work.idle()
    [view] = slack.views_for(person)
    await driver.submit_view(person, view, answers("0"))
    await driver.app_home_opened(person)
    await bot.work.idle()
    assert "quick check" not in str(slack.home_view(person)["blocks"])


async def test_an_answer_from_outside_the_audience_is_kept_apart_and_never_counted(
    slack, bot, driver
):
    await publish_confirmed(driver, bot, "publish staff-survey")
    assert await bot.outbox.idle(30)
    outsider = SOCIAL_WORKERS[3]
    await bot.storage.call(  # as if they were not in the channel when it was posted
        lambda db: db.execute("DELETE FROM recipients WHERE user_id = ?", [outsider])
    )
    await take(driver, bot, outsider, answers("0"))
    results = await bot.storage.checks.results_for("staff-survey", 1)
    assert (results.took, results.outside) == (0, 1)


async def test_an_anonymous_retake_is_allowed_by_a_pass_only_slack_holds(slack, bot, driver):
    """Nothing stored says who got it wrong: the retake's pass lives in the feedback modal,
    is good once, and cannot be made up."""
    from bot.comprehension import RETAKE_ACTION
    from tests.test_check_edges import raw_submit

    await publish_confirmed(driver, bot, "publish staff-survey")
    assert await bot.outbox.idle(30)
    wrong, right = SOCIAL_WORKERS[0], SOCIAL_WORKERS[1]
    await take(driver, bot, right, answers("0"))
    assert "Try once more" not in str(slack.views_for(right)[0]["blocks"])
    await take(driver, bot, wrong, answers("1"))
    [feedback] = slack.views_for(wrong)
    assert "Try once more" in str(feedback["blocks"])
    # Both takers' stored rows look alike: that they took it, nothing of how it went.
    taken = await bot.storage.call(
        lambda db: [tuple(r) for r in db.execute("SELECT attempts, first_correct FROM check_taken")]
    )
    assert taken == [(1, None), (1, None)]
    await driver.click(wrong, feedback, RETAKE_ACTION)
    await bot.work.idle()
    [retake] = slack.views_for(wrong)
    sent = json.loads(json.dumps(retake))
    await driver.submit_view(wrong, retake, answers("0"))
    await bot.work.idle()
    assert "You got it right" in str(slack.views_for(wrong)[0]["blocks"])
    # The same pass again (a replay), and a made-up one: nothing more is counted.
    assert (await raw_submit(driver, slack, wrong, sent, answers("0"))).status == 200
    forged = json.dumps({"b": "staff-survey", "v": 1, "a": 2, "t": "0" * 24 + "." + "0" * 32})
    assert (await raw_submit(driver, slack, right, sent, answers("0"), forged)).status == 200
    results = await bot.storage.checks.results_for("staff-survey", 1)
    assert results is not None
    assert (results.took, results.first_time, results.retook, results.after_retake) == (2, 1, 1, 1)
    assert await bot.storage.call(lambda db: db["check_taken"].count) == 2
