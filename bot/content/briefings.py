"""Briefings: `content/briefings/*.md`, Markdown with YAML front matter.

Briefings are written by senior managers and the engagement lead, reviewed like code, and sent to
hundreds of social workers. A typo in an audience or a wrong answer in a comprehension check is
embarrassing at best and misleading at worst, so every file is checked as a whole and every
problem is reported with its file, line and how to fix it (`line-of-sight content check`).
A file with a problem is never sent, and takes only itself out: the others publish as normal
(`read_briefings`, and bot/content/broken.py for what its publisher is told).
"""

from __future__ import annotations

import difflib
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, cast, get_args
from zoneinfo import ZoneInfo

import yaml

from bot.content.broken import Loaded, read_kind
from bot.content.documents import (
    Context,
    Document,
    Fields,
    Kind,
    Problem,
    file_line,
)
from bot.content.values import (
    AUDIENCE_HELP,
    MAX_VERSION,
    Audience,
    id_problem,
    parse_audience,
    parse_local_time,
)
from bot.slack.mrkdwn import is_linkable_url, links, plain_text

logger = logging.getLogger(__name__)

Deliver = Literal["channel", "dm", "both"]

# Slack limits (see shared/SLACK.md): a header block's text is 150 characters, an option's 75.
MAX_TITLE = 150
MAX_ASK = 150
MAX_OPTION = 75
MIN_QUESTIONS, MAX_QUESTIONS = 1, 5  # 30 seconds on a phone
MIN_OPTIONS, MAX_OPTIONS = 2, 6
MAX_EXPLAIN = 500  # shown after a wrong answer: escaped, it still fits one section
DEFAULT_CLOSES_AFTER = timedelta(days=7)


@dataclass(frozen=True)
class Question:
    """One multiple-choice question in a comprehension check."""

    ask: str
    options: tuple[str, ...]
    answer: str  # exactly one of `options`
    explain: str  # shown after answering, right or wrong: "Here's what the briefing says…"


@dataclass(frozen=True)
class Check:
    """A short comprehension check: did the message land, and what was misunderstood?"""

    closes_after: timedelta
    remind_after: timedelta | None
    questions: tuple[Question, ...]
    clarity: bool = False  # also ask "How clear was this briefing?" (1-5) and for a comment
    mode: CheckMode = "attributed"  # anonymous: results never show who, answers hold no id


@dataclass(frozen=True)
class Briefing:
    """A briefing or circular, ready to send. Built only from a file with no problems."""

    id: str
    title: str
    audience: tuple[Audience, ...]
    deliver: Deliver
    acknowledge: bool
    version: int  # bump it when a change means people must acknowledge again
    publish_at: datetime | None  # aware, in the configured timezone
    summary: str  # plain text, for notifications and screen readers
    body: str  # Markdown; render with bot.slack.mrkdwn.markdown_to_mrkdwn
    check: Check | None
    source: Path
    correction: str | None = None  # what changed: earlier copies are updated in place
    reacknowledge: bool = False  # with a correction: the change matters, acknowledge again
    remind_after: timedelta | None = None  # one reminder to those who have not acknowledged


# ---------------------------------------------------------------------------------------------
# Briefings

_BRIEFING_KEYS = (
    "id",
    "title",
    "audience",
    "deliver",
    "acknowledge",
    "version",
    "publish_at",
    "summary",
    "check",
    "correction",
    "reacknowledge",
    "remind_after",
)
# Slack's context block text limit is 3,000 characters; a correction note is one line.
MAX_CORRECTION = 300
_CHECK_KEYS = ("closes_after", "remind_after", "questions", "clarity", "mode")
CheckMode = Literal["attributed", "anonymous"]
_QUESTION_KEYS = ("ask", "options", "answer", "explain")


def _parse_briefing(doc: Document, ctx: Context, problems: list[Problem]) -> Briefing | None:
    """Validate one briefing's fields; return it only if this file has no problems.

    Each field is checked in the file's own order, so problems are listed as a writer reads."""
    start = len(problems)
    f = Fields(doc, doc.node, doc.data, problems)
    f.unknown(_BRIEFING_KEYS)

    briefing_id = _briefing_id(f)
    title = f.text("title", required=True, limit=MAX_TITLE)
    audience = parse_audience_field(f, ctx)
    deliver = _deliver(f, audience)
    acknowledge = doc.data.get("acknowledge", False)
    if not isinstance(acknowledge, bool):
        f.problem(f.line_of("acknowledge"), f"acknowledge is {acknowledge!r}: use true or false")
    version = _version(f)
    publish_at = _publish_at(f, ctx.tz)
    summary = f.text("summary")
    check = _check(doc, f)
    correction = f.text("correction", limit=MAX_CORRECTION)
    reacknowledge = _reacknowledge(f, acknowledge)
    if correction is not None and version == 1:
        f.problem(
            f.line_of("correction"),
            "correction: needs a version above 1: raise version: so the copies already sent "
            "are updated",
        )
    remind_after = f.duration("remind_after")
    if remind_after is not None and acknowledge is not True:
        f.problem(
            f.line_of("remind_after"),
            "remind_after reminds those who have not acknowledged: add acknowledge: true, or "
            "remove remind_after",
        )

    body = doc.body.strip()
    if not body:
        f.problem(doc.body_line, "the briefing has no body: write the message after the '---' line")
    _check_links(doc, problems)

    if len(problems) > start or briefing_id is None or title is None or audience is None:
        return None
    briefing = Briefing(
        id=briefing_id,
        title=title,
        audience=audience,
        deliver=cast(Deliver, deliver),
        acknowledge=acknowledge,
        version=version,
        publish_at=publish_at,
        summary=summary or first_paragraph(body),
        body=body,
        check=check,
        source=doc.path,
        correction=correction,
        reacknowledge=reacknowledge is True,
        remind_after=remind_after,
    )
    return briefing if _fits_one_message(briefing, doc, ctx, problems) else None


def _fits_one_message(
    briefing: Briefing, doc: Document, ctx: Context, problems: list[Problem]
) -> bool:
    """Slack refuses a message with more than about 12,000 characters of text in its blocks
    (`msg_blocks_too_long`), for every recipient alike: the message as built is measured, and a
    briefing that cannot be sent whole is a problem here, not a failure for each copy later."""
    from bot.briefing_message import too_long_by, too_long_problem  # they build a `Briefing`

    over = too_long_by(briefing, ctx.tz)
    if over:
        problems.append(Problem(doc.path, doc.body_line, too_long_problem(over)))
    return not over


def _briefing_id(f: Fields) -> str | None:
    """The briefing's id: required, and a shape that is safe in a button and a file name."""
    briefing_id = f.text("id", required=True)
    if briefing_id is not None:
        problem = id_problem(briefing_id)
        if problem is not None:
            f.problem(f.line_of("id"), problem)
    return briefing_id


def _deliver(f: Fields, audience: tuple[Audience, ...] | None) -> Any:
    """How it goes out (channel, dm, both): a channel post needs a channel in the audience."""
    deliver = f.data.get("deliver", "channel")
    if deliver not in get_args(Deliver):
        f.problem(
            f.line_of("deliver"),
            f"deliver is {deliver!r}: use channel (post in the channels), dm (message each "
            "person) or both",
        )
    elif (
        deliver in ("channel", "both")
        and audience
        and not any(a.kind == "channel" for a in audience)
    ):
        f.problem(
            f.line_of("deliver"),
            f"deliver: {deliver} needs a channel in the audience: add one (e.g. "
            "'#social-work-all') or use deliver: dm",
        )
    return deliver


def _version(f: Fields) -> Any:
    """The version: a whole number; raising it updates the copies already sent."""
    version = f.data.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= MAX_VERSION:
        f.problem(
            f.line_of("version"),
            f"version is {version!r}: use a whole number from 1 to {MAX_VERSION:,}",
        )
    return version


def _publish_at(f: Fields, tz: ZoneInfo) -> datetime | None:
    """When to publish, as local time: a date alone is not enough."""
    raw_publish = f.data.get("publish_at")
    if raw_publish is None:
        return None
    if not isinstance(raw_publish, str | datetime):
        what = "only a date" if isinstance(raw_publish, date) else repr(raw_publish)
        f.problem(
            f.line_of("publish_at"),
            f"publish_at is {what}: write a date and time, e.g. 2026-12-01 09:00",
        )
        return None
    try:
        return parse_local_time(raw_publish, tz)
    except ValueError as e:
        f.problem(f.line_of("publish_at"), f"publish_at {e}")
        return None


def _reacknowledge(f: Fields, acknowledge: object) -> Any:
    """Asking again for acknowledgement needs a correction saying what changed, and an
    acknowledgement to ask for."""
    reacknowledge = f.data.get("reacknowledge", False)
    if not isinstance(reacknowledge, bool):
        f.problem(
            f.line_of("reacknowledge"), f"reacknowledge is {reacknowledge!r}: use true or false"
        )
    elif reacknowledge and "correction" not in f.data:
        f.problem(
            f.line_of("reacknowledge"),
            "reacknowledge: true needs a correction: note saying what changed (or remove it)",
        )
    elif reacknowledge and acknowledge is False:
        f.problem(
            f.line_of("reacknowledge"),
            "reacknowledge: true needs acknowledge: true (nobody is asked to acknowledge)",
        )
    return reacknowledge


def parse_audience_field(f: Fields, ctx: Context) -> tuple[Audience, ...] | None:
    if "audience" not in f.data:
        f.problem(f.line, 'audience is missing: add e.g. audience: ["#social-work-all"]')
        return None
    node, value = f.values["audience"], f.data["audience"]
    line = f.line_of("audience")
    if value is None or value == []:
        f.problem(
            line,
            'audience is empty: list who gets it, e.g. audience: ["#social-work-all"] (in YAML an '
            "unquoted # starts a comment, so use quotes)",
        )
        return None
    if not isinstance(value, list) or not isinstance(node, yaml.SequenceNode):
        f.problem(line, f'audience must be a list, e.g. audience: ["{value}"]')
        return None
    entries: list[Audience] = []
    seen: set[str] = set()
    ok = True
    for item_node, item in zip(node.value, value, strict=True):
        item_line = file_line(item_node)
        if item is None:
            f.problem(
                item_line,
                "audience entry is empty: in YAML an unquoted # starts a comment, so write "
                "'#channel-name' in quotes",
            )
            ok = False
            continue
        if not isinstance(item, str):
            f.problem(item_line, f"audience entry {item!r} {AUDIENCE_HELP}")
            ok = False
            continue
        try:
            entry = parse_audience(item.strip())
        except ValueError as e:
            f.problem(item_line, str(e))
            ok = False
            continue
        if entry.raw in seen:
            f.problem(item_line, f"audience lists {entry.raw!r} twice: remove one")
        seen.add(entry.raw)
        if entry.kind != "named":
            if all(e.raw != entry.raw for e in entries):  # a named audience may hold it already
                entries.append(entry)
            continue
        members = ctx.audiences.get(entry.ref)
        if members is None:
            known = ", ".join(sorted(ctx.audiences)) or "none yet"
            f.problem(
                item_line,
                f"there is no audience called {entry.raw!r} in audiences.yaml (named audiences: "
                f"{known}): define it there, or if you meant the channel write '#{entry.raw}'",
            )
            ok = False
            continue
        # A named audience stands for its entries; one already listed is not listed twice.
        entries += [m for m in members if m.raw not in {e.raw for e in entries}]
    return tuple(entries) if ok else None


def _check(doc: Document, parent: Fields) -> Check | None:
    if "check" not in doc.data or doc.data["check"] is None:
        return None
    node, value = parent.values["check"], doc.data["check"]
    if not isinstance(value, dict) or not isinstance(node, yaml.MappingNode):
        parent.problem(
            parent.line_of("check"),
            "check must be 'key: value' lines (closes_after, remind_after, questions), indented "
            "under check:",
        )
        return None
    f = Fields(doc, node, value, parent.problems, "check.")
    f.unknown(_CHECK_KEYS)
    closes_after = f.duration("closes_after") if "closes_after" in value else DEFAULT_CLOSES_AFTER
    remind_after = f.duration("remind_after")
    if closes_after and remind_after and remind_after >= closes_after:
        f.problem(
            f.line_of("remind_after"),
            "check.remind_after must be shorter than check.closes_after, or the reminder would "
            "come after the check has closed",
        )

    clarity = value.get("clarity", False)
    if not isinstance(clarity, bool):
        f.problem(f.line_of("clarity"), f"check.clarity is {clarity!r}: use true or false")
    mode = value.get("mode", "attributed")
    if mode not in get_args(CheckMode):
        f.problem(
            f.line_of("mode"),
            f"check.mode is {mode!r}: use attributed (results can show who) or anonymous",
        )

    questions: list[Question] = []
    q_node, q_value = f.values.get("questions"), value.get("questions")
    if q_value is None:
        f.problem(f.line, "check.questions is missing: add at least one question, or remove check")
    elif not isinstance(q_value, list) or not isinstance(q_node, yaml.SequenceNode):
        f.problem(f.line_of("questions"), "check.questions must be a list of '- ask: …' items")
    elif not MIN_QUESTIONS <= len(q_value) <= MAX_QUESTIONS:
        f.problem(
            f.line_of("questions"),
            f"check has {len(q_value)} questions: use {MIN_QUESTIONS} to {MAX_QUESTIONS} "
            "(three is plenty on a phone)",
        )
    else:
        for n, (item_node, item) in enumerate(zip(q_node.value, q_value, strict=True), 1):
            question = _question(doc, f, n, item_node, item)
            if question:
                questions.append(question)
    if closes_after is None or (q_value and len(questions) != len(q_value)) or not questions:
        return None
    if not isinstance(clarity, bool) or mode not in get_args(CheckMode):
        return None
    return Check(closes_after, remind_after, tuple(questions), clarity, cast(CheckMode, mode))


def _question(
    doc: Document, parent: Fields, n: int, node: yaml.Node, value: Any
) -> Question | None:
    where = f"question {n} "
    if not isinstance(value, dict) or not isinstance(node, yaml.MappingNode):
        parent.problem(
            file_line(node), f"{where}must be 'ask:', 'options:', 'answer:' and 'explain:' lines"
        )
        return None
    f = Fields(doc, node, value, parent.problems, where)
    f.unknown(_QUESTION_KEYS)
    ask = f.text("ask", required=True, limit=MAX_ASK)
    explain = f.text("explain", required=True, limit=MAX_EXPLAIN)
    answer = f.text("answer", required=True, limit=MAX_OPTION)

    options: list[str] = []
    o_node, o_value = f.values.get("options"), value.get("options")
    if o_value is None:
        f.problem(f.line, f'{where}options is missing: add e.g. options: ["Yes", "No"]')
        return None
    if not isinstance(o_value, list) or not isinstance(o_node, yaml.SequenceNode):
        f.problem(f.line_of("options"), f'{where}options must be a list, e.g. ["Yes", "No"]')
        return None
    if not MIN_OPTIONS <= len(o_value) <= MAX_OPTIONS:
        f.problem(
            f.line_of("options"),
            f"{where}has {len(o_value)} options: give {MIN_OPTIONS} to {MAX_OPTIONS}",
        )
    ok = True
    for n_option, (item_node, item) in enumerate(zip(o_node.value, o_value, strict=True), 1):
        text = f.check_text(item, file_line(item_node), f"{where}option {n_option}", MAX_OPTION)
        if text is None:
            ok = False
        elif text in options:
            f.problem(file_line(item_node), f"{where}lists the option {text!r} twice: remove one")
            ok = False
        else:
            options.append(text)
    if ok and answer is not None and answer not in options:
        close = difflib.get_close_matches(answer, options, n=1)
        hint = f" — did you mean {close[0]!r}?" if close else ""
        f.problem(
            f.line_of("answer"),
            f"{where}answer {answer!r} is not one of its options: copy it exactly{hint}",
        )
        return None
    if not ok or ask is None or explain is None or answer is None:
        return None
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        return None
    return Question(ask, tuple(options), answer, explain)


def _check_links(doc: Document, problems: list[Problem]) -> None:
    """Flag links Slack cannot open; they would be shown as text."""
    for offset, url in links(doc.body):
        if not is_linkable_url(url):
            problems.append(
                Problem(
                    doc.path,
                    doc.body_line + offset,
                    f"link to {url!r} cannot be opened from Slack: use a full https:// "
                    "address (or mailto:)",
                )
            )


def first_paragraph(body: str) -> str:
    """The first paragraph of the body as plain text, skipping headings and code."""
    for paragraph in re.split(r"\n\s*\n", body):
        stripped = paragraph.strip()
        if stripped and not stripped.startswith(("#", "```", "~~~")):
            return plain_text(stripped)
    return plain_text(body).split("\n", 1)[0]


BRIEFINGS: Kind[Briefing] = Kind("briefings", "briefing", _parse_briefing, lambda b: b.id)


def read_briefings(content_dir: Path, tz: ZoneInfo) -> Loaded[Briefing]:
    """The briefings ready to publish, by id, and each file left out for its problems: one
    broken file takes only itself out."""
    return read_kind(content_dir, BRIEFINGS, tz)


def load_briefings(content_dir: Path, tz: ZoneInfo) -> dict[str, Briefing]:
    """The briefings ready to publish, by id. A file with problems is left out (and logged by
    name): `read_briefings` says which and why, `content check` lists every problem."""
    loaded = read_briefings(content_dir, tz)
    for broken in loaded.broken:
        logger.info(
            "content %s (%s) has %d problem(s), so it is left out; run content check",
            broken.file,
            broken.noun,
            len(broken.problems),
        )
    return loaded.ready
