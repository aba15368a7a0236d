"""`/brief` for senior managers and engagement leads: list, publish and status, as private text;
`/brief` alone opens the composer (compose.py) for a senior manager.

The listener is a store half that records nothing (`accept`: Slack is answered at once) and a
follow-up (`answer_brief`) that works out the answer and says it privately.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.content import Briefing, parse_local_time
from bot.content.briefings import read_briefings
from bot.content.broken import Broken
from bot.content.circulars import read_circulars
from bot.content.composed import SOURCE_PREFIX
from bot.content.teams import team_names
from bot.slack.mrkdwn import escape
from bot.slack.roles import ENGAGEMENT_LEAD, SENIOR_MANAGER
from bot.slack.sections import sections
from bot.timefmt import format_local
from handlers.briefings import circulars, compose, waiting
from handlers.briefings.blocks import HELP, build_confirmation, build_status
from handlers.briefings.problem_blocks import (
    Why,
    build_briefing_list,
    build_broken_reply,
    build_unknown_briefing,
)
from handlers.briefings.publish import (
    AudienceUnavailable,
    NobodyToReach,
    load_library,
    plan_briefing,
)
from handlers.briefings.waiting_blocks import button_under_status

if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncAck

    from bot.deps import Deps

COMMAND = "/brief"


async def accept(deps: Deps, ack: AsyncAck) -> None:
    """`/brief …` records nothing itself: answer Slack at once, work afterwards."""
    await ack()


async def answer_brief(deps: Deps, said: None, body: dict[str, Any]) -> None:
    """`/brief …`: help, list, publish or status, answered privately; `/brief` alone opens
    the composer for a senior manager (anyone else, or a failed role check, gets the help)."""
    user_id = body["user_id"]
    if not (body.get("text") or "").strip():  # alone: the composer (within Slack's 3 s)
        refuse = functools.partial(_reply, deps, body)
        await compose.compose_or(deps, body["trigger_id"], user_id, refuse)
        return
    await _reply(deps, body)


async def _reply(deps: Deps, body: dict[str, Any]) -> None:
    """The private answer to `/brief <text>`, said through the command's response_url."""
    reply = await answer(deps, body["user_id"], body.get("text") or "")
    if isinstance(reply, Reply):
        await deps.replies.respond(body["response_url"], reply.text, blocks=reply.blocks)
    else:
        await deps.replies.respond(body["response_url"], reply)


async def answer(deps: Deps, user_id: str, text: str) -> str | Reply:
    """The private answer to `/brief <text>`."""
    text = " ".join(text.split())
    sub, _, rest = text.partition(" ")
    sub = sub.lower()
    if sub in ("", "help"):
        return HELP
    if sub == "list":
        return await _list(deps, user_id)
    if sub == "publish":
        return await _publish(deps, user_id, rest)
    if sub == "status":
        return await _status(deps, user_id, rest)
    if sub == "waiting":
        text, blocks = await waiting.listing(deps, user_id, rest)
        return Reply(text, blocks) if blocks else text
    if sub == "scheduled":
        return await _scheduled(deps, user_id)
    if sub == "cancel":
        return await _cancel(deps, user_id, rest)
    if sub == "circular":
        return await _circular(deps, user_id, rest)
    return f"I don't know `/brief {escape(sub[:40])}`. Try `/brief help`."


async def _list(deps: Deps, user_id: str) -> str:
    # Titles of briefings not yet published can be sensitive (a restructure, say).
    verdict = await deps.roles.allows(user_id, {SENIOR_MANAGER, ENGAGEMENT_LEAD})
    if verdict.unknown:
        return "I couldn't check your role just now. Try again soon."
    if not verdict.allowed:
        return "Only senior managers and engagement leads can see the briefings ready to publish."
    library = await load_library(deps)
    broken = await _broken(deps)
    ready = [(b.id, b.title, str(b.source).startswith(SOURCE_PREFIX)) for b in library.values()]
    return build_briefing_list(ready, broken)


@dataclass(frozen=True)
class Reply:
    """A private answer with Block Kit (a confirmation with its buttons)."""

    text: str
    blocks: list[dict[str, Any]]


async def _publish(deps: Deps, user_id: str, args: str) -> str | Reply:
    verdict = await deps.roles.allows(user_id, {SENIOR_MANAGER})
    if verdict.unknown:
        return "I couldn't check who can publish just now, so nothing was posted. Try again soon."
    if not verdict.allowed:
        return (
            "Only senior managers can publish briefings, so nothing was posted. If you should "
            f"be able to, ask {escape(deps.config.access_contact)} to add you to the senior "
            "managers list."
        )
    briefing_id, *words = args.lower().split() or [""]
    chosen = None
    if "at" in words:  # `/brief publish <id> at 2026-12-02 09:00`: the publisher picks the time
        where = words.index("at")
        when_text = " ".join(words[where + 1 : where + 3])
        words = words[:where] + words[where + 3 :]
        try:
            chosen = parse_local_time(when_text, deps.config.timezone)
        except ValueError as error:
            return f"I can't read that time: {escape(str(error))}."
        if chosen <= deps.clock():
            return (
                f"{format_local(chosen, deps.config.timezone)} has passed: pick a time to come, "
                "or leave out `at …` to send it now."
            )
    flags = set(words)
    if not briefing_id:
        return "Which briefing? For example `/brief publish recruitment-funding` (`/brief list`)."
    if flags - {"now"}:
        odd = " ".join(sorted(flags - {"now"}))
        return (
            f"I don't understand `{escape(odd[:40])}`. "
            "Use `/brief publish &lt;briefing id&gt;`, adding `now` to send it at once."
        )
    library = await load_library(deps)
    briefing = library.get(briefing_id)
    if briefing is None:  # its file has problems, or there is no such briefing
        return await _missing(deps, briefing_id, library)
    later = chosen or briefing.publish_at
    at = later if later and later > deps.clock() and "now" not in flags else None
    try:
        plan = await plan_briefing(deps, briefing, user_id)
    except AudienceUnavailable as error:
        problems = "\n".join(f"• {line}" for line in str(error).splitlines())
        return (
            f"Nothing was sent: I can't reach everyone in the audience of "
            f"*{escape(briefing.title)}*.\n{problems}\nFix the audience in "
            f"`{escape(briefing.source.name)}` (or in Slack), then publish again."
        )
    except NobodyToReach:
        return (
            f"Nothing was sent: the audience of *{escape(briefing.title)}* has nobody in it "
            "(only bots or deactivated accounts, or empty groups). Check it in "
            f"`{escape(briefing.source.name)}`."
        )
    earlier = await deps.storage.outbox.earlier_copies(briefing.id, briefing.version)
    token = await deps.storage.confirmations.ask(plan, at=at, now=deps.clock())
    at_text = format_local(at, deps.config.timezone) if at else None
    blocks = build_confirmation(
        plan,
        token,
        at_text=at_text,
        earlier=earlier,
        twice_above=deps.config.confirm_twice_above,
    )
    return Reply(
        text=f"Ready to {'schedule' if at else 'send'} {escape(plan.title)}: confirm or cancel.",
        blocks=[b.to_dict() for b in blocks],
    )


async def _circular(deps: Deps, user_id: str, args: str) -> str | Reply:
    """`/brief circular preview <id>`: the next issue as it stands (managers and leads)."""
    verdict = await deps.roles.allows(user_id, {SENIOR_MANAGER, ENGAGEMENT_LEAD})
    if verdict.unknown:
        return "I couldn't check who can see circulars just now. Try again soon."
    if not verdict.allowed:
        return "Only senior managers and engagement leads can preview circulars."
    word, _, circular_id = args.partition(" ")
    if word.lower() != "preview" or not circular_id.strip():
        return "Use `/brief circular preview &lt;circular id&gt;`, e.g. `weekly-round-up`."
    loaded = await asyncio.to_thread(read_circulars, deps.config.content_dir, deps.config.timezone)
    broken = loaded.broken_one(circular_id.strip().lower())
    if broken is not None:  # its file has problems: say what, as for a briefing
        return build_broken_reply(broken, why="preview")
    text, blocks = await circulars.preview(deps, circular_id.strip().lower())
    if blocks is None:
        return text
    head: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {"type": "divider"},
    ]
    return Reply(text=text, blocks=[*head, *blocks][:50])


async def _scheduled(deps: Deps, user_id: str) -> str:
    verdict = await deps.roles.allows(user_id, {SENIOR_MANAGER, ENGAGEMENT_LEAD})
    if verdict.unknown:
        return "I couldn't check your role just now. Try again soon."
    if not verdict.allowed:
        return "Only senior managers and engagement leads can see what is scheduled."
    waiting = await deps.storage.schedules.waiting()
    if not waiting:
        return "Nothing is scheduled."
    lines = [
        f"• {format_local(w['at'], deps.config.timezone)} — *{escape(w['title'])}* "
        f"(`{escape(w['briefing_id'])}`, version {w['version']}), set by <@{w['published_by']}>"
        for w in waiting[:40]
    ]
    return "*Scheduled briefings*\n" + "\n".join(lines)


async def _cancel(deps: Deps, user_id: str, briefing_id: str) -> str:
    verdict = await deps.roles.allows(user_id, {SENIOR_MANAGER})
    if verdict.unknown:
        return "I couldn't check your role just now, so nothing was cancelled. Try again soon."
    if not verdict.allowed:
        return "Only senior managers can cancel a briefing."
    briefing_id = briefing_id.strip().lower()
    if not briefing_id:
        return "Which briefing? For example `/brief cancel recruitment-funding`."
    stopped = await deps.storage.schedules.cancel(briefing_id)
    if not stopped:
        return (
            f"`{escape(briefing_id[:64])}` is not scheduled or being sent, so there was nothing "
            "to cancel. `/brief scheduled` lists what is waiting."
        )
    return (
        f"Cancelled `{escape(briefing_id)}`: nothing more of it will be sent. Anything already "
        "delivered stays where it is."
    )


async def _status(deps: Deps, user_id: str, briefing_id: str) -> str | Reply:
    verdict = await deps.roles.allows(user_id, {SENIOR_MANAGER, ENGAGEMENT_LEAD})
    if verdict.unknown:
        return "I couldn't check your role just now. Try again soon."
    if not verdict.allowed:
        return "Only senior managers and engagement leads can see a briefing's figures."
    briefing_id = briefing_id.lower()
    if not briefing_id:
        return "Which briefing? For example `/brief status recruitment-funding`."
    # Figures come from what was posted, so they survive a later edit or a removed file.
    version = await deps.storage.publications.latest_posted_version(briefing_id)
    if version is None:
        library = await load_library(deps)
        if briefing_id in library:
            return f"*{escape(library[briefing_id].title)}* has not been published yet."
        return await _missing(deps, briefing_id, library, why="status")
    posts = await deps.storage.publications.publications_of(briefing_id, version)
    figures = await deps.storage.disclosure.acknowledgements(briefing_id, version, deps.clock())
    entries = await deps.storage.acknowledgements.by_entry(briefing_id, version)
    names = await asyncio.to_thread(team_names, deps.config.content_dir)
    text = build_status(posts, figures, deps.config.timezone, entries, names)
    # Its publisher and the leads may list, by name, who has not acknowledged it.
    if not any(p["acknowledge"] for p in posts) or not waiting.may_list(
        verdict, user_id, posts[0].get("published_by")
    ):
        return text
    blocks = [*sections("status", text.splitlines()), button_under_status(briefing_id)]
    return Reply(text=text, blocks=[b.to_dict() for b in blocks])


async def _broken(deps: Deps) -> tuple[Broken, ...]:
    """The briefing files left out for their problems (and `audiences.yaml`'s), read now."""
    loaded = await asyncio.to_thread(read_briefings, deps.config.content_dir, deps.config.timezone)
    return loaded.broken


async def _missing(
    deps: Deps, briefing_id: str, library: dict[str, Briefing], *, why: Why = "publish"
) -> str:
    """A briefing not in the library: its file's problems in plain words if it is one left
    out, else that there is no such briefing, with the close ids (broken ones too)."""
    loaded = await asyncio.to_thread(read_briefings, deps.config.content_dir, deps.config.timezone)
    mine = loaded.broken_one(briefing_id)
    if mine is not None:
        return build_broken_reply(mine, why=why)
    known = [*library, *(b.id for b in loaded.broken if b.id)]
    return build_unknown_briefing(briefing_id, known)
