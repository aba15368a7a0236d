"""The builders of who has not acknowledged, and of `/engage audit`: pure, called directly."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest

from bot.slack.roles import ENGAGEMENT_LEAD, SENIOR_MANAGER, Access, Verdict
from bot.storage.audit import LISTED, REMINDED
from bot.storage.audit import Access as Row
from handlers.audit import SHOWN, build_audit, build_retention_line
from handlers.briefings.waiting import may_list
from handlers.briefings.waiting_blocks import (
    PAGE,
    REMIND_NOW_ACTION,
    WAITING_ACTION,
    WaitingList,
    build_waiting,
    parse_waiting_value,
    waiting_text,
)
from slack_standin.blockkit import validate_message_blocks

LONDON = ZoneInfo("Europe/London")
PEOPLE = tuple(f"U{n:08d}" for n in range(250))


def page(**kw) -> WaitingList:
    defaults = {
        "briefing_id": "threshold-document",
        "version": 2,
        "title": "The revised Threshold Document",
        "people": PEOPLE,
        "as_of": "7 Dec 2026, 10:42",
        "can_remind": True,
    }
    return WaitingList(**{**defaults, **kw})


def rendered(blocks) -> tuple[list[dict], str]:
    dicts = [b.to_dict() for b in blocks]
    assert validate_message_blocks(dicts) == []
    text = "\n".join(
        [b["text"]["text"] for b in dicts if b.get("text")]
        + [e["text"] for b in dicts if b["type"] == "context" for e in b["elements"]]
    )
    return dicts, text


def buttons(dicts) -> dict[str, dict]:
    return {e["action_id"]: e for b in dicts if b["type"] == "actions" for e in b["elements"]}


def test_a_large_list_shows_a_page_of_names_and_says_how_many_are_not_shown():
    dicts, text = rendered(build_waiting(page()))
    assert re.findall(r"<@(U\d+)>", text) == list(PEOPLE[:PAGE])
    assert "*250 not yet*, as of 7 Dec 2026, 10:42" in text
    assert "Showing 1–100 of 250; 150 more not shown." in text
    found = buttons(dicts)
    assert found[WAITING_ACTION]["value"] == "threshold-document:100"
    assert found[WAITING_ACTION]["text"]["text"] == "Next 100"
    confirm = found[REMIND_NOW_ACTION]["confirm"]
    assert confirm["text"]["text"].startswith("Send a reminder to 250 people who haven't")
    assert found[REMIND_NOW_ACTION]["value"] == "threshold-document@2"


def test_the_last_page_has_no_next_and_a_short_list_no_paging():
    dicts, text = rendered(build_waiting(page(offset=200)))
    assert re.findall(r"<@(U\d+)>", text) == list(PEOPLE[200:])
    assert "Showing 201–250 of 250." in text
    assert WAITING_ACTION not in buttons(dicts)
    dicts, text = rendered(build_waiting(page(people=PEOPLE[:3])))
    assert "Showing" not in text
    assert "*3 not yet*" in text


def test_once_the_reminder_went_it_says_when_and_offers_no_second():
    dicts, text = rendered(
        build_waiting(page(people=PEOPLE[:3], can_remind=False, reminded_at="4 Dec 2026, 08:00"))
    )
    assert "Its reminder went on 4 Dec 2026, 08:00" in text
    assert buttons(dicts) == {}


def test_nobody_waiting_is_said_without_any_count_of_who_acknowledged():
    dicts, text = rendered(build_waiting(page(people=())))
    assert text == (
        "Nobody it reached is still to acknowledge *The revised Threshold Document* "
        "(version 2), as of 7 Dec 2026, 10:42."
    )
    assert buttons(dicts) == {}
    assert waiting_text(page(people=())).startswith("Nobody it reached")
    assert (
        waiting_text(page())
        == "Who hasn't acknowledged The revised Threshold Document: 250 not yet."
    )


def test_a_title_is_escaped_and_a_long_one_fits_the_confirmation():
    dicts, text = rendered(build_waiting(page(title="<!channel> & " + "x" * 400)))
    assert "<!channel>" not in text
    assert "&lt;!channel&gt; &amp;" in text
    assert len(buttons(dicts)[REMIND_NOW_ACTION]["confirm"]["text"]["text"]) <= 300


@pytest.mark.parametrize(
    "value", [None, "", "threshold-document", "Threshold:1", "a:b", "x:1234567", "../x:0"]
)
def test_a_list_button_value_we_did_not_make_is_refused(value):
    assert parse_waiting_value(value) is None


def test_a_list_button_value_reads_back():
    assert parse_waiting_value("threshold-document:100") == ("threshold-document", 100)


def test_leads_list_any_briefing_and_senior_managers_only_their_own():
    lead = Verdict(Access.ALLOWED, frozenset({ENGAGEMENT_LEAD}))
    manager = Verdict(Access.ALLOWED, frozenset({SENIOR_MANAGER}))
    assert may_list(lead, "U0EL01", "U0SM01")
    assert may_list(manager, "U0SM01", "U0SM01")
    assert not may_list(manager, "U0SM02", "U0SM01")
    assert not may_list(manager, "U0SM01", None)
    assert not may_list(Verdict(Access.REFUSED), "U0SW01", "U0SW01")


def test_the_audit_lists_newest_first_in_london_time_and_says_when_older_are_kept():
    rows = [
        Row("2026-12-07T10:09:00+00:00", "U0EL01", LISTED, "threshold-document", 2),
        Row("2026-07-01T09:00:00+00:00", "U0SM01", REMINDED, "threshold-document", 2),
        Row("2026-06-30T09:00:00+00:00", "U0EL01", "export", "recruitment-funding", 1),
        Row("2026-06-30T08:00:00+00:00", "U0EL01", "<odd>", None, None),
    ]
    lines = build_audit(rows, LONDON, older=True)
    assert lines[1:] == [
        "• 7 Dec 2026, 10:09 — <@U0EL01> listed who hasn't acknowledged `threshold-document` "
        "(version 2)",
        "• 1 Jul 2026, 10:00 — <@U0SM01> pressed *Send the reminder now* for "
        "`threshold-document` (version 2)",  # summer time
        "• 30 Jun 2026, 10:00 — <@U0EL01> exported the check results of "
        "`recruitment-funding` (version 1)",
        "• 30 Jun 2026, 09:00 — <@U0EL01> &lt;odd&gt;",
        f"_Only the newest {SHOWN} are shown; older entries are kept._",
    ]
    assert build_audit([], LONDON, older=False, briefing_id="x") == [
        "Nothing is recorded for `x` yet: nobody has viewed results or listed who hasn't "
        "acknowledged."
    ]


def test_the_audit_says_what_the_last_purge_deleted_in_counts_only():
    rows = [
        ("2026-12-08T02:30:00+00:00", "run", 15),
        ("2026-12-08T02:30:00+00:00", "check_answers", 12),
        ("2026-12-08T02:30:00+00:00", "questions", 3),
        ("2026-12-07T02:30:00+00:00", "run", 0),
    ]
    assert build_retention_line(rows, LONDON) == (
        "_Retention: the daily purge last ran 8 Dec 2026, 02:30 and deleted 15 records past "
        "their time (check_answers 12, questions 3)._"
    )
    assert build_retention_line([], LONDON) == "_Retention: the daily purge has not run yet._"
