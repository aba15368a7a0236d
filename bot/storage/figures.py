"""The truth behind figures about staff: counts as they stand, by pattern of groups.

Only the disclosure layer (`bot/storage/disclosure.py`) calls these: what they return is never
shown as it is. Each runs inside the layer's snapshot on the reader thread (or, for a
follow-up's "before" figures, inside the writer's transaction). A person's
*pattern* is the set of audience entries that named them (their teams, for a breakdown) in the
publications the subject's groups were chosen from, fixed from then on; measures are named
as `bot/disclosure.py`'s families expect: `acknowledged`; `took`, `first_time`,
`q:<question>:<option>`; `retook`, `after_retake`; `rated`, `clarity:<1-5>`; an anonymous
clarification's `again`, `again_correct`.
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from bot.disclosure import SEPARATOR, Live, Pattern, cell_groups

# The versions a check covers: its own, and later ones (corrections that kept it) up to the
# next version with a check of its own. `:b`, `:v` name the check; `{p}` the publications.
COVERED = (
    "{p}.version >= :v AND {p}.version < COALESCE((SELECT MIN(n.version) FROM checks n"
    " WHERE n.briefing_id = :b AND n.version > :v), 1000000000)"
)
# The versions of an acknowledgement round: those whose acknowledgements count together.
ROUND = (
    "{p}.version IN (SELECT version FROM broadcasts WHERE briefing_id = :b"
    " AND purpose = 'briefing' AND COALESCE(ack_round, version) = :r UNION SELECT :r)"
)


def ack_round(db: Database, briefing_id: str, version: int) -> int:
    """The round a version's acknowledgements count in: its own, or the version a correction
    that did not ask again carried them from."""
    row = db.execute(
        "SELECT COALESCE(ack_round, version) FROM broadcasts WHERE briefing_id = ?"
        " AND version = ? AND purpose = 'briefing'",
        [briefing_id, version],
    ).fetchone()
    return int(row[0]) if row else version


def publications(db: Database, versions: str, params: dict[str, Any]) -> list[int]:
    """The versions' publications, posted or not: whose members define people's patterns."""
    return [
        int(r[0])
        for r in db.execute(
            f"SELECT id FROM publications p WHERE p.briefing_id = :b AND {versions.format(p='p')}"
            " ORDER BY id",
            params,
        )
    ]


# A person's pattern: the entries that named them in the publications the subject's groups were
# chosen from (`frozen`), fixed from then on; for someone those never named (a late joiner,
# caught up), the entry of the first publication that reached them, fixed too. A pattern that
# could change would move people between cells, and a cell whose count moves for that reason
# could release acts nobody was meant to see yet.
_PATTERN = (
    "COALESCE((SELECT group_concat(entry, :sep) FROM (SELECT DISTINCT"
    " REPLACE(q.audience, 'dm:', '') AS entry FROM audience_members m JOIN publications q"
    " ON q.id = m.publication_id WHERE m.user_id = {user}"
    " AND q.id IN (SELECT value FROM json_each(:frozen)))),"
    " (SELECT REPLACE(q.audience, 'dm:', '') FROM recipients r JOIN publications q"
    " ON q.id = r.publication_id WHERE r.user_id = {user} AND q.briefing_id = :b"
    " AND {versions} ORDER BY r.publication_id LIMIT 1), '')"
)


# With the service's teams set (`TEAMS`), a person's pattern is instead the teams they were in
# when the frozen publications' versions were planned (`broadcast_teams`), or `NO_TEAM`: the
# same for everyone reached, whichever entry named them, and fixed as the entries are.
NO_TEAM = "not in a listed team"
_TEAM_PATTERN = (
    "COALESCE((SELECT group_concat(team, :sep) FROM (SELECT DISTINCT t.team FROM broadcast_teams t"
    " JOIN broadcasts b ON b.id = t.broadcast_id WHERE t.user_id = {user} AND b.briefing_id = :b"
    " AND b.purpose = 'briefing' AND b.version IN (SELECT q.version FROM publications q"
    " WHERE q.id IN (SELECT value FROM json_each(:frozen))))), :no_team)"
)


def by_team(db: Database, frozen: list[int]) -> bool:
    """Whether figures break down by the service's teams: they were set when one of the
    frozen publications' versions was planned. Otherwise by audience entry, as before teams
    existed. Decided by the frozen publications alone, so a later version planned with (or
    without) teams never switches the mode, and moves nobody, after the groups were chosen."""
    return (
        db.execute(
            "SELECT 1 FROM broadcasts b JOIN publications q ON q.briefing_id = b.briefing_id"
            " AND q.version = b.version WHERE q.id IN (SELECT value FROM json_each(?))"
            " AND b.purpose = 'briefing' AND b.teams IS NOT NULL LIMIT 1",
            [json.dumps(frozen)],
        ).fetchone()
        is not None
    )


def _pattern_sql(db: Database, versions: str, frozen: list[int], user: str) -> str:
    """The SQL for one person's pattern: by team or by entry (see `by_team`)."""
    if by_team(db, frozen):
        return _TEAM_PATTERN.format(user=user)
    return _PATTERN.format(user=user, versions=versions.format(p="q"))


# How many people's patterns a connection keeps, over every subject it has viewed, before it
# forgets those viewed longest ago: a trend over 500 briefings to 2,000 staff each is 1,000,000.
PEOPLE_KEPT = 1_500_000


def _people(db: Database, versions: str, params: dict[str, Any], frozen: list[int]) -> None:
    """Make the temporary view `_people` list everyone the versions reached and their pattern
    (entries joined by the unit separator, in any order), for the GROUP BYs that follow.

    Patterns are worked out once per subject and kept on the connection (`_people_kept`),
    reused while nothing they were made from has changed: who was reached and who each entry
    named only ever grow, so their row counts say whether they changed. Working a pattern out
    is most of a view's cost over a large audience (bench/trends.py), and a person's pattern
    never changes once the subject's groups are chosen, so a second view of the same subjects,
    a results view and its acknowledgement round, or the next trend, reuse them. Kept for the
    subjects viewed most recently, up to `PEOPLE_KEPT` people in all."""
    _people_tables(db)
    pubs = publications(db, versions, params)
    marks = ",".join("?" * len(pubs))
    key = json.dumps([params["b"], pubs, frozen])
    sizes = db.execute(
        "SELECT (SELECT COUNT(*) FROM recipients r JOIN publications p"
        f"  ON p.id = r.publication_id WHERE p.id IN ({marks}) AND p.status = 'posted'),"
        f" (SELECT COUNT(*) FROM audience_members WHERE publication_id IN ({marks}))",
        [*pubs, *pubs],
    ).fetchone()
    made = json.dumps(list(sizes))
    found = db.execute("SELECT id, made FROM _people_made WHERE key = ?", [key]).fetchone()
    if found is not None and found[1] == made:
        kept = int(found[0])
        db.execute(
            "UPDATE _people_made SET used = (SELECT MAX(used) + 1 FROM _people_made) WHERE id = ?",
            [kept],
        )
    else:
        if found is not None:
            _forget(db, int(found[0]))
        kept = _work_out_people(db, versions, params, frozen, key, made)
    db.execute("UPDATE _people_now SET id = ?", [kept])


def _people_tables(db: Database) -> None:
    """The connection's kept patterns, and `_people`, the view of those of the subject now
    being counted (`_people_now`)."""
    if db.execute("SELECT 1 FROM sqlite_temp_master WHERE name = '_people'").fetchone():
        return
    db.execute(
        "CREATE TEMP TABLE _people_made (id INTEGER PRIMARY KEY, key TEXT UNIQUE NOT NULL,"
        " made TEXT NOT NULL, people INTEGER NOT NULL, used INTEGER NOT NULL)"
    )
    db.execute(
        "CREATE TEMP TABLE _people_kept (made_id INTEGER, user_id TEXT, pattern TEXT NOT NULL,"
        " PRIMARY KEY (made_id, user_id)) WITHOUT ROWID"
    )
    db.execute(
        "CREATE TEMP TABLE _people_reach (made_id INTEGER, pattern TEXT, n INTEGER,"
        " PRIMARY KEY (made_id, pattern)) WITHOUT ROWID"
    )
    db.execute("CREATE TEMP TABLE _people_now (id INTEGER)")
    db.execute("INSERT INTO _people_now VALUES (NULL)")
    db.execute(
        "CREATE TEMP VIEW _people AS SELECT user_id, pattern FROM _people_kept"
        " WHERE made_id = (SELECT id FROM _people_now)"
    )


def _work_out_people(
    db: Database, versions: str, params: dict[str, Any], frozen: list[int], key: str, made: str
) -> int:
    """Work out and keep the patterns of everyone a subject reached, and how many each
    pattern reached (every figure needs it); then forget the least recently viewed subjects
    beyond `PEOPLE_KEPT` people."""
    used = db.execute("SELECT COALESCE(MAX(used), 0) + 1 FROM _people_made").fetchone()[0]
    kept = int(
        db.execute(
            "INSERT INTO _people_made (key, made, people, used) VALUES (?, ?, 0, ?)",
            [key, made, used],
        ).lastrowid
        or 0
    )
    db.execute(
        "INSERT INTO _people_kept SELECT :kept, u.user_id, "
        + _pattern_sql(db, versions, frozen, "u.user_id")
        + " FROM (SELECT DISTINCT r.user_id FROM recipients r JOIN publications p"
        "   ON p.id = r.publication_id WHERE p.briefing_id = :b"
        f"   AND {versions.format(p='p')} AND p.status = 'posted') u",
        {
            **params,
            "kept": kept,
            "sep": SEPARATOR,
            "frozen": json.dumps(frozen),
            "no_team": NO_TEAM,
        },
    )
    db.execute(
        "INSERT INTO _people_reach SELECT made_id, pattern, COUNT(*) FROM _people_kept"
        " WHERE made_id = ? GROUP BY pattern",
        [kept],
    )
    db.execute(
        "UPDATE _people_made SET people = (SELECT SUM(n) FROM _people_reach WHERE made_id = ?)"
        " WHERE id = ?",
        [kept, kept],
    )
    while True:
        total, oldest = db.execute(
            "SELECT SUM(people), (SELECT id FROM _people_made WHERE id != ? ORDER BY used"
            " LIMIT 1) FROM _people_made",
            [kept],
        ).fetchone()
        if oldest is None or (total or 0) <= PEOPLE_KEPT:
            return kept
        _forget(db, int(oldest))


def _forget(db: Database, kept: int) -> None:
    """Drop one subject's kept patterns (changed since, or viewed longest ago)."""
    db.execute("DELETE FROM _people_kept WHERE made_id = ?", [kept])
    db.execute("DELETE FROM _people_reach WHERE made_id = ?", [kept])
    db.execute("DELETE FROM _people_made WHERE id = ?", [kept])


def _pattern(text: str) -> Pattern:
    return frozenset(text.split(SEPARATOR)) if text else frozenset()


def _reach(db: Database) -> dict[Pattern, int]:
    """How many each pattern reached (patterns written in another order add up)."""
    reach: dict[Pattern, int] = {}
    for text, n in db.execute(
        "SELECT pattern, n FROM _people_reach WHERE made_id = (SELECT id FROM _people_now)"
    ):
        pattern = _pattern(text)
        reach[pattern] = reach.get(pattern, 0) + int(n)
    return reach


def _add(counts: dict[Pattern, dict[str, int]], pattern: Pattern, measure: str, n: int) -> None:
    if n:
        into = counts.setdefault(pattern, {})
        into[measure] = into.get(measure, 0) + int(n)


def acknowledgements(db: Database, briefing_id: str, round_: int, frozen: list[int]) -> Live:
    """Who a round reached, by pattern, and how many of them acknowledged any of its versions."""
    params = {"b": briefing_id, "r": round_}
    _people(db, ROUND, params, frozen)
    counts: dict[Pattern, dict[str, int]] = {}
    for pattern, n in db.execute(
        "SELECT pe.pattern, COUNT(*) FROM _people pe WHERE EXISTS (SELECT 1 FROM"
        f" acknowledgements a WHERE a.briefing_id = :b AND {ROUND.format(p='a')}"
        " AND a.user_id = pe.user_id) GROUP BY pe.pattern",
        params,
    ):
        _add(counts, _pattern(pattern), "acknowledged", n)
    return Live(_reach(db), counts)


def check_mode(db: Database, briefing_id: str, version: int) -> str | None:
    row = db.execute(
        "SELECT mode FROM checks WHERE briefing_id = ? AND version = ?", [briefing_id, version]
    ).fetchone()
    return None if row is None else str(row[0])


def check_reach(
    db: Database, briefing_id: str, version: int, frozen: list[int]
) -> dict[Pattern, int]:
    """Who a check reached, by pattern."""
    _people(db, COVERED, {"b": briefing_id, "v": version}, frozen)
    return _reach(db)


def named(db: Database, versions: str, params: dict[str, Any]) -> dict[Pattern, int]:
    """Who the versions' entries named, by pattern, whether or not their copy has arrived yet:
    the groups to release are chosen from this, the audience as sent, so an early view (or an
    early answer) while direct messages are still going out chooses as a late one would."""
    found: dict[Pattern, int] = {}
    frozen = publications(db, versions, params)
    if by_team(db, frozen):
        # By team: everyone named, with the teams they were in when the versions were planned.
        rows = db.execute(
            "SELECT pattern, COUNT(*) FROM (SELECT u.user_id, "
            + _TEAM_PATTERN.format(user="u.user_id")
            + " AS pattern FROM (SELECT DISTINCT m.user_id FROM audience_members m"
            "   JOIN publications q ON q.id = m.publication_id"
            f"   WHERE q.briefing_id = :b AND {versions.format(p='q')}) u) GROUP BY pattern",
            {**params, "sep": SEPARATOR, "frozen": json.dumps(frozen), "no_team": NO_TEAM},
        )
    else:
        rows = db.execute(
            "SELECT pattern, COUNT(*) FROM (SELECT user_id, group_concat(entry, :sep) AS pattern"
            "  FROM (SELECT DISTINCT m.user_id, REPLACE(q.audience, 'dm:', '') AS entry"
            "   FROM audience_members m JOIN publications q ON q.id = m.publication_id"
            f"   WHERE q.briefing_id = :b AND {versions.format(p='q')}) GROUP BY user_id)"
            " GROUP BY pattern",
            {**params, "sep": SEPARATOR},
        )
    for text, n in rows:
        pattern = _pattern(text)
        found[pattern] = found.get(pattern, 0) + int(n)
    return found


def attributed_answers(db: Database, briefing_id: str, version: int, frozen: list[int]) -> Live:
    """An attributed check's answers by the taker's pattern: first attempts (how many all
    right, each question's options, clarity) and retakes. Answers from outside the audience
    are never counted."""
    params = {"b": briefing_id, "v": version}
    _people(db, COVERED, params, frozen)
    counts: dict[Pattern, dict[str, int]] = {}
    taken = (
        " FROM check_submissions s JOIN _people pe ON pe.user_id = s.taker"
        " WHERE s.briefing_id = :b AND s.version = :v AND s.outside = 0"
    )
    # One pass for the funnel, retakes and clarity: by pattern, attempt and rating.
    for pattern, attempt, clarity, n, right in db.execute(
        "SELECT pe.pattern, s.attempt, s.clarity, COUNT(*), SUM(s.all_correct)"
        + taken
        + " GROUP BY 1, 2, 3",
        params,
    ):
        key = _pattern(pattern)
        if attempt == 1:
            _add(counts, key, "took", n)
            _add(counts, key, "first_time", right)
            if clarity is not None:
                _add(counts, key, "rated", n)
                _add(counts, key, f"clarity:{clarity}", n)
        else:
            _add(counts, key, "retook", n)
            _add(counts, key, "after_retake", right)
    for pattern, question, option, n in db.execute(
        "SELECT pe.pattern, a.question, a.option, COUNT(*)"
        + taken.replace(" WHERE", " JOIN check_answers a ON a.submission_id = s.id WHERE")
        + " AND s.attempt = 1 GROUP BY 1, 2, 3",
        params,
    ):
        _add(counts, _pattern(pattern), f"q:{question}:{option}", n)
    return Live(_reach(db), counts)


def anonymous_answers(db: Database, briefing_id: str, version: int, frozen: list[int]) -> Live:
    """An anonymous check's answers: its counters, kept per cell of `min_group` or more
    (an answer itself says nothing of where it came from)."""
    reach = check_reach(db, briefing_id, version, frozen)
    counts: dict[Pattern, dict[str, int]] = {}
    for cell, measure, n in db.execute(
        "SELECT cell, measure, n FROM check_counts WHERE briefing_id = ? AND version = ?",
        [briefing_id, version],
    ):
        _add(counts, cell_groups(cell), measure, n)
    return Live(reach, counts)


def person_pattern(
    db: Database, briefing_id: str, version: int, user_id: str, frozen: list[int]
) -> Pattern:
    """One person's pattern (as `_people` has it), for counting their anonymous answer."""
    key = {"b": briefing_id, "v": version}
    row = db.execute(
        "SELECT " + _pattern_sql(db, COVERED, frozen, ":u"),
        {**key, "u": user_id, "sep": SEPARATOR, "frozen": json.dumps(frozen), "no_team": NO_TEAM},
    ).fetchone()
    return _pattern(row[0] or "")


def count_anonymous(
    db: Database, briefing_id: str, version: int, cell: str, measures: dict[str, int]
) -> None:
    """Add one anonymous attempt to its cell's counters."""
    db.conn.executemany(
        "INSERT INTO check_counts (briefing_id, version, cell, measure, n) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (briefing_id, version, cell, measure) DO UPDATE SET n = n + excluded.n",
        [(briefing_id, version, cell, m, n) for m, n in measures.items() if n],
    )


def follow_ups(db: Database, briefing_id: str, version: int) -> list[dict[str, Any]]:
    """Each follow-up sent from a check: what it was about, when, the released figures kept
    from when it went (`before`), and, for an anonymous check's clarification, the truth of
    the question answered again since (`live`). An attributed follow-up's group, and what it
    did since, are never counted: that group is set by acts not yet released when it went."""
    anonymous = check_mode(db, briefing_id, version) == "anonymous"
    found = []
    for row in db.execute(
        "SELECT b.id, b.purpose, b.created_at, f.took_before, f.first_time_before,"
        " f.answered_before, f.correct_before,"
        " (SELECT COUNT(*) FROM deliveries d WHERE d.broadcast_id = b.id),"
        " (SELECT COUNT(*) FROM check_reanswers x WHERE x.broadcast_id = b.id),"
        " (SELECT COALESCE(SUM(x.correct), 0) FROM check_reanswers x"
        "   WHERE x.broadcast_id = b.id)"
        " FROM broadcasts b LEFT JOIN check_follow_ups f ON f.broadcast_id = b.id"
        " WHERE b.briefing_id = :b AND b.version = :v AND b.purpose LIKE 'followup:%'"
        " ORDER BY b.id",
        {"b": briefing_id, "v": version},
    ).fetchall():
        id_, purpose, at, took, first, answered, correct, to, again, again_right = row
        about = purpose.split(":", 1)[1]
        before = (
            None
            if took is None
            else {
                "took": took,
                "first_time": first,
                "answered": answered or 0,
                "correct": correct or 0,
            }
        )
        everyone: dict[Pattern, int] = {frozenset(): int(to)}
        measures = {"again": again, "again_correct": again_right}
        found.append(
            {
                "id": id_,
                "about": about,
                "at": at,
                # Anonymous: it went to everyone reached, which is no secret.
                "everyone": int(to) if anonymous else None,
                "before": before,
                "live": Live(everyone, {frozenset(): measures})
                if anonymous and about != "none"
                else None,
            }
        )
    return found


_COMMENTED = (
    " FROM check_submissions WHERE briefing_id = ? AND version = ? AND attempt = 1"
    " AND outside = 0 AND comment IS NOT NULL"
)


def unreleased_comments(db: Database, briefing_id: str, version: int) -> int:
    return int(
        db.execute(
            "SELECT COUNT(*)" + _COMMENTED + " AND comment_released IS NULL",
            [briefing_id, version],
        ).fetchone()[0]
    )


def release_comments(db: Database, briefing_id: str, version: int) -> None:
    db.execute(
        "UPDATE check_submissions SET comment_released = 1 WHERE id IN (SELECT id"
        + _COMMENTED
        + " AND comment_released IS NULL)",
        [briefing_id, version],
    )


def released_comments(db: Database, briefing_id: str, version: int) -> tuple[list[str], int]:
    """Up to 50 released comments, in no order people answered in, and how many there are."""
    rows = [
        str(r[0])
        for r in db.execute(
            "SELECT comment" + _COMMENTED + " AND comment_released = 1 ORDER BY RANDOM() LIMIT 50",
            [briefing_id, version],
        )
    ]
    total = db.execute(
        "SELECT COUNT(*)" + _COMMENTED + " AND comment_released = 1", [briefing_id, version]
    ).fetchone()[0]
    return rows, int(total)
