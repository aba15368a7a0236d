"""The checks feature's buttons: each opens a modal, so each is `accept` (records nothing,
answers Slack at once) paired with one of these follow-ups, which decides what to show."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.comprehension import parse_check_value
from bot.slack.modals import open_modal
from bot.slack.views import build_notice_view
from handlers.checks.blocks import (
    build_check_view,
    build_follow_up_view,
    build_reanswer_view,
    parse_follow_up,
    parse_reanswer,
    parse_retake_value,
)
from handlers.checks.common import (
    CHECK_TITLE,
    CLOSED,
    FOLLOW_UP_CLOSED,
    GONE,
    NOT_ALLOWED,
    TAKEN,
    may_follow_up,
)

if TYPE_CHECKING:
    from slack_sdk.models.views import View

    from bot.deps import Deps


def clicked_value(body: dict[str, Any]) -> str | None:
    """The clicked button's value: untrusted, so each caller parses it to the shape it sent."""
    action = (body.get("actions") or [{}])[0]
    value: str | None = action.get("value")
    return value


async def open_questions(deps: Deps, said: None, body: dict[str, Any]) -> None:
    """Take the check: its questions in a modal, unless it has closed or was taken."""
    parsed = parse_check_value(clicked_value(body))
    user_id = body["user"]["id"]
    check = await deps.storage.checks.check_for(*parsed) if parsed else None
    if check is None:
        view = build_notice_view(CHECK_TITLE, GONE)
    elif not check.open_at(deps.clock()):
        view = build_notice_view(CHECK_TITLE, CLOSED)
    elif await deps.storage.checks.retake_open(check, user_id):
        view = build_check_view(check, attempt=2)  # the feedback was closed: still theirs
    elif await deps.storage.checks.attempts_of(check.briefing_id, check.version, user_id):
        view = build_notice_view(CHECK_TITLE, TAKEN)
    else:
        view = build_check_view(check, attempt=1)
    await deps.client.views_open(trigger_id=body["trigger_id"], view=view)


async def open_retake(deps: Deps, said: None, body: dict[str, Any]) -> None:
    """Try once more: the same questions again, in the same modal."""
    parsed = parse_retake_value(clicked_value(body))
    check = await deps.storage.checks.check_for(*parsed[:2]) if parsed else None
    if parsed is None or check is None:
        view = build_notice_view(CHECK_TITLE, GONE)
    elif not check.open_at(deps.clock()):
        view = build_notice_view(CHECK_TITLE, CLOSED)
    else:  # an anonymous check's pass goes with the questions, and is checked on sending
        view = build_check_view(check, attempt=2, retake_token=parsed[2])
    current = body.get("view") or {}
    await deps.client.views_update(view_id=current.get("id"), view=view)


async def open_follow_up(deps: Deps, said: None, body: dict[str, Any]) -> None:
    """A follow-up button on the results: the note to write, in a modal opened within Slack's
    3 s (the role check first can take longer: "One moment…" is shown until it answers)."""
    work = follow_up_view(deps, body)
    await open_modal(deps.client, body["trigger_id"], work, title="Follow-up")


async def follow_up_view(deps: Deps, body: dict[str, Any]) -> View:
    """The follow-up modal for the clicked button, or why there is none."""
    parsed = parse_follow_up(clicked_value(body))
    check = await deps.storage.checks.check_for(*parsed[:2]) if parsed else None
    if parsed is None or check is None:
        return build_notice_view("Follow-up", GONE)
    if not await may_follow_up(deps, body["user"]["id"], check):
        return build_notice_view("Follow-up", NOT_ALLOWED)
    if not check.open_at(deps.clock()):
        return build_notice_view("Follow-up", FOLLOW_UP_CLOSED)
    return build_follow_up_view(check, parsed[2])


async def open_reanswer(deps: Deps, said: None, body: dict[str, Any]) -> None:
    """ "Answer it again", from an anonymous check's clarification: that one question."""
    parsed = parse_reanswer(clicked_value(body))
    check = await deps.storage.checks.check_for(*parsed[:2]) if parsed else None
    if parsed is None or check is None or not parsed[2] < len(check.questions):
        view = build_notice_view(CHECK_TITLE, GONE)
    elif not check.open_at(deps.clock()):
        view = build_notice_view(CHECK_TITLE, CLOSED)
    else:
        view = build_reanswer_view(check, parsed[2])
    await deps.client.views_open(trigger_id=body["trigger_id"], view=view)
