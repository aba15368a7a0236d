"""Comprehension checks at their edges: scenarios an independent review found (each once a bug)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

import pytest

from bot.comprehension import TAKE_ACTION, mark
from bot.storage.checks import Check
from handlers.checks.blocks import (
    build_feedback_view,
    build_follow_up_message,
    build_follow_up_view,
)
from handlers.checks.results import build_results
from slack_standin.harness import posts
from tests.conftest import SOCIAL_WORK_ALL, SOCIAL_WORKERS, publish_confirmed
from tests.released import check_figures

LONDON = ZoneInfo("Europe/London")


def a_check(**kw) -> Check:
    questions = kw.pop(
        "questions",
        [{"ask": "Q?", "options": ["Yes", "No"], "answer": "Yes", "explain": "Because."}],
    )
    return Check(
        "b",
        1,
        "Title",
        questions,
        kw.get("clarity", True),
        kw.get("mode", "anonymous"),
        "2030-01-01T00:00:00+00:00",
        None,
    )


# 1. /engage results: the comments section exceeds Block Kit's 3,000-character section text,
#    so to_dict() raises and the lead gets nothing (10 comments x 500 characters allowed).
def test_results_with_long_comments_still_render():
    figures = check_figures(
        30, took=12, first_time=6, q__0__0=6, q__0__1=6, comments=["x" * 500] * 10
    )
    for block in build_results(a_check(), figures, LONDON):
        block.to_dict()  # within Slack's 3,000 characters a section


# 2. Feedback: `explain` has no length limit in content check, so a long explanation makes the
#    feedback view invalid *after* the answers were committed: the person never sees feedback.
def test_feedback_with_a_long_explanation_is_valid_block_kit():
    check = a_check(
        questions=[{"ask": "Q?", "options": ["Yes", "No"], "answer": "Yes", "explain": "e" * 3000}]
    )
    build_feedback_view(check, 1, mark(check.questions, (1,))).to_dict()


# 3. Small-number disclosure: with 30 reached but ONE anonymous taker, the per-question figures,
#    clarity average and comment are that one person's answers.
def test_an_anonymous_check_taken_by_one_person_shows_no_per_question_figures():
    figures = check_figures(30, took=1, q__0__1=1, rated=1, clarity__1=1)
    text = json.dumps([b.to_dict() for b in build_results(a_check(), figures, LONDON)])
    assert "1 of 1" not in text
    assert "from 1 ratings" not in text
    assert "my manager" not in text


ANONYMOUS = """---
id: staff-survey
title: What we heard in the staff survey
audience: ["#social-work-all", "{user}"]
deliver: channel
acknowledge: true
check:
  mode: anonymous
  clarity: {clarity}
  questions:
    - ask: What did most staff ask for?
      options: ["Lower caseloads", "Longer hours"]
      answer: "Lower caseloads"
      explain: Lower caseloads came first in the survey.
---
Thank you to everyone who answered the staff survey.
"""


SOLO = "U0SOLO0001"  # a person named directly in the audience (a valid U… id)


@pytest.fixture
def workspace():
    from slack_standin import Workspace

    ws = Workspace.sample(n_staff=12)
    ws.add_user(SOLO, name="solo", real_name="Solo Worker")
    return ws


@pytest.fixture
def content_dir(tmp_path, request):
    folder = tmp_path / "content" / "briefings"
    folder.mkdir(parents=True)
    user = getattr(request, "param", {}).get("user", SOLO)
    clarity = getattr(request, "param", {}).get("clarity", "true")
    (folder / "staff-survey.md").write_text(
        ANONYMOUS.format(user=user, clarity=clarity), encoding="utf-8"
    )
    return tmp_path / "content"


def picked(choice: str, extra: dict | None = None) -> dict:
    values = {"q0": {"answer": {"type": "radio_buttons", "selected_option": {"value": choice}}}}
    values.update(extra or {})
    return values


async def take(driver, bot, person, values):
    [post] = posts(driver.standin, SOCIAL_WORK_ALL)
    await driver.click(person, post, TAKE_ACTION)
    await bot.work.idle()
    [view] = driver.standin.views_for(person)
    original = json.loads(json.dumps(view))  # the stand-in updates the dict in place
    await driver.submit_view(person, view, values)
    await bot.work.idle()
    return original


async def raw_submit(driver, slack, person, view, values, metadata=None):
    payload = {
        "type": "view_submission",
        "team": {"id": slack.workspace.team_id},
        "user": {"id": person},
        "api_app_id": slack.workspace.app_id,
        "view": {
            **view,
            "private_metadata": metadata or view["private_metadata"],
            "state": {"values": values},
        },
    }
    return await driver.raw_post(
        "payload=" + quote_plus(json.dumps(payload)), "application/x-www-form-urlencoded"
    )


async def forged_follow_up(driver, slack, person, briefing_id, question):
    """A follow-up's note modal submitted without ever being opened: the metadata is ours to
    choose (another briefing, a question without a button, a tiny audience)."""
    from bot.comprehension import FOLLOW_UP_CALLBACK

    view = {
        "id": "V0FORGED",
        "type": "modal",
        "callback_id": FOLLOW_UP_CALLBACK,
        "private_metadata": json.dumps({"b": briefing_id, "v": 1, "q": question}),
    }
    values = {"note": {"note": {"type": "plain_text_input", "value": "hi"}}}
    return await raw_submit(driver, slack, person, view, values)


async def follow_ups_queued(bot) -> int:
    return await bot.storage.call(
        lambda db: db.execute(
            "SELECT COUNT(*) FROM broadcasts WHERE purpose LIKE 'followup:%'"
        ).fetchone()[0]
    )


# 4. Anonymous: a person named directly in the audience has their user id written into the
#    anonymous submission's `teams` JSON (and any tiny group narrows it to a few people).
async def test_anonymous_submission_teams_hold_no_user_id(slack, bot, driver):
    await publish_confirmed(driver, bot, "publish staff-survey")
    assert await bot.outbox.idle(30)
    person = SOLO
    [copy] = [m for m in slack.messages(person) if m.blocks]
    await driver.click(person, copy, TAKE_ACTION)
    await bot.work.idle()
    [view] = slack.views_for(person)
    await driver.submit_view(person, view, picked("1"))
    await bot.work.idle()
    [teams] = await bot.storage.call(
        lambda db: [r[0] for r in db.execute("SELECT teams FROM check_submissions")]
    )
    assert teams is None  # an anonymous answer keeps no group at all


# 5. Anonymous: check_answers (and check_taken) are rowid tables, so their hidden rowids record
#    the order people answered in; with the HMAC key (in `checks` for the whole open window),
#    every submission maps back to its person.
async def test_anonymous_answers_cannot_be_linked_back_through_row_order(slack, bot, driver):
    await publish_confirmed(driver, bot, "publish staff-survey")
    assert await bot.outbox.idle(30)
    first, second = SOCIAL_WORKERS[0], SOCIAL_WORKERS[1]
    await take(driver, bot, first, picked("1"))  # wrong
    await driver.close_view(first, slack.views_for(first)[0])
    await take(driver, bot, second, picked("0"))  # right

    def tables(db):
        """The tables that tie a person (by hash) and their answers: no row numbers at all."""
        return {
            name: db.execute("SELECT sql FROM sqlite_master WHERE name = ?", [name]).fetchone()[0]
            for name in ("check_taken", "check_answers")
        }

    for name, sql in (await bot.storage.call(tables)).items():
        assert sql.rstrip().upper().endswith("WITHOUT ROWID"), name
    submissions = await bot.storage.call(
        lambda db: [r[0] for r in db.execute("SELECT id FROM check_submissions ORDER BY rowid")]
    )
    assert len(submissions) == 2
    assert all(s > 2**40 for s in submissions)  # random ids: no count of who came first


# 6. Anonymous retake: allowed even when the first attempt was all correct, and then counted in
#    "understood after the retake" (attributed checks say "done").
async def test_anonymous_retake_after_all_correct_is_not_counted(slack, bot, driver):
    await publish_confirmed(driver, bot, "publish staff-survey")
    assert await bot.outbox.idle(30)
    person = SOCIAL_WORKERS[2]
    view = await take(driver, bot, person, picked("0"))  # all right first time
    response = await raw_submit(
        driver,
        slack,
        person,
        view,
        picked("0"),
        metadata=json.dumps({"b": "staff-survey", "v": 1, "a": 2}),
    )
    assert response.status == 200
    results = await bot.storage.checks.results_for("staff-survey", 1)
    assert (results.first_time, results.after_retake) == (1, 0)


# 7. An answer to a question that is not in this version (q1 on a one-question check) is
#    silently ignored and the rest stored, instead of refused with nothing stored.
async def test_an_answer_to_a_question_not_in_the_version_stores_nothing(slack, bot, driver):
    await publish_confirmed(driver, bot, "publish staff-survey")
    assert await bot.outbox.idle(30)
    person = SOCIAL_WORKERS[3]
    [post] = posts(slack, SOCIAL_WORK_ALL)
    await driver.click(person, post, TAKE_ACTION)
    await bot.work.idle()
    [view] = slack.views_for(person)
    extra = {"q1": {"answer": {"type": "radio_buttons", "selected_option": {"value": "0"}}}}
    await raw_submit(driver, slack, person, view, picked("0", extra))
    assert await bot.storage.call(lambda db: db["check_submissions"].count) == 0


# 8. A comment on a check that asks for no clarity/comment (tampered state) is stored and shown.
@pytest.mark.parametrize("content_dir", [{"clarity": "false"}], indirect=True)
async def test_a_comment_on_a_check_without_clarity_is_not_stored(slack, bot, driver):
    await publish_confirmed(driver, bot, "publish staff-survey")
    assert await bot.outbox.idle(30)
    person = SOCIAL_WORKERS[4]
    [post] = posts(slack, SOCIAL_WORK_ALL)
    await driver.click(person, post, TAKE_ACTION)
    await bot.work.idle()
    [view] = slack.views_for(person)
    comment = {"comment": {"comment": {"type": "plain_text_input", "value": "<!channel> hi"}}}
    await raw_submit(driver, slack, person, view, picked("0", comment))
    stored = await bot.storage.call(
        lambda db: [r[0] for r in db.execute("SELECT comment FROM check_submissions")]
    )
    assert stored in ([], [None])


# 9. /engage close closes the check it was authorised for, never another version's.
async def test_close_closes_the_check_it_was_authorised_for(storage):
    now = datetime(2030, 1, 1, tzinfo=UTC)

    def seed(db):
        for version, by, closed in ((1, "U0OTHER", None), (2, "U0ME", "2030-01-01T00:00:00+00:00")):
            db["checks"].insert(
                {
                    "briefing_id": "b",
                    "version": version,
                    "title": f"v{version}",
                    "questions": "[]",
                    "clarity": 0,
                    "mode": "attributed",
                    "published_by": by,
                    "opened_at": "2029-12-01T00:00:00+00:00",
                    "closes_at": "2030-02-01T00:00:00+00:00",
                    "closed_at": closed,
                }
            )

    await storage.call(seed)
    latest = await storage.checks.latest("b")
    assert await storage.checks.published_by(latest) == "U0ME"  # what answer() authorises
    assert await storage.checks.close(latest, now + timedelta(minutes=1)) is False  # closed
    v1 = await storage.checks.check_for("b", 1)
    assert v1.closed_at is None, "U0ME's /engage close closed U0OTHER's version-1 check"


@pytest.mark.parametrize(("questions", "said"), [(1, "it"), (2, "both"), (3, "all 3")])
def test_a_perfect_score_reads_as_people_say_it(questions, said):
    asked = [{"ask": f"Q{n}?", "options": ["Yes", "No"], "answer": "Yes"} for n in range(questions)]
    check = a_check(questions=asked)
    view = build_feedback_view(check, 1, mark(check.questions, (0,) * questions)).to_dict()
    assert f"*You got {said} right.*" in json.dumps(view)


def test_a_nudge_is_a_reminder_to_take_the_check_not_a_clarification():
    check = a_check(mode="attributed")
    assert build_follow_up_view(check, None).title.text == "Send a reminder"
    assert build_follow_up_view(check, 0).title.text == "Send a clarification"
    nudge = build_follow_up_message(check, "Please take it.", None)
    assert nudge["text"] == "A reminder to take the check on Title"
    assert "clarification" not in json.dumps(nudge).lower()
    assert build_follow_up_message(check, "EDT.", 0)["text"] == "A clarification on Title"
