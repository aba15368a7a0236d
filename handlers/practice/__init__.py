"""Practice search: `/practice <words>`, the search modal, a note in full, "Did this help?",
and for engagement leads the gaps (`/engage gaps`) and a rebuild of the index (`/engage reload`).

Search answers from `deps.practice` (bot/practice/library.py), built at start and swapped
whole on reload. Strong matches come first and weak ones under "Might help"; with nothing
strong, "Ask the surgery" (bot/asking.py) starts a question with the search's words. What
staff looked for and did not find is kept as its words and the day only
(bot/storage/search_gaps.py), never when it looks like case detail (bot/guardrail.py) or has
no real word in it; a lead can dismiss a gap.

The listeners live by surface: `commands.py` (`/practice` and the `/engage` words),
`views.py` (the modal's Search), `actions.py` (the buttons), `home.py` (Home's section);
`common.py` holds what they share and `blocks.py` the Block Kit. Each is a store half and a
follow-up (see `bot/deps.py`); this module only wires them.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from slack_bolt.app.async_app import AsyncApp

from bot.deps import BUSY
from handlers.practice.actions import (
    Feedback,
    after_feedback,
    after_raise,
    open_note,
    open_search,
    store_dismiss,
    store_feedback,
    store_raise,
)
from handlers.practice.blocks import (
    DISMISS_ACTION,
    HELPED_ACTION,
    NOT_HELPED_ACTION,
    OPEN_NOTE_ACTION,
    OPEN_SEARCH_ACTION,
    RAISE_ACTION,
    SEARCH_CALLBACK,
)
from handlers.practice.commands import answer_command, engage_gaps, engage_reload
from handlers.practice.common import COMMAND, HOME_SECTION, LEADS_ONLY, accept
from handlers.practice.home import home_section
from handlers.practice.views import store_search

if TYPE_CHECKING:
    from bot.deps import Deps

__all__ = ["COMMAND", "HOME_SECTION", "LEADS_ONLY", "Feedback", "register"]


def register(app: AsyncApp, deps: Deps) -> None:
    """Wire `/practice`, the modal, the buttons, Home's section and two `/engage` words."""
    work = deps.work
    deps.engage.add(
        "gaps",
        functools.partial(engage_gaps, deps),
        "`/engage gaps` — what staff searched practice guidance for and didn't find",
    )
    deps.engage.add(
        "reload",
        functools.partial(engage_reload, deps),
        "`/engage reload` — read the practice notes and directory again",
    )
    app.command(COMMAND)(work.listener(deps, accept, follow_up=answer_command, busy=BUSY))
    app.view(SEARCH_CALLBACK)(work.listener(deps, store_search))
    app.action(OPEN_SEARCH_ACTION)(work.listener(deps, accept, follow_up=open_search))
    app.action(OPEN_NOTE_ACTION)(work.listener(deps, accept, follow_up=open_note))
    for action_id in (HELPED_ACTION, NOT_HELPED_ACTION):
        app.action(action_id)(work.listener(deps, store_feedback, follow_up=after_feedback))
    app.action(RAISE_ACTION)(work.listener(deps, store_raise, follow_up=after_raise))
    # after_raise shows the gaps again with what was done on top: the same for a dismissal.
    app.action(DISMISS_ACTION)(work.listener(deps, store_dismiss, follow_up=after_raise))
    deps.home.add_section(HOME_SECTION, functools.partial(home_section, deps), order=40)
