"""The disclosure layer's arithmetic, attack by attack: each test replays one way a motivated
lead could work out a figure about fewer than MIN_GROUP_SIZE people, and shows it now learns
nothing. (The views that use it, and the attacks through the bot itself, are in
test_disclosure_views.py; random workspaces and an attacker solving over everything released
are in test_disclosure_adversary.py.)"""

from __future__ import annotations

import itertools

from bot import disclosure
from bot.disclosure import ACKS, ANSWERS, CLARITY, Live, State

MIN = 10
T0 = "2026-12-07T10:00:00+00:00"
T1 = "2026-12-07T10:01:00+00:00"


class Subject:
    """A subject whose people are named, with acts added one by one, as views see it."""

    def __init__(self, groups: dict[str, set[str]]):
        self.groups = groups
        self.people = sorted(set().union(*groups.values()))
        self.acts: dict[str, dict[str, int]] = {p: {} for p in self.people}
        self.state = State()

    def act(self, person: str, **measures: int) -> None:
        for measure, n in measures.items():
            self.acts[person][measure] = self.acts[person].get(measure, 0) + n

    def live(self) -> Live:
        reach: dict[frozenset[str], int] = {}
        counts: dict[frozenset[str], dict[str, int]] = {}
        for person in self.people:
            pattern = frozenset(g for g, members in self.groups.items() if person in members)
            reach[pattern] = reach.get(pattern, 0) + 1
            into = counts.setdefault(pattern, {})
            for measure, n in self.acts[person].items():
                into[measure] = into.get(measure, 0) + n
        return Live(reach, counts)

    def view(self, families=(ACKS, ANSWERS, CLARITY), at: str = T0) -> disclosure.Figures:
        live = self.live()
        disclosure.advance(self.state, live, families, MIN, at)
        return disclosure.figures(self.state, live, MIN)


def people(prefix: str, n: int) -> set[str]:
    return {f"{prefix}{i:02d}" for i in range(n)}


def test_two_overlapping_teams_never_show_both_with_the_total():
    """#team-a and #team-b, 12 each, sharing one person who got something wrong: A + B - total
    would be that person. One of the two is released with the total; the other is hidden."""
    shared = "U_SHARED"
    a, b = people("A", 11) | {shared}, people("B", 11) | {shared}
    subject = Subject({"#team-a": a, "#team-b": b})
    for person in subject.people:
        subject.act(person, took=1, first_time=int(person != shared))
    shown = subject.view()
    assert shown.total("took") == 23
    assert shown.total("first_time") == 22
    assert len(shown.groups) == 1
    assert len(shown.hidden) == 1
    released = shown.groups[0]
    # What a reader can do with what is shown: the released team and everyone else are each
    # eleven or more people, and the shared person is inside one of them.
    assert shown.group(released, "took") == 12
    assert shown.total("took") - shown.group(released, "took") == 11


def test_a_hidden_teams_understanding_cannot_be_had_from_the_total_and_the_rest():
    """A 12-member team where 9 took the check, beside a 15-member team where all did: the
    total minus the big team used to give the small team's 'understood' (about 9 takers).
    Now the total counts the small team's answers only once ten of them are released."""
    x, y = people("X", 12), people("Y", 15)
    subject = Subject({"#team-x": x, "#team-y": y})
    for person in sorted(x)[:9]:
        subject.act(person, took=1, first_time=1 if person < "X05" else 0)
    for person in y:
        subject.act(person, took=1, first_time=1)
    shown = subject.view()
    assert shown.group("#team-x", "took") == 0  # nine takers: not released yet
    assert shown.total("first_time") - shown.group("#team-y", "first_time") == 0
    assert shown.total("took") == 15


def test_status_total_minus_a_big_entry_says_nothing_of_a_person_named_alone():
    """An entry of one person beside a channel of thirty: the total minus the channel would be
    whether that one person acknowledged."""
    subject = Subject({"U_ALONE": {"U_ALONE"}, "#social-work-all": people("S", 30)})
    for person in sorted(people("S", 30))[:12]:
        subject.act(person, acknowledged=1)
    subject.act("U_ALONE", acknowledged=1)
    shown = subject.view()
    assert shown.groups == ()  # one cell, everyone: nothing to subtract
    assert shown.hidden == ("#social-work-all", "U_ALONE")
    assert shown.total("acknowledged") == 13


def test_viewing_before_and_after_one_person_answers_shows_the_same_figures():
    """Q1 '100% correct' then '96%, most chosen wrong answer (1 of 23)', and clarity '5.0 from
    22' then '4.8 from 23': one person's answer and rating, by looking twice."""
    subject = Subject({"#social-work-all": people("S", 40)})
    everyone = sorted(subject.people)
    for person in everyone[:22]:
        subject.act(person, took=1, first_time=1, **{"q:0:0": 1, "rated": 1, "clarity:5": 1})
    before = subject.view(at=T0)
    subject.act(everyone[22], took=1, **{"q:0:1": 1, "rated": 1, "clarity:1": 1})
    after = subject.view(at=T1)
    for measure in ("took", "first_time", "q:0:0", "q:0:1", "rated", "clarity:5", "clarity:1"):
        assert after.total(measure) == before.total(measure), measure
    assert after.as_of() == T0
    # Ten more answers later, the figures move, by eleven people at once.
    for person in everyone[23:32]:
        subject.act(person, took=1, first_time=1, **{"q:0:0": 1})
    moved = subject.view(at=T1)
    assert moved.total("took") == 32
    assert moved.total("q:0:1") == 1
    assert moved.as_of() == T1


def test_a_release_never_moves_a_cell_by_fewer_than_min_group():
    subject = Subject({"#a": people("A", 30), "#b": people("B", 30)})
    seen = []
    for n, person in enumerate(sorted(subject.people)):
        subject.act(person, acknowledged=1)
        shown = subject.view(at=f"2026-12-07T10:{n:02d}:00+00:00")
        seen.append((shown.group("#a", "acknowledged"), shown.group("#b", "acknowledged")))
    for earlier, later in itertools.pairwise(seen):
        for was, now in zip(earlier, later, strict=True):
            assert now == was or now - was >= MIN


def test_the_groups_chosen_first_are_kept_whatever_happens_later():
    """A breakdown chosen under one set of groups and another chosen later could be set
    against each other: the first choice stands."""
    subject = Subject({"#a": people("A", 12), "#b": people("B", 5)})
    assert subject.view().groups == ()
    subject.groups["#b"] |= people("B2", 10)
    subject.people = sorted(set().union(*subject.groups.values()))
    subject.acts |= {p: {} for p in subject.people if p not in subject.acts}
    assert subject.view().groups == ()


def test_nothing_is_shown_of_a_subject_that_reached_fewer_than_min_group():
    subject = Subject({"#small": people("S", MIN - 1)})
    for person in subject.people:
        subject.act(person, acknowledged=1)
    shown = subject.view()
    assert not shown.shown
    assert shown.total("acknowledged") == 0


def test_a_view_that_read_an_older_snapshot_never_moves_figures_back():
    """Views read the truth on their own thread, then release: one that read before another's
    release is older than what is released, and changes nothing."""
    subject = Subject({"#all": people("S", 40)})
    everyone = sorted(subject.people)
    for person in everyone[:10]:
        subject.act(person, acknowledged=1)
    stale = subject.live()
    for person in everyone[10:25]:
        subject.act(person, acknowledged=1)
    assert subject.view(at=T1).total("acknowledged") == 25
    disclosure.advance(subject.state, stale, (ACKS,), MIN, "2026-12-07T10:02:00+00:00")
    assert disclosure.figures(subject.state, stale, MIN).total("acknowledged") == 25
