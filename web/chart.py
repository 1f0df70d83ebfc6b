"""A stacked bar chart as inline SVG, drawn on the server (no script, nothing fetched)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

PALETTE = ("#3b6ea8", "#e07b39", "#5a9e5a", "#c44e52", "#8172b2", "#937860", "#999999")
WIDTH, HEIGHT = 760, 300
LEFT, RIGHT, TOP, BOTTOM = 48, 170, 20, 36


def _nice_ceiling(value: int) -> int:
    """The axis maximum: 1, 2 or 5 times a power of ten, at least `value`."""
    if value <= 5:
        return 5
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def stacked_bars(categories: Sequence[str], series: Sequence[tuple[str, Sequence[int]]], *, label: str) -> Markup:
    """One bar per category, stacked by series (each a name and one value per category), with a legend."""
    totals = [sum(values[index] for _, values in series) for index in range(len(categories))]
    top = _nice_ceiling(max(totals, default=0))
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_width / max(len(categories), 1)
    bar = min(slot * 0.6, 60)
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(label)}">',
        f"<title>{escape(label)}</title>",
    ]
    for step in range(6):
        value = top * step // 5
        y = TOP + plot_height - plot_height * step / 5
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_width}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{value}</text>')
    for index, category in enumerate(categories):
        x = LEFT + slot * index + (slot - bar) / 2
        base: float = TOP + plot_height
        for number, (name, values) in enumerate(series):
            if not values[index]:
                continue
            height = plot_height * values[index] / top
            base -= height
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{height:.1f}" '
                f'fill="{PALETTE[number % len(PALETTE)]}"><title>{escape(category)} {escape(name)}：'
                f"{values[index]}</title></rect>"
            )
        parts.append(
            f'<text x="{x + bar / 2:.1f}" y="{base - 4:.1f}" text-anchor="middle" font-size="11">{totals[index]}</text>'
        )
        parts.append(
            f'<text x="{x + bar / 2:.1f}" y="{TOP + plot_height + 18}" text-anchor="middle" font-size="12">'
            f"{escape(category)}</text>"
        )
    for number, (name, _) in enumerate(series):
        y = TOP + 6 + number * 20
        parts.append(
            f'<rect x="{WIDTH - RIGHT + 16}" y="{y}" width="12" height="12" fill="{PALETTE[number % len(PALETTE)]}"/>'
        )
        parts.append(f'<text x="{WIDTH - RIGHT + 34}" y="{y + 11}" font-size="12">{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
