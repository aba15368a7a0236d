"""Surgery questions: asking (anonymously), the guardrail, the board and votes, moderation."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.pseudonyms import anonymity_key, key_path
from bot.storage.questions import Question
from handlers.surgery.blocks import (
    ACCEPT_ACTION,
    ASK_CALLBACK,
    ASK_SHORTCUT,
    DECLINE_ACTION,
    MESSAGE_SHORTCUT,
    VOTE_ACTION,
    build_agenda_message,
    build_answer_dm,
    build_answer_public,
    build_answered,
    build_board,
    build_my_questions,
    build_receipt_view,
)
from handlers.surgery.review_blocks import (
    build_answer_view,
    build_change_view,
    build_decline_view,
    build_merge_view,
    build_moderated_board,
    build_queue,
    build_to_answer,
)
from slack_standin.harness import posts
from tests.conftest import ENGAGEMENT_LEAD, SOCIAL_WORK_ALL, SOCIAL_WORKERS, stored_question
from tests.test_check_privacy import occurrences

ASKER = SOCIAL_WORKERS[0]
LONDON = ZoneInfo("Europe/London")


def form(text: str, *, topic: str = "Caseloads", forum: str = "surgery", anonymous=True):
    values = {
        "question": {"text": {"type": "plain_text_input", "value": text}},
        "topic": {
            "topic": {"type": "static_select", "selected_option": {"value": topic}},
        },
        "forum": {"forum": {"type": "radio_buttons", "selected_option": {"value": forum}}},
    }
    if not anonymous:
        values["anonymous"] = {"anonymous": {"type": "checkboxes", "selected_options": []}}
    return values


async def open_modal(driver, bot, person, text=""):
    await driver.slash_command(person, "/ask", text)
    await bot.work.idle()
    [view] = driver.standin.views_for(person)
    assert view["callback_id"] == ASK_CALLBACK
    return view


async def ask(driver, bot, person, text, **kw):
    view = await open_modal(driver, bot, person)
    response = await driver.submit_view(person, view, form(text, **kw))
    await bot.work.idle()
    shown = (
        str(driver.standin.views_for(person)[0]["blocks"])
        if driver.standin.views_for(person)
        else ""
    )
    return response, shown


async def raw_submit(driver, person, values, metadata='{"quoted": null}'):
    """A view submission shaped like Slack's, with values Slack's own client would not send."""
    slack = driver.standin
    payload = {
        "type": "view_submission",
        "team": {"id": slack.workspace.team_id},
        "user": {"id": person},
        "api_app_id": slack.workspace.app_id,
        "view": {
            "id": "V0RAW",
            "type": "modal",
            "callback_id": ASK_CALLBACK,
            "private_metadata": metadata,
            "state": {"values": values},
        },
    }
    return await driver.raw_post(
        "payload=" + quote_plus(json.dumps(payload)), "application/x-www-form-urlencoded"
    )


async def responses(driver, bot, person, command, text):
    before = len([s for s in driver.standin.seen_by(person) if s.kind == "response"])
    await driver.slash_command(person, command, text)
    await bot.work.idle()
    return [s for s in driver.standin.seen_by(person) if s.kind == "response"][before:]


async def test_an_anonymous_question_keeps_nothing_that_names_the_asker_yet_they_find_it(
    slack, bot, driver, config, caplog
):
    caplog.set_level(logging.DEBUG)
    await bot.storage.call(lambda db: db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall())
    before = occurrences(config.database_path, ASKER)
    caplog.clear()
    text = "When will caseloads come down to the 18 we were promised?"
    response, shown = await ask(driver, bot, ASKER, text)
    assert response.status == 200
    assert "Your reference is *Q-" in shown
    assert "anonymous" in shown
    assert occurrences(config.database_path, ASKER) == before
    assert ASKER not in caplog.text
    assert text not in caplog.text
    [row] = await bot.storage.call(
        lambda db: list(db.query("SELECT asked_by, asker, asked_at, anonymous FROM questions"))
    )
    assert row["asked_by"] is None
    assert row["asked_at"].endswith(":00:00+00:00")  # to the hour
    # The key that makes the pseudonym is neither in the database nor beside it.
    assert not key_path(config.database_path).exists()
    key = anonymity_key(config.asker_key, config.bot_token).hex()
    assert key not in config.database_path.read_bytes().decode("latin-1")
    # The asker still finds it.
    [mine] = await responses(driver, bot, ASKER, "/ask", "mine")
    assert "When will caseloads come down" in str(mine.blocks)
    assert "waiting for an engagement lead" in str(mine.blocks)
    others = await responses(driver, bot, SOCIAL_WORKERS[1], "/ask", "mine")
    assert "When will caseloads" not in str([o.blocks for o in others])


async def test_ask_with_text_prefills_the_question(slack, bot, driver):
    view = await open_modal(driver, bot, ASKER, "Can laptops be replaced before April?")
    [block] = [b for b in view["blocks"] if b.get("block_id") == "question"]
    assert block["element"]["initial_value"] == "Can laptops be replaced before April?"


async def test_case_detail_is_sent_back_with_what_was_found_and_nothing_is_kept(
    slack, bot, driver, caplog
):
    caplog.set_level(logging.DEBUG)
    view = await open_modal(driver, bot, ASKER)
    text = "Can we discuss Jayden Smith 12/03/2015, NHS 943 476 5919?"
    with_errors = await driver.submit_view(ASKER, view, form(text))
    assert with_errors.status == 200
    error = with_errors.json["errors"]["question"]
    assert "an NHS number" in error
    assert "a name next to a date" in error
    assert "Jayden" not in caplog.text
    assert await bot.storage.call(lambda db: db["questions"].count) == 0
    # The safeguarding route is on the modal all along.
    assert "duty team" in str(view["blocks"])


async def test_bad_questions_get_a_clear_message_and_nothing_is_kept(slack, bot, driver):
    for values, block, words in (
        (form("   "), "question", "Write your question"),
        (form("x" * 3001), "question", "3,001 characters: the limit is 3,000"),
        (form("Fine question?", forum="closed-forum"), "forum", "not running now"),
        (form("Fine question?", topic="Gossip"), "topic", "Choose one of the topics"),
    ):
        response = await raw_submit(driver, ASKER, values)
        assert words in response.json["errors"][block], response.body
    assert await bot.storage.call(lambda db: db["questions"].count) == 0


async def test_a_person_may_ask_so_many_a_day_anonymous_or_not(slack, bot, driver, config):
    for n in range(config.questions_per_day):
        response, _ = await ask(driver, bot, ASKER, f"Question {n}?", anonymous=n % 2 == 0)
        await driver.close_view(ASKER, slack.views_for(ASKER)[0])
    view = await open_modal(driver, bot, ASKER)
    response = await driver.submit_view(ASKER, view, form("One more?"))
    assert "the most there can be" in response.json["errors"]["question"]
    assert await bot.storage.call(lambda db: db["questions"].count) == config.questions_per_day


async def test_a_lead_accepts_onto_the_board_and_each_person_votes_once(slack, bot, driver):
    await ask(driver, bot, ASKER, "Can we have two hours a week for reflective supervision?")
    await driver.app_home_opened(ENGAGEMENT_LEAD)
    await bot.work.idle()
    home = slack.home_view(ENGAGEMENT_LEAD)
    assert "1 question to review" in str(home["blocks"])
    [waiting] = await bot.storage.questions.pending()
    # Someone without the role replays the lead's button for it: refused, nothing changed.
    await driver.raw_post(
        "payload="
        + quote_plus(
            json.dumps(
                {
                    "type": "block_actions",
                    "user": {"id": SOCIAL_WORKERS[2]},
                    "team": {"id": slack.workspace.team_id},
                    "api_app_id": slack.workspace.app_id,
                    "actions": [
                        {"action_id": ACCEPT_ACTION, "value": str(waiting.id), "type": "button"}
                    ],
                    "container": {"type": "view", "view_id": home["id"]},
                    "view": {"type": "home", "id": home["id"]},
                }
            )
        ),
        "application/x-www-form-urlencoded",
    )
    await bot.work.idle()
    [q] = await bot.storage.questions.pending()
    assert q.state == "pending"
    assert "Only engagement leads can review questions." in str(
        slack.home_view(SOCIAL_WORKERS[2])["blocks"]
    )
    await driver.click(ENGAGEMENT_LEAD, home, ACCEPT_ACTION)
    await bot.work.idle()
    assert "is on the board now" in str(slack.home_view(ENGAGEMENT_LEAD)["blocks"])
    log = await bot.storage.call(lambda db: list(db.query("SELECT * FROM moderation_log")))
    assert [(e["user_id"], e["action"]) for e in log] == [(ENGAGEMENT_LEAD, "accept")]
    # Votes: once each, whatever the double clicks.
    [board] = await responses(driver, bot, SOCIAL_WORKERS[1], "/ask", "list")
    await driver.click(SOCIAL_WORKERS[1], board, VOTE_ACTION)
    await bot.work.idle()
    [board] = [s for s in slack.seen_by(SOCIAL_WORKERS[1]) if s.kind == "response"][-1:]
    assert "your vote is counted" in str(board.blocks)
    await driver.click(SOCIAL_WORKERS[1], board, VOTE_ACTION)
    await bot.work.idle()
    for voter in SOCIAL_WORKERS[2:4]:
        [b] = await responses(driver, bot, voter, "/ask", "list")
        await driver.click(voter, b, VOTE_ACTION)
        await bot.work.idle()
    [q] = await bot.storage.questions.board(order="votes", voter="nobody")
    assert q.votes == 3
    # No voter's id is stored: votes are by pseudonym only.
    voters = await bot.storage.call(
        lambda db: [r[0] for r in db.execute("SELECT voter FROM question_votes")]
    )
    assert not set(voters) & set(SOCIAL_WORKERS)


async def test_a_declined_question_tells_its_asker_why_and_takes_no_votes(slack, bot, driver):
    await ask(driver, bot, ASKER, "Why is the canteen shut on Fridays?")
    await driver.app_home_opened(ENGAGEMENT_LEAD)
    await bot.work.idle()
    await driver.click(ENGAGEMENT_LEAD, slack.home_view(ENGAGEMENT_LEAD), DECLINE_ACTION)
    await bot.work.idle()
    [modal] = slack.views_for(ENGAGEMENT_LEAD)
    reason = {"reason": {"reason": {"type": "plain_text_input", "value": "Facilities: <ask>"}}}
    await driver.submit_view(ENGAGEMENT_LEAD, modal, reason)
    await bot.work.idle()
    [mine] = await responses(driver, bot, ASKER, "/ask", "mine")
    assert "not taken forward: Facilities: &lt;ask&gt;" in str(mine.blocks)
    [declined] = await bot.storage.call(
        lambda db: [r[0] for r in db.execute("SELECT id FROM questions")]
    )
    voted = await bot.storage.questions.vote(declined, "someone")
    assert voted.status == "closed"


async def test_a_decline_republishes_the_leads_home_without_its_buttons(slack, bot, driver):
    await ask(driver, bot, ASKER, "Why is the canteen shut on Fridays?")
    await driver.app_home_opened(ENGAGEMENT_LEAD)
    await bot.work.idle()
    home = slack.home_view(ENGAGEMENT_LEAD)
    assert DECLINE_ACTION in str(home["blocks"])
    await driver.click(ENGAGEMENT_LEAD, home, DECLINE_ACTION)
    await bot.work.idle()
    [modal] = slack.views_for(ENGAGEMENT_LEAD)
    reason = {"reason": {"reason": {"type": "plain_text_input", "value": "Facilities"}}}
    await driver.submit_view(ENGAGEMENT_LEAD, modal, reason)
    await bot.work.idle()
    # Without opening Home again: it was published afresh, the question no longer to review.
    home = slack.home_view(ENGAGEMENT_LEAD)
    assert DECLINE_ACTION not in str(home["blocks"])
    assert "canteen" not in str(home["blocks"])


async def test_the_shortcuts_open_the_modal_and_one_links_its_message(slack, bot, driver):
    await driver.global_shortcut(ASKER, ASK_SHORTCUT)
    await bot.work.idle()
    [view] = slack.views_for(ASKER)
    assert view["callback_id"] == ASK_CALLBACK
    await driver.close_view(ASKER, view)
    message = slack.add_user_message(SOCIAL_WORKERS[1], SOCIAL_WORK_ALL, "New rota from Monday")
    await driver.message_shortcut(ASKER, message, MESSAGE_SHORTCUT)
    await bot.work.idle()
    [view] = slack.views_for(ASKER)
    assert f"/archives/{SOCIAL_WORK_ALL}/p" in str(view["blocks"])
    await driver.submit_view(ASKER, view, form("Does the new rota cover weekends?"))
    [row] = await bot.storage.call(lambda db: list(db.query("SELECT quoted FROM questions")))
    assert f"/archives/{SOCIAL_WORK_ALL}/p" in row["quoted"]
    assert posts(slack, SOCIAL_WORK_ALL) == []  # nothing was posted anywhere
    # The lead reviewing it, and then the board, link the message it is about.
    await driver.app_home_opened(ENGAGEMENT_LEAD)
    await bot.work.idle()
    home = str(slack.home_view(ENGAGEMENT_LEAD)["blocks"])
    assert f"/archives/{SOCIAL_WORK_ALL}/p" in home
    assert "|the message it is about>" in home


PINGS = ["<!channel>", "<!here>", "<@U0SW01>", "<!subteam^S0SWS>", "<https://x.example|y>", "&"]


@settings(max_examples=60, deadline=None)
@given(
    text=st.lists(st.sampled_from(PINGS) | st.text(max_size=20), min_size=1, max_size=8).map(
        "".join
    ),
    reason=st.lists(st.sampled_from(PINGS) | st.text(max_size=10), max_size=4).map("".join),
)
def test_a_persons_text_is_shown_escaped_everywhere(text, reason):
    """Whatever a person writes, no renderer that shows it lets it mention or link."""
    question = Question(
        7,
        "Q-ACDE",
        text,
        "Caseloads <b>",
        "surgery",
        True,
        "2026-12-01T09:00:00+00:00",
        "declined",
        3,
        None,
        reason or None,
        None,
    )
    answered = replace(question, state="answered", answer=reason or text, action=text)
    rendered = [
        build_board([question], order="votes"),
        build_my_questions([question, answered]),
        build_queue([question]),
        build_decline_view(question).blocks,
        build_receipt_view(question).blocks,
        build_moderated_board([question]),
        build_to_answer([replace(question, meeting_at="2026-12-01T14:00:00+00:00")], LONDON),
        build_answered([answered]),
        build_answer_view(question).blocks,
        build_change_view(question, ("Caseloads", text[:75] or "x")).blocks,
        build_merge_view(question, [replace(question, id=8)]).blocks,
    ]
    messages = [
        build_agenda_message("surgery", "1 Dec", [question], 2),
        build_answer_public(answered),
        build_answer_dm(answered),
    ]
    for blocks in rendered + [m["blocks"] for m in messages]:
        for block in blocks:
            data = block if isinstance(block, dict) else block.to_dict()
            for mrkdwn in _mrkdwn_texts(data):
                for ping in PINGS[:-1]:
                    assert ping not in mrkdwn
                assert not re.search(r"&(?!amp;|lt;|gt;)", mrkdwn)


def _mrkdwn_texts(data):
    if isinstance(data, dict):
        if data.get("type") == "mrkdwn":
            yield data.get("text", "")
        for value in data.values():
            yield from _mrkdwn_texts(value)
    elif isinstance(data, list):
        for value in data:
            yield from _mrkdwn_texts(value)


async def accepted(bot, *texts):
    """Questions asked straight into storage and accepted, as a lead would."""
    from datetime import UTC, datetime

    now = datetime(2026, 12, 1, 10, tzinfo=UTC)
    ids = []
    for n, text in enumerate(texts):
        asked = await stored_question(bot, SOCIAL_WORKERS[n], text, now=now)
        await bot.storage.questions.moderate(
            asked.question.id, action="accept", by=ENGAGEMENT_LEAD, now=now
        )
        ids.append(asked.question.id)
    return ids


async def test_merging_a_duplicate_combines_votes_once_each_and_tells_its_asker(slack, bot, driver):
    from handlers.surgery.blocks import MORE_ACTION

    first, second = await accepted(
        bot, "When will caseloads come down?", "Caseloads: when will they fall?"
    )
    for voter, question in ((2, first), (3, first), (3, second), (4, second)):
        await bot.storage.questions.vote(question, bot.deps.pseudonyms.voter(SOCIAL_WORKERS[voter]))
    [queue] = await responses(driver, bot, ENGAGEMENT_LEAD, "/engage", "queue")
    assert "No questions are waiting for review" in str(queue.blocks)
    await driver.click(ENGAGEMENT_LEAD, queue, MORE_ACTION, value=f"merge:{second}")
    await bot.work.idle()
    [modal] = slack.views_for(ENGAGEMENT_LEAD)
    [into] = [
        o for b in modal["blocks"] if b.get("block_id") == "into" for o in b["element"]["options"]
    ]
    await driver.submit_view(
        ENGAGEMENT_LEAD,
        modal,
        {"into": {"into": {"type": "static_select", "selected_option": into}}},
    )
    await bot.work.idle()
    assert "is merged" in str(slack.views_for(ENGAGEMENT_LEAD)[0]["blocks"])
    [q] = await bot.storage.questions.board(order="votes", voter="")
    assert (q.id, q.votes) == (first, 3)  # SOCIAL_WORKERS[3] voted for both: counted once
    [mine] = await responses(driver, bot, SOCIAL_WORKERS[1], "/ask", "mine")
    assert f"joined with a question like it ({q.ref})" in str(mine.blocks)
    # Moderating it again, now it is merged, changes nothing and says so.
    again = await bot.storage.questions.moderate(
        second, action="accept", by=ENGAGEMENT_LEAD, now=bot.deps.clock()
    )
    assert again.status == "not_pending"


async def test_a_lead_moves_a_question_to_another_topic_and_forum(slack, bot, driver):
    from handlers.surgery.blocks import MORE_ACTION

    [question] = await accepted(bot, "Can the threshold document be on our phones?")
    [queue] = await responses(driver, bot, ENGAGEMENT_LEAD, "/engage", "queue")
    await driver.click(ENGAGEMENT_LEAD, queue, MORE_ACTION, value=f"change:{question}")
    await bot.work.idle()
    [modal] = slack.views_for(ENGAGEMENT_LEAD)
    await driver.submit_view(
        ENGAGEMENT_LEAD,
        modal,
        {
            "topic": {
                "topic": {
                    "type": "static_select",
                    "selected_option": {
                        "value": "IT and recording",
                        "text": {"type": "plain_text", "text": "IT and recording"},
                    },
                }
            },
            "forum": {
                "forum": {
                    "type": "radio_buttons",
                    "selected_option": {
                        "value": "pag",
                        "text": {"type": "plain_text", "text": "Practice Advisory Group"},
                    },
                }
            },
        },
    )
    await bot.work.idle()
    moved = await bot.storage.questions.get(question)
    assert (moved.topic, moved.forum) == ("IT and recording", "pag")
    others = await responses(driver, bot, SOCIAL_WORKERS[3], "/engage", "queue")
    assert "Only engagement leads" in others[0].text


async def test_engage_help_lists_every_features_words(slack, bot, driver):
    [help_] = await responses(driver, bot, ENGAGEMENT_LEAD, "/engage", "help")
    for word in ("results", "export", "close", "queue"):
        assert f"/engage {word}" in help_.text
