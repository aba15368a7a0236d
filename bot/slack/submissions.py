"""One outcome per modal submission, however many times it arrives.

A `view_submission` can reach the bot more than once: a network that resends, a client that
submits twice, a Socket Mode envelope delivered again. What the submission records must happen
once. Acknowledgements, answers and votes are idempotent on their own key (one per person and
briefing, check or question); a question is not (a person may ask several), and an anonymous
question must not carry anything that ties it to a request. So the first delivery of a view
(Slack's view id and hash) decides, and every copy of it, arriving meanwhile or within
`KEEP`, gets that first outcome. Kept in memory only: nothing about who submitted is stored,
and a restart forgets (Slack's copies come within seconds). Hand-written: it is our product's
rule, a few lines over asyncio.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

KEEP = 600.0  # seconds an outcome is kept for a copy of its submission
Outcome = dict[str, Any]  # what the acknowledgement says: `ack(**outcome)`


class Submissions:
    """The first outcome of each view submission, for its copies."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._outcomes: dict[str, tuple[float, asyncio.Future[Outcome]]] = {}

    async def once(
        self,
        view: dict[str, Any],
        decide: Callable[[], Awaitable[Outcome]],
        *,
        kept: Callable[[Outcome], bool],
    ) -> Outcome:
        """`decide()` for the first delivery of `view`; its outcome for every copy. Only an
        outcome `kept` says was recorded is kept: after a refusal (a field error, a write that
        timed out) the person may press Send again on the same view, and that must count."""
        key = f"{view.get('id') or ''}:{view.get('hash') or ''}"
        if key == ":":
            return await decide()
        self._forget_old()
        found = self._outcomes.get(key)
        if found is not None:
            return await asyncio.shield(found[1])
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._outcomes[key] = (self._clock(), future)
        try:
            outcome = await decide()
        except BaseException as error:
            self._outcomes.pop(key, None)
            future.set_exception(error)
            future.exception()  # retrieved: a copy may never come to ask for it
            raise
        future.set_result(outcome)
        if not kept(outcome):
            self._outcomes.pop(key, None)
        return outcome

    def _forget_old(self) -> None:
        cutoff = self._clock() - KEEP
        for key in [
            k for k, (at, future) in self._outcomes.items() if at < cutoff and future.done()
        ]:
            del self._outcomes[key]
