"""Writing a briefing in Slack: `/brief` (or Home's **New briefing**) opens the composer.

A senior manager starts from a content briefing, one of the drafts, or nothing; writes the
title and body (Markdown), picks the audience, delivery, acknowledgement, an optional check and
an optional time. **Preview** checks every field (a field error says what to fix, and nothing
is saved until all are right), saves the draft, and shows the message *as staff will see it*:
the very blocks the outbox will deliver, from the same plan the confirmation queues, with each
audience entry's size and the clarity check's findings. Send (or Schedule) is the existing
confirmation, so a composed briefing is published exactly as a content file's is.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError
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

from bot.clarity import Finding, check_clarity
from bot.content import Briefing, load_briefings
from bot.content.audiences import load_named_audiences
from bot.content.briefings import MAX_ASK, MAX_EXPLAIN, MAX_OPTION, MAX_OPTIONS, MAX_TITLE
from bot.content.composed import composed_briefing
from bot.content.values import parse_audience, parse_local_time
from bot.practice.search import load_glossary
from bot.slack.mrkdwn import escape, escape_within
from bot.slack.roles import RoleCheckUnavailable
from bot.storage import WriteTimeout
from bot.storage.drafts import Draft
from bot.timefmt import format_local

if TYPE_CHECKING:
    from slack_bolt.app.async_app import AsyncApp

    from bot.deps import Deps

logger = logging.getLogger(__name__)

COMPOSE_CALLBACK = "brief_compose"
OPEN_ACTION = "brief_compose_open"  # Home's "New briefing"
START_ACTION = "brief_compose_start"  # "Start from": a content briefing, a draft, or new
EDIT_ACTION = "brief_compose_edit"  # back from the preview to the fields
MAX_BODY = 3000  # a plain_text_input holds 3,000 characters
QUESTIONS = 3
ONLY_MANAGERS = "Only senior managers can write and publish briefings."
NOT_YOURS = "That draft is another person's: only its author or a senior manager can open it."

# Block and action ids of the fields, as Slack hands their values back.
TITLE, BODY, CHANNELS, PEOPLE, OTHERS = "title", "body", "channels", "people", "others"
GROUPS = "groups"
DELIVER, OPTIONS, DATE, TIME, MODE = "deliver", "options", "date", "time", "mode"
DELIVERIES = {
    "channel": "Post in the channels (user groups and people get a DM)",
    "dm": "A direct message to everyone, channel members too",
    "both": "Both: post in the channels and DM everyone",
}


def _q(n: int, part: str) -> str:
    return f"q{n}_{part}"


# ---------------------------------------------------------------------------------------------
# Views


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
        grouped: dict[str, list[Option]] = {}
        for group, value, label in starts:
            grouped.setdefault(group, []).append(Option(value=value, label=label[:75]))
        blocks.append(
            SectionBlock(
                block_id="start",
                text=MarkdownTextObject(text="*Start from* a briefing or a draft, or write anew:"),
                accessory=StaticSelectElement(
                    action_id=START_ACTION,
                    placeholder="A new briefing",
                    option_groups=[
                        OptionGroup(label=g, options=opts[:100]) for g, opts in grouped.items()
                    ][:100],
                ),
            )
        )
    entries = [str(a) for a in f.get("audience") or []]
    channels = [e for e in entries if e[:1] in ("C", "G") and not e.startswith("#")]
    people = [e for e in entries if e[:1] in ("U", "W")]
    picked = [e for e in entries if e in dict(groups)]
    others = [e for e in entries if e not in channels and e not in people and e not in picked]
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
    blocks += [
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
        InputBlock(
            block_id=DELIVER,
            label="How it goes",
            element=RadioButtonsElement(
                action_id=DELIVER,
                options=[Option(value=k, label=v) for k, v in DELIVERIES.items()],
                initial_option=Option(
                    value=f.get("deliver", "channel"), label=DELIVERIES[f.get("deliver", "channel")]
                ),
            ),
        ),
        InputBlock(
            block_id=OPTIONS,
            label="Acknowledgement",
            optional=True,
            element=CheckboxesElement(
                action_id=OPTIONS,
                options=[Option(value="acknowledge", label="Ask people to acknowledge it")],
                initial_options=(
                    [Option(value="acknowledge", label="Ask people to acknowledge it")]
                    if f.get("acknowledge", True)
                    else None
                ),
            ),
        ),
    ]
    when = None
    if f.get("publish_at"):
        when = datetime.fromisoformat(f["publish_at"]).astimezone(tz)
    blocks += [
        InputBlock(
            block_id=DATE,
            label="Send on (optional)",
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
        HeaderBlock(text="30-second check (optional)"),
    ]
    questions = (f.get("check") or {}).get("questions") or []
    for n in range(1, QUESTIONS + 1):
        q = questions[n - 1] if n <= len(questions) else {}
        blocks += [
            _small_input(n, "ask", f"Question {n}", q.get("ask"), MAX_ASK),
            _small_input(
                n,
                "options",
                f"Question {n}: the choices, one a line",
                "\n".join(q.get("options") or []),
                MAX_OPTIONS * (MAX_OPTION + 1),
                multiline=True,
            ),
            _small_input(
                n, "answer", f"Question {n}: the right choice", q.get("answer"), MAX_OPTION
            ),
            _small_input(
                n,
                "explain",
                f"Question {n}: what the briefing says (shown after a wrong answer)",
                q.get("explain"),
                MAX_EXPLAIN,
            ),
        ]
    mode = (f.get("check") or {}).get("mode", "attributed")
    modes = {
        "attributed": "Attributed: leads can follow up with those who misunderstood",
        "anonymous": "Anonymous: results never say who",
    }
    blocks.append(
        InputBlock(
            block_id=MODE,
            label="Check answers are",
            element=RadioButtonsElement(
                action_id=MODE,
                options=[Option(value=k, label=v) for k, v in modes.items()],
                initial_option=Option(value=mode, label=modes[mode]),
            ),
        )
    )
    return View(
        type="modal",
        callback_id=COMPOSE_CALLBACK,
        title="New briefing" if not draft_id else "Edit briefing",
        submit="Preview",
        close="Cancel",
        blocks=blocks,
        private_metadata=json.dumps({"draft": draft_id}),
    )


def _small_input(
    n: int, part: str, label: str, value: str | None, limit: int, *, multiline: bool = False
) -> InputBlock:
    """One optional text field of a check question."""
    return InputBlock(
        block_id=_q(n, part),
        label=label,
        optional=True,
        element=PlainTextInputElement(
            action_id="value", initial_value=value or None, max_length=limit, multiline=multiline
        ),
    )


def build_wait_view(title: str) -> View:
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
    ]
    if findings:
        lines = [f"• {escape_within(str(f), 400)}" for f in findings[:10]]
        more = f"\n…and {len(findings) - 10} more" if len(findings) > 10 else ""
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=(
                        f"*Clarity: {len(findings)} thing(s) to look at before sending*\n"
                        + "\n".join(lines)
                        + more
                    )[:3000]
                )
            ).to_dict()
        )
    else:
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text="*Clarity:* nothing to fix.")]).to_dict()
        )
    blocks += confirmation
    blocks.append(
        ActionsBlock(
            elements=[
                ButtonElement(text="Edit", action_id=EDIT_ACTION, value=draft.id),
            ]
        ).to_dict()
    )
    return View(
        type="modal",
        callback_id="brief_compose_preview",
        title="Preview",
        close="Close",
        blocks=blocks[:100],
        private_metadata=json.dumps({"draft": draft.id}),
    )


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


# ---------------------------------------------------------------------------------------------
# Reading the fields


def _value(values: dict[str, Any], block: str, action: str = "value") -> Any:
    return (values.get(block) or {}).get(action) or {}


def read_compose(
    values: dict[str, Any],
    *,
    tz: ZoneInfo,
    now: datetime,
    named: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, str]]:
    """The draft's fields from the modal, and a field error for each thing to fix."""
    errors: dict[str, str] = {}
    title = " ".join(str(_value(values, TITLE, TITLE).get("value") or "").split())
    body = str(_value(values, BODY, BODY).get("value") or "").strip()
    if not title:
        errors[TITLE] = "Give it a title: the one thing people must take away."
    elif len(title) > MAX_TITLE:
        errors[TITLE] = f"Keep the title to {MAX_TITLE} characters (Slack's limit)."
    if not body:
        errors[BODY] = "Write the message."
    elif len(body) > MAX_BODY:
        errors[BODY] = f"That's {len(body):,} characters; Slack takes {MAX_BODY:,}. Shorten it."
    audience: list[str] = []
    audience += [
        str(c) for c in _value(values, CHANNELS, CHANNELS).get("selected_conversations") or []
    ]
    audience += [str(u) for u in _value(values, PEOPLE, PEOPLE).get("selected_users") or []]
    chosen = _value(values, GROUPS, GROUPS).get("selected_options") or []
    others = ",".join([str(o.get("value") or "") for o in chosen])
    others += "," + str(_value(values, OTHERS, OTHERS).get("value") or "")
    for raw in (part.strip() for part in others.split(",")):
        if not raw:
            continue
        try:
            entry = parse_audience(raw)
        except ValueError as error:
            errors[OTHERS] = str(error)[:150]
            continue
        if entry.kind == "named" and entry.ref not in named:
            known = ", ".join(sorted(named)) or "none are defined"
            errors[OTHERS] = f"There is no named audience {raw!r} (in audiences.yaml: {known})."[
                :150
            ]
            continue
        audience.append(entry.raw)
    audience = list(dict.fromkeys(audience))
    if not audience and OTHERS not in errors:
        errors[CHANNELS] = "Choose who it is for: channels, people, or user groups below."
    deliver = (_value(values, DELIVER, DELIVER).get("selected_option") or {}).get("value")
    if deliver not in DELIVERIES:
        deliver = "channel"
    ticked = _value(values, OPTIONS, OPTIONS).get("selected_options") or []
    acknowledge = any(o.get("value") == "acknowledge" for o in ticked)
    day = _value(values, DATE, DATE).get("selected_date")
    at = _value(values, TIME, TIME).get("selected_time")
    publish_at = None
    if day or at:
        if not (day and at):
            errors[DATE if not day else TIME] = "Give both a date and a time, or neither."
        else:
            try:  # a time the clocks skip in spring does not exist: said, not moved
                when = parse_local_time(f"{day} {at}", tz)
            except ValueError as error:
                errors[TIME] = str(error)[:150]
                when = None
            if when is None:
                pass
            elif when <= now:
                errors[DATE] = (
                    f"{format_local(when, tz)} has passed: pick a time to come, or leave both "
                    "empty to send once you confirm."
                )
            else:
                publish_at = when.isoformat()
    questions = []
    for n in range(1, QUESTIONS + 1):
        ask = str(_value(values, _q(n, "ask")).get("value") or "").strip()
        options_text = str(_value(values, _q(n, "options")).get("value") or "")
        options = [o.strip() for o in options_text.splitlines() if o.strip()]
        answer = str(_value(values, _q(n, "answer")).get("value") or "").strip()
        explain = str(_value(values, _q(n, "explain")).get("value") or "").strip()
        if not ask:
            if options or answer or explain:
                errors[_q(n, "ask")] = "Write the question, or clear its choices and answer."
            continue
        if not 2 <= len(options) <= MAX_OPTIONS:
            errors[_q(n, "options")] = f"Give 2 to {MAX_OPTIONS} choices, one a line."
        elif len(set(options)) != len(options):
            errors[_q(n, "options")] = "Each choice must be different."
        elif any(len(o) > MAX_OPTION for o in options):
            errors[_q(n, "options")] = f"Keep each choice to {MAX_OPTION} characters."
        if not explain:
            errors[_q(n, "explain")] = (
                "Say what the briefing says about it: those who get it wrong are shown this."
            )
        if not answer:
            errors[_q(n, "answer")] = "Which choice is right? Copy it here."
        elif options and answer not in options:
            close = [o for o in options if o.lower() == answer.lower()]
            errors[_q(n, "answer")] = (
                f"The right choice must be one of the choices exactly: did you mean {close[0]!r}?"
                if close
                else "The right choice must be one of the choices above, exactly as written."
            )[:150]
        questions.append({"ask": ask, "options": options, "answer": answer, "explain": explain})
    mode = (_value(values, MODE, MODE).get("selected_option") or {}).get("value")
    fields = {
        "title": title,
        "body": body,
        "audience": audience,
        "deliver": deliver,
        "acknowledge": acknowledge,
        "publish_at": publish_at,
        "check": (
            {"questions": questions, "mode": mode if mode == "anonymous" else "attributed"}
            if questions
            else None
        ),
    }
    return fields, errors


def fields_of(briefing: Briefing) -> dict[str, Any]:
    """A content briefing's fields, to start a new one from."""
    check = None
    if briefing.check:
        check = {
            "questions": [
                {"ask": q.ask, "options": list(q.options), "answer": q.answer, "explain": q.explain}
                for q in briefing.check.questions[:QUESTIONS]
            ],
            "mode": briefing.check.mode,
        }
    return {
        "title": briefing.title,
        "body": briefing.body.strip()[:MAX_BODY],
        "audience": [a.raw for a in briefing.audience],
        "deliver": briefing.deliver,
        "acknowledge": briefing.acknowledge,
        "publish_at": None,
        "check": check,
    }


# ---------------------------------------------------------------------------------------------
# Listeners


def register(app: AsyncApp, deps: Deps, *, plan_and_confirm: Any) -> Any:
    """Wire the composer; returns `open_composer(trigger_id, user_id)` for `/brief` alone.
    `plan_and_confirm(briefing, user_id)` gives (the delivered copy's blocks, the
    confirmation's blocks) or raises ValueError with a message for the publisher."""
    tz = deps.config.timezone

    async def is_manager(user_id: str) -> bool:
        try:
            return await deps.roles.is_senior_manager(user_id)
        except RoleCheckUnavailable:
            return False

    async def named() -> dict[str, Any]:
        return (await asyncio.to_thread(load_named_audiences, deps.config.content_dir))[0]

    def _stems() -> frozenset[str]:
        return _stems_of(deps.config.content_dir / "briefings")

    async def content() -> dict[str, Briefing] | None:
        """The content briefings, read off the event loop; None if they have problems."""
        try:
            return await asyncio.to_thread(load_briefings, deps.config.content_dir, tz)
        except Exception:
            return None

    async def starts(user_id: str) -> list[tuple[str, str, str]]:
        out: list[tuple[str, str, str]] = [("New", "new", "A new briefing")]
        for draft in await deps.storage.drafts.all(limit=50):
            mark = "" if draft.author == user_id else " (another manager's)"
            out.append(("Drafts", f"draft:{draft.id}", f"{draft.fields.get('title', '')}{mark}"))
        files = await content() or {}  # broken content: start from a draft or anew
        for briefing in list(files.values())[:45]:
            out.append(("Content briefings", f"content:{briefing.id}", briefing.title))
        return out

    async def groups() -> list[tuple[str, str]]:
        """The picker's choices: named audiences, then the workspace's user groups (waiting
        1.5 s at most for their list: a modal's trigger lasts 3 s; typed entries still work)."""
        out = [(name, f"{name} (named audience)") for name in sorted(await named())]
        listed = await deps.audiences.shown_user_groups(wait=1.5)
        for group in listed:
            handle = str(group.get("handle") or "")
            if handle:
                out.append((f"@{handle}", f"@{handle} — {group.get('name') or handle}"))
        return out[:100]

    async def open_composer(trigger_id: str, user_id: str) -> None:
        view = build_compose_view(starts=await starts(user_id), tz=tz, groups=await groups())
        await deps.client.views_open(trigger_id=trigger_id, view=view)

    async def accept(ack: Any, context: dict[str, Any]) -> None:
        await ack()

    async def from_home(context: dict[str, Any], body: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        if not await is_manager(user_id):
            await deps.replies.tell(body, ONLY_MANAGERS)
            return
        await open_composer(body["trigger_id"], user_id)

    async def start_from(context: dict[str, Any], body: dict[str, Any]) -> None:
        """ "Start from": the composer filled from a content briefing or a draft."""
        user_id = body["user"]["id"]
        action = (body.get("actions") or [{}])[0]
        choice = str((action.get("selected_option") or {}).get("value") or "new")
        view = body.get("view") or {}
        fields, draft_id, notice = None, None, None
        if not await is_manager(user_id):  # nothing of anyone's drafts, not even their titles
            await _update(view, build_outcome_view(ONLY_MANAGERS, None))
            return
        if choice.startswith("draft:"):
            draft = await deps.storage.drafts.get(choice.removeprefix("draft:"))
            if draft is None:
                notice = "That draft is gone."
            else:
                fields, draft_id = draft.fields, draft.id
        elif choice.startswith("content:"):
            briefing = (await content() or {}).get(choice.removeprefix("content:"))
            if briefing is not None:
                fields = fields_of(briefing)
                notice = (
                    f"Starting from `{escape(briefing.id)}`: this makes a new briefing, and the "
                    "file is left as it is."
                )
        shown = build_compose_view(
            fields,
            draft_id=draft_id,
            starts=await starts(user_id),
            tz=tz,
            notice=notice,
            groups=await groups(),
        )
        await _update(view, shown)

    async def edit(context: dict[str, Any], body: dict[str, Any]) -> None:
        """ "Edit" on the preview: back to the fields, as saved."""
        user_id = body["user"]["id"]
        draft_id = str(((body.get("actions") or [{}])[0]).get("value") or "")
        draft = await deps.storage.drafts.get(draft_id)
        view = body.get("view") or {}
        if draft is None:
            await _update(view, build_problem_view("That draft is gone.", draft_id))
        elif draft.author != user_id and not await is_manager(user_id):
            await _update(view, build_problem_view(NOT_YOURS, draft_id))
        else:
            shown = build_compose_view(
                draft.fields, draft_id=draft.id, tz=tz, groups=await groups()
            )
            await _update(view, shown)

    async def _update(view: dict[str, Any], shown: View) -> None:
        try:
            await deps.client.views_update(view_id=view.get("id"), view=shown)
        except SlackApiError as error:
            logger.info("the composer was not updated (%s)", error.response.get("error"))

    async def store_draft(
        ack: Any, body: dict[str, Any], view: dict[str, Any], context: dict[str, Any]
    ) -> None:
        """Preview: every field checked; the draft saved before Slack hears back."""
        user_id = body["user"]["id"]
        if not await is_manager(user_id):
            await ack(response_action="errors", errors={TITLE: ONLY_MANAGERS})
            return
        values = (view.get("state") or {}).get("values") or {}
        fields, errors = read_compose(values, tz=tz, now=deps.clock(), named=await named())
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            meta = {}
        draft_id = meta.get("draft") if isinstance(meta, dict) else None
        if draft_id is not None:
            existing = await deps.storage.drafts.get(str(draft_id))
            if existing is None:
                draft_id = None
            elif existing.author != user_id and not await is_manager(user_id):
                errors[TITLE] = NOT_YOURS
        if errors:
            logger.info("a composed briefing was returned for changes (%s)", ", ".join(errors))
            await ack(response_action="errors", errors=errors)
            return
        taken: frozenset[str] = frozenset()
        if draft_id is None:
            # A new id must not take a file's. With content that has problems (which only
            # `content check` can sort out), the files' names stand in for their ids.
            files = await content()
            taken = frozenset(files) if files is not None else await asyncio.to_thread(_stems)
        try:
            draft = await deps.storage.drafts.save(
                fields, draft_id=draft_id, user_id=user_id, now=deps.clock(), taken=taken
            )
        except WriteTimeout:
            await ack(
                response_action="errors",
                errors={TITLE: "That didn't go through, so nothing was saved. Try again."},
            )
            return
        context["draft"] = draft
        await ack(response_action="update", view=build_wait_view(draft.fields["title"]))

    async def show_preview(context: dict[str, Any], body: dict[str, Any]) -> None:
        """After the save: who it reaches (Slack's answer), then the preview and Send. Any
        failure is said in the modal, never left on "Working out…"."""
        draft: Draft | None = context.get("draft")
        if draft is None:
            return
        user_id = body["user"]["id"]
        view = body.get("view") or {}
        try:
            briefing = composed_briefing(draft.id, draft.version, draft.fields, tz, await named())
            delivered, confirmation = await plan_and_confirm(briefing, user_id)
            questions = (
                [(q.ask, q.answer) for q in briefing.check.questions] if briefing.check else []
            )
            glossary = await asyncio.to_thread(_glossary, deps.config.content_dir / "glossary.yaml")
            findings = check_clarity(
                briefing.title,
                briefing.body,
                questions,
                glossary=glossary,
                rules=deps.config.clarity,
            )
        except ValueError as error:
            await _update(view, build_problem_view(str(error), draft.id))
            return
        except Exception:
            logger.exception("the composer's preview failed")
            await _update(
                view,
                build_problem_view(
                    "Sorry, the preview could not be made; it has been logged. The draft is "
                    "saved: try Edit, then Preview again in a minute.",
                    draft.id,
                ),
            )
            return
        await _update(view, build_preview_view(delivered, confirmation, findings, draft))

    app.view(COMPOSE_CALLBACK)(deps.work.legacy_listener(store_draft, follow_up=show_preview))
    app.action(OPEN_ACTION)(deps.work.legacy_listener(accept, follow_up=from_home))
    app.action(START_ACTION)(deps.work.legacy_listener(accept, follow_up=start_from))
    app.action(EDIT_ACTION)(deps.work.legacy_listener(accept, follow_up=edit))

    return open_composer


def _stems_of(folder: Path) -> frozenset[str]:
    return frozenset(p.stem for p in folder.glob("*.md"))


def _glossary(path: Path) -> dict[str, tuple[str, ...]]:
    """The glossary for the clarity check; a broken one of the service's own: the shipped."""
    try:
        return load_glossary(path)
    except Exception:
        return load_glossary()


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
