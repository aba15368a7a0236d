"""The checks feature's listeners called directly: each store half records what was sent,
answers Slack in the same reply and hands the follow-up the right value; each follow-up shows
the right thing. A small fake `deps` (only what a function touches), on a real tmp database
where storage matters."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from bot.slack.roles import ENGAGEMENT_LEAD, SENIOR_MANAGER, Access, Verdict
from bot.storage import utc_iso
from bot.storage.checks import Check
from handlers.checks import commands, jobs
from handlers.checks.actions import open_follow_up, open_questions
from handlers.checks.blocks import ANSWER_ACTION, NOTE_ACTION, NOTE_BLOCK, metadata
from handlers.checks.common import CLOSED, GONE, NOT_ALLOWED, may_follow_up
from handlers.checks.views import (
    FollowUpQueued,
    store_answers,
    store_follow_up,
    store_reanswer,
    wake_outbox,
)

NOW = datetime(2025, 3, 4, 10, 30, tzinfo=UTC)
WORKER = "U0SW01"
MANAGER = "U0SM01"
QUESTIONS = [
    {
        "ask": "Who signs off?",
        "options": ["The team", "The director"],
        "answer": "The director",
        "explain": "The director signs off every plan.",
    },
    {
        "ask": "By when?",
        "options": ["Friday", "Monday"],
        "answer": "Friday",
        "explain": "Plans are due on Friday.",
    },
]


class Ack:
    """Bolt's ack, recording each call's arguments."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)


class Roles:
    """`deps.roles`: the same verdict for everyone, with the roles it holds."""

    def __init__(self, access: Access, held: frozenset[Any] = frozenset()) -> None:
        self.verdict = Verdict(access, held)

    async def allows(self, user_id: str, roles: Any, *, fresh: bool = False) -> Verdict:
        return self.verdict


class Client:
    def __init__(self) -> None:
        self.opened: list[dict[str, Any]] = []

    async def views_open(self, **kwargs: Any) -> None:
        self.opened.append(kwargs)


def shown_text(view: Any) -> str:
    """Every text in a view (a slack_sdk View or Slack's JSON), joined."""
    found = view.to_dict() if hasattr(view, "to_dict") else view
    return json.dumps(found)


def check(closes: datetime = NOW + timedelta(days=1), mode: str = "attributed") -> Check:
    return Check("b", 1, "Sign-off", QUESTIONS, False, mode, utc_iso(closes), None)


async def open_check(storage: Any, mode: str = "attributed") -> None:
    def insert(db: Any) -> None:
        db.execute(
            "INSERT INTO checks (briefing_id, version, title, questions, clarity, mode,"
            " published_by, opened_at, closes_at, taker_salt) VALUES (?, ?, ?, ?, ?, ?, ?, ?,"
            " ?, ?)",
            [
                "b",
                1,
                "Sign-off",
                json.dumps(QUESTIONS),
                0,
                mode,
                MANAGER,
                utc_iso(NOW),
                utc_iso(NOW + timedelta(days=1)),
                "ab" * 16 if mode == "anonymous" else None,
            ],
        )

    await storage.call(insert)


def answers_view(choices: list[int], attempt: int = 1) -> dict[str, Any]:
    values = {
        f"q{n}": {ANSWER_ACTION: {"selected_option": {"value": str(c)}}}
        for n, c in enumerate(choices)
    }
    return {
        "private_metadata": metadata(check(), attempt),
        "state": {"values": values},
    }


class Marks:
    """`deps.home`: the Homes marked stale for the refresh (`Home.soon`)."""

    def __init__(self) -> None:
        self.marked: list[tuple[tuple[str, ...], tuple[str, ...]]] = []

    def soon(self, user_ids: Any = (), *, roles: Any = ()) -> None:
        self.marked.append((tuple(user_ids), tuple(roles)))


def fake_deps(storage: Any = None, **more: Any) -> SimpleNamespace:
    return SimpleNamespace(
        storage=storage,
        clock=lambda: NOW,
        config=SimpleNamespace(min_group_size=10, timezone=ZoneInfo("Europe/London")),
        home=Marks(),
        **more,
    )


async def test_answers_are_stored_and_the_modal_becomes_the_feedback(storage):
    await open_check(storage)
    deps = fake_deps(storage)
    ack = Ack()
    said = await store_answers(deps, ack, {"user": {"id": WORKER}}, answers_view([0, 0]))
    assert said is None
    # Recorded: the taker's Home (checks waiting) and the leads' (figures) go stale.
    assert deps.home.marked == [((WORKER,), (ENGAGEMENT_LEAD,))]
    [call] = ack.calls
    assert call["response_action"] == "update"
    shown = shown_text(call["view"])
    assert "You got 1 of 2 right." in shown
    assert "The answer is *The director*." in shown
    assert "Try once more" in shown
    assert await storage.checks.attempts_of("b", 1, WORKER) == 1  # stored before the ack


async def test_the_same_answers_sent_again_are_not_stored_twice(storage):
    await open_check(storage)
    deps = fake_deps(storage)
    for _ in range(2):
        ack = Ack()
        await store_answers(deps, ack, {"user": {"id": WORKER}}, answers_view([1, 0]))
    assert "taken this check already" in shown_text(ack.calls[0]["view"])
    assert await storage.checks.attempts_of("b", 1, WORKER) == 1


async def test_answers_to_a_check_that_does_not_exist_are_refused(storage):
    ack = Ack()
    await store_answers(fake_deps(storage), ack, {"user": {"id": WORKER}}, answers_view([1, 0]))
    assert GONE in shown_text(ack.calls[0]["view"])


async def test_a_missing_answer_is_a_field_error(storage):
    await open_check(storage)
    view = answers_view([1, 0])
    del view["state"]["values"]["q1"]
    ack = Ack()
    await store_answers(fake_deps(storage), ack, {"user": {"id": WORKER}}, view)
    assert ack.calls == [
        {"response_action": "errors", "errors": {"q1": "Choose an answer to this one."}}
    ]


def follow_up_view(note: str, question: int | None = 0) -> dict[str, Any]:
    return {
        "private_metadata": json.dumps({"b": "b", "v": 1, "q": question}),
        "state": {"values": {NOTE_BLOCK: {NOTE_ACTION: {"value": note}}}},
    }


class FollowUpChecks:
    """`deps.storage.checks` for a follow-up: the check, its publisher, and what was queued."""

    def __init__(self, sent: int | None = 1) -> None:
        self.sent = sent
        self.queued: list[dict[str, Any]] = []

    async def check_for(self, briefing_id: str, version: int) -> Check:
        return check()

    async def published_by(self, found: Check) -> str:
        return MANAGER

    async def queue_follow_up(self, found: Check, **kwargs: Any) -> int | None:
        self.queued.append(kwargs)
        return self.sent


async def test_a_follow_up_from_someone_without_the_role_is_refused_and_nothing_queued():
    checks = FollowUpChecks()
    deps = fake_deps(SimpleNamespace(checks=checks), roles=Roles(Access.REFUSED))
    ack = Ack()
    said = await store_follow_up(deps, ack, {"user": {"id": WORKER}}, follow_up_view("Note"))
    assert said == FollowUpQueued(to_send=False)
    assert NOT_ALLOWED in shown_text(ack.calls[0]["view"])
    assert checks.queued == []


async def test_a_queued_follow_up_wakes_the_sender_after_the_answer():
    checks = FollowUpChecks(sent=1)
    roles = Roles(Access.ALLOWED, frozenset({ENGAGEMENT_LEAD}))
    deps = fake_deps(SimpleNamespace(checks=checks), roles=roles)
    ack = Ack()
    said = await store_follow_up(deps, ack, {"user": {"id": MANAGER}}, follow_up_view(" Note "))
    assert said == FollowUpQueued(to_send=True)
    assert checks.queued[0]["question"] == 0
    assert "Who it went to is not named or counted to you" in shown_text(ack.calls[0]["view"])
    woken: list[bool] = []
    deps.outbox = SimpleNamespace(wake=lambda: woken.append(True))
    await wake_outbox(deps, said)
    await wake_outbox(deps, FollowUpQueued(to_send=False))
    assert woken == [True]
    assert deps.home.marked == [((), (ENGAGEMENT_LEAD,))]  # the leads' follow-ups under way


async def test_a_follow_up_not_yet_covered_by_the_figures_sends_nothing():
    checks = FollowUpChecks(sent=-1)
    roles = Roles(Access.ALLOWED, frozenset({ENGAGEMENT_LEAD}))
    deps = fake_deps(SimpleNamespace(checks=checks), roles=roles)
    ack = Ack()
    said = await store_follow_up(deps, ack, {"user": {"id": MANAGER}}, follow_up_view("Note"))
    assert said == FollowUpQueued(to_send=False)
    assert "Follow-ups go only to audiences of 10 or more" in shown_text(ack.calls[0]["view"])


async def test_only_the_publishing_senior_manager_may_follow_up():
    deps = fake_deps(
        SimpleNamespace(checks=FollowUpChecks()),
        roles=Roles(Access.ALLOWED, frozenset({SENIOR_MANAGER})),
    )
    assert await may_follow_up(deps, MANAGER, check())
    assert not await may_follow_up(deps, "U0SM02", check())
    deps.roles = Roles(Access.UNKNOWN)
    assert not await may_follow_up(deps, MANAGER, check())


async def test_a_closed_check_opens_a_notice_not_its_questions():
    client = Client()
    checks = SimpleNamespace(check_for=FollowUpChecks().check_for)
    deps = fake_deps(SimpleNamespace(checks=checks), client=client)
    deps.clock = lambda: NOW + timedelta(days=2)
    body = {"actions": [{"value": "b@1"}], "user": {"id": WORKER}, "trigger_id": "T1"}
    await open_questions(deps, None, body)
    [opened] = client.opened
    assert opened["trigger_id"] == "T1"
    assert CLOSED in shown_text(opened["view"])


async def test_a_follow_up_button_with_a_made_up_value_opens_gone():
    client = Client()
    deps = fake_deps(SimpleNamespace(checks=FollowUpChecks()), client=client)
    body = {"actions": [{"value": "not-a-value"}], "user": {"id": MANAGER}, "trigger_id": "T"}
    await open_follow_up(deps, None, body)
    assert GONE in shown_text(client.opened[0]["view"])


async def test_a_question_answered_again_without_a_choice_is_a_field_error():
    deps = fake_deps(SimpleNamespace(checks=FollowUpChecks()))
    view = {
        "private_metadata": json.dumps({"b": "b", "v": 1, "q": 1}),
        "state": {"values": {"q1": {"answer": {"selected_option": None}}}},
    }
    ack = Ack()
    await store_reanswer(deps, ack, {"user": {"id": WORKER}}, view)
    assert ack.calls == [{"response_action": "errors", "errors": {"q1": "Choose an answer."}}]


async def test_engage_results_when_roles_cannot_be_checked():
    deps = fake_deps(
        SimpleNamespace(checks=SimpleNamespace(latest=FollowUpChecks().check_for)),
        roles=Roles(Access.UNKNOWN),
    )
    reply = await commands.answer(deps, MANAGER, "results b")
    assert reply == ("I couldn't check your role just now. Try again soon.", None)
    deps.roles = Roles(Access.REFUSED)
    assert await commands.answer(deps, WORKER, "results b") == (NOT_ALLOWED, None)


async def test_the_closing_job_closes_due_checks_and_scrubs(storage):
    await open_check(storage, mode="anonymous")
    deps = fake_deps(storage)
    deps.clock = lambda: NOW + timedelta(days=2)
    await jobs.close_due(deps)
    closed = await storage.checks.check_for("b", 1)
    assert closed is not None
    assert closed.closed_at is not None
    salt = await storage.call(
        lambda db: db.execute("SELECT taker_salt FROM checks WHERE briefing_id = 'b'").fetchone()
    )
    assert salt == (None,)  # the anonymous key went with it
