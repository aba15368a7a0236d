"""Charts a lead can paste into a board paper: the funnel of one briefing and understanding
over time, as PNG bytes.

Pure: plain data in (figures the disclosure layer already released, with held-back ones
marked as such), bytes out; no Slack, no storage. Drawn with matplotlib's object API
(`Figure` and the Agg canvas, never pyplot): no display, no backend to choose, no global
figure state. The Chart buttons draw on a worker thread (`asyncio.to_thread`), one at a time
(handlers/checks/chart_actions.py), so the event loop never waits on a drawing.

Drawn to be read at Slack's preview size (a thumbnail about 360 px wide) without the message
around it: a title, axis labels, large type, each bar labelled with its figure and its base
("13 of 24 reached, 54%"), a figure held back drawn as a hatched grey bar that says so
("held back (fewer than 10)"), never as a number, and when the figures were released.
"""

from __future__ import annotations

import functools
import io
import textwrap
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont
from matplotlib.ft2font import FT2Font
from matplotlib.patches import Patch

WIDTH_IN, HEIGHT_IN, DPI = 8.0, 4.5, 150  # 1200 x 675 px: Slack's 16:9 preview
BLUE, VERMILION = "#0072B2", "#D55E00"  # Okabe-Ito: told apart with any colour vision
INK, MUTED, HELD = "#1a1a1a", "#555555", "#d9d9d9"
TITLE, LABEL, BAR_TEXT, NOTE = 19, 14, 14, 12  # points: ~12, 9, 9 and 7 px at 360 px wide


@dataclass(frozen=True)
class Share:
    """A released figure and its base: `count` of `base` `whom` ("who took it"). A count of
    None is held back: fewer than the smallest group have acted since it was last released."""

    count: int | None
    base: int
    whom: str

    @property
    def held(self) -> bool:
        return self.count is None

    def text(self, *, short: bool = False) -> str:
        """`13 of 24 reached, 54%`; short, `13 of 24, 54%`; held back, nothing."""
        if self.count is None or not self.base:
            return ""
        if not self.whom:  # the base itself: everyone reached
            return f"{self.count:,} people"
        whom = "" if short else f" {self.whom}"
        return f"{self.count:,} of {self.base:,}{whom}, {round(100 * self.count / self.base)}%"


@dataclass(frozen=True)
class Step:
    """One bar of a funnel: reached, acknowledged, took the check, understood…"""

    label: str
    share: Share


@dataclass(frozen=True)
class Point:
    """One briefing in a trend. `acknowledged` is None when it did not ask; `understood` None
    when it had no check; `shown` False when it reached fewer than the smallest group, so
    nothing of it is shown."""

    title: str
    sent: str  # when it was first sent, as a person reads it ("2 Nov 2026")
    shown: bool
    acknowledged: Share | None
    understood: Share | None


def render_funnel(
    title: str,
    steps: Sequence[Step],
    *,
    min_group: int,
    as_of: str | None,
    subtitle: str = "",
) -> bytes:
    """One briefing's funnel as a PNG: horizontal bars, in people, top to bottom."""
    return _png(funnel_figure(title, steps, min_group=min_group, as_of=as_of, subtitle=subtitle))


def render_trend(
    points: Sequence[Point],
    *,
    min_group: int,
    as_of: str | None,
    subtitle: str = "",
    title: str = "Understanding over time",
) -> bytes:
    """Understanding over time as a PNG (see `trend_figure`)."""
    figure = trend_figure(points, min_group=min_group, as_of=as_of, subtitle=subtitle, title=title)
    return _png(figure)


def funnel_figure(
    title: str,
    steps: Sequence[Step],
    *,
    min_group: int,
    as_of: str | None,
    subtitle: str = "",
) -> Figure:
    """The funnel, drawn: every bar labelled with its figure and base, or held back."""
    reached = max((s.share.base for s in steps), default=0) or 1
    labels = ["\n".join(_wrap(_printable(part), 18) for part in s.label.split("\n")) for s in steps]
    fig, ax = _canvas(HEIGHT_IN, title, subtitle, labels, LABEL)
    ys = list(range(len(steps)))[::-1]
    for y, step in zip(ys, steps, strict=True):
        _bar(ax, y, step.share, reached, BLUE, 0.62, min_group)
    ax.set_yticks(ys, labels, fontsize=LABEL, color=INK, parse_math=False)
    ax.set_xlim(0, reached)
    ax.set_ylim(-0.6, len(steps) - 0.4)
    ax.set_xlabel(f"People (of the {reached:,} reached)", fontsize=LABEL, color=INK)
    _frame(ax)
    _footnote(fig, as_of, min_group)
    return fig


def trend_figure(
    points: Sequence[Point],
    *,
    min_group: int,
    as_of: str | None,
    subtitle: str = "",
    title: str = "Understanding over time",
) -> Figure:
    """Per briefing, oldest at the top: acknowledged (of those reached) and understood first
    time (of those who took the check), each a percentage bar labelled with its base."""
    height = max(HEIGHT_IN, 2.3 + 0.62 * len(points))
    legend = [
        Patch(facecolor=BLUE, label="Acknowledged, of those reached"),
        Patch(facecolor=VERMILION, label="Understood first time, of those who took it"),
        Patch(facecolor=HELD, hatch="///", edgecolor=MUTED, label=held_text(min_group)),
    ]
    labels = [f"{_wrap(_printable(p.title), 30, lines=1)}\n{_printable(p.sent)}" for p in points]
    fig, ax = _canvas(height, title, subtitle, labels, LABEL - 2, legend)
    ys = list(range(len(points)))[::-1]
    for y, point in zip(ys, points, strict=True):
        _trend_row(ax, y, point, min_group)
    ax.set_yticks(ys, labels, fontsize=LABEL - 2, color=INK, parse_math=False)
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.6, max(len(points), 1) - 0.4)
    ax.set_xticks([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"])
    ax.set_xlabel("Per cent, of the base on each bar", fontsize=LABEL - 1, color=INK)
    if not points:
        ax.text(
            50,
            0,
            "No briefings went out in this period",
            ha="center",
            va="center",
            fontsize=LABEL,
            color=MUTED,
            parse_math=False,
        )
    _frame(ax)
    _footnote(fig, as_of, min_group)
    return fig


def _trend_row(ax: Axes, y: float, point: Point, min_group: int) -> None:
    """One briefing's two bars, or why it has none."""
    if not point.shown:
        _held_bar(ax, y, 100, 0.7, f"reached fewer than {min_group}: nothing shown")
        return
    for offset, share, colour, absent in (
        (0.19, point.acknowledged, BLUE, "did not ask for acknowledgement"),
        (-0.19, point.understood, VERMILION, "no check"),
    ):
        if share is None:
            ax.text(
                1,
                y + offset,
                absent,
                va="center",
                fontsize=BAR_TEXT - 2,
                color=MUTED,
                style="italic",
                parse_math=False,
            )
        else:
            _bar(ax, y + offset, share, 100, colour, 0.36, min_group, percent=True)


def _bar(
    ax: Axes,
    y: float,
    share: Share,
    scale: int,
    colour: str,
    height: float,
    min_group: int,
    *,
    percent: bool = False,
) -> None:
    """A bar on an axis `scale` long, `count` long (or its percentage of its base, on a 0-100
    axis), labelled with its figure and base; one held back: hatched grey, saying so."""
    if share.held or not share.base:
        _held_bar(ax, y, scale, height, held_text(min_group))
        return
    assert share.count is not None
    length = 100 * share.count / share.base if percent else share.count
    ax.barh(y, length, height=height, color=colour)
    # Inside the bar when it fits there, else after it; when neither has room for the whole
    # label, the shorter one ("14 of 26, 54%": the legend says of whom).
    figure = ax.get_figure()
    assert isinstance(figure, Figure)
    axis_inches = ax.get_position().width * WIDTH_IN
    share_of_axis = length / scale
    for text in (share.text(), share.text(short=True)):
        inside = _widest(figure, [text], BAR_TEXT, bold=True) / axis_inches + 0.02
        outside = _widest(figure, [text], BAR_TEXT) / axis_inches + 0.02
        if share_of_axis >= inside or share_of_axis + outside <= 1:
            break
    if share_of_axis >= inside or share_of_axis + outside > 1:
        ax.text(
            length - scale * 0.01,
            y,
            text,
            ha="right",
            va="center",
            color="white",
            fontsize=BAR_TEXT,
            fontweight="bold",
            parse_math=False,
        )
    else:
        ax.text(
            length + scale * 0.01,
            y,
            text,
            ha="left",
            va="center",
            color=INK,
            fontsize=BAR_TEXT,
            parse_math=False,
        )


def _held_bar(ax: Axes, y: float, scale: float, height: float, text: str) -> None:
    """A figure held back: the whole width hatched grey, saying so, with no length to read."""
    ax.barh(y, scale, height=height, color=HELD, hatch="///", edgecolor=MUTED, linewidth=0)
    ax.text(
        scale * 0.01,
        y,
        text,
        ha="left",
        va="center",
        color=INK,
        fontsize=BAR_TEXT,
        bbox={"facecolor": "white", "edgecolor": "none", "pad": 2},
        parse_math=False,
    )


def held_text(min_group: int) -> str:
    return f"held back (fewer than {min_group})"


def _canvas(
    height: float,
    title: str,
    subtitle: str,
    ylabels: list[str],
    ylabel_size: float,
    legend: list[Patch] | None = None,
) -> tuple[Figure, Axes]:
    """A figure `height` inches tall: its heading (title, subtitle, legend) set from the top
    down, the footnote's line at the bottom, and the chart in between, its left edge past the
    widest of `ylabels`. Laid out by hand, in inches: a layout engine draws the figure twice,
    which would double the time to draw it."""
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    FigureCanvasAgg(fig)
    heading = _wrap(_printable(title), 52)
    top = height - 0.12  # inches from the bottom, moving down the heading
    fig.text(
        0.02,
        top / height,
        heading,
        fontsize=TITLE,
        fontweight="bold",
        color=INK,
        ha="left",
        va="top",
        parse_math=False,
    )
    top -= 0.36 * (heading.count("\n") + 1) + 0.06
    if subtitle:
        fig.text(
            0.02,
            top / height,
            _wrap(_printable(subtitle), 90, lines=1),
            color=MUTED,
            fontsize=LABEL - 2,
            ha="left",
            va="top",
            parse_math=False,
        )
        top -= 0.3
    if legend:
        fig.legend(
            handles=legend,
            loc="upper left",
            bbox_to_anchor=(0.01, top / height),
            ncols=2,
            fontsize=LABEL - 3,
            frameon=False,
            borderaxespad=0,
        )
        top -= 0.48
    left = 0.1 + _widest(fig, ylabels, ylabel_size) + 0.12  # margin, labels, tick pad
    bottom = 0.3 + 0.72  # the footnote, then the x axis's numbers and label
    right = 0.3  # the last x tick's number overhangs the axis
    return fig, fig.add_axes(
        (
            left / WIDTH_IN,
            bottom / height,
            (WIDTH_IN - left - right) / WIDTH_IN,
            (top - 0.15 - bottom) / height,
        )
    )


def _widest(fig: Figure, labels: list[str], size: float, *, bold: bool = False) -> float:
    """The widest line of these labels, in inches, as the figure's renderer sets them."""
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    font = FontProperties(size=size, weight="bold" if bold else "normal")
    widths = [
        renderer.get_text_width_height_descent(line, font, ismath=False)[0]
        for label in labels
        for line in label.split("\n")
    ]
    return max(widths, default=0.0) / DPI


def _frame(ax: Axes) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    ax.tick_params(axis="x", labelsize=LABEL - 2, colors=INK)


def _footnote(fig: Figure, as_of: str | None, min_group: int) -> None:
    when = f"As of {_printable(as_of)}" if as_of else "No figures released yet"
    note = f"{when} · figures move in steps of at least {min_group} people"
    fig.text(0.01, 0.01, note, fontsize=NOTE, color=MUTED, ha="left", va="bottom", parse_math=False)


def _png(fig: Figure) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


def _wrap(text: str, width: int, lines: int = 2) -> str:
    """At most `lines` lines of about `width` characters, the rest cut with an ellipsis."""
    return "\n".join(textwrap.wrap(text, width, max_lines=lines, placeholder="…") or [""])


@functools.cache
def _glyphs() -> frozenset[int]:
    """The characters the chart's font can draw (DejaVu Sans, which matplotlib ships)."""
    path = findfont(FontProperties(family="DejaVu Sans"), fallback_to_default=True)
    return frozenset(FT2Font(path).get_charmap())


def _printable(text: str) -> str:
    """Text the font can draw: a title with an emoji or a control character loses it rather
    than showing a box (and matplotlib warning of a missing glyph)."""
    glyphs = _glyphs()
    kept = (
        " " if c in "\t\r\n" else c
        for c in text
        if c in "\t\r\n" or (unicodedata.category(c)[0] != "C" and ord(c) in glyphs)
    )
    return " ".join("".join(kept).split())
