"""Practice search's, /engage's and Home's listeners called directly: each store half records
what was clicked, answers Slack and hands the follow-up the right value; each follow-up says
the right thing. A small fake `deps` (only what a function touches) on a real tmp database."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.practice.library import Found
from bot.slack.roles import ENGAGEMENT_LEAD, Access, Verdict
from bot.storage import WriteTimeout
from handlers import engage, home
from handlers.practice import actions, views
from handlers.practice.blocks import HELPED_ACTION, NOT_HELPED_ACTION, QUERY_ACTION, QUERY_BLOCK
from handlers.practice.commands import engage_gaps
from handlers.practice.common import AGAIN, LEADS_ONLY, THANKS_NOT

NOW = datetime(2025, 3, 4, 10, 30, tzinfo=UTC)
LEAD = "U0EL01"
WORKER = "U0SW01"


class Ack:
    """Bolt's ack, recording each call's arguments."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.response: Any = None

    async def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)
        self.response = kwargs


class Replies:
    def __init__(self) -> None:
        self.said: list[tuple[str, Any]] = []

    async def respond(self, url: str, text: str, **kwargs: Any) -> None:
        self.said.append(("respond", (url, text, kwargs)))

    async def tell(self, body: dict[str, Any], text: str) -> None:
        self.said.append(("tell", text))


class Roles:
    def __init__(self, access: dict[str, Access]) -> None:
        self.access = access
        self.asked: list[tuple[str, frozenset[Any]]] = []

    async def allows(self, user_id: str, roles: Any, *, fresh: bool = False) -> Verdict:
        self.asked.append((user_id, frozenset(roles)))
        access = self.access.get(user_id, Access.REFUSED)
        held = frozenset(roles) if access is Access.ALLOWED else frozenset()
        return Verdict(access, held)


class Library:
    """Only what the listeners ask of the practice library."""

    shelf = object()

    def note(self, note_id: str) -> Any:
        return None

    async def search(self, text: str) -> Found:
        return Found(text, False)

    def due(self, checked: date) -> bool:
        return False

    def topics(self) -> list[str]:
        return ["Return home interviews"]


def fake_deps(storage: Any, *, access: dict[str, Access] | None = None, **config: Any) -> Any:
    settings = {
        "timezone": ZoneInfo("Europe/London"),
        "forums": ("surgery",),
        "surgery_topics": ("Practice", "Other"),
    }
    settings.update(config)
    return SimpleNamespace(
        storage=storage,
        clock=lambda: NOW,
        config=SimpleNamespace(**settings),
        roles=Roles(access or {LEAD: Access.ALLOWED}),
        replies=Replies(),
        practice=Library(),
        audiences=SimpleNamespace(),
        home=SimpleNamespace(soon=lambda user_ids=(), *, roles=(): None),
    )


def feedback_click(action_id: str, query: str, **where: Any) -> dict[str, Any]:
    value = json.dumps({"q": query, "n": []})
    return {"actions": [{"action_id": action_id, "value": value}], "user": {"id": WORKER}, **where}


async def gap_queries(storage: Any) -> list[str]:
    return [g.query for g in await storage.gaps.gaps(date(2025, 1, 1))]


async def test_a_no_is_kept_as_a_gap_before_the_ack_and_handed_over(storage):
    deps, ack = fake_deps(storage), Ack()
    said = await actions.store_feedback(deps, ack, feedback_click(NOT_HELPED_ACTION, "RHI  dates"))
    assert said == actions.Feedback("RHI  dates", helped=False)
    assert ack.calls == [{}]
    assert await gap_queries(storage) == ["rhi dates"]


async def test_a_yes_keeps_no_gap_and_a_value_not_ours_hands_over_nothing(storage):
    deps = fake_deps(storage)
    said = await actions.store_feedback(deps, Ack(), feedback_click(HELPED_ACTION, "rhi"))
    assert said == actions.Feedback("rhi", helped=True)
    ack = Ack()
    forged = {"actions": [{"action_id": HELPED_ACTION, "value": "not json"}]}
    assert await actions.store_feedback(deps, ack, forged) is None
    assert ack.calls == [{}]
    assert await gap_queries(storage) == []


async def test_a_count_that_did_not_commit_is_handed_over_as_not_kept(storage):
    async def too_slow(*args: Any) -> None:
        raise WriteTimeout("slow")

    deps = fake_deps(SimpleNamespace(gaps=SimpleNamespace(record_gap=too_slow)))
    ack = Ack()
    said = await actions.store_feedback(deps, ack, feedback_click(NOT_HELPED_ACTION, "rhi"))
    assert said == actions.Feedback("rhi", helped=False, kept=False)
    assert ack.calls == [{}]

    await actions.after_feedback(deps, said, {"user": {"id": WORKER}})
    assert deps.replies.said == [("tell", AGAIN)]


async def test_the_thanks_replace_the_results_where_the_person_clicked(storage):
    deps = fake_deps(storage)
    body = {"response_url": "https://hooks.example/r", "user": {"id": WORKER}}
    await actions.after_feedback(deps, actions.Feedback("rhi", helped=False), body)
    [(how, (url, text, kwargs))] = deps.replies.said
    assert (how, url, text, kwargs["replace"]) == (
        "respond",
        body["response_url"],
        THANKS_NOT,
        True,
    )
    assert "guidance for “rhi”" in json.dumps(kwargs["blocks"], ensure_ascii=False)


@pytest.mark.parametrize("access", [Access.REFUSED, Access.UNKNOWN])
async def test_only_a_lead_may_raise_a_gap_and_slack_not_saying_is_a_no(storage, access):
    deps, ack = fake_deps(storage, access={WORKER: access}), Ack()
    body = {"user": {"id": WORKER}, "actions": [{"value": "rhi dates"}]}
    assert await actions.store_raise(deps, ack, body) == LEADS_ONLY
    assert ack.calls == [{}]
    assert deps.roles.asked == [(WORKER, frozenset({ENGAGEMENT_LEAD}))]
    assert await engage_gaps(deps, WORKER, "gaps") == (LEADS_ONLY, None)


async def test_a_lead_raises_a_gap_once_and_without_a_forum_hears_why_not(storage):
    await storage.gaps.record_gap("rhi dates", "no_match", NOW.date() - timedelta(days=1))
    deps = fake_deps(storage)
    body = {"user": {"id": LEAD}, "actions": [{"value": "rhi dates"}]}
    first = await actions.store_raise(deps, Ack(), body)
    assert first.startswith("Raised as *")
    assert first.endswith("it is on the board for votes.")
    again = await actions.store_raise(deps, Ack(), body)
    assert again.startswith("That was raised already, as *")
    unknown = {"user": {"id": LEAD}, "actions": [{"value": "never searched"}]}
    assert await actions.store_raise(deps, Ack(), unknown) == actions.GAP_GONE
    closed = fake_deps(storage, forums=())
    assert await actions.store_raise(closed, Ack(), body) == actions.NO_FORUM


async def test_after_raising_the_outcome_tops_the_gaps_list(storage):
    await storage.gaps.record_gap("rhi dates", "no_match", NOW.date())
    deps = fake_deps(storage)
    body = {"user": {"id": LEAD}, "response_url": "https://hooks.example/r"}
    await actions.after_raise(deps, "Raised as *Q-1*", body)
    [(how, (_, text, kwargs))] = deps.replies.said
    assert (how, text, kwargs["replace"]) == ("respond", "Raised as *Q-1*", True)
    assert kwargs["blocks"][0]["text"]["text"] == "Raised as *Q-1*"
    assert "rhi dates" in json.dumps(kwargs["blocks"][1:])


async def test_an_empty_search_box_is_answered_in_the_modal(storage):
    ack = Ack()
    view = {"state": {"values": {QUERY_BLOCK: {QUERY_ACTION: {"value": "   "}}}}}
    assert await views.store_search(fake_deps(storage), ack, view) is None
    assert ack.calls == [{"response_action": "errors", "errors": {QUERY_BLOCK: views.EMPTY_SEARCH}}]


async def test_engage_answers_an_unknown_word_with_help():
    replies = Replies()
    deps: Any = SimpleNamespace(
        engage=SimpleNamespace(command="/engage", find=lambda word: None, help=lambda: "help"),
        replies=replies,
    )
    body = {"text": "  Nonsense  here", "user_id": LEAD, "response_url": "u"}
    await engage.answer(deps, None, body)
    assert replies.said == [
        ("respond", ("u", "I don't know `/engage nonsense`. Try `/engage help`.", {"blocks": None}))
    ]


async def test_home_is_shown_on_the_first_delivery_only(storage):
    published: list[str] = []

    async def publish(user_id: str) -> None:
        published.append(user_id)

    deps: Any = SimpleNamespace(
        storage=storage, clock=lambda: NOW, home=SimpleNamespace(opened=publish)
    )
    event = {"tab": "home", "user": WORKER}
    firsts = []
    for _ in range(2):
        ack = Ack()
        firsts.append(await home.note_home_opened(deps, ack, event, {"event_id": "Ev1"}))
        assert ack.calls == [{}]
        await home.show_home(deps, firsts[-1], event)
    assert firsts == [True, False]
    assert published == [WORKER]
