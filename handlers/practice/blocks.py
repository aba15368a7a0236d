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
    ConfirmObject,
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

from bot.asking import ask_button
from bot.content.directory import DirectoryEntry
from bot.content.notes import PracticeNote
from bot.practice.library import Found
from bot.practice.search import MAX_QUERY, Hit
from bot.slack.mrkdwn import escape, escape_within, markdown_to_mrkdwn, split_mrkdwn
from bot.storage.search_gaps import Gap

SEARCH_CALLBACK = "practice_search"
NOTE_CALLBACK = "practice_note"
OPEN_SEARCH_ACTION = "practice_open_search"  # Home's "Search practice"
OPEN_NOTE_ACTION = "practice_open_note"
HELPED_ACTION = "practice_helped"
NOT_HELPED_ACTION = "practice_not_helped"
RAISE_ACTION = "practice_raise_gap"
DISMISS_ACTION = "practice_dismiss_gap"
QUERY_BLOCK, QUERY_ACTION = "practice_query", "query"
FEEDBACK_BLOCK = "practice_feedback"
ASK_BLOCK = "practice_ask"

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
    """The strong matches (title, the passage that matched, owner, review date) and who can
    help, then what only "might help" (it holds less than half of what was asked), and "Did
    this help?" — or, with nothing found, what is here and a button to ask the surgery.

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
    notes = [(h, n) for h, n in found.notes if h.strong]
    helpers = [(h, e) for h, e in found.helpers if h.strong]
    if notes:
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=f"*Practice guidance for “{query}”*"))
        )
    blocks += [b for hit, note in notes for b in build_note_result(hit, note, due)]
    if helpers:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="*Who can help*")))
        blocks += [build_helper(entry, due, channels) for _, entry in helpers]
    blocks += build_might_help(found, due, channels)
    if feedback is not None:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=feedback)]))
    else:
        blocks += build_feedback(found)
    return blocks


MIGHT_HELP = "*Might help*"
ONLY_SOME = "These match only some of your words: check they fit before you rely on them."


def build_might_help(
    found: Found, due: Due, channels: Mapping[str, str] | None = None
) -> list[Block]:
    """The weak matches under "Might help"; when nothing matched strongly, the surgery too."""
    notes = [(h, n) for h, n in found.notes if not h.strong]
    helpers = [(h, e) for h, e in found.helpers if not h.strong]
    if not notes and not helpers:
        return []
    query = escape_within(found.query, 200)
    heading = MIGHT_HELP if found.sure else f"{MIGHT_HELP}: nothing matched “{query}” closely"
    blocks: list[Block] = [
        SectionBlock(block_id="might-help", text=MarkdownTextObject(text=heading)),
        ContextBlock(elements=[MarkdownTextObject(text=ONLY_SOME)]),
    ]
    blocks += [b for hit, note in notes for b in build_note_result(hit, note, due)]
    blocks += [build_helper(entry, due, channels) for _, entry in helpers]
    if not found.sure:
        blocks.append(build_ask_surgery(found.query, "Not what you need?"))
    return blocks


def build_note_result(hit: Hit, note: PracticeNote, due: Due) -> list[Block]:
    """One note found: its title, the passage that matched, Open, and who keeps it."""
    text = f"*{escape_within(note.title, 200)}*\n{hit.passage}"
    return [
        SectionBlock(
            block_id=f"note:{note.id}",
            text=MarkdownTextObject(text=text[:3000]),
            accessory=ButtonElement(text="Open", action_id=OPEN_NOTE_ACTION, value=note.id),
        ),
        ContextBlock(elements=[MarkdownTextObject(text=_reviewed(note, due))]),
    ]


def build_feedback(found: Found) -> list[Block]:
    """ "Did this help?": Yes or No, each carrying the search and the notes shown."""
    value = feedback_value(found.query, found)
    return [
        ActionsBlock(
            block_id=FEEDBACK_BLOCK,
            elements=[
                ButtonElement(text="Yes, it helped", action_id=HELPED_ACTION, value=value),
                ButtonElement(text="No", action_id=NOT_HELPED_ACTION, value=value),
            ],
        ),
        ContextBlock(elements=[MarkdownTextObject(text="Did this help?")]),
    ]


def build_ask_surgery(query: str, lead_in: str) -> SectionBlock:
    """ "Ask the surgery", the search's words already in the question (bot/asking.py)."""
    return SectionBlock(
        block_id=ASK_BLOCK,
        text=MarkdownTextObject(
            text=f"{lead_in} Ask the staff surgery: your search starts the question, and you "
            "can edit it and choose to ask anonymously before it goes."
        ),
        accessory=ask_button(query),
    )


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
        "Or ask your team manager. We keep a count of searches that find nothing (the words "
        "only, never who searched), so the guidance can grow where it is missing."
    )
    return [
        SectionBlock(text=MarkdownTextObject(text="\n".join(lines))),
        build_ask_surgery(query, "Still stuck?"),
    ]


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
                "never who searched. Dismiss one that isn't a gap: it is not counted again."
            )
        )
    ]
    for gap in gaps:
        parts = []
        if gap.no_match:
            parts.append(f"{gap.no_match} found nothing")
        if gap.weak:
            parts.append(f"{gap.weak} found only what might help")
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
        blocks.append(build_dismiss(gap.query))
    return blocks[:50]


def build_dismiss(query: str) -> ActionsBlock:
    """A lead's "Not a gap": the gap goes, and the same words are never counted again."""
    return ActionsBlock(
        elements=[
            ButtonElement(
                text="Dismiss: not a gap",
                action_id=DISMISS_ACTION,
                value=query[:2000],
                confirm=ConfirmObject(
                    title="Dismiss this gap?",
                    text=f"“{escape_within(query, 200)}” goes from the gaps, and searches for "
                    "the same words are not counted again.",
                    confirm="Dismiss",
                    deny="Keep it",
                ),
            )
        ]
    )


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
