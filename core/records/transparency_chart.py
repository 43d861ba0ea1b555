"""The transparency report's chart, drawn with matplotlib from the report's own figures.

A suppressed count must not leak through the picture: a bar's height is a number
anyone can read off the axis. So a count from 1 to 2 is drawn as a hatched bar
of one fixed height, labelled "<3", whatever its true value; `bars` returns
exactly what is drawn, so a test can check the chart without reading pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: the chart is only ever written to a file

import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from core.records.transparency import SUPPRESSED_SHORT, THRESHOLD, Figures, Row, is_suppressed  # noqa: E402

SUPPRESSED_HEIGHT = THRESHOLD - 0.5
HATCH = "///"


@dataclass(frozen=True)
class Bar:
    """One bar as drawn: its label, its height on the axis, and the number printed on it."""

    label: str
    height: float
    text: str
    hatched: bool


@dataclass(frozen=True)
class Panel:
    title: str
    bars: list[Bar]


def bars(rows: list[Row]) -> list[Bar]:
    """The bars for a breakdown; a suppressed count never reaches the axis."""
    return [
        Bar(r.label, SUPPRESSED_HEIGHT, SUPPRESSED_SHORT, True)
        if is_suppressed(r.count)
        else Bar(r.label, float(r.count), str(r.count), False)
        for r in rows
        if r.count or r.previous
    ]


def panels(data: Figures) -> list[Panel]:
    return [
        Panel("Reports by source", bars(data.by_source)),
        Panel("Reports by kind", bars(data.by_category)),
        Panel("Outcomes", bars(data.outcomes)),
        Panel("Appeals", bars(data.appeals)),
    ]


def draw(data: Figures) -> tuple[Figure, list[Panel]]:
    """The figure and the panels it was drawn from."""
    drawn = panels(data)
    figure, axes = plt.subplots(len(drawn), 1, figsize=(9, 3 + 2.2 * len(drawn)))
    figure.suptitle(f"{data.community}: code of conduct reports, {data.period}")
    for ax, panel in zip(axes, drawn, strict=True):
        _panel(ax, panel)
    figure.text(
        0.01,
        0.005,
        'Hatched bars: fewer than 3 (drawn at one height whatever the count, labelled "<3").',
        fontsize=8,
    )
    figure.tight_layout(rect=(0, 0.02, 1, 0.97))
    return figure, drawn


def _panel(ax: Axes, panel: Panel) -> None:
    ax.set_title(panel.title, loc="left", fontsize=11)
    if not panel.bars:
        ax.text(0.5, 0.5, "none", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    labels = [b.label if len(b.label) <= 40 else b.label[:38] + "…" for b in panel.bars]
    heights = [b.height for b in panel.bars]
    drawn = ax.barh(labels, heights, color="#4c72b0")
    for patch, bar in zip(drawn, panel.bars, strict=True):
        if bar.hatched:
            patch.set_facecolor("white")
            patch.set_edgecolor("#4c72b0")
            patch.set_hatch(HATCH)
        ax.text(
            patch.get_width() + 0.1,
            patch.get_y() + patch.get_height() / 2,
            bar.text,
            va="center",
            fontsize=9,
        )
    ax.invert_yaxis()
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlim(0, max(heights) * 1.15 + 1)


def write_chart(data: Figures, path: Path) -> list[Panel]:
    figure, drawn = draw(data)
    try:
        figure.savefig(path, dpi=100)
    finally:
        plt.close(figure)
    return drawn
