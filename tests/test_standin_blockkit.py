"""Block Kit limits the stand-in enforces, checked on the pure validators directly."""

from __future__ import annotations

from typing import Any

import pytest

from slack_standin.blockkit import validate_message_blocks, validate_view


def pt(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def md(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def button(action_id: str = "go", text: str = "Go", **extra: Any) -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "text": pt(text), **extra}


def option(text: str = "One", value: str = "1") -> dict[str, Any]:
    return {"text": pt(text), "value": value}


def select(options: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "static_select", "action_id": "pick", "options": options}


GOOD_MESSAGE = [
    {"type": "header", "text": pt("Practice week")},
    {"type": "section", "block_id": "intro", "text": md("*Hello*"), "accessory": button()},
    {"type": "divider"},
    {"type": "section", "fields": [md("a"), md("b")]},
    {"type": "actions", "elements": [button("yes"), button("no"), select([option()])]},
    {"type": "context", "elements": [md("small print")]},
]


def test_a_realistic_message_is_valid() -> None:
    assert validate_message_blocks(GOOD_MESSAGE) == []


@pytest.mark.parametrize(
    ("blocks", "pointer"),
    [
        pytest.param([{"type": "divider"}] * 51, "/blocks", id="more-than-50-blocks"),
        pytest.param(
            [{"type": "section", "text": md("x" * 3001)}],
            "/blocks/0/text/text",
            id="section-text-3001",
        ),
        pytest.param(
            [{"type": "section", "fields": [md("f")] * 11}], "/blocks/0/fields", id="11-fields"
        ),
        pytest.param(
            [{"type": "section", "fields": [md("x" * 2001)]}],
            "/blocks/0/fields/0/text",
            id="field-2001",
        ),
        pytest.param([{"type": "section"}], "/blocks/0", id="section-without-text-or-fields"),
        pytest.param(
            [{"type": "header", "text": pt("h" * 151)}], "/blocks/0/text/text", id="header-151"
        ),
        pytest.param(
            [{"type": "header", "text": md("h")}], "/blocks/0/text/type", id="header-mrkdwn"
        ),
        pytest.param(
            [{"type": "actions", "elements": [button(text="b" * 76)]}],
            "/blocks/0/elements/0/text/text",
            id="button-text-76",
        ),
        pytest.param(
            [{"type": "actions", "elements": [button(value="v" * 2001)]}],
            "/blocks/0/elements/0/value",
            id="button-value-2001",
        ),
        pytest.param(
            [{"type": "actions", "elements": [button(url="https://x/" + "u" * 3000)]}],
            "/blocks/0/elements/0/url",
            id="button-url-3001",
        ),
        pytest.param(
            [{"type": "actions", "elements": [button(action_id="a" * 256)]}],
            "/blocks/0/elements/0/action_id",
            id="action-id-256",
        ),
        pytest.param(
            [{"type": "divider", "block_id": "b" * 256}], "/blocks/0/block_id", id="block-id-256"
        ),
        pytest.param(
            [{"type": "divider", "block_id": "same"}, {"type": "divider", "block_id": "same"}],
            "/blocks/1/block_id",
            id="duplicate-block-id",
        ),
        pytest.param(
            [{"type": "actions", "elements": [button("a"), button("a")]}],
            "/blocks/0/elements/1/action_id",
            id="duplicate-action-id",
        ),
        pytest.param(
            [{"type": "actions", "elements": [select([option(text="o" * 76)])]}],
            "/blocks/0/elements/0/options/0/text/text",
            id="option-text-76",
        ),
        pytest.param(
            [{"type": "actions", "elements": [select([option(value="v" * 151)])]}],
            "/blocks/0/elements/0/options/0/value",
            id="option-value-151",
        ),
        pytest.param(
            [{"type": "actions", "elements": [select([option(value=str(i)) for i in range(101)])]}],
            "/blocks/0/elements/0/options",
            id="101-options",
        ),
        pytest.param(
            [{"type": "actions", "elements": [button(f"b{i}") for i in range(26)]}],
            "/blocks/0/elements",
            id="26-actions",
        ),
        pytest.param(
            [{"type": "context", "elements": [md("c")] * 11}],
            "/blocks/0/elements",
            id="11-context-elements",
        ),
        pytest.param([{"type": "carousel"}], "/blocks/0/type", id="unknown-block-type"),
        pytest.param(
            [{"type": "section", "text": {"type": "markdown", "text": "x"}}],
            "/blocks/0/text/type",
            id="bad-text-type",
        ),
        pytest.param([{"type": "section", "text": md("")}], "/blocks/0/text/text", id="empty-text"),
        pytest.param(
            [{"type": "section", "text": {"type": "mrkdwn", "text": "x", "emoji": True}}],
            "/blocks/0/text/emoji",
            id="emoji-on-mrkdwn",
        ),
        pytest.param(
            [{"type": "actions", "elements": [button(style="green")]}],
            "/blocks/0/elements/0/style",
            id="bad-button-style",
        ),
        pytest.param(
            [{"type": "markdown", "text": "m" * 12001}], "/blocks/0/text", id="markdown-12001"
        ),
        pytest.param("not a list", "/blocks", id="blocks-not-a-list"),
    ],
)
def test_message_limit_violations_are_reported(blocks: Any, pointer: str) -> None:
    errors = validate_message_blocks(blocks)
    assert errors, "expected a Block Kit error"
    assert any(e.endswith(f"[json-pointer:{pointer}]") for e in errors), errors


def test_exactly_at_the_limits_is_valid() -> None:
    blocks: list[dict[str, Any]] = [{"type": "section", "text": md("x" * 3000)}]
    blocks += [{"type": "header", "text": pt("h" * 150)}]
    blocks += [{"type": "actions", "elements": [button(f"b{i}", "t" * 75) for i in range(25)]}]
    blocks += [{"type": "divider"}] * 47
    assert len(blocks) == 50
    assert validate_message_blocks(blocks) == []


def modal(**extra: Any) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "title": pt("Ask"),
        "blocks": [{"type": "section", "text": md("hi")}],
    }
    view.update(extra)
    return view


def test_a_realistic_modal_is_valid() -> None:
    view = modal(
        submit=pt("Send"),
        close=pt("Cancel"),
        callback_id="ask",
        private_metadata="x" * 3000,
        blocks=[
            {
                "type": "input",
                "block_id": "q",
                "label": pt("Your question"),
                "element": {"type": "plain_text_input", "action_id": "text", "multiline": True},
            }
        ],
    )
    assert validate_view(view) == []


@pytest.mark.parametrize(
    ("view", "pointer"),
    [
        pytest.param(modal(title=pt("t" * 25)), "/view/title/text", id="title-25"),
        pytest.param(modal(title=md("t")), "/view/title/type", id="title-mrkdwn"),
        pytest.param(modal(submit=pt("s" * 25)), "/view/submit/text", id="submit-25"),
        pytest.param(modal(close=pt("c" * 25)), "/view/close/text", id="close-25"),
        pytest.param(
            modal(private_metadata="p" * 3001), "/view/private_metadata", id="metadata-3001"
        ),
        pytest.param(modal(callback_id="c" * 256), "/view/callback_id", id="callback-id-256"),
        pytest.param(modal(blocks=[]), "/view/blocks", id="no-blocks"),
        pytest.param(modal(blocks=[{"type": "divider"}] * 101), "/view/blocks", id="101-blocks"),
        pytest.param(modal(title=None), "/view/title", id="missing-title"),
        pytest.param(
            modal(
                blocks=[
                    {"type": "input", "label": pt("l"), "element": {"type": "plain_text_input"}}
                ]
            ),
            "/view/submit",
            id="input-without-submit",
        ),
        pytest.param({"type": "workflow", "blocks": []}, "/view/type", id="bad-view-type"),
        pytest.param(
            {"type": "home", "blocks": [{"type": "section", "text": md("y" * 3000)}] * 90},
            "/view",
            id="too-large",
        ),
    ],
)
def test_view_limit_violations_are_reported(view: dict[str, Any], pointer: str) -> None:
    errors = validate_view(view)
    assert any(e.endswith(f"[json-pointer:{pointer}]") for e in errors), errors


def test_home_view_needs_no_title() -> None:
    assert validate_view({"type": "home", "blocks": [{"type": "divider"}]}) == []


def test_modal_allows_up_to_100_blocks() -> None:
    assert validate_view(modal(blocks=[{"type": "divider"}] * 100)) == []
