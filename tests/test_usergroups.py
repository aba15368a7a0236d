"""The one list of user groups (`bot/slack/usergroups.py`), alone: Slack's events applied in
Slack's order whatever order they arrive in, one call for a burst of readers, and a clear
failure when Slack cannot say."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError

from bot.slack.usergroups import UserGroups, UserGroupsUnavailable


class Slack:
    """usergroups.list as Slack answers it, from `groups` (id → (handle, members, date))."""

    def __init__(self) -> None:
        self.groups: dict[str, tuple[str, list[str], int]] = {"S1": ("team", ["U1", "U2"], 100)}
        self.calls = 0
        self.fail: str | None = None
        self.gate: asyncio.Event | None = None

    async def usergroups_list(self, **kwargs: Any) -> dict[str, Any]:
        assert kwargs == {"include_users": True}
        self.calls += 1
        listed = [
            {"id": gid, "handle": h, "name": h.title(), "users": list(u), "date_update": d}
            for gid, (h, u, d) in self.groups.items()
        ]
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise SlackApiError("no", {"ok": False, "error": self.fail})
        return {"ok": True, "usergroups": listed}


def changed(added=(), removed=(), *, before=100, after=200, group="S1") -> dict[str, Any]:
    return {
        "type": "subteam_members_changed",
        "subteam_id": group,
        "date_previous_update": before,
        "date_update": after,
        "added_users": list(added),
        "removed_users": list(removed),
    }


def updated(users, *, date=200, count=None, group="S1", handle="team", deleted=0):
    return {
        "type": "subteam_updated",
        "subteam": {
            "id": group,
            "handle": handle,
            "name": handle,
            "users": users,
            "user_count": len(users) if count is None else count,
            "date_update": date,
            "date_delete": deleted,
        },
    }


@pytest.fixture
def slack() -> Slack:
    return Slack()


async def members(groups: UserGroups, group: str = "S1") -> set[str] | None:
    found = await groups.members(group)
    return None if found is None else set(found)


async def test_a_burst_of_readers_shares_one_call(slack):
    groups = UserGroups(slack)  # type: ignore[arg-type]
    slack.gate = asyncio.Event()
    readers = [asyncio.create_task(groups.members("S1")) for _ in range(20)]
    await asyncio.sleep(0)
    slack.gate.set()
    assert {frozenset(m or ()) for m in await asyncio.gather(*readers)} == {frozenset({"U1", "U2"})}
    assert slack.calls == 1
    assert (await groups.groups()).id_of("@team") == "S1"
    assert slack.calls == 1


async def test_changes_apply_in_slacks_order_whatever_order_they_arrive_in(slack):
    groups = UserGroups(slack)  # type: ignore[arg-type]
    await groups.groups()
    slack.groups["S1"] = ("team", ["U1", "U2"], 300)  # U3 added at 200, taken off at 300
    groups.apply(changed(removed=["U3"], before=200, after=300))  # the later change, first
    assert await members(groups) == {"U1", "U2"}
    assert slack.calls == 2  # a gap in the dates: listed again at once
    groups.apply(changed(added=["U3"], before=100, after=200))  # the earlier one, late
    assert await members(groups) == {"U1", "U2"}  # not brought back
    groups.apply(changed(added=["U4"], before=300, after=400))
    groups.apply(changed(added=["U4"], before=300, after=400))  # Slack retries it
    assert await members(groups) == {"U1", "U2", "U4"}
    assert slack.calls == 2


async def test_a_change_with_an_unknown_before_lists_the_groups_again(slack):
    groups = UserGroups(slack)  # type: ignore[arg-type]
    await groups.groups()
    slack.groups["S1"] = ("team", ["U1", "U2", "U3", "U4"], 300)
    groups.apply(changed(added=["U4"], before=200, after=300))  # the change at 200 was lost
    assert await members(groups) == {"U1", "U2", "U3", "U4"}
    assert slack.calls == 2


async def test_an_update_gives_whole_members_unless_cut_or_older(slack):
    groups = UserGroups(slack)  # type: ignore[arg-type]
    await groups.groups()
    groups.apply(updated(["U1", "U9"], date=200, handle="renamed"))
    assert await members(groups) == {"U1", "U9"}
    assert (await groups.groups()).id_of("renamed") == "S1"
    groups.apply(updated(["U1"], date=150))  # older than what is held: its members are not
    assert await members(groups) == {"U1", "U9"}
    groups.apply(updated(["U1"] * 500, date=300, count=700))  # cut at 500: list again
    assert slack.calls == 1
    await groups.groups()
    assert slack.calls == 2
    groups.apply(updated([], date=400, deleted=400))  # disabled
    assert await groups.members("S1") is None


async def test_a_new_group_is_known_from_its_event(slack):
    groups = UserGroups(slack)  # type: ignore[arg-type]
    await groups.groups()
    created = updated([], date=500, group="S2", handle="duty")
    created["type"] = "subteam_created"
    del created["subteam"]["users"]
    groups.apply(created)
    groups.apply(changed(added=["U5"], before=500, after=501, group="S2"))
    assert (await groups.groups()).id_of("@duty") == "S2"
    assert await members(groups, "S2") == {"U5"}
    assert slack.calls == 1


async def test_events_that_came_while_listing_are_applied_on_top(slack):
    groups = UserGroups(slack)  # type: ignore[arg-type]
    await groups.groups()
    groups.expire("test")
    slack.gate = asyncio.Event()
    listing = asyncio.create_task(groups.groups())
    await asyncio.sleep(0.01)  # Slack has answered as of date 100 …
    groups.apply(changed(added=["U3"], before=100, after=200))  # … and this comes meanwhile
    slack.gate.set()
    await listing
    assert await members(groups) == {"U1", "U2", "U3"}


async def test_when_slack_cannot_say_readers_are_told_why_and_slack_is_not_asked_again_at_once(
    slack,
):
    groups = UserGroups(slack, retry_seconds=60)  # type: ignore[arg-type]
    slack.fail = "missing_scope"
    for _ in range(3):
        with pytest.raises(UserGroupsUnavailable) as failed:
            await groups.members("S1")
        assert failed.value.code == "missing_scope"
    assert slack.calls == 1
