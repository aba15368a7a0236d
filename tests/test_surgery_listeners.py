"""The surgery's listeners called directly, as module-level functions, with a small fake `deps`
(or the real storage on a temporary database): what each store half records, acks and hands
to its follow-up, and what each follow-up says."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from bot.slack.roles import Access, Verdict
from bot.slack.submissions import Submissions
from bot.storage import WriteTimeout
from bot.storage.question_rules import may_ask, moderation_refusal, vote_refusal
from bot.storage.questions import Asked, Question, Voted
from handlers.surgery import LEADS_ONLY, NOT_STORED
from handlers.surgery.actions import after_moderation, after_vote, store_acceptance, store_vote
from handlers.surgery.blocks import QUESTION_BLOCK
from handlers.surgery.rules import choose_agenda
from handlers.surgery.views import send_answer, store_question

NOW = datetime(2026, 12, 1, 10, tzinfo=UTC)
LEAD, PERSON = "U0EL01", "U0SW01"
OTHER_LEAD = "U0EL02"
outbox_woken: list[bool] = []  # what the fake outbox was asked to do


class Ack:
    """Records what a store half answered Slack with."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)


class Calls:
    """An async stand-in that records its calls and returns (or raises) what it is given."""

    def __init__(self, returns: Any = None, raises: BaseException | None = None) -> None:
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        self.returns, self.raises = returns, raises

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append((args, kwargs))
        if self.raises is not None:
            raise self.raises
        return self.returns


def no_news() -> SimpleNamespace:
    """Anonymous askers' news, with nothing waiting: what the sender asks, recorded."""
    return SimpleNamespace(lock=asyncio.Lock(), expire=Calls(0), claim=Calls(None))


def fake_deps(*, lead: bool = True, **questions: Any) -> SimpleNamespace:
    access = Access.ALLOWED if lead else Access.REFUSED
    return SimpleNamespace(
        storage=SimpleNamespace(
            questions=SimpleNamespace(**{"news": no_news(), "scrub": Calls(), **questions})
        ),
        roles=SimpleNamespace(
            allows=Calls(Verdict(access)), members=Calls(frozenset({LEAD, OTHER_LEAD}))
        ),
        pseudonyms=SimpleNamespace(
            voter=lambda user: f"voter:{user}",
            own=lambda ref, user: f"own:{ref}:{user}",
            quota=lambda day, user: f"quota:{day}:{user}",
        ),
        config=SimpleNamespace(
            timezone=ZoneInfo("Europe/London"),
            surgery_topics=("Caseloads",),
            forums={"surgery": (None, "#staff-surgery")},
            questions_per_day=5,
        ),
        clock=lambda: NOW,
        home=SimpleNamespace(publish=Calls(), republish=Calls()),
        submissions=Submissions(),
        replies=SimpleNamespace(respond=Calls(), tell=Calls()),
        outbox=SimpleNamespace(wake=lambda: outbox_woken.append(True)),
    )


def click(value: str, **more: Any) -> dict[str, Any]:
    return {"user": {"id": PERSON}, "actions": [{"value": value}], **more}


def question(n: int, *, votes: int, asked_at: str) -> Question:
    return Question(n, f"Q-{n}", "Why?", "Caseloads", "surgery", True, asked_at, "accepted", votes)


async def test_a_vote_is_recorded_under_the_voters_pseudonym_then_acked_and_handed_on():
    vote = Calls(Voted("recorded"))
    deps, ack = fake_deps(vote=vote), Ack()
    said = await store_vote(deps, ack, click("42"))
    assert said == "recorded"
    assert vote.calls == [((42, f"voter:{PERSON}"), {})]
    assert ack.calls == [{}]


async def test_a_vote_for_no_question_or_not_stored_says_so_and_still_acks():
    vote = Calls(raises=WriteTimeout())
    deps = fake_deps(vote=vote)
    ack = Ack()
    assert await store_vote(deps, ack, click("not-a-number")) == "unknown"
    assert vote.calls == []  # nothing to look up
    assert await store_vote(deps, ack, click("7")) == "not_stored"
    assert ack.calls == [{}, {}]


async def test_a_repeat_vote_is_told_above_the_board_in_place():
    board = Calls([])
    deps = fake_deps(board=board)
    await after_vote(deps, "repeat", click("7", response_url="https://hooks.example/r"))
    [(args, kwargs)] = deps.replies.respond.calls
    note = "You've voted for that one already: each person's vote counts once."
    assert args == ("https://hooks.example/r", note)
    assert kwargs["replace"] is True
    assert kwargs["blocks"][0]["elements"][0]["text"] == note
    assert board.calls == [((), {"order": "votes", "voter": f"voter:{PERSON}"})]


async def test_only_a_lead_accepts_a_question_and_nothing_is_recorded_otherwise():
    moderate = Calls()
    deps, ack = fake_deps(lead=False, moderate=moderate), Ack()
    said = await store_acceptance(deps, ack, click("42"))
    assert said == LEADS_ONLY
    assert moderate.calls == []
    assert ack.calls == [{}]


async def test_an_acceptance_that_did_not_go_through_says_so():
    deps, ack = fake_deps(moderate=Calls(raises=WriteTimeout())), Ack()
    assert await store_acceptance(deps, ack, click("42")) == NOT_STORED
    assert ack.calls == [{}]


async def test_a_lead_on_home_hears_how_it_went_on_a_refreshed_home():
    deps = fake_deps()
    body = {"user": {"id": LEAD}, "view": {"type": "home"}}
    await after_moderation(deps, "Q-1 is on the board now.", body)
    assert deps.home.publish.calls == [((LEAD,), {"notice": "Q-1 is on the board now."})]
    assert deps.replies.tell.calls == []
    # Every other lead's Home shows the queue too: theirs is published again.
    assert deps.home.republish.calls == [((frozenset({LEAD, OTHER_LEAD}),), {"but": LEAD})]


def asking(text: str) -> dict[str, Any]:
    selected = {"selected_option": {"value": "Caseloads"}}
    return {
        "state": {
            "values": {
                "question": {"text": {"value": text}},
                "topic": {"topic": selected},
                "forum": {"forum": {"selected_option": {"value": "surgery"}}},
            }
        }
    }


async def test_a_question_with_case_detail_goes_back_unstored():
    ask = Calls()
    deps, ack = fake_deps(ask=ask), Ack()
    await store_question(
        deps, ack, {"user": {"id": PERSON}}, asking("About J Smith DOB 01/02/2015")
    )
    [answer] = ack.calls
    assert answer["response_action"] == "errors"
    assert "case detail" in answer["errors"][QUESTION_BLOCK]
    assert ask.calls == []


async def test_the_daily_limit_is_told_in_the_modal():
    ask = Calls(Asked("too_many"))
    deps, ack = fake_deps(ask=ask), Ack()
    await store_question(deps, ack, {"user": {"id": PERSON}}, asking("When do rotas change?"))
    [(_, kwargs)] = ask.calls
    assert (kwargs["day"], kwargs["quota_tag"]) == ("2026-12-01", f"quota:2026-12-01:{PERSON}")
    assert ack.calls == [
        {
            "response_action": "errors",
            "errors": {
                QUESTION_BLOCK: "You've asked 5 questions today, the most there can be. "
                "Please ask this one tomorrow."
            },
        }
    ]


async def test_an_answer_wakes_the_outbox_only_when_it_was_queued():
    outbox_woken.clear()
    deps = fake_deps()
    await send_answer(deps, False, click("1"))
    assert outbox_woken == []
    assert deps.home.republish.calls == []
    await send_answer(deps, True, click("1"))
    assert outbox_woken == [True]
    assert deps.home.republish.calls == [((frozenset({LEAD, OTHER_LEAD}),), {"but": None})]
    # News to anonymous askers who asked to be told is sent at once too, not at the next poll.
    assert deps.storage.questions.news.claim.calls == [((NOW,), {})]


async def test_a_vote_through_the_real_storage_counts_once(storage):
    asked = await storage.questions.ask(
        text="Can we have a quiet room?",
        topic="Caseloads",
        forum="surgery",
        anonymous=True,
        user_id=PERSON,
        own_tag=lambda ref: f"own:{ref}",
        quota_tag="quota",
        day="2026-12-01",
        quoted=None,
        now=NOW,
        per_day=5,
    )
    deps = fake_deps()
    deps.storage = storage
    value = str(asked.question.id)
    assert await store_vote(deps, Ack(), click(value)) == "closed"  # not on the board yet
    await storage.questions.moderate(asked.question.id, action="accept", by=LEAD, now=NOW)
    assert await store_vote(deps, Ack(), click(value)) == "recorded"
    assert await store_vote(deps, Ack(), click(value)) == "repeat"


def test_the_agenda_takes_the_most_voted_and_the_longest_waiting_among_equals():
    late = question(1, votes=2, asked_at="2026-11-03T10:00:00Z")
    early = question(2, votes=2, asked_at="2026-11-01T10:00:00Z")
    most = question(3, votes=5, asked_at="2026-11-05T10:00:00Z")
    few = question(4, votes=0, asked_at="2026-10-01T10:00:00Z")
    agenda, rest = choose_agenda([late, early, most, few], size=2)
    assert agenda == [most, early]
    assert rest == [late, few]


def test_the_storage_rules_for_asking_voting_and_moderating():
    assert may_ask(4, 5)
    assert not may_ask(5, 5)
    assert (vote_refusal(None), vote_refusal("pending"), vote_refusal("accepted")) == (
        "unknown",
        "closed",
        None,
    )
    assert moderation_refusal("accept", "accepted") == ("not_pending", "")
    assert moderation_refusal("merge", "accepted", target_state="pending") is None
    assert moderation_refusal("merge", "pending") == ("invalid", "that question to merge into")
    assert moderation_refusal("decline", "pending", reason="  ") == (
        "invalid",
        "say why, for the asker",
    )
    assert moderation_refusal("change", "agenda") == ("not_pending", "")
