"""The surgery on a council's first day (issue 18): the default #staff-surgery and
#you-said-we-did do not exist, yet agendas and answers reach someone and the lead is told
where, and how to set a channel; `/ask` refuses a too-long question with its count and a
question without words; help shows what it means; no label reads "(optional) (optional)"."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from handlers.surgery.blocks import ANSWER_ACTION
from handlers.surgery.commands import agenda_reply, too_long_blocks
from handlers.surgery.common import HELP
from handlers.surgery.jobs import Drawn
from handlers.surgery.rules import has_words, question_errors
from slack_standin.blockkit import validate_message_blocks
from tests.conftest import ENGAGEMENT_LEAD, SOCIAL_WORKERS, stored_question
from tests.test_surgery import form, open_modal, raw_submit, responses

REPO = Path(__file__).resolve().parents[1]
ASKER = SOCIAL_WORKERS[0]


def text_of(blocks) -> str:
    return " ".join((b.get("text") or {}).get("text", "") for b in blocks)


async def test_day_one_the_agenda_goes_to_the_leads_and_the_reply_says_where(slack, bot, driver):
    asked = await stored_question(bot, ASKER, "Can we meet in person?", now=bot.deps.clock())
    await bot.storage.questions.moderate(
        asked.question.id, action="accept", by=ENGAGEMENT_LEAD, now=bot.deps.clock()
    )
    [reply] = await responses(driver, bot, ENGAGEMENT_LEAD, "/engage", "agenda surgery")
    assert "The Monthly staff surgery agenda is drawn up (1 question, 0 carried" in reply.text
    assert "#staff-surgery doesn't exist (or I can't see it)" in reply.text
    assert "gone to the engagement leads by direct message, you included" in reply.text
    assert "SURGERY_CHANNEL" in reply.text
    assert await bot.outbox.idle(30)
    [agenda] = [m for m in slack.messages(ENGAGEMENT_LEAD) if "the agenda" in m.text]
    assert "Can we meet in person?" in text_of(agenda.blocks)
    assert "so this agenda comes to you" in text_of(agenda.blocks)
    # Asked again: one answer, not an either/or.
    [again] = await responses(driver, bot, ENGAGEMENT_LEAD, "/engage", "agenda surgery")
    assert "The next Monthly staff surgery agenda was drawn up already (" in again.text
    assert "cannot be found" not in again.text


async def test_day_one_an_answer_is_kept_and_the_lead_is_told_where_it_went(slack, bot, driver):
    asked = await stored_question(
        bot, ASKER, "Can we meet in person?", now=bot.deps.clock(), anonymous=False
    )
    await bot.storage.questions.moderate(
        asked.question.id, action="accept", by=ENGAGEMENT_LEAD, now=bot.deps.clock()
    )
    await responses(driver, bot, ENGAGEMENT_LEAD, "/engage", "agenda surgery")
    [queue] = await responses(driver, bot, ENGAGEMENT_LEAD, "/engage", "queue")
    await driver.click(ENGAGEMENT_LEAD, queue, ANSWER_ACTION, value=str(asked.question.id))
    await bot.work.idle()
    [modal] = slack.views_for(ENGAGEMENT_LEAD)
    values = {"answer": {"answer": {"type": "plain_text_input", "value": "Yes, monthly."}}}
    await driver.submit_view(ENGAGEMENT_LEAD, modal, values)
    await bot.work.idle()
    said = text_of(slack.views_for(ENGAGEMENT_LEAD)[-1]["blocks"])
    assert "#you-said-we-did doesn't exist (or I can't see it)" in said
    assert "YOU_SAID_WE_DID_CHANNEL" in said
    assert "so nothing was kept" not in said
    assert (await bot.storage.questions.get(asked.question.id)).state == "answered"
    assert await bot.outbox.idle(30)
    [public] = [m for m in slack.messages(ENGAGEMENT_LEAD) if m.text == "You said, we did"]
    assert "Yes, monthly." in text_of(public.blocks)
    assert [m for m in slack.messages(ASKER) if "has been answered" in m.text]


async def test_a_too_long_question_is_refused_with_its_count_never_cut(slack, bot, driver):
    long = "Why is the rota like this & not fairer? " * 100 + "End."  # 4,004 characters
    [reply] = await responses(driver, bot, ASKER, "/ask", long)
    assert reply.text.startswith("Your question is 4,004 characters: the limit is 3,000")
    assert slack.views_for(ASKER) == []  # nothing opened with a cut question
    assert validate_message_blocks(reply.blocks) == []
    # The whole question comes back, escaped, to copy: nothing cut, nothing added.
    assert "".join(b["text"]["text"] for b in reply.blocks[1:]) == long.replace("&", "&amp;")
    response = await raw_submit(driver, ASKER, form("xy " * 1337 + "x"))
    assert response.json["errors"]["question"].startswith("4,012 characters: the limit is 3,000")
    assert await bot.storage.call(lambda db: db["questions"].count) == 0


@pytest.mark.parametrize("text", ["?", "???", "1?", ":) ?"])
async def test_a_question_needs_words(bot, driver, text):
    view = await open_modal(driver, bot, ASKER)
    response = await driver.submit_view(ASKER, view, form(text))
    assert "Write your question in words" in response.json["errors"]["question"]
    assert await bot.storage.call(lambda db: db["questions"].count) == 0


async def test_ask_help_shows_what_to_type(driver, bot):
    [reply] = await responses(driver, bot, ASKER, "/ask", "help")
    assert "`/ask &lt;your question&gt;`" in reply.text
    assert "<your question>" not in reply.text


# --- rules and builders, fast ----------------------------------------------------------------


def test_words_and_counts():
    assert not has_words("?")
    assert not has_words("12?")
    assert has_words("Why?")
    errors = question_errors("a" * 3001, "T", "surgery", topics=("T",), forums=("surgery",))
    assert errors == {
        "question": "3,001 characters: the limit is 3,000. Please shorten it: nothing was kept."
    }
    assert "<your question>" not in HELP


def test_a_long_question_comes_back_whole_even_when_escaping_grows_it():
    text = "&" * 2500  # escaped: 12,500 characters, too many to show back in one message
    blocks = too_long_blocks(text)
    assert validate_message_blocks(blocks) == []
    assert "too long for me to show it back" in blocks[0]["text"]["text"]
    shown = too_long_blocks("ab&<" * 800)  # 3,200 characters, 8,800 escaped
    assert validate_message_blocks(shown) == []
    assert "".join(b["text"]["text"] for b in shown[1:]) == ("ab&amp;&lt;" * 800)


class _Config:
    timezone = __import__("zoneinfo").ZoneInfo("Europe/London")


class _Deps:
    config = _Config()


def test_the_agenda_reply_is_one_answer_per_outcome():
    deps = _Deps()
    posted = agenda_reply(Drawn("posted", "#staff-surgery", 2, 1), "Monthly staff surgery", deps)
    assert posted == (
        "The Monthly staff surgery agenda is posted in #staff-surgery: 2 questions, 1 carried "
        "forward to the meeting after."
    )
    already = agenda_reply(
        Drawn("already", drawn_at="2026-12-01T10:00:00+00:00"), "Monthly staff surgery", deps
    )
    assert "drawn up already (" in already
    assert " or " not in already
    nowhere = agenda_reply(Drawn("nowhere", why="#x doesn't exist", how="Set it."), "PAG", deps)
    assert "not drawn up: #x doesn't exist" in nowhere
    assert "Set it." in nowhere


def test_no_optional_input_says_optional_twice():
    """Slack adds "(optional)" to an optional input's label itself: a label that says it too
    reads "(optional) (optional)"."""
    found = []
    for path in (REPO / "handlers").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "InputBlock"):
                continue
            kw = {k.arg: k.value for k in node.keywords}
            optional = kw.get("optional")
            label = kw.get("label")
            if (
                isinstance(optional, ast.Constant)
                and optional.value is True
                and isinstance(label, ast.Constant)
                and "optional" in str(label.value).lower()
            ):
                found.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert found == []
