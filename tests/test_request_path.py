"""The request path: store, then answer; signature first; failures answered, never a timeout.

Every test sends what Slack would (signed requests through the real aiohttp app) and asserts what
the person would notice: the HTTP status Slack gets, what they were told, what was stored.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from urllib.parse import quote_plus, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.storage import acknowledgements
from handlers.briefings import ACK_ACTION
from slack_standin.harness import posts
from tests.conftest import SENIOR_MANAGER, SOCIAL_WORK_ALL, SOCIAL_WORKERS, publish_confirmed

BRIEFING = "recruitment-funding"


async def published(driver, bot):
    await publish_confirmed(driver, bot, f"publish {BRIEFING}")
    await bot.outbox.idle()
    [post] = posts(driver.standin, SOCIAL_WORK_ALL)
    return post


def replies_to(slack, user):
    return [s.text for s in slack.seen_by(user) if s.kind in ("response", "ephemeral")]


def slow_replies(bot, monkeypatch, seconds: float) -> None:
    """Every private reply takes `seconds` to reach Slack (a slow network)."""
    original = bot.deps.replies.tell

    async def slow_tell(body, text):
        await asyncio.sleep(seconds)
        await original(body, text)

    monkeypatch.setattr(bot.deps.replies, "tell", slow_tell)


def stored_acks(config) -> list[str]:
    """What is on disk right now, read by a connection of our own (not the bot's)."""
    with sqlite3.connect(config.database_path) as db:
        return [row[0] for row in db.execute("SELECT user_id FROM acknowledgements")]


# -- store, then answer ------------------------------------------------------------------------


async def test_an_acknowledgement_is_on_disk_before_slack_gets_its_200(slack, bot, driver, config):
    post = await published(driver, bot)
    # A slow disk: the commit takes a quarter of a second.
    bot.storage.writer.before_commit = lambda: time.sleep(0.25)
    response = await driver.click(SOCIAL_WORKERS[0], post, ACK_ACTION)
    assert response.status == 200
    assert response.elapsed >= 0.25  # Slack waited for the commit…
    assert stored_acks(config) == [SOCIAL_WORKERS[0]]  # …so the 200 means stored
    await bot.work.idle()
    assert replies_to(slack, SOCIAL_WORKERS[0]) == [
        "Thanks — you've acknowledged *What the extra recruitment money means for your caseload*."
    ]


async def test_a_locked_database_answers_try_again_within_slacks_limit_and_keeps_nothing(
    slack, bot, driver, config, monkeypatch
):
    monkeypatch.setattr(acknowledgements, "ACK_WRITE_TIMEOUT", 0.5)
    post = await published(driver, bot)
    other = sqlite3.connect(config.database_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock (a backup, say)
    try:
        response = await driver.click(SOCIAL_WORKERS[0], post, ACK_ACTION)
        await bot.work.idle()
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert response.status == 200
    assert 0.5 <= response.elapsed < 3.0
    assert replies_to(slack, SOCIAL_WORKERS[0]) == [
        "Sorry — that didn't go through, so nothing was recorded. Please try again in a moment."
    ]
    await asyncio.sleep(0.1)  # the writer gets the lock now; the abandoned write must not commit
    assert stored_acks(config) == []
    # Trying again works, and counts once.
    await driver.click(SOCIAL_WORKERS[0], post, ACK_ACTION)
    await bot.work.idle()
    assert stored_acks(config) == [SOCIAL_WORKERS[0]]
    assert replies_to(slack, SOCIAL_WORKERS[0])[-1].startswith("Thanks — you've acknowledged")


async def test_a_commit_that_misses_its_deadline_is_rolled_back_not_half_kept(
    slack, bot, driver, config, monkeypatch
):
    monkeypatch.setattr(acknowledgements, "ACK_WRITE_TIMEOUT", 0.2)
    post = await published(driver, bot)
    bot.storage.writer.before_commit = lambda: time.sleep(0.4)
    response = await driver.click(SOCIAL_WORKERS[1], post, ACK_ACTION)
    await bot.work.idle()
    await asyncio.sleep(0.4)
    assert response.status == 200
    assert stored_acks(config) == []
    assert "didn't go through" in replies_to(slack, SOCIAL_WORKERS[1])[0]
    with sqlite3.connect(config.database_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


async def test_a_listener_that_fails_is_answered_200_and_the_person_is_told(
    slack, bot, driver, monkeypatch, caplog
):
    post = await published(driver, bot)

    async def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(bot.storage.acknowledgements, "record_ack", broken)
    with caplog.at_level(logging.ERROR):
        response = await driver.click(SOCIAL_WORKERS[0], post, ACK_ACTION)
        await bot.work.idle()
    assert response.status == 200  # never Slack's 404 or a 3-second timeout
    assert replies_to(slack, SOCIAL_WORKERS[0]) == [
        "Sorry, something went wrong on our side and it has been logged. "
        "Please try again in a minute."
    ]
    assert "RuntimeError: a bug" in caplog.text  # the traceback is logged, not swallowed
    assert slack.interaction_errors == []


async def test_a_failure_on_the_home_tab_is_shown_on_the_home_tab(slack, bot, driver, monkeypatch):
    await published(driver, bot)
    worker = SOCIAL_WORKERS[2]
    await driver.app_home_opened(worker)
    await bot.work.idle()

    async def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(bot.storage.acknowledgements, "record_ack", broken)
    response = await driver.click(worker, slack.home_view(worker), ACK_ACTION)
    await bot.work.idle()
    assert response.status == 200
    assert "something went wrong on our side" in json.dumps(slack.home_view(worker))


async def test_a_failing_follow_up_is_logged_and_the_person_is_told(
    slack, bot, driver, monkeypatch, caplog
):
    async def broken(*args, **kwargs):
        raise RuntimeError("reply bug")

    monkeypatch.setattr("handlers.briefings.commands.answer", broken)
    with caplog.at_level(logging.ERROR):
        response = await driver.slash_command(SENIOR_MANAGER, "/brief", "help")
        await bot.work.idle()
    assert response.status == 200
    assert "something went wrong on our side" in replies_to(slack, SENIOR_MANAGER)[0]
    assert "RuntimeError: reply bug" in caplog.text


# -- bounded background work -------------------------------------------------------------------


async def test_follow_ups_are_bounded_and_a_request_waits_for_a_free_slot(
    slack, bot, driver, monkeypatch
):
    bot.work._slots = asyncio.Semaphore(1)  # one follow-up at a time
    bot.work.limit = 1
    bot.work._slot_wait = 2.0  # long enough that nobody is shed, even on a slow machine
    post = await published(driver, bot)
    slow_replies(bot, monkeypatch, 0.15)
    clicks = [driver.click(w, post, ACK_ACTION) for w in SOCIAL_WORKERS[:3]]
    responses = await asyncio.gather(*clicks)
    await bot.work.idle()
    assert [r.status for r in responses] == [200, 200, 200]
    assert bot.work.peak == 1  # never more than one follow-up at once
    # Back-pressure: the later clicks waited for the slot before being answered.
    assert sorted(r.elapsed for r in responses)[-1] >= 0.15
    assert all(replies_to(slack, w) for w in SOCIAL_WORKERS[:3])


async def test_when_no_slot_comes_free_a_command_is_refused_kindly_and_a_click_still_counts(
    slack, bot, driver, config, monkeypatch
):
    post = await published(driver, bot)
    bot.work._slots = asyncio.Semaphore(0)  # every slot busy, for good
    bot.work._slot_wait = 0.05
    command = await driver.slash_command(SENIOR_MANAGER, "/brief", f"status {BRIEFING}")
    click = await driver.click(SOCIAL_WORKERS[0], post, ACK_ACTION)
    await bot.work.idle()
    assert (command.status, click.status) == (200, 200)
    assert replies_to(slack, SENIOR_MANAGER)[-1] == (
        "I'm very busy just now, so I couldn't start that. Please try again in a minute."
    )
    assert stored_acks(config) == [SOCIAL_WORKERS[0]]  # the click is stored; its reply is shed
    assert bot.work.shed == 2


async def test_stop_waits_for_follow_ups_to_finish(slack, bot, driver, monkeypatch):
    post = await published(driver, bot)
    slow_replies(bot, monkeypatch, 0.3)
    await driver.click(SOCIAL_WORKERS[0], post, ACK_ACTION)
    assert bot.work.count == 1  # the reply is still to come…
    await bot.stop()  # …and stopping waits for it rather than cutting it off
    assert replies_to(slack, SOCIAL_WORKERS[0]) == [
        "Thanks — you've acknowledged *What the extra recruitment money means for your caseload*."
    ]


async def test_when_every_slot_is_busy_a_click_that_cannot_be_stored_still_hears_so(
    slack, bot, driver, config, monkeypatch
):
    monkeypatch.setattr(acknowledgements, "ACK_WRITE_TIMEOUT", 0.2)
    post = await published(driver, bot)
    bot.work._slots = asyncio.Semaphore(0)
    bot.work._slot_wait = 0.05
    bot.storage.writer.before_commit = lambda: time.sleep(0.4)
    response = await driver.click(SOCIAL_WORKERS[0], post, ACK_ACTION)
    await bot.work.idle()
    await asyncio.sleep(0.4)
    assert response.status == 200
    assert replies_to(slack, SOCIAL_WORKERS[0]) == [
        "Sorry — that didn't go through, so nothing was recorded. Please try again in a moment."
    ]
    assert stored_acks(config) == []
    assert bot.work.count == 0


# -- signature first ---------------------------------------------------------------------------

FORM = urlencode(
    {
        "command": "/brief",
        "text": f"publish {BRIEFING}",
        "user_id": SENIOR_MANAGER,
        "team_id": "T0LOS",
        "channel_id": SOCIAL_WORK_ALL,
        "response_url": "http://x/",
        "trigger_id": "1.2.3",
    }
)
BODIES = {
    "form": (FORM, "application/x-www-form-urlencoded"),
    "json": (json.dumps({"type": "event_callback", "event": {"type": "x"}}), "application/json"),
    "payload-broken-json": (
        "payload=" + quote_plus("{not json"),
        "application/x-www-form-urlencoded",
    ),
    "payload-list": ("payload=" + quote_plus("[1, 2]"), "application/x-www-form-urlencoded"),
    "json-broken": ("{not json", "application/json"),
    "not-utf8": (b"\xff\xfe\x00", "application/x-www-form-urlencoded"),
    "empty": ("", "application/x-www-form-urlencoded"),
}
BAD_SIGNATURES = {
    "unsigned": {"sign": False},
    "wrong-secret": {"secret": "not-the-signing-secret"},
    "301-seconds-old": {"age": 301},
    # Slack allows 300 s either way; the whole-second timestamp may lag the clock by up to 1 s.
    "302-seconds-ahead": {"age": -302},
    "timestamp-not-a-number": {"headers": {"X-Slack-Request-Timestamp": "abc"}},
    "timestamp-with-a-fraction": {"headers": {"X-Slack-Request-Timestamp": "1.5"}},
    "signature-not-ascii": {"headers": {"X-Slack-Signature": "v0=é"}},
}


@pytest.mark.parametrize("body", BODIES, ids=list(BODIES))
@pytest.mark.parametrize("signature", BAD_SIGNATURES, ids=list(BAD_SIGNATURES))
async def test_requests_not_signed_by_slack_get_401_whatever_their_body(
    slack, bot, driver, body, signature
):
    data, content_type = BODIES[body]
    how = BAD_SIGNATURES[signature]
    kwargs: dict = {}
    if "sign" in how:
        kwargs["sign"] = False
    if "secret" in how:
        kwargs["secret"] = how["secret"]
    if "age" in how:
        kwargs["timestamp"] = int(time.time()) - how["age"]
    if "headers" in how:
        kwargs["headers"] = how["headers"]
    before = len(slack.calls)
    response = await driver.raw_post(data, content_type, **kwargs)
    await bot.work.idle()
    assert response.status == 401
    assert slack.calls[before:] == []  # no listener ran: nothing reached Slack
    assert await bot.storage.call(lambda db: db["publications"].count) == 0


@pytest.mark.parametrize(
    "body", [b for b in BODIES if b not in ("form", "json", "empty", "not-utf8")], ids=lambda b: b
)
async def test_a_signed_body_that_does_not_parse_gets_400_and_touches_nothing(
    slack, bot, driver, body
):
    data, content_type = BODIES[body]
    before = len(slack.calls)
    response = await driver.raw_post(data, content_type)
    assert response.status == 400
    assert slack.calls[before:] == []


async def test_a_body_that_is_not_utf8_cannot_be_verified_so_gets_401(slack, bot, driver):
    data, content_type = BODIES["not-utf8"]
    response = await driver.raw_post(data, content_type)  # signed over the raw bytes
    assert response.status == 401


async def test_a_body_over_a_megabyte_is_refused_before_it_is_read_as_slack(slack, bot, driver):
    huge = ("payload=" + "x" * (1024 * 1024 + 1)).encode()
    for sign in (True, False):
        response = await driver.raw_post(huge, "application/x-www-form-urlencoded", sign=sign)
        assert response.status == 413
    assert await bot.storage.call(lambda db: db["acknowledgements"].count) == 0


async def test_a_signed_click_on_a_button_nobody_listens_for_gets_400(slack, bot, driver):
    payload = {
        "type": "block_actions",
        "user": {"id": SOCIAL_WORKERS[0]},
        "actions": [{"action_id": "no_such_button", "value": "x"}],
        "response_url": "http://127.0.0.1:9/",
    }
    response = await driver.raw_post(
        "payload=" + quote_plus(json.dumps(payload)), "application/x-www-form-urlencoded"
    )
    assert response.status == 400


@pytest.mark.parametrize("kind", ["view_submission", "view_closed"])
async def test_a_signed_view_event_without_a_view_type_gets_400(slack, bot, driver, kind):
    payload = {"type": kind, "user": {"id": SOCIAL_WORKERS[0]}, "view": {"callback_id": "x"}}
    response = await driver.raw_post(
        "payload=" + quote_plus(json.dumps(payload)), "application/x-www-form-urlencoded"
    )
    assert response.status == 400


async def test_an_unhandled_request_never_puts_what_a_person_typed_in_the_log(
    slack, bot, driver, caplog
):
    from bot.cli import setup_logging

    setup_logging("DEBUG")
    caplog.set_level(logging.DEBUG)
    payload = {
        "type": "block_suggestion",
        "user": {"id": SOCIAL_WORKERS[0]},
        "action_id": "search",
        "value": "my client Jane Doe born 01/02/2015",
    }
    response = await driver.raw_post(
        "payload=" + quote_plus(json.dumps(payload)), "application/x-www-form-urlencoded"
    )
    assert response.status == 400
    assert "Jane Doe" not in caplog.text
    assert "request block_suggestion (not handled) -> 400" in caplog.text


async def test_a_signed_event_nobody_listens_for_gets_200_so_slack_does_not_retry(bot, driver):
    response = await driver.send_event({"type": "reaction_added", "user": SOCIAL_WORKERS[0]})
    assert response.status == 200


async def test_a_signed_click_missing_who_clicked_gets_400_and_stores_nothing(slack, bot, driver):
    post = await published(driver, bot)
    payload = {
        "type": "block_actions",
        "actions": [{"action_id": ACK_ACTION, "value": f"{BRIEFING}@1"}],
        "container": {"type": "message", "message_ts": post.ts, "channel_id": SOCIAL_WORK_ALL},
    }
    response = await driver.raw_post(
        "payload=" + quote_plus(json.dumps(payload)), "application/x-www-form-urlencoded"
    )
    assert response.status == 400
    assert await bot.storage.call(lambda db: db["acknowledgements"].count) == 0


# -- small groups ---------------------------------------------------------------------------------


async def test_a_min_group_size_of_one_shows_every_figure_and_warns_at_start(slack, config, caplog):
    from dataclasses import replace

    from bot.app import LineOfSight

    pilot = LineOfSight(replace(config, min_group_size=1))
    with caplog.at_level(logging.WARNING):
        await pilot.start()
    try:
        assert "MIN_GROUP_SIZE is 1" in caplog.text
    finally:
        await pilot.stop()


# -- reading the body ---------------------------------------------------------------------------

form_values = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)


@given(
    fields=st.dictionaries(
        st.sampled_from(["command", "text", "user_id", "channel_id", "response_url"]),
        form_values.filter(lambda v: "payload" not in v),
    ),
    payload=st.dictionaries(st.sampled_from(["type", "value", "text"]), form_values, max_size=3),
)
def test_bodies_are_read_exactly_as_bolt_reads_them(fields, payload):
    from slack_bolt.request.internals import parse_body

    from bot.web import parse_slack_body

    form = urlencode(fields)
    assert parse_slack_body(form, "application/x-www-form-urlencoded") == parse_body(
        form, "application/x-www-form-urlencoded"
    )
    wrapped = "payload=" + quote_plus(json.dumps(payload))
    assert parse_slack_body(wrapped, "application/x-www-form-urlencoded") == payload
    assert parse_slack_body(json.dumps(payload), "application/json") == payload


async def test_a_command_whose_text_says_payload_is_still_understood(slack, bot, driver):
    # Bolt's own parser reads any form containing the word "payload" as an interactive payload.
    response = await driver.slash_command(SENIOR_MANAGER, "/brief", "publish payload-update")
    await bot.work.idle()
    assert response.status == 200
    assert replies_to(slack, SENIOR_MANAGER)[0].startswith(
        "There's no briefing called `payload-update`."
    )


async def test_socket_mode_acknowledges_what_nothing_listens_for(slack, bot, config):
    """Bolt acks only a 200 over the socket; an unhandled event must still be acked."""
    from bot.socket_mode import LoggedSocketModeHandler
    from slack_standin import SlackDriver

    handler = LoggedSocketModeHandler(bot.bolt, config.app_token, bot.work)
    handler.client.wss_uri = await bot.open_socket_url()
    await handler.connect_async()
    try:
        await asyncio.wait_for(slack.wait_for_socket(), 10)
        async with SlackDriver(slack, mode="socket") as driver:
            unhandled = await driver.send_event({"type": "reaction_added", "user": "U0SW01"})
            handled = await driver.app_home_opened(SOCIAL_WORKERS[0])
        await handler.drain()
    finally:
        await handler.close_async()
    assert unhandled.status == 200  # acked: Slack will not retry it
    assert handled.status == 200
