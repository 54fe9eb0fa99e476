"""A lot's growth curve as SVG, drawn on the server: cells harvested and cumulative doublings per passage.

Drawn here rather than in the browser so the page needs no script (the CSP allows none inline) and
the same picture can go into a report. Cells span orders of magnitude, so they are on a log scale
(left axis, its marks written ``1 x 10^8`` as the pages write powers of ten); cumulative population
doublings grow roughly linearly and use the right axis. Only SVG presentation attributes are used, never
``style``, so the image obeys the app's style-src policy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from flask_babel import gettext as _

from cellchain.core.words.numbers import cells_and_power, scientific

WIDTH, HEIGHT = 720, 360
LEFT, RIGHT, TOP, BOTTOM = 92, 70, 40, 56
CELLS_COLOUR, PD_COLOUR, INK, GRID = "#1f4f8f", "#b35a00", "#1b2430", "#d5dbe3"


@dataclass(frozen=True)
class GrowthPoint:
    passage: int
    harvested_cells: int
    cumulative_doublings: float


def _text(x: float, y: float, content: str, *, anchor: str = "middle", size: int = 12, fill: str = INK,
          extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{fill}" '
            f'font-family="sans-serif"{extra}>{escape(content)}</text>')


def _cell_scale(points: Sequence[GrowthPoint]) -> tuple[int, int]:
    logs = [math.log10(p.harvested_cells) for p in points]
    low, high = math.floor(min(logs)), math.ceil(max(logs))
    return low, high if high > low else low + 1


def _pd_top(points: Sequence[GrowthPoint]) -> float:
    top = max(p.cumulative_doublings for p in points)
    return max(1.0, math.ceil(top / 2) * 2)


def _axes(points: Sequence[GrowthPoint], low: int, high: int, pd_top: float, x_of) -> list[str]:
    plot_h, right_x = HEIGHT - TOP - BOTTOM, WIDTH - RIGHT
    parts = [f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{right_x}" y2="{HEIGHT - BOTTOM}" stroke="{INK}"/>',
             f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" stroke="{CELLS_COLOUR}"/>',
             f'<line x1="{right_x}" y1="{TOP}" x2="{right_x}" y2="{HEIGHT - BOTTOM}" stroke="{PD_COLOUR}"/>']
    for exponent in range(low, high + 1):
        y = HEIGHT - BOTTOM - (exponent - low) / (high - low) * plot_h
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{right_x}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(_text(LEFT - 8, y + 4, scientific(10 ** exponent), anchor="end", fill=CELLS_COLOUR))
    steps = 4
    for i in range(steps + 1):
        value = pd_top * i / steps
        y = HEIGHT - BOTTOM - i / steps * plot_h
        parts.append(_text(right_x + 8, y + 4, f"{value:g}", anchor="start", fill=PD_COLOUR))
    for point in points:
        parts.append(_text(x_of(point), HEIGHT - BOTTOM + 18, f"P{point.passage}"))
    parts.append(_text((LEFT + right_x) / 2, HEIGHT - 10, _("Passage")))
    parts.append(_text(18, TOP + plot_h / 2, _("Cells harvested (log scale)"), fill=CELLS_COLOUR,
                       extra=f' transform="rotate(-90 18 {TOP + plot_h / 2:.1f})"'))
    parts.append(_text(WIDTH - 14, TOP + plot_h / 2, _("Cumulative population doublings"), fill=PD_COLOUR,
                       extra=f' transform="rotate(90 {WIDTH - 14} {TOP + plot_h / 2:.1f})"'))
    return parts


def _series(points: Sequence[GrowthPoint], name: str, colour: str, x_of, y_of, label) -> list[str]:
    coords = [(x_of(p), y_of(p)) for p in points]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    parts = [f'<polyline class="{name}" points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>']
    for point, (x, y) in zip(points, coords, strict=True):
        parts.append(f'<circle class="point {name}" data-passage="{point.passage}" cx="{x:.1f}" cy="{y:.1f}" r="4" '
                     f'fill="{colour}"><title>{escape(label(point))}</title></circle>')
    return parts


def growth_svg(points: Sequence[GrowthPoint], *, title: str | None = None) -> str:
    """The SVG document (one point per passage on each series); an empty lot says so in words."""
    title = title or _("Growth curve")
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label={quoteattr(title)}>'
            f'<title>{escape(title)}</title><rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>')
    if not points:
        return head + _text(WIDTH / 2, HEIGHT / 2, _("No passage recorded yet")) + "</svg>"
    ordered = sorted(points, key=lambda p: p.passage)
    low, high = _cell_scale(ordered)
    pd_top = _pd_top(ordered)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    index = {p.passage: i for i, p in enumerate(ordered)}

    def x_of(p: GrowthPoint) -> float:
        return LEFT + (index[p.passage] + 0.5) * plot_w / len(ordered)

    def cells_y(p: GrowthPoint) -> float:
        return HEIGHT - BOTTOM - (math.log10(p.harvested_cells) - low) / (high - low) * plot_h

    def pd_y(p: GrowthPoint) -> float:
        return HEIGHT - BOTTOM - p.cumulative_doublings / pd_top * plot_h

    parts = [head, *_axes(ordered, low, high, pd_top, x_of)]
    parts += _series(ordered, "cells", CELLS_COLOUR, x_of, cells_y,
                     lambda p: _("P%(passage)s: %(cells)s cells harvested", passage=p.passage,
                                       cells=cells_and_power(p.harvested_cells)))
    parts += _series(ordered, "pd", PD_COLOUR, x_of, pd_y,
                     lambda p: _("P%(passage)s: %(doublings)s cumulative doublings", passage=p.passage,
                                       doublings=format(p.cumulative_doublings, ".2f")))
    parts.append(_text(LEFT, 22, _("● cells harvested"), anchor="start", fill=CELLS_COLOUR))
    parts.append(_text(LEFT + 170, 22, _("● cumulative population doublings"), anchor="start", fill=PD_COLOUR))
    parts.append("</svg>")
    return "\n".join(parts)
