"""Shared fixtures: config, storage, the local Slack stand-in, the running bot, the driver.

`slack` is the stand-in (Slack's Web API, with its limits and error shapes); `bot` is the real
aiohttp app on a real port; `driver` sends signed requests to it as Slack would.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import LineOfSight
from bot.config import Config
from bot.storage import Storage
from slack_standin import RateLimits, SlackDriver, SlackStandIn, Workspace

REPO = Path(__file__).resolve().parents[1]
BOT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"
SIGNING_SECRET = "test-signing-secret"

# Ids from Workspace.sample(): see slack_standin/workspace.py.
DIRECTOR = "U0DIR01"
SENIOR_MANAGER = "U0SM01"
TEAM_MANAGER = "U0TM01"
ENGAGEMENT_LEAD = "U0EL01"
SOCIAL_WORKERS = [f"U0SW{n:02d}" for n in range(1, 7)]
SOCIAL_WORK_ALL = "C0SWALL"


@pytest.fixture
async def storage(tmp_path):
    store = Storage(tmp_path / "test.db")
    await store.open()
    yield store
    await store.close()


@pytest.fixture
def workspace():
    return Workspace.sample(n_staff=12)


@pytest.fixture
async def slack(workspace):
    standin = SlackStandIn(
        workspace,
        bot_token=BOT_TOKEN,
        app_token=APP_TOKEN,
        signing_secret=SIGNING_SECRET,
        rate_limits=RateLimits(),
    )
    await standin.start(host="127.0.0.1", port=0)
    yield standin
    await standin.stop()


@pytest.fixture
def content_dir():
    """The shipped content; tests that need odd briefings pass their own folder."""
    return REPO / "content"


@pytest.fixture
def config(tmp_path, slack, content_dir):
    return Config.from_env(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_PATH": str(tmp_path / "los.db"),
            "CONTENT_DIR": str(content_dir),
            "SENIOR_MANAGERS": "@senior-managers",
            "ENGAGEMENT_LEADS": "@engagement-leads",
        },
        dotenv=None,
    )


@pytest.fixture
async def bot(config):
    """The real app, listening on a free local port; `bot.url` is its /slack/events."""
    los = LineOfSight(config)
    await los.start()
    runner = await los.listen("127.0.0.1", 0)
    los.url = f"{los.base_url}/slack/events"  # type: ignore[attr-defined]
    yield los
    await runner.cleanup()
    await los.stop()


@pytest.fixture
async def driver(slack, bot):
    async with SlackDriver(slack, bot_url=bot.url, signing_secret=SIGNING_SECRET) as drive:
        yield drive
    await bot.work.idle()
    # What Slack would have shown a person as an error (a slow or failed ack, a bad view).
    assert slack.interaction_errors == []
