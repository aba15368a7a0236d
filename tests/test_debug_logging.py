"""`LOG_LEVEL=DEBUG` says more about the bot, never what people read, wrote or scored.

slack_sdk and slack_bolt log whole request and response bodies at DEBUG ("Received the
following response", "Responding with status: 200 body: …"). The test configures logging as
`python -m bot serve` does with LOG_LEVEL=DEBUG, then starts the bot (Bolt makes its loggers as
the app is built, so the order matters), runs a whole briefing through it — publish,
acknowledge, take the check — with the root logger at DEBUG and every record captured, and
looks for what must never be written.
"""

from __future__ import annotations

import logging

import pytest

from bot.app import LineOfSight
from bot.cli import QUIET_LIBRARIES, setup_logging
from bot.comprehension import SUBMIT_CALLBACK, TAKE_ACTION
from handlers.briefings import ACK_ACTION
from slack_standin import SlackDriver
from slack_standin.harness import posts
from tests.conftest import (
    BOT_TOKEN,
    SIGNING_SECRET,
    SOCIAL_WORK_ALL,
    SOCIAL_WORKERS,
    publish_confirmed,
)

BRIEFING = "recruitment-funding"
NEVER_LOGGED = {
    "the briefing's title": "What the extra recruitment money means for your caseload",
    "its body": "You have told us you hear about",
    "its summary": "There are two pots of new money",
    "the bot token": BOT_TOKEN,
    "the signing secret": SIGNING_SECRET,
    "a check question": "Which money is a one-off",
    "an answer given": "It carries on: it is in the base budget",
    "the score": "2 of 3",
    "the receipt": "you've acknowledged",
}
# What `setup_logging` touches, put back afterwards so other tests log as before.
TOUCHED = ["", *QUIET_LIBRARIES, "aiohttp.access"]


@pytest.fixture
def debug_logging(caplog):
    """Logging as `LOG_LEVEL=DEBUG python -m bot serve` sets it up, every record captured."""
    saved = {name: logging.getLogger(name).level for name in TOUCHED}
    setup_logging("DEBUG")
    caplog.set_level(logging.DEBUG)  # the root logger at DEBUG, whatever pytest had
    yield caplog
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def answers(*picked: str) -> dict:
    return {
        f"q{n}": {"answer": {"type": "radio_buttons", "selected_option": {"value": value}}}
        for n, value in enumerate(picked)
    }


async def test_debug_logging_never_writes_titles_bodies_tokens_answers_or_scores(
    slack, config, debug_logging
):
    bot = LineOfSight(config)  # built after logging is set up, as the CLI does
    await bot.start()
    runner = await bot.listen("127.0.0.1", 0)
    worker = SOCIAL_WORKERS[0]
    try:
        async with SlackDriver(
            slack, bot_url=f"{bot.base_url}/slack/events", signing_secret=SIGNING_SECRET
        ) as driver:
            await publish_confirmed(driver, bot, f"publish {BRIEFING}")
            assert await bot.outbox.idle(30)
            [post] = posts(slack, SOCIAL_WORK_ALL)
            await driver.click(worker, post, ACK_ACTION)
            await driver.click(worker, post, TAKE_ACTION)
            await bot.work.idle()
            [check] = slack.views_for(worker)
            assert check["callback_id"] == SUBMIT_CALLBACK
            response = await driver.submit_view(worker, check, answers("0", "1", "1"))
            await bot.work.idle()
    finally:
        await runner.cleanup()
        await bot.stop()
    assert response.status == 200
    shown = str(slack.views_for(worker)) + str(slack.seen_by(worker))
    assert all(text in shown for text in NEVER_LOGGED.values() if text.startswith(("2 ", "you")))

    logged = debug_logging.text
    assert "request view_submission" in logged  # the bot's own lines are there
    assert logging.getLogger("line_of_sight").isEnabledFor(logging.DEBUG)  # and its debug ones
    leaked = {what: text for what, text in NEVER_LOGGED.items() if text in logged}
    assert leaked == {}
    chatty = {
        r.name
        for r in debug_logging.records
        if r.levelno < logging.WARNING and r.name.split(".")[0] in QUIET_LIBRARIES
    }
    assert chatty == set()  # not one library line below WARNING, bodies or not
