"""Low-level SVG primitives for the dashboard charts (:mod:`maumeter.dashboard.charts`): escaped
element building, number formats, nice ticks, a linear scale, label thinning, paths, the root
element and the legend.

All output goes through :func:`el`, which escapes every text child and attribute value (and
drops the characters XML 1.0 cannot carry), so chart code cannot emit markup by accident: only
the :class:`~markupsafe.Markup` that :func:`el` itself returns is trusted as is.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

from markupsafe import Markup, escape

__all__ = [
    "AXIS",
    "BAND",
    "CHAR_W",
    "GRID",
    "MUTED",
    "OVER",
    "PALETTE",
    "SVG_NS",
    "TEXT",
    "Linear",
    "circle",
    "clean",
    "color",
    "compact",
    "data",
    "el",
    "empty",
    "fmt_number",
    "hline",
    "legend",
    "nice_ticks",
    "num",
    "path",
    "path_d",
    "percent",
    "rect",
    "root",
    "shown_labels",
    "text",
    "truncate",
    "vline",
    "x_axis",
    "y_axis",
]

SVG_NS = "http://www.w3.org/2000/svg"
# Default colours (presentation attributes: any stylesheet rule on the CSS classes wins).
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#76b7b2",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)
TEXT = "#333"
MUTED = "#666"
AXIS = "#888"
GRID = "#e5e5e5"
BAND = "#4e79a7"
OVER = "#d62728"
CHAR_W = 6.2  # mean advance of an 11px sans-serif glyph: layout estimates without font metrics
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SUFFIXES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def clean(text: object) -> str:
    """The text without what XML 1.0 forbids (control characters, lone surrogates)."""
    return _NOT_XML.sub("", str(text))


def num(v: float) -> str:
    """A coordinate, at most 3 decimals; a non-finite one is a bug, never output."""
    if not math.isfinite(v):
        raise ValueError(f"non-finite coordinate {v!r}")
    s = f"{v:.3f}".rstrip("0").rstrip(".")
    return "0" if s == "-0" else s


def _attr(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return num(v)
    if isinstance(v, int):
        return str(v)
    return str(escape(clean(v)))


def el(tag: str, *children: Markup | str | None, **attrs: object) -> Markup:
    """One element. ``class_`` → ``class``, ``data_points`` → ``data-points``; None attributes
    and children are left out; str children and all attribute values are escaped."""
    head = tag + "".join(
        f' {k.rstrip("_").replace("_", "-")}="{_attr(v)}"'
        for k, v in attrs.items()
        if v is not None
    )
    body = "".join(
        c if isinstance(c, Markup) else str(escape(clean(c))) for c in children if c is not None
    )
    return Markup(f"<{head}>{body}</{tag}>" if body else f"<{head}/>")


def fmt_number(v: float) -> str:
    """For people: 1234 → '1,234', 1234.5 → '1,234.5', 0.01234 → '0.0123'."""
    if not math.isfinite(v):
        return "—"
    if abs(v) >= 1e15:
        return f"{v:.4g}"
    if v == int(v):
        return f"{int(v):,}"
    if abs(v) < 1:
        return f"{v:.3g}"
    return f"{v:,.2f}".rstrip("0").rstrip(".")


def compact(v: float) -> str:
    """A tick label: 0, 500, 1k, 2.5k, 1.2M, 3B, 1T, −200 (a true minus sign)."""
    a, sign = abs(v), "−" if v < 0 else ""
    if a >= 1e15:
        return f"{sign}{a:.3g}"
    for div, suffix in _SUFFIXES:
        if a >= div:
            return f"{sign}{a / div:.3g}{suffix}"
    return f"{sign}{a:.3g}" if v else "0"


def percent(v: float) -> str:
    """A share 0..1 as a percent ('45%'), one decimal under 10% so small retention stays visible."""
    p = v * 100
    if not math.isfinite(p):
        return "—"
    return f"{p:.1f}%" if 0 < abs(p) < 9.95 else f"{p:.0f}%"


def truncate(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: max(chars - 1, 0)] + "…"


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2 or 5 × 10ᵏ apart), about ``count`` intervals, covering lo..hi."""
    lo, hi = min(lo, hi), max(lo, hi)
    if not hi - lo > 1e-300:  # a flat series still gets an axis
        hi = lo + max(abs(lo), 1.0)
    raw = (hi - lo) / count
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if raw <= m * mag * (1 + 1e-9))
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    return [float(f"{i * step:.12g}") for i in range(first, last + 1)]  # 0.6, not 0.6000…01


class Linear:
    """Maps the domain d0..d1 onto the range r0..r1; a degenerate domain maps to the middle."""

    __slots__ = ("d0", "d1", "r0", "r1")

    def __init__(self, d0: float, d1: float, r0: float, r1: float) -> None:
        self.d0, self.d1, self.r0, self.r1 = d0, d1, r0, r1

    def __call__(self, v: float) -> float:
        if self.d1 == self.d0:
            return (self.r0 + self.r1) / 2
        return self.r0 + (v - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0)


def shown_labels(labels: Sequence[str], slot: float) -> list[int]:
    """Indices of the labels to draw ``slot`` px apart, evenly thinned so that none overlaps;
    counted from the end, so the latest label is always shown."""
    n = len(labels)
    if not n:
        return []
    need = max(len(s) for s in labels) * CHAR_W + 8
    step = max(1, math.ceil(need / slot)) if slot > 0 else n
    return [i for i in range(n) if (n - 1 - i) % step == 0]


def path_d(points: Iterable[tuple[float, float] | None]) -> str:
    """A path through the points that lifts the pen at each None: a gap, not a drop to zero."""
    parts, pen = [], False
    for p in points:
        if p is None:
            pen = False
            continue
        parts.append(f"{'L' if pen else 'M'}{num(p[0])},{num(p[1])}")
        pen = True
    return " ".join(parts)


def root(
    kind: str,
    title: str,
    width: float,
    height: float,
    points: int,
    *children: Markup | None,
    desc: str | None = None,
    classes: Sequence[str] = (),
    fixed: bool = False,
) -> Markup:
    """The ``<svg>`` of a chart: responsive (100% wide, the viewBox keeps the aspect) unless
    ``fixed`` (a sparkline in a table cell keeps its pixel size)."""
    return el(
        "svg",
        el("title", title),
        el("desc", desc) if desc else None,
        *children,
        xmlns=SVG_NS,
        class_=" ".join(("chart", f"chart-{kind}", *classes)),
        role="img",
        aria_label=title,
        viewBox=f"0 0 {num(width)} {num(height)}",
        width=num(width) if fixed else "100%",
        height=num(height) if fixed else None,
        data_points=points,
        fill=TEXT,
        font_family="system-ui, sans-serif",
        font_size=11,
    )


def text(
    s: str, x: float, y: float, cls: str, anchor: str = "start", fill: str = MUTED, **attrs: object
) -> Markup:
    middle_or_end = None if anchor == "start" else anchor
    return el("text", s, class_=cls, x=x, y=y, text_anchor=middle_or_end, fill=fill, **attrs)


def rect(
    cls: str, x: float, y: float, w: float, h: float, fill: str, *children: Markup, **attrs: object
) -> Markup:
    return el("rect", *children, class_=cls, x=x, y=y, width=w, height=h, fill=fill, **attrs)


def vline(
    cls: str, x: float, y1: float, y2: float, stroke: str, *children: Markup, **attrs: object
) -> Markup:
    return el("line", *children, class_=cls, x1=x, x2=x, y1=y1, y2=y2, stroke=stroke, **attrs)


def circle(
    cls: str, cx: float, cy: float, r: float, fill: str, *children: Markup, **attrs: object
) -> Markup:
    return el("circle", *children, class_=cls, cx=cx, cy=cy, r=r, fill=fill, **attrs)


def path(cls: str, d: str, stroke: str, width: float, *children: Markup, **attrs: object) -> Markup:
    """A stroked, unfilled path (a line of a chart)."""
    style = {"fill": "none", "stroke_width": width, "stroke_linejoin": "round"}
    return el("path", *children, class_=cls, d=d, stroke=stroke, **style, **attrs)


def hline(cls: str, x1: float, x2: float, y: float, stroke: str) -> Markup:
    return el("line", class_=cls, x1=x1, x2=x2, y1=y, y2=y, stroke=stroke)


def empty(
    kind: str, title: str, width: float = 720, height: float = 60, fixed: bool = False
) -> Markup:
    """The chart of no data: a small box saying so, ``data-points="0"``."""
    note = text("No data yet", width / 2, height / 2 + 4, "empty", "middle")
    return root(kind, title, width, height, 0, note, classes=("empty",), fixed=fixed)


def legend(
    entries: Sequence[tuple[str, str, str, float]], left: float, top: float, right: float
) -> tuple[Markup, float]:
    """Legend items (name, CSS class, swatch colour, swatch opacity) in rows that wrap at
    ``right``; returns the markup and the height it takes."""
    items, x, y = [], left, top
    for name, cls, fill, opacity in entries:
        w = 16 + len(name) * CHAR_W + 14
        if x > left and x + w > right:
            x, y = left, y + 16
        alpha = None if opacity >= 1 else opacity
        swatch = rect(f"swatch {cls}", x, y + 2, 12, 10, fill, rx=2, fill_opacity=alpha)
        items.append(el("g", swatch, text(name, x + 16, y + 11, "legend-label", fill=TEXT)))
        x += w
    return el("g", *items, class_="legend"), (y - top + 16) if entries else 0.0


def data(v: float) -> str:
    """A value for a ``data-value`` attribute: exact, machine-readable."""
    return str(int(v)) if v == int(v) else repr(v)


def y_axis(
    lo: float, hi: float, width: float, height: float, top: float, label: str
) -> tuple[float, float, float, Linear, Markup]:
    """A value axis from its nice ticks (0 always among them, on the ``axis zero`` line) with a
    left margin that fits their labels. Returns left, right, bottom, the y scale, the markup."""
    ticks = nice_ticks(min(lo, 0.0), max(hi, 0.0))
    labels = [compact(t) for t in ticks]
    left = 10 + max(len(s) for s in labels) * CHAR_W + (16 if label else 0)
    right, bottom = width - 12, max(height - 22, top + 20)
    y = Linear(ticks[0], ticks[-1], bottom, top)
    parts = [hline("grid", left, right, y(t), GRID) for t in ticks if t]
    parts += [text(compact(t), left - 6, y(t) + 4, "tick y-tick", "end") for t in ticks]
    parts.append(hline("axis zero", left, right, y(0), AXIS))
    if label:
        mid = -(top + bottom) / 2
        parts.append(text(label, mid, 12, "axis-label", "middle", transform="rotate(-90)"))
    return left, right, bottom, y, el("g", *parts, class_="y-axis")


def x_axis(labels: Sequence[str], xs: Sequence[float], slot: float, y: float) -> Markup:
    """The category labels under the plot, thinned to fit ``slot`` px apart."""
    shown = shown_labels(labels, slot)
    return el(
        "g", *(text(labels[i], xs[i], y, "tick x-tick", "middle") for i in shown), class_="x-axis"
    )
