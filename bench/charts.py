"""Benchmark: a chart rendered in under 1 s (issue 17). Times `bot.charts.render_funnel` (one
briefing's funnel) and `bot.charts.render_trend` over 20 briefings (the most `/engage trends`
lists), as the Chart buttons draw them, after one warm-up render (matplotlib loads its fonts
once per process), and prints the median and worst of several runs.

    python bench/charts.py [--runs 5] [--save docs/images]

`--save` also writes the README's and docs/COMMANDS.md's example charts (`funnel.png`,
`trend.png`), drawn from the demo's briefings with figures a service of forty might see.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.charts import Point, Share, Step, render_funnel, render_trend

MIN_GROUP = 10
AS_OF = "23 Oct 2026, 16:40"

# 40 reached, 28 acknowledged, 24 took the check, 15 understood first time, 6 of 9 on retaking.
FUNNEL = [
    Step("Reached", Share(40, 40, "")),
    Step("Acknowledged", Share(28, 40, "reached")),
    Step("Took the check", Share(24, 40, "reached")),
    Step("Understood\nfirst time", Share(15, 24, "who took it")),
    Step("Understood after\nthe retake", Share(6, 9, "who retook it")),
]
FUNNEL_TITLE = "The revised Threshold Document is now in use"
FUNNEL_SUBTITLE = "Version 1 · check closed 23 Oct 2026, 17:00"

# The demo's briefings, a week apart: one to the eight-strong CSE team (too small to show),
# one that did not ask for acknowledgement, the newest with too few acts released yet.
TREND = [
    Point(
        "The Roadmap to Excellence, in five minutes' reading",
        "5 Oct 2026",
        True,
        Share(30, 40, "reached"),
        Share(14, 26, "who took it"),
    ),
    Point(
        "The revised Threshold Document is now in use",
        "12 Oct 2026",
        True,
        Share(28, 40, "reached"),
        Share(15, 24, "who took it"),
    ),
    Point(
        "The triple-lock - what it means for you and your team",
        "19 Oct 2026",
        True,
        Share(32, 40, "reached"),
        Share(None, 0, "who took it"),
    ),
    Point("Our new CSE team, working with the police", "20 Oct 2026", False, None, None),
    Point(
        "Working around the current IT system until the new one arrives",
        "21 Oct 2026",
        True,
        None,
        Share(22, 30, "who took it"),
    ),
    Point(
        '"Getting to good" seminars - what our audits are teaching us',
        "22 Oct 2026",
        True,
        Share(None, 40, "reached"),
        None,
    ),
]
TREND_SUBTITLE = "Briefings sent since 1 Oct 2026, oldest first"


def twenty() -> list[Point]:
    """The most a trend lists: the demo's six, over and over, 20 rows."""
    return [TREND[i % len(TREND)] for i in range(20)]


def timed(draw: object, runs: int) -> list[float]:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        draw()  # type: ignore[operator]
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--save", type=Path, help="write funnel.png and trend.png here")
    args = parser.parse_args()

    started = time.perf_counter()
    funnel = render_funnel(
        FUNNEL_TITLE, FUNNEL, min_group=MIN_GROUP, as_of=AS_OF, subtitle=FUNNEL_SUBTITLE
    )
    print(f"first render (fonts loaded): {time.perf_counter() - started:.3f} s")
    results = {
        "funnel (5 steps)": timed(
            lambda: render_funnel(FUNNEL_TITLE, FUNNEL, min_group=MIN_GROUP, as_of=AS_OF),
            args.runs,
        ),
        "trend (20 briefings)": timed(
            lambda: render_trend(twenty(), min_group=MIN_GROUP, as_of=AS_OF), args.runs
        ),
    }
    worst = 0.0
    for name, seconds in results.items():
        worst = max(worst, max(seconds))
        print(
            f"{name}: median {statistics.median(seconds):.3f} s, worst {max(seconds):.3f} s "
            f"({args.runs} runs)"
        )
    print(f"goal: every chart under 1 s: {'met' if worst < 1 else 'MISSED'}")
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        (args.save / "funnel.png").write_bytes(funnel)
        trend = render_trend(TREND, min_group=MIN_GROUP, as_of=AS_OF, subtitle=TREND_SUBTITLE)
        (args.save / "trend.png").write_bytes(trend)
        print(f"wrote {args.save / 'funnel.png'} and {args.save / 'trend.png'}")


if __name__ == "__main__":
    main()
