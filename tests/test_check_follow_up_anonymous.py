"""An anonymous check's clarification: it reaches everyone the check reached (nothing says who
got the question wrong), asks that one question again, and the results compare before and
after, while answering again stores nothing that names anyone."""

from __future__ import annotations

import pytest

from bot.comprehension import FOLLOW_UP_ACTION, REANSWER_ACTION, TAKE_ACTION
from slack_standin import Workspace
from slack_standin.harness import posts
from tests.conftest import ENGAGEMENT_LEAD, SOCIAL_WORK_ALL, publish_confirmed
from tests.test_check_privacy import ANONYMOUS, answers, occurrences


@pytest.fixture
def workspace():
    return Workspace.sample(n_staff=30)


@pytest.fixture
def content_dir(tmp_path):
    folder = tmp_path / "content" / "briefings"
    folder.mkdir(parents=True)
    (folder / "staff-survey.md").write_text(ANONYMOUS, encoding="utf-8")
    return tmp_path / "content"


async def take(driver, bot, person, choice):
    [post] = posts(driver.standin, SOCIAL_WORK_ALL)
    await driver.click(person, post, TAKE_ACTION)
    await bot.work.idle()
    [view] = driver.standin.views_for(person)
    await driver.submit_view(person, view, answers(choice))
    await bot.work.idle()
    await driver.close_view(person, driver.standin.views_for(person)[0])


async def results_text(driver, bot):
    def responses():
        return [s for s in driver.standin.seen_by(ENGAGEMENT_LEAD) if s.kind == "response"]

    since = len(responses())
    await driver.slash_command(ENGAGEMENT_LEAD, "/engage", "results staff-survey")
    await bot.work.idle()
    [seen] = responses()[since:]
    return seen, "\n".join(b["text"]["text"] for b in seen.blocks if b.get("text"))


async def reached_by(bot):
    rows = await bot.storage.call(
        lambda db: db.execute("SELECT DISTINCT user_id FROM recipients ORDER BY 1").fetchall()
    )
    return [r[0] for r in rows]


def clarifications(slack, person):
    return [m for m in slack.messages(person) if "A clarification on" in m.text]


async def send_clarification(driver, bot, slack, seen, note):
    await driver.click(ENGAGEMENT_LEAD, seen, f"{FOLLOW_UP_ACTION}_1")
    await bot.work.idle()
    [modal] = slack.views_for(ENGAGEMENT_LEAD)
    asked = str(modal["blocks"])
    await driver.submit_view(
        ENGAGEMENT_LEAD, modal, {"note": {"note": {"type": "plain_text_input", "value": note}}}
    )
    await bot.work.idle()
    [done] = slack.views_for(ENGAGEMENT_LEAD)
    told = str(done["blocks"])
    await driver.close_view(ENGAGEMENT_LEAD, done)
    return asked, told


async def reanswer(driver, bot, slack, person, choice):
    [message] = clarifications(slack, person)
    await driver.click(person, message, REANSWER_ACTION)
    await bot.work.idle()
    [view] = slack.views_for(person)
    await driver.submit_view(person, view, answers(choice))
    await bot.work.idle()
    [feedback] = slack.views_for(person)
    await driver.close_view(person, feedback)
    return str(feedback["blocks"])


async def test_a_clarification_on_an_anonymous_check_goes_to_all_it_reached_and_asks_again(
    slack, bot, driver, config
):
    await publish_confirmed(driver, bot, "publish staff-survey")
    assert await bot.outbox.idle(30)
    reached = await reached_by(bot)
    assert len(reached) == 30
    wrong, right = reached[:5], reached[5:12]
    for person in wrong:
        await take(driver, bot, person, "1")
    for person in right:
        await take(driver, bot, person, "0")
    seen, text = await results_text(driver, bot)
    modal, done = await send_clarification(
        driver, bot, slack, seen, "Lower caseloads came first, by far."
    )
    assert "nothing says who got question 1" in modal
    assert "Sent to everyone it reached (30)" in done
    assert await bot.outbox.idle(30)
    # Everyone it reached, once each, whatever they answered: the list says nothing of anyone.
    assert [len(clarifications(slack, p)) for p in reached] == [1] * 30
    [message] = clarifications(slack, wrong[0])
    assert "Lower caseloads came first, by far." in message.blocks[0]["text"]["text"]
    assert "What did most staff ask for?" in message.blocks[1]["text"]["text"]

    # Answering again adds nothing that names the person, and counts once.
    await bot.storage.call(lambda db: db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall())
    before = {p: occurrences(config.database_path, p) for p in wrong + right}
    for person in wrong[:4] + right[:6]:
        assert "That's right" in await reanswer(driver, bot, slack, person, "0")
    feedback = await reanswer(driver, bot, slack, wrong[4], "1")
    assert "The answer is *Lower caseloads*" in feedback
    assert "Lower caseloads came first in the survey." in feedback  # the explanation
    after = {p: occurrences(config.database_path, p) for p in wrong + right}
    assert after == before
    assert "answered this again already" in await reanswer(driver, bot, slack, wrong[0], "1")
    rows = await bot.storage.call(lambda db: list(db.query("SELECT * FROM check_reanswers")))
    assert len(rows) == 11
    assert set(rows[0]) == {"id", "broadcast_id", "option", "correct"}

    _, text = await results_text(driver, bot)
    assert "clarification on question 1 to everyone reached (30)" in text
    assert "; at first 58% correct (7 of 12); answered again since by 11: 91% correct (10)" in text

    # Closing drops the hashes that counted each person once; a late answer is refused.
    check = await bot.storage.checks.latest("staff-survey")
    assert check is not None
    assert await bot.storage.checks.close(check, bot.deps.clock())
    assert await bot.storage.call(lambda db: db["check_reanswered"].count) == 0
    [message] = clarifications(slack, wrong[4])
    await driver.click(wrong[4], message, REANSWER_ACTION)
    await bot.work.idle()
    assert "has closed" in str(slack.views_for(wrong[4])[0]["blocks"])


async def test_a_few_answers_again_are_not_shown_and_a_nudge_shows_then_and_now(slack, bot, driver):
    await publish_confirmed(driver, bot, "publish staff-survey")
    assert await bot.outbox.idle(30)
    reached = await reached_by(bot)
    for person in reached[:10]:
        await take(driver, bot, person, "1")
    seen, _ = await results_text(driver, bot)
    await send_clarification(driver, bot, slack, seen, "It was caseloads.")
    assert await bot.outbox.idle(30)
    for person in reached[:3]:
        await reanswer(driver, bot, slack, person, "0")
    seen, text = await results_text(driver, bot)
    assert "answers given again show once 10 or more have answered again" in text
    assert "answered again since by" not in text  # three people's answers: not shown
    await driver.click(ENGAGEMENT_LEAD, seen, f"{FOLLOW_UP_ACTION}_none")
    await bot.work.idle()
    [modal] = slack.views_for(ENGAGEMENT_LEAD)
    note = {"note": {"note": {"type": "plain_text_input", "value": "Please take it."}}}
    await driver.submit_view(ENGAGEMENT_LEAD, modal, note)
    await bot.work.idle()
    await driver.close_view(ENGAGEMENT_LEAD, slack.views_for(ENGAGEMENT_LEAD)[0])
    assert await bot.outbox.idle(30)

    def nudges(person):
        """A nudge is a reminder to take the check, and says so: not a clarification."""
        return [m for m in slack.messages(person) if "A reminder to take the check on" in m.text]

    assert [len(nudges(p)) for p in reached] == [1] * 30
    assert "clarification" not in str(nudges(reached[0])[0].blocks).lower()
    assert "If you haven't taken the check yet" in str(nudges(reached[0])[0].blocks)
    for person in reached[10:20]:
        await driver.click(person, nudges(person)[0], TAKE_ACTION)
        await bot.work.idle()
        [view] = slack.views_for(person)
        await driver.submit_view(person, view, answers("0"))
        await bot.work.idle()
        await driver.close_view(person, slack.views_for(person)[0])
        if person == reached[11]:  # two more: not shown yet
            _, text = await results_text(driver, bot)
            assert "a nudge to everyone reached (30); took the check: 10 then, 10 now" in text
    _, text = await results_text(driver, bot)
    assert "a nudge to everyone reached (30); took the check: 10 then, 20 now" in text
