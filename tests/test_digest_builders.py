"""The weekly digest's pure parts: the DM it builds from released figures, within Slack's
limits at its largest, escaped, and saying so when a part has nothing. Fast: no Slack, no
database."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.storage.check_keys import Check
from bot.storage.digests import ClosingCheck
from bot.storage.publications import SentBriefing
from bot.storage.question_rows import Question
from bot.storage.search_gaps import Gap
from handlers.checks.digest import BRIEFINGS, GAPS, QUESTIONS, _schedule
from handlers.checks.digest_blocks import CLOSING, Digest, build_digest
from handlers.checks.trends import Trend, TrendRow
from slack_standin.blockkit import validate_message_blocks
from tests.released import check_figures

LONDON = ZoneInfo("Europe/London")
QUESTIONS_ASKED = [
    {"ask": "Who covers Sundays?", "options": ["EDT", "Nobody"], "answer": "EDT"},
]
SINCE = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
UNTIL = datetime(2026, 11, 9, 9, 0, tzinfo=UTC)
NASTY = "<@U0SW01> & <!channel> " + "x" * 400


def digest(**parts) -> Digest:
    empty = {
        "since": SINCE,
        "until": UNTIL,
        "new_briefings": 0,
        "trend": None,
        "closing": [],
        "questions": [],
        "new_questions": 0,
        "gaps": [],
        "schedule": "every Monday at 09:00",
    }
    return Digest(**{**empty, **parts})


def row(n: int, title: str = "Duty changes", **measures) -> TrendRow:
    figs = check_figures(30, **measures)
    sent = SentBriefing(
        f"b{n}", 1, title, "U0SM01", f"2026-11-0{n % 7 + 2}T09:00:00+00:00", True, 1
    )
    check = Check(f"b{n}", 1, title, QUESTIONS_ASKED, False, "attributed", "2026-12-01", None)
    return TrendRow(sent, figs.acks, check, figs)


def text(message) -> str:
    return "\n".join(
        b["text"]["text"] for b in message["blocks"] if isinstance(b.get("text"), dict)
    ) + "\n".join(e["text"] for b in message["blocks"] for e in b.get("elements", []))


def question(n: int, words: str = "When is the rota online?", votes: int = 3) -> Question:
    return Question(
        n, f"Q-{n:04d}", words, "Caseloads", "surgery", True, "2026-11-03", "accepted", votes
    )


def test_nothing_in_a_part_says_so():
    message = build_digest(digest(gaps=[Gap("rhi", 2, 2, 0, "2026-11-04", None)]), LONDON)
    body = text(message)
    assert validate_message_blocks(message["blocks"]) == []
    assert "*New briefings* since 2 Nov 2026, 09:00\nNone was sent." in body
    assert "None closes in the coming week." in body
    assert "The board has no questions open for votes." in body
    assert "• “rhi” — searched 2 times (2 found nothing)" in body
    assert message["text"] == (
        "Your weekly digest: 0 new briefings, 0 checks closing, 0 new surgery questions, "
        "1 practice gap"
    )


def test_each_briefing_shows_its_released_funnel_with_bases():
    rows = [row(1, acknowledged=20, took=20, first_time=10), row(2, acknowledged=3)]
    trend = Trend(rows, 2, None, 10)
    body = text(build_digest(digest(new_briefings=2, trend=trend), LONDON))
    assert "Reached *30* people · Acknowledged: *20* of the 30 reached (67%)" in body
    assert "*10* of the 20 who took it (50%)" in body
    # Three acknowledgements are under a step: held back, never the number.
    second = body[body.index("*Duty changes* — sent 4 Nov") :]
    assert "Acknowledged: held back until 10 or more have acknowledged" in second
    assert "*3*" not in second


def test_at_its_largest_it_stays_within_slacks_limits_and_escapes_what_people_wrote():
    rows = [row(n, title=NASTY[:150], acknowledged=20) for n in range(BRIEFINGS)]
    closing = [
        ClosingCheck(f"b{n}", 2, NASTY, "anonymous", "2026-11-10T17:00:00+00:00")
        for n in range(CLOSING + 40)
    ]
    gaps = [Gap(NASTY, 9, 5, 4, "2026-11-08", "Q-0001") for _ in range(GAPS)]
    message = build_digest(
        digest(
            new_briefings=57,
            trend=Trend(rows, 57, None, 10),
            closing=closing,
            questions=[question(n, NASTY, votes=n) for n in range(QUESTIONS)],
            new_questions=5,
            gaps=gaps,
        ),
        LONDON,
    )
    assert validate_message_blocks(message["blocks"]) == []
    body = text(message)
    assert "<@U0SW01>" not in body
    assert "<!channel>" not in body
    assert "&lt;@U0SW01&gt; &amp; &lt;!channel&gt;" in body
    assert f"the latest {BRIEFINGS} of 57" in body
    assert "…and 40 more" in body
    assert "*1* vote ·" in body
    assert "*0* votes ·" in body
    assert "searched 9 times (5 found nothing, 4 did not help) · raised as Q-0001" in body


def test_the_schedule_reads_as_it_is_set():
    assert _schedule("every monday 09:00") == "every Monday at 09:00"
    assert _schedule("every friday 16:30") == "every Friday at 16:30"
    assert _schedule("") == "once a week"
