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
    ("bot/storage/check_results.py", "results_for"): "the raw truth, for tests and the benchmark",
    ("bot/storage/acknowledgements.py", "ack_summary"): "the raw truth, for tests",
    # Choosing whom to send something to (the count they return is never shown to anyone).
    ("bot/storage/catchup.py", "add"): "who to catch up",
    ("bot/storage/reminders.py", "queue"): "who to remind",
    (
        "bot/storage/reminders.py",
        "remind_now",
    ): "who to remind now; the count is of the list its sender was shown by name",
    ("bot/storage/outbox.py", "queue_plan"): "who a broadcast goes to",
    (
        "bot/storage/follow_ups.py",
        "queue_follow_up",
    ): "who a follow-up goes to; the reply has no count",
}
# Raw counts a view must not call: the layer's `Disclosure` operations are the way out.
RAW = ("results_for", "ack_summary", "attributed_answers", "anonymous_answers")


def sources() -> list[Path]:
    return sorted([*REPO.glob("bot/**/*.py"), *REPO.glob("handlers/**/*.py")])


# Counting in Python what SQL selected: len(rows), sqlite-utils' count_where, a table's .count.
PY_COUNTING = re.compile(r"\blen\(|\bcount_where\(|\.count\b|\bsum\(")


def counting_functions(path: Path) -> set[str]:
    """Module functions and methods whose SQL (their nested closures' too, and queries built
    from several strings) counts rows of staff's acts, in SQL or by counting what it selected
    in Python; and `<module>` for module-level SQL that counts them."""
    found = set()
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    module_sql = " ".join(
        c.value
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for c in ast.walk(node)
        if isinstance(c, ast.Constant) and isinstance(c.value, str) and SQL.search(c.value)
    )
    if STAFF_ACTS.search(module_sql) and COUNTING.search(module_sql):
        found.add("<module>")
    for node in tree.body:
        for top in [node, *(node.body if isinstance(node, ast.ClassDef) else [])]:
            if not isinstance(top, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            text = " ".join(
                c.value
                for c in ast.walk(top)
                if isinstance(c, ast.Constant) and isinstance(c.value, str) and SQL.search(c.value)
            )
            code = ast.get_source_segment(source, top) or ""
            if STAFF_ACTS.search(text) and (
                COUNTING.search(text) or PY_COUNTING.search(code.replace(text, ""))
            ):
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
    """The guard itself can fail: a results-like view with its own COUNT is found, and so is
    one that counts in Python what it selected, or keeps its counting SQL at module level."""
    rogue = tmp_path / "rogue.py"
    rogue.write_text(
        "def team_view(db):\n"
        "    return db.execute(\n"
        "        'SELECT COUNT(*) FROM check_submissions'\n"
        "        ' WHERE briefing_id = ?', ['b']).fetchone()\n",
        encoding="utf-8",
    )
    assert counting_functions(rogue) == {"team_view"}
    rogue.write_text(
        "ACKED = 'SELECT user_id FROM acknowledgements WHERE briefing_id = ?'\n"
        "SHOWN = 'SELECT COUNT(*) FROM check_answers'\n"
        "def acked(db, b):\n"
        "    return len(db.execute(ACKED, [b]).fetchall())\n"
        "def acked_by_user(db, b):\n"
        "    rows = db.execute('SELECT user_id FROM acknowledgements WHERE briefing_id = ?', [b])\n"
        "    return len(rows.fetchall())\n",
        encoding="utf-8",
    )
    assert counting_functions(rogue) == {"<module>", "acked_by_user"}
