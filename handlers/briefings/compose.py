"""Writing a briefing in Slack: `/brief` (or Home's **New briefing**) opens the composer.

A senior manager starts from a content briefing, one of the drafts, or nothing; writes the
title and body (Markdown), picks the audience, delivery, acknowledgement, an optional check and
an optional time. **Preview** checks every field (a field error says what to fix, and nothing
is saved until all are right), saves the draft, and shows the message *as staff will see it*:
the very blocks the outbox will deliver, from the same plan the confirmation queues, with each
audience entry's size and the clarity check's findings. Send (or Schedule) is the existing
confirmation, so a composed briefing is published exactly as a content file's is.

This module holds the composer's listeners and `register`; its views are built in
compose_blocks.py and its fields read in compose_read.py (both pure), and their names are
re-exported here for the code and tests that import them from `handlers.briefings.compose`.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from bot.clarity import Finding, check_clarity
from bot.content import Briefing, load_briefings
from bot.content.audiences import load_named_audiences
from bot.content.composed import composed_briefing
from bot.practice.search import load_glossary
from bot.slack.modals import AT_ONCE, open_modal, settled
from bot.slack.mrkdwn import escape
from bot.slack.roles import SENIOR_MANAGER
from bot.storage import WriteTimeout
from bot.storage.drafts import Draft
from handlers.briefings.compose_blocks import (
    BODY,
    CHANNELS,
    COMPOSE_CALLBACK,
    COMPOSE_TITLE,
    DATE,
    DELIVER,
    DELIVERIES,
    EDIT_ACTION,
    GROUPS,
    MAX_BODY,
    MODE,
    OPEN_ACTION,
    OPTIONS,
    OTHERS,
    PEOPLE,
    QUESTIONS,
    START_ACTION,
    TIME,
    TITLE,
    build_compose_view,
    build_new_button,
    build_outcome_view,
    build_preview_view,
    build_problem_view,
    build_wait_view,
)
from handlers.briefings.compose_read import fields_of, read_compose
from handlers.briefings.confirm import plan_and_confirm

if TYPE_CHECKING:
    from slack_bolt.app.async_app import AsyncApp
    from slack_bolt.async_app import AsyncAck
    from slack_sdk.models.views import View

    from bot.deps import Deps

__all__ = [
    "BODY",
    "CHANNELS",
    "COMPOSE_CALLBACK",
    "DATE",
    "DELIVER",
    "DELIVERIES",
    "EDIT_ACTION",
    "GROUPS",
    "MAX_BODY",
    "MODE",
    "NOT_YOURS",
    "ONLY_MANAGERS",
    "OPEN_ACTION",
    "OPTIONS",
    "OTHERS",
    "PEOPLE",
    "QUESTIONS",
    "START_ACTION",
    "TIME",
    "TITLE",
    "StartingPoint",
    "accept",
    "build_compose_view",
    "build_new_button",
    "build_outcome_view",
    "build_preview_view",
    "build_problem_view",
    "build_wait_view",
    "compose_or",
    "edit_draft",
    "fields_of",
    "open_composer",
    "open_from_home",
    "read_compose",
    "register",
    "show_preview",
    "start_from",
    "store_draft",
]

logger = logging.getLogger(__name__)

ONLY_MANAGERS = "Only senior managers can write and publish briefings."
NOT_YOURS = "That draft is another person's: only its author or a senior manager can open it."
PREVIEW_FAILED = (
    "Sorry, the preview could not be made; it has been logged. The draft is "
    "saved: try Edit, then Preview again in a minute."
)


def register(
    app: AsyncApp, deps: Deps, *, plan_and_confirm: object = None
) -> Callable[[str, str], Awaitable[None]]:
    """Wire the composer; returns `open_composer(trigger_id, user_id)` for `/brief` alone.

    `plan_and_confirm` is accepted and ignored, so the briefings package's call still fits:
    the preview calls `handlers.briefings.confirm.plan_and_confirm` itself.
    """
    app.view(COMPOSE_CALLBACK)(deps.work.listener(deps, store_draft, follow_up=show_preview))
    app.action(OPEN_ACTION)(deps.work.listener(deps, accept, follow_up=open_from_home))
    app.action(START_ACTION)(deps.work.listener(deps, accept, follow_up=start_from))
    app.action(EDIT_ACTION)(deps.work.listener(deps, accept, follow_up=edit_draft))
    return functools.partial(open_composer, deps)


# ---------------------------------------------------------------------------------------------
# Opening and refilling the composer


async def open_composer(
    deps: Deps, trigger_id: str, user_id: str, *, may: asyncio.Future[bool] | None = None
) -> None:
    """The empty composer, with its "Start from" choices and the user-group picker, opened
    within Slack's 3 s: reading the content and Slack's user groups can take longer, so "One
    moment…" is shown until they are ready. `may`: a role check still under way (the modal is
    opened at once, and says no if it does)."""
    work = _composer_for(deps, user_id, may)
    await open_modal(deps.client, trigger_id, work, title=COMPOSE_TITLE, wait=0 if may else AT_ONCE)


async def _composer_for(deps: Deps, user_id: str, may: Awaitable[bool] | None) -> View:
    """The empty composer, or (when the role check says no) why there is none."""
    if may is not None and not await may:
        return build_outcome_view(ONLY_MANAGERS, None)
    starts, groups = await asyncio.gather(_starts(deps, user_id), _groups(deps))
    return build_compose_view(starts=starts, tz=deps.config.timezone, groups=groups)


async def compose_or(
    deps: Deps, trigger_id: str, user_id: str, refuse: Callable[[], Awaitable[None]]
) -> None:
    """The composer for a senior manager; `refuse()` (a private no) for anyone else. The role
    check is given a moment: a slow one (a cold cache, a slow Slack) opens the composer first,
    as "One moment…", so the trigger is used in time; the modal then says no as well."""
    may = asyncio.ensure_future(_may_compose(deps, user_id))
    if not await settled(may, AT_ONCE):
        await open_composer(deps, trigger_id, user_id, may=may)
        if not may.result():
            await refuse()
    elif may.result():
        await open_composer(deps, trigger_id, user_id)
    else:
        await refuse()


async def accept(deps: Deps, ack: AsyncAck) -> None:
    """Opening, refilling or going back to the composer records nothing: Slack is answered at
    once, and the follow-up (which needs Slack, and the role check) does the work."""
    await ack()


async def open_from_home(deps: Deps, said: None, body: dict[str, Any]) -> None:
    """Home's **New briefing**: the composer for a senior manager, a private no for anyone else."""
    user_id = body["user"]["id"]
    await compose_or(
        deps, body["trigger_id"], user_id, functools.partial(deps.replies.tell, body, ONLY_MANAGERS)
    )


@dataclass(frozen=True)
class StartingPoint:
    """What "Start from" fills the composer with: a draft's fields (and its id, so Preview
    saves over it), a content briefing's (a new briefing), or nothing, with a note to show."""

    fields: dict[str, Any] | None = None
    draft_id: str | None = None
    notice: str | None = None


async def start_from(deps: Deps, said: None, body: dict[str, Any]) -> None:
    """ "Start from": the composer filled from a content briefing or a draft."""
    user_id = body["user"]["id"]
    action = (body.get("actions") or [{}])[0]
    choice = str((action.get("selected_option") or {}).get("value") or "new")
    view = body.get("view") or {}
    if not await _may_compose(deps, user_id):  # nothing of anyone's drafts, not even titles
        await _update(deps, view, build_outcome_view(ONLY_MANAGERS, None))
        return
    start = await _starting_point(deps, choice)
    shown = build_compose_view(
        start.fields,
        draft_id=start.draft_id,
        starts=await _starts(deps, user_id),
        tz=deps.config.timezone,
        notice=start.notice,
        groups=await _groups(deps),
    )
    await _update(deps, view, shown)


async def _starting_point(deps: Deps, choice: str) -> StartingPoint:
    """The "Start from" choice (`draft:<id>`, `content:<id>` or `new`) as fields to fill in."""
    if choice.startswith("draft:"):
        draft = await deps.storage.drafts.get(choice.removeprefix("draft:"))
        if draft is None:
            return StartingPoint(notice="That draft is gone.")
        return StartingPoint(fields=draft.fields, draft_id=draft.id)
    if choice.startswith("content:"):
        briefing = (await _content(deps) or {}).get(choice.removeprefix("content:"))
        if briefing is not None:
            return StartingPoint(
                fields=fields_of(briefing),
                notice=(
                    f"Starting from `{escape(briefing.id)}`: this makes a new briefing, and the "
                    "file is left as it is."
                ),
            )
    return StartingPoint()


async def edit_draft(deps: Deps, said: None, body: dict[str, Any]) -> None:
    """ "Edit" on the preview: back to the fields, as saved."""
    user_id = body["user"]["id"]
    draft_id = str(((body.get("actions") or [{}])[0]).get("value") or "")
    draft = await deps.storage.drafts.get(draft_id)
    view = body.get("view") or {}
    if draft is None:
        await _update(deps, view, build_problem_view("That draft is gone.", draft_id))
    elif draft.author != user_id and not await _may_compose(deps, user_id):
        await _update(deps, view, build_problem_view(NOT_YOURS, draft_id))
    else:
        shown = build_compose_view(
            draft.fields, draft_id=draft.id, tz=deps.config.timezone, groups=await _groups(deps)
        )
        await _update(deps, view, shown)


# ---------------------------------------------------------------------------------------------
# Preview: save the draft, then show it as staff will see it


async def store_draft(
    deps: Deps, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]
) -> Draft | None:
    """Preview: every field checked; the draft saved before Slack hears back.

    Returns the saved draft for the preview, or None when the person was sent back to the
    fields (a field error, a refusal, or a save that did not go through).
    """
    user_id = body["user"]["id"]
    if not await _may_compose(deps, user_id):
        await ack(response_action="errors", errors={TITLE: ONLY_MANAGERS})
        return None
    values = (view.get("state") or {}).get("values") or {}
    fields, errors = read_compose(
        values, tz=deps.config.timezone, now=deps.clock(), named=await _named(deps)
    )
    draft_id = await _draft_saved_over(deps, view, user_id, errors)
    if errors:
        logger.info("a composed briefing was returned for changes (%s)", ", ".join(errors))
        await ack(response_action="errors", errors=errors)
        return None
    taken: frozenset[str] = frozenset()
    if draft_id is None:  # a new draft's id must not take a content briefing's
        taken = await _taken(deps)
    try:
        draft = await deps.storage.drafts.save(
            fields, draft_id=draft_id, user_id=user_id, now=deps.clock(), taken=taken
        )
    except WriteTimeout:
        await ack(
            response_action="errors",
            errors={TITLE: "That didn't go through, so nothing was saved. Try again."},
        )
        return None
    await ack(response_action="update", view=build_wait_view(draft.fields["title"]))
    return draft


async def _draft_saved_over(
    deps: Deps, view: dict[str, Any], user_id: str, errors: dict[str, str]
) -> str | None:
    """The draft this composer edits (from its metadata), or None for a new one; editing
    another person's draft is a field error unless the person is a senior manager."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        meta = {}
    draft_id = meta.get("draft") if isinstance(meta, dict) else None
    if draft_id is None:
        return None
    existing = await deps.storage.drafts.get(str(draft_id))
    if existing is None:
        return None
    if existing.author != user_id and not await _may_compose(deps, user_id):
        errors[TITLE] = NOT_YOURS
    return draft_id


async def _taken(deps: Deps) -> frozenset[str]:
    """The ids a new draft must not take: the content briefings'. With content that has
    problems (which only `content check` can sort out), the files' names stand in for them."""
    files = await _content(deps)
    if files is not None:
        return frozenset(files)
    return await asyncio.to_thread(_stems_of, deps.config.content_dir / "briefings")


async def show_preview(deps: Deps, said: Draft | None, body: dict[str, Any]) -> None:
    """After the save: who it reaches (Slack's answer), then the preview and Send. Any
    failure is said in the modal, never left on "Working out…"."""
    draft = said
    if draft is None:
        return
    user_id = body["user"]["id"]
    view = body.get("view") or {}
    try:
        delivered, confirmation, findings = await _plan_preview(deps, draft, user_id)
    except ValueError as error:
        await _update(deps, view, build_problem_view(str(error), draft.id))
        return
    except Exception:
        logger.exception("the composer's preview failed")
        await _update(deps, view, build_problem_view(PREVIEW_FAILED, draft.id))
        return
    await _update(deps, view, build_preview_view(delivered, confirmation, findings, draft))


async def _plan_preview(
    deps: Deps, draft: Draft, user_id: str
) -> tuple[list[Any], list[Any], list[Finding]]:
    """The draft's delivered copy and confirmation (from the plan the outbox will use), and
    the clarity check's findings. Raises ValueError with a message for the publisher."""
    tz = deps.config.timezone
    briefing = composed_briefing(draft.id, draft.version, draft.fields, tz, await _named(deps))
    delivered, confirmation = await plan_and_confirm(deps, briefing, user_id)
    questions = [(q.ask, q.answer) for q in briefing.check.questions] if briefing.check else []
    glossary = await asyncio.to_thread(_glossary, deps.config.content_dir / "glossary.yaml")
    findings = check_clarity(
        briefing.title, briefing.body, questions, glossary=glossary, rules=deps.config.clarity
    )
    return delivered, confirmation, findings


# ---------------------------------------------------------------------------------------------
# What the listeners share


async def _may_compose(deps: Deps, user_id: str) -> bool:
    """Only senior managers write briefings; when Slack cannot say who is one, the answer is
    no (as before: nothing of anyone's drafts is shown on a guess)."""
    verdict = await deps.roles.allows(user_id, {SENIOR_MANAGER})
    return verdict.allowed


async def _update(deps: Deps, view: dict[str, Any], shown: View) -> None:
    """Replace the composer's modal; one closed meanwhile is only logged."""
    try:
        await deps.client.views_update(view_id=view.get("id"), view=shown)
    except SlackApiError as error:
        logger.info("the composer was not updated (%s)", error.response.get("error"))


async def _named(deps: Deps) -> dict[str, Any]:
    """The named audiences in audiences.yaml, read off the event loop."""
    return (await asyncio.to_thread(load_named_audiences, deps.config.content_dir))[0]


async def _content(deps: Deps) -> dict[str, Briefing] | None:
    """The content briefings, read off the event loop; None if they have problems."""
    try:
        return await asyncio.to_thread(
            load_briefings, deps.config.content_dir, deps.config.timezone
        )
    except Exception:
        return None


async def _starts(deps: Deps, user_id: str) -> list[tuple[str, str, str]]:
    """The "Start from" choices: new, the drafts (marking other managers'), the content
    briefings (none when the content has problems: start from a draft or anew)."""
    out: list[tuple[str, str, str]] = [("New", "new", "A new briefing")]
    for draft in await deps.storage.drafts.all(limit=50):
        mark = "" if draft.author == user_id else " (another manager's)"
        out.append(("Drafts", f"draft:{draft.id}", f"{draft.fields.get('title', '')}{mark}"))
    files = await _content(deps) or {}
    for briefing in list(files.values())[:45]:
        out.append(("Content briefings", f"content:{briefing.id}", briefing.title))
    return out


async def _groups(deps: Deps) -> list[tuple[str, str]]:
    """The picker's choices: named audiences, then the workspace's user groups (waiting
    1.5 s at most for their list: a modal's trigger lasts 3 s; typed entries still work)."""
    out = [(name, f"{name} (named audience)") for name in sorted(await _named(deps))]
    listed = await deps.audiences.shown_user_groups(wait=1.5)
    for group in listed:
        handle = str(group.get("handle") or "")
        if handle:
            out.append((f"@{handle}", f"@{handle} — {group.get('name') or handle}"))
    return out[:100]


def _stems_of(folder: Path) -> frozenset[str]:
    return frozenset(p.stem for p in folder.glob("*.md"))


def _glossary(path: Path) -> dict[str, tuple[str, ...]]:
    """The glossary for the clarity check; a broken one of the service's own: the shipped."""
    try:
        return load_glossary(path)
    except Exception:
        return load_glossary()
