"""Practice search's Block Kit: results (in a message or the search modal), a whole note in a
modal, the gaps list for engagement leads, Home's section.

Pure functions over `bot.practice.library.Found`, `PracticeNote`, `DirectoryEntry` and
`bot.storage.search_gaps.Gap`, called by tests. Every piece of text from content or from a
person is escaped for mrkdwn where it is shown.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.content.directory import DirectoryEntry
from bot.content.notes import PracticeNote
from bot.practice.library import Found
from bot.practice.search import MAX_QUERY
from bot.slack.mrkdwn import escape, escape_within, markdown_to_mrkdwn, split_mrkdwn
from bot.storage.search_gaps import Gap

SEARCH_CALLBACK = "practice_search"
NOTE_CALLBACK = "practice_note"
OPEN_SEARCH_ACTION = "practice_open_search"  # Home's "Search practice"
OPEN_NOTE_ACTION = "practice_open_note"
HELPED_ACTION = "practice_helped"
NOT_HELPED_ACTION = "practice_not_helped"
RAISE_ACTION = "practice_raise_gap"
QUERY_BLOCK, QUERY_ACTION = "practice_query", "query"
FEEDBACK_BLOCK = "practice_feedback"

DUE = "⚠️ *Due for review*"
EXAMPLE = "return home interview"
Due = Callable[[date], bool]


def long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


MAX_VALUE = 2000  # Slack's limit on a button's value


def feedback_value(query: str, found: Found) -> str:
    """What a "Did this help?" button carries: the query and the notes it showed (Slack holds
    it; nothing is kept until the person answers), cut to fit a button's value."""
    ids = [note.id for _, note in found.notes]
    words = query[:MAX_QUERY]
    while True:
        value = json.dumps({"q": words, "n": ids}, ensure_ascii=False)
        if len(value) <= MAX_VALUE:
            return value
        words = words[: len(words) - max(1, (len(value) - MAX_VALUE) // 2)]


def read_feedback(value: str) -> tuple[str, list[str]] | None:
    """A button's value back, or None if it is not one of ours."""
    try:
        data = json.loads(value)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("q"), str):
        return None
    ids = data.get("n")
    listed = ids[:3] if isinstance(ids, list) else []
    return data["q"][:MAX_QUERY], [str(i)[:64] for i in listed]


def _reviewed(note: PracticeNote, due: Due) -> str:
    line = f"{escape(note.owner)} · reviewed {long_date(note.reviewed)}"
    return f"{DUE} · {line}" if due(note.reviewed) else line


def build_results(
    found: Found,
    due: Due,
    *,
    topics: Sequence[str] = (),
    feedback: str | None = None,
    channels: Mapping[str, str] | None = None,
) -> list[Block]:
    """The best notes (title, the passage that matched, owner, review date), who can help, and
    "Did this help?" — or, with nothing found, what is here and where else to ask.

    `feedback` replaces the buttons once the person has answered them."""
    query = escape_within(found.query, 200)
    blocks: list[Block] = []
    if found.cut:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"Your search was long, so I used its first {MAX_QUERY} characters."
                    )
                ]
            )
        )
    if found.empty:
        return blocks + build_nothing_found(found.query, topics)
    if found.notes:
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=f"*Practice guidance for “{query}”*"))
        )
    for hit, note in found.notes:
        text = f"*{escape_within(note.title, 200)}*\n{hit.passage}"
        blocks.append(
            SectionBlock(
                block_id=f"note:{note.id}",
                text=MarkdownTextObject(text=text[:3000]),
                accessory=ButtonElement(text="Open", action_id=OPEN_NOTE_ACTION, value=note.id),
            )
        )
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=_reviewed(note, due))]))
    if found.helpers:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="*Who can help*")))
        for _, entry in found.helpers:
            blocks.append(build_helper(entry, due, channels))
    if feedback is not None:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=feedback)]))
    else:
        value = feedback_value(found.query, found)
        blocks.append(
            ActionsBlock(
                block_id=FEEDBACK_BLOCK,
                elements=[
                    ButtonElement(text="Yes, it helped", action_id=HELPED_ACTION, value=value),
                    ButtonElement(text="No", action_id=NOT_HELPED_ACTION, value=value),
                ],
            )
        )
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="Did this help?")]))
    return blocks


def build_helper(
    entry: DirectoryEntry, due: Due, channels: Mapping[str, str] | None = None
) -> SectionBlock:
    """One directory entry: who, what they help with, and how to reach them. A channel Slack
    knows (`channels`, name to id) is a link to it."""
    ways = []
    if entry.channel:
        known = (channels or {}).get(entry.channel.lstrip("#"))
        ways.append(f"<#{known}>" if known else escape(entry.channel))
    ways += [escape(way) for way in (entry.usergroup, entry.phone, entry.email) if way is not None]
    if entry.link:
        ways.append(f"<{escape(entry.link)}|web>")
    lines = [
        f"*{escape_within(entry.name, 200)}* — {escape_within(', '.join(entry.helps_with), 600)}",
        " · ".join(ways),
    ]
    if entry.hours:
        lines.append(f"_{escape(entry.hours)}_")
    checked = f"details checked {long_date(entry.verified)}"
    lines.append(f"{DUE} · {checked}" if due(entry.verified) else checked)
    return SectionBlock(
        block_id=f"helper:{entry.id}", text=MarkdownTextObject(text="\n".join(lines))
    )


def build_nothing_found(query: str, topics: Sequence[str]) -> list[Block]:
    """Never a dead end: what the library holds, and the surgery for what it does not."""
    lines = [f"I couldn't find practice guidance for “{escape_within(query, 200)}”."]
    if topics:
        lines.append("Try other words, or one of these: " + "; ".join(escape(t) for t in topics))
    lines.append(
        "Still stuck? Ask at the monthly staff surgery or the Practice Advisory Group with "
        "`/ask`, or ask your team manager. We keep a count of searches that find nothing "
        "(the words only, never who searched), so the guidance can grow where it is missing."
    )
    return [SectionBlock(text=MarkdownTextObject(text="\n".join(lines)))]


def build_help() -> str:
    return (
        "*Practice search* — practice standards, the Threshold Document and who can help\n"
        f"• `/practice <what you're looking for>`, e.g. `/practice {EXAMPLE}`\n"
        "• `/practice` on its own opens a search box; so does *Search practice* on my Home tab\n"
        "Abbreviations work both ways: `CSE` finds child sexual exploitation, and back."
    )


def build_search_view(
    results: list[Block] | None = None, *, query: str = "", error: str | None = None
) -> View:
    # No private_metadata: the buttons carry what they need, and a long query in non-Latin
    # script could pass its 3,000 characters.
    """The search modal: a box, and the results of the last search under it."""
    blocks: list[Block] = [
        InputBlock(
            block_id=QUERY_BLOCK,
            label="What are you looking for?",
            element=PlainTextInputElement(
                action_id=QUERY_ACTION,
                placeholder=f"e.g. {EXAMPLE}",
                initial_value=query[:MAX_QUERY] or None,
                max_length=MAX_QUERY,
            ),
            hint=PlainTextObject(text="Words or abbreviations: CSE, LADO, PLO, IRO…"),
        )
    ]
    if error:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=escape(error))))
    if results:
        blocks.append(DividerBlock())
        blocks += results
    return View(
        type="modal",
        callback_id=SEARCH_CALLBACK,
        title="Practice search",
        submit="Search",
        close="Close",
        blocks=blocks[:100],
    )


def build_note_view(note: PracticeNote, due: Due) -> View:
    """A whole note: its title, currency, the guidance, and where the full document is."""
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=note.title[:150]))]
    if due(note.reviewed):
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"{DUE}: last reviewed {long_date(note.reviewed)}. It may be out of "
                    f"date: check with {escape(note.owner)} before you rely on it."
                )
            )
        )
    about = [f"Owner: {escape(note.owner)}", f"reviewed {long_date(note.reviewed)}"]
    if note.applies_to:
        about.append(f"for {escape(note.applies_to)}")
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=" · ".join(about))]))
    room = 100 - len(blocks) - 1
    chunks = split_mrkdwn(markdown_to_mrkdwn(note.body))
    shown = chunks[:room]  # the one left is for the line after
    for chunk in shown:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=chunk)))
    link = f"<{escape(note.source)}|the full document>" if note.source else None
    if len(shown) < len(chunks):
        where = f"Read the rest in {link}." if link else f"Ask {escape(note.owner)} for the rest."
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=f"_This note is longer than Slack shows. {where}_")
            )
        )
    elif link:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"Read {link}.")]))
    return View(
        type="modal",
        callback_id=NOTE_CALLBACK,
        title="Practice note",
        close="Close",
        blocks=blocks,
    )


FORUM_NAMES = {"surgery": "the surgery", "pag": "the Practice Advisory Group"}


def build_gaps(gaps: Sequence[Gap], *, days: int, helped: int, forum: str | None) -> list[Block]:
    """What staff looked for and did not find, most searched first, each with a way to put it
    to the surgery or the Practice Advisory Group (`forum`, None when neither is running)."""
    if not gaps:
        return [
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"No gaps in the last {days} days: every search found something, and "
                    f"nobody said it didn't help. {helped} said a search helped."
                )
            )
        ]
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*Searches that found nothing, or didn't help* (last {days} days, most "
                f"searched first; {helped} said a search helped). Only the words are kept, "
                "never who searched."
            )
        )
    ]
    for gap in gaps:
        parts = []
        if gap.no_match:
            parts.append(f"{gap.no_match} found nothing")
        if gap.unhelpful:
            parts.append(f"{gap.unhelpful} didn't help")
        text = (
            f"*“{escape_within(gap.query, 300)}”* — {gap.count} search"
            f"{'es' if gap.count != 1 else ''} ({', '.join(parts)}), last "
            f"{long_date(date.fromisoformat(gap.last_day))}"
        )
        accessory: Any = None
        if gap.raised_as:
            text += f"\nRaised as *{escape(gap.raised_as)}*: on the question board."
        elif forum is not None:
            label = "Raise at the PAG" if forum == "pag" else "Raise at the surgery"
            accessory = ButtonElement(text=label, action_id=RAISE_ACTION, value=gap.query[:2000])
        else:
            text += (
                "\nNeither the surgery nor the Practice Advisory Group is taking questions in "
                "the bot now: raise it at the next meeting."
            )
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text[:3000]), accessory=accessory))
    return blocks[:50]


def gap_question(gap: Gap | None, query: str) -> str:
    """The surgery question a gap becomes: what staff looked for, and the ask."""
    times = f" ({gap.count} searches)" if gap is not None and gap.count > 1 else ""
    return (
        f"Staff searched the practice guidance for “{query}” and didn't find what they "
        f"needed{times}. Can the guidance cover this, and who can help meanwhile?"
    )


def build_home_section() -> list[Block]:
    return [
        SectionBlock(
            text=MarkdownTextObject(
                text="*Practice advice*\nPractice standards, the Threshold Document and who "
                "can help, in seconds. Or type `/practice` and what you're looking for."
            ),
            accessory=ButtonElement(
                text="Search practice", action_id=OPEN_SEARCH_ACTION, value="search"
            ),
        )
    ]
