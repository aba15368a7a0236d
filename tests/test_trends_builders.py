"""`/engage trends`' pure parts: the Block Kit it builds from released figures, the ranking of
misunderstood questions, and reading `since`. Fast: no Slack, no database."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.disclosure import ACKS
from bot.storage.check_keys import Check
from bot.storage.publications import SentBriefing
from handlers.checks.trends import (
    LIMIT,
    Since,
    Trend,
    TrendRow,
    build_trends,
    misunderstood,
    parse_since,
)
from slack_standin.blockkit import validate_message_blocks
from tests.released import check_figures, figures

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
QUESTIONS = [
    {"ask": "Who covers Sundays?", "options": ["EDT", "Nobody", "Police"], "answer": "EDT"},
    {"ask": "When does it start?", "options": ["Monday", "Friday"], "answer": "Monday"},
]


def sent(n: int = 1, *, title: str = "Duty changes", acknowledge: bool = True, check=True):
    return SentBriefing(
        f"b{n}",
        1,
        title,
        "U0SM01",
        f"2026-11-{n:02d}T09:00:00+00:00",
        acknowledge,
        1 if check else None,
    )


def check(n: int = 1, title: str = "Duty changes", questions=QUESTIONS) -> Check:
    return Check(f"b{n}", 1, title, questions, False, "attributed", "2026-12-01", None)


def row(n=1, *, population=30, title="Duty changes", questions=QUESTIONS, **measures):
    """A briefing with a check and its figures, released as the layer would."""
    figs = check_figures(population, **measures)
    return TrendRow(sent(n, title=title), figs.acks, check(n, title, questions), figs)


def text_of(blocks) -> str:
    return "\n".join(b.to_dict().get("text", {}).get("text", "") for b in blocks)


def test_a_briefing_line_gives_every_figure_with_its_base():
    r = row(
        acknowledged=20, took=20, first_time=10, retook=10, after_retake=8, q__0__0=10, q__0__1=10
    )
    text = text_of(build_trends(Trend([r], 1, None, 10), LONDON))
    assert "*Duty changes* — sent 1 Nov 2026, 09:00" in text
    assert "Reached *30* people · Acknowledged: *20* of the 30 reached (67%)" in text
    assert "Took the check: *20* of the 30 reached (67%)" in text
    assert "Understood first time: *10* of the 20 who took it (50%)" in text
    assert "After the retake: *8* of the 10 who retook it (80%)" in text
    assert "_As of 7 Dec 2026, 10:00_" in text  # tests/released.py's release time


def test_what_the_layer_holds_back_says_so_and_gives_no_number():
    # 9 acknowledged, 7 took: under a step of ten, so nothing is released.
    r = row(acknowledged=9, took=7, first_time=3)
    text = text_of(build_trends(Trend([r], 1, None, 10), LONDON))
    assert "Acknowledged: held back until 10 or more have acknowledged" in text
    assert "Took the check, understood first time: held back until 10 or more have taken" in text
    assert "*9*" not in text
    assert "*7*" not in text
    assert "_No figures released yet_" in text
    # Taken by enough, but too few retook: the retake is held back.
    r = row(took=12, first_time=6, retook=4, after_retake=4)
    text = text_of(build_trends(Trend([r], 1, None, 10), LONDON))
    assert "After the retake: held back until 10 or more have retaken it" in text


def test_a_small_audience_shows_no_figures_at_all():
    r = row(population=6, acknowledged=6, took=6, first_time=6)
    text = text_of(build_trends(Trend([r], 1, None, 10), LONDON))
    assert "Reached fewer than 10: figures are only shown for groups of 10 or more" in text
    assert "*6*" not in text
    assert "most often misunderstood" in text
    assert "None to show" in text


def test_a_briefing_that_did_not_ask_shows_no_acknowledgement_figure():
    acks = figures(30, (ACKS,), acknowledged=15)
    r = TrendRow(sent(acknowledge=False, check=False), acks, None, None)
    text = text_of(build_trends(Trend([r], 1, None, 10), LONDON))
    assert "Reached *30* people\n" in text
    assert "Acknowledged" not in text
    assert "Took the check" not in text


def test_the_most_misunderstood_rank_by_released_wrong_answers():
    rows = [
        # 6 of 12 wrong on q1 (most chose "Police"), 2 of 12 on q2.
        row(1, took=12, first_time=4, q__0__0=6, q__0__1=2, q__0__2=4, q__1__0=10, q__1__1=2),
        # 6 of 20 wrong on q1: the same count, a smaller share, so after.
        row(2, title="Rota", took=20, first_time=14, q__0__0=14, q__0__1=6, q__1__0=20),
        # Not released (under a step): never ranked.
        row(3, title="Secret", took=5, first_time=0, q__0__1=5),
    ]
    ranked = misunderstood(rows)
    assert [(m.title, m.number, m.wrong, m.answered) for m in ranked] == [
        ("Duty changes", 1, 6, 12),
        ("Rota", 1, 6, 20),
        ("Duty changes", 2, 2, 12),
    ]
    assert ranked[0].misconception == "Police"
    assert ranked[0].misconception_count == 4
    assert len(misunderstood(rows, limit=1)) == 1
    text = text_of(build_trends(Trend(rows, 3, None, 10), LONDON))
    assert (
        "1. “Who covers Sundays?” (question 1 of *Duty changes*): wrong for *6* of the 12 who "
        "answered (50%); most chosen wrong answer: “Police” (4 of 12)" in text
    )
    assert "Secret*):" not in text


def test_twenty_long_briefings_fit_slack_and_everything_is_escaped():
    long_ask = "<!channel> " + "x" * 2900
    questions = [{"ask": long_ask, "options": ["<@U1>", "right"], "answer": "right"}] * 3
    rows = [
        row(
            n,
            title="<!here> & " + "t" * 3000,
            questions=questions,
            acknowledged=30,
            took=30,
            first_time=10,
            q__0__0=20,
            q__0__1=10,
            q__1__0=20,
            q__1__1=10,
            q__2__0=20,
            q__2__1=10,
        )
        for n in range(1, LIMIT + 1)
    ]
    blocks = build_trends(Trend(rows, 500, Since(NOW, "since 1 Nov 2026"), 10), LONDON)
    dicts = [b.to_dict() for b in blocks]
    assert validate_message_blocks(dicts) == []
    assert len(dicts) <= 50
    assert all(len(d.get("text", {}).get("text", "")) <= 3000 for d in dicts)
    text = text_of(blocks)
    assert "<!" not in text
    assert "<@" not in text
    assert "&lt;!here&gt; &amp;" in text
    assert "(the latest 20 of 500:" in text
    assert "briefings sent since 1 Nov 2026, oldest first" in text


def test_nothing_sent_says_so():
    text = text_of(build_trends(Trend([], 0, Since(NOW, "in the last 7 days"), 10), LONDON))
    assert "briefings you published in the last 7 days" not in text
    assert "briefings sent in the last 7 days, oldest first.\nNone went out in that time." in text
    own = text_of(build_trends(Trend([], 0, None, 10), LONDON, own=True))
    assert "briefings you published" in own


def test_since_reads_a_date_or_a_span_and_explains_anything_else():
    assert parse_since([], NOW, LONDON) is None
    found = parse_since(["2026-11-01"], NOW, LONDON)
    assert isinstance(found, Since)
    assert found.at == datetime(2026, 11, 1, tzinfo=UTC)  # London midnight, GMT in November
    assert found.label == "since 1 Nov 2026"
    summer = parse_since(["2026-07-01"], NOW, LONDON)
    assert isinstance(summer, Since)
    assert summer.at == datetime(2026, 6, 30, 23, 0, tzinfo=UTC)  # BST
    found = parse_since(["30D"], NOW, LONDON)
    assert isinstance(found, Since)
    assert found.at == datetime(2026, 10, 24, 9, 0, tzinfo=UTC)
    assert found.label == "in the last 30 days"
    weeks = parse_since(["1w"], NOW, LONDON)
    assert isinstance(weeks, Since)
    assert weeks.label == "in the last 1 week"
    for junk in (["2026-13-01"], ["last-week"], ["30"], ["d"], ["99999d"]):
        message = parse_since(junk, NOW, LONDON)
        assert isinstance(message, str)
        assert message.startswith("I couldn't read"), junk
    assert "is in the future" in str(parse_since(["2026-11-24"], NOW, LONDON))
    # Past midnight in London but not in UTC: London's today is not the future.
    late = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
    assert isinstance(parse_since(["2026-07-01"], late, LONDON), Since)
    extra = parse_since(["30d", "@fostering"], NOW, LONDON)
    assert isinstance(extra, str)
    assert extra.startswith("I don't know `@fostering` after the date.")
