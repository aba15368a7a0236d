"""`python -m bot content preview <id>`: a content briefing as staff will see it, on a terminal.

The message is built by the same builder that makes the delivered copy
(`bot.briefing_message`), then shown as text: its title, body, the who-and-when line and its
buttons; then who it is for, how it goes, and the clarity check's findings. Who an audience
entry reaches (its size) is Slack's to say: `/brief publish` shows it before anything is sent.
"""

from __future__ import annotations

import re
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from bot.briefing_message import build_briefing_message, notification_text
from bot.clarity import ClarityRules, check_clarity
from bot.content import Briefing, content_glossary
from bot.content.briefings import read_briefings

PREVIEW_AUTHOR = "U00AUTHOR"  # the publisher's mention, until someone publishes it


def terminal_text(mrkdwn: str) -> str:
    """Slack mrkdwn as a terminal shows it: entities back to characters, links as their text."""
    text = re.sub(r"<(https?://[^|>]+|mailto:[^|>]+)\|([^>]+)>", r"\2 (\1)", mrkdwn)
    text = re.sub(r"<@\w+>", "@you", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def render_blocks(blocks: list[dict[str, Any]], width: int = 88) -> list[str]:
    """Block Kit as lines of text: headers, sections, context, buttons."""
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = block["text"]["text"]
            lines += [title, "=" * min(len(title), width)]
        elif kind == "section" and block.get("text"):
            for paragraph in terminal_text(block["text"]["text"]).split("\n"):
                lines += textwrap.wrap(paragraph, width) or [""]
        elif kind == "context":
            parts = [terminal_text(e.get("text", "")) for e in block.get("elements", [])]
            lines.append(" ".join(p for p in parts if p))
        elif kind == "actions":
            labels = [e["text"]["text"] for e in block["elements"] if e.get("type") == "button"]
            lines.append("  ".join(f"[ {label} ]" for label in labels))
    return lines


def describe(briefing: Briefing) -> list[str]:
    """Who it is for and how it goes, in the words the confirmation uses."""
    how = {
        "channel": "a post in each channel; a direct message to each person in a user group",
        "dm": "a direct message to each person (channel members too)",
        "both": "a post in each channel and a direct message to everyone",
    }[briefing.deliver]
    lines = [
        "Audience: " + ", ".join(a.raw for a in briefing.audience),
        f"Delivered as: {how}",
        f"Acknowledge: {'yes' if briefing.acknowledge else 'no'}; version {briefing.version}",
    ]
    if briefing.check:
        check = briefing.check
        lines.append(
            f"Check: {len(check.questions)} question(s), {check.mode}, closes after "
            f"{int(check.closes_after.total_seconds() // 86400)} day(s)"
        )
    if briefing.publish_at:
        lines.append(
            f"Not before: {briefing.publish_at:%a %-d %b %Y %H:%M} ({briefing.publish_at.tzinfo})"
        )
    return lines


def run_content_preview(
    content_dir: Path,
    briefing_id: str,
    tz: ZoneInfo,
    out: TextIO,
    *,
    clarity: ClarityRules | None = None,
    now: datetime | None = None,
) -> int:
    """Print the preview; 0 if shown, 1 if its file has problems or there is no such id (a
    problem in another file does not stop it)."""
    loaded = read_briefings(content_dir, tz)
    library = loaded.ready
    broken = loaded.broken_one(briefing_id)
    if broken is not None:
        for problem in broken.problems:
            print(f"{content_dir / 'briefings'}/{problem}", file=out)
        print("Fix these first (python -m bot content check).", file=out)
        return 1
    briefing = library.get(briefing_id)
    if briefing is None:
        known = ", ".join(sorted(library)) or "none"
        print(f"No briefing {briefing_id!r} in {content_dir}. Briefings: {known}", file=out)
        return 1
    blocks = build_briefing_message(
        briefing,
        published_by=PREVIEW_AUTHOR,
        published_at=(now or datetime.now(UTC)).isoformat(),
        tz=tz,
    )
    print(f"Preview of {briefing.id} ({briefing.source}), as staff will see it:", file=out)
    print(f"Notification: {terminal_text(notification_text(briefing))[:120]}", file=out)
    print("-" * 88, file=out)
    for line in render_blocks([b.to_dict() for b in blocks]):
        print(line, file=out)
    print("-" * 88, file=out)
    for line in describe(briefing):
        print(line, file=out)
    questions = [(q.ask, q.answer) for q in briefing.check.questions] if briefing.check else []
    findings = check_clarity(
        briefing.title,
        briefing.body,
        questions,
        glossary=content_glossary(content_dir)[0],
        rules=clarity,
    )
    if findings:
        print(f"Clarity: {len(findings)} thing(s) to look at before sending:", file=out)
        for finding in findings:
            print(f"  - {finding}", file=out)
    else:
        print("Clarity: nothing to fix.", file=out)
    return 0
