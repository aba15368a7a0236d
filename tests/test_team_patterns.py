"""People's patterns stay fixed once a subject's groups are chosen, whether by entry or team."""

from __future__ import annotations

import json

from bot.storage import figures

PEOPLE = [f"U{i:02d}" for i in range(12)]


def _version(db, version, teams=None, ack_round=None):
    """A posted version to `#all` naming everyone; with `teams`, planned with TEAMS set."""
    db.execute(
        "INSERT INTO broadcasts (briefing_id, version, message, status, purpose, ack_round, teams)"
        " VALUES ('b', ?, '{}', 'done', 'briefing', ?, ?)",
        [version, ack_round, None if teams is None else json.dumps(sorted(teams))],
    )
    broadcast = db.execute("SELECT last_insert_rowid()").fetchone()[0]
    for team, members in (teams or {}).items():
        for user in members:
            db.execute(
                "INSERT INTO broadcast_teams (broadcast_id, user_id, team) VALUES (?, ?, ?)",
                [broadcast, user, team],
            )
    db.execute(
        "INSERT INTO publications (briefing_id, version, audience, status)"
        " VALUES ('b', ?, '#all', 'posted')",
        [version],
    )
    pub = db.execute("SELECT last_insert_rowid()").fetchone()[0]
    for user in PEOPLE:
        db.execute("INSERT INTO recipients (publication_id, user_id) VALUES (?, ?)", [pub, user])
        db.execute(
            "INSERT INTO audience_members (publication_id, user_id) VALUES (?, ?)", [pub, user]
        )
    return pub


def _patterns(db, frozen):
    params = {"b": "b", "r": 1}
    figures._people(db, figures.ROUND, params, frozen)
    return dict(db.execute("SELECT user_id, pattern FROM _people"))


async def test_a_later_version_planned_with_teams_moves_nobody_chosen_by_entry(storage):
    def run(db):
        first = _version(db, 1)
        chosen = figures.named(db, figures.ROUND, {"b": "b", "r": 1})
        before = _patterns(db, [first])
        # A correction that keeps the round, planned after TEAMS was set.
        _version(db, 2, teams={"@a": PEOPLE[:6], "@b": PEOPLE[6:]}, ack_round=1)
        return chosen, before, _patterns(db, [first])

    chosen, before, after = await storage.call(run)
    assert chosen == {frozenset({"#all"}): 12}
    assert set(before.values()) == {"#all"}
    assert after == before


async def test_named_by_team_agrees_with_the_people_it_was_chosen_for(storage):
    def run(db):
        first = _version(db, 1, teams={"@a": PEOPLE[:6], "@b": PEOPLE[6:]})
        chosen = figures.named(db, figures.ROUND, {"b": "b", "r": 1})
        people = _patterns(db, [first])
        return chosen, people

    chosen, people = await storage.call(run)
    counted: dict[frozenset[str], int] = {}
    for text in people.values():
        key = frozenset(text.split(figures.SEPARATOR))
        counted[key] = counted.get(key, 0) + 1
    assert chosen == counted == {frozenset({"@a"}): 6, frozenset({"@b"}): 6}
