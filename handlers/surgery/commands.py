"""The surgery's slash command words: `/ask` (the modal, the board, a person's own questions,
"You said, we did"), and the two `/engage` words it adds for engagement leads (`agenda`,
`queue`).

`/ask` records nothing, so its store half only answers Slack (`common.accept`) and
`answer_command` replies once Slack has its answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from bot.slack.mrkdwn import escape
from handlers.surgery.blocks import (
    FORUMS,
    build_answered,
    build_board,
    build_my_questions,
)
from handlers.surgery.common import HELP, LEADS_ONLY, is_lead, more, open_ask, own_tag, voter
from handlers.surgery.jobs import draw_agenda
from handlers.surgery.review_blocks import (
    build_moderated_board,
    build_queue,
    build_to_answer,
)

if TYPE_CHECKING:
    from bot.deps import Deps

EngageAnswer = tuple[str, list[dict[str, Any]] | None]


async def answer_command(deps: Deps, said: None, body: dict[str, Any]) -> None:
    """`/ask`: the modal (pre-filled with any text), or the board, or their questions."""
    word = " ".join((body.get("text") or "").split()).lower()
    if word in ("help", "?"):
        await deps.replies.respond(body["response_url"], HELP)
    elif word in ("list", "list votes", "list recent"):
        await show_board(deps, body, "recent" if word.endswith("recent") else "votes")
    elif word == "answered":
        answered = await deps.storage.questions.answered(limit=10)
        blocks = [b.to_dict() for b in build_answered(answered)]
        await deps.replies.respond(body["response_url"], "You said, we did", blocks=blocks)
    elif word == "mine":
        await show_mine(deps, body)
    else:
        await open_ask(deps, body["trigger_id"], text=(body.get("text") or "").strip())


async def show_board(deps: Deps, body: dict[str, Any], order: Literal["votes", "recent"]) -> None:
    """`/ask list`: the board, with the person's own votes shown as cast."""
    board = await deps.storage.questions.board(order=order, voter=voter(deps, body["user_id"]))
    blocks = [b.to_dict() for b in build_board(board, order=order)]
    await deps.replies.respond(body["response_url"], "The question board", blocks=blocks)


async def show_mine(deps: Deps, body: dict[str, Any]) -> None:
    """`/ask mine`: the person's own questions, anonymous ones found by their pseudonyms."""
    user_id = body["user_id"]
    mine = await deps.storage.questions.mine(user_id, own_tag(deps, user_id), now=deps.clock())
    blocks = [b.to_dict() for b in build_my_questions(mine)]
    if blocks:
        await deps.replies.respond(body["response_url"], "My questions", blocks=blocks)
    else:
        await deps.replies.respond(
            body["response_url"], "You haven't asked a question yet. `/ask` to ask one."
        )


async def engage_agenda(deps: Deps, user_id: str, text: str) -> EngageAnswer:
    """`/engage agenda surgery|pag`: draw up the next meeting's agenda now, before its
    cut-off (engagement leads)."""
    if not await is_lead(deps, user_id):
        return LEADS_ONLY, None
    forum = [*text.split(), "", ""][1].lower()
    if forum not in deps.config.forums:
        running = " or ".join(f"`{f}`" for f in deps.config.forums) or "none is running"
        return f"Which forum? `/engage agenda &lt;forum&gt;`, with {running}.", None
    done = await draw_agenda(deps, forum, early=True)
    if done is None:
        return (
            f"The next {FORUMS[forum]} agenda was drawn up already, or its channel "
            f"({escape(deps.config.forums[forum][1])}) cannot be found.",
            None,
        )
    where, chosen, carried = done
    return (
        f"The {FORUMS[forum]} agenda is posted in {escape(where)}: {chosen} question"
        f"{'s' if chosen != 1 else ''}, {carried} carried forward to the meeting after.",
        None,
    )


async def engage_queue(deps: Deps, user_id: str, text: str) -> EngageAnswer:
    """`/engage queue`: the questions waiting for review (engagement leads)."""
    if not await is_lead(deps, user_id):
        return LEADS_ONLY, None
    # Slack shows 50 blocks in a message: each part gets its share, and says if there are
    # more (Home and a second look after acting show the rest).
    waiting = await deps.storage.questions.pending(limit=100)
    board = await deps.storage.questions.board(order="votes", voter="", limit=100)
    to_answer = await deps.storage.questions.on_agenda(limit=100)
    blocks: list[Block] = build_queue(waiting[:7], total=len(waiting)) or [
        SectionBlock(text=MarkdownTextObject(text="No questions are waiting for review."))
    ]
    blocks += more(len(waiting) - 7, "waiting for review")
    blocks += build_to_answer(to_answer[:7], deps.config.timezone)
    blocks += more(len(to_answer) - 7, "on an agenda to answer")
    blocks += build_moderated_board(board[:10])
    blocks += more(len(board) - 10, "on the board")
    return "Questions to review", [b.to_dict() for b in blocks]
