"""Charts as server-rendered inline SVG: no JavaScript, no external files, no inline styles.

Each :class:`Chart` carries its SVG (``role="img"``, labelled by the figure caption and a
description) and the same numbers as a table, which the template shows right after the chart.
Colours are dark enough for 3:1 against white, and each path also has its own fill pattern
(solid, stripes, dots) and a legend, and bars carry their numbers as direct labels, so colour is
never the only cue. Only SVG presentation attributes (``fill="..."``) are used: the Content
Security Policy forbids ``style=`` attributes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from markupsafe import Markup, escape

INK = "#1b1f24"
GRID = "#c9d0d9"
# Contrast with white: blue 6.7:1, amber 5.0:1, green 5.5:1.
COLOURS = {
    "live": "#1d4ed8",
    "recording": "#b45309",
    "self_paced": "#047857",
    "reflections": "#6d28d9",
    "rate": "#1d4ed8",
    "course": "#1e3a8a",
}
PATTERNS = {"live": "solid", "recording": "stripes", "self_paced": "dots"}


@dataclass
class Series:
    key: str
    label: str
    values: list[int]
    colour: str
    pattern: str = "solid"


@dataclass
class Chart:
    id: str
    title: str
    description: str
    svg: Markup
    table_headers: list[str] = field(default_factory=list)
    table_rows: list[list[str]] = field(default_factory=list)
    empty: bool = False


def _attrs(**values: object) -> str:
    return " ".join(
        f'{name.rstrip("_").replace("_", "-")}="{escape(value)}"' for name, value in values.items()
    )


def _element(tag: str, content: str, **values: object) -> str:
    """``<tag attrs>content</tag>``: ``content`` is markup already escaped."""
    return f"<{tag} {_attrs(**values)}>{content}</{tag}>"


def _empty_text(x: float, y: float, text: str) -> str:
    """What a chart with nothing to show says, in its middle."""
    return _element("text", escape(text), x=x, y=y, font_size=15, fill=INK, text_anchor="middle")


def _fill(chart_id: str, series: Series) -> str:
    return f"url(#{chart_id}-{series.key})" if series.pattern != "solid" else series.colour


def _pattern_defs(chart_id: str, series_list: list[Series]) -> str:
    parts = []
    for series in series_list:
        pid = f"{chart_id}-{series.key}"
        if series.pattern == "stripes":
            parts.append(
                f'<pattern id="{escape(pid)}" patternUnits="userSpaceOnUse" width="8" height="8"'
                ' patternTransform="rotate(45)">'
                f'<rect width="8" height="8" fill="{series.colour}"/>'
                '<rect width="3" height="8" fill="#ffffff"/></pattern>'
            )
        elif series.pattern == "dots":
            parts.append(
                f'<pattern id="{escape(pid)}" patternUnits="userSpaceOnUse" width="8" height="8">'
                f'<rect width="8" height="8" fill="{series.colour}"/>'
                '<circle cx="4" cy="4" r="1.8" fill="#ffffff"/></pattern>'
            )
    return f"<defs>{''.join(parts)}</defs>" if parts else ""


def _nice_step(maximum: int, ticks: int = 4) -> int:
    if maximum <= ticks:
        return 1
    raw = maximum / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if step >= raw:
            return max(1, int(math.ceil(step)))
    return int(raw)


def _open_svg(chart_id: str, width: int, height: int, title: str, description: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" focusable="false">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
    ]


def stacked_columns(
    chart_id: str,
    title: str,
    description: str,
    categories: list[str],
    series_list: list[Series],
    empty_text: str,
) -> Markup:
    """Columns per category, the series stacked, each column labelled with its total.

    A category label may hold a line break (month, then year).
    """
    width, height = 760, 330
    left, right, top, bottom = 44, 12, 40, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(series.values[i] for series in series_list) for i in range(len(categories))]
    maximum = max(totals, default=0)
    step = _nice_step(maximum)
    axis_max = max(step, math.ceil(maximum / step) * step) if maximum else 4
    svg = _open_svg(chart_id, width, height, title, description)
    svg.append(_pattern_defs(chart_id, series_list))
    # Legend: a swatch with the series' fill and pattern, and its name.
    x = left
    for series in series_list:
        svg.append(
            f"<rect {_attrs(x=x, y=8, width=16, height=16, fill=_fill(chart_id, series), stroke=INK, stroke_width=1)}/>"
        )
        svg.append(
            f"<text {_attrs(x=x + 22, y=21, font_size=13, fill=INK)}>{escape(series.label)}</text>"
        )
        x += 34 + 8 * len(series.label)
    for tick in range(0, axis_max + 1, step):
        y = top + plot_h - plot_h * tick / axis_max
        svg.append(
            f"<line {_attrs(x1=left, x2=width - right, y1=round(y, 1), y2=round(y, 1), stroke=GRID, stroke_width=1)}/>"
        )
        svg.append(
            f"<text {_attrs(x=left - 6, y=round(y + 4, 1), font_size=12, fill=INK, text_anchor='end')}>{tick}</text>"
        )
    slot = plot_w / max(1, len(categories))
    bar = min(44.0, slot * 0.62)
    for index, category in enumerate(categories):
        cx = left + slot * index + slot / 2
        y = top + plot_h
        for series in series_list:
            value = series.values[index]
            if not value:
                continue
            h = plot_h * value / axis_max
            y -= h
            name = escape(category.replace("\n", " "))
            svg.append(
                _element(
                    "rect",
                    f"<title>{name}: {escape(series.label)} {value}</title>",
                    x=round(cx - bar / 2, 1),
                    y=round(y, 1),
                    width=round(bar, 1),
                    height=round(h, 1),
                    fill=_fill(chart_id, series),
                    stroke=series.colour,
                    stroke_width=1.5,
                )
            )
        if totals[index]:
            svg.append(
                _element(
                    "text",
                    str(totals[index]),
                    x=round(cx, 1),
                    y=round(y - 5, 1),
                    font_size=12,
                    fill=INK,
                    text_anchor="middle",
                    font_weight="bold",
                )
            )
        lines = category.split("\n")
        spans = "".join(
            f"<tspan {_attrs(x=round(cx, 1), dy=0 if n == 0 else 15)}>{escape(line)}</tspan>"
            for n, line in enumerate(lines)
        )
        svg.append(
            _element(
                "text",
                spans,
                x=round(cx, 1),
                y=height - bottom + 18,
                font_size=12,
                fill=INK,
                text_anchor="middle",
            )
        )
    svg.append(
        f"<line {_attrs(x1=left, x2=width - right, y1=top + plot_h, y2=top + plot_h, stroke=INK, stroke_width=1)}/>"
    )
    if not maximum:
        svg.append(_empty_text(width / 2, top + plot_h / 2, empty_text))
    svg.append("</svg>")
    return Markup("".join(svg))


def horizontal_bars(
    chart_id: str,
    title: str,
    description: str,
    labels: list[str],
    values: list[float],
    value_labels: list[str],
    maximum: float,
    colour: str,
    empty_text: str,
) -> Markup:
    """One bar per label, its value written at the bar's end."""
    row, left, right, top = 30, 260, 150, 10
    width = 760
    height = top * 2 + row * max(1, len(labels))
    plot_w = width - left - right
    svg = _open_svg(chart_id, width, height, title, description)
    for index, (label, value, text) in enumerate(zip(labels, values, value_labels, strict=True)):
        y = top + row * index
        shown = label if len(label) <= 32 else label[:31] + "…"
        svg.append(
            _element(
                "text",
                f"{escape(shown)}<title>{escape(label)}</title>",
                x=left - 8,
                y=y + 19,
                font_size=13,
                fill=INK,
                text_anchor="end",
            )
        )
        w = plot_w * value / maximum if maximum else 0
        if w:
            svg.append(
                _element(
                    "rect",
                    f"<title>{escape(label)}: {escape(text)}</title>",
                    x=left,
                    y=y + 5,
                    width=round(max(w, 1), 1),
                    height=row - 10,
                    fill=colour,
                )
            )
        svg.append(
            f"<text {_attrs(x=round(left + w + 6, 1), y=y + 19, font_size=13, fill=INK)}>{escape(text)}</text>"
        )
    svg.append(
        f"<line {_attrs(x1=left, x2=left, y1=top, y2=height - top, stroke=INK, stroke_width=1)}/>"
    )
    if not labels:
        svg.append(_empty_text(width / 2, height / 2 + 5, empty_text))
    svg.append("</svg>")
    return Markup("".join(svg))
