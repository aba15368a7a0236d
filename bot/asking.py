""" "Ask the surgery" with words already in the question, offered by any feature.

Features never import each other, so the button is made here and its action id is the
surgery's to answer: practice search shows it when nothing matched (the search's words go in
the button), and the surgery opens its asking modal with them (handlers/surgery). The person
still reads, edits and sends the question themselves: a click records nothing.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ButtonElement

ASK_WITH_TEXT_ACTION = "ask_with_text"
MAX_TEXT = 2000  # Slack's limit on a button's value


def ask_button(text: str, label: str = "Ask the surgery") -> ButtonElement:
    """A button that opens the surgery's question modal with `text` in the question."""
    return ButtonElement(
        text=label, action_id=ASK_WITH_TEXT_ACTION, value=text[:MAX_TEXT] or " ", style="primary"
    )


def asked_text(body: dict[str, Any]) -> str:
    """The words a click on `ask_button` carries (empty if it carries none)."""
    action = (body.get("actions") or [{}])[0]
    return " ".join(str(action.get("value") or "").split())[:MAX_TEXT]
