"""Reading the composer's fields, pure: a draft's fields and a field error for each thing to fix.

Nothing is saved until every field is right, so each step here adds its field's error (in the
person's words, within Slack's 150 characters) to one `errors` dict, in the order the fields
appear in the modal.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.briefing_message import too_long_by
from bot.content import Briefing
from bot.content.briefings import MAX_OPTION, MAX_OPTIONS, MAX_TITLE
from bot.content.composed import composed_briefing
from bot.content.values import parse_audience, parse_local_time
from bot.slack.long_messages import MESSAGE_TEXT_BUDGET
from bot.timefmt import format_local
from handlers.briefings.compose_blocks import (
    BODY,
    CHANNELS,
    DATE,
    DELIVER,
    DELIVERIES,
    GROUPS,
    MAX_BODY,
    MODE,
    OPTIONS,
    OTHERS,
    PEOPLE,
    QUESTIONS,
    TIME,
    TITLE,
    question_field,
)

Errors = dict[str, str]


def _value(values: dict[str, Any], block: str, action: str = "value") -> Any:
    return (values.get(block) or {}).get(action) or {}


def read_compose(
    values: dict[str, Any],
    *,
    tz: ZoneInfo,
    now: datetime,
    named: dict[str, Any],
) -> tuple[dict[str, Any], Errors]:
    """The draft's fields from the modal, and a field error for each thing to fix."""
    errors: Errors = {}
    title, body = _read_message(values, errors)
    audience = _read_audience(values, named, errors)
    deliver = (_value(values, DELIVER, DELIVER).get("selected_option") or {}).get("value")
    if deliver not in DELIVERIES:
        deliver = "channel"
    ticked = _value(values, OPTIONS, OPTIONS).get("selected_options") or []
    acknowledge = any(o.get("value") == "acknowledge" for o in ticked)
    publish_at = _read_publish_at(values, tz, now, errors)
    questions = [
        q for n in range(1, QUESTIONS + 1) if (q := _read_question(values, n, errors)) is not None
    ]
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
    _fits_one_message(fields, tz, errors)
    return fields, errors


def _fits_one_message(fields: dict[str, Any], tz: ZoneInfo, errors: Errors) -> None:
    """The message as staff would get it, measured: Slack refuses one whose blocks hold more
    than about 12,000 characters (escaping `&` and links count), for every recipient alike."""
    if TITLE in errors or BODY in errors:
        return
    over = too_long_by(composed_briefing("draft", 1, {**fields, "audience": []}, tz), tz)
    if over:
        errors[BODY] = (
            f"As a Slack message this is {over:,} characters too long "
            f"({MESSAGE_TEXT_BUDGET:,} at most). Shorten it, or link to a document with the rest."
        )


def _read_message(values: dict[str, Any], errors: Errors) -> tuple[str, str]:
    """The title (on one line) and the body, each required and within Slack's limits."""
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
    return title, body


def _read_audience(values: dict[str, Any], named: dict[str, Any], errors: Errors) -> list[str]:
    """Every audience entry picked or typed, once each; a typed one must parse, and a named
    audience must be in audiences.yaml."""
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
    return audience


def _read_publish_at(
    values: dict[str, Any], tz: ZoneInfo, now: datetime, errors: Errors
) -> str | None:
    """When to send it (ISO), or None to send once confirmed: both a date and a time, or
    neither, and a time still to come."""
    day = _value(values, DATE, DATE).get("selected_date")
    at = _value(values, TIME, TIME).get("selected_time")
    if not (day or at):
        return None
    if not (day and at):
        errors[DATE if not day else TIME] = "Give both a date and a time, or neither."
        return None
    try:  # a time the clocks skip in spring does not exist: said, not moved
        when = parse_local_time(f"{day} {at}", tz)
    except ValueError as error:
        errors[TIME] = str(error)[:150]
        return None
    if when <= now:
        errors[DATE] = (
            f"{format_local(when, tz)} has passed: pick a time to come, or leave both "
            "empty to send once you confirm."
        )
        return None
    return when.isoformat()


def _read_question(values: dict[str, Any], n: int, errors: Errors) -> dict[str, Any] | None:
    """Check question `n`, or None when it is left empty; its parts must agree."""
    ask = str(_value(values, question_field(n, "ask")).get("value") or "").strip()
    options_text = str(_value(values, question_field(n, "options")).get("value") or "")
    options = [o.strip() for o in options_text.splitlines() if o.strip()]
    answer = str(_value(values, question_field(n, "answer")).get("value") or "").strip()
    explain = str(_value(values, question_field(n, "explain")).get("value") or "").strip()
    if not ask:
        if options or answer or explain:
            errors[question_field(n, "ask")] = (
                "Write the question, or clear its choices and answer."
            )
        return None
    if not 2 <= len(options) <= MAX_OPTIONS:
        errors[question_field(n, "options")] = f"Give 2 to {MAX_OPTIONS} choices, one a line."
    elif len(set(options)) != len(options):
        errors[question_field(n, "options")] = "Each choice must be different."
    elif any(len(o) > MAX_OPTION for o in options):
        errors[question_field(n, "options")] = f"Keep each choice to {MAX_OPTION} characters."
    if not explain:
        errors[question_field(n, "explain")] = (
            "Say what the briefing says about it: those who get it wrong are shown this."
        )
    if not answer:
        errors[question_field(n, "answer")] = "Which choice is right? Copy it here."
    elif options and answer not in options:
        close = [o for o in options if o.lower() == answer.lower()]
        errors[question_field(n, "answer")] = (
            f"The right choice must be one of the choices exactly: did you mean {close[0]!r}?"
            if close
            else "The right choice must be one of the choices above, exactly as written."
        )[:150]
    return {"ask": ask, "options": options, "answer": answer, "explain": explain}


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
