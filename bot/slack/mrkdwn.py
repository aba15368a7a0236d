"""Safe Slack mrkdwn from the Markdown that authors write.

Slack treats `&`, `<` and `>` as control characters: `<!channel>`, `<@U…>`, `<!subteam^…>` and
`<https://evil|innocent>` are live mentions and disguised links. Everything here escapes first, so
the only `<…>` in our output are links we built ourselves from `[text](https://…)` syntax.

Only the subset of Markdown that briefings use is supported: paragraphs, headings, bold, italic,
strike, code spans, fenced code, bullet and numbered lists, quotes and links. Soft-wrapped lines
are joined into one line (authors wrap at 100 columns; phones should reflow), a line ending in two
spaces or a backslash keeps its line break, and a blank line starts a new paragraph.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "LINK_PATTERN",
    "escape",
    "is_linkable_url",
    "markdown_to_mrkdwn",
    "plain_text",
    "split_mrkdwn",
]

_Mode = Literal["mrkdwn", "plain"]


def escape(text: str) -> str:
    """Escape Slack's control characters so user text can never become a mention or link.

    `&` goes first, or the `&` of `&lt;` would be escaped again.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---------------------------------------------------------------------------------------------
# Inline formatting

# \x00-\x04 are our own placeholders and bold markers; they are removed from input first so that
# author text can never forge one.
_CONTROL = re.compile(r"[\x00-\x04]")
_PLACEHOLDER = re.compile(r"\x02(\d+)\x03")
_BOLD_MARK = "\x04"

_CODE_SPAN = re.compile(r"(`+)(?P<code>[^`\n](?:.*?[^`\n])?)\1(?!`)")
LINK_PATTERN = re.compile(
    r"\[(?P<text>[^\[\]\n\x02\x03]*)\]\((?P<url>[^()\s\x02\x03]*)(?:[ \t]+\"[^\"\n]*\")?\)"
)
"""A Markdown inline link, `[text](url)` with an optional `"title"`."""
_AUTOLINK = re.compile(r"<(?P<url>(?:https?://|mailto:)[^\s<>]+)>", re.IGNORECASE)
_LINKABLE = re.compile(r"(?:https?://|mailto:)[^\s]", re.IGNORECASE)

_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)")
_ITALIC = re.compile(
    r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])|(?<!\w)_(?=[^\s_])(.+?)(?<=[^\s_])_(?!\w)"
)
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def is_linkable_url(url: str) -> bool:
    """True for the URLs we turn into Slack links: http, https and mailto only.

    Anything else (`javascript:`, `slack://`, a relative path) is shown as plain text.
    """
    return bool(_LINKABLE.match(url))


def _escape_url(url: str) -> str:
    # Inside <url|text> a `|` or `>` would end the URL early: percent-encode them (and `<`).
    url = url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")
    return url.replace("&", "&amp;")


def _link_label(text: str) -> str:
    # Slack link text cannot contain `|` (it would start a second label) or a raw `>`.
    return escape(_inline(text, "plain")).replace("|", "¦")


def _inline(text: str, mode: _Mode, *, in_heading: bool = False) -> str:
    """Render one block's inline Markdown; escaped for mrkdwn, plain for `plain`."""
    text = _CONTROL.sub("", text)
    stash: list[str] = []

    def keep(rendered: str) -> str:
        stash.append(rendered)
        return f"\x02{len(stash) - 1}\x03"

    def code(m: re.Match[str]) -> str:
        body = m["code"].strip() or m["code"]
        return keep(f"`{escape(body)}`" if mode == "mrkdwn" else body)

    def link(m: re.Match[str]) -> str:
        label, url = m["text"].strip(), m["url"]
        if mode == "plain":
            return keep(_inline(label, "plain") if label else url)
        if is_linkable_url(url):
            return keep(
                f"<{_escape_url(url)}|{_link_label(label)}>" if label else f"<{_escape_url(url)}>"
            )
        # Not a link we allow: show it as text, so a `tel:` number or the like is not lost.
        shown = f"{_inline(label, 'plain')} ({url})" if label and url else (label or url)
        return keep(escape(shown))

    def autolink(m: re.Match[str]) -> str:
        # `<https://…>` becomes a bare URL, which Slack links by itself.
        return keep(escape(m["url"]) if mode == "mrkdwn" else m["url"])

    text = _CODE_SPAN.sub(code, text)
    text = LINK_PATTERN.sub(link, text)
    text = _AUTOLINK.sub(autolink, text)
    if mode == "mrkdwn":
        text = escape(text)
    text = _BOLD.sub(lambda m: f"{_BOLD_MARK}{m[1] or m[2]}{_BOLD_MARK}", text)
    if mode == "mrkdwn":
        text = _ITALIC.sub(lambda m: f"_{m[1] or m[2]}_", text)
        text = _STRIKE.sub(lambda m: f"~{m[1]}~", text)
        text = text.replace(_BOLD_MARK, "" if in_heading else "*")
    else:
        text = _ITALIC.sub(lambda m: m[1] or m[2], text)
        text = _STRIKE.sub(lambda m: m[1], text)
        text = text.replace(_BOLD_MARK, "")
    return _PLACEHOLDER.sub(lambda m: stash[int(m[1])], text)


# ---------------------------------------------------------------------------------------------
# Blocks

_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})")
_HEADING = re.compile(r"^ {0,3}#{1,6}(?:[ \t]+(?P<text>.*?))?(?:[ \t]+#+)?[ \t]*$")
_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_BULLET = re.compile(r"^(?P<indent>[ \t]*)[-*+][ \t]+(?P<text>.*)$")
_NUMBER = re.compile(r"^(?P<indent>[ \t]*)(?P<marker>\d{1,9}[.)])[ \t]+(?P<text>.*)$")
_QUOTE = re.compile(r"^ {0,3}>[ \t]?(?P<text>.*)$")

_Kind = Literal["para", "heading", "bullet", "number", "quote", "code", "rule", "blank"]


@dataclass
class _Block:
    kind: _Kind
    text: str = ""
    indent: str = ""
    marker: str = ""


def _blocks(md: str) -> Iterator[_Block]:
    """Split Markdown into blocks, joining soft-wrapped lines into their block."""
    lines = _HTML_COMMENT.sub("", md.replace("\r\n", "\n").replace("\r", "\n")).split("\n")
    current: _Block | None = None
    hard_break = False
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if (fence := _FENCE.match(line)) is not None:
            if current:
                yield current
                current = None
            marker = fence["fence"]
            code: list[str] = []
            while i < len(lines) and not lines[i].strip().startswith(marker):
                code.append(lines[i])
                i += 1
            i += 1  # the closing fence (an unclosed fence runs to the end)
            yield _Block("code", "\n".join(code))
            continue
        if not line.strip():
            if current:
                yield current
                current = None
            yield _Block("blank")
            continue
        if (m := _HEADING.match(line)) is not None:
            block = _Block("heading", (m["text"] or "").strip())
        elif _RULE.match(line):
            block = _Block("rule")
        elif (m := _BULLET.match(line)) is not None:
            block = _Block("bullet", m["text"].strip(), m["indent"])
        elif (m := _NUMBER.match(line)) is not None:
            block = _Block("number", m["text"].strip(), m["indent"], m["marker"])
        elif (m := _QUOTE.match(line)) is not None:
            inner = m["text"].lstrip("> \t")
            if current and current.kind == "quote" and current.text and inner.strip():
                current.text += ("\n" if hard_break else " ") + _strip_break(inner)
                hard_break = _has_hard_break(inner)
                continue
            block = _Block("quote", _strip_break(inner))
            hard_break = _has_hard_break(inner)
        elif current and current.kind in ("para", "bullet", "number", "quote"):
            current.text += ("\n" if hard_break else " ") + _strip_break(line.strip())
            hard_break = _has_hard_break(line)
            continue
        else:
            block = _Block("para", _strip_break(line.strip()))
            hard_break = _has_hard_break(line)
            if current:
                yield current
            current = block
            continue
        if block.kind in ("bullet", "number"):
            hard_break = _has_hard_break(line)
            block.text = _strip_break(block.text)
        if current:
            yield current
            current = None
        if block.kind in ("heading", "rule"):
            yield block
        else:
            current = block
    if current:
        yield current


def _has_hard_break(line: str) -> bool:
    return line.endswith("  ") or line.rstrip().endswith("\\")


def _strip_break(text: str) -> str:
    text = text.rstrip()
    return text[:-1].rstrip() if text.endswith("\\") else text


def _render(md: str, mode: _Mode) -> str:
    out: list[str] = []
    for block in _blocks(md):
        if block.kind == "blank":
            if out and out[-1] != "":
                out.append("")
            continue
        if block.kind == "code":
            out.append(f"```\n{escape(block.text)}\n```" if mode == "mrkdwn" else block.text)
        elif block.kind == "rule":
            if mode == "mrkdwn":
                out.append("———")
        elif block.kind == "heading":
            text = _inline(block.text, mode, in_heading=True)
            if text.strip():
                out.append(f"*{text}*" if mode == "mrkdwn" else text)
        elif block.kind == "bullet":
            out.append(f"{block.indent}• {_inline(block.text, mode)}")
        elif block.kind == "number":
            out.append(f"{block.indent}{block.marker} {_inline(block.text, mode)}")
        elif block.kind == "quote":
            text = _inline(block.text, mode)
            if mode == "mrkdwn":
                # Slack quotes line by line; this `>` is ours, so it is not escaped.
                out.append("\n".join(f"> {part}".rstrip() for part in text.split("\n")))
            else:
                out.append(text)
        else:
            out.append(_inline(block.text, mode))
    return "\n".join(out).strip("\n")


def markdown_to_mrkdwn(md: str) -> str:
    """Convert an author's Markdown into Slack mrkdwn that is safe to post.

    All text is escaped; the only `<…>` in the result are `<https://…|text>` links made from
    `[text](url)` with an http, https or mailto URL. Other link targets are shown as text.
    """
    return _render(md, "mrkdwn")


def plain_text(md: str) -> str:
    """Strip Markdown to plain text for a notification `text` fallback or a screen reader.

    Not escaped: call `escape()` before putting the result anywhere Slack parses mrkdwn
    (including a message's top-level `text`).
    """
    return _render(md, "plain")


# ---------------------------------------------------------------------------------------------
# Splitting

# Spans a cut must not fall inside: a link we built, or an entity such as `&amp;`.
_UNSPLITTABLE = re.compile(r"<[^<>]*>|&(?:[A-Za-z]+|#\d+);")
_BOUNDARIES = ("\n\n", "\n", " ")


def split_mrkdwn(text: str, limit: int = 3000) -> list[str]:
    """Split mrkdwn into chunks of at most `limit` characters, one per section block.

    Cuts prefer a paragraph break, then a line break, then a space, and never fall inside an
    `&amp;`-style entity or a `<…|…>` link. Whitespace at each cut is dropped, so chunks are exact
    substrings of `text` and join back to it modulo that whitespace. Empty text gives no chunks
    (Slack rejects an empty section).
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    chunks: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = _cut_point(rest, limit)
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        chunks.append(rest)
    return chunks


def _cut_point(text: str, limit: int) -> int:
    """Where to cut `text` (longer than `limit`) so that text[:cut] fits and is not empty."""
    spans = [m.span() for m in _UNSPLITTABLE.finditer(text, 0, limit + 16_000)]

    def safe(pos: int) -> bool:
        return not any(start < pos < end for start, end in spans)

    # The last paragraph break that fits wins, even if it leaves a short chunk: a short
    # section reads better than a paragraph cut in half.
    for boundary in _BOUNDARIES:
        pos = text.rfind(boundary, 0, limit + 1)
        while pos > 0:
            if safe(pos):
                return pos
            pos = text.rfind(boundary, 0, pos)
    for pos in range(limit, 0, -1):
        if safe(pos):
            return pos
    # A single link longer than the limit: it has to be cut somewhere.
    return limit
