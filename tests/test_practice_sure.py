"""Practice search says how sure it is, as staff and leads see it in Slack (the stand-in):
strong matches first and weak ones under "Might help"; nothing found offers "Ask the surgery",
which opens the surgery's question modal with the search's words in it; a lead dismisses a gap
for good; and keyboard noise never becomes a gap."""

from __future__ import annotations

import pytest

from bot.asking import ASK_WITH_TEXT_ACTION
from bot.slack.roles import Access
from handlers.practice import actions
from handlers.practice.blocks import (
    DISMISS_ACTION,
    NOT_HELPED_ACTION,
    RAISE_ACTION,
    SEARCH_CALLBACK,
)
from handlers.practice.common import LEADS_ONLY
from slack_standin.harness import shown_with
from tests.conftest import ENGAGEMENT_LEAD, SOCIAL_WORKERS
from tests.test_practice import displayed, gap_rows, practice, responses
from tests.test_practice_listeners import LEAD, NOW, Ack, fake_deps, gap_queries

WORKER = SOCIAL_WORKERS[0]


def note_ids(blocks) -> list[str]:
    return [b["block_id"][5:] for b in blocks if b.get("block_id", "").startswith("note:")]


def might_help_at(blocks) -> int:
    ids = [b.get("block_id") for b in blocks]
    return ids.index("might-help") if "might-help" in ids else len(ids)


async def test_a_strong_match_leads_and_weak_ones_sit_under_might_help(slack, bot, driver):
    seen = await practice(driver, bot, WORKER, "interpreter for a deaf parent")
    shown = displayed(seen.blocks)
    # The interpreting service holds every word: it leads, under "Who can help".
    assert shown.index("*Who can help*") < shown.index("Interpreting")
    # The PLO note has only "parent": it is offered, but under "Might help", never on top.
    cut = might_help_at(seen.blocks)
    assert cut < len(seen.blocks)
    assert "legal-gateway" in note_ids(seen.blocks[cut:])
    assert note_ids(seen.blocks[:cut]) == []
    assert "*Practice guidance for" not in shown
    assert "These match only some of your words" in shown
    # Something was strong: no gap, and no "Ask the surgery".
    assert shown_with(slack, WORKER, ASK_WITH_TEXT_ACTION) is None
    assert await gap_rows(bot) == []


async def test_a_search_every_match_of_which_is_strong_shows_no_might_help(slack, bot, driver):
    seen = await practice(driver, bot, WORKER, "PLO letter before proceedings")
    cut = might_help_at(seen.blocks)
    assert note_ids(seen.blocks[:cut])[0] == "legal-gateway"
    assert "*Practice guidance for “PLO letter before proceedings”*" in displayed(seen.blocks)


async def test_weak_matches_only_offer_the_surgery_and_count_as_a_gap(slack, bot, driver):
    seen = await practice(driver, bot, WORKER, "sibling contact in foster care")
    shown = displayed(seen.blocks)
    assert "*Might help*: nothing matched “sibling contact in foster care” closely" in shown
    assert might_help_at(seen.blocks) == 0
    assert shown_with(slack, WORKER, ASK_WITH_TEXT_ACTION) is not None
    [(_, query, reason, count)] = await gap_rows(bot)
    assert (query, reason, count) == ("sibling contact in foster care", "weak", 1)
    await driver.slash_command(ENGAGEMENT_LEAD, "/engage", "gaps")
    await bot.work.idle()
    listed = displayed(responses(slack, ENGAGEMENT_LEAD)[-1].blocks)
    assert "1 search (1 found only what might help)" in listed


async def test_nothing_found_asks_the_surgery_with_the_search_already_in_the_question(
    slack, bot, driver
):
    seen = await practice(driver, bot, WORKER, "deprivation of liberty")
    assert "I couldn't find practice guidance" in displayed(seen.blocks)
    await driver.click(WORKER, seen.message, ASK_WITH_TEXT_ACTION)
    await bot.work.idle()
    [view] = slack.views_for(WORKER)
    assert view["callback_id"] == "surgery_ask"
    [question] = [b for b in view["blocks"] if b.get("block_id") == "question"]
    assert question["element"]["initial_value"] == "deprivation of liberty"
    # The click records nothing: the person still edits and sends the question.
    count = await bot.storage.call(
        lambda db: db.execute("SELECT COUNT(*) FROM questions").fetchone()[0]
    )
    assert count == 0


async def test_ask_the_surgery_from_the_search_modal_opens_over_it(slack, bot, driver):
    await driver.slash_command(WORKER, "/practice")
    await bot.work.idle()
    [view] = slack.views_for(WORKER)
    await driver.submit_view(
        WORKER, view, {"practice_query": {"query": {"value": "deprivation of liberty"}}}
    )
    await bot.work.idle()
    [view] = slack.views_for(WORKER)
    assert view["callback_id"] == SEARCH_CALLBACK
    await driver.click(WORKER, view, ASK_WITH_TEXT_ACTION)
    await bot.work.idle()
    stack = slack.views_for(WORKER)
    assert [v["callback_id"] for v in stack] == [SEARCH_CALLBACK, "surgery_ask"]  # pushed
    [question] = [b for b in stack[-1]["blocks"] if b.get("block_id") == "question"]
    assert question["element"]["initial_value"] == "deprivation of liberty"


async def test_a_lead_dismisses_a_gap_for_good(slack, bot, driver):
    for query in ["test test", "quokka allowance", "test test"]:
        await practice(driver, bot, WORKER, query)
    await driver.slash_command(ENGAGEMENT_LEAD, "/engage", "gaps")
    await bot.work.idle()
    seen = responses(slack, ENGAGEMENT_LEAD)[-1]
    assert "test test" in displayed(seen.blocks)
    # Only a lead: a worker's click (an old copy, a forged payload) dismisses nothing.
    await driver.click(ENGAGEMENT_LEAD, seen.message, DISMISS_ACTION, value="test test")
    await bot.work.idle()
    after = displayed(responses(slack, ENGAGEMENT_LEAD)[-1].blocks)
    assert "Dismissed “test test”" in after
    assert "*“test test”*" not in after  # no longer listed
    assert "quokka allowance" in after  # the others stay, each still raisable
    assert shown_with(slack, ENGAGEMENT_LEAD, RAISE_ACTION) is not None
    assert [q for _, q, _, _ in await gap_rows(bot)] == ["quokka allowance"]
    # Searched again later, it stays dismissed: not counted, not listed.
    await practice(driver, bot, WORKER, "test test")
    assert [q for _, q, _, _ in await gap_rows(bot)] == ["quokka allowance"]
    assert await bot.storage.gaps.dismiss("test test", NOW.date()) == "already"


@pytest.mark.parametrize("access", [Access.REFUSED, Access.UNKNOWN])
async def test_only_a_lead_can_dismiss_a_gap_and_slack_not_saying_is_a_no(storage, access):
    await storage.gaps.record_gap("quokka allowance", "no_match", NOW.date())
    deps, ack = fake_deps(storage, access={WORKER: access}), Ack()
    body = {"user": {"id": WORKER}, "actions": [{"value": "quokka allowance"}]}
    assert await actions.store_dismiss(deps, ack, body) == LEADS_ONLY
    assert ack.calls == [{}]
    assert await gap_queries(storage) == ["quokka allowance"]
    lead = fake_deps(storage)
    body = {"user": {"id": LEAD}, "actions": [{"value": "Quokka  allowance"}]}
    said = await actions.store_dismiss(lead, Ack(), body)
    assert said.startswith("Dismissed “Quokka  allowance”")
    assert await gap_queries(storage) == []
    assert (
        await actions.store_dismiss(lead, Ack(), body)
        == "“Quokka  allowance” was dismissed already."
    )


async def test_keyboard_noise_is_answered_but_never_becomes_a_gap(slack, bot, driver):
    for query in ["xyzzy plugh", "asdf", "qwerty uiop"]:
        seen = await practice(driver, bot, WORKER, query)
        assert "I couldn't find practice guidance" in displayed(seen.blocks)
    # "No" on noise cannot happen (nothing was shown); real words that find nothing do count.
    assert shown_with(slack, WORKER, NOT_HELPED_ACTION) is None
    assert await gap_rows(bot) == []
    await practice(driver, bot, WORKER, "deprivation of liberty")
    assert [q for _, q, _, _ in await gap_rows(bot)] == ["deprivation of liberty"]
