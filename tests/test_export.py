"""`/engage export`'s one tidy table (handlers/checks/export.py), built from released figures
made directly: a row per team × figure with its base, a suppressed row flagged and empty, every
cell safe to open in a spreadsheet. The end-to-end exports are in test_check_results.py,
test_teams.py and test_disclosure_views.py; they read the file with the helpers here."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from zoneinfo import ZoneInfo

from bot import disclosure
from bot.disclosure import ACKS, ANSWERS, CLARITY, RETAKES, Live
from bot.storage.disclosure import CheckFigures
from handlers.checks.export import COLUMNS, build_export, export_rows
from handlers.checks.results import build_results, percent
from tests.released import AT, check_figures
from tests.test_check_edges import a_check

LONDON = ZoneInfo("Europe/London")
SUMMER = "2026-07-01T09:30:00+00:00"


def read_csv(data: bytes | str) -> list[dict[str, str]]:
    """The uploaded file's rows, by column; the byte-order mark must be there, and is dropped."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    assert text.startswith("\ufeff"), "no byte-order mark: Excel would misread UTF-8"
    reader = csv.DictReader(io.StringIO(text[1:]))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    return list(reader)


def by_key(rows: list[dict[str, str]]) -> dict[tuple[str, str], dict[str, str]]:
    """Rows by (team, figure): one each, or the table is not tidy."""
    table = {(r["team"], r["figure"]): r for r in rows}
    assert len(table) == len(rows), "two rows for one team and figure"
    return table


def teams_figures(min_group: int = 10) -> CheckFigures:
    """North (20) and south (20) apart, fostering (4) inside north: fostering is too small,
    and the layer releases north and south. North: 20 acknowledged, 12 took, 9 understood."""
    north, south, fostering = frozenset({"@north"}), frozenset({"@south"}), frozenset()
    both = frozenset({"@north", "@fostering"})
    reach = {north: 16, both: 4, south: 20, fostering: 0}
    del reach[fostering]
    answers = {
        north: {"took": 8, "first_time": 6, "q:0:0": 6, "q:0:1": 2},
        both: {"took": 4, "first_time": 3, "q:0:0": 3, "q:0:1": 1},
        south: {"took": 10, "first_time": 5, "q:0:0": 5, "q:0:1": 5},
    }
    acks = {north: {"acknowledged": 16}, both: {"acknowledged": 4}, south: {}}
    made = []
    for counts, families in ((acks, (ACKS,)), (answers, (ANSWERS, RETAKES, CLARITY))):
        state = disclosure.State()
        live = Live(dict(reach), counts)
        disclosure.advance(state, live, families, min_group, AT)
        made.append(disclosure.figures(state, live, min_group))
    return CheckFigures(made[0], made[1], [], 0, [])


def test_every_row_is_one_team_and_figure_and_its_values_are_the_released_ones():
    figures = teams_figures()
    names = {"@north": "North locality"}
    rows = read_csv(build_export(a_check(), figures, LONDON, names))
    table = by_key(rows)
    assert {r["team"] for r in rows} == {"all", "North locality", "'@south", "'@fostering"}
    answers, acks = figures.answers, figures.acks
    for team, key in (("all", None), ("North locality", "@north"), ("'@south", "@south")):
        for figure, measure, of in (
            ("took_check", "took", "reached"),
            ("understood_first_time", "first_time", "took the check"),
        ):
            row = table[team, figure]
            value = answers.total(measure) if key is None else answers.group(key, measure)
            base = (
                (answers.population if key is None else answers.group_reach[key])
                if measure == "took"
                else (answers.total("took") if key is None else answers.group(key, "took"))
            )
            assert (row["value"], row["base"], row["base_of"]) == (str(value), str(base), of)
            assert row["percent"] == percent(value, base).rstrip("%")  # rounded as on screen
            assert row["suppressed"] == "false"
            assert row["as_of"] == "2026-12-07T10:00:00+00:00"  # ISO 8601, in TIMEZONE
    assert table["North locality", "acknowledged"]["value"] == str(
        acks.group("@north", "acknowledged")
    )
    assert table["all", "reached"]["value"] == "40"
    assert table["all", "reached"]["base"] == table["all", "reached"]["percent"] == ""
    assert table["all", "q1_correct"]["value"] == "14"
    assert (
        table["all", "q1_most_chosen_wrong"]["answer"],
        table["all", "q1_most_chosen_wrong"]["value"],
    ) == ("No", "8")


def test_a_hidden_team_is_four_flagged_rows_with_no_number_in_them():
    rows = read_csv(build_export(a_check(), teams_figures(), LONDON))
    fostering = [r for r in rows if r["team"] == "'@fostering"]
    assert [r["figure"] for r in fostering] == [
        "reached",
        "acknowledged",
        "took_check",
        "understood_first_time",
    ]
    for row in fostering:
        assert row["suppressed"] == "true"
        assert row["suppressed_why"] == "fewer than 10 in the team"
        assert row["value"] == row["base"] == row["percent"] == row["as_of"] == ""


def test_a_small_audience_is_every_figure_suppressed_and_no_team():
    figures = check_figures(9, acknowledged=9, took=9, first_time=9, q__0__0=9)
    rows = read_csv(build_export(a_check(), figures, LONDON))
    assert [r["figure"] for r in rows] == [
        "reached",
        "acknowledged",
        "took_check",
        "understood_first_time",
        "understood_after_retake",
        "clarity_average",
        "q1_correct",
        "q1_most_chosen_wrong",
    ]
    assert {r["team"] for r in rows} == {"all"}
    assert {r["suppressed"] for r in rows} == {"true"}
    assert {r["suppressed_why"] for r in rows} == {"reached fewer than 10 people"}
    assert {r["value"] + r["base"] + r["percent"] for r in rows} == {""}


def test_what_the_screen_holds_back_is_flagged_not_a_number():
    figures = check_figures(30, acknowledged=20, took=2, first_time=1)  # two: not released
    table = by_key(export_rows(a_check(), figures, LONDON))
    # Not "0 of the 30": that reads as nobody, and two have taken it (as on screen).
    for figure in ("took_check", "understood_first_time", "q1_correct", "q1_most_chosen_wrong"):
        row = table["all", figure]
        assert row["suppressed"] == "true"
        assert row["value"] == ""
        assert row["suppressed_why"] == "held back until 10 or more have taken the check"


def test_clarity_is_an_average_of_its_ratings_without_a_percentage():
    figures = check_figures(30, took=12, first_time=12, rated=10, clarity__4=5, clarity__5=5)
    row = by_key(export_rows(a_check(), figures, LONDON))["all", "clarity_average"]
    assert (row["value"], row["base"], row["base_of"], row["percent"]) == (4.5, 10, "rated it", "")


def test_a_cell_a_spreadsheet_would_run_is_kept_as_text():
    check = replace(
        a_check(questions=[{"ask": "+1?", "options": ["@SUM(1)", "\tx"], "answer": "@SUM(1)"}]),
        title="=cmd|'/c calc'!A1",
    )
    names = {"@north": "-north", "@south": "\rsouth"}
    text = build_export(check, teams_figures(), LONDON, names)
    rows = read_csv(text)
    row = by_key(rows)["all", "q1_most_chosen_wrong"]
    assert row["title"] == "'=cmd|'/c calc'!A1"
    assert row["question"] == "'+1?"
    assert row["answer"] == "'\tx"
    assert {r["team"] for r in rows} == {"all", "'-north", "'\rsouth", "'@fostering"}
    cells = [c for r in rows for c in r.values()]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert "'=cmd" in text  # the neutralising is in the file, not only in how it is read


def test_times_are_iso_8601_in_the_timezone():
    check = replace(a_check(), closes_at=SUMMER)
    rows = read_csv(build_export(check, check_figures(30, took=12), LONDON))
    assert {r["check_closes_at"] for r in rows} == {"2026-07-01T10:30:00+01:00"}
    assert {r["check_status"] for r in rows} == {"open"}
    closed = replace(check, closed_at="2026-12-07T10:00:00+00:00")
    rows = read_csv(build_export(closed, check_figures(30, took=12), LONDON))
    assert {(r["check_status"], r["check_closes_at"]) for r in rows} == {
        ("closed", "2026-12-07T10:00:00+00:00")
    }


def test_an_acknowledgement_round_too_small_to_show_is_held_back_not_zero():
    """A check that outlived its version (a correction kept it and reached many more) has its
    answers shown, but the first version's acknowledgements reached only four: neither the
    CSV nor the results say "0 of 4", which reads as nobody having acknowledged."""
    figures = teams_figures()
    few = disclosure.State()
    live = Live({frozenset({"@north"}): 4}, {frozenset({"@north"}): {"acknowledged": 4}})
    disclosure.advance(few, live, (ACKS,), 10, AT)
    figures = replace(figures, acks=disclosure.figures(few, live, 10))
    row = by_key(read_csv(build_export(a_check(), figures, LONDON)))["all", "acknowledged"]
    assert row["suppressed"] == "true"
    assert row["value"] == row["base"] == ""
    assert "fewer than 10" in row["suppressed_why"]
    text = json.dumps([b.to_dict() for b in build_results(a_check(), figures, LONDON)])
    assert "of the 4 reached" not in text
    assert "Acknowledged: _held back" in text
