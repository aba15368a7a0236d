"""Signed but absurdly nested JSON: 400, never a 500, and no listener runs.

Python's json module raises RecursionError (not ValueError) on JSON nested past the recursion
limit, so the request path must read it as malformed like any other bad body.
"""

from __future__ import annotations

import json
from urllib.parse import quote_plus

import pytest

from bot.web import parse_slack_body
from handlers.briefings import ACK_ACTION
from tests.conftest import SOCIAL_WORKERS

DEEP = 100_000  # levels of nesting


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def with_deep_field(document: dict, depth: int) -> str:
    """`document` as JSON, with its "deep" field's value nested `depth` levels deep."""
    return json.dumps(document).replace('"DEEP"', nested(depth))


def home_opened(driver, user: str) -> dict:
    """An Events API envelope for app_home_opened, which a listener answers with views.publish."""
    return {
        "type": "event_callback",
        "team_id": driver.ws.team_id,
        "api_app_id": driver.ws.app_id,
        "event_id": driver.new_event_id(),
        "event": {"type": "app_home_opened", "user": user, "tab": "home", "deep": "DEEP"},
    }


def ack_click(user: str) -> dict:
    return {
        "type": "block_actions",
        "user": {"id": user},
        "actions": [{"action_id": ACK_ACTION, "value": "recruitment-funding@1", "deep": "DEEP"}],
        "response_url": "http://127.0.0.1:9/",
    }


async def test_a_signed_event_nested_a_hundred_thousand_deep_gets_400_and_reaches_no_listener(
    slack, bot, driver
):
    # The same event, shallow: a listener runs and publishes the person's Home tab.
    shallow = await driver.raw_post(
        with_deep_field(home_opened(driver, SOCIAL_WORKERS[0]), 1), "application/json"
    )
    await bot.work.idle()
    assert shallow.status == 200
    assert any(call.method == "views.publish" for call in slack.calls)

    before = len(slack.calls)
    deep = await driver.raw_post(
        with_deep_field(home_opened(driver, SOCIAL_WORKERS[1]), DEEP), "application/json"
    )
    await bot.work.idle()
    assert deep.status == 400
    assert slack.calls[before:] == []


async def test_a_signed_payload_form_nested_a_hundred_thousand_deep_gets_400_and_stores_nothing(
    slack, bot, driver
):
    before = len(slack.calls)
    body = "payload=" + quote_plus(with_deep_field(ack_click(SOCIAL_WORKERS[0]), DEEP))
    response = await driver.raw_post(body, "application/x-www-form-urlencoded")
    await bot.work.idle()
    assert response.status == 400
    assert slack.calls[before:] == []
    assert await bot.storage.call(lambda db: db["acknowledgements"].count) == 0


@pytest.mark.parametrize("depth", [5_000, DEEP])
def test_json_nested_past_the_recursion_limit_is_malformed_not_an_error(depth):
    with pytest.raises(ValueError, match="nested too deeply"):
        parse_slack_body(nested(depth), "application/json")
    with pytest.raises(ValueError, match="nested too deeply"):
        parse_slack_body(f"payload={nested(depth)}", "application/x-www-form-urlencoded")
