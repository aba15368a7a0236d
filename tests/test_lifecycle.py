"""The bot as a process: one per database, graceful SIGTERM, a log without secrets or bodies."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import sqlite3
from pathlib import Path

import pytest

from bot.app import LineOfSight
from bot.cli import setup_logging
from handlers.briefings import ACK_ACTION
from handlers.briefings.blocks import CONFIRM_ACTION
from slack_standin import SlackDriver
from slack_standin.harness import (
    bot_env,
    click_when_shown,
    eventually,
    free_port,
    posts,
    spawn_bot,
    wait_healthy,
)
from tests.conftest import (
    BOT_TOKEN,
    SENIOR_MANAGER,
    SIGNING_SECRET,
    SOCIAL_WORKERS,
    publish_confirmed,
)

REPO = Path(__file__).resolve().parents[1]


async def start_serve(
    env: dict[str, str], cwd: Path, mode: str = "serve"
) -> asyncio.subprocess.Process:
    return await spawn_bot(env, cwd, mode)


def healthz(env: dict[str, str]) -> str:
    return f"http://127.0.0.1:{env['PORT']}/healthz"


@pytest.fixture
def serve_env(tmp_path, slack):
    return bot_env(
        slack,
        port=free_port(),
        database=tmp_path / "los.db",
        content_dir=REPO / "content",
        signing_secret=SIGNING_SECRET,
        pythonpath=REPO,
        SENIOR_MANAGERS="@senior-managers",
    )


async def test_a_second_bot_on_the_same_database_refuses_and_sigterm_stops_the_first(
    tmp_path, serve_env
):
    first = await start_serve(serve_env, tmp_path)
    try:
        await wait_healthy(healthz(serve_env), first)
        second = await start_serve({**serve_env, "PORT": str(free_port())}, tmp_path)
        _, err = await asyncio.wait_for(second.communicate(), 60)
        assert second.returncode == 2
        assert "Another Line of Sight is already running" in err.decode()
        assert f"(process {first.pid})" in err.decode()
        assert "Traceback" not in err.decode()
    finally:
        first.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(first.communicate(), 60)
    assert first.returncode == 0
    log = err.decode()
    assert "stopped" in log
    assert BOT_TOKEN not in log
    assert SIGNING_SECRET not in log


async def test_a_bad_token_stops_start_up_with_a_clear_message(tmp_path, serve_env):
    process = await start_serve({**serve_env, "SLACK_BOT_TOKEN": "xoxb-wrong"}, tmp_path)
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    assert "Slack refused SLACK_BOT_TOKEN (invalid_auth)" in err.decode()
    assert "Traceback" not in err.decode()


async def test_a_post_waiting_out_a_retry_after_at_a_stop_goes_once_after_the_restart(
    slack, bot, driver, config
):
    # Slack answers the first post with 429 Retry-After: 1, so the post is still queued
    # (waiting to retry) when shutdown begins.
    slack.force_ratelimit("chat.postMessage", times=1, retry_after=1)
    await publish_confirmed(driver, bot, "publish recruitment-funding")
    await eventually(lambda: bool(slack.calls_to("chat.postMessage")), "try the post")
    await bot.stop()
    again = LineOfSight(config)
    await again.start()
    try:
        assert again.outbox is not None
        assert await again.outbox.idle(30)
    finally:
        await again.stop()
    with sqlite3.connect(config.database_path) as db:
        rows = db.execute(
            "SELECT status FROM publications WHERE audience NOT LIKE 'dm:%'"
        ).fetchall()
    assert rows == [("posted",)]
    posts_made = [c for c in slack.calls_to("chat.postMessage") if "metadata" in c.args]
    assert [c.http_status for c in posts_made] == [429, 200]
    assert slack.early_retries == []


async def test_the_log_names_requests_but_never_tokens_or_what_people_wrote(
    slack, bot, driver, caplog
):
    setup_logging("DEBUG")
    caplog.set_level(logging.DEBUG)
    await publish_confirmed(driver, bot, "publish recruitment-funding")
    assert await bot.outbox.idle(30)
    [post] = [m for m in slack.messages("C0SWALL") if m.blocks]
    await driver.click(SOCIAL_WORKERS[0], post, ACK_ACTION)
    await bot.work.idle()
    text = caplog.text
    assert "request command:/brief -> 200" in text
    assert f"request block_actions:{ACK_ACTION} -> 200" in text
    for secret in (BOT_TOKEN, SIGNING_SECRET, "recruitment money", "£4.4m", "publish recruit"):
        assert secret not in text


async def test_socket_mode_serves_the_same_slice_without_a_public_url(tmp_path, serve_env, slack):
    env = {k: v for k, v in serve_env.items() if k != "SLACK_SIGNING_SECRET"}
    env["SLACK_APP_TOKEN"] = "xapp-test-token"
    process = await start_serve(env, tmp_path, mode="socket")
    try:
        await wait_healthy(healthz(env), process)
        await asyncio.wait_for(slack.wait_for_socket(), 30)
        async with SlackDriver(slack, mode="socket") as driver:
            await driver.slash_command(SENIOR_MANAGER, "/brief", "publish recruitment-funding")
            await click_when_shown(driver, SENIOR_MANAGER, CONFIRM_ACTION)
            await eventually(lambda: bool(posts(slack, "C0SWALL")), "post the briefing")
            [post] = posts(slack, "C0SWALL")
            response = await driver.click(SOCIAL_WORKERS[0], post, ACK_ACTION)
            assert response.status != 0  # the bot acked over the socket
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert "request command:/brief -> 200" in err.decode()
    assert f"request block_actions:{ACK_ACTION} -> 200" in err.decode()
    with sqlite3.connect(env["DATABASE_PATH"]) as db:
        assert db.execute("SELECT user_id FROM acknowledgements").fetchall() == [
            (SOCIAL_WORKERS[0],)
        ], err.decode()
    assert slack.interaction_errors == []


async def test_a_bad_app_token_stops_socket_mode_start_up_with_a_clear_message(tmp_path, serve_env):
    env = {**serve_env, "SLACK_APP_TOKEN": "xapp-wrong"}
    process = await start_serve(env, tmp_path, mode="socket")
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    assert "Slack refused SLACK_APP_TOKEN (invalid_auth)" in err.decode()
    assert "Traceback" not in err.decode()


async def test_a_port_in_use_is_explained_not_a_traceback(tmp_path, serve_env):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = {**serve_env, "PORT": str(taken.getsockname()[1])}
        process = await start_serve(env, tmp_path)
        _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    assert f"cannot listen on 127.0.0.1:{env['PORT']}" in err.decode()
    assert "Traceback" not in err.decode()


async def test_an_api_url_that_is_not_slack_is_blamed_on_the_url_not_the_token(
    tmp_path, serve_env, bot
):
    # The bot's own /healthz answers JSON without "ok"/"error", much as a proxy page would.
    env = {
        **serve_env,
        "SLACK_API_URL": f"{bot.base_url}/healthz/",
        "DATABASE_PATH": str(tmp_path / "other.db"),
    }
    process = await start_serve(env, tmp_path)
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2, err.decode()
    assert "did not answer like Slack" in err.decode()
    assert "Check SLACK_API_URL" in err.decode()


async def test_a_host_that_is_not_this_machine_points_at_host(tmp_path, serve_env):
    # 192.0.2.1 is reserved for documentation: binding to it fails, and nothing is sent.
    process = await start_serve({**serve_env, "HOST": "192.0.2.1"}, tmp_path)
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    assert "Check HOST" in err.decode()
    assert "Traceback" not in err.decode()
