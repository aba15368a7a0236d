"""A 429 met by one call holds back every other call to that method until Retry-After passes.

Slack asks a client that meets a 429 to wait before calling that method again. slack_sdk's
retry handler waits only in the call that met it; the bot's client shares the wait
(`bot.slack.client.MethodPause`), so fifty people opening a check at once do not go on calling a
limited method, and a call whose trigger would expire first is refused without calling.
"""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError

from bot.slack import client as slack_client
from bot.slack.client import MethodPause, make_client

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "Three questions."}}


class Clock:
    """A monotonic clock the test moves; `sleep` moves it, as waiting would."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def test_another_call_to_a_limited_method_waits_out_its_retry_after(slack, config, clock):
    pause = MethodPause(clock, clock.sleep)
    outbox_like = make_client(config, retries=False, pause=pause)
    other = make_client(config, pause=pause)
    slack.force_ratelimit("chat.postMessage", retry_after=4)
    with pytest.raises(SlackApiError):
        await outbox_like.chat_postMessage(channel="C0SWALL", text="one")
    await other.chat_postMessage(channel="C0SWALL", text="two")  # another caller, same method
    assert clock.slept == [4.0]
    assert [c.http_status for c in slack.calls_to("chat.postMessage")] == [429, 200]
    await other.auth_test()  # other methods are not held back
    assert clock.slept == [4.0]


async def test_a_modal_that_would_outlive_its_trigger_is_refused_without_calling(
    slack, config, clock
):
    pause = MethodPause(clock, clock.sleep)
    client = make_client(config, pause=pause)
    slack.force_ratelimit("views.open", retry_after=5)
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Check"}, "blocks": [SECTION]}
    with pytest.raises(SlackApiError):  # not retried: its trigger would be dead in 5 s
        await client.views_open(trigger_id=slack.issue_trigger("U0SW01"), view=view)
    clock.now += 1
    with pytest.raises(SlackApiError) as refused:
        await client.views_open(trigger_id=slack.issue_trigger("U0SW02"), view=view)
    assert refused.value.response["error"] == "ratelimited"
    assert len(slack.calls_to("views.open")) == 1  # the second never reached Slack
    assert clock.slept == []
    clock.now += 2.5  # 1.5 s left: within a trigger's life, so it waits and goes
    await client.views_open(trigger_id=slack.issue_trigger("U0SW03"), view=view)
    assert clock.slept == [pytest.approx(1.5)]
    assert len(slack.calls_to("views.open")) == 2


def test_the_pause_keeps_the_latest_end_and_reads_retry_after_as_slack_sends_it():
    clock = Clock()
    pause = MethodPause(clock, clock.sleep)
    pause.limited("views.publish", 10)
    pause.limited("views.publish", 2)  # an earlier end never shortens the wait
    assert pause.left("views.publish") == 10
    assert pause.left("views.open") == 0
    assert slack_client._retry_after({"Retry-After": ["7"]}) == 7
    assert slack_client._retry_after({"retry-after": "3"}) == 3
    assert slack_client._retry_after({}) == 1
