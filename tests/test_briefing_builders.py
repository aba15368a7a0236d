"""Block Kit and text builders, called directly: no Slack, no database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_sdk.models.blocks import ActionsBlock, HeaderBlock, SectionBlock

from bot import disclosure
from bot.briefing_message import ack_value, build_briefing_message, parse_ack_value
from bot.content import load_briefings
from bot.content.values import id_problem
from bot.home import build_home_view
from handlers.briefings.blocks import HELP, build_status, build_waiting_section
from slack_standin import validate_message_blocks, validate_view

LONDON = ZoneInfo("Europe/London")
REPO = Path(__file__).resolve().parents[1]
POSTS = [
    {
        "title": "Caseloads & you",
        "version": 2,
        "channel_id": "C1",
        "published_at": "2026-06-01T08:00:00+00:00",
    }
]


def released(reached: int, acked: int, min_group: int = 10):
    """Acknowledgement figures for one group, as the disclosure layer releases them at once."""
    state = disclosure.State()
    live = disclosure.Live({frozenset(): reached}, {frozenset(): {"acknowledged": acked}})
    disclosure.advance(state, live, (disclosure.ACKS,), min_group, "2026-06-02T08:00:00+00:00")
    return disclosure.figures(state, live, min_group)


@pytest.mark.parametrize(
    ("reached", "acked", "expected"),
    [
        # One or three acknowledgements are not shown yet: figures move in steps of ten, and
        # none released reads as held back, never as "0 of the 12".
        (
            12,
            1,
            "• Reached 12 people; acknowledgements are held back until 10 or more have "
            "acknowledged.",
        ),
        (
            12,
            3,
            "• Reached 12 people; acknowledgements are held back until 10 or more have "
            "acknowledged.",
        ),
        (12, 10, "• Reached 12 people; 10 of the 12 have acknowledged (83%)."),
        (10, 10, "• Reached 10 people; 10 of the 10 have acknowledged (100%)."),
        (
            9,
            9,
            "• Reached 9 people. Acknowledgement figures are only shown for groups of 10 or "
            "more, to protect individuals.",
        ),
        (
            1,
            0,
            "• Reached 1 person. Acknowledgement figures are only shown for groups of 10 or "
            "more, to protect individuals.",
        ),
    ],
)
def test_status_hides_small_groups_figures_and_reads_naturally(reached, acked, expected):
    text = build_status(POSTS, released(reached, acked), LONDON)
    lines = text.splitlines()
    assert lines[:3] == [
        "*Caseloads &amp; you* (version 2)",
        "• Posted to <#C1>, first on 1 Jun 2026, 09:00",  # BST shown in London time
        expected,
    ]
    if reached >= 10:  # says when, and why the newest acknowledgements may not show
        assert "steps of at least 10 people" in lines[3]


@pytest.mark.parametrize(
    "value",
    [
        "",
        "x",
        "recruitment-funding@0",
        "Recruitment@1",
        "a@1@2",
        "<!channel>@1",
        "a" * 65 + "@1",
        "b@1234567",
    ],
)
def test_button_values_we_did_not_make_are_refused(value):
    assert parse_ack_value(value) is None


def test_button_values_round_trip():
    assert parse_ack_value(ack_value("recruitment-funding", 3)) == ("recruitment-funding", 3)


def test_every_shipped_briefing_builds_a_message_slack_accepts():
    briefings = load_briefings(REPO / "content", LONDON)
    for briefing in briefings.values():
        blocks = build_briefing_message(
            briefing, published_by="U0SM01", published_at="2026-11-28T09:00:00+00:00", tz=LONDON
        )
        assert isinstance(blocks[0], HeaderBlock)
        assert isinstance(blocks[1], SectionBlock)
        assert isinstance(blocks[-1], ActionsBlock) == briefing.acknowledge
        assert validate_message_blocks([b.to_dict() for b in blocks]) == [], briefing.id


def test_a_very_long_briefing_still_fits_in_one_message():
    briefing = next(iter(load_briefings(REPO / "content", LONDON).values()))
    long = briefing.__class__(**{**briefing.__dict__, "body": "Word " * 60_000})
    blocks = build_briefing_message(
        long, published_by="U0SM01", published_at=datetime.now(UTC).isoformat(), tz=LONDON
    )
    assert len(blocks) <= 50
    assert validate_message_blocks([b.to_dict() for b in blocks]) == []


@pytest.mark.parametrize("waiting", [0, 1, 31, 60])
def test_the_home_view_stays_within_slacks_limits(waiting):
    rows = [
        {
            "briefing_id": f"b{n}",
            "version": 1,
            "title": f"Briefing <{n}> & more",
            "published_at": "2026-11-28T09:00:00+00:00",
            "channel_id": "C1",
        }
        for n in range(waiting)
    ]
    section = build_waiting_section(rows, LONDON)
    view = build_home_view([section], notice="Thanks", contact="the QI team").to_dict()
    assert validate_view(view) == []
    text = str(view)
    assert "<0>" not in text
    if waiting > 30:
        assert f"…and {waiting - 30} more." in text


def test_help_shows_placeholders_slack_will_not_turn_into_links():
    assert "<" not in HELP
    assert "&lt;briefing id&gt;" in HELP


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_ A", max_size=70))
def test_an_id_content_check_accepts_is_one_the_acknowledge_button_can_carry(briefing_id):
    accepted = id_problem(briefing_id) is None
    carried = parse_ack_value(ack_value(briefing_id, 1)) == (briefing_id, 1)
    assert accepted == carried


@pytest.mark.parametrize("version", [1, 2, 999_999])
def test_every_version_content_check_accepts_round_trips_through_the_button(version):
    assert parse_ack_value(ack_value("pay-update", version)) == ("pay-update", version)


@pytest.mark.parametrize(
    ("field", "value"), [("id", "-pay-update"), ("version", "1000000"), ("version", "0")]
)
def test_ids_and_versions_the_button_cannot_carry_are_refused_by_content_check(
    tmp_path, field, value
):
    from bot.content import check_content

    folder = tmp_path / "briefings"
    folder.mkdir()
    source = (REPO / "content/briefings/triple-lock.md").read_text(encoding="utf-8")
    lines = [
        f"{field}: {value}" if line.startswith(f"{field}:") else line
        for line in source.splitlines()
    ]
    if not any(line.startswith(f"{field}:") for line in source.splitlines()):
        lines.insert(1, f"{field}: {value}")
    (folder / "b.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = check_content(tmp_path, LONDON)
    assert len(problems) == 1
    assert f"{field} " in problems[0].message


def test_a_confirmation_for_sixty_people_picked_one_by_one_fits_slacks_limits():
    from bot.storage.outbox import Plan, PlannedEntry
    from handlers.briefings.blocks import build_confirmation

    people = [f"U0P{n:04d}" for n in range(60)]
    plan = Plan(
        briefing_id="rota",
        version=1,
        title="The rota",
        acknowledge=True,
        published_by="U0SM01",
        message={"text": "x", "blocks": []},
        entries=tuple(PlannedEntry(raw=p, ref=p, post=False, people=(p,)) for p in people),
    )
    blocks = [
        b.to_dict()
        for b in build_confirmation(plan, "t", at_text=None, earlier=(0, 0), twice_above=5000)
    ]
    assert validate_message_blocks(blocks) == []
    summary = blocks[0]["text"]["text"]
    assert "more entries" in summary
    assert "*60 people in all*" in summary
