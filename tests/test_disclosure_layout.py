"""Every figure about staff goes out through the disclosure layer, and a new view cannot
forget it: this fails when code outside the layer counts people's acts, or a view calls the
raw counts the layer is built on."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Tables of what people did: whether they acknowledged, took a check, and how they answered.
STAFF_ACTS = re.compile(
    r"\b(acknowledgements|check_submissions|check_answers|check_reanswers|check_counts|"
    r"check_taken|check_reanswered)\b"
)
COUNTING = re.compile(r"\b(COUNT|SUM|TOTAL|AVG)\s*\(", re.IGNORECASE)
SQL = re.compile(r"\b(SELECT|FROM)\b")
# Where counting them is the job, or is never shown.
ALLOWED = {
    ("bot/storage/figures.py", "*"): "the truth the layer releases from",
    ("bot/storage/migrations.py", "m012_disclosure"): "builds counters, shows nothing",
    ("bot/storage/checks.py", "results_for"): "the raw truth, for tests and the benchmark",
    ("bot/storage/acknowledgements.py", "ack_summary"): "the raw truth, for tests",
}
# Raw counts a view must not call: the layer's `Disclosure` operations are the way out.
RAW = ("results_for", "ack_summary", "attributed_answers", "anonymous_answers")


def sources() -> list[Path]:
    return sorted([*REPO.glob("bot/**/*.py"), *REPO.glob("handlers/**/*.py")])


def counting_functions(path: Path) -> set[str]:
    """Module functions and methods whose SQL (their nested closures' too, and queries built
    from several strings) counts rows of staff's acts."""
    found = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        for top in [node, *(node.body if isinstance(node, ast.ClassDef) else [])]:
            if not isinstance(top, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            text = " ".join(
                c.value
                for c in ast.walk(top)
                if isinstance(c, ast.Constant) and isinstance(c.value, str) and SQL.search(c.value)
            )
            if STAFF_ACTS.search(text) and COUNTING.search(text):
                found.add(top.name)
    return found


def test_only_the_disclosure_layer_counts_what_staff_did():
    offenders = []
    for path in sources():
        name = path.relative_to(REPO).as_posix()
        for function in counting_functions(path):
            if (name, "*") in ALLOWED or (name, function) in ALLOWED:
                continue
            offenders.append(f"{name}: {function}")
    assert offenders == [], (
        "These count staff's acts outside bot/storage/figures.py: release the figure through "
        f"the disclosure layer (deps.storage.disclosure) instead: {offenders}"
    )


def test_no_view_reads_the_raw_counts():
    offenders = []
    for path in sources():
        name = path.relative_to(REPO).as_posix()
        if name.startswith("bot/storage/"):
            continue
        text = path.read_text(encoding="utf-8")
        offenders += [f"{name}: {raw}" for raw in RAW if re.search(rf"\.{raw}\(", text)]
        if "storage.figures" in text or "storage import figures" in text:
            offenders.append(f"{name}: imports bot.storage.figures")
    assert offenders == []


def test_the_check_catches_a_view_that_counts_for_itself(tmp_path):
    """The guard itself can fail: a results-like view with its own COUNT is found."""
    rogue = tmp_path / "rogue.py"
    rogue.write_text(
        "def team_view(db):\n"
        "    return db.execute(\n"
        "        'SELECT COUNT(*) FROM check_submissions'\n"
        "        ' WHERE briefing_id = ?', ['b']).fetchone()\n",
        encoding="utf-8",
    )
    assert counting_functions(rogue) == {"team_view"}
