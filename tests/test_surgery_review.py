"""Surgery questions at their edges: what an independent review found (each once a bug)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.guardrail import find_case_detail
from bot.storage.questions import Question
from handlers.surgery.blocks import MESSAGE_SHORTCUT, build_my_questions
from tests.conftest import stored_question
from tests.test_surgery import ASKER, ask, form, raw_submit

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


# --- anonymity ---------------------------------------------------------------------------------


async def test_an_anonymous_question_cannot_be_joined_to_the_askers_named_one(slack, bot, driver):
    """The same `asker` pseudonym is stored on named rows (with asked_by) and anonymous rows,
    so one SQL join names the anonymous asker: no key needed."""
    await ask(driver, bot, ASKER, "Can we have more admin support?", anonymous=False)
    await driver.close_view(ASKER, slack.views_for(ASKER)[0])
    await ask(driver, bot, ASKER, "Why are my team's caseloads so much higher?")
    named = await bot.storage.call(
        lambda db: db.execute(
            "SELECT n.asked_by FROM questions a JOIN questions n ON n.asker = a.asker"
            " WHERE a.anonymous = 1 AND n.asked_by IS NOT NULL"
        ).fetchall()
    )
    assert named == [], f"the anonymous question's asker is {named}"


async def test_ask_about_this_on_a_dm_does_not_store_the_askers_dm(slack, bot, driver):
    """A permalink to a message in the asker's DM with the bot names the DM, whose only human
    member (conversations.info -> user) is the asker."""
    dm = slack.workspace.im_with(ASKER)
    message = slack.add_user_message(ASKER, dm.id, "What's the new rota?")
    await driver.message_shortcut(ASKER, message, MESSAGE_SHORTCUT)
    await bot.work.idle()
    [view] = slack.views_for(ASKER)
    await driver.submit_view(ASKER, view, form("Does the new rota cover weekends?"))
    [row] = await bot.storage.call(
        lambda db: list(db.query("SELECT quoted FROM questions WHERE anonymous = 1"))
    )
    assert dm.id not in (row["quoted"] or ""), row["quoted"]


async def test_a_missing_anonymity_field_does_not_make_a_question_named(slack, bot, driver):
    """Anonymous is the default; a state without the checkbox block falls back to *named*."""
    response = await raw_submit(driver, ASKER, form("Is the rota changing?"))
    assert response.status == 200
    [row] = await bot.storage.call(lambda db: list(db.query("SELECT asked_by FROM questions")))
    assert row["asked_by"] is None


async def test_row_order_does_not_narrow_an_anonymous_askers_time_below_the_hour(bot):
    """asked_at is cut to the hour; row ids counting up would place an anonymous question
    between named ones that keep their second (09:05 < it < 09:45). Ids are random."""
    made = []
    for minute, anonymous, who in (
        (5, False, "U0SW02"),
        (40, True, "U0SW01"),
        (45, False, "U0SW03"),
    ):
        asked = await stored_question(
            bot,
            who,
            f"Question at {minute}?",
            now=NOW.replace(minute=minute),
            anonymous=anonymous,
            topic="Other",
        )
        made.append(asked.question)
    ids = [q.id for q in made]
    assert all(i > 2**32 for i in ids)  # not a count of questions asked
    assert made[1].asked_at.endswith("09:00:00+00:00")


# --- storage -----------------------------------------------------------------------------------


async def test_merging_duplicates_on_the_board_combines_their_votes(bot):
    qs = bot.storage.questions
    ids = []
    for text in ("Can we have more admin support?", "More admin support, please?"):
        asked = await stored_question(bot, "U0SW01", text, now=NOW, topic="Other")
        ids.append(asked.question.id)
        await qs.moderate(asked.question.id, action="accept", by="U0EL01", now=NOW)
    await qs.vote(ids[0], "v1")
    await qs.vote(ids[1], "v2")
    done = await qs.moderate(ids[1], action="merge", into=ids[0], by="U0EL01", now=NOW)
    assert done.status == "done", done  # is "not_pending": only pending (voteless) ones merge
    assert (await qs.get(ids[0])).votes == 2


async def test_a_decline_that_did_not_commit_tells_the_lead_and_keeps_the_modal(
    slack, bot, driver, monkeypatch
):
    from bot.storage import WriteTimeout
    from handlers.surgery.blocks import DECLINE_ACTION
    from tests.conftest import ENGAGEMENT_LEAD

    await ask(driver, bot, ASKER, "Why is the canteen shut on Fridays?")
    await driver.app_home_opened(ENGAGEMENT_LEAD)
    await bot.work.idle()
    await driver.click(ENGAGEMENT_LEAD, slack.home_view(ENGAGEMENT_LEAD), DECLINE_ACTION)
    await bot.work.idle()
    [modal] = slack.views_for(ENGAGEMENT_LEAD)

    async def timeout(*a, **k):
        raise WriteTimeout("busy")

    monkeypatch.setattr(bot.storage.questions, "moderate", timeout)
    reason = {"reason": {"reason": {"type": "plain_text_input", "value": "Facilities, not us"}}}
    response = await driver.submit_view(ENGAGEMENT_LEAD, modal, reason)
    await bot.work.idle()
    # The ack is an empty 200: the modal closes, the reason typed is gone, nobody is told.
    assert response.body.strip(), "empty ack closed the modal though nothing was stored"


# --- Block Kit ---------------------------------------------------------------------------------


def test_my_questions_with_several_declined_stays_within_a_section(slack):
    """`/ask mine` shows 10; 7 declined with long text and reasons overflow 3,000."""
    questions = [
        Question(
            i,
            "Q-ACDE",
            "a" * 200,
            "Other",
            "surgery",
            True,
            "x",
            "declined",
            0,
            None,
            "b" * 500,
            None,
        )
        for i in range(10)
    ]
    for block in build_my_questions(questions):
        block.to_dict()  # SlackObjectFormationError: text attribute cannot exceed 3000


# --- the guardrail -----------------------------------------------------------------------------

MISSED = [
    "Can we discuss jayden smith 12/03/2015 at surgery?",
    "SMITH, Jayden 12/03/2015 was moved again",
    "Jayden SMITH 12/03/2015 was moved again",
    "Aoife O'Brien 12/03/2015 has had four placements",
    "Jayden McDonald 12/03/2015 has had four placements",
    "DOB 2015-03-12, moved twice",
    "The case number is 1234567 and nothing was updated",
    "Ref. AB/12345 was closed without a visit",
    "Mosaic - 568213 shows the wrong worker",
    "Mum lives at 14 station road, can we visit together?",
]

FLAGGED = [
    "What happens when 2 Family Court hearings clash?",
    "How do we meet the 26 Week Court timetable in care proceedings?",
    "Will 5 Social Workers close cases early to hit targets?",
    "Can the 6 Advanced Practitioners view the audit results?",
    "Is Room B2 3rd floor accessible for the surgery?",
    "Is the Staff Surgery 12/01/2027 still going ahead?",
    "Is the Bank Holiday, 26 December 2026, covered by EDT?",
    "Does the Liquid Logic 2.3.14 upgrade fix the chronology bug?",
    "Will the LAC 2025/26 sufficiency strategy be shared with us?",
    "Can the CP 2024-25 figures be shared with the teams?",
]


@pytest.mark.parametrize("text", MISSED)
def test_review_case_detail_is_caught(text):
    assert find_case_detail(text) != []


@pytest.mark.parametrize("text", FLAGGED)
def test_review_ordinary_questions_pass(text):
    assert find_case_detail(text) == [], find_case_detail(text)
