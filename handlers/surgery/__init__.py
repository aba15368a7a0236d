"""Surgery and Practice Advisory Group questions: asking (anonymously if chosen), the board and
its votes, and moderation by engagement leads.

`/ask`, the "Ask the practice surgery" shortcut and the "Ask about this" message shortcut open
the asking modal. A question is checked for case detail (bot/guardrail.py) and the asker's
daily limit, and committed before Slack hears back. People are known only by pseudonyms
(bot/pseudonyms.py): nothing stored says who asked an anonymous question, or who voted.

The listeners live by surface: `commands.py` (`/ask` and the `/engage` words), `shortcuts.py`,
`actions.py` (the buttons), `views.py` (the modals' submissions), `jobs.py` (each forum's
agenda at its cut-off), `news.py` (news to anonymous askers who asked to be told) and
`home.py` (Home's section); `common.py` holds what they share,
`rules.py` the surgery's pure rules, `channels.py` where it posts, and `blocks.py` the Block
Kit. Each listener is a store half and a follow-up (see `bot/deps.py`); this module only
wires them.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from slack_bolt.app.async_app import AsyncApp

from bot.asking import ASK_WITH_TEXT_ACTION
from bot.deps import BUSY
from handlers.surgery.actions import (
    VoteOutcome,
    after_moderation,
    after_vote,
    open_answer,
    open_decline,
    open_from_home,
    open_more,
    open_with_text,
    store_acceptance,
    store_vote,
)
from handlers.surgery.blocks import (
    ACCEPT_ACTION,
    ANSWER_ACTION,
    ANSWER_CALLBACK,
    ASK_CALLBACK,
    ASK_SHORTCUT,
    CHANGE_CALLBACK,
    DECLINE_ACTION,
    DECLINE_CALLBACK,
    MERGE_CALLBACK,
    MESSAGE_SHORTCUT,
    MORE_ACTION,
    OPEN_ASK_ACTION,
    VOTE_ACTION,
)
from handlers.surgery.commands import answer_command, engage_agenda, engage_queue
from handlers.surgery.common import (
    AGENDA_JOB,
    COMMAND,
    HELP,
    HOME_SECTION,
    LEADS_ONLY,
    NOT_STORED,
    accept,
    after_review,
)
from handlers.surgery.home import home_section
from handlers.surgery.jobs import draw_agendas
from handlers.surgery.news import NEWS_JOB, send_news
from handlers.surgery.shortcuts import from_message, from_shortcut
from handlers.surgery.views import (
    send_answer,
    store_answer,
    store_change,
    store_decline,
    store_merge,
    store_question,
)

if TYPE_CHECKING:
    from bot.deps import Deps

__all__ = [
    "AGENDA_JOB",
    "COMMAND",
    "HELP",
    "HOME_SECTION",
    "LEADS_ONLY",
    "NEWS_JOB",
    "NOT_STORED",
    "VoteOutcome",
    "register",
]


def register(app: AsyncApp, deps: Deps) -> None:
    """Wire `/ask`, the shortcuts, the asking modal, votes, moderation, the agenda job, two
    `/engage` words and Home's section."""
    work = deps.work
    deps.engage.add(
        "agenda",
        functools.partial(engage_agenda, deps),
        "`/engage agenda surgery|pag` — post the next meeting's agenda now, before its cut-off",
    )
    deps.scheduler.every(AGENDA_JOB, functools.partial(draw_agendas, deps), seconds=60)
    # News to anonymous askers who asked to be told (sealed until sent), and any a crash left.
    deps.scheduler.every(NEWS_JOB, functools.partial(send_news, deps), seconds=30)
    deps.engage.add(
        "queue",
        functools.partial(engage_queue, deps),
        "`/engage queue` — surgery questions waiting for review",
    )
    app.view(ASK_CALLBACK)(work.listener(deps, store_question))
    app.action(VOTE_ACTION)(work.listener(deps, store_vote, follow_up=after_vote))
    app.command(COMMAND)(work.listener(deps, accept, follow_up=answer_command, busy=BUSY))
    app.shortcut(ASK_SHORTCUT)(work.listener(deps, accept, follow_up=from_shortcut))
    app.shortcut(MESSAGE_SHORTCUT)(work.listener(deps, accept, follow_up=from_message))
    app.action(OPEN_ASK_ACTION)(work.listener(deps, accept, follow_up=open_from_home))
    app.action(ASK_WITH_TEXT_ACTION)(work.listener(deps, accept, follow_up=open_with_text))
    app.action(ACCEPT_ACTION)(work.listener(deps, store_acceptance, follow_up=after_moderation))
    app.action(DECLINE_ACTION)(work.listener(deps, accept, follow_up=open_decline))
    app.view(DECLINE_CALLBACK)(work.listener(deps, store_decline, follow_up=after_review))
    app.action(MORE_ACTION)(work.listener(deps, accept, follow_up=open_more))
    app.view(MERGE_CALLBACK)(work.listener(deps, store_merge, follow_up=after_review))
    app.view(CHANGE_CALLBACK)(work.listener(deps, store_change, follow_up=after_review))
    app.action(ANSWER_ACTION)(work.listener(deps, accept, follow_up=open_answer))
    app.view(ANSWER_CALLBACK)(work.listener(deps, store_answer, follow_up=send_answer))
    deps.home.add_section(HOME_SECTION, functools.partial(home_section, deps), order=30)
