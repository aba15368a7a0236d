"""`/engage`: the engagement leads' command. Its words belong to the features that add them
(`deps.engage`, see bot/subcommands.py); this listener only finds whose word it is and sends
the answer privately."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.async_app import AsyncAck

from bot.deps import BUSY
from bot.slack.mrkdwn import escape

if TYPE_CHECKING:
    from bot.deps import Deps


async def accept(deps: Deps, ack: AsyncAck) -> None:
    """Answering reads only: Slack hears back at once, the answer follows."""
    await ack()


async def answer(deps: Deps, said: None, body: dict[str, Any]) -> None:
    """Find the feature whose word it is and send its answer; help for no word or "help"."""
    command = deps.engage.command
    text = " ".join((body.get("text") or "").split())
    word = text.partition(" ")[0].lower()
    found = deps.engage.find(word) if word not in ("", "help") else None
    blocks: list[dict[str, Any]] | None = None
    if word in ("", "help"):
        reply = deps.engage.help()
    elif found is None:
        reply = f"I don't know `{command} {escape(word[:40])}`. Try `{command} help`."
    else:
        reply, blocks = await found(body["user_id"], text)
    await deps.replies.respond(body["response_url"], reply, blocks=blocks)


def register(app: AsyncApp, deps: Deps) -> None:
    """Wire `/engage` to the words features added to `deps.engage`."""
    app.command(deps.engage.command)(deps.work.listener(deps, accept, follow_up=answer, busy=BUSY))
