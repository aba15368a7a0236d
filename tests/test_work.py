"""`Work.listener` and `bind`: the two halves of a listener, and how Bolt's arguments reach them.

The end-to-end behaviour (a 200 means stored, a timed-out write is retried, bounded follow-ups)
is proved through real requests in tests/test_request_path.py; these pin the hand-off itself.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from bot.deps import NOT_STORED, Work, bind
from bot.storage import WriteTimeout

DEPS: Any = SimpleNamespace(name="deps")


class Ack:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.response: object | None = None

    async def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)
        self.response = object()


def bolt_args(**extra: Any) -> Any:
    """What Bolt hands a listener that names `args`: one object with every argument."""
    return SimpleNamespace(ack=Ack(), body={"user": {"id": "U0SW01"}}, context={}, **extra)


async def test_the_store_halfs_value_reaches_the_follow_up_after_the_answer():
    work = Work(limit=2)
    seen: list[tuple[Any, Any, Any]] = []

    async def store(deps: Any, ack: Any, action: dict[str, Any]) -> int:
        await ack()
        return int(action["value"]) * 2

    async def after(deps: Any, said: int, body: dict[str, Any]) -> None:
        seen.append((deps, said, body["user"]["id"]))

    listener = work.listener(DEPS, store, follow_up=after)
    args = bolt_args(action={"value": "21"})
    await listener(args)
    assert args.ack.calls == [{}]
    assert seen == []  # nothing follows until the transport says the answer has gone
    work.after_answer(args.context)
    assert await work.idle(1)
    assert seen == [(DEPS, 42, "U0SW01")]
    assert listener.__name__ == "store"


async def test_a_write_that_did_not_commit_is_answered_and_never_followed_up():
    work = Work(limit=2)
    told: list[str] = []
    followed: list[object] = []

    async def tell(body: dict[str, Any], text: str) -> None:
        told.append(text)

    work.tell = tell

    async def store(deps: Any, ack: Any) -> int:
        raise WriteTimeout("late")

    async def after(deps: Any, said: int) -> None:
        followed.append(said)

    args = bolt_args()
    await work.listener(DEPS, store, follow_up=after)(args)
    assert args.ack.calls == [{}]  # Slack still gets its answer in time
    work.after_answer(args.context)
    assert await work.idle(1)
    assert told == [NOT_STORED]
    assert followed == []


def test_a_half_that_names_what_bolt_does_not_pass_is_refused_when_wired():
    async def store(deps: Any, ack: Any, trigger_id: str) -> None: ...

    async def no_ack(deps: Any, body: dict[str, Any]) -> None: ...

    with pytest.raises(TypeError, match="trigger_id"):
        Work().listener(DEPS, store)
    with pytest.raises(TypeError, match="ack"):
        Work().listener(DEPS, no_ack)


async def test_bind_hands_deps_and_only_the_arguments_named():
    got: dict[str, Any] = {}

    async def on_event(deps: Any, event: dict[str, Any], client: Any) -> str:
        got.update(deps=deps, event=event, client=client)
        return "done"

    listener = bind(DEPS, on_event)
    args = bolt_args(event={"type": "app_home_opened"}, client="the client")
    assert await listener(args) == "done"
    assert got == {"deps": DEPS, "event": {"type": "app_home_opened"}, "client": "the client"}
    assert listener.__name__ == "on_event"
