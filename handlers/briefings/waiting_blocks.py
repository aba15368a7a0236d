"""Who has not acknowledged a briefing, by name: the list's Block Kit, its buttons' ids and
values, and the "Who hasn't acknowledged" button under `/brief status`. Pure functions.

Acknowledging is an attestation, so the list names people (as mentions, which an ephemeral
message never notifies); it never says how many did acknowledge: that figure is the
disclosure layer's (`/brief status`). "N not yet" is the length of the list shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.content.values import ID_PATTERN
from bot.slack.mrkdwn import escape
from bot.slack.sections import sections

WAITING_ACTION = "briefing_waiting"  # list them: under `/brief status`, and "Next" on a list
REMIND_NOW_ACTION = "briefing_remind_now"

PAGE = 100  # names a page shows: two sections of 50 mentions, well inside 3,000 characters
PER_SECTION = 50
_WAITING_VALUE = re.compile(rf"^({ID_PATTERN}):([0-9]{{1,6}})$")


def waiting_value(briefing_id: str, offset: int = 0) -> str:
    return f"{briefing_id}:{offset}"


def parse_waiting_value(value: str | None) -> tuple[str, int] | None:
    """(briefing id, offset) from a list button's value, or None if it is not one we made."""
    match = _WAITING_VALUE.match(value or "")
    return (match.group(1), int(match.group(2))) if match else None


@dataclass(frozen=True)
class WaitingList:
    """What one page of the list shows."""

    briefing_id: str
    version: int
    title: str
    people: tuple[str, ...]  # user ids still to acknowledge, in the order shown (by name)
    as_of: str  # "7 Dec 2026, 10:42"
    offset: int = 0
    reminded_at: str | None = None  # when the round's one reminder went, as local time
    can_remind: bool = False  # the one reminder has not gone and may be sent now
    stopped: bool = False  # `/brief cancel` stopped its reminders
    unchecked: bool = False  # Slack could not say who is deactivated: the list may hold some


def button_under_status(briefing_id: str) -> ActionsBlock:
    """The "Who hasn't acknowledged" button under `/brief status` (for those who may list)."""
    return ActionsBlock(
        block_id="status:actions",
        elements=[
            ButtonElement(
                text="Who hasn't acknowledged",
                action_id=WAITING_ACTION,
                value=waiting_value(briefing_id),
            )
        ],
    )


def _people(n: int) -> str:
    return f"{n:,} {'person' if n == 1 else 'people'}"


def waiting_text(page: WaitingList) -> str:
    """The notification text of the list: its head, without names."""
    title = escape(page.title)
    if not page.people:
        return f"Nobody it reached is still to acknowledge {title}."
    return f"Who hasn't acknowledged {title}: {len(page.people):,} not yet."


def build_waiting(page: WaitingList) -> list[Block]:
    """One page of who has not acknowledged: the head, up to `PAGE` mentions sorted by name,
    how many are not shown, the reminder's state, and Remind / Next buttons."""
    total = len(page.people)
    title = f"*{escape(page.title)}* (version {page.version})"
    if not total:
        head = f"Nobody it reached is still to acknowledge {title}, as of {page.as_of}."
        return [SectionBlock(block_id="waiting:head", text=MarkdownTextObject(text=head))]
    head = f"*Who hasn't acknowledged* {title}\n*{total:,} not yet*, as of {page.as_of}."
    blocks: list[Block] = [
        SectionBlock(block_id="waiting:head", text=MarkdownTextObject(text=head))
    ]
    offset = min(max(page.offset, 0), max(total - 1, 0))
    shown = page.people[offset : offset + PAGE]
    for start in range(0, len(shown), PER_SECTION):
        names = ", ".join(f"<@{user}>" for user in shown[start : start + PER_SECTION])
        blocks += sections(f"waiting:names:{start}", [names])
    notes = []
    rest = total - offset - len(shown)
    if offset or rest:
        notes.append(
            f"Showing {offset + 1:,}–{offset + len(shown):,} of {total:,}"
            + (f"; {rest:,} more not shown." if rest else ".")
        )
    if page.unchecked:
        notes.append("I couldn't ask Slack who has left just now, so someone who has may show.")
    if page.stopped:
        notes.append("It was cancelled (`/brief cancel`), so no reminder goes.")
    elif page.reminded_at:
        notes.append(
            f"Its reminder went on {page.reminded_at}; each person gets one, so none goes again."
        )
    else:
        notes.append("No reminder has gone yet.")
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=" ".join(notes))]))
    buttons: list[ButtonElement] = []
    if page.can_remind:
        buttons.append(_remind_button(page, total))
    if rest:
        buttons.append(
            ButtonElement(
                text=f"Next {min(rest, PAGE)}",
                action_id=WAITING_ACTION,
                value=waiting_value(page.briefing_id, offset + PAGE),
            )
        )
    if buttons:
        blocks.append(ActionsBlock(block_id="waiting:actions", elements=buttons))
    return blocks


def _remind_button(page: WaitingList, total: int) -> ButtonElement:
    """Send the round's one reminder now, after Slack's own "are you sure?" dialog."""
    title = page.title if len(page.title) <= 120 else page.title[:119] + "…"
    return ButtonElement(
        text="Send the reminder now",
        action_id=REMIND_NOW_ACTION,
        value=f"{page.briefing_id}@{page.version}",
        style="primary",
        confirm=ConfirmObject(
            title="Send the reminder?",
            text=(
                f"Send a reminder to {_people(total)} who haven't acknowledged "
                f"“{escape(title)}”? Each gets one DM; nobody is reminded twice."
            ),
            confirm="Send it",
            deny="Cancel",
        ),
    )
