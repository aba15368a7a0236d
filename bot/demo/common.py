"""What every step of the demo shares: the people and words it plays with, the scene (the
stand-in, the driver, who is who), and how a thing seen in Slack is printed."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slack_standin import Seen, SlackDriver, SlackStandIn

BOT_TOKEN = "xoxb-demo-token"
SIGNING_SECRET = "demo-signing-secret"
BRIEFING = "recruitment-funding"
DM_BRIEFING = "threshold-document"  # deliver: dm
# The demo only sees Slack, so it knows the bot's buttons by their action ids, as Slack does
# (handlers.briefings.blocks; tests/test_cli.py checks they agree).
ACK_ACTION = "briefing_acknowledge"
CONFIRM_ACTION = "briefing_confirm"
TAKE_ACTION = "check_take"
RETAKE_ACTION = "check_retake"
SURGERY_ACCEPT_ACTION = "surgery_accept"
SURGERY_VOTE_ACTION = "surgery_vote"
SURGERY_ANSWER_ACTION = "surgery_answer"
SURGERY_QUESTION = "Can newly qualified social workers get protected caseloads in their first year?"
SURGERY_ANSWER = "Yes: from January, ASYE caseloads are capped at 90% of a full caseload."
SURGERY_ACTION = "The cap is in the ASYE policy, and team managers check it in supervision."
RESULTS_CHART_ACTION = "results_chart"  # Chart, under a check's results
TRENDS_CHART_ACTION = "trends_chart"  # Chart, under /engage trends
NUDGE_ACTION = "check_follow_up_none"  # "Nudge those yet to take it", under the results
PRACTICE_OPEN_ACTION = "practice_open_note"
PRACTICE_RAISE_ACTION = "practice_raise_gap"
PRACTICE_GAP = "mileage claims"
COMPOSE_CONFIRM = "briefing_confirm"
COMPOSED_TITLE = "Duty cover over Christmas"
COMPOSED_BODY = (
    "Over Christmas each team covers duty for one day. Your team manager has the rota. "
    "If you cannot do your day, tell them by 18 December. The EDT covers nights as usual."
)
CIRCULAR = """---
id: weekly-round-up
title: The week in children's services
audience: ["#social-work-all"]
schedule: every Friday 09:00
publisher: U0SM01
---
What changed this week, in one place.
"""
NUDGE = "It takes 30 seconds, and tells us whether we explained the money well."
RIGHT_ANSWERS = ("1", "1", "1")  # recruitment-funding's check, question by question
CORRECTION = "The escalation contact in section 3 was out of date: it is now the duty manager."


MANAGER, TEAM_MANAGER, LEAD = "U0SM01", "U0TM01", "U0EL01"


@dataclass(frozen=True)
class Scene:
    """What each step plays on: Slack (the stand-in), the driver that clicks and types as the
    people would, their names for printing, the social workers, and where lines are printed."""

    driver: SlackDriver
    standin: SlackStandIn
    names: dict[str, str]
    workers: list[str]
    say: Callable[[str], None]
    manager: str = MANAGER
    team_manager: str = TEAM_MANAGER
    lead: str = LEAD


def content_dir() -> Path:
    """The shipped content: next to the package in a clone, else ./content."""
    beside = Path(__file__).resolve().parents[2] / "content"
    return beside if beside.is_dir() else Path("content").resolve()


def plain(text: str, names: dict[str, str]) -> str:
    """Slack mrkdwn as a terminal shows it: entities back to characters, links as their text."""
    text = re.sub(r"<#(C\w+)>", lambda m: "#" + names.get(m.group(1), m.group(1)), text)
    text = re.sub(r"<@(U\w+)>", r"@\1", text)
    text = re.sub(r"<(https?://[^|>]+)\|([^>]+)>", r"\2 (\1)", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _whole(seen: Seen) -> bool:
    """`/brief status`'s answer (its text in sections, then a button): shown whole, as the
    text it is, not as a card's first lines."""
    ids = [str(b.get("block_id", "")) for b in seen.blocks if b.get("type") == "section"]
    return seen.kind in ("response", "ephemeral") and bool(ids) and ids[0].startswith("status")


def render(seen: Seen, names: dict[str, str]) -> list[str]:
    """A few lines per thing seen, as a person would take it in on a phone."""
    where = {
        "channel": f"in #{names.get(seen.channel, seen.channel)}",
        "dm": "in a DM",
        "ephemeral": "only you can see this",
        "response": "only you can see this",
        "modal": "a pop-up",
        "home": "the bot's Home tab",
    }.get(seen.kind, seen.kind)
    lines: list[str] = []
    for block in seen.blocks:
        kind = block.get("type")
        if kind == "header":
            lines.append(f"**{block['text']['text']}**")
        elif kind == "section" and block.get("text") and _whole(seen):
            # The figures are the answer: every line of them.
            lines += plain(block["text"]["text"], names).strip().splitlines()
        elif kind == "section" and block.get("text"):
            first = plain(block["text"]["text"], names).strip().splitlines()[0]
            lines.append(first if len(first) <= 88 else first[:87] + "…")
            accessory = block.get("accessory") or {}
            if accessory.get("type") == "button":
                lines.append(f"  [{accessory['text']['text']}]")
        elif kind == "context":
            parts = [plain(e.get("text", ""), names) for e in block.get("elements", [])]
            lines.append("  " + " ".join(p for p in parts if p).replace(":pencil2: ", "✎ "))
        elif kind == "actions":
            labels = [e["text"]["text"] for e in block["elements"] if e.get("type") == "button"]
            lines.append("  ".join(f"[{label}]" for label in labels))
    if not lines:
        lines = plain(seen.text, names).splitlines()
    for file in (seen.message.files if seen.message else None) or []:
        lines.append(f"  [file: {file.get('name')}]")
    for user_id, name in names.items():
        lines = [line.replace(f"@{user_id}", name) for line in lines]
    out = [f"  ({where})"]
    for line in lines:
        out += textwrap.wrap(line, 92, initial_indent="    ", subsequent_indent="      ") or [""]
    return out


def edit_content(path: Path, old: str, new: str) -> None:
    """Change a content file as its author would (the demo's own copy)."""
    text = path.read_text(encoding="utf-8")
    if old not in text:
        raise RuntimeError(f"{path.name} has no {old.strip()!r} to change")
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def forged_click(user_id: str, post: Any) -> dict[str, Any]:
    """An Acknowledge click shaped like Slack's, for the forgery the bot must refuse."""
    return {
        "type": "block_actions",
        "user": {"id": user_id},
        "actions": [{"action_id": ACK_ACTION, "value": f"{BRIEFING}@1"}],
        "container": {"type": "message", "message_ts": post.ts, "channel_id": post.channel},
    }
