"""The offline demo: the local Slack stand-in, the real bot as its own process, simulated staff.

It plays the briefings journey (a refused publish, a confirmed publish, acknowledgements with a
double click, the Home tab, the figures and the check, a DM broadcast with its progress message,
a correction made in place), the leads' view (the figures by team, understanding over time,
the Chart buttons' PNGs saved to ./demo-charts, the dashboard on Home, the weekly digest), a
surgery question from asking to "You said, we did", practice search (who can help, a note due
for review, a gap raised at the surgery) and a reminder, exactly as Slack would deliver it:
signed HTTP requests to the bot's /slack/events, Web API calls from the bot to the stand-in.
Then it prints what each person saw. It takes about a minute and a half: the reminder waits
out its `remind_after: 1m`, and the digest its minute.

`run.py` is the frame (start, print, check the log); `briefings.py`, `leads.py` and
`surgery.py` the steps, in the order they are numbered; `common.py` the people, words and
printing they share.
"""

from __future__ import annotations

from bot.demo.common import (
    ACK_ACTION,
    BOT_TOKEN,
    BRIEFING,
    COMPOSE_CONFIRM,
    CONFIRM_ACTION,
    DM_BRIEFING,
    NUDGE_ACTION,
    PRACTICE_OPEN_ACTION,
    PRACTICE_RAISE_ACTION,
    RESULTS_CHART_ACTION,
    RETAKE_ACTION,
    SIGNING_SECRET,
    SURGERY_ACCEPT_ACTION,
    SURGERY_ANSWER_ACTION,
    SURGERY_VOTE_ACTION,
    TAKE_ACTION,
    TRENDS_CHART_ACTION,
    render,
)
from bot.demo.run import run_demo

__all__ = [
    "ACK_ACTION",
    "BOT_TOKEN",
    "BRIEFING",
    "COMPOSE_CONFIRM",
    "CONFIRM_ACTION",
    "DM_BRIEFING",
    "NUDGE_ACTION",
    "PRACTICE_OPEN_ACTION",
    "PRACTICE_RAISE_ACTION",
    "RESULTS_CHART_ACTION",
    "RETAKE_ACTION",
    "SIGNING_SECRET",
    "SURGERY_ACCEPT_ACTION",
    "SURGERY_ANSWER_ACTION",
    "SURGERY_VOTE_ACTION",
    "TAKE_ACTION",
    "TRENDS_CHART_ACTION",
    "render",
    "run_demo",
]
