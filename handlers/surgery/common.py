"""What the surgery's listeners share: their texts, who a person is to the board, and the
asking modal.

Kept apart from the listeners so that the command, the shortcuts, the buttons and the modals
say the same thing the same way, and a person is known by the same pseudonyms everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck
from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from bot.slack.mrkdwn import escape
from bot.slack.roles import ENGAGEMENT_LEAD
from bot.storage.questions import Moderated
from handlers.surgery.blocks import build_ask_view
from handlers.surgery.news import send_news

if TYPE_CHECKING:
    from slack_sdk.models.views import View

    from bot.deps import Deps

COMMAND = "/ask"
AGENDA_JOB = "surgery:agendas"
HOME_SECTION = "surgery"
HELP = (
    "*Surgery questions* — for the monthly staff surgery and the Practice Advisory Group\n"
    "• `/ask` or `/ask &lt;your question&gt;` — ask (anonymously unless you untick it)\n"
    "• `/ask list` — the board, most votes first (`/ask list recent`: newest first)\n"
    "• `/ask mine` — your questions and where they have got to, with their answers\n"
    '• `/ask answered` — "You said, we did": questions answered, and what was done\n'
    "Your questions and the board are on my Home tab too."
)
LEADS_ONLY = "Only engagement leads can review questions."
NOT_STORED = "That didn't go through, so nothing was kept. Please try again."
NOT_FOUND = "Sorry, I can't find that question."


async def accept(deps: Deps, ack: AsyncAck) -> None:
    """Opening a modal or a list records nothing: answer Slack at once, then do it."""
    await ack()


def own_tag(deps: Deps, user_id: str) -> Callable[[str], str]:
    """The asker's pseudonym for one anonymous question, by its reference."""
    return lambda ref: deps.pseudonyms.own(ref, user_id)


def today(deps: Deps) -> str:
    """The service's day: a person's daily limit is counted by it."""
    return deps.clock().astimezone(deps.config.timezone).date().isoformat()


def voter(deps: Deps, user_id: str) -> str:
    """A person's pseudonym on the board: their votes are kept under it, never their id."""
    return deps.pseudonyms.voter(user_id)


async def is_lead(deps: Deps, user_id: str) -> bool:
    """Review is for engagement leads; when Slack cannot say, the answer is no."""
    verdict = await deps.roles.allows(user_id, {ENGAGEMENT_LEAD})
    return verdict.allowed


def clicked_value(body: dict[str, Any]) -> str:
    """The value of the button a person clicked (untrusted: the caller checks it)."""
    return str(((body.get("actions") or [{}])[0]).get("value") or "")


async def open_ask(
    deps: Deps,
    trigger_id: str,
    *,
    text: str = "",
    quoted: str | None = None,
    unlinked: bool = False,
    push: bool = False,
) -> None:
    """The asking modal, with the topics and the forums running now (`push`: over the modal
    the click came from)."""
    view = ask_view(deps, text=text, quoted=quoted, unlinked=unlinked)
    if push:
        await deps.client.views_push(trigger_id=trigger_id, view=view)
    else:
        await deps.client.views_open(trigger_id=trigger_id, view=view)


def ask_view(
    deps: Deps, *, text: str = "", quoted: str | None = None, unlinked: bool = False
) -> View:
    """The asking modal's view (see `build_ask_view`) with this service's settings."""
    return build_ask_view(
        deps.config.surgery_topics,
        deps.config.safeguarding_note,
        text=text,
        quoted=quoted,
        forums=tuple(deps.config.forums),
        unlinked=unlinked,
    )


def moderated(done: Moderated, what: str) -> str:
    """What a lead is told after a step: `what` was done, or why it was not."""
    question = done.question
    if done.status == "done" and question is not None:
        return f"{question.ref} {what}."
    if done.status == "not_pending" and question is not None:
        return f"{question.ref} has been reviewed already ({escape(question.state)})."
    if done.status == "invalid":
        return f"That can't be done: {escape(done.reason)}."
    return NOT_FOUND


def more(n: int, where: str) -> list[Block]:
    """ "…and n more": a list cut to fit Slack's 50 blocks says what it left out."""
    if n <= 0:
        return []
    return [SectionBlock(text=MarkdownTextObject(text=f"_…and {n} more {where}_"))]


async def refresh_leads(deps: Deps, body: dict[str, Any], *, but: str | None = None) -> None:
    """Every engagement lead's Home shows the review queue: after a question is accepted,
    declined, merged, changed or answered, theirs is published again, so nobody is left with
    Accept and Decline on a question already dealt with. `but` is the lead who acted, whose
    Home the action's own reply has just refreshed."""
    leads = await deps.roles.members(ENGAGEMENT_LEAD)
    if leads is not None:  # else each lead's Home is rebuilt when they next open it
        await deps.home.republish(leads, but=but)


async def deliver_news(deps: Deps) -> None:
    """A step's news was queued with it: send it now rather than at the next poll (a named
    asker's through the outbox, an anonymous one's sealed, by `send_news`)."""
    deps.outbox.wake()
    await send_news(deps)


async def after_review(deps: Deps, said: object, body: dict[str, Any]) -> None:
    """A moderation through a modal was stored: refresh the leads' Homes (see above), and
    tell its askers."""
    await refresh_leads(deps, body)
    await deliver_news(deps)
