"""The monthly cycle: at the cut-off the agenda holds the top questions by votes and the rest
carry forward; after the meeting a lead records each answer, which reaches its asker (by DM if
they gave their name, on Home if not) and "You said, we did"."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime

import pytest

from bot.app import LineOfSight
from bot.config import Config
from bot.guardrail import find_case_detail
from handlers.surgery import AGENDA_JOB
from handlers.surgery.blocks import ANSWER_ACTION, build_answer_public, build_news
from slack_standin.blockkit import validate_message_blocks
from slack_standin.harness import posts
from tests.conftest import (
    ENGAGEMENT_LEAD,
    PAG_SETTINGS,
    SOCIAL_WORKERS,
    make_config,
    stored_question,
)
from tests.test_reminders import Clock
from tests.test_surgery import form, raw_submit

PAG = "C0PAG"  # #practice-advisory-group
GENERAL = "C0GEN"  # "You said, we did" goes here in these tests


@pytest.fixture
def clock():
    return Clock(datetime(2026, 12, 10, 9, tzinfo=UTC))  # the PAG meets Thursday 17 Dec


@pytest.fixture
def config(tmp_path, slack, content_dir):
    return make_config(
        slack, tmp_path, content_dir, **PAG_SETTINGS, AGENDA_SIZE="2", AGENDA_CUTOFF_DAYS="3"
    )


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
        await bot.storage.questions.vote(question, bot.deps.pseudonyms.voter(person))


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
    # December's two are answered; at next month's cut-off the carried one goes on.
    for answered in (most, some):
        await bot.storage.questions.answer(
            answered,
            answer="Yes.",
            action="",
            by=ENGAGEMENT_LEAD,
            now=clock(),
            public_to=("channel", GENERAL),
            render_public=build_answer_public,
            render_news=build_news,
        )
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


# --- found by an independent review (each once a bug) ---------------------------------------

CUTOFF = datetime(2026, 12, 14, 10, 30, tzinfo=UTC)  # the PAG meets 17 Dec; its cut-off: 14 Dec


async def started(config, clock):
    los = LineOfSight(config, clock=clock)
    await los.start()
    runner = await los.listen("127.0.0.1", 0)
    return los, runner


def test_an_agenda_cut_off_of_no_days_is_refused_with_what_to_write():
    """A cut-off of 0 days would fall at the meeting itself, after which no agenda is due."""
    from bot.config import ConfigError

    with pytest.raises(ConfigError, match="AGENDA_CUTOFF_DAYS must be between 1 and 27"):
        Config.from_env(
            {"SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": "s", "AGENDA_CUTOFF_DAYS": "0"},
            dotenv=None,
        )


async def test_an_unanswered_agenda_question_is_not_stuck_after_its_meeting(slack, bot, clock):
    """One on December's agenda but never answered goes back on the board, carried forward."""
    [q] = await on_board(bot, clock, ["Can supervision be fortnightly?"])
    clock.now = CUTOFF
    await bot.scheduler.run_now(AGENDA_JOB)
    clock.now = datetime(2027, 1, 18, 10, 30, tzinfo=UTC)  # January's cut-off (meets 21 Jan)
    await bot.scheduler.run_now(AGENDA_JOB)
    assert await bot.outbox.idle(30)
    january = str(posts(slack, PAG)[-1].blocks)
    left = await bot.storage.questions.get(q)
    assert "Can supervision be fortnightly?" in january or left.state == "accepted", (
        f"state {left.state!r}; January's agenda: {january[:200]}"
    )


async def test_an_agenda_whose_channel_is_gone_goes_to_the_leads_not_lost(slack, bot, clock):
    """No channel to post in at the cut-off: the agenda is drawn up all the same and goes to
    the engagement leads by DM, saying why and how to set a channel."""
    slack.workspace.channels[PAG].name = "pag-archive-2025"  # renamed: the setting is stale
    [q] = await on_board(bot, clock, ["Can supervision be fortnightly?"])
    clock.now = CUTOFF
    await bot.scheduler.run_now(AGENDA_JOB)
    assert await bot.outbox.idle(30)
    assert (await bot.storage.questions.get(q)).state == "agenda"
    [agenda] = [m for m in slack.messages(ENGAGEMENT_LEAD) if "the agenda" in m.text]
    text = " ".join(b["text"]["text"] for b in agenda.blocks)
    assert "Can supervision be fortnightly?" in text
    assert "#practice-advisory-group doesn't exist (or I can't see it)" in text
    assert "PAG_CHANNEL" in text
    assert posts(slack, PAG) == []


async def test_an_answer_whose_channel_is_gone_is_kept_and_comes_to_the_lead(
    slack, bot, driver, clock
):
    """An answer that cannot be posted to "You said, we did" is kept all the same: its asker
    hears, and the public copy comes to the lead by DM, with why and how to set a channel."""
    slack.workspace.channels[GENERAL].name = "general-old"
    [q] = await on_board(bot, clock, ["Can supervision be fortnightly?"], named=(0,))
    clock.now = CUTOFF
    await bot.scheduler.run_now(AGENDA_JOB)
    await driver.slash_command(ENGAGEMENT_LEAD, "/engage", "queue")
    await bot.work.idle()
    queue = [s for s in slack.seen_by(ENGAGEMENT_LEAD) if s.kind == "response"][-1]
    await driver.click(ENGAGEMENT_LEAD, queue, ANSWER_ACTION, value=str(q))
    await bot.work.idle()
    [modal] = slack.views_for(ENGAGEMENT_LEAD)
    values = {"answer": {"answer": {"type": "plain_text_input", "value": "Yes, from May."}}}
    await driver.submit_view(ENGAGEMENT_LEAD, modal, values)
    await bot.work.idle()
    said = " ".join(b["text"]["text"] for b in slack.views_for(ENGAGEMENT_LEAD)[0]["blocks"])
    assert "is answered, and its asker will see it" in said
    assert "#general doesn't exist (or I can't see it)" in said
    assert "has come to you by direct message instead" in said
    assert "YOU_SAID_WE_DID_CHANNEL" in said
    assert await bot.outbox.idle(30)
    assert (await bot.storage.questions.get(q)).state == "answered"
    [public] = [m for m in slack.messages(ENGAGEMENT_LEAD) if m.text == "You said, we did"]
    assert "Yes, from May." in str(public.blocks)
    [told] = [m for m in slack.messages(SOCIAL_WORKERS[0]) if "has been answered" in m.text]
    assert "Yes, from May." in str(told.blocks)


async def test_engage_queue_keeps_the_questions_to_answer_when_busy(slack, bot, driver, clock):
    """Many pending and on the board: /engage queue still fits 50 blocks and keeps every part."""
    people = SOCIAL_WORKERS
    for n in range(22):
        asked = await stored_question(
            bot,
            people[n % 6],
            f"Board question {n}? " + "x" * 500,
            now=clock(),
            forum="pag",
            per_day=1000,
        )
        await bot.storage.questions.moderate(
            asked.question.id, action="accept", by=ENGAGEMENT_LEAD, now=clock()
        )
    clock.now = CUTOFF
    await bot.scheduler.run_now(AGENDA_JOB)  # 2 go on the agenda, 20 stay on the board
    for n in range(20):
        await stored_question(
            bot,
            people[n % 6],
            f"Pending {n}? <!channel> &",
            now=clock(),
            forum="pag",
            per_day=1000,
        )
    await driver.slash_command(ENGAGEMENT_LEAD, "/engage", "queue")
    await bot.work.idle()
    [reply] = [s for s in slack.seen_by(ENGAGEMENT_LEAD) if s.kind == "response"]
    assert validate_message_blocks(reply.blocks) == []
    assert "On the agenda: to answer" in str(reply.blocks)


async def test_a_merged_duplicates_asker_gets_the_answer(slack, bot, clock):
    """When the question a duplicate joined is answered, the duplicate's asker hears too."""
    kept, duplicate = await on_board(
        bot, clock, ["Can supervision be fortnightly?", "Fortnightly supervision?"], named=(0, 1)
    )
    await bot.storage.questions.moderate(
        duplicate, action="merge", by=ENGAGEMENT_LEAD, now=clock(), into=kept
    )
    await bot.storage.questions.answer(
        kept,
        answer="Yes, from January.",
        action="",
        by=ENGAGEMENT_LEAD,
        now=clock(),
        public_to=("channel", GENERAL),
        render_public=build_answer_public,
        render_news=build_news,
    )
    bot.outbox.wake()
    assert await bot.outbox.idle(30)
    heard = [m for m in slack.messages(SOCIAL_WORKERS[1]) if "Yes, from January." in str(m.blocks)]
    mine = await bot.storage.questions.mine(SOCIAL_WORKERS[1], lambda ref: "")
    assert len(heard) == 1  # by DM, under their own reference
    assert any(q.answer == "Yes, from January." for q in mine)  # and under My questions


async def test_a_question_write_that_cannot_commit_in_time_is_refused_not_late(bot, driver):
    """A stalled disk: the person is told in time that nothing was kept, before Slack's 3 s."""
    bot.storage.writer.before_commit = lambda: time.sleep(3.5)
    began = time.monotonic()
    response = await raw_submit(
        driver, SOCIAL_WORKERS[0], form("Can we have more laptops?", forum="pag")
    )
    took = time.monotonic() - began
    bot.storage.writer.before_commit = None
    assert took < 3.0, f"answered Slack after {took:.1f} s ({response.json})"


async def test_first_start_after_a_cutoff_posts_no_empty_agenda(slack, config, clock):
    """A bot first started (or a forum first configured) after a cut-off must not post an
    empty agenda at once and close that meeting before anyone could ask: a question accepted
    before the meeting still makes its agenda."""
    clock.now = datetime(2026, 12, 15, 9, tzinfo=UTC)
    los, runner = await started(config, clock)
    try:
        await los.scheduler.run_now(AGENDA_JOB)
        assert await los.outbox.idle(30)
        assert posts(slack, PAG) == []
        await on_board(los, clock, ["Asked after the cut-off?"])
        await los.scheduler.run_now(AGENDA_JOB)
        assert await los.outbox.idle(30)
        [agenda] = posts(slack, PAG)
        assert "Asked after the cut-off?" in str(agenda.blocks)
        assert "17 Dec 2026" in str(agenda.blocks)
    finally:
        await runner.cleanup()
        await los.stop()


@pytest.mark.parametrize(
    "question",
    [
        "Supervision policy changed 3 March 2025 - why weren't we told?",
        "The email sent 4 March 2025 said mileage would go up. Has it?",
        "Since Covid started 23 March 2020, hybrid working has stayed. Will it?",
        "Is it true the LADO changed 3 June 2024?",
        "Our team moved offices 12/03/2019 and parking is still an issue",
    ],
)
def test_ordinary_questions_with_a_past_date_pass_the_guardrail(question):
    """Two words before a past date are not a name when they read as a sentence."""
    assert find_case_detail(question, this_year=2026) == []


def _states(db_path, tmp_path):
    """Each committed state that a copy of the database and its WAL holds: what anyone with
    the files (not the key) can read, by cutting the WAL after each commit frame."""
    import shutil
    import sqlite3
    import struct

    path = db_path.parent / (db_path.name + "-wal")
    wal = path.read_bytes() if path.exists() else b""
    if len(wal) < 32:
        return []  # emptied: no commits to replay
    page_size = struct.unpack(">I", wal[8:12])[0]
    salts = wal[16:24]
    states, offset, n = [], 32, 0
    while offset + 24 + page_size <= len(wal):
        header = wal[offset : offset + 24]
        if header[8:16] != salts:
            break
        offset += 24 + page_size
        if struct.unpack(">I", header[4:8])[0]:  # a commit frame
            n += 1
            work = tmp_path / f"state{n}"
            work.mkdir()
            shutil.copy(db_path, work / "x.db")
            (work / "x.db-wal").write_bytes(wal[:offset])
            with sqlite3.connect(work / "x.db") as db:
                try:
                    db.execute("SELECT 1 FROM question_quota")
                except sqlite3.OperationalError:
                    continue  # before the migrations
                states.append(
                    (
                        dict(db.execute("SELECT ref, asked_by FROM questions")),
                        dict(db.execute("SELECT tag, asked FROM question_quota")),
                    )
                )
    return states


async def test_the_wal_does_not_link_an_anonymous_question_to_its_askers_named_one(
    bot, clock, config, tmp_path
):
    """The daily count is bumped in the same commit as each question; the WAL, which keeps
    commits in order, is emptied after an anonymous one, so no copy can match the two."""
    who = SOCIAL_WORKERS[0]
    await stored_question(bot, who, "Named one?", now=clock(), anonymous=False, forum="pag")
    await stored_question(bot, SOCIAL_WORKERS[1], "Someone else's?", now=clock(), forum="pag")
    secret = await stored_question(bot, who, "Anonymous one?", now=clock(), forum="pag")
    states = _states(config.database_path, tmp_path)
    bumped_by = {}  # question ref -> the quota tag its commit bumped
    for (before_q, before_t), (after_q, after_t) in itertools.pairwise(states):
        new = set(after_q) - set(before_q)
        tags = {t for t in after_t if after_t[t] != before_t.get(t)}
        for ref in new:
            bumped_by[ref] = (tags, after_q[ref])
    named_tags = {t for tags, by in bumped_by.values() if by == who for t in tags}
    if secret.question.ref in bumped_by:
        assert not (bumped_by[secret.question.ref][0] & named_tags), "linked through the WAL"
