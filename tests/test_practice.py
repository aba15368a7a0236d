"""Practice search as staff and engagement leads use it in Slack: `/practice`, the search modal,
a note in full, "Did this help?", the gaps, raising one at the surgery, and reloading."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.practice import library as library_module
from bot.practice.library import Library
from handlers.practice.blocks import (
    HELPED_ACTION,
    NOT_HELPED_ACTION,
    OPEN_NOTE_ACTION,
    OPEN_SEARCH_ACTION,
    RAISE_ACTION,
    SEARCH_CALLBACK,
    build_note_view,
    build_results,
)
from slack_standin.harness import shown_with
from tests.conftest import ENGAGEMENT_LEAD, SOCIAL_WORKERS
from tests.test_check_privacy import occurrences

REPO = Path(__file__).resolve().parents[1]
WORKER = SOCIAL_WORKERS[0]


@pytest.fixture
def content_dir(tmp_path):
    """A copy of the shipped content, so a test can add or break a file."""
    folder = tmp_path / "content"
    shutil.copytree(REPO / "content", folder)
    return folder


def responses(slack, user):
    return [s for s in slack.seen_by(user) if s.kind == "response"]


def text_of(blocks) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def displayed(blocks) -> str:
    """Only what Slack renders (every "text"), not what a button carries back."""
    found: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    found.append(value)
                elif key != "value":
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(found)


async def practice(driver, bot, user, text):
    await driver.slash_command(user, "/practice", text)
    await bot.work.idle()
    return responses(driver.standin, user)[-1]


async def gap_rows(bot):
    return await bot.storage.call(
        lambda db: [tuple(r) for r in db.execute("SELECT * FROM practice_gaps").fetchall()]
    )


async def test_a_search_answers_privately_with_the_best_notes_their_owner_review_and_who_can_help(
    slack, bot, driver
):
    seen = await practice(driver, bot, WORKER, "CSE")
    shown = text_of(seen.blocks)
    notes = [b["block_id"] for b in seen.blocks if b.get("block_id", "").startswith("note:")]
    assert notes[0] == "note:child-exploitation"
    assert len(notes) <= 3
    assert "Child sexual and criminal exploitation" in shown
    assert "Child Exploitation Team Manager · reviewed 5 October 2026" in shown
    assert "*Who can help*" in shown
    assert "020 7946 0312" in shown
    assert "#child-exploitation" in shown
    # The matched words, bold in the passage: the abbreviation found its spelled-out form.
    assert "*child sexual exploitation*" in shown.lower()
    assert shown_with(slack, WORKER, HELPED_ACTION) is not None
    assert seen.kind == "response"
    assert seen.channel.startswith("D")  # only they see it
    assert await gap_rows(bot) == []  # it found something: no gap


async def test_no_match_is_never_a_dead_end_and_keeps_only_the_words_and_the_day(
    slack, bot, driver, config
):
    seen = await practice(driver, bot, WORKER, "xylophone budgeting rota")
    shown = text_of(seen.blocks)
    assert "I couldn't find practice guidance for “xylophone budgeting rota”" in shown
    assert "Our practice standards" in shown  # what the library does hold
    assert "Ask the staff surgery" in shown  # and the surgery for what it doesn't
    [(day, query, reason, count)] = await gap_rows(bot)
    assert (query, reason, count) == ("xylophone budgeting rota", "no_match", 1)
    assert day == datetime.now(ZoneInfo("Europe/London")).date().isoformat()
    # Nothing stored says who searched: not their id, in the database or its WAL.
    assert occurrences(config.database_path, WORKER) == 0


async def test_a_search_that_looks_like_case_detail_is_answered_but_not_kept(slack, bot, driver):
    seen = await practice(driver, bot, WORKER, "Jayden Smith born 03/04/2015 zebra")
    assert "I couldn't find practice guidance" in text_of(seen.blocks)
    assert await gap_rows(bot) == []


async def test_fts_syntax_and_mentions_in_a_search_are_words_never_errors_or_pings(
    slack, bot, driver
):
    for query in ['"lado', "lado*", "NEAR(lado", "-lado", "^lado", "title:lado", "(lado", "AND"]:
        seen = await practice(driver, bot, WORKER, query)
        assert "Sorry" not in seen.text, query
    seen = await practice(driver, bot, WORKER, "<!channel> <@U0SW02> lado")
    shown = displayed(seen.blocks)
    assert "<!channel>" not in shown
    assert "<@U0SW02>" not in shown
    assert "&lt;!channel&gt;" in shown
    assert "Allegations against adults who work with children" in shown


async def test_a_long_search_is_cut_with_a_note(slack, bot, driver):
    seen = await practice(driver, bot, WORKER, "supervision " * 60)
    shown = text_of(seen.blocks)
    assert "I used its first 500 characters" in shown
    assert "note:supervision" in shown


async def test_help_and_the_search_box(slack, bot, driver):
    seen = await practice(driver, bot, WORKER, "help")
    assert "/practice <what you're looking for>" in seen.text
    await driver.slash_command(WORKER, "/practice", "")
    await bot.work.idle()
    [view] = slack.views_for(WORKER)
    assert view["callback_id"] == SEARCH_CALLBACK


async def test_the_search_modal_shows_results_and_opens_a_note_over_them(slack, bot, driver):
    await driver.slash_command(WORKER, "/practice")
    await bot.work.idle()
    [view] = slack.views_for(WORKER)
    with pytest.raises(ValueError, match="required input"):  # Slack's client won't submit it
        await driver.submit_view(WORKER, view, {})
    response = await driver.submit_view(
        WORKER, view, {"practice_query": {"query": {"value": "   "}}}
    )
    assert response.json["errors"]["practice_query"].startswith("Type what you're looking for")
    await driver.submit_view(
        WORKER, view, {"practice_query": {"query": {"value": "public law outline"}}}
    )
    await bot.work.idle()
    [view] = slack.views_for(WORKER)
    assert "note:legal-gateway" in text_of(view["blocks"])
    await driver.click(WORKER, view, OPEN_NOTE_ACTION, value="legal-gateway")
    await bot.work.idle()
    stack = slack.views_for(WORKER)
    assert len(stack) == 2  # pushed over the results: Back returns to them
    note = text_of(stack[-1]["blocks"])
    assert "The legal gateway and the Public Law Outline (PLO)" in note
    assert "Care proceedings should finish within 26 weeks" in note
    assert "<https://" not in note  # this note has no source link


async def test_home_has_a_search_practice_button_that_opens_the_box(slack, bot, driver):
    await driver.app_home_opened(WORKER)
    await bot.work.idle()
    home = slack.home_view(WORKER)
    assert home is not None
    await driver.click(WORKER, home, OPEN_SEARCH_ACTION)
    await bot.work.idle()
    [view] = slack.views_for(WORKER)
    assert view["callback_id"] == SEARCH_CALLBACK


async def test_a_note_due_for_review_says_so_in_results_and_in_full(slack, bot, driver):
    seen = await practice(driver, bot, WORKER, "out of hours")
    shown = text_of(seen.blocks)
    assert "note:out-of-hours-duty" in shown
    assert "Due for review* · Team Manager, Emergency Duty Team · reviewed 20 October 2025" in shown
    message = seen.message
    await driver.click(WORKER, message, OPEN_NOTE_ACTION, value="out-of-hours-duty")
    await bot.work.idle()
    [view] = slack.views_for(WORKER)
    full = text_of(view["blocks"])
    assert "Due for review*: last reviewed 20 October 2025" in full
    assert "check with Team Manager, Emergency Duty Team before you rely on it" in full


async def test_due_for_review_follows_the_configured_age(content_dir):
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    for months, due in ((12, False), (6, True)):
        library = Library(
            content_dir, ZoneInfo("Europe/London"), review_months=months, clock=lambda: now
        )
        await library.load()
        note = library.note("supervision")  # reviewed 28 April 2026
        assert note is not None
        shown = text_of(build_note_view(note, library.due).to_dict()["blocks"])
        assert ("Due for review" in shown) is due, months


async def test_did_this_help_no_keeps_the_words_and_yes_counts_the_note(slack, bot, driver, config):
    seen = await practice(driver, bot, WORKER, "return home interview")
    await driver.click(WORKER, seen.message, NOT_HELPED_ACTION)
    await bot.work.idle()
    [(_, query, reason, count)] = await gap_rows(bot)
    assert (query, reason, count) == ("return home interview", "unhelpful", 1)
    after = responses(slack, WORKER)[-1]
    assert "Thanks for saying" in text_of(after.blocks)
    assert shown_with(slack, WORKER, NOT_HELPED_ACTION) is None  # the buttons are gone
    assert occurrences(config.database_path, WORKER) == 0

    other = SOCIAL_WORKERS[1]
    seen = await practice(driver, bot, other, "LADO")
    await driver.click(other, seen.message, HELPED_ACTION)
    await bot.work.idle()
    helped = await bot.storage.call(
        lambda db: [tuple(r) for r in db.execute("SELECT note_id, count FROM practice_helped")]
    )
    assert helped == [("lado", 1)]
    assert "glad it helped" in text_of(responses(slack, other)[-1].blocks)


async def test_did_this_help_in_the_modal_updates_the_modal(slack, bot, driver):
    await driver.slash_command(WORKER, "/practice")
    await bot.work.idle()
    [view] = slack.views_for(WORKER)
    await driver.submit_view(WORKER, view, {"practice_query": {"query": {"value": "IRO"}}})
    await bot.work.idle()
    [view] = slack.views_for(WORKER)
    await driver.click(WORKER, view, NOT_HELPED_ACTION)
    await bot.work.idle()
    [view] = slack.views_for(WORKER)
    assert "Thanks for saying" in text_of(view["blocks"])
    assert (await gap_rows(bot))[0][1:3] == ("iro", "unhelpful")


async def test_engagement_leads_see_the_gaps_most_searched_first_and_raise_one_once(
    slack, bot, driver
):
    for query in ["xylophone rota", "Xylophone  rota", "quokka allowance", "xylophone rota"]:
        await practice(driver, bot, WORKER, query)
    await driver.slash_command(WORKER, "/engage", "gaps")
    await bot.work.idle()
    assert "Only engagement leads" in responses(slack, WORKER)[-1].text

    await driver.slash_command(ENGAGEMENT_LEAD, "/engage", "gaps")
    await bot.work.idle()
    seen = responses(slack, ENGAGEMENT_LEAD)[-1]
    shown = text_of(seen.blocks)
    assert shown.index("xylophone rota") < shown.index("quokka allowance")
    assert "3 searches (3 found nothing)" in shown
    await driver.click(ENGAGEMENT_LEAD, seen.message, RAISE_ACTION, value="xylophone rota")
    await bot.work.idle()
    [question] = await bot.storage.call(
        lambda db: [
            tuple(r)
            for r in db.execute(
                "SELECT text, state, forum, asked_by, asker, anonymous FROM questions"
            )
        ]
    )
    text, state, forum, asked_by, asker, anonymous = question
    assert "“xylophone rota”" in text
    assert "(3 searches)" in text
    assert (state, forum, asked_by, asker, anonymous) == ("accepted", "pag", None, None, 1)
    after = text_of(responses(slack, ENGAGEMENT_LEAD)[-1].blocks)
    assert "Raised as *Q-" in after
    assert "*: on the question board." in after  # the list now says so for that gap
    # The Practice Advisory Group takes it (practice questions), and the button says so.
    assert "Raise at the PAG" in after
    assert shown_with(slack, ENGAGEMENT_LEAD, RAISE_ACTION) is not None  # the quokka's is left
    # Raised once: a second go (an old copy of the list, another lead) raises nothing new.
    status, ref = await bot.storage.gaps.raise_as_question(
        "xylophone rota",
        text="again",
        topic="Practice",
        forum="pag",
        by=ENGAGEMENT_LEAD,
        now=datetime.now(UTC),
    )
    assert status == "already"
    assert str(ref).startswith("Q-")
    assert await bot.storage.call(lambda db: db["questions"].count) == 1


async def test_reload_reads_new_guidance_and_a_broken_file_is_left_out_not_fatal(
    slack, bot, driver, content_dir, caplog
):
    (content_dir / "practice" / "family-time.md").write_text(
        "---\nid: family-time\ntitle: Family time (contact) for children looked after\n"
        "owner: Head of Children Looked After\nreviewed: 2026-11-20\ntags: [contact]\n---\n"
        "Family time is planned with the child, and supervised where the plan says so.\n",
        encoding="utf-8",
    )
    (content_dir / "practice" / "broken.md").write_text("---\nid: broken\n", encoding="utf-8")
    caplog.set_level(logging.WARNING)
    await driver.slash_command(WORKER, "/engage", "reload")
    await bot.work.idle()
    assert "Only engagement leads" in responses(slack, WORKER)[-1].text
    await driver.slash_command(ENGAGEMENT_LEAD, "/engage", "reload")
    await bot.work.idle()
    said = responses(slack, ENGAGEMENT_LEAD)[-1].text
    assert "Practice guidance reloaded: 13 note(s) and 14 directory entries" in said
    assert "broken.md" in said
    assert "content check" in said
    assert any("broken.md was skipped" in r.getMessage() for r in caplog.records)
    seen = await practice(driver, bot, WORKER, "family time")
    assert "note:family-time" in text_of(seen.blocks)


async def test_malformed_notes_and_directory_never_stop_the_bot(tmp_path, slack, caplog):
    from bot.app import LineOfSight
    from bot.config import Config
    from tests.conftest import BOT_TOKEN, SIGNING_SECRET

    content = tmp_path / "content"
    shutil.copytree(REPO / "content", content)
    (content / "directory.yaml").write_text("- id: [unclosed\n", encoding="utf-8")
    (content / "practice" / "lado.md").write_text("no front matter\n", encoding="utf-8")
    (content / "glossary.yaml").write_text("CSE: [unclosed\n", encoding="utf-8")
    config = Config.from_env(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_PATH": str(tmp_path / "los.db"),
            "CONTENT_DIR": str(content),
        },
        dotenv=None,
    )
    caplog.set_level(logging.WARNING)
    bot = LineOfSight(config)
    await bot.start()
    try:
        shelf = bot.deps.practice.shelf
        assert shelf is not None
        assert "lado" not in shelf.notes
        assert shelf.entries == {}
        assert len(shelf.notes) == 11  # the rest still load
        logged = " ".join(r.getMessage() for r in caplog.records)
        assert "lado.md was skipped" in logged
        assert "directory.yaml was skipped" in logged
        assert "glossary.yaml was skipped" in logged
        found = await bot.deps.practice.search("CSE")  # the shipped glossary still serves
        assert found.notes[0][1].id == "child-exploitation"
    finally:
        await bot.stop()


async def test_a_search_during_a_rebuild_answers_from_the_old_index(tmp_path, monkeypatch):
    content = tmp_path / "content"
    shutil.copytree(REPO / "content", content)
    library = Library(
        content, ZoneInfo("Europe/London"), review_months=12, clock=lambda: datetime.now(UTC)
    )
    await library.load()
    release = threading.Event()
    real_build = library_module.build_shelf

    def slow_build(*args):
        release.wait(10)
        return real_build(*args)

    monkeypatch.setattr(library_module, "build_shelf", slow_build)
    (content / "practice" / "lado.md").unlink()
    rebuilding = asyncio.create_task(library.load())
    await asyncio.sleep(0.05)
    found = await library.search("LADO")  # not blocked, and still the old guidance
    assert found.notes[0][1].id == "lado"
    release.set()
    await rebuilding
    found = await library.search("local authority designated officer")
    assert "lado" not in [n.id for _, n in found.notes]


def test_results_builder_escapes_content_and_offers_feedback():
    from bot.practice.library import Found

    blocks = [b.to_dict() for b in build_results(Found("<!here>", False), lambda d: False)]
    assert "&lt;!here&gt;" in displayed(blocks)
    assert "<!here>" not in displayed(blocks)  # the Ask button carries it back, unshown


async def test_the_gaps_list_is_kept_a_year_then_dropped(storage):
    from datetime import date

    await storage.gaps.record_gap("old words", "no_match", date(2025, 1, 1))
    await storage.gaps.record_gap("new words", "no_match", date(2026, 12, 1))
    kept = await storage.call(
        lambda db: [r[0] for r in db.execute("SELECT query FROM practice_gaps")]
    )
    assert kept == ["new words"]


async def test_the_engage_help_lists_gaps_and_reload(slack, bot, driver):
    await driver.slash_command(ENGAGEMENT_LEAD, "/engage", "help")
    await bot.work.idle()
    said = responses(slack, ENGAGEMENT_LEAD)[-1].text
    assert "/engage gaps" in said
    assert "/engage reload" in said


async def test_a_search_with_nothing_to_search_by_gets_help_and_is_not_a_gap(slack, bot, driver):
    for query in ("???", "what is the", "AND", "-"):
        seen = await practice(driver, bot, WORKER, query)
        assert seen.text.startswith("There's nothing in that to search by"), query
    assert await gap_rows(bot) == []
    await driver.slash_command(WORKER, "/practice")
    await bot.work.idle()
    [view] = slack.views_for(WORKER)
    response = await driver.submit_view(
        WORKER, view, {"practice_query": {"query": {"value": "what is the"}}}
    )
    assert "nothing in that to search by" in response.json["errors"]["practice_query"]


async def test_possessives_and_long_non_latin_searches_still_work(slack, bot, driver):
    seen = await practice(driver, bot, WORKER, "LADO’s timescales")
    assert text_of(seen.blocks).index("note:lado") < text_of(seen.blocks).index("Who can help")
    seen = await practice(driver, bot, WORKER, "PLO's letter")
    assert "note:legal-gateway" in text_of(seen.blocks)
    # Emoji and other scripts take many characters once encoded: the buttons still fit.
    seen = await practice(driver, bot, WORKER, "cse " + "🙂" * 300)
    assert "note:child-exploitation" in text_of(seen.blocks)
    await driver.click(WORKER, seen.message, NOT_HELPED_ACTION)
    await bot.work.idle()
    assert "Thanks for saying" in text_of(responses(slack, WORKER)[-1].blocks)


async def test_open_on_a_note_gone_since_says_so_in_the_modal(slack, bot, driver, content_dir):
    await driver.slash_command(WORKER, "/practice")
    await bot.work.idle()
    [view] = slack.views_for(WORKER)
    await driver.submit_view(WORKER, view, {"practice_query": {"query": {"value": "LADO"}}})
    await bot.work.idle()
    (content_dir / "practice" / "lado.md").unlink()
    await bot.deps.practice.load()
    [view] = slack.views_for(WORKER)
    await driver.click(WORKER, view, OPEN_NOTE_ACTION, value="lado")
    await bot.work.idle()
    assert "no longer in the guidance" in text_of(slack.views_for(WORKER)[-1]["blocks"])


async def test_a_forged_yes_for_a_note_that_is_not_there_counts_nothing(slack, bot, driver):
    seen = await practice(driver, bot, WORKER, "LADO")
    forged = json.dumps({"q": "LADO", "n": ["no-such-note"]})
    for block in seen.message.blocks:
        for element in block.get("elements", []):
            if isinstance(element, dict) and "value" in element:
                element["value"] = forged
    await driver.click(WORKER, seen.message, HELPED_ACTION)
    await bot.work.idle()
    assert await bot.storage.call(lambda db: db["practice_helped"].count) == 0


def test_a_passage_is_at_most_600_characters_and_its_bold_is_closed():
    from bot.practice.search import Document, Index, load_glossary

    body = "lado " + "<" * 4000 + " lado"
    [hit] = Index([Document("note", "n", "A note", "", body)], load_glossary()).search("lado")
    assert len(hit.passage) <= 600 + 10
    assert hit.passage.count("*") % 2 == 0
    assert "&lt" in hit.passage
    assert "<" not in hit.passage


def test_a_note_longer_than_a_modal_says_where_the_rest_is():
    from bot.content.notes import PracticeNote

    body = "\n\n".join(f"Paragraph {n}: " + "word " * 500 for n in range(150))
    note = PracticeNote(
        "long",
        "Long",
        "The PSW",
        datetime(2026, 11, 1).date(),
        (),
        "https://x.example/doc",
        None,
        body,
        "p",
    )
    blocks = build_note_view(note, lambda d: False).to_dict()["blocks"]
    assert len(blocks) == 100
    assert (
        "longer than Slack shows. Read the rest in <https://x.example/doc|the full document>"
        in (blocks[-1]["text"]["text"])
    )


async def test_a_channel_slack_knows_is_a_link_in_who_can_help(slack, bot, driver):
    slack.workspace.add_channel("C0CSE", "child-exploitation", members=[WORKER])
    seen = await practice(driver, bot, WORKER, "CSE")
    shown = displayed(seen.blocks)
    assert "<#C0CSE>" in shown  # a link to the channel, not a ping
    assert "#child-exploitation" not in shown
    seen = await practice(driver, bot, WORKER, "LADO")  # no channel: its phone instead
    assert "020 7946 0420" in displayed(seen.blocks)
