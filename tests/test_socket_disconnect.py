"""Socket Mode's `disconnect`: Slack refreshes every connection every few hours (a `warning`
about 10 s before, then `refresh_requested`) and sends `link_disabled` when Socket Mode is turned
off. The bot connects again at once and loses nothing: what was under way is acknowledged once,
what Slack sends meanwhile arrives on the new connection and is handled once."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter

import pytest

from bot.socket_mode import LoggedSocketModeHandler
from slack_standin import SlackDriver
from slack_standin.harness import eventually
from tests.conftest import SOCIAL_WORKERS


@pytest.fixture
async def socket_bot(slack, bot, config):
    """The bot connected over Socket Mode, as `python -m bot socket` connects it."""
    handler = LoggedSocketModeHandler(bot.bolt, config.app_token, bot.work)
    handler.client.wss_uri = await bot.open_socket_url()
    await handler.connect_async()
    await asyncio.wait_for(slack.wait_for_socket(), 10)
    # Slack refreshes a connection every few hours: by then `apps.connections.open` (Tier 1,
    # about one a minute) can be called again without a 429.
    slack.clock = lambda: time.time() + 3 * 3600
    yield handler
    await handler.drain()
    await handler.close_async()


def homes_published(slack, user: str) -> int:
    return sum(1 for c in slack.calls_to("views.publish") if c.args.get("user_id") == user)


@pytest.mark.parametrize("reason", ["refresh_requested", "warning"])
async def test_a_disconnect_loses_nothing_and_handles_nothing_twice(
    slack, bot, socket_bot, reason, caplog
):
    caplog.set_level(logging.INFO, logger="bot.socket_mode")
    first, second, third = SOCIAL_WORKERS[:3]
    async with SlackDriver(slack, mode="socket") as driver:
        # One envelope under way as Slack asks for a new connection, two sent while the bot
        # connects again (Slack holds them for it).
        under_way = asyncio.create_task(driver.app_home_opened(first))
        await asyncio.sleep(0)
        assert await slack.disconnect(reason) == 1
        during = await asyncio.gather(driver.app_home_opened(second), driver.app_home_opened(third))
        done = await under_way
    assert [r.status for r in (done, *during)] == [200, 200, 200]  # each acknowledged
    await bot.work.idle()
    assert [homes_published(slack, u) for u in (first, second, third)] == [1, 1, 1]
    assert len(slack.calls_to("apps.connections.open")) == 2  # at start, and once again
    await eventually(lambda: len(slack._sockets) == 1, "close the old connection", 5)
    acks = Counter(e for sock in slack.socket_acks for e in sock)
    assert len(acks) == 3  # three envelopes,
    assert set(acks.values()) == {1}  # each acknowledged once
    assert f"Slack asked for a new Socket Mode connection ({reason})" in caplog.text
    async with SlackDriver(slack, mode="socket") as driver:  # and the new one serves
        assert (await driver.app_home_opened(first)).status == 200
    await bot.work.idle()
    assert homes_published(slack, first) == 2


async def test_socket_mode_turned_off_is_said_with_its_fix(slack, bot, socket_bot, caplog):
    caplog.set_level(logging.INFO, logger="bot.socket_mode")
    assert await slack.disconnect("link_disabled") == 1
    await eventually(lambda: "Socket Mode was turned off" in caplog.text, "log it", 5)
    assert "api.slack.com/apps" in caplog.text
