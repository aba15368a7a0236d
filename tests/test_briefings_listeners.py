"""Briefings' listeners called directly, with a small fake `deps`: fast, and each able to fail on
its own (the flows through Slack are in test_briefings_flow.py, test_confirmation.py and
test_catch_up.py)."""

from __future__ import annotations

import functools
from datetime import datetime, time
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.briefing_message import ACK_ACTION, ack_value
from bot.deps import Work
from bot.scheduler import Scheduler
from bot.slack.roles import ENGAGEMENT_LEAD, SENIOR_MANAGER, Access, Verdict
from bot.slack.usergroups import UserGroups
from bot.storage import WriteTimeout
from bot.storage.acknowledgements import AckResult
from bot.storage.confirmations import Outcome
from bot.storage.events import Events
from handlers import briefings
from handlers.briefings import actions, catchup, commands, compose, events, home, problems_home
from handlers.briefings.blocks import CANCEL_ACTION, CONFIRM_ACTION, HELP

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=LONDON)
MANAGER, WORKER = "U0SM01", "U0SW01"
URL = "https://hooks.example/response"


class Ack:
    """Records each call and what had happened (in `log`) by then."""

    def __init__(self, log: list[str] | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.log = log if log is not None else []
        self.response = None

    async def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)
        self.log.append("ack")


class Roles:
    """Answers every check with `access`; records what was asked."""

    def __init__(self, access: Access) -> None:
        self.access = access
        self.asked: list[tuple[str, frozenset[Any], bool]] = []

    async def allows(self, user_id: str, roles: Any, *, fresh: bool = False) -> Verdict:
        self.asked.append((user_id, frozenset(roles), fresh))
        held = frozenset(roles) if self.access is Access.ALLOWED else frozenset()
        return Verdict(self.access, held)


class Replies:
    def __init__(self) -> None:
        self.told: list[tuple[dict[str, Any], str]] = []
        self.responded: list[tuple[str, str, dict[str, Any]]] = []

    async def tell(self, body: dict[str, Any], text: str) -> None:
        self.told.append((body, text))

    async def respond(self, url: str, text: str, **kwargs: Any) -> None:
        self.responded.append((url, text, kwargs))


def fake_deps(**parts: Any) -> SimpleNamespace:
    config = SimpleNamespace(
        timezone=LONDON,
        access_contact="the service desk",
        confirm_twice_above=500,
        working_hours=(time(8), time(18)),
        working_days=frozenset(range(5)),
    )
    marked: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
    home = SimpleNamespace(
        marked=marked,
        soon=lambda user_ids=(), *, roles=(): marked.append((tuple(user_ids), tuple(roles))),
    )
    parts.setdefault("home", home)
    return SimpleNamespace(config=config, clock=lambda: NOW, replies=Replies(), **parts)


# -- Acknowledge -------------------------------------------------------------------------------


async def test_an_acknowledgement_is_stored_before_slack_hears_and_handed_to_the_thanks():
    log: list[str] = []
    result = AckResult(new=True, acknowledged_at=NOW.isoformat(), title="Rota changes")

    async def record_ack(**kwargs: Any) -> AckResult:
        log.append(f"stored {kwargs['briefing_id']} v{kwargs['version']} by {kwargs['user_id']}")
        return result

    deps = fake_deps(
        storage=SimpleNamespace(acknowledgements=SimpleNamespace(record_ack=record_ack))
    )
    ack = Ack(log)
    body = {"user": {"id": WORKER}}
    said = await actions.store_acknowledgement(
        deps, ack, body, {"value": ack_value("rota-changes", 2)}
    )
    assert said is result
    assert log == [f"stored rota-changes v2 by {WORKER}", "ack"]

    await actions.thank_for_acknowledgement(deps, said, body)
    assert deps.replies.told == [(body, "Thanks — you've acknowledged *Rota changes*.")]
    # Their own Home and the leads' are marked for the refresh, which never waits.
    assert deps.home.marked == [((WORKER,), ("engagement_lead",))]


async def test_an_unreadable_acknowledge_records_nothing_and_says_the_briefing_is_gone():
    async def record_ack(**kwargs: Any) -> AckResult:
        raise AssertionError("nothing should be recorded")

    deps = fake_deps(
        storage=SimpleNamespace(acknowledgements=SimpleNamespace(record_ack=record_ack))
    )
    ack = Ack()
    body = {"user": {"id": WORKER}}
    said = await actions.store_acknowledgement(deps, ack, body, {"value": "not a value"})
    assert said is None
    assert ack.calls == [{}]
    await actions.thank_for_acknowledgement(deps, said, body)
    assert deps.replies.told == [(body, actions.GONE)]


# -- the publisher's confirmation --------------------------------------------------------------


def confirmations(log: list[str]) -> SimpleNamespace:
    async def awaits(token: str, *, user_id: str) -> bool:
        return True

    async def confirm(token: str, **kwargs: Any) -> Outcome:
        log.append(f"confirmed {token}")
        return Outcome("queued")

    async def cancel(token: str, *, user_id: str) -> Outcome:
        log.append(f"cancelled {token}")
        return Outcome("cancelled")

    return SimpleNamespace(awaits=awaits, confirm=confirm, cancel=cancel)


async def test_a_send_click_from_someone_no_longer_a_manager_sends_nothing_and_says_why():
    log: list[str] = []
    roles = Roles(Access.REFUSED)
    deps = fake_deps(storage=SimpleNamespace(confirmations=confirmations(log)), roles=roles)
    ack = Ack(log)
    body = {"user": {"id": MANAGER}, "response_url": URL}
    action = {"action_id": CONFIRM_ACTION, "value": "tok"}
    said = await actions.store_confirmation(deps, ack, body, action)
    assert isinstance(said, actions.Refusal)
    assert said.replace is True
    assert "Only senior managers can send briefings" in said.text
    assert "the service desk" in said.text
    assert log == ["ack"]  # nothing confirmed
    assert roles.asked == [(MANAGER, frozenset({SENIOR_MANAGER}), True)]  # asked afresh

    await actions.after_confirmation(deps, said, body)
    assert deps.replies.responded == [(URL, said.text, {"blocks": None, "replace": True})]


async def test_a_send_click_when_slack_cannot_say_keeps_the_buttons_to_try_again():
    log: list[str] = []
    deps = fake_deps(
        storage=SimpleNamespace(confirmations=confirmations(log)), roles=Roles(Access.UNKNOWN)
    )
    body = {"user": {"id": MANAGER}, "response_url": URL}
    action = {"action_id": CONFIRM_ACTION, "value": "tok"}
    said = await actions.store_confirmation(deps, Ack(log), body, action)
    assert said == actions.Refusal(actions.ROLE_UNCHECKED, replace=False)
    assert log == ["ack"]


async def test_a_manager_s_send_click_is_queued_before_slack_hears():
    log: list[str] = []
    deps = fake_deps(
        storage=SimpleNamespace(confirmations=confirmations(log)), roles=Roles(Access.ALLOWED)
    )
    body = {"user": {"id": MANAGER}, "response_url": URL}
    said = await actions.store_confirmation(
        deps, Ack(log), body, {"action_id": CONFIRM_ACTION, "value": "tok"}
    )
    assert said == Outcome("queued")
    assert log == ["confirmed tok", "ack"]


async def test_a_cancel_click_needs_no_role_check():
    log: list[str] = []
    roles = Roles(Access.REFUSED)
    deps = fake_deps(storage=SimpleNamespace(confirmations=confirmations(log)), roles=roles)
    body = {"user": {"id": MANAGER}, "response_url": URL}
    said = await actions.store_confirmation(
        deps, Ack(log), body, {"action_id": CANCEL_ACTION, "value": "tok"}
    )
    assert said == Outcome("cancelled")
    assert log == ["cancelled tok", "ack"]
    assert roles.asked == []


# -- /brief ------------------------------------------------------------------------------------


async def test_brief_alone_opens_the_composer_for_a_manager_only(monkeypatch):
    opened: list[tuple[str, str]] = []

    async def open_composer(deps: Any, trigger_id: str, user_id: str) -> None:
        opened.append((trigger_id, user_id))

    monkeypatch.setattr(compose, "open_composer", open_composer)
    body = {"user_id": MANAGER, "text": " ", "trigger_id": "T1", "response_url": URL}
    manager = fake_deps(roles=Roles(Access.ALLOWED))
    await commands.answer_brief(manager, None, body)
    assert opened == [("T1", MANAGER)]
    assert manager.replies.responded == []

    worker = fake_deps(roles=Roles(Access.REFUSED))
    await commands.answer_brief(worker, None, {**body, "user_id": WORKER})
    assert opened == [("T1", MANAGER)]
    assert worker.replies.responded == [(URL, HELP, {})]


async def test_brief_status_says_when_the_role_could_not_be_checked():
    roles = Roles(Access.UNKNOWN)
    deps = fake_deps(roles=roles)
    body = {"user_id": WORKER, "text": "status rota-changes", "response_url": URL}
    await commands.answer_brief(deps, None, body)
    assert deps.replies.responded == [
        (URL, "I couldn't check your role just now. Try again soon.", {})
    ]
    assert roles.asked == [(WORKER, frozenset({SENIOR_MANAGER, ENGAGEMENT_LEAD}), False)]


async def test_the_brief_command_answers_slack_at_once():
    ack = Ack()
    assert await commands.accept(SimpleNamespace(), ack) is None
    assert ack.calls == [{}]


# -- joins -------------------------------------------------------------------------------------


def events_with(first_delivery: Any) -> SimpleNamespace:
    """The Events store with its one write faked (`first_of` is the real one, over it)."""
    fake = SimpleNamespace(first_delivery=first_delivery)
    fake.first_of = functools.partial(Events.first_of, fake)
    return fake


async def test_a_join_redelivered_by_slack_is_not_caught_up_twice(monkeypatch):
    first: dict[str, bool] = {}

    async def first_delivery(event_id: str, now: datetime, *, timeout: float) -> bool:
        seen = event_id in first
        first[event_id] = True
        return not seen

    caught: list[tuple[str, str]] = []

    async def joined_channel(deps: Any, user_id: str, channel_id: str) -> None:
        caught.append((user_id, channel_id))

    monkeypatch.setattr(catchup, "joined_channel", joined_channel)
    deps = fake_deps(storage=SimpleNamespace(events=events_with(first_delivery)))
    body = {
        "event_id": "Ev1",
        "event": {"type": "member_joined_channel", "user": WORKER, "channel": "C0SWALL"},
    }
    for _ in range(2):
        ack = Ack()
        said = await events.note_joiner(deps, ack, body)
        assert ack.calls == [{}]
        await events.catch_up_joiner(deps, said, body)
    assert caught == [(WORKER, "C0SWALL")]


async def test_a_join_whose_event_id_could_not_be_written_is_still_caught_up():
    async def first_delivery(event_id: str, now: datetime, *, timeout: float) -> bool:
        raise WriteTimeout("busy")

    deps = fake_deps(storage=SimpleNamespace(events=events_with(first_delivery)))
    assert await events.note_joiner(deps, Ack(), {"event_id": "Ev2"}) is True


# -- Home --------------------------------------------------------------------------------------


async def test_home_shows_new_briefing_only_when_the_role_is_known_to_allow_it():
    async def awaiting_ack(user_id: str) -> list[Any]:
        return []

    storage = SimpleNamespace(acknowledgements=SimpleNamespace(awaiting_ack=awaiting_ack))
    button = [b.to_dict() for b in compose.build_new_button()]
    shown = {}
    for access in Access:
        blocks = await home.waiting_section(fake_deps(storage=storage, roles=Roles(access)), WORKER)
        shown[access] = [b.to_dict() for b in blocks]
    assert shown[Access.ALLOWED][-len(button) :] == button
    assert shown[Access.REFUSED] == shown[Access.UNKNOWN] == shown[Access.ALLOWED][: -len(button)]


# -- wiring ------------------------------------------------------------------------------------


class RecordingApp:
    def __init__(self) -> None:
        self.wired: list[tuple[str, Any]] = []

    def __getattr__(self, kind: str) -> Any:
        def route(key: Any, *args: Any, **kwargs: Any) -> Any:
            def listen(fn: Any) -> Any:
                self.wired.append((kind, key))
                return fn

            return listen

        return route


async def test_register_wires_the_hot_path_first_and_the_daily_catch_up_at_working_hours():
    jobs: list[tuple[str, str, dict[str, Any]]] = []
    scheduler = SimpleNamespace(
        every=lambda job, fn, **kw: jobs.append(("every", job, kw)),
        daily=lambda job, fn, **kw: jobs.append(("daily", job, kw)),
    )
    sections: list[str] = []
    usergroups = UserGroups(None)
    deps = fake_deps(
        work=Work(),
        scheduler=scheduler,
        home=SimpleNamespace(add_section=lambda name, build, order: sections.append(name)),
        usergroups=usergroups,
    )
    app = RecordingApp()
    briefings.register(app, deps)
    assert len(usergroups._joined) == 1  # people added to a user group are caught up
    mine = [w for w in app.wired if w[0] in ("action", "command", "event")]
    assert ("action", ACK_ACTION) in mine
    assert ("command", "/brief") in mine
    assert mine.index(("action", ACK_ACTION)) < mine.index(("command", "/brief"))
    assert sections == [home.HOME_SECTION, problems_home.HOME_SECTION]
    daily = [j for j in jobs if j[0] == "daily"]
    assert daily == [
        (
            "daily",
            catchup.JOB,
            {"at": time(8), "days": frozenset(range(5)), "run_at_start": True},
        )
    ]
    assert {j[1] for j in jobs if j[0] == "every"} == {
        "briefings:circulars",
        "briefings:scheduled",
        "briefings:reminders",
    }


async def test_the_daily_catch_up_fires_as_its_own_trigger_did():
    """Scheduler.daily gives the trigger catch-up built for itself before: working days only,
    at the start of working hours, in the service's time zone."""
    scheduler = Scheduler(None, LONDON)  # type: ignore[arg-type]

    async def nothing() -> None:
        return None

    scheduler.daily("x", nothing, at=time(8, 30), days=frozenset({0, 2, 4}))
    before = CronTrigger(day_of_week="mon,wed,fri", hour=8, minute=30, timezone=LONDON)
    trigger = scheduler._scheduler.get_job("x").trigger
    assert str(trigger) == str(before)
    friday_evening = datetime(2026, 12, 4, 19, 0, tzinfo=LONDON)
    assert trigger.get_next_fire_time(None, friday_evening) == datetime(
        2026, 12, 7, 8, 30, tzinfo=LONDON
    )
