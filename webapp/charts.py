"""Bar charts drawn on the server: the geometry of an SVG for a series of daily counts.

``templates/_chart.html`` draws it, with a title and description for screen readers and the
numbers behind it in a table; no script, no library, nothing the CSP has to allow. ``drawn``
keeps what it drew: the home page shows the same two charts until a count changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from flask import render_template
from markupsafe import Markup

WIDTH, HEIGHT = 640, 200
#: Room for the count labels on the left and the dates underneath.
LEFT, BOTTOM, TOP = 36, 24, 8
GAP = 0.2  # of each bar's slot


@dataclass(frozen=True)
class Bar:
    day: date
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    peak: int
    total: int
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    baseline: float = HEIGHT - BOTTOM
    top: float = TOP

    @property
    def busiest(self) -> Bar | None:
        """The first day with the highest count; None when every count is 0."""
        return max(self.bars, key=lambda bar: bar.count) if self.peak else None

    @property
    def labelled(self) -> list[Bar]:
        """The bars whose day is written under the axis: first, middle and last."""
        if not self.bars:
            return []
        return [self.bars[0], self.bars[len(self.bars) // 2], self.bars[-1]]


def bar_chart(points: Sequence[tuple[date, int]]) -> BarChart:
    """One bar per ``(day, count)``, scaled so the highest count reaches the top."""
    peak = max((count for _day, count in points), default=0)
    area = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / max(1, len(points))
    bars = []
    for index, (day, count) in enumerate(points):
        height = area * count / peak if peak else 0
        bars.append(
            Bar(
                day=day,
                count=count,
                x=round(LEFT + index * slot + slot * GAP / 2, 2),
                y=round(HEIGHT - BOTTOM - height, 2),
                width=round(slot * (1 - GAP), 2),
                height=round(height, 2),
            )
        )
    return BarChart(bars=bars, peak=peak, total=sum(count for _day, count in points))


@lru_cache(maxsize=32)
def drawn(
    points: tuple[tuple[date, int], ...],
    id: str,
    title: str,
    unit: str,
    link: tuple[str, str] | None = None,
) -> Markup:
    """The chart of ``points`` as HTML (the template global ``draw_chart``), drawn once for each
    set of counts. The HTML depends on nothing but the arguments, so a drawing is kept (by all
    of them) rather than drawn again on every home page: the two charts took a quarter of its
    time (docs/design.md)."""
    chart = bar_chart(points)
    html = render_template("_chart.html", chart=chart, id=id, title=title, unit=unit, link=link)
    return Markup(html)
