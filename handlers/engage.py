"""`/engage`: the engagement leads' command. Its words belong to the features that add them
(`deps.engage`, see bot/subcommands.py); this listener only finds whose word it is and sends
the answer privately."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt.app.async_app import AsyncApp

from bot.deps import BUSY
from bot.slack.mrkdwn import escape

if TYPE_CHECKING:
    from bot.deps import Deps


def register(app: AsyncApp, deps: Deps) -> None:
    """Wire `/engage` to the words features added to `deps.engage`."""
    command = deps.engage.command

    async def accept(ack: Any, context: dict[str, Any]) -> None:
        """Answering reads only: Slack hears back at once, the answer follows."""
        await ack()

    async def answer(context: dict[str, Any], body: dict[str, Any]) -> None:
        text = " ".join((body.get("text") or "").split())
        word = text.partition(" ")[0].lower()
        found = deps.engage.find(word) if word not in ("", "help") else None
        if word in ("", "help"):
            reply, blocks = deps.engage.help(), None
        elif found is None:
            reply = f"I don't know `{command} {escape(word[:40])}`. Try `{command} help`."
            blocks = None
        else:
            reply, blocks = await found(body["user_id"], text)
        await deps.replies.respond(body["response_url"], reply, blocks=blocks)

    app.command(command)(deps.work.legacy_listener(accept, follow_up=answer, busy=BUSY))
