"""Comprehension checks: "Take the 30-second check" on a briefing opens its questions; the
answers are stored before Slack hears back, and the modal turns into the feedback at once:
the score and, for each wrong answer, the right one and why, with one retake offered.

The listeners live by surface: `actions.py` (the buttons, each opening a modal), `views.py`
(the modals' submissions), `commands.py` (the `/engage results|export|close` words),
`trends.py` (`/engage trends`, across briefings), `chart_actions.py` (the Chart buttons:
PNGs drawn by `bot/charts.py`), `jobs.py` (closing checks), `digest.py`
(the leads' weekly digest, built by `digest_blocks.py`), `home.py` (Home's section);
`common.py` holds what they share, `blocks.py` and `results.py` the Block Kit and the CSV.
What may be recorded (a valid submission, whose turn an attempt is, whom a follow-up goes to)
is in `bot/comprehension.py`.
Each listener is a store half and a follow-up (see `bot/deps.py`); this module only wires them.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

from slack_bolt.app.async_app import AsyncApp

from bot.comprehension import (
    FOLLOW_UP_ACTION,
    FOLLOW_UP_CALLBACK,
    REANSWER_ACTION,
    REANSWER_CALLBACK,
    RETAKE_ACTION,
    SUBMIT_CALLBACK,
    TAKE_ACTION,
)
from handlers.checks.actions import open_follow_up, open_questions, open_reanswer, open_retake
from handlers.checks.chart_actions import send_chart
from handlers.checks.commands import HELP_LINES, answer
from handlers.checks.common import (
    CLOSE_JOB,
    CLOSED,
    FOLLOW_UP_CLOSED,
    GONE,
    HOME_SECTION,
    TAKEN,
    accept,
)
from handlers.checks.digest import JOB as DIGEST_JOB
from handlers.checks.digest import send_digest_if_due
from handlers.checks.home import home_section
from handlers.checks.jobs import close_due
from handlers.checks.results import CHART_ACTION as RESULTS_CHART
from handlers.checks.trends import CHART_ACTION as TRENDS_CHART
from handlers.checks.trends import HELP_LINE as TRENDS_HELP
from handlers.checks.trends import answer_trends
from handlers.checks.views import (
    FollowUpQueued,
    feedback,
    store_answers,
    store_follow_up,
    store_reanswer,
    wake_outbox,
)

if TYPE_CHECKING:
    from bot.deps import Deps

__all__ = [
    "CLOSED",
    "CLOSE_JOB",
    "FOLLOW_UP_CLOSED",
    "GONE",
    "HOME_SECTION",
    "TAKEN",
    "FollowUpQueued",
    "feedback",
    "register",
]


def register(app: AsyncApp, deps: Deps) -> None:
    """Wire the check button, the questions modal, the retake, the follow-ups, the `/engage`
    words, Home's section, the closing job and the weekly digest's."""
    work = deps.work
    for word, line in HELP_LINES.items():
        deps.engage.add(word, functools.partial(answer, deps), line)
    deps.engage.add("trends", functools.partial(answer_trends, deps), TRENDS_HELP)
    # Bolt tries listeners in the order they were added, at a cost for each: the hot path first.
    app.view(SUBMIT_CALLBACK)(work.listener(deps, store_answers))
    app.action(re.compile(rf"^{FOLLOW_UP_ACTION}_(\d|none)$"))(
        work.listener(deps, accept, follow_up=open_follow_up)
    )
    app.view(FOLLOW_UP_CALLBACK)(work.listener(deps, store_follow_up, follow_up=wake_outbox))
    app.action(REANSWER_ACTION)(work.listener(deps, accept, follow_up=open_reanswer))
    app.view(REANSWER_CALLBACK)(work.listener(deps, store_reanswer))
    app.action(TAKE_ACTION)(work.listener(deps, accept, follow_up=open_questions))
    app.action(RETAKE_ACTION)(work.listener(deps, accept, follow_up=open_retake))
    # The Chart buttons (results, trends): the PNG is drawn and uploaded in the follow-up.
    app.action(re.compile(rf"^({RESULTS_CHART}|{TRENDS_CHART})$"))(
        work.listener(deps, accept, follow_up=send_chart)
    )
    deps.home.add_section(HOME_SECTION, functools.partial(home_section, deps), order=20)
    # Rebuilt from the database at every start by construction: the job reads `checks`.
    deps.scheduler.every(CLOSE_JOB, functools.partial(close_due, deps), seconds=60)
    # The leads' weekly digest (DIGEST_AT; off: no job): its weeks are rows in `digest_runs`.
    if deps.config.digest_at is not None:
        deps.scheduler.every(DIGEST_JOB, functools.partial(send_digest_if_due, deps), seconds=60)
