"""Modals every feature needs alike."""

from __future__ import annotations

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View


def build_notice_view(title: str, text: str, *, close: str = "Close") -> View:
    """A modal that only tells the person something (closed, already taken, not recorded,
    gone): in a modal no private message can reach them. `text` is mrkdwn, already escaped."""
    return View(
        type="modal",
        title=title[:24],
        close=close,
        blocks=[SectionBlock(text=MarkdownTextObject(text=text[:3000]))],
    )


LOADING = "One moment…"


def build_loading_view(title: str) -> View:
    """What a modal shows at once while the bot works out what goes in it: Slack's trigger
    lasts 3 s, and a role check or a slow Slack can take longer (see bot/slack/modals.py)."""
    return View(
        type="modal",
        title=title[:24],
        close="Close",
        blocks=[SectionBlock(text=MarkdownTextObject(text=f"_{LOADING}_"))],
    )
