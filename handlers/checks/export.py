"""`/engage export <briefing id>` as one tidy table: a row per briefing × version × team ×
figure, with its base and a suppressed flag, for Excel or any analysis tool. Pure builders over
the figures the disclosure layer released (`deps.storage.disclosure.check`); commands.py
uploads the file. Its columns are documented in docs/COMMANDS.md ("The CSV").

The figures are those `/engage results` shows (results.py), with the same bases and rounding;
a figure the screen holds back or hides is a row with `suppressed` true and an EMPTY value,
base and percent, never a number, and says why. Every file has the same figures for the whole
audience (team "all"), and four for each team named, so a file reads the same whatever was
released: reached, acknowledged, took_check, understood_first_time, understood_after_retake,
clarity_average, and per question q<n>_correct and q<n>_most_chosen_wrong for "all"; reached,
acknowledged, took_check and understood_first_time for each team.

Safe to open in Excel: a text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage
return gets a leading apostrophe (`cell`), and the file starts with a UTF-8 byte-order mark,
without which Excel reads it in the machine's code page ("£" and "“" garbled).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from bot.disclosure import Figures
from bot.storage.check_keys import Check
from bot.storage.disclosure import CheckFigures
from handlers.checks.results import held_back, question_figures

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

BOM = "\ufeff"
ALL = "all"  # the team column of the whole audience's figures
COLUMNS = (
    "briefing_id",
    "version",
    "title",
    "check_status",
    "check_closes_at",
    "team",
    "figure",
    "question",
    "answer",
    "value",
    "base",
    "base_of",
    "percent",
    "suppressed",
    "suppressed_why",
    "as_of",
)
Row = dict[str, object]
# The funnel, in order; a team has the first four.
FUNNEL = (
    "reached",
    "acknowledged",
    "took_check",
    "understood_first_time",
    "understood_after_retake",
)


def cell(value: object) -> object:
    """A CSV cell that a spreadsheet will not run: text starting with `=`, `+`, `-`, `@`, a tab
    or a carriage return is a formula to Excel and others (OWASP's CSV injection), so it gets
    a leading apostrophe, which they show as text. Numbers stay numbers."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def build_export(
    check: Check, figures: CheckFigures, tz: ZoneInfo, names: Mapping[str, str] | None = None
) -> str:
    """The file: a byte-order mark, the header, then one row per team × figure, every cell
    made safe for a spreadsheet."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in export_rows(check, figures, tz, names):
        writer.writerow([cell(row[c]) for c in COLUMNS])
    return out.getvalue()


def export_rows(
    check: Check, figures: CheckFigures, tz: ZoneInfo, names: Mapping[str, str] | None = None
) -> list[Row]:
    """The table's rows, before each cell is made safe: the whole audience's, then each team's
    (released teams first, then those hidden, as on screen)."""
    answers = figures.answers
    closes = check.closed_at or check.closes_at
    fixed: Row = {
        "briefing_id": check.briefing_id,
        "version": check.version,
        "title": check.title,
        "check_status": "closed" if check.closed_at else "open",
        "check_closes_at": local_iso(closes, tz),
    }
    rows = [{**fixed, **r} for r in total_rows(check, figures, tz)]
    if answers.shown:
        for team in (*answers.groups, *answers.hidden):
            name = (names or {}).get(team, team)
            rows += [{**fixed, **r, "team": name} for r in team_rows(team, figures, tz)]
    return rows


def local_iso(at: str | None, tz: ZoneInfo) -> str:
    """A stored UTC time as ISO 8601 in `tz`, with its offset; empty for none."""
    return datetime.fromisoformat(at).astimezone(tz).isoformat(timespec="seconds") if at else ""


def figure(
    name: str,
    value: int | float,
    base: int | None = None,
    base_of: str = "",
    *,
    as_of: str = "",
    question: str = "",
    answer: str = "",
    share: bool = True,
) -> Row:
    """A released figure, with its base and (`share`) its percentage of it, rounded as on
    screen; none for a base of nobody."""
    return {
        "team": ALL,
        "figure": name,
        "question": question,
        "answer": answer,
        "value": value,
        "base": "" if base is None else base,
        "base_of": base_of,
        "percent": round(100 * value / base) if base and share else "",
        "suppressed": "false",
        "suppressed_why": "",
        "as_of": as_of,
    }


def suppressed(name: str, why: str, *, question: str = "") -> Row:
    """A figure held back or hidden: flagged, why, and no number in it."""
    return {
        "team": ALL,
        "figure": name,
        "question": question,
        "answer": "",
        "value": "",
        "base": "",
        "base_of": "",
        "percent": "",
        "suppressed": "true",
        "suppressed_why": why,
        "as_of": "",
    }


def total_rows(check: Check, figures: CheckFigures, tz: ZoneInfo) -> list[Row]:
    """The whole audience's figures: the funnel, clarity, then each question's."""
    answers, acks = figures.answers, figures.acks
    step = answers.min_group
    asks = [q["ask"] for q in check.questions]
    if not answers.shown:
        why = f"reached fewer than {step} people" if answers.population else "reached nobody"
        names = [*FUNNEL, "clarity_average"] if check.clarity else list(FUNNEL)
        rows = [suppressed(n, why) for n in names]
        for n, ask in enumerate(asks, 1):
            rows += [suppressed(q, why, question=ask) for q in question_names(n)]
        return rows
    at, acks_at = local_iso(answers.as_of(), tz), local_iso(acks.as_of(), tz)
    reached, took = answers.population, answers.total("took")
    retook, rated = answers.total("retook"), answers.total("rated")
    acked = acks.total("acknowledged")
    rows = [
        figure("reached", reached, as_of=at),
        figure("acknowledged", acked, acks.population, "reached", as_of=acks_at)
        if acks.shown and acked
        else suppressed(
            "acknowledged",
            held_back(step, "acknowledged")
            if acks.shown
            else f"its acknowledgement round reached fewer than {step}",
        ),
        figure("took_check", took, reached, "reached", as_of=at)
        if took
        else suppressed("took_check", held_back(step, "taken the check")),
    ]
    taken = held_back(step, "taken the check")
    if not took:
        rows.append(suppressed("understood_first_time", taken))
        rows.append(suppressed("understood_after_retake", taken))
        rows += [suppressed("clarity_average", taken)] if check.clarity else []
        for n, ask in enumerate(asks, 1):
            rows += [suppressed(q, taken, question=ask) for q in question_names(n)]
        return rows
    first, after = answers.total("first_time"), answers.total("after_retake")
    rows.append(figure("understood_first_time", first, took, "took the check", as_of=at))
    rows.append(
        figure("understood_after_retake", after, retook, "retook it", as_of=at)
        if retook
        else suppressed("understood_after_retake", f"held back until {step} or more retake it")
    )
    if rated:
        average = sum(k * answers.total(f"clarity:{k}") for k in range(1, 6)) / rated
        rows.append(
            figure("clarity_average", round(average, 1), rated, "rated it", as_of=at, share=False)
        )
    elif check.clarity:
        rows.append(suppressed("clarity_average", f"held back until {step} or more rate it"))
    return rows + _question_rows(check, answers, at)


def question_names(n: int) -> tuple[str, str]:
    return f"q{n}_correct", f"q{n}_most_chosen_wrong"


def _question_rows(check: Check, answers: Figures, at: str) -> list[Row]:
    """Each question's share correct and its most-chosen wrong answer (0, with no answer,
    when nobody chose a wrong one), each of those who answered it."""
    rows = []
    for n, q in enumerate(question_figures(check, answers), 1):
        correct, wrong = question_names(n)
        rows.append(
            figure(correct, q["correct"], q["answered"], "answered it", as_of=at, question=q["ask"])
        )
        rows.append(
            figure(
                wrong,
                q["misconception_count"],
                q["answered"],
                "answered it",
                as_of=at,
                question=q["ask"],
                answer=q["misconception"] or "",
            )
        )
    return rows


def hidden_why(figures: Figures, team: str) -> str:
    """Why a team's figures are not shown, in the screen's words."""
    if figures.group_reach.get(team, 0) < figures.min_group:
        return f"fewer than {figures.min_group} in the team"
    return "hidden, so that a smaller group's figures stay private"


def team_rows(team: str, figures: CheckFigures, tz: ZoneInfo) -> list[Row]:
    """One team's reached, acknowledged, took_check and understood_first_time, as the
    results' "By team" shows them; a hidden team's four are suppressed."""
    answers, acks = figures.answers, figures.acks
    if team not in answers.groups:
        why = hidden_why(answers, team)
        return [suppressed(n, why) for n in FUNNEL[:4]]
    at = local_iso(answers.as_of(), tz)
    reach, took = answers.group_reach[team], answers.group(team, "took")
    rows = [figure("reached", reach, as_of=at)]
    if team in acks.groups and not acks.group(team, "acknowledged"):
        rows.append(
            suppressed("acknowledged", held_back(acks.min_group, "acknowledged", team=True))
        )
    elif team in acks.groups:
        acked = acks.group(team, "acknowledged")
        rows.append(
            figure(
                "acknowledged",
                acked,
                acks.group_reach[team],
                "reached",
                as_of=local_iso(acks.as_of(), tz),
            )
        )
    else:
        rows.append(suppressed("acknowledged", hidden_why(acks, team)))
    step, first = answers.min_group, answers.group(team, "first_time")
    if not took:
        why = held_back(step, "taken the check", team=True)
        return [*rows, suppressed("took_check", why), suppressed("understood_first_time", why)]
    rows.append(figure("took_check", took, reach, "reached", as_of=at))
    rows.append(figure("understood_first_time", first, took, "took the check", as_of=at))
    return rows
