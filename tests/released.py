"""Released figures made directly, for tests of the views that show them."""

from __future__ import annotations

from bot import disclosure
from bot.disclosure import ACKS, ANSWERS, CLARITY, RETAKES, Live
from bot.storage.disclosure import CheckFigures

AT = "2026-12-07T10:00:00+00:00"


def figures(population: int, families, min_group: int = 10, **measures: int):
    """One group's figures as the layer would release them now."""
    state = disclosure.State()
    counts = {k.replace("__", ":"): v for k, v in measures.items()}
    live = Live({frozenset(): population}, {frozenset(): counts})
    disclosure.advance(state, live, families, min_group, AT)
    return disclosure.figures(state, live, min_group)


def check_figures(
    population: int, *, comments: list[str] | None = None, min_group: int = 10, **measures: int
) -> CheckFigures:
    """A check's figures for one group: measures as keyword arguments, `q__0__1` for
    `q:0:1`; comments as if released."""
    answers = figures(population, (ANSWERS, RETAKES, CLARITY), min_group, **measures)
    acks = figures(population, (ACKS,), min_group, **measures)
    shown = comments or []
    return CheckFigures(acks, answers, shown, len(shown), [])
