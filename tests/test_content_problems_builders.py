"""The pure parts of "a broken file takes only itself out": reading (ready and broken, no
server paths) and each builder of what `/brief` and the leads' Home say about it."""

from __future__ import annotations

import io
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.content.briefings import load_briefings, read_briefings
from bot.content.broken import Broken, Loaded, left_out, without_paths
from bot.content.circulars import read_circulars
from bot.content.documents import Problem
from bot.preview import run_content_preview
from handlers.briefings.problem_blocks import (
    build_briefing_list,
    build_broken_reply,
    build_left_out_note,
    build_unknown_briefing,
    plain_problem,
)
from handlers.briefings.problems_home import (
    MAX_FILES_SHOWN,
    build_content_problems,
    practice_left_out,
)

LONDON = ZoneInfo("Europe/London")
GOOD = """---
id: {id}
title: A good one
audience: ["#social-work-all"]
---
Body.
"""


def broken(file="duty-changes.md", *messages: str, title: str | None = "Duty changes") -> Broken:
    problems = tuple(
        Problem(Path(file), n, m) for n, m in enumerate(messages or ("deliver is 'x'",), 2)
    )
    return Broken(file, "briefing", Path(file).stem, title, problems)


def write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


# -- reading -------------------------------------------------------------------------------


def test_a_duplicate_id_names_the_other_file_without_its_path(tmp_path):
    write(tmp_path / "briefings", "a.md", GOOD.format(id="same"))
    write(tmp_path / "briefings", "b.md", GOOD.format(id="same"))
    loaded = read_briefings(tmp_path, LONDON)
    assert list(loaded.ready) == ["same"]
    [twin] = loaded.broken
    [problem] = twin.problems
    assert (twin.file, problem.path, problem.line) == ("b.md", Path("b.md"), 2)
    assert problem.message == "id 'same' is already used by a.md: give each briefing its own id"
    assert str(tmp_path) not in problem.message


def test_no_briefings_folder_is_no_briefings_and_no_broken_file(tmp_path):
    loaded = read_briefings(tmp_path, LONDON)
    assert (loaded.ready, loaded.broken) == ({}, ())
    assert load_briefings(tmp_path / "nowhere", LONDON) == {}


def test_a_broken_circular_takes_only_itself_out(tmp_path):
    circular = (
        "---\nid: {id}\ntitle: T\naudience: ['#a']\nschedule: {when}\npublisher: U0SM01\n---\nHi\n"
    )
    write(tmp_path / "circulars", "ok.md", circular.format(id="ok", when="every Friday 09:00"))
    write(tmp_path / "circulars", "bad.md", circular.format(id="bad", when="whenever"))
    loaded = read_circulars(tmp_path, LONDON)
    assert list(loaded.ready) == ["ok"]
    assert [(b.file, b.noun, b.id) for b in loaded.broken] == [("bad.md", "circular", "bad")]


def test_paths_are_cut_to_the_files_name():
    folder = Path("/srv/los/content")
    assert without_paths("used by /srv/los/content/briefings/a.md: fix", folder) == (
        "used by a.md: fix"
    )
    assert without_paths("no such folder /srv/los/content", folder) == (
        "no such folder the content folder"
    )
    assert without_paths("see /etc/other/place/x.yaml now", folder) == "see x.yaml now"
    assert without_paths("link to 'https://a.example/b/c' is fine", folder) == (
        "link to 'https://a.example/b/c' is fine"
    )
    # A relative content folder: its name alone is a word, never replaced.
    assert without_paths("run content check on content/briefings/a.md", Path("content")) == (
        "run content check on a.md"
    )


def test_a_broken_one_is_found_by_id_or_file_name_but_never_the_audiences_file():
    loaded = Loaded(
        {"good": object()},
        (
            Broken("audiences.yaml", "named audiences", None, None, (Problem(Path("a"), 1, "x"),)),
            Broken("rota.md", "briefing", None, None, (Problem(Path("rota.md"), 3, "x"),)),
            broken("duty.md"),
        ),
    )
    assert loaded.broken_one("rota") is loaded.broken[1]
    assert loaded.broken_one("duty") is loaded.broken[2]
    assert loaded.broken_one("audiences") is None
    assert loaded.broken_one("good") is None


def test_whole_folder_problems_name_no_file():
    problems = [Problem(Path("/c"), 0, "no briefings/ folder"), Problem(Path("/c/b/x.md"), 4, "y")]
    assert [b.file for b in left_out(problems, Path("/c"), "briefing")] == ["x.md"]


# -- what the publisher is told ------------------------------------------------------------


def test_the_broken_reply_names_the_file_each_problem_and_who_fixes_it():
    text = build_broken_reply(broken("duty-changes.md", "deliver is 'x'", "front matter is odd"))
    assert text == (
        "*Duty changes* can't be published until its file is fixed, so nothing was sent.\n"
        "`duty-changes.md` has 2 problems:\n"
        "• Line 2: deliver is 'x'\n"
        "• Line 3: the settings at the top of the file are odd\n"
        "Whoever keeps the briefing files can put this right; with the files to hand, "
        "`content check` shows every problem and its line. Other briefings are not affected."
    )


def test_the_broken_reply_for_each_occasion_and_many_problems():
    many = broken("a.md", *[f"problem {n} <b>" for n in range(7)], title=None)
    scheduled = build_broken_reply(many, why="scheduled")
    assert scheduled.startswith(
        "`a` was due to go out, but its file now has 7 problems, so nothing was sent."
    )
    assert "• Line 2: problem 0 &lt;b&gt;" in scheduled
    assert "problem 5" not in scheduled
    assert "…and 2 more." in scheduled
    assert scheduled.endswith("Once it is fixed, `/brief publish a now` sends it.")
    assert build_broken_reply(many, why="status").startswith("`a` has not been published:")
    assert build_broken_reply(many, why="preview").startswith("The briefing `a` can't go out")


def test_a_problem_is_cut_and_escaped():
    line = plain_problem(Problem(Path("a.md"), 0, "<!channel> " + "x" * 400), limit=50)
    assert line.startswith("&lt;!channel&gt; x")
    assert len(line) <= 50
    assert line.endswith("…")


def test_an_unknown_id_is_offered_the_close_ones():
    known = ["recruitment-funding", "triple-lock", "threshold-document", "duty-changes"]
    assert build_unknown_briefing("triple-lok", known) == (
        "There's no briefing called `triple-lok`. Did you mean `triple-lock`? "
        "`/brief list` shows the briefings ready to publish."
    )
    two = build_unknown_briefing("rota-a", ["rota-b", "rota-c", "zzz"])
    assert "Did you mean `rota-c` or `rota-b`?" in two  # closest first; "zzz" is not close
    assert build_unknown_briefing("<!here>", known) == (
        "There's no briefing called `&lt;!here&gt;`. "
        "`/brief list` shows the briefings ready to publish."
    )


def test_the_list_and_its_note_of_files_with_problems():
    assert build_briefing_list([], []) == "There are no briefings in the content folder yet."
    ready = [("a", "Alpha", False), ("b", "Beta <x>", True)]
    assert build_briefing_list(ready, []) == (
        "*Briefings ready to publish*\n• `a` — Alpha\n• `b` — Beta &lt;x&gt; _(written in Slack)_"
    )
    one = build_briefing_list([], [broken("x.md")])
    assert one == (
        "No briefings are ready to publish.\n_1 file has problems, so it is left out until "
        "fixed: `x.md`. `/brief publish &lt;id&gt;` on one says what to fix._"
    )
    many = build_left_out_note([broken(f"{n}.md") for n in range(7)])
    assert many.startswith("_7 files have problems, so they are left out until fixed: `0.md`")
    assert "`4.md` and 2 more." in many
    long = build_briefing_list([(f"b{n}", "T", False) for n in range(45)], [])
    assert long.count("\n• ") == 40
    assert long.endswith("…and 5 more.")


# -- the leads' Home note ------------------------------------------------------------------


def test_the_home_note_is_one_line_a_file_and_nothing_when_all_is_well():
    assert build_content_problems([]) == []
    blocks = [b.to_dict() for b in build_content_problems([broken("a.md", "p1", "p2", "p3")])]
    assert blocks[0]["text"]["text"].split("\n")[1:] == [
        "• `a.md` (briefing): Line 2: p1 _(and 2 more)_"
    ]
    assert "`content check` lists every problem" in blocks[1]["elements"][0]["text"]


def test_the_home_note_stays_short_and_within_slacks_limits():
    files = [broken(f"{n}.md", "y" * 2000) for n in range(MAX_FILES_SHOWN + 3)]
    [section, _] = [b.to_dict() for b in build_content_problems(files)]
    text = section["text"]["text"]
    assert len(text) <= 3000
    assert text.count("\n• ") == MAX_FILES_SHOWN
    assert text.endswith("…and 3 more files.")


def test_practice_search_left_out_files_are_named_by_what_they_are():
    content = Path("/srv/content")
    skipped = [
        Problem(content / "practice" / "lado.md", 3, "reviewed is missing"),
        Problem(content / "directory.yaml", 7, "phone is odd"),
        Problem(content / "glossary.yaml", 1, "not a list"),
    ]
    assert [(b.file, b.noun) for b in practice_left_out(skipped, content)] == [
        ("lado.md", "practice note"),
        ("directory.yaml", "directory"),
        ("glossary.yaml", "glossary"),
    ]


def test_content_preview_is_not_stopped_by_another_file_and_lists_its_own(tmp_path):
    write(tmp_path / "briefings", "good.md", GOOD.format(id="good"))
    write(tmp_path / "briefings", "bad.md", GOOD.format(id="bad").replace("title", "titel"))
    out = io.StringIO()
    assert run_content_preview(tmp_path, "good", LONDON, out) == 0
    assert "A good one" in out.getvalue()
    out = io.StringIO()
    assert run_content_preview(tmp_path, "bad", LONDON, out) == 1
    shown = out.getvalue()
    assert f"{tmp_path / 'briefings'}/bad.md:3: " in shown  # a terminal: the full path helps
    assert shown.endswith("Fix these first (python -m bot content check).\n")
