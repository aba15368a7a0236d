"""The composer's listeners called directly, with a small fake `deps`: fast, and each one able
to fail on its own (the full flows through Slack are in test_compose.py)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.clarity import ClarityRules
from bot.deps import Work
from bot.slack.roles import SENIOR_MANAGER, Access, Verdict
from handlers.briefings import compose
from handlers.briefings.compose import (
    COMPOSE_CALLBACK,
    EDIT_ACTION,
    NOT_YOURS,
    ONLY_MANAGERS,
    OPEN_ACTION,
    START_ACTION,
    StartingPoint,
)

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=LONDON)
CONTENT = Path(__file__).resolve().parents[1] / "content"
MANAGER, WORKER = "U0SM01", "U0SW01"
FIELDS = {
    "title": "The new duty rota starts on Monday",
    "body": "Each team covers duty.",
    "audience": ["C0SWALL"],
    "deliver": "channel",
    "acknowledge": True,
    "publish_at": None,
    "check": None,
}


class Ack:
    """Records each call, and (given storage) whether the draft was already stored then."""

    def __init__(self, storage: Any = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.stored_at_ack: list[str] = []
        self._storage = storage

    async def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)
        if self._storage is not None:
            drafts = await self._storage.drafts.all()
            self.stored_at_ack = [d.id for d in drafts]


class Roles:
    def __init__(self, managers: set[str], *, unknown: bool = False) -> None:
        self.managers, self.unknown, self.asked = managers, unknown, []

    async def allows(self, user_id: str, roles: Any, *, fresh: bool = False) -> Verdict:
        self.asked.append((user_id, set(roles)))
        if user_id in self.managers:
            return Verdict(Access.ALLOWED, frozenset(roles))
        return Verdict(Access.UNKNOWN if self.unknown else Access.REFUSED)


class Client:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def views_update(self, **kwargs: Any) -> None:
        self.calls.append(("views_update", kwargs))

    async def views_open(self, **kwargs: Any) -> None:
        self.calls.append(("views_open", kwargs))


class Replies:
    def __init__(self) -> None:
        self.told: list[str] = []

    async def tell(self, body: dict[str, Any], text: str) -> None:
        self.told.append(text)


class Audiences:
    async def shown_user_groups(self, *, wait: float) -> list[dict[str, Any]]:
        return [{"handle": "team-managers", "name": "Team managers"}]


def fake_deps(storage: Any = None, *, managers: set[str] = frozenset({MANAGER}), **more: Any):
    return SimpleNamespace(
        config=SimpleNamespace(timezone=LONDON, content_dir=CONTENT, clarity=ClarityRules()),
        storage=storage,
        roles=Roles(set(managers), unknown=more.pop("unknown", False)),
        client=Client(),
        replies=Replies(),
        audiences=Audiences(),
        clock=lambda: NOW,
        **more,
    )


def values(title: str = "The new duty rota starts on Monday", channels=("C0SWALL",)) -> dict:
    return {
        "title": {"title": {"type": "plain_text_input", "value": title}},
        "body": {"body": {"type": "plain_text_input", "value": "Each team covers duty."}},
        "channels": {"channels": {"selected_conversations": list(channels)}},
        "deliver": {"deliver": {"selected_option": {"value": "channel"}}},
    }


def submission(user: str, *, draft: str | None = None, **fields: Any) -> tuple[dict, dict]:
    view = {
        "id": "V1",
        "type": "modal",
        "state": {"values": values(**fields)},
        "private_metadata": json.dumps({"draft": draft}),
    }
    return {"user": {"id": user}, "view": view}, view


def shown_text(client: Client) -> str:
    [(method, kwargs)] = client.calls
    assert method == "views_update"
    return json.dumps(kwargs["view"].to_dict())


async def test_preview_stores_the_draft_before_answering_and_hands_it_over(storage):
    deps = fake_deps(storage)
    ack = Ack(storage)
    body, view = submission(MANAGER)
    said = await compose.store_draft(deps, ack, body, view)
    assert said is not None
    assert said.id == "the-new-duty-rota-starts-on-monday"
    assert said.author == MANAGER
    assert ack.stored_at_ack == [said.id]  # "200 means stored"
    [answer] = ack.calls
    assert answer["response_action"] == "update"
    assert answer["view"].callback_id == "brief_compose_wait"
    assert deps.roles.asked == [(MANAGER, {SENIOR_MANAGER})]


@pytest.mark.parametrize("unknown", [False, True])
async def test_preview_by_someone_not_a_senior_manager_is_refused_and_saves_nothing(
    storage, unknown
):
    deps = fake_deps(storage, unknown=unknown)  # a role Slack could not check is refused too
    ack = Ack()
    body, view = submission(WORKER)
    assert await compose.store_draft(deps, ack, body, view) is None
    assert ack.calls == [{"response_action": "errors", "errors": {"title": ONLY_MANAGERS}}]
    assert await storage.drafts.all() == []


async def test_preview_with_field_errors_answers_them_and_hands_over_nothing(storage):
    deps = fake_deps(storage)
    ack = Ack()
    body, view = submission(MANAGER, title="  ", channels=())
    assert await compose.store_draft(deps, ack, body, view) is None
    [answer] = ack.calls
    assert answer["response_action"] == "errors"
    assert answer["errors"]["title"].startswith("Give it a title")
    assert answer["errors"]["channels"].startswith("Choose who it is for")
    assert await storage.drafts.all() == []


async def test_another_persons_draft_is_not_saved_over_by_a_non_manager(storage):
    saved = await storage.drafts.save(FIELDS, draft_id=None, user_id=MANAGER, now=NOW)
    deps = fake_deps(storage, managers=set())
    ack = Ack()
    body, view = submission(WORKER, draft=saved.id, title="Changed by someone else")
    assert await compose.store_draft(deps, ack, body, view) is None
    assert ack.calls == [{"response_action": "errors", "errors": {"title": ONLY_MANAGERS}}]
    kept = await storage.drafts.get(saved.id)
    assert kept is not None
    assert kept.fields["title"] == "The new duty rota starts on Monday"


async def test_edit_of_another_persons_draft_is_refused_to_a_non_manager(storage):
    saved = await storage.drafts.save(FIELDS, draft_id=None, user_id=MANAGER, now=NOW)
    deps = fake_deps(storage)
    body = {"user": {"id": WORKER}, "view": {"id": "V1"}, "actions": [{"value": saved.id}]}
    await compose.edit_draft(deps, None, body)
    text = shown_text(deps.client)
    assert NOT_YOURS in text
    assert "Each team covers duty." not in text
    assert deps.roles.asked == [(WORKER, {SENIOR_MANAGER})]


async def test_the_preview_follow_up_does_nothing_without_a_draft():
    deps = fake_deps()
    await compose.show_preview(deps, None, {"user": {"id": MANAGER}, "view": {"id": "V1"}})
    assert deps.client.calls == []


async def test_a_preview_that_cannot_be_planned_says_why_in_the_modal(storage, monkeypatch):
    async def nobody(deps: Any, briefing: Any, user_id: str) -> Any:
        raise ValueError("The audience has nobody in it.")

    monkeypatch.setattr(compose, "plan_and_confirm", nobody)
    draft = await storage.drafts.save(FIELDS, draft_id=None, user_id=MANAGER, now=NOW)
    deps = fake_deps(storage)
    await compose.show_preview(deps, draft, {"user": {"id": MANAGER}, "view": {"id": "V1"}})
    [(_, kwargs)] = deps.client.calls
    assert kwargs["view_id"] == "V1"
    assert kwargs["view"].callback_id == "brief_compose_problem"
    assert "The audience has nobody in it." in shown_text(deps.client)
    assert EDIT_ACTION in shown_text(deps.client)


async def test_new_briefing_on_home_is_refused_privately_to_a_non_manager():
    deps = fake_deps()
    await compose.open_from_home(deps, None, {"user": {"id": WORKER}, "trigger_id": "T1"})
    assert deps.replies.told == [ONLY_MANAGERS]
    assert deps.client.calls == []


async def test_start_from_shows_a_non_manager_no_drafts(storage):
    await storage.drafts.save(FIELDS, draft_id=None, user_id=MANAGER, now=NOW)
    deps = fake_deps(storage)
    body = {
        "user": {"id": WORKER},
        "view": {"id": "V1"},
        "actions": [{"selected_option": {"value": "draft:the-new-duty-rota-starts-on-monday"}}],
    }
    await compose.start_from(deps, None, body)
    text = shown_text(deps.client)
    assert ONLY_MANAGERS in text
    assert "duty rota" not in text


async def test_start_from_a_gone_draft_says_so():
    deps = fake_deps(SimpleNamespace(drafts=SimpleNamespace(get=_none)))
    start = await compose._starting_point(deps, "draft:nothing-here")
    assert start == StartingPoint(notice="That draft is gone.")


async def test_edit_of_a_gone_draft_says_so(storage):
    deps = fake_deps(storage)
    body = {"user": {"id": MANAGER}, "view": {"id": "V1"}, "actions": [{"value": "gone"}]}
    await compose.edit_draft(deps, None, body)
    assert "That draft is gone." in shown_text(deps.client)


async def test_register_wires_the_composer_and_returns_open_composer(storage):
    app = App()
    deps = fake_deps(storage, work=Work())
    open_composer = compose.register(app, deps, plan_and_confirm=None)
    assert sorted(app.wired) == sorted(
        [
            ("view", COMPOSE_CALLBACK),
            *(("action", a) for a in (OPEN_ACTION, START_ACTION, EDIT_ACTION)),
        ]
    )
    await open_composer("T1", MANAGER)
    [(method, kwargs)] = deps.client.calls
    assert (method, kwargs["trigger_id"]) == ("views_open", "T1")
    assert kwargs["view"].callback_id == COMPOSE_CALLBACK
    assert "@team-managers" in json.dumps(kwargs["view"].to_dict())


async def _none(*args: Any) -> None:
    return None


class App:
    def __init__(self) -> None:
        self.wired: list[tuple[str, str]] = []

    def view(self, callback_id: str) -> Any:
        return self._wire("view", callback_id)

    def action(self, action_id: str) -> Any:
        return self._wire("action", action_id)

    def _wire(self, kind: str, name: str) -> Any:
        def wire(listener: Any) -> Any:
            assert callable(listener)
            self.wired.append((kind, name))
            return listener

        return wire
