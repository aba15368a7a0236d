"""An adversary against the disclosure layer, over random workspaces.

Random overlapping groups (sizes 1-40), random acknowledgements and answers, views taken at
random moments; the attacker keeps every figure every view released and tries two things:

- **Solve.** Every released figure is a linear equation over unknowns "person p's status at
  view r". The attacker row-reduces all of them together (across views, groups and measures
  of one family) and asks whether any of these is determined: one person's status at a view,
  one person's change between two views, or the sum over any overlap cell (people sharing one
  pattern of groups) smaller than MIN_GROUP_SIZE at a view. Exact arithmetic over a prime
  field of 2^61 - 1 (a 0/1 system's rank over the rationals and over so large a prime agree
  here); a hit is a leak.
- **Difference.** Knowing exactly who acted between two of their views, the attacker looks
  for a released figure that changed while fewer than MIN_GROUP_SIZE of its group acted in
  between: that change would be about those few.

Seeded (derandomised) and CI-sized; `ADVERSARY_EXAMPLES=2000` runs it long.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import disclosure
from bot.disclosure import ACKS, ANSWERS, Live, State

PRIME = (1 << 61) - 1
EXAMPLES = int(os.environ.get("ADVERSARY_EXAMPLES", "400"))


class RowSpace:
    """Row-reduced equations over GF(PRIME): can a vector be written as their combination?"""

    def __init__(self) -> None:
        self.rows: list[tuple[int, dict[int, int]]] = []  # (pivot column, sparse row)

    def _reduce(self, vector: dict[int, int]) -> dict[int, int]:
        v = {k: x % PRIME for k, x in vector.items() if x % PRIME}
        for pivot, row in self.rows:
            if v.get(pivot):
                v = _minus(v, v[pivot], row)
        return v

    def add(self, vector: dict[int, int]) -> None:
        v = self._reduce(vector)
        if not v:
            return
        pivot = min(v)
        inverse = pow(v[pivot], PRIME - 2, PRIME)
        v = {k: x * inverse % PRIME for k, x in v.items()}
        # Keep earlier rows reduced at this pivot (so `_reduce` needs one pass).
        self.rows = [
            (p, _minus(row, row.get(pivot, 0), v)) if row.get(pivot) else (p, row)
            for p, row in self.rows
        ]
        self.rows.append((pivot, v))

    def determines(self, vector: dict[int, int]) -> bool:
        return not self._reduce(vector)


def _minus(row: dict[int, int], factor: int, v: dict[int, int]) -> dict[int, int]:
    """`row - factor * v`, sparse, over GF(PRIME)."""
    out = dict(row)
    for k, x in v.items():
        value = (out.get(k, 0) - factor * x) % PRIME
        if value:
            out[k] = value
        else:
            out.pop(k, None)
    return out


@st.composite
def workspaces(draw):
    n = draw(st.integers(min_value=6, max_value=40))
    people = list(range(n))
    groups = {
        f"g{i}": frozenset(draw(st.lists(st.sampled_from(people), min_size=1, max_size=n)))
        for i in range(draw(st.integers(min_value=1, max_value=4)))
    }
    min_group = draw(st.integers(min_value=3, max_value=10))
    # A script: each step one person acts (acknowledges, or takes the check right or wrong),
    # or a view is taken.
    steps = draw(
        st.lists(
            st.one_of(
                st.just(("view",)),
                st.tuples(st.just("ack"), st.sampled_from(people)),
                st.tuples(st.just("take"), st.sampled_from(people), st.booleans()),
            ),
            min_size=1,
            max_size=120,
        )
    )
    return people, groups, min_group, steps


def pattern_of(person: int, groups: dict[str, frozenset[int]]) -> frozenset[str]:
    return frozenset(g for g, members in groups.items() if person in members)


def play(people, groups, min_group, steps):
    """Run the script; return each view's released figures and each person's status then."""
    everyone = frozenset(people)
    status = {p: {"acknowledged": 0, "took": 0, "first_time": 0} for p in people}
    state = State()
    views = []  # per view: {(group or None, measure): value}, statuses, snapshot view per cell
    for step in [*steps, ("view",)]:
        if step[0] == "ack":
            status[step[1]]["acknowledged"] = 1
        elif step[0] == "take" and not status[step[1]]["took"]:
            status[step[1]]["took"] = 1
            status[step[1]]["first_time"] = int(step[2])
        elif step[0] == "view":
            r = len(views)
            reach: dict[frozenset[str], int] = {}
            counts: dict[frozenset[str], dict[str, int]] = {}
            for p in everyone:
                pattern = pattern_of(p, groups)
                reach[pattern] = reach.get(pattern, 0) + 1
                into = counts.setdefault(pattern, {})
                for measure, value in status[p].items():
                    into[measure] = into.get(measure, 0) + value
            live = Live(reach, counts)
            disclosure.advance(state, live, (ACKS, ANSWERS), min_group, f"{r:06d}")
            shown = disclosure.figures(state, live, min_group)
            released = {}
            if shown.shown:
                for measure in ("acknowledged", "took", "first_time"):
                    released[(None, measure)] = shown.total(measure)
                    for g in shown.groups:
                        released[(g, measure)] = shown.group(g, measure)
            snapshots = {key: int(value.at) for key, value in state.cells.items() if value.at}
            views.append(
                {
                    "released": released,
                    "groups": shown.groups,
                    "status": {p: dict(s) for p, s in status.items()},
                    "snapshots": dict(snapshots),
                }
            )
    return views


# Seeded (the same examples every run) and CI-sized unless ADVERSARY_EXAMPLES says more.
def seeded(test):
    return settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )(given(workspaces())(test))


def column(person: int, view: int, people: int) -> int:
    return view * people + person


@seeded
def test_no_attacker_pins_a_small_cell_or_one_persons_act(workspace):
    people, groups, min_group, steps = workspace
    views = play(people, groups, min_group, steps)
    n = len(people)
    family_of = {"acknowledged": "acks", "took": "answers", "first_time": "answers"}
    for measure in ("acknowledged", "took", "first_time"):
        space = RowSpace()
        for view in views:
            chosen = view["groups"]
            for (group, m), _value in view["released"].items():
                if m != measure:
                    continue
                row: dict[int, int] = {}
                for p in people:
                    pattern = pattern_of(p, groups)
                    if group is not None and group not in pattern:
                        continue
                    cell = disclosure.cell_key(pattern, chosen)
                    at = view["snapshots"].get((family_of[measure], cell))
                    if at is not None:  # released at view `at`: the status then
                        row[column(p, at, n)] = 1
                space.add(row)
        # One person at a view, or their change between two views.
        for r in range(len(views)):
            for p in people:
                assert not space.determines({column(p, r, n): 1}), (measure, p, r)
                for s in range(r):
                    change = {column(p, r, n): 1, column(p, s, n): -1}
                    assert not space.determines(change), (measure, p, s, r)
        # Any overlap cell of fewer than min_group people, at any view.
        cells: dict[frozenset[str], list[int]] = {}
        for p in people:
            cells.setdefault(pattern_of(p, groups), []).append(p)
        for members in cells.values():
            if len(members) < min_group:
                for r in range(len(views)):
                    assert not space.determines({column(p, r, n): 1 for p in members})


@seeded
def test_every_change_between_two_views_is_made_of_min_group_peoples_acts(workspace):
    """Knowing who acted when, the attacker sets two views side by side: whatever changed is
    the acts of at least `min_group` people of the group (those since the figures they saw
    were released), never one person's, nor a handful's."""
    people, groups, min_group, steps = workspace
    views = play(people, groups, min_group, steps)
    event = {"acknowledged": "acknowledged", "took": "took", "first_time": "took"}
    family_of = {"acknowledged": "acks", "took": "answers", "first_time": "answers"}
    initial = {p: {"acknowledged": 0, "took": 0, "first_time": 0} for p in people}

    def status_behind(view: dict, person: int, measure: str) -> int:
        """The person's status as the figure shown at `view` counted it (its release)."""
        cell = disclosure.cell_key(pattern_of(person, groups), view["groups"])
        at = view["snapshots"].get((family_of[measure], cell))
        return (initial if at is None else views[at]["status"])[person][event[measure]]

    for r1 in range(len(views)):
        for r2 in range(r1 + 1, len(views)):
            before, after = views[r1], views[r2]
            for key, value in after["released"].items():
                if key not in before["released"] or before["released"][key] == value:
                    continue
                group, measure = key
                acted = [
                    p
                    for p in people
                    if (group is None or p in groups[group])
                    and status_behind(after, p, measure) != status_behind(before, p, measure)
                ]
                assert len(acted) >= min_group, (key, r1, r2, acted)
                # …and none of them acted only between the two views unseen by the figures:
                # each change counts only acts made by the later view.
                assert all(after["status"][p][event[measure]] for p in acted)
