"""Slack text from Markdown: escaped, so nobody's words become a mention or a disguised link."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.slack.mrkdwn import escape, links, markdown_to_mrkdwn, plain_text, split_mrkdwn

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
        # Bold and italic together used to come out mis-nested, as `*_both*_`.
        ("***both***", "_*both*_"),
        ("**bold _and italic_ too**", "*bold _and italic_ too*"),
        ("*italic **and bold** too*", "_italic *and bold* too_"),
        ("__*x*__ and ~~**gone**~~", "*_x_* and ~*gone*~"),
        # Slack cannot nest a marker inside itself, so the inner one is dropped.
        ("**a **b** c**", "*a b c*"),
        ("# A _quiet_ **loud** heading", "*A _quiet_ loud heading*"),
    ],
)
def test_nested_emphasis_nests_properly(md: str, expected: str) -> None:
    assert markdown_to_mrkdwn(md) == expected


@pytest.mark.parametrize(
    ("md", "expected"),
    [
        # Used to be left as raw Markdown.
        (
            "[the standard](https://example.org/wiki/Foo_(bar))",
            "<https://example.org/wiki/Foo_(bar)|the standard>",
        ),
        (
            "See [the guide](https://example.org/a_(b)_c) (and the notes).",
            "See <https://example.org/a_(b)_c|the guide> (and the notes).",
        ),
        ("[form](file://server/Form_(v2).docx)", "form (file://server/Form_(v2).docx)"),
        ('[a](https://x.org "a title")', "<https://x.org|a>"),
        ("[a\nwrapped label](https://x.org)", "<https://x.org|a wrapped label>"),
        ("[**bold** label](https://x.org)", "<https://x.org|bold label>"),
        ("[](https://x.org)", "<https://x.org>"),
        (
            "See [the guide][g].\n\n[g]: https://x.org/?a=1&b=2",
            "See <https://x.org/?a=1&amp;b=2|the guide>.",
        ),
        ("[ref][r]\n\n[r]: slack://open", "ref (slack://open)"),
        ("[relative](forms/referral.docx)", "relative (forms/referral.docx)"),
        ("<team@example.org> and <slack://open>", "team@example.org and slack://open"),
        ("![the new team](https://x.org/team.png)", "the new team (https://x.org/team.png)"),
        ("[![logo](https://x.org/logo.png)](https://x.org)", "<https://x.org|logo>"),
    ],
)
def test_links(md: str, expected: str) -> None:
    assert markdown_to_mrkdwn(md) == expected


@pytest.mark.parametrize(
    ("md", "expected"),
    [
        ("<b>bold</b> & <i>co</i>", "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;i&gt;co&lt;/i&gt;"),
        ("<!channel>\n\nHello", "&lt;!channel&gt;\n\nHello"),
        ("<div>\n**inside**\n</div>", "&lt;div&gt; *inside* &lt;/div&gt;"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("A <!-- note --> B", "A B"),
        ("wrapped\n<!-- note -->\nline", "wrapped line"),
        ("One\n\n<!-- a note\n\nof two paragraphs -->\n\nTwo", "One\n\nTwo"),
        ("One\n\n<!-- a note -->\nTwo", "One\n\nTwo"),
        ("<!-- never closed\n\nText", "&lt;!-- never closed\n\nText"),
        ("`<!-- code -->`", "`&lt;!-- code --&gt;`"),
        ("AT&amp;T &lt;b&gt; &#60;!channel&#62;", "AT&amp;T &lt;b&gt; &lt;!channel&gt;"),
    ],
)
def test_raw_html_is_escaped_and_comments_dropped(md: str, expected: str) -> None:
    assert markdown_to_mrkdwn(md) == expected


@pytest.mark.parametrize(
    ("md", "expected"),
    [
        ("- a\n  - b\n    - c\n- d", "• a\n  • b\n    • c\n• d"),
        ("1. one\n   - sub\n   - sub\n2. two", "1. one\n   • sub\n   • sub\n2. two"),
        ("- mixed\n  1. first\n  2. second", "• mixed\n  1. first\n  2. second"),
        ("3) three\n4) four", "3) three\n4) four"),
        ("- a\n\n  more about a\n- b", "• a\n\n  more about a\n• b"),
        ("- a  \n  hard break", "• a\n  hard break"),
        ("Intro:\n- a\n- b\n\nAfter.", "Intro:\n• a\n• b\n\nAfter."),
        ("- > quoted", "• &gt; quoted"),
        ("> - in a quote\n>\n> > nested", "> • in a quote\n>\n> nested"),
    ],
)
def test_nested_lists_and_quotes(md: str, expected: str) -> None:
    assert markdown_to_mrkdwn(md) == expected


@pytest.mark.parametrize(
    ("md", "expected"),
    [
        ("# Title\nText\n\n---\n\nAfter", "*Title*\nText\n\n———\n\nAfter"),
        ("Line one\\\nline two", "Line one\nline two"),
        ("~~~\n<x> & y\n~~~", "```\n&lt;x&gt; &amp; y\n```"),
        ("Text\n\n    indented <code>", "Text\n\n```\nindented &lt;code&gt;\n```"),
        (
            "| Who | When |\n|---|---|\n| A & B | `<today>` |",
            "Who | When\nA &amp; B | `&lt;today&gt;`",
        ),
    ],
)
def test_other_blocks(md: str, expected: str) -> None:
    assert markdown_to_mrkdwn(md) == expected


@pytest.mark.parametrize(
    ("md", "expected"),
    [
        ("# Title\n\n**Bold** and _it_ and `code`", "Title\n\nBold and it and code"),
        ("[the report](https://gov.uk) & <more>", "the report & <more>"),
        ("- one\n- two", "• one\n• two"),
        ("> quoted\n> text", "quoted text"),
        ("```\nx = 1\n```", "x = 1"),
        ("***both*** and ~~gone~~", "both and gone"),
        ("[the standard](https://example.org/wiki/Foo_(bar))", "the standard"),
        ("![the new team](https://x.org/team.png)", "the new team"),
        ("<!-- note -->Visible <b>", "Visible <b>"),
        ("- a\n  - b", "• a\n  • b"),
    ],
)
def test_plain_text_strips_markdown_without_escaping(md: str, expected: str) -> None:
    assert plain_text(md) == expected


def test_links_gives_each_link_with_its_line_skipping_code() -> None:
    md = "\n".join(
        [
            "First [a](https://a.org) and <slack://open>",  # 0
            "",
            "```",
            "[not a link](file://x)",
            "```",
            "",
            "A paragraph that wraps",  # 6
            "onto [b](forms/b.docx) with ![c](c.png)  ",
            "after a hard break [d](https://example.org/Foo_(bar))",
            "- item [e](javascript:x)",  # 9
            "",
            "[f][ref]",  # 11
            "",
            "[ref]: mailto:team@example.org",
        ]
    )

    assert links(md) == [
        (0, "https://a.org"),
        (0, "slack://open"),
        (7, "forms/b.docx"),
        (7, "c.png"),
        (8, "https://example.org/Foo_(bar)"),
        (9, "javascript:x"),
        (11, "mailto:team@example.org"),
    ]


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
def test_plain_text_and_links_accept_any_text(s: str) -> None:
    plain_text(s)
    assert all(0 <= line <= s.count("\n") + s.count("\r") for line, _ in links(s))


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
    # A link comes from `[text](url)` or a reference definition, `[text]: url`.
    assert len(OUR_LINK.findall(out)) <= s.count("](") + s.count("]:")


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
