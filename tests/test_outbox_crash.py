"""Exactly once across crashes: a broadcast killed half-way finishes by itself, one copy each.

Two ways a process can die: anywhere in a broadcast (`kill -9` of the real process), and in the
worst place, after Slack accepted a copy but before it was recorded. Either way the next start
must end with every person holding exactly one copy, without anyone asking it to.
"""

from __future__ import annotations

import asyncio
import signal
from dataclasses import replace
from datetime import UTC, datetime, time

from slack_sdk.web.async_client import AsyncWebClient

from bot.app import LineOfSight
from bot.sender import METADATA_TYPE
from bot.storage import Storage
from handlers.briefings.blocks import CONFIRM_ACTION
from slack_standin import RateLimits, SlackDriver, SlackStandIn, Workspace
from slack_standin.harness import (
    bot_env,
    click_when_shown,
    eventually,
    free_port,
    spawn_bot,
    wait_healthy,
)
from tests.conftest import REPO, SENIOR_MANAGER, SIGNING_SECRET, dm_plan

STAFF = 300
SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "Hi"}}


def social_workers(ws: Workspace) -> list[str]:
    return sorted(ws.usergroups["S0SWS"].users)


def one_copy_each(slack: SlackStandIn, people: list[str]) -> dict[int, int]:
    """How many people hold how many copies: {1: 300} is exactly once."""
    tally: dict[int, int] = {}
    for person in people:
        n = len([m for m in slack.messages(person) if m.blocks])
        tally[n] = tally.get(n, 0) + 1
    return tally


async def test_kill_9_mid_broadcast_then_a_restart_ends_with_one_copy_each(tmp_path):
    workspace = Workspace.sample(n_staff=STAFF + 6)
    people = sorted(set(social_workers(workspace)) | set(workspace.usergroups["S0TMS"].users))
    limits = RateLimits(post_workspace_per_minute=3000, post_workspace_burst=50)
    async with SlackStandIn(workspace, signing_secret=SIGNING_SECRET, rate_limits=limits) as slack:
        port = free_port()
        env = bot_env(
            slack,
            port=port,
            database=tmp_path / "los.db",
            content_dir=REPO / "content",
            signing_secret=SIGNING_SECRET,
            pythonpath=REPO,
            SENIOR_MANAGERS=SENIOR_MANAGER,
            OUTBOX_PER_MINUTE="2850",
            LOG_LEVEL="WARNING",
        )
        url = f"http://127.0.0.1:{port}"
        with open(tmp_path / "bot.log", "wb") as log:  # noqa: ASYNC230 (the child writes it)
            first = await spawn_bot(env, tmp_path, stdout=log, stderr=log)
            try:
                await wait_healthy(f"{url}/healthz", first)
                async with SlackDriver(
                    slack, bot_url=f"{url}/slack/events", signing_secret=SIGNING_SECRET
                ) as driver:
                    await driver.slash_command(
                        SENIOR_MANAGER, "/brief", "publish threshold-document"
                    )
                    await click_when_shown(driver, SENIOR_MANAGER, CONFIRM_ACTION)

                def delivered() -> int:
                    return sum(one_copy_each(slack, people).get(n, 0) * n for n in (1, 2, 3))

                await eventually(lambda: delivered() >= 100, "send 100 copies", within=60)
            finally:
                first.send_signal(signal.SIGKILL)
                await first.wait()
            assert delivered() < len(people)  # killed half-way, as meant

            # No command after the restart: the outbox resumes by itself.
            second = await spawn_bot(env, tmp_path, stdout=log, stderr=log)
            try:
                await wait_healthy(f"{url}/healthz", second)
                await eventually(lambda: delivered() >= len(people), "finish", within=60)
                await asyncio.sleep(0.5)  # anything sent twice would show by now
            finally:
                second.send_signal(signal.SIGTERM)
                await second.wait()
        assert second.returncode == 0, (tmp_path / "bot.log").read_text()[-2000:]
        assert one_copy_each(slack, people) == {1: len(people)}
        assert slack.early_retries == []


async def test_a_copy_slack_accepted_but_a_dead_process_never_recorded_is_not_sent_again(
    tmp_path, slack, config
):
    """The crash between the send and its record: the copy is found by its metadata."""
    # The rest of the group get catch-up copies, which wait for working hours: all hours here,
    # so the outbox empties whatever the time the suite runs.
    config = replace(config, working_hours=(time(0), time.max), working_days=frozenset(range(7)))
    people = social_workers(slack.workspace)[:3]
    storage = Storage(config.database_path)
    await storage.open()
    prepared = await storage.outbox.prepare(dm_plan(people), datetime.now(UTC))
    claimed = await storage.outbox.claim_next(datetime.now(UTC))
    assert claimed is not None
    assert claimed.target == people[0]
    # The dead process's send reached Slack; its answer died with it.
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    await client.chat_postMessage(
        channel=people[0],
        text="Briefing",
        blocks=[SECTION],
        metadata={"event_type": METADATA_TYPE, "event_payload": {"delivery_id": claimed.id}},
    )
    await storage.close()

    bot = LineOfSight(config)
    await bot.start()
    try:
        assert bot.outbox is not None
        assert await bot.outbox.idle(30)
    finally:
        await bot.stop()
    assert one_copy_each(slack, people) == {1: 3}
    with_history = slack.calls_to("conversations.history")
    assert with_history
    assert with_history[0].args.get("include_all_metadata") in (True, "true", "1")
    assert prepared.queued == 3
