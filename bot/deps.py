"""What every feature is handed (`Deps`), and the tracker for work that runs after Slack's answer.

The request path: Bolt runs with `process_before_response=True`, so a listener's function runs to
the end before Slack gets its answer. `Work.listener(deps, store, follow_up=…)` builds that
function from two module-level halves:

- `store(deps, ack, …) -> T` records what the person did (an acknowledgement, an answer, a
  vote), calls `ack()` and returns what the follow-up needs; it is done before Slack hears
  back, so a 200 always means "stored";
- `follow_up(deps, said: T, …)` gets that value, typed (mypy checks the halves agree), and does
  everything that needs Slack (private replies, views, Home) as a task of ours, started by the
  transport (`bot/web.py`, `bot/socket_mode.py`) once the answer has gone.

Both name the Bolt arguments they want after `deps` (and `said`), as a Bolt listener would; a
listener that records nothing is wired with `bind(deps, fn)`.

Why not Bolt's own `lazy=` listeners: Bolt deep-copies and re-parses the whole request for each
lazy function. Measured on a burst of Acknowledge clicks (whose payload carries the whole
briefing), that copy was 28% of the bot's CPU and capped it at 0.4x the clicks a bare Bolt app
takes. The follow-up here gets the same `body` and Bolt objects, uncopied.

Around the two halves `Work` makes sure that:

- follow-ups are bounded: each request takes a slot before `store` runs and waits for one
  (back-pressure on the sender) while `limit` are busy, instead of piling up a backlog;
- a write that could not commit in time (`WriteTimeout`) is answered "that didn't go through,
  please try again", privately, and nothing else happens;
- a failure in either half is logged with its traceback and the person is told, privately;
- shutdown (and tests) can wait until every follow-up has finished (`idle`).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Concatenate, TypeVar

from slack_bolt.async_app import AsyncAck
from slack_bolt.kwargs_injection.async_args import AsyncArgs

from bot.slack.submissions import Submissions
from bot.slack.views import build_notice_view
from bot.storage import WriteTimeout

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.audiences import Audiences
    from bot.config import Config
    from bot.home import Home
    from bot.practice.library import Library
    from bot.pseudonyms import Pseudonyms
    from bot.scheduler import Scheduler
    from bot.sender import OutboxSender
    from bot.slack.people import People
    from bot.slack.replies import Replies
    from bot.slack.roles import Roles
    from bot.slack.usergroups import UserGroups
    from bot.storage import Storage
    from bot.subcommands import Subcommands

logger = logging.getLogger(__name__)

# What the store half leaves in Bolt's per-request context: for the app's error handler, and
# the follow-ups for the transport to start once the answer has gone.
_OUTCOME = "line_of_sight_outcome"
_AFTER_ANSWER = "line_of_sight_after_answer"

NOT_STORED = (
    "Sorry — that didn't go through, so nothing was recorded. Please try again in a moment."
)
FAILED = (
    "Sorry, something went wrong on our side and it has been logged. Please try again in a minute."
)
BUSY = "I'm very busy just now, so I couldn't start that. Please try again in a minute."

# How long a request waits for a free slot before it is answered without its follow-up. Slack
# wants the answer within 3 s, and the ack's own write may take up to 2 s of that budget.
SLOT_WAIT_SECONDS = 0.5


Tell = Callable[[dict[str, Any], str], Awaitable[None]]


class Work:
    """Background work after the acknowledgement: bounded, tracked and drained at shutdown."""

    def __init__(self, limit: int = 64, *, slot_wait: float = SLOT_WAIT_SECONDS):
        if limit < 1:
            raise ValueError("the limit on background work must be at least 1")
        self.limit = limit
        self._slot_wait = slot_wait
        self._slots = asyncio.Semaphore(limit)
        self._tasks: set[asyncio.Task[None]] = set()
        self._count = 0  # slots reserved and follow-ups running
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
        """Follow-ups reserved or running."""
        return self._count

    async def idle(self, timeout: float = 10.0) -> bool:
        """Wait until no follow-up is left; False if `timeout` passed first."""
        # A lazy listener's task may have been created but not started yet: let it start.
        await asyncio.sleep(0)
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def _reserve(self) -> bool:
        if self._slots.locked():  # every slot busy: wait a little for one (back-pressure)
            try:
                await asyncio.wait_for(self._slots.acquire(), self._slot_wait)
            except TimeoutError:
                return False
        else:
            await self._slots.acquire()  # free: returns at once, without a task or a timer
        self._started()
        return True

    def _release(self) -> None:
        self._slots.release()
        self._finished()

    # -- the store / follow-up pair ------------------------------------------------------------

    def listener(
        self,
        deps: Deps,
        store: Callable[Concatenate[Deps, ...], Awaitable[T]],
        *,
        follow_up: Callable[Concatenate[Deps, T, ...], Awaitable[None]] | None = None,
        busy: str | None = None,
    ) -> Callable[[AsyncArgs], Awaitable[None]]:
        """One Bolt listener from a `store` half and a `follow_up` half (see the module doc).

        `store(deps, ack, …)` stores what the person recorded, calls `ack()` and returns what
        the follow-up needs; `follow_up(deps, said, …)` gets that value as `said`, typed: mypy
        checks that the two halves agree. After `deps`, each half names the Bolt arguments it
        wants (`ack`, `body`, `client`, `respond`…), as a Bolt listener would. `busy` is the
        private answer when no slot comes free in time; without it (a click whose write matters
        more than its reply) the write still happens and only the follow-up is skipped.
        """
        store_args = _bolt_args(store, skip=1)
        if "ack" not in store_args:
            raise TypeError(f"{store.__name__} must take ack: the store half answers Slack")
        follow_args = _bolt_args(follow_up, skip=2) if follow_up is not None else []

        async def listener(args: AsyncArgs) -> None:
            # Bolt passes everything as one `AsyncArgs` to a listener that names `args`: a
            # documented form, so no signature is synthesised for Bolt to read.
            context, ack, body = args.context, args.ack, args.body
            slot = await self._reserve()
            if not slot:
                self.shed += 1
                logger.warning("background work is full (%d running)", self.limit)
                if busy is not None:
                    await ack(text=busy, response_type="ephemeral")
                    return
            later = {k: getattr(args, k) for k in follow_args}
            outcome: str | None = None
            said: Any = None
            try:
                said = await store(deps, **{k: getattr(args, k) for k in store_args})
            except WriteTimeout:
                logger.warning("a write did not commit in time; the person was asked to retry")
                outcome = "not_stored"
                if ack.response is None:
                    await _ack_failure(ack, body, NOT_STORED)
            except Exception:
                context[_OUTCOME] = outcome = "failed"
                raise  # Bolt hands it to the app's error handler, which logs and answers
            except BaseException:  # cancelled: nothing to follow up
                if slot:
                    self._release()
                    slot = False
                raise
            finally:
                if slot or outcome is not None:
                    # Without a slot only a failure is followed up (the person must hear of
                    # it): a short task counted as work in flight, outside the limit.
                    step = None if follow_up is None else functools.partial(follow_up, deps, said)
                    self._defer(context, step, outcome, later, body, slot=slot)

        listener.__name__ = store.__name__
        listener.__qualname__ = store.__qualname__
        listener.__doc__ = store.__doc__
        return listener

    def _defer(
        self,
        context: dict[str, Any],
        follow_up: Callable[..., Awaitable[None]] | None,
        outcome: str | None,
        args: dict[str, Any],
        body: dict[str, Any],
        *,
        slot: bool,
    ) -> None:
        if not slot:
            self._started()
        context.setdefault(_AFTER_ANSWER, []).append((follow_up, outcome, args, body, slot))

    def after_answer(self, context: dict[str, Any]) -> None:
        """Start a request's follow-ups: its transport calls this once Slack has its answer.

        Starting them only then keeps their work (a reply is an HTTP call of its own) off the
        path of the answer itself.
        """
        for follow_up, outcome, args, body, slot in context.pop(_AFTER_ANSWER, []):
            task = asyncio.create_task(self._follow(follow_up, outcome, args, body, slot))
            self._tasks.add(task)  # asyncio keeps only a weak reference to a running task
            task.add_done_callback(self._tasks.discard)

    async def _follow(
        self,
        follow_up: Callable[..., Awaitable[None]] | None,
        outcome: str | None,
        args: dict[str, Any],
        body: dict[str, Any],
        slot: bool,
    ) -> None:
        try:
            if outcome == "not_stored":
                await self._tell(body, NOT_STORED)
            elif outcome == "failed":
                await self._tell(body, FAILED)
            elif follow_up is not None:
                await follow_up(**args)
        except Exception:
            name = getattr(getattr(follow_up, "func", follow_up), "__name__", "follow-up")
            logger.exception("follow-up %s failed", name)
            await self._tell(body, FAILED)
        finally:
            if slot:
                self._release()
            else:
                self._finished()

    async def _tell(self, body: dict[str, Any], text: str) -> None:
        if self.tell is None:
            return
        try:
            await self.tell(body, text)
        except Exception:
            logger.warning("could not tell the person what happened", exc_info=True)


def failure_push(text: str) -> dict[str, Any]:
    """What a modal's submission is answered with when nothing was kept: a notice pushed over
    the form (whose answers stay there, to send again). A submission has no response_url, nor
    anywhere else to say it, and closing the modal would look as if all had gone well."""
    return {"response_action": "push", "view": build_notice_view("Not sent", text).to_dict()}


async def _ack_failure(ack: AsyncAck, body: dict[str, Any], text: str) -> None:
    """Answer Slack for a request whose write did not commit in time (see `failure_push`)."""
    if body.get("type") == "view_submission":
        await ack(**failure_push(text))
    else:
        await ack()


T = TypeVar("T")

# The names Bolt can hand a listener: `AsyncArgs`' own (tests/test_bolt_contract.py holds Bolt
# to them, so an upgrade that renames one fails there, not in a click).
BOLT_ARGS = frozenset(
    name
    for name in inspect.signature(AsyncArgs.__init__).parameters
    if name not in {"self", "kwargs"}
) | {"request", "response", "next_"}


def _bolt_args(fn: Callable[..., Any], *, skip: int) -> list[str]:
    """The Bolt arguments `fn` names after its first `skip` (ours: `deps`, then `said`)."""
    names = list(inspect.signature(fn).parameters)[skip:]
    unknown = [n for n in names if n not in BOLT_ARGS]
    if len(names) + skip != len(inspect.signature(fn).parameters) or unknown:
        raise TypeError(f"{fn.__name__} names arguments Bolt does not pass: {', '.join(unknown)}")
    return names


def bind(
    deps: Deps, fn: Callable[Concatenate[Deps, ...], Awaitable[Any]]
) -> Callable[[AsyncArgs], Awaitable[Any]]:
    """A module-level listener `fn(deps, <Bolt arguments>…)` as Bolt calls it.

    For listeners that record nothing (an options list, an event that only refreshes a view):
    anything a person records goes through `Work.listener`, which answers Slack only once it
    is stored.
    """
    names = _bolt_args(fn, skip=1)

    async def listener(args: AsyncArgs) -> Any:
        return await fn(deps, **{k: getattr(args, k) for k in names})

    listener.__name__ = fn.__name__
    listener.__qualname__ = fn.__qualname__
    listener.__doc__ = fn.__doc__
    return listener


def listener_outcome(context: dict[str, Any]) -> str | None:
    """ "failed" when the store half of this request raised, else None."""
    return context.get(_OUTCOME)


@dataclass
class Deps:
    """What handlers need, passed to each feature's `register(app, deps)`."""

    config: Config
    storage: Storage
    client: AsyncWebClient
    roles: Roles
    people: People
    scheduler: Scheduler
    work: Work
    home: Home
    replies: Replies
    audiences: Audiences
    usergroups: UserGroups
    outbox: OutboxSender
    bot_user_id: str
    clock: Callable[[], datetime]
    pseudonyms: Pseudonyms
    engage: Subcommands
    practice: Library
    # One outcome per modal submission, however often it arrives (a question is not
    # idempotent on its own): bot/slack/submissions.py.
    submissions: Submissions = field(default_factory=Submissions)
