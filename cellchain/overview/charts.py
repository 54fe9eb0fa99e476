"""Small charts drawn on the server as SVG: a bar per period, for dashboards and reports.

Drawn here rather than in the browser so a page needs no script (the CSP allows none inline) and the
picture is the same wherever it is shown. Only SVG presentation attributes are used, never ``style``,
so the image obeys the app's style-src policy; every text is escaped, so the output is valid XML.
Each bar carries a ``<title>`` (its period and value in words) for people who cannot see colours.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 36, 44
BAR_COLOUR, INK, GRID = "#1f4f8f", "#1b2430", "#d5dbe3"


@dataclass(frozen=True)
class Bar:
    key: str  # what the bar stands for, machine-readable (``2026-W05``): its data-key attribute
    label: str  # written under the bar (``W05``)
    value: int
    title: str  # the bar's tooltip and text alternative (``week 2026-W05: 3 infusions``)


def _text(x: float, y: float, content: str, *, anchor: str = "middle", size: int = 12) -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{INK}" '
            f'font-family="sans-serif">{escape(content)}</text>')


def _scale_top(values: Sequence[int]) -> int:
    """The top of the value axis: the largest value rounded up to a multiple of 4 (4 at least)."""
    return max(4, math.ceil(max(values, default=0) / 4) * 4)


def _value_axis(top: int) -> list[str]:
    plot_h, right_x = HEIGHT - TOP - BOTTOM, WIDTH - RIGHT
    parts = []
    for i in range(5):
        value = top * i // 4
        y = HEIGHT - BOTTOM - i / 4 * plot_h
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{right_x}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(_text(LEFT - 6, y + 4, str(value), anchor="end"))
    parts.append(f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{right_x}" y2="{HEIGHT - BOTTOM}" stroke="{INK}"/>')
    return parts


def _bars(bars: Sequence[Bar], top: int) -> list[str]:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(bars)
    width = slot * 0.7
    parts = []
    for index, bar in enumerate(bars):
        height = bar.value / top * plot_h
        x, y = LEFT + index * slot + (slot - width) / 2, HEIGHT - BOTTOM - height
        parts.append(f'<rect class="bar" data-key={quoteattr(bar.key)} data-value="{bar.value}" x="{x:.1f}" '
                     f'y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" fill="{BAR_COLOUR}">'
                     f'<title>{escape(bar.title)}</title></rect>')
        if bar.value:
            parts.append(_text(x + width / 2, y - 4, str(bar.value), size=11))
        parts.append(_text(x + width / 2, HEIGHT - BOTTOM + 16, bar.label, size=11))
    return parts


def bar_chart_svg(bars: Sequence[Bar], *, title: str, caption: str = "", empty: str = "Nothing to show") -> str:
    """An SVG document with one ``rect.bar`` per entry of ``bars``, in order, on a shared value axis."""
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label={quoteattr(title)}>'
            f'<title>{escape(title)}</title><rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>')
    parts = [head, _text(LEFT, 20, title, anchor="start", size=14)]
    if not bars:
        parts.append(_text(WIDTH / 2, HEIGHT / 2, empty))
        return "\n".join([*parts, "</svg>"])
    top = _scale_top([b.value for b in bars])
    parts += _value_axis(top) + _bars(bars, top)
    if caption:
        parts.append(_text((LEFT + WIDTH - RIGHT) / 2, HEIGHT - 8, caption, size=11))
    parts.append("</svg>")
    return "\n".join(parts)
