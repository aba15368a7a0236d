"""`/engage results|export|close <briefing id> [version]`: the checks feature's words of the
engagement leads' command (`deps.engage`, answered privately by handlers/engage.py).

Engagement leads may use them on any check, senior managers on the checks of the briefings
they published. Every figure shown is one the disclosure layer released
(`deps.storage.disclosure`); who looked, and when, is kept (`results_audit`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.content.teams import team_names
from bot.slack.mrkdwn import escape
from bot.slack.roles import ENGAGEMENT_LEAD, SENIOR_MANAGER
from bot.storage.checks import Check
from bot.storage.disclosure import CheckFigures
from handlers.checks.common import NOT_ALLOWED
from handlers.checks.export import build_export
from handlers.checks.results import build_results

if TYPE_CHECKING:
    from bot.deps import Deps

logger = logging.getLogger(__name__)

HELP_LINES = {
    "results": "`/engage results &lt;briefing id&gt;` — who took its check, who understood, the "
    "misconceptions, by team (engagement leads; senior managers for their own briefings)",
    "export": "`/engage export &lt;briefing id&gt;` — the same figures as a CSV file, in your DM "
    "with me",
    "close": "`/engage close &lt;briefing id&gt;` — close its check early (the same people)",
}

Reply = tuple[str, list[dict[str, Any]] | None]


async def answer(deps: Deps, user_id: str, text: str) -> Reply:
    """The private answer to `/engage <text>`: (text, blocks)."""
    sub, _, rest = " ".join(text.split()).partition(" ")
    sub = sub.lower()
    briefing_id, _, version_text = rest.strip().lower().partition(" ")
    version = int(version_text) if version_text.isdigit() and len(version_text) < 7 else None
    if sub not in HELP_LINES:  # /engage routes only these words here
        return f"I don't know `/engage {escape(sub[:40])}`. Try `/engage help`.", None
    if not briefing_id:
        return f"Which briefing? For example `/engage {sub} recruitment-funding`.", None
    check = await deps.storage.checks.latest(briefing_id, version)
    verdict = await deps.roles.allows(user_id, {SENIOR_MANAGER, ENGAGEMENT_LEAD})
    if verdict.unknown:
        return "I couldn't check your role just now. Try again soon.", None
    if not verdict.allowed:
        return NOT_ALLOWED, None
    if check is None:
        which = f" (version {version})" if version else ""
        return f"`{escape(briefing_id[:64])}`{which} has no check that has been sent.", None
    manager = not verdict.holds(ENGAGEMENT_LEAD)
    if manager and await deps.storage.checks.published_by(check) != user_id:
        return "Senior managers can see the results of the briefings they published.", None
    if sub == "close":
        return await _close(deps, check, briefing_id), None
    figures = await deps.storage.disclosure.check(check.briefing_id, check.version, deps.clock())
    assert figures is not None
    await deps.storage.checks.record_access(check, user_id=user_id, action=sub, now=deps.clock())
    if sub == "export":
        return await _export(deps, user_id, check, figures), None
    names = await asyncio.to_thread(team_names, deps.config.content_dir)
    blocks = build_results(check, figures, deps.config.timezone, names)
    return f"Results of the check on {escape(check.title)}", [b.to_dict() for b in blocks]


async def _close(deps: Deps, check: Check, briefing_id: str) -> str:
    """Close the check early: no more answers, and its results are final."""
    if not await deps.storage.checks.close(check, deps.clock()):
        return f"The check on *{escape(check.title)}* has closed already."
    return (
        f"Closed the check on *{escape(check.title)}*: no more answers are taken, and its "
        f"results are final. `/engage results {briefing_id}` shows them."
    )


async def _export(deps: Deps, user_id: str, check: Check, figures: CheckFigures) -> str:
    """Upload the CSV, one tidy table (export.py), to the requester's DM with the bot
    (files_upload_v2)."""
    names = await asyncio.to_thread(team_names, deps.config.content_dir)
    content = build_export(check, figures, deps.config.timezone, names)
    try:
        opened = await deps.client.conversations_open(users=user_id)
        await deps.client.files_upload_v2(
            channel=opened["channel"]["id"],
            filename=f"{check.briefing_id}-v{check.version}-check.csv",
            title=f"Check results: {check.title}"[:250],
            content=content,
            initial_comment="The check's results, with small groups hidden as on screen.",
        )
    except (SlackApiError, SlackRequestError, aiohttp.ClientError, TimeoutError) as error:
        logger.warning("could not upload an export (%s)", type(error).__name__)
        return "I couldn't upload the file just now. Try again in a minute."
    return f"The results of the check on *{escape(check.title)}* are in your DM with me, as CSV."
