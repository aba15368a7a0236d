"""The Home dashboard's pure parts: the lead's recent briefings as funnels of released figures,
checks closing soon, follow-ups under way, a senior manager's own broadcasts, the queue's
size and the week's practice gaps. Fast: no Slack, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.views import View

from bot.home import build_home_view
from bot.storage.check_keys import Check
from bot.storage.dashboard import FollowUpSent, Progress, SentBroadcast
from bot.storage.publications import SentBriefing
from bot.storage.search_gaps import Gap
from handlers.checks.dashboard_blocks import (
    ATTRIBUTED_NOTE,
    HELD,
    RECENT,
    LeadDashboard,
    build_closing,
    build_follow_ups,
    build_lead_dashboard,
    build_own_broadcasts,
    build_recent,
    funnel_lines,
    time_left,
)
from handlers.checks.results import CHART_ACTION as RESULTS_CHART
from handlers.checks.trends import TrendRow
from handlers.practice.home import build_new_gaps
from handlers.surgery.home import SHOWN, build_lead_queue
from slack_standin.blockkit import validate_view
from tests.released import check_figures

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
QUESTIONS = [{"ask": "Who covers Sundays?", "options": ["EDT", "Nobody"], "answer": "EDT"}]


def sent(n: int = 1, *, acknowledge: bool = True, check: bool = True, title: str = "Duty"):
    return SentBriefing(
        f"b{n}",
        1,
        title,
        "U0SM01",
        f"2026-11-{n:02d}T09:00:00+00:00",
        acknowledge,
        1 if check else None,
    )


def a_check(n: int = 1, closes_at: str = "2026-11-24T12:00:00+00:00") -> Check:
    return Check(f"b{n}", 1, f"Check {n}", QUESTIONS, False, "attributed", closes_at, None)


def row(n: int = 1, *, population: int = 30, check: bool = True, acknowledge: bool = True, **m):
    figs = check_figures(population, **m)
    return TrendRow(
        sent(n, acknowledge=acknowledge, check=check),
        figs.acks,
        a_check(n) if check else None,
        figs if check else None,
    )


def text_of(blocks) -> str:
    out = []
    for b in blocks:
        d = b.to_dict()
        if "text" in d:
            out.append(d["text"]["text"])
        out += [e.get("text", "") for e in d.get("elements", []) if isinstance(e, dict)]
    return "\n".join(out)


def test_a_briefings_funnel_is_bars_of_released_figures_each_with_its_base():
    r = row(acknowledged=20, took=20, first_time=10)
    lines = funnel_lines(r, LONDON)
    assert lines[0] == "*Duty* · `b1` — sent 1 Nov 2026, 09:00"
    assert lines[1:] == [
        "`████████████` Reached: *30* people",
        "`████████░░░░` Acknowledged: *20* of the 30 reached (67%)",
        "`████████░░░░` Took the check: *20* of the 30 reached (67%)",
        "`██████░░░░░░` Understood first time: *10* of the 20 who took it (50%)",
        "_As of 7 Dec 2026, 10:00_",
    ]


def test_what_is_held_back_shows_a_dotted_bar_and_no_number():
    # 9 acknowledged and 7 took: under a step of ten, so nothing of either is released.
    text = "\n".join(funnel_lines(row(acknowledged=9, took=7, first_time=3), LONDON))
    assert f"`{HELD}` Acknowledged: held back until 10 or more have acknowledged" in text
    assert f"`{HELD}` Took the check, understood first time: held back until 10 or more" in text
    for number in ("*9*", "*7*", "*3*", "(0%)", "`░░░░░░░░░░░░`"):
        assert number not in text
    assert "_No figures released yet_" in text


def test_a_small_audience_shows_nothing_and_says_why():
    text = "\n".join(funnel_lines(row(population=4, acknowledged=4, took=4), LONDON))
    assert "Reached fewer than 10: figures are only shown for groups of 10 or more" in text
    assert "*4*" not in text
    assert "Took the check" not in text


def test_a_briefing_without_acknowledgement_or_check_says_only_what_applies():
    text = "\n".join(funnel_lines(row(acknowledge=False, check=False, acknowledged=0), LONDON))
    assert "Acknowledged" not in text
    assert "No check went with it." in text


def test_recent_briefings_are_newest_first_and_say_how_many_were_sent():
    rows = [row(n, acknowledged=10) for n in range(1, RECENT + 1)]  # oldest first, as gathered
    blocks = build_recent(rows, 12, 10, LONDON)
    text = text_of(blocks)
    assert blocks[0].to_dict()["text"]["text"] == "Recent briefings"
    assert "The latest 5 of 12 sent, newest first" in text
    assert text.index("`b5`") < text.index("`b1`")
    assert "`/engage results <briefing id>`" in text
    # The header, a section each with **Chart** beside it, the note.
    assert [b.type for b in blocks] == ["header", *["section"] * RECENT, "context"]
    buttons = [b.to_dict()["accessory"] for b in blocks[1:-1]]
    assert [b["value"] for b in buttons] == ["b5@1", "b4@1", "b3@1", "b2@1", "b1@1"]
    assert {(b["action_id"], b["text"]["text"]) for b in buttons} == {(RESULTS_CHART, "Chart")}
    no_check = build_recent([row(1, check=False, acknowledged=10)], 1, 10, LONDON)
    assert "accessory" not in no_check[1].to_dict()
    assert "No briefing has gone out yet." in text_of(build_recent([], 0, 10, LONDON))


def test_checks_closing_soon_say_when_and_how_long_is_left():
    checks = [a_check(1, "2026-11-23T15:30:00+00:00"), a_check(2, "2026-11-25T09:00:00+00:00")]
    text = text_of(build_closing(checks, 3, NOW, LONDON))
    assert "• *Check 1* · `b1` — closes 23 Nov 2026, 15:30 (in 6 hours)" in text
    assert "• *Check 2* · `b2` — closes 25 Nov 2026, 09:00 (in 2 days)" in text
    assert "…and 1 more in the next 3 days" in text
    assert "None closes in the next 3 days." in text_of(build_closing([], 0, NOW, LONDON))


def test_time_left_rounds_down_and_never_says_zero():
    assert time_left(NOW, "2026-11-23T09:00:30+00:00") == "in under a minute"
    assert time_left(NOW, "2026-11-23T09:01:59+00:00") == "in 1 minute"
    assert time_left(NOW, "2026-11-24T08:59:00+00:00") == "in 23 hours"


def test_an_anonymous_follow_up_shows_its_delivery_and_an_attributed_one_no_count():
    anonymous = FollowUpSent(
        "b1",
        1,
        "Duty",
        "2",
        "2026-11-22T10:00:00+00:00",
        True,
        "sending",
        Progress(sent=120, failed=2, waiting=278, cancelled=0),
    )
    attributed = FollowUpSent(
        "b2", 1, "Rota", "none", "2026-11-21T10:00:00+00:00", False, None, None
    )
    blocks = build_follow_ups([anonymous, attributed], LONDON)
    text = text_of(blocks)
    assert (
        "• 22 Nov 2026, 10:00: a clarification of question 2 of *Duty*, to everyone reached: "
        "`████░░░░░░░░` 120 of 400 delivered, 2 could not be reached; 278 still to go" in text
    )
    assert "• 21 Nov 2026, 10:00: a nudge about *Rota*, to those yet to take it\n" in text + "\n"
    assert ATTRIBUTED_NOTE in text
    only_anonymous = text_of(build_follow_ups([anonymous], LONDON))
    assert ATTRIBUTED_NOTE not in only_anonymous
    assert "None sent in the last 7 days." in text_of(build_follow_ups([], LONDON))


def test_a_senior_managers_broadcasts_show_delivered_of_all_and_failures():
    done = SentBroadcast(
        "b1",
        1,
        "Duty",
        "done",
        "2026-11-20T09:00:00+00:00",
        "2026-11-20T09:05:00+00:00",
        None,
        Progress(sent=398, failed=2, waiting=0, cancelled=0),
    )
    stopped = SentBroadcast(
        "b2",
        1,
        "Rota",
        "cancelled",
        "2026-11-21T09:00:00+00:00",
        None,
        2,
        Progress(sent=10, failed=0, waiting=0, cancelled=30),
    )
    text = text_of(build_own_broadcasts([done, stopped], LONDON))
    assert "Your latest broadcasts" in text
    assert (
        "*Duty* — sent 20 Nov 2026, 09:00\n`████████████` 398 of 400 delivered, 2 could not "
        "be reached; finished 20 Nov 2026, 09:05" in text
    )
    assert "10 of 40 delivered; cancelled part-way: version 2 corrects it" in text
    assert build_own_broadcasts([], LONDON) == []


def test_the_queue_says_how_many_wait_and_where_the_rest_are():
    assert "none waiting" in text_of(build_lead_queue([], 0))
    queue = build_lead_queue([], 3)  # built by review_blocks.build_queue, kept as it is
    assert queue == []
    more = build_lead_queue([], SHOWN + 7)
    assert "…and 7 more waiting: `/engage queue` lists them" in text_of(more)


def test_new_gaps_give_the_words_the_searches_and_a_button_to_raise_them():
    gaps = [
        Gap("rhi timescales", 4, 3, 1, "2026-11-22", None),
        Gap("<!channel> leaving care", 1, 1, 0, "2026-11-21", "Q-7KMP"),
    ]
    blocks = build_new_gaps(gaps, date(2026, 11, 17), "surgery")
    text = text_of(blocks)
    assert "*New practice gaps* (searched for since 17 November 2026)" in text
    assert "“rhi timescales” — 4 searches" in text
    assert "“&lt;!channel&gt; leaving care” — 1 search, raised as *Q-7KMP*" in text
    buttons = [b.to_dict().get("accessory") for b in blocks]
    assert [b["text"]["text"] for b in buttons if b] == ["Raise at the surgery"]
    assert "None: every search found something" in text_of(build_new_gaps([], date.today(), None))


def test_the_whole_dashboard_fits_home_and_slack_accepts_it():
    rows = [
        row(n, acknowledged=20, took=20, first_time=10, q__0__0=10, q__0__1=10)
        for n in range(1, RECENT + 1)
    ]
    follow_ups = [
        FollowUpSent("b1", 1, "Duty", "none", "2026-11-22T10:00:00+00:00", False, None, None)
    ] * 5
    dashboard = LeadDashboard(rows, 500, [a_check(n) for n in range(5)], 9, follow_ups, 10, NOW)
    blocks = build_lead_dashboard(dashboard, LONDON)
    assert len(blocks) == 2 + RECENT + 2 + 3
    view: View = build_home_view([blocks], contact="the service desk")
    assert validate_view(view.to_dict()) == []
    # A figure held back is never in the view as a number.
    held = build_lead_dashboard(
        LeadDashboard([row(1, acknowledged=9, took=7)], 1, [], 0, [], 10, NOW), LONDON
    )
    assert "*9*" not in text_of(held)
