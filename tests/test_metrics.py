"""`GET /metrics` (bot/metrics.py): off unless METRICS=on, Prometheus' text format when on, its
counts moved by real signed requests, jobs and sends, and never a person's id or words in it."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot import metrics
from bot.config import Config, ConfigError
from bot.metrics import MAX_ROUTES, Metrics, route_of
from tests.conftest import ENGAGEMENT_LEAD, SENIOR_MANAGER, publish_confirmed

BRIEFING = "threshold-document"  # a DM to @social-workers and @team-managers
TITLE = "The revised Threshold Document is now in use"


@pytest.fixture
def config(config, request):
    """The shared config with METRICS on (a test parametrizes `config` with False for off)."""
    return dataclasses.replace(config, metrics=getattr(request, "param", True))


async def scrape(bot) -> tuple[int, str, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{bot.base_url}/metrics") as response,
    ):
        return response.status, response.headers.get("Content-Type", ""), await response.text()


def sample(text: str, name: str, **labels: str) -> float:
    """One sample's value (0 when the series is not there yet)."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return 0.0


@pytest.mark.parametrize("config", [False], indirect=True)
async def test_metrics_are_not_there_at_all_unless_turned_on(bot, driver):
    assert bot.metrics is None
    status, _, _ = await scrape(bot)
    assert status == 404
    await driver.slash_command(ENGAGEMENT_LEAD, "/brief", "help")  # nothing counts, nothing fails
    assert metrics._installed == []


def test_the_setting_is_off_by_default_and_only_on_or_off():
    base = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    assert Config.from_env(base, dotenv=None).metrics is False
    assert Config.from_env({**base, "METRICS": "ON"}, dotenv=None).metrics is True
    with pytest.raises(ConfigError, match="METRICS must be on or off"):
        Config.from_env({**base, "METRICS": "yes please"}, dotenv=None)


async def test_metrics_when_on_are_prometheus_text_with_every_family(bot):
    status, content_type, text = await scrape(bot)
    assert status == 200
    assert content_type.startswith("text/plain")
    assert "version=" in content_type
    names = {f.name for f in text_string_to_metric_families(text)}  # it parses, or this raises
    for family in (
        "line_of_sight_requests",
        "line_of_sight_answer_seconds",
        "line_of_sight_outbox_depth",
        "line_of_sight_outbox_sent",
        "line_of_sight_slack_ratelimited",
        "line_of_sight_jobs",
        "line_of_sight_info",
    ):
        assert family in names, family
    assert sample(text, "line_of_sight_slack_ratelimited_total", where="outbox") == 0
    assert sample(text, "line_of_sight_outbox_depth", state="due") == 0
    assert "line_of_sight_last_backup_age_seconds " not in text  # no backup known: no figure


async def test_a_signed_request_moves_its_route_and_the_latency_histogram(bot, driver):
    _, _, before = await scrape(bot)
    response = await driver.slash_command(ENGAGEMENT_LEAD, "/brief", "help")
    assert response.status == 200
    refused = await driver.raw_post("token=x", "application/x-www-form-urlencoded", sign=False)
    assert refused.status == 401
    _, _, after = await scrape(bot)

    def moved(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert moved("line_of_sight_requests_total", route="command:/brief", status="200") == 1
    assert moved("line_of_sight_requests_total", route="refused", status="401") == 1
    assert moved("line_of_sight_answer_seconds_count", kind="command") == 1
    assert moved("line_of_sight_answer_seconds_bucket", kind="command", le="+Inf") == 1
    assert sample(after, "line_of_sight_answer_seconds_sum", kind="command") > 0


async def test_a_broadcast_counts_its_sends_jobs_and_429s_and_names_nobody(slack, bot, driver):
    slack.force_ratelimit("chat.postMessage", times=1, retry_after=1)
    response = await publish_confirmed(driver, bot, f"publish {BRIEFING}")
    assert response.status == 200
    assert await bot.outbox.idle(60)
    await bot.scheduler.run_now(bot.scheduler.job_ids()[0])
    _, _, text = await scrape(bot)

    sent = sample(text, "line_of_sight_outbox_sent_total", purpose="briefing")
    copies = [c for c in slack.calls_to("chat.postMessage") if c.ok and "metadata" in c.args]
    assert sent == len(copies) > 0
    assert sample(text, "line_of_sight_slack_ratelimited_total", where="outbox") == 1
    assert sample(text, "line_of_sight_outbox_depth", state="due") == 0
    assert (
        sum(
            s.value
            for f in text_string_to_metric_families(text)
            for s in f.samples
            if s.name == "line_of_sight_jobs_total" and s.labels["outcome"] == "ok"
        )
        >= 1
    )

    # Nobody's id, no channel, no briefing id or title: in the values or anywhere in the text.
    people = {c.args.get("channel") for c in slack.calls_to("chat.postMessage")}
    for secret in {*people, SENIOR_MANAGER, ENGAGEMENT_LEAD, BRIEFING, TITLE} - {None}:
        assert secret not in text, secret
    assert not re.search(r"\b[UWC]0[A-Z0-9]{3,}\b", text)


async def test_the_backup_age_comes_from_the_hook_a_backup_module_sets(bot):
    taken = datetime.now(UTC) - timedelta(hours=2)
    metrics.set_last_backup_source(lambda: taken)
    try:
        _, _, text = await scrape(bot)
    finally:
        metrics.set_last_backup_source(None)
    age = sample(text, "line_of_sight_last_backup_age_seconds")
    assert 7200 <= age < 7300
    metrics.backup_finished(datetime.now(UTC))  # a newer one, told directly
    _, _, text = await scrape(bot)
    assert sample(text, "line_of_sight_last_backup_age_seconds") < 60


@pytest.mark.parametrize(
    ("what", "route"),
    [
        ("command:/brief", "command:/brief"),
        ("block_actions:ack_briefing:briefing_view", "block_actions:ack_briefing"),
        ("block_actions:follow_up_12", "block_actions:follow_up_N"),
        ("event:app_home_opened (not handled)", "event:app_home_opened"),
        ("refused (bad or missing signature)", "refused"),
        ("too large", "refused"),
        ("malformed", "malformed"),
        ("block_actions:<@U0SW01> said hello", "other"),
        ("view_submission:" + "x" * 200, "other"),
    ],
)
def test_a_route_label_is_from_our_own_vocabulary_never_what_someone_typed(what, route):
    assert route_of(what) == route


def test_routes_past_the_cap_are_counted_as_other():
    m = Metrics()
    for n in range(MAX_ROUTES + 5):
        m.request(f"block_actions:action_{chr(97 + n % 26)}{'x' * (n // 26)}", 200, 0.01)
    routes = {s.labels["route"] for s in m.requests.collect()[0].samples}
    assert len(routes) == MAX_ROUTES + 1
    assert "other" in routes
