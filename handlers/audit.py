"""`/engage audit [briefing id]`: who looked at what about people, for engagement leads.

The trail is `results_audit`: every view or export of a check's results, every listing of who
has not acknowledged a briefing and every "Send the reminder now", with who and when (never what
they saw); and, for the whole trail, the retention purge's last run (`retention_runs`).
Newest first, in `TIMEZONE`, capped at `SHOWN`; a briefing id narrows it to that one.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.slack.mrkdwn import escape
from bot.slack.roles import ENGAGEMENT_LEAD
from bot.slack.sections import sections
from bot.storage.audit import LISTED, REMINDED, TRENDS, Access
from bot.timefmt import format_local

if TYPE_CHECKING:
    from slack_bolt.app.async_app import AsyncApp

    from bot.deps import Deps

WORD = "audit"
HELP_LINE = (
    "`/engage audit [briefing id]` — who viewed or exported results, or listed who hasn't "
    "acknowledged, and when: newest first (engagement leads)"
)
SHOWN = 50  # a private reply of up to 50 lines: the newest first, the rest said to be older

# What each kept action was, as a lead reads it.
DOING = {
    "results": "viewed the check results of",
    "export": "exported the check results of",
    LISTED: "listed who hasn't acknowledged",
    REMINDED: "pressed *Send the reminder now* for",
    TRENDS: "viewed understanding over time",
}

Answer = tuple[str, list[dict[str, Any]] | None]


async def answer_audit(deps: Deps, user_id: str, text: str) -> Answer:
    """The private answer to `/engage audit [briefing id]`: (text, blocks)."""
    verdict = await deps.roles.allows(user_id, {ENGAGEMENT_LEAD})
    if verdict.unknown:
        return "I couldn't check your role just now. Try again soon.", None
    if not verdict.allowed:
        contact = escape(deps.config.access_contact)
        return (
            "Only engagement leads can see who looked at results and lists. If you should be "
            f"able to, ask {contact} to add you to the engagement leads.",
            None,
        )
    words = text.split()[1:]
    briefing_id = words[0].lower()[:64] if words else None
    entries, older = await deps.storage.audit.recent(SHOWN, briefing_id=briefing_id)
    lines = build_audit(entries, deps.config.timezone, older=older, briefing_id=briefing_id)
    if briefing_id is None:  # the whole trail: what the retention purge deleted, too
        purged = await deps.storage.retention.recent(20)
        lines.append(build_retention_line(purged, deps.config.timezone))
    blocks = sections("audit", lines)
    return lines[0], [b.to_dict() for b in blocks]


def build_audit(
    entries: list[Access], tz: ZoneInfo, *, older: bool, briefing_id: str | None = None
) -> list[str]:
    """The trail as lines: a head, one line per entry (newest first), and whether older ones
    are kept but not shown."""
    about = f" for `{escape(briefing_id)}`" if briefing_id else ""
    if not entries:
        return [
            f"Nothing is recorded{about} yet: nobody has viewed results or listed who "
            "hasn't acknowledged."
        ]
    head = f"*Who looked at results and lists{about}*, newest first (times in {tz.key})"
    lines = [head]
    for entry in entries:
        what = DOING.get(entry.action, escape(entry.action))
        which = f"`{escape(entry.briefing_id)}`" if entry.briefing_id else ""
        if entry.version is not None:
            which += f" (version {entry.version})"
        lines.append(f"• {format_local(entry.at, tz)} — <@{entry.user_id}> {what} {which}".rstrip())
    if older:
        lines.append(f"_Only the newest {SHOWN} are shown; older entries are kept._")
    return lines


def build_retention_line(rows: list[tuple[str, str, int]], tz: ZoneInfo) -> str:
    """The newest purge (`retention_runs`, newest first): when, and how many records of each
    kind went; counts only, as the record keeps."""
    if not rows:
        return "_Retention: the daily purge has not run yet._"
    at = rows[0][0]
    latest = {kind: n for when, kind, n in rows if when == at}
    total = latest.pop("run", sum(latest.values()))
    when = format_local(at, tz)
    if not total:
        return f"_Retention: the daily purge last ran {when}; nothing was past its time._"
    kinds = ", ".join(f"{escape(kind)} {n:,}" for kind, n in sorted(latest.items()) if n)
    return (
        f"_Retention: the daily purge last ran {when} and deleted {total:,} records past "
        f"their time ({kinds})._"
    )


def register(app: AsyncApp, deps: Deps) -> None:
    """Add `audit` to `/engage`."""
    deps.engage.add(WORD, functools.partial(answer_audit, deps), HELP_LINE)
