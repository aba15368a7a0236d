"""`Home.soon` and the refresh job's run, with a fake views.publish: marks coalesce, a Home
published meanwhile is fresh, Slack's rate limit keeps the marks for the next run, each run
publishes `REFRESH_MOST` at most, and a role is resolved when the job runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import SectionBlock

from bot.home import REFRESH_MOST, REFRESH_SECONDS, Home
from bot.slack.roles import ENGAGEMENT_LEAD

NOW = datetime(2026, 11, 2, 9, tzinfo=UTC)


class Refused(dict[str, Any]):
    def __init__(self, status: int, error: str):
        super().__init__(ok=False, error=error)
        self.status_code = status


class FakeClient:
    def __init__(self) -> None:
        self.published: list[str] = []
        self.refuse: list[tuple[int, str]] = []

    async def views_publish(self, *, user_id: str, view: Any) -> None:
        if self.refuse:
            status, error = self.refuse.pop(0)
            raise SlackApiError(error, Refused(status, error))
        self.published.append(user_id)


def home() -> tuple[Home, FakeClient]:
    client = FakeClient()
    return Home(client, contact="the service desk"), client  # type: ignore[arg-type]


async def no_roles(role: str) -> None:
    return None


async def test_marks_coalesce_and_only_opened_homes_are_marked() -> None:
    host, client = home()
    await host.opened("U1")
    for _ in range(500):
        host.soon(["U1", "U2"])  # U2 never opened Home: it is built when they do
    assert host.stale() == {"U1"}
    assert await host.refresh_stale(NOW, no_roles) == 1
    assert client.published == ["U1", "U1"]  # the open, then one refresh for the 500
    assert host.stale() == frozenset()


async def test_a_home_published_after_its_mark_is_fresh_and_a_later_mark_waits() -> None:
    host, _ = home()
    await host.opened("U1")
    host.soon(["U1"])
    await host.publish("U1", notice="Thanks")  # e.g. a click on Home: built after the mark
    assert host.stale() == frozenset()
    host.soon(["U1"])
    assert await host.refresh_stale(NOW, no_roles) == 1
    host.soon(["U1"])  # within the interval of that refresh: kept for a later run
    assert await host.refresh_stale(NOW + timedelta(seconds=1), no_roles) == 0
    assert host.stale() == {"U1"}
    assert await host.refresh_stale(NOW + timedelta(seconds=REFRESH_SECONDS + 1), no_roles) == 1


async def test_a_rate_limit_keeps_the_marks_and_a_run_publishes_at_most_its_share() -> None:
    host, client = home()
    people = [f"U{n:03d}" for n in range(REFRESH_MOST + 5)]
    for person in people:
        await host.opened(person)
    client.published.clear()
    host.soon(people)
    client.refuse = [(429, "ratelimited")]
    assert await host.refresh_stale(NOW, no_roles) == 0
    assert host.stale() == set(people)  # none lost
    assert await host.refresh_stale(NOW, no_roles) == REFRESH_MOST
    assert client.published == people[:REFRESH_MOST]  # the oldest marks first
    assert await host.refresh_stale(NOW, no_roles) == 5
    assert host.stale() == frozenset()


async def test_a_role_is_resolved_when_the_job_runs_opened_or_not() -> None:
    host, client = home()
    asked: list[str] = []

    async def members(role: str) -> frozenset[str] | None:
        asked.append(role)
        return None if len(asked) == 1 else frozenset({"UL1", "UL2"})

    host.soon(roles=(ENGAGEMENT_LEAD,))
    assert asked == []  # marking never waits for Slack
    assert await host.refresh_stale(NOW, members) == 0  # Slack could not say: kept
    assert await host.refresh_stale(NOW, members) == 2
    assert sorted(client.published) == ["UL1", "UL2"]


async def test_an_act_marked_while_its_home_is_being_built_is_not_lost():
    """Found in review: the older mark was kept and the publish cleared it."""
    home = Home(FakeClient(), contact="x")  # type: ignore[arg-type]
    builds = []

    async def build(user_id):
        builds.append(user_id)
        if len(builds) == 2:  # the refresh's build has read the database...
            home.soon(["U1"])  # ...and act B commits and marks the Home now
        return [SectionBlock(text=f"build {len(builds)}")]

    home.add_section("s", build)
    await home.opened("U1")  # build 1
    home.soon(["U1"])  # act A marks it
    await home.refresh_stale(datetime(2026, 1, 1, tzinfo=UTC), None)  # build 2, during which B
    # B's mark was made after build 2 began: the Home must stay stale for the next run.
    assert "U1" in home.stale(), "act B's mark was dropped: the Home shows figures without B"
