"""What every feature is handed (`Deps`), and the tracker for work that runs after Slack's 200.

The request path is Bolt's own: the app runs with `process_before_response=True`, and each
listener is an `ack` function that stores what the person recorded and acknowledges, plus a
`lazy` function that Bolt starts once the acknowledgement is built, for everything that needs
Slack (private replies, views, Home). `Work.listener(ack=…, lazy=…)` wraps that pair so that:

- follow-ups are bounded: each request reserves a slot before its `ack` runs, and waits for one
  (back-pressure on the sender) when `limit` are busy, instead of piling up an unbounded backlog;
- a write that could not commit in time (`WriteTimeout`) is answered "that didn't go through,
  please try again", privately, and nothing else happens;
- a failure in either half is logged with its traceback and the person is told, privately;
- shutdown (and tests) can wait until every follow-up has finished (`idle`).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from bot.storage import WriteTimeout

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.config import Config
    from bot.home import Home
    from bot.scheduler import Scheduler
    from bot.slack.directory import Directory
    from bot.slack.replies import Replies
    from bot.slack.roles import Roles
    from bot.storage import Storage

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

# Keys this module keeps in Bolt's per-request context (copied to the lazy half by Bolt).
_SLOT = "line_of_sight_slot"
_OUTCOME = "line_of_sight_outcome"

NOT_STORED = (
    "Sorry — that didn't go through, so nothing was recorded. Please try again in a moment."
)
FAILED = (
    "Sorry, something went wrong on our side and it has been logged. Please try again in a minute."
)
BUSY = "I'm very busy just now, so I couldn't start that. Please try again in a minute."

# How long a request waits for a free slot before it is answered without its follow-up. Slack
# wants the answer within 3 s, and the ack's own write may take up to 2 s of that budget.
SLOT_WAIT_SECONDS = 0.8


Tell = Callable[[dict[str, Any], str], Awaitable[None]]


class Work:
    """Background work after the acknowledgement: bounded, tracked and drained at shutdown."""

    def __init__(self, limit: int = 64, *, slot_wait: float = SLOT_WAIT_SECONDS):
        if limit < 1:
            raise ValueError("the limit on background work must be at least 1")
        self.limit = limit
        self._slot_wait = slot_wait
        self._slots = asyncio.Semaphore(limit)
        self._reserved: set[int] = set()
        self._ids = itertools.count(1)
        self._count = 0  # reserved slots plus other tracked runs
        self._idle = asyncio.Event()
        self._idle.set()
        self.peak = 0
        self.shed = 0  # follow-ups dropped because no slot came free in time
        # Set by the app once the Home host and replies exist: how to tell a person privately.
        self.tell: Tell | None = None

    # -- counting --------------------------------------------------------------------------------

    def _started(self) -> None:
        self._count += 1
        self.peak = max(self.peak, self._count)
        self._idle.clear()

    def _finished(self) -> None:
        self._count -= 1
        if self._count == 0:
            self._idle.set()

    @property
    def count(self) -> int:
        """Follow-ups reserved or running, plus other tracked work."""
        return self._count

    async def idle(self, timeout: float = 10.0) -> bool:
        """Wait until no follow-up or tracked work is left; False if `timeout` passed first."""
        # A lazy listener's task may have been created but not started yet: let it start.
        await asyncio.sleep(0)
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def track(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        """Count runs of `fn` as work in flight (for jobs that are not listener follow-ups)."""

        @functools.wraps(fn)
        async def tracked(*args: P.args, **kwargs: P.kwargs) -> R:
            self._started()
            try:
                return await fn(*args, **kwargs)
            finally:
                self._finished()

        return tracked

    async def _reserve(self) -> int | None:
        try:
            await asyncio.wait_for(self._slots.acquire(), self._slot_wait)
        except TimeoutError:
            return None
        slot = next(self._ids)
        self._reserved.add(slot)
        self._started()
        return slot

    def _release(self, slot: int) -> None:
        self._reserved.discard(slot)
        self._slots.release()
        self._finished()

    # -- the ack / lazy pair -----------------------------------------------------------------

    def listener(
        self,
        *,
        ack: Callable[..., Awaitable[None]],
        lazy: Callable[..., Awaitable[None]] | None = None,
        busy: str | None = None,
    ) -> dict[str, Any]:
        """Bolt's `ack=`/`lazy=` arguments for one listener, wrapped as the module doc says.

        `ack` must take `ack` and `context`: it stores what the person recorded, puts what the
        follow-up needs in `context`, and calls `ack()`. `lazy` must take `context` and `body`.
        `busy` is the private answer when no slot comes free in time; without it (a click
        whose write matters more than its reply) the write still happens and only the reply
        is skipped.
        """
        _require_args(ack, "ack", "context")
        wrapped_ack = self._ack_half(ack, busy)
        if lazy is None:
            return {"ack": wrapped_ack, "lazy": [self._lazy_half(_no_follow_up)]}
        _require_args(lazy, "context", "body")
        return {"ack": wrapped_ack, "lazy": [self._lazy_half(lazy)]}

    def _ack_half(
        self, fn: Callable[..., Awaitable[None]], busy: str | None
    ) -> Callable[..., Awaitable[None]]:
        @functools.wraps(fn)  # Bolt injects arguments by the wrapped function's names
        async def ack_half(**kwargs: Any) -> None:
            context, ack = kwargs["context"], kwargs["ack"]
            slot = await self._reserve()
            context[_SLOT] = slot
            if slot is None:
                self.shed += 1
                logger.warning("background work is full (%d running)", self.limit)
                if busy is not None:
                    context[_OUTCOME] = "busy"
                    await ack(text=busy, response_type="ephemeral")
                    return
            try:
                await fn(**kwargs)
            except WriteTimeout:
                logger.warning("a write did not commit in time; the person was asked to retry")
                context[_OUTCOME] = "not_stored"
                if ack.response is None:
                    await ack()
            except Exception:
                context[_OUTCOME] = "failed"
                raise  # Bolt hands it to the app's error handler, which logs the traceback

        return ack_half

    def _lazy_half(self, fn: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        @functools.wraps(fn)
        async def lazy_half(**kwargs: Any) -> None:
            context, body = kwargs["context"], kwargs["body"]
            slot = context.get(_SLOT)
            if slot not in self._reserved:  # shed for lack of a slot: nothing to follow up
                return
            try:
                outcome = context.get(_OUTCOME)
                if outcome == "not_stored":
                    await self._tell(body, NOT_STORED)
                elif outcome == "failed":
                    await self._tell(body, FAILED)
                elif outcome is None:
                    await fn(**kwargs)
            except Exception:
                logger.exception("follow-up %s failed", fn.__name__)
                await self._tell(body, FAILED)
            finally:
                self._release(slot)

        return lazy_half

    async def _tell(self, body: dict[str, Any], text: str) -> None:
        if self.tell is None:
            return
        try:
            await self.tell(body, text)
        except Exception:
            logger.warning("could not tell the person what happened", exc_info=True)


async def _no_follow_up(context: Any, body: Any) -> None:
    """A listener whose acknowledgement says it all: only failures are followed up."""


def _require_args(fn: Callable[..., Any], *names: str) -> None:
    declared = inspect.getfullargspec(inspect.unwrap(fn)).args
    missing = [n for n in names if n not in declared]
    if missing:
        raise TypeError(
            f"{fn.__name__} must take {', '.join(missing)}: Bolt passes only the arguments a "
            "listener names"
        )


def listener_outcome(context: dict[str, Any]) -> str | None:
    """What the ack half recorded about this request: None, "busy", "not_stored" or "failed"."""
    return context.get(_OUTCOME)


@dataclass
class Deps:
    """What handlers need, passed to each feature's `register(app, deps)`."""

    config: Config
    storage: Storage
    client: AsyncWebClient
    roles: Roles
    directory: Directory
    scheduler: Scheduler
    work: Work
    home: Home
    replies: Replies
    bot_user_id: str
    clock: Callable[[], datetime]
