"""Block Kit validation as Slack's servers apply it (the parts that bite).

``slack_sdk.models`` validates only some limits and plain dicts not at all, so a message that
passes locally can come back from Slack as ``invalid_blocks``. These pure functions return
Slack-style messages (``[ERROR] … [json-pointer:/blocks/0/text/text]``); an empty list means the
surface is acceptable. The stand-in turns a non-empty list into ``invalid_blocks`` /
``invalid_arguments`` with ``response_metadata.messages``, like Slack.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "MAX_BLOCK_TEXT",
    "MAX_VIEW_BYTES",
    "block_text_length",
    "validate_blocks",
    "validate_message_blocks",
    "validate_view",
    "view_size",
]

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_VIEW_BYTES = 250_000
# All the text in a message's blocks together. chat.postMessage lists `msg_blocks_too_long`
# among its errors without a number; a Slack engineer put it at "12,000 text characters with a
# buffer for block containers" (bolt-js #2509; the markdown block's documented cumulative limit
# is 12,000), and refusals were seen from 11,341 characters (bolt-js #2867). The stand-in
# refuses past 12,000, counted by `block_text_length`, on every method that takes message blocks
# (chat.postMessage, chat.update, chat.postEphemeral, a response_url): #2867 found respond()
# more lenient, and a stand-in stricter than Slack only ever errs on the safe side.
MAX_BLOCK_TEXT = 12_000

_TEXT_TYPES = ("plain_text", "mrkdwn")
_BLOCK_TYPES = {
    "section",
    "divider",
    "image",
    "actions",
    "context",
    "input",
    "file",
    "header",
    "video",
    "rich_text",
    "markdown",
}
_SELECTS = {
    "static_select",
    "external_select",
    "users_select",
    "conversations_select",
    "channels_select",
    "multi_static_select",
    "multi_external_select",
    "multi_users_select",
    "multi_conversations_select",
    "multi_channels_select",
}
_INTERACTIVE = _SELECTS | {
    "button",
    "overflow",
    "datepicker",
    "timepicker",
    "datetimepicker",
    "radio_buttons",
    "checkboxes",
    "plain_text_input",
    "number_input",
    "email_text_input",
    "url_text_input",
    "rich_text_input",
    "file_input",
    "workflow_button",
}
_INPUT_ELEMENTS = _INTERACTIVE - {"button", "overflow", "workflow_button"}
_ACCESSORY = _INTERACTIVE - {"plain_text_input", "number_input", "email_text_input"} | {"image"}


class _Checker:
    """Collects errors while walking a surface; ``where`` is a JSON pointer like Slack's."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def err(self, where: str, why: str) -> None:
        self.errors.append(f"[ERROR] {why} [json-pointer:{where}]")

    def max_len(self, where: str, value: Any, limit: int) -> None:
        if isinstance(value, str) and len(value) > limit:
            self.err(where, f"must be less than {limit + 1} characters")

    def string(self, where: str, value: Any, limit: int, *, required: bool = False) -> None:
        if value is None:
            if required:
                self.err(where, "must provide a value")
            return
        if not isinstance(value, str):
            self.err(where, "must be a string")
            return
        self.max_len(where, value, limit)

    def text_obj(
        self,
        where: str,
        obj: Any,
        limit: int,
        *,
        plain_only: bool = False,
        required: bool = True,
    ) -> None:
        """A composition text object: ``{"type": "plain_text"|"mrkdwn", "text": "…"}``."""
        if obj is None:
            if required:
                self.err(where, "must provide an object")
            return
        if not isinstance(obj, dict):
            self.err(where, "must be an object")
            return
        kind = obj.get("type")
        if kind not in _TEXT_TYPES:
            self.err(f"{where}/type", "must be either plain_text or mrkdwn")
            return
        if plain_only and kind != "plain_text":
            self.err(f"{where}/type", "must be plain_text")
        if kind == "mrkdwn" and "emoji" in obj:
            self.err(f"{where}/emoji", "not allowed on mrkdwn text")
        if kind == "plain_text" and "verbatim" in obj:
            self.err(f"{where}/verbatim", "not allowed on plain_text text")
        text = obj.get("text")
        if not isinstance(text, str):
            self.err(f"{where}/text", "must be a string")
            return
        if len(text) == 0:
            self.err(f"{where}/text", "must be more than 0 characters")
        self.max_len(f"{where}/text", text, limit)

    def id_field(self, where: str, value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, str) or not value:
            self.err(where, "must be a non-empty string")
            return
        self.max_len(where, value, 255)

    def confirm(self, where: str, obj: Any) -> None:
        if obj is None:
            return
        if not isinstance(obj, dict):
            self.err(where, "must be an object")
            return
        self.text_obj(f"{where}/title", obj.get("title"), 100, plain_only=True)
        self.text_obj(f"{where}/text", obj.get("text"), 300)
        self.text_obj(f"{where}/confirm", obj.get("confirm"), 30, plain_only=True)
        self.text_obj(f"{where}/deny", obj.get("deny"), 30, plain_only=True)

    def option(self, where: str, obj: Any, *, plain_only: bool) -> None:
        if not isinstance(obj, dict):
            self.err(where, "must be an object")
            return
        self.text_obj(f"{where}/text", obj.get("text"), 75, plain_only=plain_only)
        self.string(f"{where}/value", obj.get("value"), 150, required=True)
        self.text_obj(f"{where}/description", obj.get("description"), 75, required=False)
        self.string(f"{where}/url", obj.get("url"), 3000)

    def options(
        self,
        where: str,
        opts: Any,
        *,
        max_items: int,
        plain_only: bool,
        required: bool,
    ) -> list[str]:
        """Checks an ``options`` array; returns the option values seen."""
        if opts is None:
            if required:
                self.err(where, "must provide an array")
            return []
        if not isinstance(opts, list):
            self.err(where, "must be an array")
            return []
        if required and not opts:
            self.err(where, "must provide at least 1 item")
        if len(opts) > max_items:
            self.err(where, f"must provide no more than {max_items} items")
        for i, opt in enumerate(opts):
            self.option(f"{where}/{i}", opt, plain_only=plain_only)
        return [str(o.get("value")) for o in opts if isinstance(o, dict)]

    def element(self, where: str, el: Any, *, allowed: set[str]) -> str | None:
        """Checks one element; returns its action_id (if any) for uniqueness checks."""
        if not isinstance(el, dict):
            self.err(where, "must be an object")
            return None
        kind = el.get("type")
        if kind not in allowed:
            self.err(f"{where}/type", f"invalid element type {kind!r} here")
            return None
        if kind == "image":
            self._image_fields(where, el)
            return None
        self.id_field(f"{where}/action_id", el.get("action_id"))
        self.confirm(f"{where}/confirm", el.get("confirm"))
        if kind == "button":
            self.text_obj(f"{where}/text", el.get("text"), 75, plain_only=True)
            self.string(f"{where}/value", el.get("value"), 2000)
            self.string(f"{where}/url", el.get("url"), 3000)
            self.string(f"{where}/accessibility_label", el.get("accessibility_label"), 75)
            style = el.get("style")
            if style is not None and style not in ("primary", "danger"):
                self.err(f"{where}/style", "must be primary or danger")
        elif kind in _SELECTS or kind == "overflow":
            if kind != "overflow":
                self.text_obj(
                    f"{where}/placeholder",
                    el.get("placeholder"),
                    150,
                    plain_only=True,
                    required=False,
                )
            if kind in ("static_select", "multi_static_select"):
                groups = el.get("option_groups")
                if groups is not None:
                    if not isinstance(groups, list) or len(groups) > 100:
                        self.err(f"{where}/option_groups", "must provide no more than 100 items")
                    else:
                        for g, grp in enumerate(groups):
                            gw = f"{where}/option_groups/{g}"
                            if not isinstance(grp, dict):
                                self.err(gw, "must be an object")
                                continue
                            self.text_obj(f"{gw}/label", grp.get("label"), 75, plain_only=True)
                            self.options(
                                f"{gw}/options",
                                grp.get("options"),
                                max_items=100,
                                plain_only=True,
                                required=True,
                            )
                else:
                    values = self.options(
                        f"{where}/options",
                        el.get("options"),
                        max_items=100,
                        plain_only=True,
                        required=True,
                    )
                    initial = el.get("initial_option")
                    if isinstance(initial, dict) and initial.get("value") not in values:
                        self.err(f"{where}/initial_option", "must match one of the options")
            elif kind == "overflow":
                self.options(
                    f"{where}/options",
                    el.get("options"),
                    max_items=5,
                    plain_only=True,
                    required=True,
                )
        elif kind in ("radio_buttons", "checkboxes"):
            values = self.options(
                f"{where}/options", el.get("options"), max_items=10, plain_only=False, required=True
            )
            initial = el.get("initial_option")
            if isinstance(initial, dict) and initial.get("value") not in values:
                self.err(f"{where}/initial_option", "must match one of the options")
        elif kind == "plain_text_input":
            self.text_obj(
                f"{where}/placeholder", el.get("placeholder"), 150, plain_only=True, required=False
            )
            for key in ("max_length", "min_length"):
                n = el.get(key)
                if n is not None and (not isinstance(n, int) or n < 0 or n > 3000):
                    self.err(f"{where}/{key}", "must be between 0 and 3000")
            self.string(f"{where}/initial_value", el.get("initial_value"), 3000)
        return el.get("action_id") if isinstance(el.get("action_id"), str) else None

    def _image_fields(self, where: str, el: dict[str, Any]) -> None:
        if el.get("image_url") is None and el.get("slack_file") is None:
            self.err(f"{where}/image_url", "must provide image_url or slack_file")
        self.string(f"{where}/image_url", el.get("image_url"), 3000)
        self.string(f"{where}/alt_text", el.get("alt_text"), 2000, required=True)

    def block(self, where: str, block: Any) -> None:
        if not isinstance(block, dict):
            self.err(where, "must be an object")
            return
        kind = block.get("type")
        if kind not in _BLOCK_TYPES:
            self.err(f"{where}/type", f"unsupported type: {kind}")
            return
        self.id_field(f"{where}/block_id", block.get("block_id"))
        if kind == "section":
            text, fields = block.get("text"), block.get("fields")
            if text is None and fields is None:
                self.err(where, "must provide either text or fields")
            self.text_obj(f"{where}/text", text, 3000, required=False)
            if fields is not None:
                if not isinstance(fields, list):
                    self.err(f"{where}/fields", "must be an array")
                else:
                    if len(fields) > 10:
                        self.err(f"{where}/fields", "must provide no more than 10 items")
                    for i, f in enumerate(fields):
                        self.text_obj(f"{where}/fields/{i}", f, 2000)
            if block.get("accessory") is not None:
                self.element(f"{where}/accessory", block["accessory"], allowed=_ACCESSORY)
        elif kind == "header":
            self.text_obj(f"{where}/text", block.get("text"), 150, plain_only=True)
        elif kind == "markdown":
            self.string(f"{where}/text", block.get("text"), 12000, required=True)
        elif kind == "image":
            self._image_fields(where, block)
            self.text_obj(
                f"{where}/title", block.get("title"), 2000, plain_only=True, required=False
            )
        elif kind == "actions":
            self._elements(where, block.get("elements"), 25, _INTERACTIVE - {"file_input"})
        elif kind == "context":
            els = block.get("elements")
            if not isinstance(els, list) or not els:
                self.err(f"{where}/elements", "must provide at least 1 item")
                return
            if len(els) > 10:
                self.err(f"{where}/elements", "must provide no more than 10 items")
            for i, el in enumerate(els):
                w = f"{where}/elements/{i}"
                if isinstance(el, dict) and el.get("type") == "image":
                    self._image_fields(w, el)
                else:
                    self.text_obj(w, el, 3000)
        elif kind == "input":
            self.text_obj(f"{where}/label", block.get("label"), 2000, plain_only=True)
            self.text_obj(f"{where}/hint", block.get("hint"), 2000, plain_only=True, required=False)
            if block.get("element") is None:
                self.err(f"{where}/element", "must provide an object")
            else:
                self.element(f"{where}/element", block["element"], allowed=_INPUT_ELEMENTS)
        elif kind == "rich_text":
            if not isinstance(block.get("elements"), list):
                self.err(f"{where}/elements", "must provide an array")
        elif kind == "video":
            for key in ("video_url", "thumbnail_url", "alt_text"):
                self.string(f"{where}/{key}", block.get(key), 3000, required=True)
            self.text_obj(f"{where}/title", block.get("title"), 200, plain_only=True)

    def _elements(self, where: str, els: Any, limit: int, allowed: set[str]) -> None:
        if not isinstance(els, list) or not els:
            self.err(f"{where}/elements", "must provide at least 1 item")
            return
        if len(els) > limit:
            self.err(f"{where}/elements", f"must provide no more than {limit} items")
        seen: set[str] = set()
        for i, el in enumerate(els):
            action_id = self.element(f"{where}/elements/{i}", el, allowed=allowed)
            if action_id is not None:
                if action_id in seen:
                    self.err(f"{where}/elements/{i}/action_id", f"duplicate action_id {action_id}")
                seen.add(action_id)

    def blocks(self, blocks: Any, *, min_items: int, max_items: int, where: str) -> None:
        if not isinstance(blocks, list):
            self.err(where, "must be an array")
            return
        if len(blocks) < min_items:
            self.err(where, f"must provide at least {min_items} item")
        if len(blocks) > max_items:
            self.err(where, f"must provide no more than {max_items} items")
        ids: set[str] = set()
        for i, block in enumerate(blocks):
            self.block(f"{where}/{i}", block)
            block_id = block.get("block_id") if isinstance(block, dict) else None
            if isinstance(block_id, str):
                if block_id in ids:
                    self.err(f"{where}/{i}/block_id", f"duplicate block_id {block_id}")
                ids.add(block_id)


def validate_blocks(blocks: Any, *, max_items: int = MAX_MESSAGE_BLOCKS) -> list[str]:
    """Validate a ``blocks`` array for any surface; empty list = acceptable."""
    checker = _Checker()
    checker.blocks(blocks, min_items=0, max_items=max_items, where="/blocks")
    return checker.errors


def validate_message_blocks(blocks: Any) -> list[str]:
    """Validate message blocks (chat.postMessage/update/postEphemeral, response_url): ≤ 50."""
    return validate_blocks(blocks, max_items=MAX_MESSAGE_BLOCKS)


def _texts(value: Any) -> list[str]:
    if isinstance(value, dict):
        found: list[str] = []
        for key, item in value.items():
            found += [item] if key == "text" and isinstance(item, str) else _texts(item)
        return found
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    return []


def block_text_length(blocks: Any) -> int:
    """Characters of text in a message's blocks: every string under a ``text`` key (section
    and header text, fields, context elements, button labels, rich text), as sent."""
    return sum(len(text) for text in _texts(blocks))


def view_size(view: Any) -> int:
    """Bytes of the view as Slack measures the payload (compact JSON, UTF-8)."""
    return len(json.dumps(view, separators=(",", ":"), ensure_ascii=False).encode())


def validate_view(view: Any) -> list[str]:
    """Validate a modal or Home tab view object (views.open/push/update/publish)."""
    checker = _Checker()
    if not isinstance(view, dict):
        checker.err("/view", "must be an object")
        return checker.errors
    kind = view.get("type")
    if kind not in ("modal", "home"):
        checker.err("/view/type", "must be modal or home")
        return checker.errors
    if view_size(view) > MAX_VIEW_BYTES:
        checker.err("/view", f"view_too_large: must be less than {MAX_VIEW_BYTES} bytes")
    blocks = view.get("blocks")
    checker.blocks(blocks, min_items=1, max_items=MAX_VIEW_BLOCKS, where="/view/blocks")
    if kind == "modal":
        checker.text_obj("/view/title", view.get("title"), 24, plain_only=True)
        checker.text_obj("/view/submit", view.get("submit"), 24, plain_only=True, required=False)
        checker.text_obj("/view/close", view.get("close"), 24, plain_only=True, required=False)
        has_input = isinstance(blocks, list) and any(
            isinstance(b, dict) and b.get("type") == "input" for b in blocks
        )
        if has_input and view.get("submit") is None:
            checker.err("/view/submit", "must provide submit when an input block is present")
    checker.id_field("/view/callback_id", view.get("callback_id"))
    checker.id_field("/view/external_id", view.get("external_id"))
    checker.string("/view/private_metadata", view.get("private_metadata"), 3000)
    return checker.errors
