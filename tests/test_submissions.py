"""One outcome per modal submission (bot/slack/submissions.py): a copy of a submission gets
the first's outcome and decides nothing again; a refusal is not kept, so Send pressed again on
the same view counts."""

from __future__ import annotations

import asyncio

import pytest

from bot.slack.submissions import KEEP, Submissions

VIEW = {"id": "V0ASK", "hash": "1.abc"}


def recorded(said):
    return said.get("response_action") == "update"


async def test_copies_of_a_submission_get_the_first_outcome_and_decide_nothing():
    kept = Submissions()
    decided = []

    async def decide():
        decided.append(1)
        await asyncio.sleep(0.01)  # a copy arrives while the first is still running
        return {"response_action": "update", "view": {"n": len(decided)}}

    outcomes = await asyncio.gather(*(kept.once(VIEW, decide, kept=recorded) for _ in range(4)))
    assert decided == [1]
    assert all(o == {"response_action": "update", "view": {"n": 1}} for o in outcomes)
    assert await kept.once(VIEW, decide, kept=recorded) == outcomes[0]  # a copy later on
    assert decided == [1]


async def test_a_refusal_or_a_failure_is_not_kept_so_send_again_counts():
    kept = Submissions()
    said = iter([{"response_action": "errors", "errors": {"q": "Too long"}}])

    async def refuse():
        return next(said)

    async def fail():
        raise TimeoutError

    async def record():
        return {"response_action": "update", "view": {}}

    assert (await kept.once(VIEW, refuse, kept=recorded))["response_action"] == "errors"
    with pytest.raises(TimeoutError):
        await kept.once(VIEW, fail, kept=recorded)
    assert (await kept.once(VIEW, record, kept=recorded))["response_action"] == "update"


async def test_an_outcome_is_forgotten_after_it_has_been_kept_long_enough():
    now = [0.0]
    kept = Submissions(clock=lambda: now[0])
    decided = []

    async def decide():
        decided.append(1)
        return {"response_action": "update"}

    await kept.once(VIEW, decide, kept=recorded)
    now[0] = KEEP + 1
    await kept.once({"id": "V0OTHER", "hash": "2"}, decide, kept=recorded)  # prunes the old
    await kept.once(VIEW, decide, kept=recorded)
    assert len(decided) == 3
