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
from bot.slack.sections import SECTION_LIMIT, sections
from bot.storage.questions import MAX_QUESTION
from bot.timefmt import format_local
from handlers.surgery.blocks import (
    FORUMS,
    build_answered,
    build_board,
    build_my_questions,
)
from handlers.surgery.common import HELP, LEADS_ONLY, is_lead, more, open_ask, own_tag, voter
from handlers.surgery.jobs import Drawn, draw_agenda
from handlers.surgery.review_blocks import (
    build_moderated_board,
    build_queue,
    build_to_answer,
)
from handlers.surgery.rules import too_long

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
    elif len(text := (body.get("text") or "").strip()) > MAX_QUESTION:
        await deps.replies.respond(
            body["response_url"], too_long_reply(text), blocks=too_long_blocks(text)
        )
    else:
        await open_ask(deps, body["trigger_id"], text=text)


def too_long_reply(text: str) -> str:
    """`/ask` with a question over the limit: refused with its length, nothing opened or kept."""
    return f"Your question is {too_long(text)}, so I haven't opened it and nothing was kept."


ECHO_LIMIT = 9000  # of escaped text: with the refusal, well under Slack's 12,000 in a message


def too_long_blocks(text: str) -> list[dict[str, Any]]:
    """The refusal, then the question as it was typed, whole (sections split between
    characters, never inside one's escape, and nothing added), to copy and shorten."""
    if len(escape(text)) > ECHO_LIMIT:
        note = " Shorten it, then `/ask` again (it is too long for me to show it back to you)."
        return [b.to_dict() for b in sections("too-long", [too_long_reply(text) + note])]
    pieces, piece = [], ""
    for char in text:
        if len(piece) + len(escape(char)) > SECTION_LIMIT:
            pieces.append(piece)
            piece = ""
        piece += escape(char)
    first = too_long_reply(text) + " Shorten it, then `/ask` again. Here it is, to copy:"
    return [
        b.to_dict()
        for b in sections("too-long", [first])
        + [
            SectionBlock(block_id=f"typed:{n}", text=MarkdownTextObject(text=p))
            for n, p in enumerate([*pieces, piece])
            if p
        ]
    ]


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
    done = await draw_agenda(deps, forum, early=True, by=user_id)
    return agenda_reply(done, FORUMS[forum], deps), None


def agenda_reply(done: Drawn, name: str, deps: Deps) -> str:
    """What a lead is told after `/engage agenda`: one answer per outcome, never an either/or."""
    counted = (
        f"{done.chosen} question{'s' if done.chosen != 1 else ''}, {done.carried} carried "
        "forward to the meeting after"
    )
    if done.status == "posted":
        return f"The {name} agenda is posted in {escape(done.where)}: {counted}."
    if done.status == "to_leads":
        return (
            f"The {name} agenda is drawn up ({counted}). {done.why}, so it has gone to the "
            f"engagement leads by direct message, you included. {done.how}"
        )
    if done.status == "already":
        when = format_local(done.drawn_at, deps.config.timezone) if done.drawn_at else "earlier"
        return (
            f"The next {name} agenda was drawn up already ({when}). The one after is drawn up "
            "once this meeting has passed."
        )
    return (
        f"The {name} agenda is not drawn up: {done.why}, and I couldn't find the engagement "
        f"leads to send it to instead. Nothing has changed on the board. {done.how}"
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
