"""What `/brief` says about content with problems, in a manager's words: pure builders.

A broken file takes only itself out. Its publisher is told which file, which field and what to
fix (never a server path), and that whoever keeps the files can check them with `content
check`; a misspelt id is offered the close ones; `/brief list` says how many files have
problems.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Literal

from bot.content.broken import Broken
from bot.content.documents import Problem
from bot.slack.mrkdwn import escape, escape_within

MAX_PROBLEMS_SHOWN = 5  # in one reply: `content check` lists them all
MAX_LISTED = 40  # briefings in `/brief list`
MAX_FILES_NAMED = 5  # files with problems named under the list
CLOSE_CUTOFF = 0.6  # difflib's ratio for "did you mean"

Why = Literal["publish", "status", "preview", "scheduled"]

# Where a problem's own words are the file format's, the words a manager would use.
_PLAIN_WORDS = (
    ("front matter is", "the settings at the top of the file are"),
    ("front matter", "the settings at the top of the file"),
)


def plain_problem(problem: Problem, limit: int = 300) -> str:
    """One problem as a line a manager can act on: where in the file, then what to fix."""
    message = problem.message
    for file_words, plain in _PLAIN_WORDS:
        message = message.replace(file_words, plain)
    where = f"Line {problem.line}: " if problem.line else ""
    return where + escape_within(message, limit)


def name_of(broken: Broken) -> str:
    """How a broken file is called in a reply: its title, else its id, else its name."""
    if broken.title:
        return f"*{escape(broken.title)}*"
    return f"`{escape(broken.id or broken.file.removesuffix('.md'))}`"


def build_broken_reply(broken: Broken, *, why: Why = "publish") -> str:
    """What its publisher is told about a briefing (or circular) whose file has problems: the
    file's name, each problem with its line (five at most), who can fix it, and that nothing
    else is held up."""
    name, noun = name_of(broken), broken.noun
    count = len(broken.problems)
    has = "a problem" if count == 1 else f"{count} problems"
    head = {
        "publish": f"{name} can't be published until its file is fixed, so nothing was sent.",
        "status": f"{name} has not been published: its file needs fixing first.",
        "preview": f"The {noun} {name} can't go out until its file is fixed: nothing will be "
        "sent meanwhile.",
        "scheduled": f"{name} was due to go out, but its file now has {has}, so nothing was sent.",
    }[why]
    lines = [head, f"`{escape(broken.file)}` has {has}:"]
    lines += [f"• {plain_problem(p)}" for p in broken.problems[:MAX_PROBLEMS_SHOWN]]
    if count > MAX_PROBLEMS_SHOWN:
        lines.append(f"…and {count - MAX_PROBLEMS_SHOWN} more.")
    lines.append(
        f"Whoever keeps the {noun} files can put this right; with the files to hand, "
        f"`content check` shows every problem and its line. Other {noun}s are not affected."
    )
    if why == "scheduled" and broken.id:
        lines.append(f"Once it is fixed, `/brief publish {escape(broken.id)} now` sends it.")
    return "\n".join(lines)


def build_unknown_briefing(wanted: str, known: Iterable[str]) -> str:
    """A briefing id nobody wrote: say so, offer the close ones, and `/brief list`."""
    wanted = wanted[:64]
    close = difflib.get_close_matches(wanted, sorted(set(known)), n=3, cutoff=CLOSE_CUTOFF)
    text = f"There's no briefing called `{escape(wanted)}`."
    if close:
        text += f" Did you mean {either(close)}?"
    return text + " `/brief list` shows the briefings ready to publish."


def either(ids: Sequence[str]) -> str:
    """`a`, `a` or `b`, `a`, `b` or `c`."""
    quoted = [f"`{escape(i)}`" for i in ids]
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


def build_briefing_list(ready: Sequence[tuple[str, str, bool]], broken: Sequence[Broken]) -> str:
    """`/brief list`: each briefing ready to publish (id, title, written in Slack), then how
    many files have problems and are left out."""
    if not ready and not broken:
        return "There are no briefings in the content folder yet."
    if ready:
        lines = [
            f"• `{escape(i)}` — {escape(title)}" + (" _(written in Slack)_" if composed else "")
            for i, title, composed in ready[:MAX_LISTED]
        ]
        if len(ready) > MAX_LISTED:
            lines.append(f"…and {len(ready) - MAX_LISTED} more.")
        text = "*Briefings ready to publish*\n" + "\n".join(lines)
    else:
        text = "No briefings are ready to publish."
    return text + ("\n" + build_left_out_note(broken) if broken else "")


def build_left_out_note(broken: Sequence[Broken]) -> str:
    """One line under the list: how many files have problems, which, and what to do."""
    files = [f"`{escape(b.file)}`" for b in broken[:MAX_FILES_NAMED]]
    more = f" and {len(broken) - MAX_FILES_NAMED} more" if len(broken) > MAX_FILES_NAMED else ""
    many = (
        "1 file has problems, so it is"
        if len(broken) == 1
        else f"{len(broken)} files have problems, so they are"
    )
    return (
        f"_{many} left out until fixed: {', '.join(files)}{more}. "
        "`/brief publish &lt;id&gt;` on one says what to fix._"
    )
