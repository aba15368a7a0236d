"""The composer's views, pure: the fields to write a briefing in, the preview, and its outcomes.

Kept apart from the listeners (compose.py) so every view can be built and inspected without
Slack, and the field ids Slack hands back (read in compose_read.py) are named in one place.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    OptionGroup,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
    TimePickerElement,
)
from slack_sdk.models.views import View

from bot.clarity import Finding
from bot.content.briefings import MAX_ASK, MAX_EXPLAIN, MAX_OPTION, MAX_OPTIONS, MAX_TITLE
from bot.slack.mrkdwn import escape, escape_within
from bot.storage.drafts import Draft

COMPOSE_CALLBACK = "brief_compose"
OPEN_ACTION = "brief_compose_open"  # Home's "New briefing"
COMPOSE_TITLE = "New briefing"  # the empty composer's title (and its "One moment…"'s)
START_ACTION = "brief_compose_start"  # "Start from": a content briefing, a draft, or new
EDIT_ACTION = "brief_compose_edit"  # back from the preview to the fields
MAX_BODY = 3000  # a plain_text_input holds 3,000 characters
QUESTIONS = 3

# Block and action ids of the fields, as Slack hands their values back.
TITLE, BODY, CHANNELS, PEOPLE, OTHERS = "title", "body", "channels", "people", "others"
GROUPS = "groups"
DELIVER, OPTIONS, DATE, TIME, MODE = "deliver", "options", "date", "time", "mode"
DELIVERIES = {
    "channel": "Post in the channels (user groups and people get a DM)",
    "dm": "A direct message to everyone, channel members too",
    "both": "Both: post in the channels and DM everyone",
}
MODES = {
    "attributed": "Attributed: leads can follow up with those who misunderstood",
    "anonymous": "Anonymous: results never say who",
}
ACKNOWLEDGE = "Ask people to acknowledge it"


def question_field(n: int, part: str) -> str:
    """The block id of one part of check question `n` ("ask", "options", "answer", "explain")."""
    return f"q{n}_{part}"


# ---------------------------------------------------------------------------------------------
# The composer


def build_compose_view(
    fields: dict[str, Any] | None = None,
    *,
    draft_id: str | None = None,
    starts: list[tuple[str, str, str]] = (),  # type: ignore[assignment]
    tz: ZoneInfo,
    notice: str | None = None,
    groups: list[tuple[str, str]] = (),  # type: ignore[assignment]
) -> View:
    """The composer, filled from `fields` (a draft's or a content briefing's). `starts` are
    the "Start from" choices: (group, value, label)."""
    f = fields or {}
    blocks: list[Block] = []
    if notice:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=notice)))
    if starts:
        blocks.append(_start_from(starts))
    blocks += [
        *_message_inputs(f),
        *_audience_inputs([str(a) for a in f.get("audience") or []], groups),
        *_delivery_inputs(f),
        *_time_inputs(f, tz),
        HeaderBlock(text="30-second check (optional)"),
        *_check_inputs(f),
    ]
    return View(
        type="modal",
        callback_id=COMPOSE_CALLBACK,
        title=COMPOSE_TITLE if not draft_id else "Edit briefing",
        submit="Preview",
        close="Cancel",
        blocks=blocks,
        private_metadata=json.dumps({"draft": draft_id}),
    )


def _start_from(starts: list[tuple[str, str, str]]) -> Block:
    """The "Start from" picker: a content briefing, a draft, or a new briefing, grouped."""
    grouped: dict[str, list[Option]] = {}
    for group, value, label in starts:
        grouped.setdefault(group, []).append(Option(value=value, label=label[:75]))
    return SectionBlock(
        block_id="start",
        text=MarkdownTextObject(text="*Start from* a briefing or a draft, or write anew:"),
        accessory=StaticSelectElement(
            action_id=START_ACTION,
            placeholder="A new briefing",
            option_groups=[OptionGroup(label=g, options=opts[:100]) for g, opts in grouped.items()][
                :100
            ],
        ),
    )


def _message_inputs(f: dict[str, Any]) -> list[Block]:
    """The title and the Markdown body."""
    return [
        InputBlock(
            block_id=TITLE,
            label="Title",
            element=PlainTextInputElement(
                action_id=TITLE,
                initial_value=f.get("title") or None,
                max_length=MAX_TITLE,
                placeholder="The one thing people must take away",
            ),
        ),
        InputBlock(
            block_id=BODY,
            label="Message",
            element=PlainTextInputElement(
                action_id=BODY,
                multiline=True,
                initial_value=f.get("body") or None,
                max_length=MAX_BODY,
            ),
            hint="Markdown: **bold**, *italic*, - lists, [links](https://…). A minute's read.",
        ),
    ]


def split_audience(
    entries: list[str], groups: list[tuple[str, str]]
) -> tuple[list[str], list[str], list[str], list[str]]:
    """A saved audience as the composer's pickers show it: (channels, people, picked user
    groups and named audiences, everything else typed)."""
    channels = [e for e in entries if e[:1] in ("C", "G") and not e.startswith("#")]
    people = [e for e in entries if e[:1] in ("U", "W")]
    picked = [e for e in entries if e in dict(groups)]
    others = [e for e in entries if e not in channels and e not in people and e not in picked]
    return channels, people, picked, others


def _audience_inputs(entries: list[str], groups: list[tuple[str, str]]) -> list[Block]:
    """Who it is for: channels, people, the user-group picker (when there are any to pick),
    and whatever else is typed."""
    channels, people, picked, others = split_audience(entries, groups)
    labels = dict(groups)
    group_block: list[Block] = []
    if groups:
        group_block.append(
            InputBlock(
                block_id=GROUPS,
                label="User groups and named audiences",
                optional=True,
                element=StaticMultiSelectElement(
                    action_id=GROUPS,
                    placeholder="@team-managers",
                    options=[Option(value=v, label=label[:75]) for v, label in groups[:100]],
                    initial_options=[Option(value=v, label=labels[v][:75]) for v in picked] or None,
                ),
            )
        )
    return [
        InputBlock(
            block_id=CHANNELS,
            label="Channels",
            optional=True,
            element={
                "type": "multi_conversations_select",
                "action_id": CHANNELS,
                "placeholder": {"type": "plain_text", "text": "#social-work-all"},
                "filter": {"include": ["public", "private"], "exclude_bot_users": True},
                **({"initial_conversations": channels} if channels else {}),
            },
        ),
        InputBlock(
            block_id=PEOPLE,
            label="People",
            optional=True,
            element={
                "type": "multi_users_select",
                "action_id": PEOPLE,
                "placeholder": {"type": "plain_text", "text": "Anyone else"},
                **({"initial_users": people} if people else {}),
            },
        ),
        *group_block,
        InputBlock(
            block_id=OTHERS,
            label="Other audience entries" if groups else "User groups and named audiences",
            optional=True,
            element=PlainTextInputElement(
                action_id=OTHERS,
                initial_value=", ".join(others) or None,
                placeholder="@team-managers, all-social-workers",
                max_length=1000,
            ),
            hint="Comma-separated: @user-groups, #channel-names, or names from audiences.yaml.",
        ),
    ]


def _delivery_inputs(f: dict[str, Any]) -> list[Block]:
    """How it goes (channels, DMs, both) and whether people are asked to acknowledge it."""
    deliver = f.get("deliver", "channel")
    return [
        InputBlock(
            block_id=DELIVER,
            label="How it goes",
            element=RadioButtonsElement(
                action_id=DELIVER,
                options=[Option(value=k, label=v) for k, v in DELIVERIES.items()],
                initial_option=Option(value=deliver, label=DELIVERIES[deliver]),
            ),
        ),
        InputBlock(
            block_id=OPTIONS,
            label="Acknowledgement",
            optional=True,
            element=CheckboxesElement(
                action_id=OPTIONS,
                options=[Option(value="acknowledge", label=ACKNOWLEDGE)],
                initial_options=(
                    [Option(value="acknowledge", label=ACKNOWLEDGE)]
                    if f.get("acknowledge", True)
                    else None
                ),
            ),
        ),
    ]


def _time_inputs(f: dict[str, Any], tz: ZoneInfo) -> list[Block]:
    """When to send it, in the service's time zone: both empty sends once confirmed."""
    when = None
    if f.get("publish_at"):
        when = datetime.fromisoformat(f["publish_at"]).astimezone(tz)
    return [
        InputBlock(
            block_id=DATE,
            label="Send on",
            optional=True,
            element=DatePickerElement(
                action_id=DATE, initial_date=when.date().isoformat() if when else None
            ),
        ),
        InputBlock(
            block_id=TIME,
            label=f"At ({tz.key})",
            optional=True,
            element=TimePickerElement(
                action_id=TIME, initial_time=when.strftime("%H:%M") if when else None
            ),
            hint="Leave both empty to send once you confirm.",
        ),
    ]


def _check_inputs(f: dict[str, Any]) -> list[Block]:
    """The optional 30-second check: up to `QUESTIONS` questions, then whose answers show."""
    check = f.get("check") or {}
    questions = check.get("questions") or []
    blocks: list[Block] = []
    for n in range(1, QUESTIONS + 1):
        q = questions[n - 1] if n <= len(questions) else {}
        blocks += _question_inputs(n, q)
    mode = check.get("mode", "attributed")
    blocks.append(
        InputBlock(
            block_id=MODE,
            label="Check answers are",
            element=RadioButtonsElement(
                action_id=MODE,
                options=[Option(value=k, label=v) for k, v in MODES.items()],
                initial_option=Option(value=mode, label=MODES[mode]),
            ),
        )
    )
    return blocks


def _question_inputs(n: int, q: dict[str, Any]) -> list[Block]:
    """Check question `n`'s four fields, filled from `q`."""
    return [
        _small_input(n, "ask", f"Question {n}", q.get("ask"), MAX_ASK),
        _small_input(
            n,
            "options",
            f"Question {n}: the choices, one a line",
            "\n".join(q.get("options") or []),
            MAX_OPTIONS * (MAX_OPTION + 1),
            multiline=True,
        ),
        _small_input(n, "answer", f"Question {n}: the right choice", q.get("answer"), MAX_OPTION),
        _small_input(
            n,
            "explain",
            f"Question {n}: what the briefing says (shown after a wrong answer)",
            q.get("explain"),
            MAX_EXPLAIN,
        ),
    ]


def _small_input(
    n: int, part: str, label: str, value: str | None, limit: int, *, multiline: bool = False
) -> InputBlock:
    """One optional text field of a check question."""
    return InputBlock(
        block_id=question_field(n, part),
        label=label,
        optional=True,
        element=PlainTextInputElement(
            action_id="value", initial_value=value or None, max_length=limit, multiline=multiline
        ),
    )


# ---------------------------------------------------------------------------------------------
# After Preview


def build_wait_view(title: str) -> View:
    """What Preview shows at once, while Slack is asked who the audience reaches."""
    return View(
        type="modal",
        callback_id="brief_compose_wait",
        title="Preview",
        close="Close",
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"Working out who *{escape(title)}* reaches… The draft is saved."
                )
            )
        ],
    )


def build_preview_view(
    delivered: list[dict[str, Any]],
    confirmation: list[dict[str, Any]],
    findings: list[Finding],
    draft: Draft,
) -> View:
    """The message exactly as staff will get it, then who it reaches with Send / Cancel (the
    confirmation), then what the clarity check found, and a way back to edit it."""
    blocks: list[Any] = [
        ContextBlock(elements=[MarkdownTextObject(text="*As staff will see it:*")]),
        *delivered,
        DividerBlock().to_dict(),
        _clarity(findings),
        *confirmation,
        ActionsBlock(
            elements=[
                ButtonElement(text="Edit", action_id=EDIT_ACTION, value=draft.id),
            ]
        ).to_dict(),
    ]
    return View(
        type="modal",
        callback_id="brief_compose_preview",
        title="Preview",
        close="Close",
        blocks=blocks[:100],
        private_metadata=json.dumps({"draft": draft.id}),
    )


def _clarity(findings: list[Finding]) -> dict[str, Any]:
    """What the clarity check found: the first ten findings, or that there is nothing to fix."""
    if not findings:
        return ContextBlock(
            elements=[MarkdownTextObject(text="*Clarity:* nothing to fix.")]
        ).to_dict()
    lines = [f"• {escape_within(str(f), 400)}" for f in findings[:10]]
    more = f"\n…and {len(findings) - 10} more" if len(findings) > 10 else ""
    return SectionBlock(
        text=MarkdownTextObject(
            text=(
                f"*Clarity: {len(findings)} thing(s) to look at before sending*\n"
                + "\n".join(lines)
                + more
            )[:3000]
        )
    ).to_dict()


def build_outcome_view(text: str, blocks: list[dict[str, Any]] | None) -> View:
    """What Send or Cancel in the preview did (or, for a big audience, the second ask)."""
    shown: list[Any] = blocks or [SectionBlock(text=MarkdownTextObject(text=text[:3000])).to_dict()]
    return View(
        type="modal",
        callback_id="brief_compose_done",
        title="Briefing",
        close="Close",
        blocks=shown,
    )


def build_problem_view(text: str, draft_id: str) -> View:
    """Why there is no preview (or no draft to edit), with the way back to the fields."""
    return View(
        type="modal",
        callback_id="brief_compose_problem",
        title="Preview",
        close="Close",
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=text[:3000])),
            ActionsBlock(
                elements=[ButtonElement(text="Edit", action_id=EDIT_ACTION, value=draft_id)]
            ),
        ],
    )


def build_new_button() -> list[Block]:
    """Home's "New briefing", for senior managers."""
    return [
        ActionsBlock(
            block_id="brief_compose",
            elements=[
                ButtonElement(
                    text="New briefing", action_id=OPEN_ACTION, value="new", style="primary"
                )
            ],
        )
    ]
