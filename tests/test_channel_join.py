"""The bot sets itself up where Slack allows: a public channel it must post in is joined
(conversations.join), so nobody has to `/invite` it there; a private one still needs a person.

Publishing a briefing to a channel is in tests/test_briefings_edges.py; here, the surgery's
agenda at its cut-off, which nobody is watching when it goes.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from handlers.surgery import AGENDA_JOB
from slack_standin.harness import posts
from tests.clocks import FixedClock
from tests.conftest import (
    ENGAGEMENT_LEAD,
    PAG_SETTINGS,
    SOCIAL_WORKERS,
    make_config,
    stored_question,
)

PAG = "C0PAG"  # #practice-advisory-group
CUTOFF = datetime(2026, 12, 14, 10, 30, tzinfo=UTC)  # the PAG meets Thursday 17 Dec


@pytest.fixture
def clock():
    return FixedClock(datetime(2026, 12, 10, 9, tzinfo=UTC))


@pytest.fixture
def workspace(workspace):
    workspace.channels[PAG].members.remove(workspace.bot_user_id)  # a public channel, not joined
    return workspace


@pytest.fixture
def config(tmp_path, slack, content_dir):
    return make_config(slack, tmp_path, content_dir, **PAG_SETTINGS)


async def on_the_board(bot, clock, text):
    asked = await stored_question(bot, SOCIAL_WORKERS[0], text, now=clock(), forum="pag")
    await bot.storage.questions.moderate(
        asked.question.id, action="accept", by=ENGAGEMENT_LEAD, now=clock()
    )


async def test_the_agenda_joins_its_public_channel_and_is_posted_there(slack, bot, clock, caplog):
    # The start-up checks said it would: public, joined when first posted in.
    said = [r.getMessage() for r in caplog.get_records("setup") if r.name == "bot.doctor"]
    assert not any("#practice-advisory-group" in line for line in said), said
    await on_the_board(bot, clock, "Can supervision be fortnightly?")
    clock.now = CUTOFF
    await bot.scheduler.run_now(AGENDA_JOB)
    assert await bot.outbox.idle(30)
    [agenda] = posts(slack, PAG)
    assert "Can supervision be fortnightly?" in str(agenda.blocks)
    assert [c.args["channel"] for c in slack.calls_to("conversations.join")] == [PAG]
    assert slack.workspace.bot_user_id in slack.workspace.channels[PAG].members
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_private_agenda_channel_is_not_joined_and_nothing_is_posted_there(
    slack, bot, clock
):
    slack.workspace.channels[PAG].is_private = True
    await on_the_board(bot, clock, "Can supervision be fortnightly?")
    clock.now = CUTOFF
    await bot.scheduler.run_now(AGENDA_JOB)
    assert await bot.outbox.idle(30)
    assert posts(slack, PAG) == []
    assert slack.calls_to("conversations.join") == []
