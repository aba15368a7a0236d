"""Small teams' figures stay hidden, and no hidden figure can be worked out by subtraction.

A team's figure (how many took the check, how many understood) is a sum over its members. The
property: for every hidden team, no sum and difference of shown teams' figures and the total
equals it — over random team layouts, overlapping or not.
"""

from __future__ import annotations

from itertools import product

from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.checks.results import suppressed

PEOPLE = [f"U{n:02d}" for n in range(14)]


def team(*people: int) -> frozenset[str]:
    return frozenset(PEOPLE[p] for p in people)


def recoverable(hidden: frozenset[str], shown: list[frozenset[str]], everyone) -> bool:
    """Is the hidden team exactly some +/- combination of whole shown figures and the total?
    (Checked person by person: the combination counts each person as the team does.)"""
    rows = [*shown, everyone]
    for signs in product((-1, 0, 1), repeat=len(rows)):
        if not any(signs):
            continue
        if all(
            sum(s for s, row in zip(signs, rows, strict=True) if person in row)
            == (1 if person in hidden else 0)
            for person in everyone
        ):
            return True
    return False


def test_a_small_team_and_the_one_that_would_give_it_away_are_hidden():
    small, rest = team(0, 1, 2), team(*range(3, 14))
    assert suppressed([small, rest], small | rest, min_group=5) == {0, 1}


def test_a_small_team_inside_a_shown_one_with_no_complement_stays_alone_hidden():
    everyone = team(*range(14))
    assert suppressed([team(0, 1, 2), everyone], everyone, min_group=5) == {0}


def test_nested_teams_cannot_be_subtracted_either():
    # A = B + C exactly: with A and B shown, C (small) would be A - B.
    a, b, c = team(*range(10)), team(*range(3, 10)), team(0, 1, 2)
    other = team(10, 11, 12, 13, 0)
    hidden = suppressed([a, b, c, other], a | other, min_group=4)
    assert 2 in hidden
    shown = [t for i, t in enumerate([a, b, c, other]) if i not in hidden]
    assert not recoverable(c, shown, a | other)


layouts = st.lists(
    st.frozensets(st.sampled_from(PEOPLE), min_size=1, max_size=len(PEOPLE)),
    min_size=1,
    max_size=5,
)


@settings(max_examples=150, deadline=None)
@given(teams=layouts, min_group=st.integers(min_value=2, max_value=8))
def test_no_hidden_team_can_be_worked_out_from_what_is_shown(teams, min_group):
    everyone = frozenset().union(*teams)
    hidden = suppressed(teams, everyone, min_group)
    assert {i for i, t in enumerate(teams) if len(t) < min_group} <= hidden
    shown = [t for i, t in enumerate(teams) if i not in hidden]
    for i in hidden:
        if teams[i] in shown or teams[i] == everyone:
            continue  # the same people as a shown figure: nothing private in it
        assert not recoverable(teams[i], shown, everyone), (teams, min_group, hidden)
