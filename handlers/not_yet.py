"""`/practice`: declared in the manifest, answered kindly until built.

Without a listener Slack would show the person an error ("/ask failed…"); instead they get a
private note of what to do meanwhile. Each command moves to its own module when it is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt.app.async_app import AsyncApp

if TYPE_CHECKING:
    from bot.deps import Deps

MEANWHILE = {
    "/practice": (
        "Practice search is coming soon. Until then, the practice standards, the Threshold "
        "Document and who can help are in the Resource Directory."
    ),
}


def _answer(note: str) -> Any:
    async def on_command(ack: Any, context: dict[str, Any]) -> None:
        """A private note of what the command will do and what to do meanwhile."""
        await ack(text=note, response_type="ephemeral")

    return on_command


def register(app: AsyncApp, deps: Deps) -> None:
    """Wire each not-yet-built command to its private "coming soon" note."""
    for command, note in MEANWHILE.items():
        app.command(command)(deps.work.listener(_answer(note)))
