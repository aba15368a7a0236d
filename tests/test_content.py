"""Briefing files: every problem reported with file, line and a fix; good files load."""

from __future__ import annotations

import io
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.content import (
    Audience,
    Problem,
    check_content,
    load_briefings,
    parse_audience,
    parse_duration,
    run_content_check,
)
from bot.content.briefings import read_briefings
from tests.conftest import billion_laughs

LONDON = ZoneInfo("Europe/London")
SHIPPED = Path(__file__).resolve().parent.parent / "content"

VALID = """\
---
id: sample
title: A sample briefing
audience: ["#social-work-all"]
---
First paragraph, **in bold**.

Second paragraph.
"""

CHECK = """\
---
id: sample
title: A sample briefing
audience: ["#social-work-all"]
check:
  closes_after: 7d
  remind_after: 2d
  questions:
    - ask: Which money is one-off?
      options: ["£4.4m", "£1.5m", "Neither"]
      answer: "£1.5m"
      explain: The £1.5m covers 2017-2019 only.
---
Body.
"""


def write(root: Path, name: str, text: str) -> Path:
    folder = root / "briefings"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def replace_line(text: str, line: int, new: str) -> str:
    lines = text.split("\n")
    lines[line - 1] = new
    return "\n".join(lines)


def insert_line(text: str, line: int, new: str) -> str:
    lines = text.split("\n")
    lines.insert(line - 1, new)
    return "\n".join(lines)


# -- broken files: the exact file:line: message ----------------------------------------------


BROKEN = [
    pytest.param(
        "Just a body, no front matter.\n",
        1,
        "file must start with a line '---' that opens the front matter (id, title, …)",
        id="no-front-matter",
    ),
    pytest.param(
        "---\nid: sample\ntitle: T\n",
        1,
        "front matter is never closed: add a line '---' after the last field",
        id="front-matter-not-closed",
    ),
    pytest.param(
        replace_line(VALID, 4, "audience: [@team-managers]"),
        4,
        "front matter is not valid YAML (found character '@' that cannot start any token): "
        "check the indentation, and put quotes around any value that starts with #, @ or a "
        "quote mark",
        id="yaml-error-line",
    ),
    pytest.param(
        replace_line(VALID, 3, 'title: "Getting to good" seminars'),
        3,
        "front matter is not valid YAML (expected <block end>, but found '<scalar>'): "
        "check the indentation, and put quotes around any value that starts with #, @ or a "
        "quote mark",
        id="yaml-error-title-starting-with-quote",
    ),
    pytest.param(
        insert_line(VALID, 5, "owner: Quality Improvement Team"),
        5,
        "unknown field 'owner': use one of: id, title, audience, deliver, acknowledge, version, "
        "publish_at, summary, check, correction, reacknowledge, remind_after",
        id="unknown-field",
    ),
    pytest.param(
        insert_line(VALID, 5, "aknowledge: true"),
        5,
        "unknown field 'aknowledge': did you mean 'acknowledge'?",
        id="typo-in-field-name",
    ),
    pytest.param(
        insert_line(VALID, 5, "title: Again"),
        5,
        "title is given twice (first on line 3): keep one",
        id="field-given-twice",
    ),
    pytest.param(
        replace_line(VALID, 3, "summary: no title"),
        2,
        "title is missing: add 'title: …'",
        id="missing-title",
    ),
    pytest.param(
        replace_line(VALID, 2, "id: Recruitment Funding"),
        2,
        "id 'Recruitment Funding' must use only lowercase letters, numbers and hyphens, "
        "and start with a letter or number, e.g. 'recruitment-funding'",
        id="id-not-a-slug",
    ),
    pytest.param(
        replace_line(VALID, 2, "id: " + "a" * 65),
        2,
        "id is 65 characters; the limit is 64: shorten it",
        id="id-too-long",
    ),
    pytest.param(
        replace_line(VALID, 3, "title: " + "t" * 151),
        3,
        "title is 151 characters; Slack shows at most 150: shorten it",
        id="title-too-long",
    ),
    pytest.param(
        replace_line(VALID, 3, "title: yes"),
        3,
        "title must be text, not True: put it in quotes",
        id="title-read-as-boolean",
    ),
    pytest.param(
        replace_line(VALID, 4, 'audience: ["social-work"]'),
        4,
        "there is no audience called 'social-work' in audiences.yaml (named audiences: none "
        "yet): define it there, or if you meant the channel write '#social-work'",
        id="audience-without-prefix",
    ),
    pytest.param(
        replace_line(VALID, 4, 'audience:\n  - "#social-work-all"\n  - "#Team Managers"'),
        6,
        "audience entry '#Team Managers' is not a Slack channel name: use lowercase letters, "
        "numbers, hyphens and underscores after the #, e.g. '#social-work-all'",
        id="audience-bad-channel-name-on-its-own-line",
    ),
    pytest.param(
        replace_line(VALID, 4, "audience: #social-work-all"),
        4,
        'audience is empty: list who gets it, e.g. audience: ["#social-work-all"] (in YAML an '
        "unquoted # starts a comment, so use quotes)",
        id="audience-unquoted-hash-is-a-comment",
    ),
    pytest.param(
        replace_line(VALID, 4, 'audience: "#social-work-all"'),
        4,
        'audience must be a list, e.g. audience: ["#social-work-all"]',
        id="audience-not-a-list",
    ),
    pytest.param(
        replace_line(VALID, 4, 'audience: ["#social-work-all", "#social-work-all"]'),
        4,
        "audience lists '#social-work-all' twice: remove one",
        id="audience-duplicate",
    ),
    pytest.param(
        insert_line(VALID, 5, "deliver: email"),
        5,
        "deliver is 'email': use channel (post in the channels), dm (message each person) or both",
        id="deliver-unknown",
    ),
    pytest.param(
        replace_line(VALID, 4, 'audience: ["@social-workers"]\ndeliver: channel'),
        5,
        "deliver: channel needs a channel in the audience: add one (e.g. '#social-work-all') "
        "or use deliver: dm",
        id="deliver-channel-without-a-channel",
    ),
    pytest.param(
        insert_line(VALID, 5, "acknowledge: maybe"),
        5,
        "acknowledge is 'maybe': use true or false",
        id="acknowledge-not-boolean",
    ),
    pytest.param(
        insert_line(VALID, 5, "version: 0"),
        5,
        "version is 0: use a whole number from 1 to 999,999",
        id="version-zero",
    ),
    pytest.param(
        insert_line(VALID, 5, "publish_at: 2027-03-28 01:30"),
        5,
        "publish_at 2027-03-28 01:30 does not exist in Europe/London: the clocks go forward "
        "then; pick a time at least an hour later",
        id="publish-at-in-spring-forward-gap",
    ),
    pytest.param(
        insert_line(VALID, 5, "publish_at: next Tuesday"),
        5,
        "publish_at 'next Tuesday' is not a date and time: write YYYY-MM-DD HH:MM, "
        "e.g. 2026-12-01 09:00",
        id="publish-at-not-a-date",
    ),
    pytest.param(
        insert_line(VALID, 5, "publish_at: 2026-12-01"),
        5,
        "publish_at is only a date: write a date and time, e.g. 2026-12-01 09:00",
        id="publish-at-date-only",
    ),
    pytest.param(
        replace_line(CHECK, 7, "  remind_after: 7d"),
        7,
        "check.remind_after must be shorter than check.closes_after, or the reminder would come "
        "after the check has closed",
        id="remind-after-not-before-close",
    ),
    pytest.param(
        replace_line(CHECK, 6, "  closes_after: 7 days"),
        6,
        "check.closes_after: '7 days' is not a duration: write a whole number and a unit, "
        "e.g. 7d (m minutes, h hours, d days, w weeks)",
        id="duration-bad",
    ),
    pytest.param(
        replace_line(CHECK, 6, "  closes_after: 0d"),
        6,
        "check.closes_after: '0d' is not a duration: write a whole number and a unit, "
        "e.g. 7d (m minutes, h hours, d days, w weeks)",
        id="duration-zero",
    ),
    pytest.param(
        replace_line(CHECK, 11, '      answer: "£1.5 million"'),
        11,
        "question 1 answer '£1.5 million' is not one of its options: copy it exactly",
        id="answer-not-an-option",
    ),
    pytest.param(
        replace_line(CHECK, 11, '      answer: "£1.5M"'),
        11,
        "question 1 answer '£1.5M' is not one of its options: copy it exactly — did you mean "
        "'£1.5m'?",
        id="answer-near-miss",
    ),
    pytest.param(
        replace_line(CHECK, 10, '      options: ["£1.5m"]'),
        10,
        "question 1 has 1 options: give 2 to 6",
        id="too-few-options",
    ),
    pytest.param(
        replace_line(CHECK, 10, '      options: ["£4.4m", "£1.5m", "£1.5m"]'),
        10,
        "question 1 lists the option '£1.5m' twice: remove one",
        id="duplicate-option",
    ),
    pytest.param(
        replace_line(CHECK, 10, '      options:\n        - "£1.5m"\n        - ' + "x" * 76),
        12,
        "question 1 option 2 is 76 characters; Slack shows at most 75: shorten it",
        id="option-too-long",
    ),
    pytest.param(
        replace_line(CHECK, 10, '      options: [Yes, "No"]').replace('"£1.5m"', '"No"'),
        10,
        "question 1 option 1 must be text, not True: put it in quotes",
        id="option-read-as-boolean",
    ),
    pytest.param(
        replace_line(CHECK, 9, "    - ask: " + "?" * 151),
        9,
        "question 1 ask is 151 characters; Slack shows at most 150: shorten it",
        id="ask-too-long",
    ),
    pytest.param(
        replace_line(CHECK, 12, ""),
        9,
        "question 1 explain is missing: add 'explain: …'",
        id="explain-missing",
    ),
    pytest.param(
        insert_line(CHECK, 13, "      explains: More."),
        13,
        "unknown field 'explains' in question 1: did you mean 'explain'?",
        id="typo-in-question-field",
    ),
    pytest.param(
        "\n".join([*CHECK.split("\n")[:7], "  questions: []", *CHECK.split("\n")[12:]]),
        8,
        "check has 0 questions: use 1 to 5 (three is plenty on a phone)",
        id="no-questions",
    ),
    pytest.param(
        VALID.split("---\n")[0] + "---\n" + VALID.split("---\n")[1] + "---\n\n   \n",
        6,
        "the briefing has no body: write the message after the '---' line",
        id="empty-body",
    ),
    pytest.param(
        VALID + "\nSee [the form](file://server/forms/referral.docx) here.\n",
        10,
        "link to 'file://server/forms/referral.docx' cannot be opened from Slack: "
        "use a full https:// address (or mailto:)",
        id="link-not-https",
    ),
    pytest.param(
        VALID + "\nSee [the form](file://server/forms/Referral_(2017).docx) here.\n",
        10,
        "link to 'file://server/forms/Referral_(2017).docx' cannot be opened from Slack: "
        "use a full https:// address (or mailto:)",
        id="link-with-parentheses-not-https",
    ),
    pytest.param(
        VALID + "\nOpen [the channel](slack://channel?team=T1&id=C1).\n",
        10,
        "link to 'slack://channel?team=T1&id=C1' cannot be opened from Slack: "
        "use a full https:// address (or mailto:)",
        id="link-to-slack-scheme",
    ),
    pytest.param(
        VALID + "\nA paragraph that wraps\nonto [a relative link](forms/referral.docx).\n",
        11,
        "link to 'forms/referral.docx' cannot be opened from Slack: "
        "use a full https:// address (or mailto:)",
        id="relative-link-on-a-wrapped-line",
    ),
    pytest.param(
        VALID + "\n- Do not [click](javascript:alert(1))\n",
        10,
        "link to 'javascript:alert(1)' cannot be opened from Slack: "
        "use a full https:// address (or mailto:)",
        id="javascript-link-in-a-list",
    ),
    pytest.param(
        VALID + "\nOpen <slack://open> to see it.\n",
        10,
        "link to 'slack://open' cannot be opened from Slack: "
        "use a full https:// address (or mailto:)",
        id="autolink-to-slack-scheme",
    ),
    pytest.param(
        VALID + "\nHere is ![the form](form.png).\n",
        10,
        "link to 'form.png' cannot be opened from Slack: use a full https:// address (or mailto:)",
        id="image-not-https",
    ),
]


@pytest.mark.parametrize(("text", "line", "message"), BROKEN)
def test_broken_file_reports_exact_file_line_and_fix(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = write(tmp_path, "broken.md", text)

    problems = check_content(tmp_path, LONDON)

    assert [str(p) for p in problems] == [f"{path}:{line}: {message}"]


def test_links_that_slack_can_open_or_in_code_are_not_reported(tmp_path: Path) -> None:
    write(
        tmp_path,
        "links.md",
        VALID + "\nSee [the standard](https://example.org/wiki/Foo_(bar)), "
        "[write to us](mailto:team@example.org) and <https://www.gov.uk>.\n"
        "\n```\n[not a link](file://server/form.docx)\n```\n"
        "\nType `[x](slack://open)` to see.\n",
    )

    assert check_content(tmp_path, LONDON) == []


def test_every_problem_in_a_file_is_reported_not_just_the_first(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "many.md",
        '---\nid: Bad Id\ntitle: T\naudience: ["social-work"]\naknowledge: true\n---\n\n',
    )

    problems = check_content(tmp_path, LONDON)

    assert [(p.path, p.line) for p in problems] == [(path, 2), (path, 4), (path, 5), (path, 7)]


def test_duplicate_id_is_reported_on_the_second_file_naming_the_first(tmp_path: Path) -> None:
    first = write(tmp_path, "a.md", VALID)
    second = write(tmp_path, "b.md", VALID)

    problems = check_content(tmp_path, LONDON)

    assert [str(p) for p in problems] == [
        f"{second}:2: id 'sample' is already used by {first}: give each briefing its own id"
    ]


def test_problem_str_is_file_colon_line_colon_message() -> None:
    problem = Problem(Path("content/briefings/x.md"), 7, "audience entry 'x' is wrong")

    assert str(problem) == "content/briefings/x.md:7: audience entry 'x' is wrong"


# -- loading -----------------------------------------------------------------------------------


def test_load_briefings_fills_defaults_and_summary_from_first_paragraph(tmp_path: Path) -> None:
    path = write(tmp_path, "sample.md", VALID)

    briefing = load_briefings(tmp_path, LONDON)["sample"]

    assert briefing.title == "A sample briefing"
    assert briefing.audience == (Audience("#social-work-all", "channel", "social-work-all"),)
    assert (briefing.deliver, briefing.acknowledge, briefing.version) == ("channel", False, 1)
    assert briefing.publish_at is None
    assert briefing.check is None
    assert briefing.summary == "First paragraph, in bold."
    assert briefing.body == "First paragraph, **in bold**.\n\nSecond paragraph."
    assert briefing.source == path


def test_load_briefings_parses_the_check(tmp_path: Path) -> None:
    write(tmp_path, "sample.md", CHECK)

    check = load_briefings(tmp_path, LONDON)["sample"].check

    assert check is not None
    assert check.closes_after == timedelta(days=7)
    assert check.remind_after == timedelta(days=2)
    (question,) = check.questions
    assert question.ask == "Which money is one-off?"
    assert question.options == ("£4.4m", "£1.5m", "Neither")
    assert question.answer == "£1.5m"
    assert question.explain == "The £1.5m covers 2017-2019 only."


def test_check_closes_after_a_week_by_default(tmp_path: Path) -> None:
    write(tmp_path, "sample.md", replace_line(CHECK, 6, "").replace("remind_after: 2d", ""))

    check = load_briefings(tmp_path, LONDON)["sample"].check

    assert check is not None
    assert (check.closes_after, check.remind_after) == (timedelta(days=7), None)


def test_a_broken_briefing_takes_only_itself_out(tmp_path: Path) -> None:
    write(tmp_path, "a.md", VALID)
    write(tmp_path, "b.md", replace_line(VALID, 2, "id: Bad"))

    assert list(load_briefings(tmp_path, LONDON)) == ["sample"]
    [broken] = read_briefings(tmp_path, LONDON).broken
    assert (broken.file, broken.id, broken.title) == ("b.md", "Bad", "A sample briefing")
    [problem] = broken.problems
    assert str(problem).startswith("b.md:2: id 'Bad' must use only lowercase letters")
    # `content check` still lists it, with the file's path and line.
    assert [p.line for p in check_content(tmp_path, LONDON)] == [2]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("2026-12-01 09:00", datetime(2026, 12, 1, 9, 0, tzinfo=LONDON), id="winter"),
        pytest.param("2026-07-01 09:00", datetime(2026, 7, 1, 9, 0, tzinfo=LONDON), id="summer"),
        pytest.param(
            "2026-07-01T08:00:00Z", datetime(2026, 7, 1, 9, 0, tzinfo=LONDON), id="iso-utc"
        ),
        pytest.param(
            '"2026-07-01T09:00"', datetime(2026, 7, 1, 9, 0, tzinfo=LONDON), id="iso-naive"
        ),
    ],
)
def test_publish_at_is_aware_local_time(tmp_path: Path, value: str, expected: datetime) -> None:
    write(tmp_path, "sample.md", insert_line(VALID, 5, f"publish_at: {value}"))

    publish_at = load_briefings(tmp_path, LONDON)["sample"].publish_at

    assert publish_at == expected
    assert publish_at is not None
    assert publish_at.tzinfo == LONDON


def test_publish_at_in_the_repeated_autumn_hour_takes_the_first(tmp_path: Path) -> None:
    write(tmp_path, "sample.md", insert_line(VALID, 5, "publish_at: 2026-10-25 01:30"))

    publish_at = load_briefings(tmp_path, LONDON)["sample"].publish_at

    assert publish_at is not None
    assert publish_at.fold == 0
    assert publish_at.utcoffset() == timedelta(hours=1)  # still British Summer Time


# -- audience and durations --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "kind", "ref", "is_id"),
    [
        ("#social-work-all", "channel", "social-work-all", False),
        ("C0123456789", "channel", "C0123456789", True),
        ("@team-managers", "usergroup", "team-managers", False),
        ("S0123456789", "usergroup", "S0123456789", True),
        ("U0123456789", "user", "U0123456789", True),
        ("W0123456789", "user", "W0123456789", True),
    ],
)
def test_parse_audience_kinds(raw: str, kind: str, ref: str, is_id: bool) -> None:
    audience = parse_audience(raw)

    assert (audience.raw, audience.kind, audience.ref, audience.is_id) == (raw, kind, ref, is_id)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("48h", timedelta(hours=48)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
    ],
)
def test_parse_duration(raw: str, expected: timedelta) -> None:
    assert parse_duration(raw) == expected


@pytest.mark.parametrize("raw", ["7", "0d", "-1d", "7 days", "1.5h", ""])
def test_parse_duration_rejects_anything_else(raw: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(raw)


# -- the CLI -----------------------------------------------------------------------------------


def test_content_check_prints_problems_and_summary(tmp_path: Path) -> None:
    write(tmp_path, "a.md", VALID)
    bad = write(tmp_path, "b.md", replace_line(VALID, 2, "id: Bad"))
    worse = write(tmp_path, "c.md", "no front matter")
    out = io.StringIO()

    code = run_content_check(tmp_path, LONDON, out)

    assert code == 1
    assert out.getvalue().splitlines() == [
        f"{bad}:2: id 'Bad' must use only lowercase letters, numbers and hyphens, "
        "and start with a letter or number, e.g. 'bad'",
        f"{worse}:1: file must start with a line '---' that opens the front matter (id, title, …)",
        "2 problems in 2 files",
    ]


def test_content_check_on_clean_content_says_so(tmp_path: Path) -> None:
    write(tmp_path, "a.md", VALID)
    out = io.StringIO()

    assert run_content_check(tmp_path, LONDON, out) == 0
    assert out.getvalue() == "1 briefing checked, no problems\n"


def test_content_check_on_a_missing_directory_is_one_clear_line(tmp_path: Path) -> None:
    out = io.StringIO()

    code = run_content_check(tmp_path / "nope", LONDON, out)

    assert code == 1
    assert out.getvalue().count("\n") == 1
    assert out.getvalue().startswith(f"{tmp_path / 'nope'}: no such directory")


def test_check_content_without_a_briefings_folder_says_where_they_go(tmp_path: Path) -> None:
    (problem,) = check_content(tmp_path, LONDON)

    assert str(problem) == (
        f"{tmp_path}: no briefings/ folder here: briefings live in {tmp_path / 'briefings'}/*.md"
    )


# -- YAML aliases: a "billion laughs" is refused at its first alias, never expanded ------------

ALIAS_REFUSED = (
    "the YAML alias *a0 is not allowed: write the value out in full instead "
    "(content may not use anchors and aliases)"
)


def test_an_alias_bomb_in_front_matter_is_refused_at_its_first_alias_in_no_time(
    tmp_path: Path,
) -> None:
    header = "---\nid: sample\ntitle: A sample briefing\n"
    path = write(tmp_path, "bomb.md", header + billion_laughs() + "audience: *a9\n---\nBody.\n")
    started = time.perf_counter()

    problems = check_content(tmp_path, LONDON)

    assert time.perf_counter() - started < 2.0  # expanded, it would never finish
    assert [str(p) for p in problems] == [f"{path}:5: front matter: {ALIAS_REFUSED}"]


def test_content_check_refuses_an_alias_bomb_in_audiences_yaml_with_its_file_and_line(
    tmp_path: Path,
) -> None:
    write(tmp_path, "a.md", VALID)
    audiences = tmp_path / "audiences.yaml"
    audiences.write_text(billion_laughs(), encoding="utf-8")
    out = io.StringIO()
    started = time.perf_counter()

    code = run_content_check(tmp_path, LONDON, out)

    assert time.perf_counter() - started < 2.0
    assert code == 1
    assert f"{audiences}:2: {ALIAS_REFUSED}" in out.getvalue().splitlines()


# -- the shipped content -----------------------------------------------------------------------


def test_shipped_content_has_no_problems() -> None:
    assert check_content(SHIPPED, LONDON) == []


def test_shipped_recruitment_briefing_goes_to_everyone_with_a_three_question_check() -> None:
    briefing = load_briefings(SHIPPED, LONDON)["recruitment-funding"]

    assert briefing.deliver == "channel"
    assert "#social-work-all" in [a.raw for a in briefing.audience]
    assert briefing.check is not None
    assert len(briefing.check.questions) == 3
    assert {q.answer for q in briefing.check.questions} >= {"The £1.5m"}


def test_shipped_content_has_six_to_eight_briefings() -> None:
    assert 6 <= len(load_briefings(SHIPPED, LONDON)) <= 8


def test_a_check_can_ask_for_clarity_and_be_anonymous(tmp_path: Path) -> None:
    text = CHECK.replace(
        "  closes_after: 7d\n", "  closes_after: 7d\n  clarity: true\n  mode: anonymous\n"
    )
    write(tmp_path, "sample.md", text)

    check = load_briefings(tmp_path, LONDON)["sample"].check

    assert check is not None
    assert (check.clarity, check.mode) == (True, "anonymous")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "  mode: secret\n",
            "check.mode is 'secret': use attributed (results can show who) or anonymous",
        ),
        ("  clarity: sometimes\n", "check.clarity is 'sometimes': use true or false"),
    ],
)
def test_a_check_with_an_odd_mode_or_clarity_is_refused(
    tmp_path: Path, line: str, message: str
) -> None:
    path = write(
        tmp_path, "sample.md", CHECK.replace("  closes_after: 7d\n", f"  closes_after: 7d\n{line}")
    )

    problems = check_content(tmp_path, LONDON)

    assert [str(p) for p in problems] == [f"{path}:7: {message}"]


def test_a_check_has_at_most_five_questions(tmp_path: Path) -> None:
    question = CHECK[CHECK.index("    - ask") : CHECK.index("---\nBody")]
    text = CHECK.replace(question, question * 6)
    path = write(tmp_path, "sample.md", text)

    problems = check_content(tmp_path, LONDON)

    assert [str(p) for p in problems] == [
        f"{path}:8: check has 6 questions: use 1 to 5 (three is plenty on a phone)"
    ]


def _note(tmp_path, name, text):
    folder = tmp_path / "content" / "practice"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return tmp_path / "content"


def test_practice_notes_are_checked_with_file_and_line(tmp_path):
    from zoneinfo import ZoneInfo

    from bot.content import check_content

    good = (
        "---\nid: lado\ntitle: The LADO\nowner: LADO\nreviewed: 2026-01-05\ntags: [lado]\n"
        "---\nTell the LADO.\n"
    )
    content = _note(tmp_path, "a.md", good)
    _note(tmp_path, "b.md", good)  # a duplicate id
    _note(
        tmp_path,
        "c.md",
        "---\nid: future\ntitle: Future\nreviewed: 2999-01-01\nsource: ftp://x\n---\nText.\n",
    )
    (content / "briefings").mkdir()
    problems = [str(p) for p in check_content(content, ZoneInfo("Europe/London"))]
    assert any("b.md:2: id 'lado' is already used" in p for p in problems), problems
    assert any("c.md:2: owner is missing" in p for p in problems), problems
    assert any("c.md:4: reviewed is 2999-01-01, in the future" in p for p in problems), problems
    assert any("c.md:5: source 'ftp://x' must be a link" in p for p in problems), problems
    assert not any(p.startswith(str(content / "practice" / "a.md")) for p in problems)


def test_the_shipped_practice_notes_load():
    from zoneinfo import ZoneInfo

    from bot.content.documents import Context, scan
    from bot.content.notes import PRACTICE

    repo = Path(__file__).resolve().parents[1]
    found = scan(repo / "content", PRACTICE, Context(ZoneInfo("Europe/London")))
    assert found.problems == []
    assert {"return-home-interviews", "lado", "out-of-hours-duty"} <= set(found.items)
