"""The circular: a regular round-up of what is new, sent through the outbox on its schedule.

Every minute the job looks at each circular in `content/circulars/`: when its schedule has
come round (within `GRACE`, so a bot started days later does not send a stale one) and this
period has no issue yet, it gathers what is new since the last issue — briefings published and
how many acknowledged, questions answered ("you said, we did"), practice notes added or
reviewed — and queues one message to the audience. With nothing new it is skipped and its
publisher gets a private note instead. Either way the period's row and the message are written
in one transaction (bot/storage/circulars.py): once per period, across restarts and crashes.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.audiences import AudienceUnavailable
from bot.content import Circular, PracticeNote
from bot.content.circulars import read_circulars
from bot.disclosure import Figures
from bot.slack.long_messages import MESSAGE_TEXT_BUDGET, split_message
from bot.slack.mrkdwn import escape, escape_within, markdown_to_mrkdwn, split_mrkdwn
from bot.storage.circulars import News
from bot.storage.restores import Gap
from bot.timefmt import format_local

if TYPE_CHECKING:
    from bot.deps import Deps

logger = logging.getLogger(__name__)

JOB = "briefings:circulars"
GRACE = timedelta(hours=12)  # a period's issue goes out at most this long after its time
MAX_ITEMS = 12  # per part: a circular is read in a minute
PREVIEW_HEAD_ROOM = 1_000  # the preview's own line above the issue, and its divider


def load_circulars(deps: Deps) -> dict[str, Circular]:
    """The circulars in content; a broken file is left out and named (leads see it on Home,
    content check says why), and stops no other."""
    loaded = read_circulars(deps.config.content_dir, deps.config.timezone)
    for broken in loaded.broken:
        if broken.noun == "circular":
            logger.warning("circular %s was skipped (run content check)", broken.file)
    return loaded.ready


def _day(moment: datetime, deps: Deps) -> str:
    local = moment.astimezone(deps.config.timezone)
    return f"{local.day} {local:%B %Y}"


def build_circular_message(
    circular: Circular,
    news: News,
    *,
    added: list[PracticeNote],
    reviewed: list[PracticeNote],
    since: str,
    acks: dict[tuple[str, int], Figures],
) -> dict[str, Any]:
    """The circular as staff get it: its intro, then each part that has something new."""
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=circular.title[:150]))]
    # The whole intro: a long issue goes as several messages (the outbox splits it), never cut.
    blocks += [
        SectionBlock(text=MarkdownTextObject(text=chunk))
        for chunk in split_mrkdwn(markdown_to_mrkdwn(circular.intro))
    ]
    if news.briefings:
        lines = []
        for b in news.briefings[:MAX_ITEMS]:
            line = f"• *{escape_within(b.title, 150)}*"
            figures = acks.get((b.briefing_id, b.version))
            # Staff read a circular: a figure not released yet is left out, not shown as 0.
            if (
                figures is not None
                and figures.shown
                and b.acknowledge
                and figures.total("acknowledged")
            ):
                acked, reached = figures.total("acknowledged"), figures.population
                share = round(100 * acked / reached)
                line += f" — {acked} of the {reached:,} it reached have acknowledged ({share}%)"
            elif figures is not None and figures.shown:
                line += f" — reached {figures.population:,} people"
            lines.append(line)
        blocks.append(_part("Briefings since the last circular", lines))
    if news.answered:
        lines = [
            f"• *You said:* {escape_within(q.text, 300)}\n   *We did:* "
            f"{escape_within(q.action or q.answer, 400)}"
            for q in news.answered[:MAX_ITEMS]
        ]
        blocks.append(_part("You said, we did", lines))
    if added or reviewed:
        lines = [f"• New: *{escape_within(n.title, 150)}*" for n in added[:MAX_ITEMS]]
        lines += [f"• Reviewed: *{escape_within(n.title, 150)}*" for n in reviewed[:MAX_ITEMS]]
        lines.append("Find them with `/practice`.")
        blocks.append(_part("Practice guidance", lines))
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"From <@{circular.publisher}> · what is new since {escape(since)}"
                )
            ]
        )
    )
    text = escape(f"{circular.title}: {items_in(news, added, reviewed)} new since {since}")
    return {"text": text, "blocks": [b.to_dict() for b in blocks]}


def _part(heading: str, lines: list[str]) -> SectionBlock:
    """One part of the circular: whole lines while they fit a section, then how many more."""
    text, shown = f"*{heading}*", 0
    for line in lines:
        rest = len(lines) - shown - 1
        tail = f"\n…and {rest} more" if rest else ""
        if len(text) + 1 + len(line) + len(tail) > 3000:
            break
        text += "\n" + line
        shown += 1
    if shown < len(lines):
        text += f"\n…and {len(lines) - shown} more"
    return SectionBlock(text=MarkdownTextObject(text=text))


def items_in(news: News, added: list[PracticeNote], reviewed: list[PracticeNote]) -> int:
    return len(news.briefings) + len(news.answered) + len(added) + len(reviewed)


async def gather(deps: Deps, circular: Circular, period: datetime) -> dict[str, Any] | None:
    """Everything an issue for `period` needs: the news since the last issue (up to now, where
    the next one will start), the message. None while practice search is not ready: its notes
    are part of the news."""
    tz = deps.config.timezone
    shelf = deps.practice.shelf
    if shelf is None:
        return None
    last = await deps.storage.circulars.last_issue(circular.id)
    since = datetime.fromisoformat(last.until) if last else circular.schedule.previous(period, tz)
    until = max(period, deps.clock())
    news = await deps.storage.circulars.news(since, until)
    # Only briefings that reached enough people are named: a round-up to everyone must not
    # show the title of a briefing sent to three managers.
    latest = {b.briefing_id: b for b in news.briefings}  # a corrected one: its last version
    news = News(
        [b for b in latest.values() if b.reached >= deps.config.min_group_size], news.answered
    )
    notes = list(shelf.notes.values())
    if last is not None:
        added = [n for n in notes if n.id not in last.notes]
        reviewed = [
            n for n in notes if n.id in last.notes and n.reviewed.isoformat() > last.notes[n.id]
        ]
    else:  # the first issue: nothing is "new"; what was reviewed since the last period is
        first: date = since.astimezone(tz).date()
        added = []
        reviewed = [n for n in notes if first < n.reviewed <= until.astimezone(tz).date()]
    # The same released figures as `/brief status` and the results: never a fresh count.
    acks = await deps.storage.disclosure.many_acknowledgements(
        [(b.briefing_id, b.version) for b in news.briefings], deps.clock()
    )
    message = build_circular_message(
        circular, news, added=added, reviewed=reviewed, since=_day(since, deps), acks=acks
    )
    return {
        "message": message,
        "items": items_in(news, added, reviewed),
        "notes": {n.id: n.reviewed.isoformat() for n in notes},
        "since": since,
        "until": until,
    }


async def targets_of(deps: Deps, circular: Circular) -> list[tuple[str, str]]:
    """Where the issue goes: channels posted to, and each person messaged, once each."""
    posting = circular.deliver != "dm"
    resolution = await deps.audiences.resolve(circular.audience, posting=posting)
    in_posted = {
        p for r in resolution.entries if r.entry.kind == "channel" and posting for p in r.people
    }
    targets: list[tuple[str, str]] = []
    for resolved in resolution.entries:
        if resolved.entry.kind == "channel":
            if posting:
                targets.append(("channel", resolved.ref))
            if circular.deliver in ("dm", "both"):
                targets += [("dm", p) for p in resolved.people]
        else:
            skip = in_posted if circular.deliver == "channel" else set()
            targets += [("dm", p) for p in resolved.people if p not in skip]
    return list(dict.fromkeys(targets))


async def send_due(deps: Deps) -> None:
    """The job: each circular whose period has come and has no issue yet gets one."""
    now = deps.clock()
    tz = deps.config.timezone
    gap = await deps.storage.restores.last_gap()
    for circular in (await asyncio.to_thread(load_circulars, deps)).values():
        period = circular.schedule.latest(now, tz)
        if now - period > GRACE or await deps.storage.circulars.has_issue(circular.id, period):
            continue
        issue = await gather(deps, circular, period)
        if issue is None:
            logger.info("circular %s waits for practice search to be ready", circular.id)
            continue
        if gap is not None and gap.holds(period):
            number = await _hold(deps, circular, period, issue, gap)
            logger.warning(
                "circular %s held: due before the restore, not sent (%s)", circular.id, number
            )
        elif issue["items"] == 0:
            note = (
                f"This period's *{escape(circular.title)}* was not sent: there was nothing new "
                f"since {_day(issue['since'], deps)} (no briefings, answers or practice "
                "guidance). It will go next time there is."
            )
            number = await _unsent(deps, circular, period, issue, "skipped", note)
            logger.info("circular %s skipped: nothing new (issue %s)", circular.id, number)
        else:
            try:
                targets = await targets_of(deps, circular)
            except AudienceUnavailable as error:
                logger.warning("circular %s waits: %s", circular.id, str(error).splitlines()[0])
                continue
            number = await deps.storage.circulars.record_issue(
                circular.id,
                period=period,
                status="sent",
                items=issue["items"],
                notes=issue["notes"],
                until=issue["until"],
                title=circular.title,
                message=issue["message"],
                targets=targets,
                published_by=circular.publisher,
                now=now,
            )
            logger.info("circular %s queued: issue %s to %d", circular.id, number, len(targets))
        deps.outbox.wake()


async def _hold(
    deps: Deps, circular: Circular, period: datetime, issue: dict[str, Any], gap: Gap
) -> int | None:
    """A period due before a restore, with no issue in the backup: its issue may have gone out
    after the backup was taken, so it is recorded as held and its publisher told, not sent."""
    tz = deps.config.timezone
    note = (
        f"This period's *{escape(circular.title)}* was due at {format_local(period, tz)}. "
        "Since then the bot has been restored from a backup taken at "
        f"{format_local(gap.taken_at, tz)}, which does not record it as sent. It may have gone "
        "out after that backup was taken, so I have not sent it again. The next one goes as "
        "usual, with what is new from now."
    )
    return await _unsent(deps, circular, period, issue, "held", note)


async def _unsent(
    deps: Deps,
    circular: Circular,
    period: datetime,
    issue: dict[str, Any],
    status: Literal["skipped", "held"],
    note: str,
) -> int | None:
    """Record a period whose issue is not sent, and queue the note saying why to its publisher."""
    return await deps.storage.circulars.record_issue(
        circular.id,
        period=period,
        status=status,
        items=0,
        notes=issue["notes"],
        until=issue["until"],
        title=circular.title,
        message={
            "text": note,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": note}}],
        },
        targets=[("dm", circular.publisher)],
        published_by=circular.publisher,
        now=deps.clock(),
    )


async def preview(deps: Deps, circular_id: str) -> tuple[str, list[dict[str, Any]] | None]:
    """`/brief circular preview <id>`: the next issue as it stands now, privately."""
    circulars = await asyncio.to_thread(load_circulars, deps)
    circular = circulars.get(circular_id)
    if circular is None:
        known = ", ".join(f"`{escape(c)}`" for c in sorted(circulars)) or "none in content/"
        return (
            f"There's no circular called `{escape(circular_id[:64])}` (circulars: {known}).",
            None,
        )
    now = deps.clock()
    issue = await gather(deps, circular, now)
    if issue is None:
        return "Practice search is still starting up; try again in a minute.", None
    head = (
        f"The next *{escape(circular.title)}* ({escape(circular.schedule.text)}), as it stands "
        f"now: {issue['items']} new item(s) since {_day(issue['since'], deps)}."
    )
    if issue["items"] == 0:
        return head + " With nothing new it will be skipped, and you'll be told.", None
    return preview_of(head, issue["message"])


def preview_of(head: str, message: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """The preview's words and blocks: the issue as sent, or, when it is too long for one
    message, the first of the messages it will go as (with room for the preview's own head)."""
    sent_as = len(split_message(message))  # as the outbox will queue it
    shown = split_message(message, budget=MESSAGE_TEXT_BUDGET - PREVIEW_HEAD_ROOM, max_blocks=47)
    if sent_as == 1 and len(shown) == 1:
        return head, message["blocks"]
    more = (
        f" It is too long for one Slack message, so it will go as {max(sent_as, 2)} messages, "
        "one after another; here is how it begins."
    )
    return head + more, shown[0]["blocks"]
