"""Briefings' Block Kit and text builders: pure functions, called directly by tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.briefing_message import (
    ACK_ACTION,
    ack_value,
)
from bot.config import Config
from bot.disclosure import Figures
from bot.slack.long_messages import MAX_SECTION_TEXT, pack_lines
from bot.slack.mrkdwn import escape, escape_within
from bot.storage import AckResult
from bot.storage.confirmations import Outcome
from bot.storage.outbox import DM_PREFIX, Plan, PlannedEntry, Prepared
from bot.timefmt import format_local

CONFIRM_ACTION = "briefing_confirm"
CONFIRM_LARGE_ACTION = "briefing_confirm_large"
CANCEL_ACTION = "briefing_cancel_publish"

# A message may hold 50 blocks: header, a correction, context and actions leave 46.
# A Home tab holds 100 blocks; the waiting list takes two a briefing and leaves room for others.
MAX_WAITING_LISTED = 30
MAX_ENTRIES_LISTED = 20  # a confirmation's entries listed one a line; the rest summed up
MAX_ENTRY_SHOWN = 200  # characters of an entry as written (escaped)
# Button values come back from Slack untrusted: accept only the shape we sent, which is the
# shape `content check` allows for ids and versions (one definition in bot.content.values).

HELP = (
    "*Briefings* — one key message, sent to the people who need it.\n"
    "• `/brief` — write a briefing in Slack, see it as staff will, and send it (senior "
    "managers; also *New briefing* on Home)\n"
    "• `/brief help` — this help\n"
    "• `/brief publish &lt;briefing id&gt;` — send a briefing to its audience, or schedule it "
    "for its `publish_at` (senior managers): you see who it reaches first, and confirm; add "
    "`now` to send one that is set for later, or `at 2026-12-02 09:00` to choose the time. "
    "Publishing a raised `version:` with a `correction:` updates the copies already sent\n"
    "• `/brief status &lt;briefing id&gt;` — who it reached and how many have acknowledged "
    "(senior managers and engagement leads)\n"
    "• `/brief waiting &lt;briefing id&gt;` — who has not acknowledged it yet, by name, and its "
    "one reminder sent now (its publisher and engagement leads)\n"
    "• `/brief list` — the briefings ready to publish (senior managers and engagement leads)\n"
    "• `/brief scheduled` — what is set to go out later; `/brief cancel &lt;briefing id&gt;` "
    "stops a scheduled briefing or the rest of one being sent (senior managers)\n"
    "Press *Acknowledge* on a briefing to show you've read it. Your waiting briefings are on "
    "the bot's Home tab."
)


def ack_reply(title: str, result: AckResult, tz: ZoneInfo) -> str:
    """The private answer to an Acknowledge click."""
    if result.new:
        return f"Thanks — you've acknowledged *{escape(title)}*."
    return (
        f"You already acknowledged *{escape(title)}* on "
        f"{format_local(result.acknowledged_at, tz)}. Nothing more to do."
    )


def build_waiting_section(awaiting: list[dict[str, Any]], tz: ZoneInfo) -> list[Block]:
    """Briefings' part of the Home tab: what waits for this person's acknowledgement."""
    if not awaiting:
        return [
            SectionBlock(
                text=MarkdownTextObject(
                    text="You're all caught up: no briefings are waiting for you to acknowledge."
                )
            ),
            _home_hint(),
        ]
    count = len(awaiting)
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*{count} briefing{'s' if count != 1 else ''} waiting for you to acknowledge*"
            )
        )
    ]
    for row in awaiting[:MAX_WAITING_LISTED]:
        where = f"in <#{row['channel_id']}>" if row.get("channel_id") else "to you directly"
        blocks.append(
            SectionBlock(
                block_id=f"briefing:{row['briefing_id']}@{row['version']}",
                text=MarkdownTextObject(
                    text=f"*{escape(row['title'])}*\nSent {where} on "
                    f"{format_local(row['published_at'], tz)}"
                ),
                accessory=ButtonElement(
                    text="Acknowledge",
                    action_id=ACK_ACTION,
                    value=ack_value(row["briefing_id"], row["version"]),
                ),
            )
        )
    if count > MAX_WAITING_LISTED:
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text=f"…and {count - MAX_WAITING_LISTED} more.")]
            )
        )
    blocks.append(_home_hint())
    return blocks


def _home_hint() -> ContextBlock:
    return ContextBlock(
        elements=[
            MarkdownTextObject(
                text="Briefings arrive in your channels. `/brief help` shows what you can do."
            )
        ]
    )


def _where(publication: dict[str, Any]) -> str:
    """Where a publication went: a channel, or direct messages to an audience entry."""
    if publication.get("channel_id"):
        return f"<#{publication['channel_id']}>"
    entry = str(publication.get("audience", "")).removeprefix(DM_PREFIX)
    return f"direct messages to {escape(entry)}"


def build_status(
    posts: list[dict[str, Any]],
    figures: Figures,
    tz: ZoneInfo,
    entries: list[dict[str, Any]] | None = None,
    names: Mapping[str, str] | None = None,
) -> str:
    """A briefing's reach and acknowledgements, as the disclosure layer released them: small
    groups' figures, and any that subtraction or a second look would give away, never shown.
    `names` are the teams' names (content/teams.yaml), by handle."""
    first = posts[0]
    where = ", ".join(_where(p) for p in posts)
    reached = figures.population
    min_group = figures.min_group
    lines = [
        f"*{escape(first['title'])}* (version {first['version']})",
        f"• {'Posted to' if first.get('channel_id') else 'Sent as'} {where}, first on "
        f"{format_local(first['published_at'], tz)}",
    ]
    unknown = [_where(p) for p in posts if not p.get("reach_known", 1)]
    if unknown:
        lines.append(
            f"• I couldn't list the members of {', '.join(unknown)} when it was posted, so "
            "the figures below leave them out."
        )
        if len(unknown) == len(posts):
            return "\n".join([*lines[:2], "• Reach unknown: no channel's members could be listed."])
    if reached == 0:
        lines.append("• It reached nobody: there was no one but bots in its channels.")
    elif not figures.shown:
        lines.append(
            f"• Reached {reached} {'person' if reached == 1 else 'people'}. Acknowledgement "
            f"figures are only shown for groups of {min_group} or more, to protect individuals."
        )
    else:
        acked = figures.total("acknowledged")
        verb = "has" if acked == 1 else "have"
        # Nothing released yet reads as held back, never as "0 of": nobody, and fewer than
        # `min_group` so far, look alike on purpose.
        lines.append(
            f"• Reached {reached:,} people; {acked} of the {reached:,} {verb} acknowledged "
            f"({round(100 * acked / reached)}%)."
            if acked
            else f"• Reached {reached:,} people; acknowledgements are held back until "
            f"{min_group} or more have acknowledged."
        )
        at = figures.as_of()
        steps = f"in steps of at least {min_group} people in each group"
        lines.append(
            f"• As of {format_local(at, tz)}: acknowledgements move {steps}, so the newest "
            "few may not show yet."
            if at
            else f"• None shown yet: acknowledgements appear, and move, {steps}."
        )
    if entries and (len(entries) > 1 or any(e["queued"] for e in entries)):
        lines.append("*By audience entry*")
        lines += [_entry_line(e, figures) for e in entries]
    teams = _team_lines(figures, {_group_of(e) for e in entries or []}, names or {})
    if teams:
        lines += ["*By team*", *teams]
    return "\n".join(lines)


def _group_of(entry: dict[str, Any]) -> str:
    return str(entry.get("audience", "")).removeprefix(DM_PREFIX)


def _team_lines(figures: Figures, entries: set[str], names: Mapping[str, str]) -> list[str]:
    """With the service's teams set (`TEAMS`), the figures' groups are teams, not audience
    entries: each released team's acknowledgements, and the teams held back, named as such."""
    if not figures.shown or not any(g not in entries for g in figures.group_reach):
        return []
    lines = []
    for team in figures.groups:
        acked, size = figures.group(team, "acknowledged"), figures.group_reach[team]
        shown = escape(names.get(team, team))
        lines.append(
            f"• {shown}: reached {size}, {acked} acknowledged ({round(100 * acked / size)}%)"
            if acked
            else f"• {shown}: reached {size}, acknowledgements held back until "
            f"{figures.min_group} or more in the team have acknowledged"
        )
    for team in figures.hidden:
        small = figures.group_reach.get(team, 0) < figures.min_group
        lines.append(
            f"• {escape(names.get(team, team))}: "
            + (
                f"fewer than {figures.min_group}"
                if small
                else "hidden, so that a smaller group's figures stay private"
            )
        )
    return lines


def _entry_line(entry: dict[str, Any], figures: Figures) -> str:
    """One audience entry: its reach and its DMs' progress (deliveries, not anyone's act), and
    its acknowledgements where the disclosure layer released its group."""
    reached = entry["reached"]
    parts = []
    if entry["queued"]:
        parts.append(f"delivered to {reached} of {entry['queued']}")
        if entry["failed"]:
            parts.append(f"{entry['failed']} could not be reached")
        if entry["to_send"]:
            parts.append(f"{entry['to_send']} still to send")
    else:
        parts.append(f"reached {reached}")
    group = _group_of(entry)
    if group not in figures.group_reach:
        pass  # the figures break down by team (`TEAMS`), shown apart
    elif figures.shown and group in figures.groups:
        acked, size = figures.group(group, "acknowledged"), figures.group_reach[group]
        parts.append(
            f"{acked} of its {size} acknowledged ({round(100 * acked / size)}%)"
            if acked
            else f"acknowledgements held back until {figures.min_group} or more of its "
            f"{size} have acknowledged"
        )
    elif figures.shown and len(figures.groups) + len(figures.hidden) <= 1:
        pass  # one entry: its figures are the total's, above
    elif reached and figures.group_reach.get(group, 0) < figures.min_group:
        parts.append(f"figures hidden for groups under {figures.min_group}")
    elif reached:
        parts.append("figures hidden, so that a smaller group's stay private")
    return f"• {_where(entry)}: " + ", ".join(parts)


# -- confirming a publish ----------------------------------------------------------------------


def _people(n: int) -> str:
    return f"{n:,} {'person' if n == 1 else 'people'}"


def duration_text(seconds: int) -> str:
    """3600 → "1 hour", 172800 → "2 days": how a person says it."""
    for unit, size in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{max(1, round(seconds / 60))} minutes"


def build_confirmation(
    plan: Plan,
    token: str,
    *,
    at_text: str | None,
    earlier: tuple[int, int],
    twice_above: int,
) -> list[Block]:
    """What the publisher sees before anything goes out: who, how many per entry, and buttons.

    `earlier` is (DM copies, channel posts) of earlier versions that a correction updates.
    However long the title, correction or audience, the words take as many sections as they
    need, and every number the choice rests on is kept (`_audience_lines` for the entries).
    """
    title = f"*{escape(plan.title)}* (version {plan.version})"
    head = f"Ready to schedule {title} for *{at_text}*." if at_text else f"Ready to send {title}."
    lines = [head, "It goes to:", *_audience_lines(plan.entries)]
    total = len(plan.people)
    lines.append(f"*{_people(total)} in all*; anyone in two entries gets one copy.")
    if skipped := sum(e.skipped for e in plan.entries):
        lines.append(f"{skipped} left out: bots or deactivated accounts.")
    if plan.correction and (copies := sum(earlier)):
        again = (
            "Everyone is asked to acknowledge again."
            if plan.reacknowledge
            else "Acknowledgements already given carry over."
        )
        lines.append(
            f"This corrects what was sent: {copies:,} earlier "
            f"cop{'y is' if copies == 1 else 'ies are'} updated in place to show "
            f"“Updated: {escape(plan.correction)}”. {again}"
        )
    if plan.remind_after_s:
        lines.append(
            f"Anyone who has not acknowledged after {duration_text(plan.remind_after_s)} gets "
            "one reminder, in working hours."
        )
    if total > twice_above:
        lines.append(f"That is more than {twice_above:,} people, so I'll ask you to confirm twice.")
    verb = "Schedule it" if at_text else f"Send to {_people(total)}"
    verb = verb if total or at_text else "Update the copies"
    sections: list[Block] = [
        SectionBlock(
            block_id="confirm:summary" if n == 1 else f"confirm:summary-{n}",
            text=MarkdownTextObject(text=text),
        )
        for n, text in enumerate(pack_lines(lines, MAX_SECTION_TEXT), 1)
    ]
    return [
        *sections,
        ActionsBlock(
            block_id="confirm:actions",
            elements=[
                ButtonElement(text=verb, action_id=CONFIRM_ACTION, value=token, style="primary"),
                ButtonElement(text="Cancel", action_id=CANCEL_ACTION, value=token),
            ],
        ),
    ]


def _audience_lines(entries: Sequence[PlannedEntry]) -> list[str]:
    """A line an entry, up to `MAX_ENTRIES_LISTED`; then one line: how many more, sending what."""
    lines = []
    for entry in entries[:MAX_ENTRIES_LISTED]:
        parts = []
        if entry.post:
            parts.append(f"a post in the channel, seen by {_people(len(entry.members))}")
        if entry.people:
            parts.append(f"a direct message each to {_people(len(entry.people))}")
        if not parts:
            parts.append("nobody more: its members see the channel posts")
        lines.append(f"• {escape_within(entry.raw, MAX_ENTRY_SHOWN)} — {' and '.join(parts)}")
    rest = entries[MAX_ENTRIES_LISTED:]
    if rest:
        posts, dms = sum(1 for e in rest if e.post), len({p for e in rest for p in e.people})
        what = [f"{posts} channel post{'s' if posts != 1 else ''}"] if posts else []
        what += [f"direct messages to {_people(dms)}"] if dms else []
        lines.append(
            f"• …and {len(rest)} more entries: {' and '.join(what) or 'nobody more'} between them"
        )
    return lines


def build_large_confirmation(
    title: str, people: int, token: str, *, twice_above: int, at_text: str | None
) -> list[Block]:
    """The second, explicit confirmation an audience above `twice_above` needs."""
    when = f" at {at_text}" if at_text else ""
    text = (
        f"*{escape(title)}* goes to *{_people(people)}*{when}: more than {twice_above:,}. "
        "Once sent it cannot be recalled, only corrected. Are you sure?"
    )
    return [
        SectionBlock(block_id="confirm:large", text=MarkdownTextObject(text=text)),
        ActionsBlock(
            block_id="confirm:large-actions",
            elements=[
                ButtonElement(
                    text=f"Yes, send to all {people:,}",
                    action_id=CONFIRM_LARGE_ACTION,
                    value=token,
                    style="danger",
                ),
                ButtonElement(text="Cancel", action_id=CANCEL_ACTION, value=token),
            ],
        ),
    ]


def describe_queued(plan: Plan, prepared: Prepared) -> str:
    """What a confirmed publish set going, for the publisher."""
    title = f"*{escape(plan.title)}* (version {plan.version})"
    if prepared.newer is not None:
        return (
            f"Nothing was sent: version {prepared.newer} of *{escape(plan.title)}* has gone "
            f"out since version {plan.version} was prepared. Publish again if need be."
        )
    if prepared.already:
        return (
            f"Version {plan.version} of {title} has gone out already. To send it again, change "
            "the text and raise `version:` in its file."
        )
    parts = []
    if prepared.posts:
        parts.append(f"a post in {prepared.posts} channel{'s' if prepared.posts != 1 else ''}")
    if prepared.dms:
        parts.append(f"a direct message each to {_people(prepared.dms)}")
    if prepared.updates:
        parts.append(
            f"{prepared.updates:,} earlier cop{'y' if prepared.updates == 1 else 'ies'} "
            "updated in place"
        )
    if not parts:
        return f"{title}: there was nobody left to send it to."
    return (
        f"{title} is on its way: {', '.join(parts)}, paced within Slack's limits. A message in "
        f"your DM with me shows how it goes; `/brief status {plan.briefing_id}` shows who has "
        "acknowledged."
    )


def confirmation_reply(
    outcome: Outcome, config: Config, token: str
) -> tuple[str, list[dict[str, Any]] | None, bool]:
    """(text, blocks, replace the confirmation?) for a Confirm or Cancel click."""
    plan = outcome.plan
    at_text = format_local(outcome.at, config.timezone) if outcome.at else None
    if outcome.status == "queued" and plan and outcome.prepared:
        return describe_queued(plan, outcome.prepared), None, True
    if outcome.status == "scheduled" and plan:
        return (
            f"*{escape(plan.title)}* is scheduled for {at_text}. Nothing has been sent yet. "
            f"`/brief scheduled` lists what is waiting; `/brief cancel {plan.briefing_id}` "
            f"stops it; `/brief publish {plan.briefing_id} now` sends it at once.",
            None,
            True,
        )
    if outcome.status == "large" and plan:
        blocks = build_large_confirmation(
            plan.title,
            outcome.people,
            token,
            twice_above=config.confirm_twice_above,
            at_text=at_text,
        )
        return "Please confirm once more.", [b.to_dict() for b in blocks], True
    if outcome.status == "gone_out" and plan and outcome.prepared:
        return describe_queued(plan, outcome.prepared), None, True
    if outcome.status == "gone_out" and plan:
        return (
            f"Version {plan.version} of *{escape(plan.title)}* has gone out already. To send it "
            "again, change the text and raise `version:` in its file.",
            None,
            True,
        )
    texts = {
        "already": "You confirmed this already: nothing more was sent.",
        "cancelled": "Cancelled: nothing was sent. `/brief publish` starts again.",
        "expired": "This confirmation is over 30 minutes old, so nothing was sent: publish "
        "again and I'll count the audience afresh.",
        "not_yours": f"Only <@{outcome.published_by}> can confirm or cancel this publish.",
        "unknown": "I can't find that publish any more, so nothing was sent.",
    }
    replace = outcome.status in ("cancelled", "expired")
    return texts.get(outcome.status, texts["unknown"]), None, replace


def build_reminder_message(
    title: str,
    briefing_id: str,
    version: int,
    sent_at: str,
    channel_id: str | None,
    tz: ZoneInfo,
) -> list[Block]:
    """The one reminder a person gets: what is waiting, where it is, and Acknowledge right here."""
    where = f"It was posted in <#{channel_id}>" if channel_id else "It is in your messages with me"
    text = (
        f":wave: A reminder: *{escape(title)}* is waiting for you to acknowledge it. "
        f"{where} on {format_local(sent_at, tz)}. If you have read it, press Acknowledge."
    )
    return [
        SectionBlock(block_id="reminder", text=MarkdownTextObject(text=text)),
        ActionsBlock(
            block_id=f"ack:{briefing_id}",
            elements=[
                ButtonElement(
                    text="Acknowledge",
                    action_id=ACK_ACTION,
                    value=ack_value(briefing_id, version),
                    style="primary",
                )
            ],
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(text="This is the only reminder you'll get about this briefing.")
            ]
        ),
    ]
