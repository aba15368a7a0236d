"""People's patterns stay fixed once a subject's groups are chosen, whether by entry or team."""

from __future__ import annotations

import json

import pytest

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


def _briefing(db, briefing_id, people):
    """A posted version 1 of `briefing_id` to `#all`, naming and reaching `people`."""
    db.execute(
        "INSERT INTO publications (briefing_id, version, audience, status)"
        " VALUES (?, 1, '#all', 'posted')",
        [briefing_id],
    )
    pub = db.execute("SELECT last_insert_rowid()").fetchone()[0]
    for user in people:
        db.execute("INSERT INTO recipients (publication_id, user_id) VALUES (?, ?)", [pub, user])
        db.execute(
            "INSERT INTO audience_members (publication_id, user_id) VALUES (?, ?)", [pub, user]
        )
    return pub


def _reached(db, briefing_id, frozen):
    figures._people(db, figures.ROUND, {"b": briefing_id, "r": 1}, frozen)
    return figures._reach(db), dict(db.execute("SELECT user_id, pattern FROM _people"))


async def test_patterns_kept_for_one_briefing_are_never_another_briefings(storage):
    def run(db):
        a = _briefing(db, "a", PEOPLE[:5])
        b = _briefing(db, "b2", PEOPLE[5:])
        return _reached(db, "a", [a]), _reached(db, "b2", [b]), _reached(db, "a", [a])

    first, other, again = await storage.call(run)
    assert set(first[1]) == set(PEOPLE[:5])
    assert set(other[1]) == set(PEOPLE[5:])
    assert first[0] == {frozenset({"#all"}): 5}
    assert other[0] == {frozenset({"#all"}): 7}
    assert again == first


async def test_someone_reached_after_a_view_counts_in_the_next(storage):
    def run(db):
        a = _briefing(db, "a", PEOPLE[:5])
        before = _reached(db, "a", [a])
        db.execute("INSERT INTO recipients (publication_id, user_id) VALUES (?, 'late')", [a])
        return before, _reached(db, "a", [a])

    before, after = await storage.call(run)
    assert before[0] == {frozenset({"#all"}): 5}
    assert after[0] == {frozenset({"#all"}): 6}
    assert after[1]["late"] == "#all"  # not named: the entry whose copy reached them


async def test_patterns_forgotten_for_room_are_worked_out_again_alike(storage, monkeypatch):
    monkeypatch.setattr(figures, "PEOPLE_KEPT", 8)  # room for one briefing's people at a time

    def run(db):
        pubs = {name: _briefing(db, name, PEOPLE[i : i + 6]) for i, name in enumerate("xyz")}
        first = {name: _reached(db, name, [pub]) for name, pub in pubs.items()}
        kept = db.execute("SELECT COUNT(*) FROM _people_made").fetchone()[0]
        return first, kept, {name: _reached(db, name, [pub]) for name, pub in pubs.items()}

    first, kept, again = await storage.call(run)
    assert kept == 1
    assert again == first
    assert set(first["y"][1]) == set(PEOPLE[1:7])


async def test_a_view_that_fails_half_way_leaves_nothing_kept_for_the_next(storage, monkeypatch):
    """A read that fails while working a subject's people out (the temporary file full, say)
    is undone whole: the next view works them out again, never trusting an empty entry."""
    from bot.storage.disclosure import snapshot

    pub = await storage.writer.write(lambda db: _briefing(db, "a", PEOPLE))
    real, calls = figures._pattern_sql, []

    def failing_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database or disk is full")
        return real(*args, **kwargs)

    monkeypatch.setattr(figures, "_pattern_sql", failing_once)

    def live(db):
        return figures.acknowledgements(db, "a", 1, [pub])

    with pytest.raises(RuntimeError):
        await storage.writer.read(lambda db: snapshot(db, lambda: live(db)))
    after = await storage.writer.read(lambda db: snapshot(db, lambda: live(db)))
    assert after.reach == {frozenset({"#all"}): 12}
