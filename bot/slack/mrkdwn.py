"""Safe Slack mrkdwn from the Markdown that authors write.

Slack treats `&`, `<` and `>` as control characters: `<!channel>`, `<@U…>`, `<!subteam^…>` and
`<https://evil|innocent>` are live mentions and disguised links. Everything here escapes all
author text, so the only `<…>` in our output are links we built ourselves from `[text](url)`
syntax with an http, https or mailto URL; any other link target is shown as text. Raw HTML is
never passed through: comments are dropped and any other tag is shown as escaped text.

Briefings use paragraphs, headings, bold, italic, strike, code spans, fenced code, bullet and
numbered lists, quotes and links. Soft-wrapped lines are joined into one line (authors wrap at 100
columns; phones should reflow), a line ending in two spaces or a backslash keeps its line break,
and a blank line starts a new paragraph. What Slack cannot show is simplified: a table becomes one
plain line per row, an image its alt text and address.
"""

# Markdown is parsed by markdown-it-py: a well-kept CommonMark parser, so nesting, emphasis and
# links behave as authors expect from any other Markdown tool. The renderer is ours: Slack mrkdwn
# is not HTML, and the escaping in it is our security boundary, so it walks markdown-it's tokens
# and escapes every piece of author text itself.

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.tree import SyntaxTreeNode

__all__ = [
    "escape",
    "escape_within",
    "is_linkable_url",
    "links",
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


def escape_within(text: str, limit: int) -> str:
    """`escape(text)`, cut to at most `limit` characters with "…" if it is longer: never in
    the middle of an `&amp;` (escaping can make text five times longer, so cutting first
    would not bound it, and cutting after could leave half an entity)."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    out: list[str] = []
    used = 0
    for char in text:
        piece = escape(char)
        if used + len(piece) > limit - 1:
            break
        out.append(piece)
        used += len(piece)
    return "".join(out) + "…"


# ---------------------------------------------------------------------------------------------
# Parsing


class _Parser(MarkdownIt):
    def validateLink(self, url: str) -> bool:
        # markdown-it drops `javascript:`, `file:` and the like as links, leaving raw Markdown.
        # We want every link parsed, so that we can show it as text and `content check` can
        # name it; which targets become Slack links is decided by `is_linkable_url`.
        return True


def _comment_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """An HTML comment on lines of its own, which may hold blank lines: dropped when rendered.

    Only when nothing follows its `-->`; a comment within a paragraph is an inline token.
    """
    if silent or state.is_code_block(start):
        return False
    pos = state.bMarks[start] + state.tShift[start]
    if not state.src.startswith("<!--", pos, state.eMarks[start]):
        return False
    line, search_from = start, pos + 2  # `<!-->` is a whole (empty) comment
    while line < end:
        if line > start and state.sCount[line] < state.blkIndent and not state.isEmpty(line):
            return False  # the container (a list item, a quote) ended first
        close = state.src.find("-->", search_from, state.eMarks[line])
        if close >= 0:
            if state.src[close + 3 : state.eMarks[line]].strip():
                return False
            state.line = line + 1
            token = state.push("html_comment", "", 0)
            token.map = [start, line + 1]
            return True
        line += 1
        if line < end:
            search_from = state.bMarks[line] + state.tShift[line]
    return False  # never closed: shown as text, where the author will notice


# `html` lets markdown-it recognise inline HTML, so that comments can be dropped and every other
# tag escaped as text. HTML *blocks* are off, so a `<div>` line is an ordinary paragraph, but a
# comment of its own lines (perhaps several paragraphs of notes) is dropped as a block.
_MD = _Parser("commonmark", {"html": True}).enable(["strikethrough", "table"]).disable("html_block")
_MD.block.ruler.before("heading", "html_comment", _comment_block)

_LINKABLE = re.compile(r"(?:https?://|mailto:)[^\s]", re.IGNORECASE)


def is_linkable_url(url: str) -> bool:
    """True for the URLs we turn into Slack links: http, https and mailto only.

    Anything else (`javascript:`, `slack://`, a relative path) is shown as plain text.
    """
    return bool(_LINKABLE.match(url))


def _shown_url(href: str) -> str:
    # markdown-it percent-encodes a link's URL; this is the URL as the author wrote it.
    return _MD.normalizeLinkText(href)


def _escape_url(url: str) -> str:
    # Inside <url|text> a `|` or `>` would end the URL early: percent-encode them (and `<`).
    url = url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")
    return url.replace("&", "&amp;")


def _link_label(text: str) -> str:
    # Slack link text cannot contain `|` (it would start a second label) or a raw `>`, and is
    # one line.
    return escape(" ".join(text.split())).replace("|", "¦")


def links(md: str) -> list[tuple[int, str]]:
    """Every link, autolink and image in `md`: (0-based line within `md`, URL as written).

    Links in code are not links. A code span that wraps onto a new line can leave a later link on
    the same paragraph one line early (markdown-it does not keep the span's line break).
    """
    found: list[tuple[int, str]] = []
    for token in _MD.parse(md):
        if token.type != "inline" or token.map is None or token.children is None:
            continue
        line = token.map[0]
        pending = list(reversed(token.children))
        while pending:
            child = pending.pop()
            if child.type in ("softbreak", "hardbreak"):
                line += 1
            elif child.type == "html_inline":
                line += child.content.count("\n")
            elif child.type == "link_open":
                found.append((line, _shown_url(str(child.attrs.get("href", "")))))
            elif child.type == "image":
                found.append((line, _shown_url(str(child.attrs.get("src", "")))))
                pending.extend(reversed(child.children or []))  # line breaks in the alt text
    return found


# ---------------------------------------------------------------------------------------------
# Rendering: markdown-it's syntax tree to mrkdwn (escaped) or plain text (not escaped)

_MARKERS = {"strong": "*", "em": "_", "s": "~"}


@dataclass(frozen=True)
class _Renderer:
    mode: _Mode
    lines: Sequence[str]  # the source, to see where the author left a blank line

    def text(self, text: str) -> str:
        return escape(text) if self.mode == "mrkdwn" else text

    # -- blocks ---------------------------------------------------------------------------------

    def blocks(self, nodes: Sequence[SyntaxTreeNode], *, quoted: bool, listed: bool) -> str:
        """Render sibling blocks, a blank line between them where the author left one."""
        out = ""
        blank = False
        for node in nodes:
            blank = blank or self.blank_before(node)
            rendered = self.block(node, quoted=quoted, listed=listed)
            if not rendered:
                continue  # a comment, a rule in plain text: its blank line still counts
            if out:
                out += "\n\n" if blank else "\n"
            out += rendered
            blank = False
        return out

    def blank_before(self, node: SyntaxTreeNode) -> bool:
        if node.map is None or node.map[0] == 0:
            return False
        return not self.lines[node.map[0] - 1].strip(" \t>")

    def block(self, node: SyntaxTreeNode, *, quoted: bool, listed: bool) -> str:
        kind = node.type
        if kind == "paragraph":
            return self.inline(node.children).strip()
        if kind == "heading":
            text = self.inline(node.children, heading=True).strip()
            return f"*{text}*" if text and self.mode == "mrkdwn" else text
        if kind in ("bullet_list", "ordered_list"):
            return self.blocks(node.children, quoted=quoted, listed=listed)
        if kind == "list_item":
            return self.list_item(node, quoted=quoted)
        if kind == "blockquote":
            return self.quote(node, quoted=quoted, listed=listed)
        if kind in ("fence", "code_block"):
            code = node.content.removesuffix("\n")
            return f"```\n{escape(code)}\n```" if self.mode == "mrkdwn" else code
        if kind == "hr":
            return "———" if self.mode == "mrkdwn" else ""
        if kind == "table":
            rows = [row for part in node.children for row in part.children]
            return "\n".join(
                " | ".join(self.inline(cell.children).strip() for cell in row.children)
                for row in rows
            )
        if kind == "inline":
            return self.inline([node])
        if kind == "html_comment":
            return ""
        # Nothing else is enabled; should markdown-it grow a block, show it as text.
        if node.children:
            return self.blocks(node.children, quoted=quoted, listed=listed)
        return self.text(node.content.strip())

    def list_item(self, node: SyntaxTreeNode, *, quoted: bool) -> str:
        parent = node.parent
        ordered = parent is not None and parent.type == "ordered_list"
        marker = f"{node.info}{node.markup}" if ordered else "•"
        body = self.blocks(node.children, quoted=quoted, listed=True)
        first, *rest = body.split("\n")
        indent = " " * (len(marker) + 1)  # nested lists and later lines line up under the text
        return "\n".join(
            [f"{marker} {first}".rstrip(), *(f"{indent}{line}" if line else "" for line in rest)]
        )

    def quote(self, node: SyntaxTreeNode, *, quoted: bool, listed: bool) -> str:
        body = self.blocks(node.children, quoted=True, listed=listed)
        if quoted or self.mode == "plain":
            return body  # Slack has no quotes within quotes
        # Slack quotes line by line, and only from the start of a line: this `>` is ours, so it
        # is not escaped. Inside a list it would not start the line, so it is shown as text.
        marker = "&gt;" if listed else ">"
        return "\n".join(f"{marker} {line}".rstrip() for line in body.split("\n"))

    # -- inline ---------------------------------------------------------------------------------

    def inline(
        self,
        nodes: Sequence[SyntaxTreeNode],
        *,
        heading: bool = False,
        open_markers: frozenset[str] = frozenset(),
    ) -> str:
        out = ""
        after_comment = False
        for node in nodes:
            if node.type == "html_inline" and node.content.startswith("<!--"):
                after_comment = True  # a note between authors: dropped
                continue
            piece = self.inline_piece(node, heading=heading, open_markers=open_markers)
            if after_comment and out.endswith((" ", "\n")):
                piece = piece.lstrip(" ")  # no double space where the comment was
            after_comment = False
            out += piece
        return out

    def inline_piece(
        self, node: SyntaxTreeNode, *, heading: bool, open_markers: frozenset[str]
    ) -> str:
        kind = node.type
        if kind == "text":
            return self.text(node.content)
        if kind == "softbreak":
            return " "
        if kind == "hardbreak":
            return "\n"
        if kind == "code_inline":
            return f"`{escape(node.content)}`" if self.mode == "mrkdwn" else node.content
        if kind in _MARKERS:
            return self.emphasis(node, heading=heading, open_markers=open_markers)
        if kind == "link":
            return self.link(node)
        if kind == "image":
            return self.image(node)
        if node.children:  # the inline container itself
            return self.inline(node.children, heading=heading, open_markers=open_markers)
        # Any other tag is shown as typed; so would be anything markdown-it might add.
        return self.text(node.content)

    def emphasis(self, node: SyntaxTreeNode, *, heading: bool, open_markers: frozenset[str]) -> str:
        marker = _MARKERS[node.type]
        inner = self.inline(node.children, heading=heading, open_markers=open_markers | {marker})
        if self.mode == "plain" or not inner or marker in open_markers:
            return inner  # Slack cannot nest a marker in itself: `*a *b* c*` would break
        if heading and marker == "*":
            return inner  # the heading is bold already
        return f"{marker}{inner}{marker}"

    def link(self, node: SyntaxTreeNode) -> str:
        href = str(node.attrs.get("href", ""))
        url = _shown_url(href)
        label = " ".join(_PLAIN.inline(node.children).split())
        if self.mode == "plain":
            return label or url
        if node.markup == "autolink":
            # `<https://…>` becomes a bare URL, which Slack links by itself.
            return escape(label or url)
        if is_linkable_url(url):
            target = _escape_url(href)
            return f"<{target}|{_link_label(label)}>" if label else f"<{target}>"
        # Not a link we allow: show it as text, so a `tel:` number or the like is not lost.
        return escape(f"{label} ({url})" if label and url else (label or url))

    def image(self, node: SyntaxTreeNode) -> str:
        # Slack cannot show an image inside text: its description, and where it is.
        url = _shown_url(str(node.attrs.get("src", "")))
        alt = " ".join(_PLAIN.inline(node.children).split())
        if self.mode == "plain":
            return alt or url
        return escape(f"{alt} ({url})" if alt and url else (alt or url))


_PLAIN = _Renderer("plain", ())  # for link labels and alt text, which are never formatted


def _render(md: str, mode: _Mode) -> str:
    tree = SyntaxTreeNode(_MD.parse(md))
    # markdown-it's line numbers count lines as its own normalisation splits them.
    lines = re.split(r"\r\n|\r|\n", md)
    renderer = _Renderer(mode, lines)
    return renderer.blocks(tree.children, quoted=False, listed=False).strip("\n")


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
