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
from handlers.briefings.blocks import CONFIRM_ACTION, CONFIRM_LARGE_ACTION
from slack_standin import RateLimits, SlackDriver, SlackStandIn, Workspace
from slack_standin.harness import Seen, shown_with

REPO = Path(__file__).resolve().parents[1]
BOT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"
SIGNING_SECRET = "test-signing-secret"

# The shared stand-in is a workspace whose chat.postMessage cap is 6,000 a minute (a second's
# worth as its burst), and the bot is set 5% under it, as an operator sets OUTBOX_PER_MINUTE under
# their workspace's cap. Every other limit is Slack's. At Slack's usual few hundred a minute a
# test publishing to 36 people would wait seven seconds for the pace alone; the pacing itself, at
# a cap the bot must keep under, is what tests/test_outbox.py checks (and bench/broadcast.py
# measures at Slack's own pace).
POST_PER_MINUTE = 6000
POST_BURST = 100
BOT_PER_MINUTE = 5700

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
        rate_limits=RateLimits(
            post_workspace_per_minute=POST_PER_MINUTE, post_workspace_burst=POST_BURST
        ),
    )
    await standin.start(host="127.0.0.1", port=0)
    yield standin
    await standin.stop()


@pytest.fixture
def content_dir():
    """The shipped content; tests that need odd briefings pass their own folder."""
    return REPO / "content"


def make_config(slack, folder, content_dir, **settings: str) -> Config:
    """The tests' bot settings (the stand-in's Slack, the sample's roles, a database in
    `folder`), with `settings` added or overriding."""
    return Config.from_env(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_PATH": str(folder / "los.db"),
            "CONTENT_DIR": str(content_dir),
            "SENIOR_MANAGERS": "@senior-managers",
            "ENGAGEMENT_LEADS": "@engagement-leads",
            "OUTBOX_PER_MINUTE": str(BOT_PER_MINUTE),
            **settings,
        },
        dotenv=None,
    )


# The Practice Advisory Group meeting in its own channel, the surgery not running.
PAG_SETTINGS = {
    "PAG_MEETS": "third Thursday 10:00",
    "PAG_CHANNEL": "#practice-advisory-group",
    "SURGERY_MEETS": "",
    "YOU_SAID_WE_DID_CHANNEL": "#general",
}


@pytest.fixture
def config(tmp_path, slack, content_dir):
    return make_config(slack, tmp_path, content_dir)


@pytest.fixture
def clock():
    """The bot's clock: real time, unless a test module moves it (tests/clocks.py's `Clock`)."""
    return None


@pytest.fixture
async def bot(config, clock):
    """The real app, listening on a free local port; `bot.url` is its /slack/events."""
    los = LineOfSight(config) if clock is None else LineOfSight(config, clock=clock)
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


def newly_shown(slack, user: str, since: int, action_id: str) -> Seen | None:
    """The newest thing shown to `user` after their `since`-th that has a button `action_id`."""
    return shown_with(slack, user, action_id, since)


async def publish_confirmed(driver, bot, text: str, user: str = SENIOR_MANAGER, **where):
    """`/brief <text>`, then Confirm (twice for a big audience), as a senior manager publishes.

    Returns the command's response; if no confirmation was shown (a refusal), nothing is clicked.
    """
    slack = driver.standin
    since = len(slack.seen_by(user))
    response = await driver.slash_command(user, "/brief", text, **where)
    await bot.work.idle()
    shown = newly_shown(slack, user, since, CONFIRM_ACTION)
    if shown is not None:
        await driver.click(user, shown, CONFIRM_ACTION)
        await bot.work.idle()
        large = newly_shown(slack, user, since, CONFIRM_LARGE_ACTION)
        if large is not None:
            await driver.click(user, large, CONFIRM_LARGE_ACTION)
            await bot.work.idle()
    return response


def dm_plan(
    people,
    *,
    briefing_id: str = "threshold-document",
    version: int = 2,
    title: str = "The revised Threshold Document is now in use",
    entry: str = "@social-workers",
    acknowledge: bool = True,
    blocks=None,
    **more,
):
    """A plan messaging `people` directly, as `plan_briefing` would resolve one."""
    from bot.storage.outbox import Plan, PlannedEntry

    return Plan(
        briefing_id=briefing_id,
        version=version,
        title=title,
        acknowledge=acknowledge,
        published_by=SENIOR_MANAGER,
        message={
            "text": "Briefing",
            "blocks": blocks or [{"type": "section", "text": {"type": "mrkdwn", "text": "Hi"}}],
        },
        entries=(PlannedEntry(raw=entry, ref="S0SWS", post=False, people=tuple(people)),),
        **more,
    )


async def stored_question(bot, person: str, text: str, *, now, anonymous: bool = True, **kw):
    """A question asked straight into storage, as the asking modal would (same pseudonyms)."""
    defaults = {"topic": "Caseloads", "forum": "surgery", "quoted": None, "per_day": 5}
    day = now.astimezone(bot.config.timezone).date().isoformat()  # the local day, as asked
    return await bot.storage.questions.ask(
        text=text,
        anonymous=anonymous,
        user_id=person,
        own_tag=lambda ref: bot.deps.pseudonyms.own(ref, person),
        quota_tag=bot.deps.pseudonyms.quota(day, person),
        day=day,
        now=now,
        **{**defaults, **kw},
    )


def billion_laughs(indent: str = "") -> str:
    """YAML lines whose tenth holds 9^10 values in under a kilobyte, if aliases were expanded:
    `lol0` is nine words, and each later line nine aliases of the one before. The first alias,
    `*a0`, is on the second line."""
    lines = [f"{indent}lol0: &a0 [" + ", ".join(['"lol"'] * 9) + "]"]
    lines += [
        f"{indent}lol{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, 10)
    ]
    return "\n".join(lines) + "\n"


def copy_titled(slack, person, title):
    """The one message `person` got whose blocks name `title` (one briefing among several)."""
    [copy] = [m for m in slack.messages(person) if m.blocks and title in str(m.blocks)]
    return copy
