"""Slack text from Markdown: escaped, so nobody's words become a mention or a disguised link."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.slack.mrkdwn import escape, markdown_to_mrkdwn, plain_text, split_mrkdwn

# A link we generate: <http(s)://…|label> or <mailto:…>, with no <, > or | in the URL.
OUR_LINK = re.compile(r"<(?:https?://|mailto:)[^<>|\s]+(?:\|[^<>|]*)?>", re.IGNORECASE)

# Text that hypothesis should mix in: Slack's control syntax and Markdown's.
TRICKY = st.lists(
    st.sampled_from(
        [
            *"<>&|!@#*_~`[]()\n -:/.aZ1^",
            *("https://", "mailto:", "javascript:", "<!channel>", "<@U123>", "](", "&amp;", "```"),
        ]
    ),
    max_size=80,
).map("".join)
ANY_TEXT = st.one_of(st.text(max_size=200), TRICKY)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a & b", "a &amp; b"),
        ("<!channel>", "&lt;!channel&gt;"),
        ("<@U123>", "&lt;@U123&gt;"),
        ("<https://evil|innocent>", "&lt;https://evil|innocent&gt;"),
        ("&lt;", "&amp;lt;"),
    ],
)
def test_escape_neutralises_slack_control_characters(text: str, expected: str) -> None:
    assert escape(text) == expected


@pytest.mark.parametrize(
    ("md", "expected"),
    [
        ("**bold** and __bold__", "*bold* and *bold*"),
        ("*italic* and _italic_", "_italic_ and _italic_"),
        ("~~gone~~", "~gone~"),
        ("a file_name_here stays", "a file_name_here stays"),
        ("`x < y && z`", "`x &lt; y &amp;&amp; z`"),
        ("```python\nif a < b:\n    pass\n```", "```\nif a &lt; b:\n    pass\n```"),
        ("# The **new** money", "*The new money*"),
        ("- one\n* two\n+ three", "• one\n• two\n• three"),
        ("1. first\n2. second", "1. first\n2. second"),
        ("> a quote\n> continues", "> a quote continues"),
        ("a wrapped\nparagraph\n\nnext one", "a wrapped paragraph\n\nnext one"),
        ("hard break  \nhere", "hard break\nhere"),
        ("[the report](https://gov.uk/r?a=1&b=2)", "<https://gov.uk/r?a=1&amp;b=2|the report>"),
        ("[write to us](mailto:team@example.org)", "<mailto:team@example.org|write to us>"),
        ("[a|b>c](https://x.org)", "<https://x.org|a¦b&gt;c>"),
        ("[x](https://x.org/a|b>c)", "<https://x.org/a%7Cb%3Ec|x>"),
        ("[click](javascript:alert)", "click (javascript:alert)"),
        ("[form](file://server/form.docx)", "form (file://server/form.docx)"),
        ("see https://www.gov.uk today", "see https://www.gov.uk today"),
        ("<https://www.gov.uk>", "https://www.gov.uk"),
        ("tell <!channel> and <@U123>", "tell &lt;!channel&gt; and &lt;@U123&gt;"),
        ("<!-- note to authors -->Visible", "Visible"),
        ("5 > 3 & 2 < 4", "5 &gt; 3 &amp; 2 &lt; 4"),
    ],
)
def test_markdown_to_mrkdwn(md: str, expected: str) -> None:
    assert markdown_to_mrkdwn(md) == expected


def test_quote_marker_is_not_escaped_but_quoted_text_is() -> None:
    assert markdown_to_mrkdwn("> <b> & co") == "> &lt;b&gt; &amp; co"


@pytest.mark.parametrize(
    ("md", "expected"),
    [
        ("# Title\n\n**Bold** and _it_ and `code`", "Title\n\nBold and it and code"),
        ("[the report](https://gov.uk) & <more>", "the report & <more>"),
        ("- one\n- two", "• one\n• two"),
        ("> quoted\n> text", "quoted text"),
        ("```\nx = 1\n```", "x = 1"),
    ],
)
def test_plain_text_strips_markdown_without_escaping(md: str, expected: str) -> None:
    assert plain_text(md) == expected


def test_split_prefers_paragraph_then_line_then_word() -> None:
    para = " ".join(["word"] * 10)  # 49 characters
    text = f"{para}\n\n{para}\nlast line here\n\n{para} {para}"

    assert split_mrkdwn(text, 60) == [
        para,  # cut at the paragraph break
        para,  # no paragraph break fits: cut at the line break
        "last line here",  # the last paragraph break that fits, even though the chunk is short
        " ".join(["word"] * 12),  # 59 characters: cut at the last space that fits
        " ".join(["word"] * 8),
    ]


def test_split_never_cuts_an_entity_or_a_link() -> None:
    text = "a" * 8 + " &amp; <https://x.org|a link> tail"

    chunks = split_mrkdwn(text, 12)

    assert all(len(c) <= 12 or OUR_LINK.fullmatch(c) for c in chunks)
    assert "&amp;" in chunks
    assert any(c.startswith("<https://x.org|a link>"[:12]) for c in chunks)


def test_split_keeps_a_link_whole_when_it_fits() -> None:
    text = "intro text <https://x.org|a link with spaces> after"

    chunks = split_mrkdwn(text, 40)

    assert all(len(c) <= 40 for c in chunks)
    assert any("<https://x.org|a link with spaces>" in c for c in chunks)


def test_split_of_empty_text_is_no_chunks() -> None:
    assert split_mrkdwn("  \n ") == []


# -- properties --------------------------------------------------------------------------------


@given(ANY_TEXT)
def test_escape_leaves_no_angle_brackets(s: str) -> None:
    assert "<" not in escape(s)
    assert ">" not in escape(s)


@given(ANY_TEXT)
def test_mrkdwn_has_no_mentions_and_only_our_links(s: str) -> None:
    out = markdown_to_mrkdwn(s)

    assert "<!" not in out
    assert "<@" not in out
    without_links = OUR_LINK.sub("", out)
    assert "<" not in without_links
    assert ">" not in re.sub(r"(?m)^> ?", "", without_links)  # only quote markers remain
    assert len(OUR_LINK.findall(out)) <= s.count("](")


def _rejoins(text: str, chunks: list[str]) -> bool:
    pos = 0
    for chunk in chunks:
        found = text.find(chunk, pos)
        if found < 0 or text[pos:found].strip():
            return False
        pos = found + len(chunk)
    return not text[pos:].strip()


@given(ANY_TEXT.map(markdown_to_mrkdwn), st.integers(min_value=1, max_value=120))
def test_split_chunks_fit_and_join_back(text: str, limit: int) -> None:
    chunks = split_mrkdwn(text, limit)

    assert all(0 < len(c) <= limit for c in chunks)
    assert _rejoins(text, chunks)


@given(st.lists(st.sampled_from(["word", "&amp;", "<https://x.org|a b>", " ", "\n", "\n\n"])))
def test_split_does_not_cut_entities_or_links_that_fit(parts: list[str]) -> None:
    text = "".join(parts)

    for chunk in split_mrkdwn(text, 25):
        assert not re.search(r"&[a-z]*$", chunk)  # no entity cut off at the end
        assert chunk.count("<") == chunk.count(">")
