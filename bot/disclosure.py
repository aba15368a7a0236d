"""The one disclosure-control layer: every figure about staff is released through here.

Staff answer honestly only while no figure about fewer than `MIN_GROUP_SIZE` people can be
shown *or worked out*: by subtracting one figure from another, by overlaps between groups, or by
viewing before and after one person acts. This module is the pure arithmetic that keeps that
promise; `bot/storage/disclosure.py` keeps its state and is the only way figures reach a view.

The model, in the service's terms:

- A *subject* is what figures are about: one acknowledgement round of a briefing, one check,
  one follow-up. Its *population* is the people it reached.
- Its *groups* are the audience entries (later, the service's own teams) that named people.
  Someone in two groups counts in both. A *pattern* is the set of groups one person is in.
- The *released groups* are chosen once, when the subject is first shown, so that every
  *cell* they make (the people sharing one pattern of released groups, with everyone as one
  more group) has at least `min_group` people. Any figure a reader can work out from group
  figures and the total, by any sum or difference however groups overlap, is then a sum over
  whole cells (every released figure is constant on each cell), so it is about `min_group`
  people or more. Groups left out are named as hidden. This is exact, not a search: a linear
  combination of figures that are constant on cells is constant on cells.
- *Time.* Figures are not recomputed at each view. Each cell keeps the figures last released
  for it, per *family* of figures that move together (acknowledgements; first attempts with
  how they went and each question's answers; retakes; clarity ratings). A cell's family is
  released afresh only when at least `min_group` more people have acted in it (its event
  count has moved by that much). So any two views, any two moments, and any difference of
  versions differ, cell by cell, by nothing or by `min_group` people or more: viewing before
  and after one person answers shows the same figures. The cost: the newest fewer-than-
  `min_group` acts in a cell are not shown yet, and after a check closes they never are.

Rounding (as official statistics do) was the alternative: it keeps every figure near the
truth, but differencing rounded totals across two views can still pin the one person who
crossed a rounding boundary, and its guarantee is statistical, not exact. Steps give an exact
guarantee and keep every shown figure true as of its release time.

What this does not hide: a released figure of "all" or "none" of a cell (everyone in a team of
twelve acknowledged) says it of each of them. That is a fact about the group, which
statistical offices release too; the figure is still about twelve people.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

Pattern = frozenset[str]
# Cells are keyed by their released groups, joined by the unit separator (never in a name).
SEPARATOR = "\x1f"


def cell_key(pattern: Iterable[str], released: Iterable[str]) -> str:
    """The cell a person with this pattern falls in, given the released groups."""
    shown = set(released)
    return SEPARATOR.join(sorted(g for g in pattern if g in shown))


def cell_groups(key: str) -> frozenset[str]:
    return frozenset(key.split(SEPARATOR)) if key else frozenset()


def choose_groups(reach: Mapping[Pattern, int], min_group: int) -> tuple[str, ...]:
    """The groups to release, so that every cell they make holds `min_group` people or more.

    Start from every group of that size; while some cell is smaller, drop the smallest group
    that splits it off (for the cell of people in no released group, the smallest group of
    all). Each step merges cells, so it ends, at worst with no group: everyone is one cell.
    A subject with one group needs no breakdown: its total is that group.
    """
    size: dict[str, int] = {}
    for pattern, n in reach.items():
        for group in pattern:
            size[group] = size.get(group, 0) + n
    if len(size) < 2:
        return ()
    released = {g for g, n in size.items() if n >= min_group}
    while released:
        cells = cell_reach(reach, released)
        small = [key for key, n in cells.items() if 0 < n < min_group]
        if not small:
            break
        splitting = set().union(*(cell_groups(key) for key in small)) or released
        released.discard(min(splitting, key=lambda g: (size[g], g)))
    return tuple(sorted(released))


def cell_reach(reach: Mapping[Pattern, int], released: Iterable[str]) -> dict[str, int]:
    cells: dict[str, int] = {}
    released = tuple(released)
    for pattern, n in reach.items():
        key = cell_key(pattern, released)
        cells[key] = cells.get(key, 0) + n
    return cells


@dataclass(frozen=True)
class Family:
    """Figures that move together, released when `event` has moved by `min_group`."""

    name: str
    event: str  # the measure counting the people who acted (acknowledged, took, retook…)
    prefixes: tuple[str, ...]  # the measures released with it (names, or "q:" prefixes)

    def owns(self, measure: str) -> bool:
        return any(
            measure == p or (p.endswith(":") and measure.startswith(p)) for p in self.prefixes
        )


ACKS = Family("acks", "acknowledged", ("acknowledged",))
ANSWERS = Family("answers", "took", ("took", "first_time", "q:"))
RETAKES = Family("retakes", "retook", ("retook", "after_retake"))
CLARITY = Family("clarity", "rated", ("rated", "clarity:"))
# An anonymous check's clarification: the question answered again, and how many right.
AGAIN = Family("again", "again", ("again", "again_correct"))


@dataclass
class Released:
    """A family's figures in one cell as last released: the event count they were released at
    (to decide the next release), the figures, and when."""

    events: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    at: str | None = None


@dataclass
class State:
    """What has been released for a subject: its groups (fixed once chosen) and, per family
    and cell, the figures as last released."""

    groups: tuple[str, ...] | None = None
    cells: dict[tuple[str, str], Released] = field(default_factory=dict)


@dataclass(frozen=True)
class Live:
    """The truth now, by pattern: how many each pattern reached and each measure's count."""

    reach: dict[Pattern, int]
    counts: dict[Pattern, dict[str, int]]

    @property
    def population(self) -> int:
        return sum(self.reach.values())


def advance(
    state: State, live: Live, families: Iterable[Family], min_group: int, now: str
) -> set[tuple[str, str]]:
    """Release afresh each (family, cell) whose acts have moved by `min_group` or more since
    its last release; return which. The first call chooses the groups, for good."""
    if state.groups is None:
        state.groups = choose_groups(live.reach, min_group)
    current: dict[str, dict[str, int]] = {}
    for pattern, counts in live.counts.items():
        into = current.setdefault(cell_key(pattern, state.groups), {})
        for measure, n in counts.items():
            into[measure] = into.get(measure, 0) + n
    changed = set()
    for family in families:
        for key, counts in current.items():
            last = state.cells.get((family.name, key)) or Released()
            events = counts.get(family.event, 0)
            # Forward only: acts are never undone, so fewer than released means an older
            # snapshot than the release (a view that read before another's write).
            if events - last.events >= min_group:
                state.cells[(family.name, key)] = Released(
                    events, {m: n for m, n in counts.items() if family.owns(m)}, now
                )
                changed.add((family.name, key))
    return changed


@dataclass(frozen=True)
class Figures:
    """What may be shown of a subject: released figures for the total and each released group,
    and group sizes (reach is who was sent it, which Slack's member lists show anyway)."""

    min_group: int
    population: int
    groups: tuple[str, ...]  # released groups
    hidden: tuple[str, ...]  # groups named but not released
    group_reach: dict[str, int]
    _cells: dict[tuple[str, str], Released]

    @property
    def shown(self) -> bool:
        """Nothing at all is shown of a subject that reached fewer than `min_group`."""
        return self.population >= self.min_group

    def total(self, measure: str) -> int:
        return self._sum(measure, None)

    def group(self, name: str, measure: str) -> int:
        return self._sum(measure, name)

    def _sum(self, measure: str, group: str | None) -> int:
        if not self.shown:
            return 0
        return sum(
            released.counts.get(measure, 0)
            for (_, key), released in self._cells.items()
            if group is None or group in cell_groups(key)
        )

    def as_of(self) -> str | None:
        """When the newest figure shown was released (None: nothing yet)."""
        times = [r.at for r in self._cells.values() if r.at]
        return max(times) if times else None


def figures(state: State, live: Live, min_group: int) -> Figures:
    """The released view of a subject, after `advance`."""
    groups = state.groups or ()
    size: dict[str, int] = {}
    for pattern, n in live.reach.items():
        for group in pattern:
            size[group] = size.get(group, 0) + n
    named = sorted(size)
    return Figures(
        min_group=min_group,
        population=live.population,
        groups=tuple(g for g in groups if g in size),
        hidden=tuple(g for g in named if g not in groups) if len(named) > 1 else (),
        group_reach=size,
        _cells=dict(state.cells),
    )
