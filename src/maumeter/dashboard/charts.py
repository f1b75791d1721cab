"""Server-side SVG charts for the dashboard: inline, offline (no script, no CDN), accessible.

Each chart is one ``<svg class="chart chart-<kind>" role="img" aria-label=… viewBox=…
data-points=N>`` as :class:`~markupsafe.Markup` (Jinja2 embeds it as is), responsive (100% wide,
the viewBox keeps the aspect), with a ``<title>`` and a ``<title>`` tooltip on every data element
("2026-03: 1,234 MAU"). ``data-points`` counts those elements (points, bars, cells, items,
buckets). Colours come from CSS classes (``series-<i>``, ``band``, ``axis``, ``grid``,
``over-cap``…) with default ``fill``/``stroke`` attributes, so a chart renders without a
stylesheet. Every text is escaped (:func:`maumeter.dashboard.svg.el`), numbers carry thousands
separators, and no data gives a small "No data yet" box with ``data-points="0"``.

Values: None (or NaN/inf) is a gap, not a zero; magnitudes beyond ±1e100 are clipped.
Pure functions: no I/O, no clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from maumeter.dashboard.svg import (
    BAND,
    CHAR_W,
    OVER,
    TEXT,
    Linear,
    circle,
    color,
    data,
    el,
    empty,
    fmt_number,
    legend,
    num,
    path,
    path_d,
    percent,
    rect,
    root,
    shown_labels,
    text,
    truncate,
    vline,
    x_axis,
    y_axis,
)

__all__ = [
    "Band",
    "Series",
    "bar_chart",
    "gauge",
    "hbar_chart",
    "heatmap",
    "histogram",
    "line_chart",
    "percent",
    "sparkline",
]

LIMIT = 1e100  # beyond any count: keeps sums and scales finite


@dataclass(frozen=True, slots=True)
class Series:
    """A named run of values, one per x label or category, in order. None is a gap (no data),
    not a zero; a series shorter than the labels ends in gaps."""

    name: str
    values: Sequence[float | None]


@dataclass(frozen=True, slots=True)
class Band:
    """An interval shaded behind the lines (a forecast's low..high) on its own x labels: those
    not among the chart's labels extend the x axis (history, then the forecast months)."""

    labels: Sequence[str]
    low: Sequence[float | None]
    high: Sequence[float | None]
    name: str = "interval"

    def __post_init__(self) -> None:
        if not len(self.labels) == len(self.low) == len(self.high):
            raise ValueError("a band needs one low and one high per label")


def _val(v: float | None) -> float | None:
    if v is None:
        return None
    f = float(v)
    return max(-LIMIT, min(LIMIT, f)) if math.isfinite(f) else None


def _row(s: Series, n: int) -> list[float | None]:
    if len(s.values) > n:
        raise ValueError(f"series {s.name!r} has {len(s.values)} values for {n} labels")
    return [_val(v) for v in s.values] + [None] * (n - len(s.values))


def _tip(label: str, v: float, name: str) -> str:
    return f"{label}: {fmt_number(v)} {name}".rstrip()


def line_chart(
    x_labels: Sequence[str],
    series: Sequence[Series],
    band: Band | None = None,
    *,
    title: str,
    y_label: str = "",
    width: float = 720,
    height: float = 260,
    markers: bool = False,
) -> Markup:
    """Lines over shared x labels (DAU/WAU/MAU/rolling 30 days), None as gaps, with an optional
    shaded band. Every value gets a circle carrying its tooltip (transparent unless ``markers``
    or isolated between gaps: a lone value would otherwise be invisible). ``data-points``
    counts the series' values; the band's hover targets are ``line.band-point``."""
    head, tail = [str(lb) for lb in x_labels], [str(lb) for lb in band.labels] if band else []
    seen = set(head)
    labels = [*head, *(lb for lb in dict.fromkeys(tail) if lb not in seen)]
    pos: dict[str, int] = {}
    for i, lb in enumerate(labels):
        pos.setdefault(lb, i)
    rows = [_row(s, len(labels)) for s in series]
    spans = []  # (axis position, label, low, high) of the band, in axis order
    if band:
        for lb, lo, hi in zip(tail, band.low, band.high, strict=True):
            a, b = _val(lo), _val(hi)
            if a is not None and b is not None:
                spans.append((pos[lb], lb, min(a, b), max(a, b)))
    spans.sort(key=lambda s: s[0])
    points = sum(v is not None for r in rows for v in r)
    if not points and not spans:
        return empty("line", title, width)
    values = [v for r in rows for v in r if v is not None] + [v for s in spans for v in s[2:]]
    entries = [(s.name, f"series-{i}", color(i), 1.0) for i, s in enumerate(series)]
    band_name = band.name if band else ""
    if spans:
        entries.append((band_name, "band", BAND, 0.25))
    leg, leg_h = legend(entries, 10, 4, width - 12)
    top = leg_h + 16
    left, right, bottom, y, axis = y_axis(min(values), max(values), width, height, top, y_label)
    n = len(labels)  # pad: the first and last x labels stay inside the box
    pad = max(8.0, min(max(len(lb) for lb in labels) * CHAR_W / 2 + 2, (right - left) / 4))
    slot = (right - left - 2 * pad) / max(n - 1, 1)
    xs = [(left + right) / 2] if n == 1 else [left + pad + i * slot for i in range(n)]
    parts = [leg, axis, x_axis(labels, xs, slot if n > 1 else right - left, bottom + 16)]
    if spans:
        edge = [(xs[p], y(hi)) for p, _, _, hi in spans]
        edge += [(xs[p], y(lo)) for p, _, lo, _ in reversed(spans)]
        tip = el("title", f"{band_name}: {spans[0][1]} – {spans[-1][1]}")
        outline = " ".join(f"{num(a)},{num(b)}" for a, b in edge)
        parts.append(el("polygon", tip, class_="band", points=outline, fill=BAND, fill_opacity=0.2))
        for p, lb, lo, hi in spans:
            tip = el("title", f"{lb}: {fmt_number(lo)}–{fmt_number(hi)} {band_name}")
            hover = {"stroke_opacity": 0, "stroke_width": 8, "data_label": lb}
            parts.append(vline("band-point", xs[p], y(hi), y(lo), BAND, tip, **hover))
    dots = []
    for i, (s, r) in enumerate(zip(series, rows, strict=True)):
        d = path_d(None if v is None else (xs[j], y(v)) for j, v in enumerate(r))
        if d:
            tip = el("title", s.name)
            parts.append(path(f"line series-{i}", d, color(i), 2, tip, data_series=s.name))
        for j, v in enumerate(r):
            if v is None:
                continue
            shown = markers or ((j == 0 or r[j - 1] is None) and (j == n - 1 or r[j + 1] is None))
            tip = el("title", _tip(labels[j], v, s.name))
            meta = {"data_series": s.name, "data_label": labels[j], "data_value": data(v)}
            alpha = None if shown else 0
            cls = f"point series-{i}"
            dots.append(
                circle(
                    cls, xs[j], y(v), 3 if shown else 5, color(i), tip, fill_opacity=alpha, **meta
                )
            )
    return root("line", title, width, height, points, *parts, *dots)


def bar_chart(
    categories: Sequence[str],
    stacks: Sequence[Series],
    *,
    stacked: bool = True,
    negative: set[str] | frozenset[str] = frozenset(),
    title: str,
    y_label: str = "",
    width: float = 720,
    height: float = 260,
) -> Markup:
    """Bars per category: stacked (lifecycle: new, returning, resurrecting up) or grouped side
    by side. A series named in ``negative`` is drawn below the axis (dormant: persons lost),
    its tooltips keep the values as given. One ``rect.bar`` per value that is not None."""
    size = (title, y_label, width, height)
    return _bars("bar", categories, stacks, stacked, negative, *size, gap=0.25, keyed=True)


def histogram(
    buckets: Sequence[tuple[str, int]],
    *,
    title: str,
    unit: str = "",
    y_label: str = "",
    width: float = 720,
    height: float = 220,
) -> Markup:
    """A frequency distribution (persons active k days of the month): one bar per bucket, in
    the order given; ``unit`` ends the tooltips ("3: 1,234 persons")."""
    series, cats = [Series(unit, [c for _, c in buckets])], [b for b, _ in buckets]
    size = (title, y_label, width, height)
    return _bars("histogram", cats, series, True, frozenset(), *size, gap=0.06, keyed=False)


def _bars(
    kind: str,
    categories: Sequence[str],
    stacks: Sequence[Series],
    stacked: bool,
    negative: set[str] | frozenset[str],
    title: str,
    y_label: str,
    width: float,
    height: float,
    *,
    gap: float,
    keyed: bool,
) -> Markup:
    cats = [str(c) for c in categories]
    rows = [_row(s, len(cats)) for s in stacks]
    segs = []  # (series, category, base, end, value as given)
    for j in range(len(cats)):
        up = down = 0.0
        for i, (s, r) in enumerate(zip(stacks, rows, strict=True)):
            if (v := r[j]) is None:
                continue
            signed = -abs(v) if s.name in negative else v
            if not stacked:
                segs.append((i, j, 0.0, signed, v))
            elif signed >= 0:
                segs.append((i, j, up, up + signed, v))
                up += signed
            else:
                segs.append((i, j, down, down + signed, v))
                down += signed
    if not segs:
        return empty(kind, title, width)
    ends = [e for s in segs for e in s[2:4]]
    top, parts = 14.0, []
    if keyed:
        entries = [(s.name, f"series-{i}", color(i), 1.0) for i, s in enumerate(stacks)]
        leg, leg_h = legend(entries, 10, 4, width - 12)
        parts.append(leg)
        top += leg_h + 2
    left, right, bottom, y, axis = y_axis(min(ends), max(ends), width, height, top, y_label)
    slot = (right - left) / len(cats)
    xs = [left + (j + 0.5) * slot for j in range(len(cats))]
    parts += [axis, x_axis(cats, xs, slot, bottom + 16)]
    bar_w = slot * (1 - gap) / (1 if stacked else max(len(stacks), 1))
    for i, j, base, end, v in segs:
        x = left + j * slot + slot * gap / 2 + (0 if stacked else i * bar_w)
        y0, y1 = y(base), y(end)
        name = stacks[i].name
        cls = f"bar series-{i}" + (" negative" if name in negative else "")
        tip = el("title", _tip(cats[j], v, name))
        meta = {"data_series": name, "data_label": cats[j], "data_value": data(v)}
        parts.append(rect(cls, x, min(y0, y1), bar_w, abs(y0 - y1), color(i), tip, **meta))
    return root(kind, title, width, height, len(segs), *parts)


def heatmap(
    rows: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[float | None]],
    *,
    title: str,
    formatter: Callable[[float], str] = percent,
    width: float = 720,
) -> Markup:
    """A grid of shares (retention: a row per cohort, a column per month after it): colour
    intensity grows with the value over 0..1, the value is written in the cell, None cells stay
    blank (a row may be shorter than the columns: a cohort's future). One ``g.cell`` per value."""
    rows, columns = [str(r) for r in rows], [str(c) for c in columns]
    if len(values) != len(rows) or any(len(r) > len(columns) for r in values):
        raise ValueError("heatmap values must be one row per row label, at most one per column")
    cells = [
        (i, j, v)
        for i, r in enumerate(values)
        for j, x in enumerate(r)
        if (v := _val(x)) is not None
    ]
    if not cells:
        return empty("heatmap", title, width)
    chars = max(3, int(width / 3 / CHAR_W))
    left = 10 + min(max(len(r) for r in rows), chars) * CHAR_W + 6
    top, cell_h = 22, 24
    cell_w = (width - left - 8) / len(columns)
    height = top + len(rows) * cell_h + 6
    parts = [
        text(truncate(r, chars), left - 6, top + i * cell_h + 16, "tick row-label", "end")
        for i, r in enumerate(rows)
    ]
    parts += [
        text(columns[j], left + (j + 0.5) * cell_w, top - 8, "tick column-label", "middle")
        for j in shown_labels(columns, cell_w)
    ]
    for i, j, v in cells:
        share, label = max(0.0, min(1.0, v)), formatter(v)
        size = max(6.0, min(11.0, (cell_w - 4) / (max(len(label), 1) * 0.56)))
        x, yy = left + j * cell_w, top + i * cell_h
        ink = "#fff" if share > 0.55 else TEXT
        w, alpha = max(cell_w - 2, 0.5), 0.06 + 0.94 * share
        box = rect("", x + 1, yy + 1, w, cell_h - 2, color(0), fill_opacity=alpha)
        value = text(label, x + cell_w / 2, yy + 16, "cell-value", "middle", ink, font_size=size)
        tip = el("title", f"{rows[i]}, {columns[j]}: {label}")
        meta = {"data_row": rows[i], "data_column": columns[j], "data_value": data(v)}
        parts.append(el("g", tip, box, value, class_="cell", **meta))
    return root("heatmap", title, width, height, len(cells), *parts)


def gauge(
    value: int,
    cap: int | None,
    *,
    projected: int | None = None,
    low: int | None = None,
    high: int | None = None,
    title: str,
    unit: str = "MAU",
    width: float = 720,
) -> Markup:
    """This month's MAU against the cap: a bar gauge with the percent used (rounded, but never
    across the cap: 99% under it, 101% over it), a marker at the projected month end and
    its low..high interval. Over the cap the fill and the root carry ``over-cap`` (and
    ``projected-over-cap`` when only the projection crosses). No cap: just the number."""
    if value < 0 or (cap is not None and cap < 0):
        raise ValueError("value and cap are counts: not negative")
    interval = (low, high) if low is not None and high is not None else None
    span = f" ({fmt_number(interval[0])}–{fmt_number(interval[1])})" if interval else ""
    proj = f"projected month end {fmt_number(projected)}{span}" if projected is not None else ""
    big = {"font_size": 22, "font_weight": "600"}
    head = text(f"{fmt_number(value)} {unit}".rstrip(), 10, 30, "value", fill=TEXT, **big)
    if cap is None:
        desc = f"{fmt_number(value)} {unit}; {proj}" if proj else None
        sub = text(proj, 10, 52, "projected-label") if proj else None
        return root("gauge", title, width, 64, 1, head, sub, desc=desc, classes=("no-cap",))
    over = value > cap
    pct = round(value * 100 / cap) if cap else 0
    pct = max(pct, 101) if over else min(pct, 99) if value < cap else 100
    used = f"{pct}%" if cap or not over else "over"
    classes = ["over-cap"] if over else []
    if projected is not None and projected > cap and not over:
        classes.append("projected-over-cap")
    left, right = 10.0, width - 10
    x = Linear(0, max(cap, value, projected or 0, interval[1] if interval else 0, 1), left, right)
    loud = OVER if over else TEXT
    parts = [
        head,
        text(used, right, 30, "percent", "end", loud, font_size=18, font_weight="600"),
        text(f"of {fmt_number(cap)} {unit} cap", right, 46, "cap-label", "end"),
        rect("track", left, 56, right - left, 16, "#eee", rx=3),
    ]
    if interval:
        a, b = sorted(x(max(v, 0)) for v in interval)
        tip = el("title", f"interval{span}")
        parts.append(rect("band", a, 52, b - a, 24, BAND, tip, fill_opacity=0.2))
    tip_text = f"{fmt_number(value)} {unit} of {fmt_number(cap)} cap ({used})"
    fill_cls = "fill over-cap" if over else "fill"
    ink = OVER if over else color(0)
    fill_tip = el("title", tip_text)
    parts.append(rect(fill_cls, left, 56, x(value) - left, 16, ink, fill_tip, rx=3))
    parts.append(
        vline("cap", x(cap), 50, 78, OVER, el("title", f"cap {fmt_number(cap)}"), stroke_width=2)
    )
    if projected is not None:
        cls = "projected over-cap" if projected > cap else "projected"
        dash = {"stroke_width": 2, "stroke_dasharray": "3 2"}
        parts.append(vline(cls, x(projected), 50, 78, TEXT, el("title", proj), **dash))
    parts.append(text("0", left, 92, "tick"))
    if proj:
        parts.append(text(proj, right, 92, "projected-label", "end"))
    desc = tip_text + (f"; {proj}" if proj else "")
    return root("gauge", title, width, 100, 1, *parts, desc=desc, classes=classes)


def hbar_chart(
    items: Sequence[tuple[str, float]],
    *,
    title: str,
    total: float | None = None,
    unit: str = "",
    width: float = 720,
) -> Markup:
    """Horizontal bars (MAU per project, experiment, flag or segment), in the order given, each
    with its value and its share of ``total`` (default: the sum of the values). One ``g.item``
    per finite value; a negative value draws no bar."""
    rows = [(str(lb), v) for lb, x in items if (v := _val(x)) is not None]
    if not rows:
        return empty("hbar", title, width)
    tot = _val(total) if total is not None else sum(max(v, 0.0) for _, v in rows)
    texts = [fmt_number(v) + (f" ({percent(v / tot)})" if tot else "") for _, v in rows]
    chars = max(3, int(width * 0.35 / CHAR_W))
    left = 10 + min(max(len(lb) for lb, _ in rows), chars) * CHAR_W + 6
    right = max(width - 16 - max(len(t) for t in texts) * CHAR_W, left + 20)
    x = Linear(0, max(max(v for _, v in rows), 0.0) or 1.0, left, right)
    row_h, top, parts = 22, 6, []
    for k, ((lb, v), label) in enumerate(zip(rows, texts, strict=True)):
        yy, end = top + k * row_h, x(max(v, 0.0))
        share = f" ({percent(v / tot)} of {fmt_number(tot)})" if tot else ""
        tip = el("title", f"{lb}: {fmt_number(v)} {unit}".rstrip() + share)
        name = text(truncate(lb, chars), left - 6, yy + 15, "tick item-label", "end", TEXT)
        bar = rect("bar series-0", left, yy + 3, end - left, row_h - 6, color(0), rx=2)
        meta = {"data_label": lb, "data_value": data(v)}
        parts.append(
            el("g", tip, name, bar, text(label, end + 6, yy + 15, "value"), class_="item", **meta)
        )
    return root("hbar", title, width, top * 2 + len(rows) * row_h, len(rows), *parts)


def sparkline(
    values: Sequence[float | None],
    *,
    title: str,
    labels: Sequence[str] | None = None,
    width: float = 120,
    height: float = 28,
) -> Markup:
    """A tiny trend line for a table cell (an account's monthly MAU), fixed pixel size, no axes;
    the last value is dotted, each value carries a tooltip (its label, if given)."""
    vals = [_val(v) for v in values]
    present = [v for v in vals if v is not None]
    if not present:
        return empty("sparkline", title, width, height, fixed=True)
    names = (
        [str(lb) for lb in labels] if labels is not None else [str(i + 1) for i in range(len(vals))]
    )
    if len(names) != len(vals):
        raise ValueError("a sparkline needs one label per value")
    y = Linear(min(present), max(present), height - 4, 4)
    n = len(vals)
    xs = [width / 2] if n == 1 else [3 + i * (width - 6) / (n - 1) for i in range(n)]
    d = path_d(None if v is None else (xs[i], y(v)) for i, v in enumerate(vals))
    last = max(i for i, v in enumerate(vals) if v is not None)
    parts = [path("line series-0", d, color(0), 1.5)]
    for i, v in enumerate(vals):
        if v is not None:
            tip = el("title", f"{names[i]}: {fmt_number(v)}")
            end = i == last
            cls = "point series-0 last" if end else "point series-0"
            alpha = None if end else 0
            parts.append(
                circle(cls, xs[i], y(v), 2 if end else 3, color(0), tip, fill_opacity=alpha)
            )
    lo, hi = fmt_number(min(present)), fmt_number(max(present))
    desc = f"from {fmt_number(present[0])} to {fmt_number(present[-1])}, min {lo}, max {hi}"
    return root("sparkline", title, width, height, len(present), *parts, desc=desc, fixed=True)
