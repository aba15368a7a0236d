"""The monthly cycle: at the cut-off the agenda holds the top questions by votes and the rest
carry forward; after the meeting a lead records each answer, which reaches its asker (by DM if
they gave their name, on Home if not) and "You said, we did"."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.app import LineOfSight
from bot.config import Config
from handlers.surgery import AGENDA_JOB
from handlers.surgery.blocks import ANSWER_ACTION
from slack_standin.harness import posts
from tests.conftest import (
    APP_TOKEN,
    BOT_TOKEN,
    ENGAGEMENT_LEAD,
    SIGNING_SECRET,
    SOCIAL_WORKERS,
    stored_question,
)
from tests.test_reminders import Clock

PAG = "C0PAG"  # #practice-advisory-group
GENERAL = "C0GEN"  # "You said, we did" goes here in these tests


@pytest.fixture
def clock():
    return Clock(datetime(2026, 12, 10, 9, tzinfo=UTC))  # the PAG meets Thursday 17 Dec


@pytest.fixture
def config(tmp_path, slack, content_dir):
    return Config.from_env(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_PATH": str(tmp_path / "los.db"),
            "CONTENT_DIR": str(content_dir),
            "SENIOR_MANAGERS": "@senior-managers",
            "ENGAGEMENT_LEADS": "@engagement-leads",
            "PAG_MEETS": "third Thursday 10:00",
            "PAG_CHANNEL": "#practice-advisory-group",
            "SURGERY_MEETS": "",  # not running
            "YOU_SAID_WE_DID_CHANNEL": "#general",
            "AGENDA_SIZE": "2",
            "AGENDA_CUTOFF_DAYS": "3",
        },
        dotenv=None,
    )


@pytest.fixture
async def bot(config, clock):
    los = LineOfSight(config, clock=clock)
    await los.start()
    runner = await los.listen("127.0.0.1", 0)
    los.url = f"{los.base_url}/slack/events"  # type: ignore[attr-defined]
    yield los
    await runner.cleanup()
    await los.stop()


async def on_board(bot, clock, texts, *, named=()):
    ids = []
    for n, text in enumerate(texts):
        person = SOCIAL_WORKERS[n]
        asked = await stored_question(
            bot, person, text, now=clock(), anonymous=n not in named, topic="Practice", forum="pag"
        )
        await bot.storage.questions.moderate(
            asked.question.id, action="accept", by=ENGAGEMENT_LEAD, now=clock()
        )
        ids.append(asked.question.id)
    return ids


async def vote(bot, question, *people):
    for person in people:
        await bot.storage.questions.vote(question, bot.deps.pseudonyms.of("voter", person))


async def test_the_agenda_holds_the_top_questions_and_carries_the_rest_forward(
    slack, bot, driver, clock
):
    few, most, some = await on_board(bot, clock, ["Few votes?", "Most votes?", "Some votes?"])
    await vote(bot, most, *SOCIAL_WORKERS[:3])
    await vote(bot, some, *SOCIAL_WORKERS[:2])
    await vote(bot, few, SOCIAL_WORKERS[0])
    await bot.scheduler.run_now(AGENDA_JOB)  # 10 Dec: before the cut-off (14 Dec 10:00)
    assert posts(slack, PAG) == []
    clock.now = datetime(2026, 12, 14, 10, 30, tzinfo=UTC)
    await bot.scheduler.run_now(AGENDA_JOB)
    await bot.scheduler.run_now(AGENDA_JOB)  # a second run (or a restart) changes nothing
    assert await bot.outbox.idle(30)
    [agenda] = posts(slack, PAG)
    text = str(agenda.blocks)
    assert "Practice Advisory Group, 17 Dec 2026" in text
    assert text.index("Most votes?") < text.index("Some votes?")
    assert "Few votes?" not in text
    assert "1 more question carried forward" in text
    left = await bot.storage.questions.get(few)
    assert (left.state, left.carried) == ("accepted", 1)
    # Next month's cut-off: the carried one goes on (with its vote), as the board now holds.
    clock.now = datetime(2027, 1, 18, 10, 30, tzinfo=UTC)  # the PAG meets 21 Jan
    await bot.scheduler.run_now(AGENDA_JOB)
    assert await bot.outbox.idle(30)
    assert len(posts(slack, PAG)) == 2
    assert "Few votes?" in str(posts(slack, PAG)[-1].blocks)
    assert (await bot.storage.questions.get(few)).state == "agenda"


async def test_an_answer_reaches_its_asker_and_you_said_we_did(slack, bot, driver, clock):
    anonymous, named = await on_board(
        bot,
        clock,
        ["Can supervision be fortnightly?", "Can we get <!channel> laptops?"],
        named=(1,),
    )
    clock.now = datetime(2026, 12, 14, 10, 30, tzinfo=UTC)
    await bot.scheduler.run_now(AGENDA_JOB)
    assert await bot.outbox.idle(30)
    clock.now = datetime(2026, 12, 17, 12, tzinfo=UTC)
    for question, answer in ((anonymous, "Yes, from January."), (named, "Yes: new ones in March.")):
        await driver.slash_command(ENGAGEMENT_LEAD, "/engage", "queue")
        await bot.work.idle()
        queue = [s for s in slack.seen_by(ENGAGEMENT_LEAD) if s.kind == "response"][-1]
        await driver.click(ENGAGEMENT_LEAD, queue, ANSWER_ACTION, value=str(question))
        await bot.work.idle()
        [modal] = slack.views_for(ENGAGEMENT_LEAD)
        values = {
            "answer": {"answer": {"type": "plain_text_input", "value": answer}},
            "action": {"action": {"type": "plain_text_input", "value": "Rota changed & agreed"}},
        }
        await driver.submit_view(ENGAGEMENT_LEAD, modal, values)
        await bot.work.idle()
        assert "is answered" in str(slack.views_for(ENGAGEMENT_LEAD)[0]["blocks"])
        await driver.close_view(ENGAGEMENT_LEAD, slack.views_for(ENGAGEMENT_LEAD)[0])
    assert await bot.outbox.idle(30)
    board = posts(slack, GENERAL)
    assert len(board) == 2
    assert "We did:* Rota changed &amp; agreed" in str(board[0].blocks)
    assert "&lt;!channel&gt;" in str(board[1].blocks)
    assert "<!channel>" not in str(board[1].blocks)
    # The named asker hears by DM; the anonymous one, whom nothing names, finds it on Home.
    dms = [m for m in slack.messages(SOCIAL_WORKERS[1]) if "has been answered" in m.text]
    assert len(dms) == 1
    assert not [m for m in slack.messages(SOCIAL_WORKERS[0]) if "has been answered" in m.text]
    await driver.app_home_opened(SOCIAL_WORKERS[0])
    await bot.work.idle()
    home = str(slack.home_view(SOCIAL_WORKERS[0])["blocks"])
    assert "*Answer:* Yes, from January." in home
    # And anyone can read "You said, we did" with /ask answered.
    await driver.slash_command(SOCIAL_WORKERS[3], "/ask", "answered")
    await bot.work.idle()
    [answered] = [s for s in slack.seen_by(SOCIAL_WORKERS[3]) if s.kind == "response"]
    assert "Yes: new ones in March." in str(answered.blocks)
    # Answering twice changes nothing.
    again = await bot.storage.questions.get(named)
    assert again.state == "answered"


async def test_a_question_for_a_forum_that_is_not_running_is_refused(slack, bot, driver):
    from tests.test_surgery import form, raw_submit

    response = await raw_submit(driver, SOCIAL_WORKERS[0], form("Fine question?", forum="surgery"))
    assert "not running now" in response.json["errors"]["forum"]
    await driver.slash_command(SOCIAL_WORKERS[0], "/ask")
    await bot.work.idle()
    [view] = slack.views_for(SOCIAL_WORKERS[0])
    [forum] = [b for b in view["blocks"] if b.get("block_id") == "forum"]
    assert [o["value"] for o in forum["element"]["options"]] == ["pag"]


async def test_a_lead_can_post_the_agenda_early_once(slack, bot, driver, clock):
    await on_board(bot, clock, ["Early question?"])

    async def engage(user, text):
        await driver.slash_command(user, "/engage", text)
        await bot.work.idle()
        return [s for s in slack.seen_by(user) if s.kind == "response"][-1].text

    assert "Only engagement leads" in await engage(SOCIAL_WORKERS[3], "agenda pag")
    assert "Which forum?" in await engage(ENGAGEMENT_LEAD, "agenda surgery")  # not running
    said = await engage(ENGAGEMENT_LEAD, "agenda pag")
    assert "agenda is posted in #practice-advisory-group: 1 question, 0 carried" in said
    assert "drawn up already" in await engage(ENGAGEMENT_LEAD, "agenda pag")
    assert await bot.outbox.idle(30)
    assert len(posts(slack, PAG)) == 1
    clock.now = datetime(2026, 12, 14, 10, 30, tzinfo=UTC)  # the cut-off: nothing more
    await bot.scheduler.run_now(AGENDA_JOB)
    assert await bot.outbox.idle(30)
    assert len(posts(slack, PAG)) == 1
