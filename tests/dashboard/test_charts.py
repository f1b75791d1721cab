"""Server-side SVG charts: well-formed XML, one element per datum with its tooltip, geometry
(gaps, band span, bars below the axis, monotone intensity, gauge percent), escaping, empty data,
and finite coordinates for any finite data."""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from maumeter.dashboard.charts import (
    Band,
    Series,
    bar_chart,
    gauge,
    hbar_chart,
    heatmap,
    histogram,
    line_chart,
    sparkline,
)
from maumeter.dashboard.svg import compact, fmt_number, nice_ticks, percent, shown_labels

NS = "{http://www.w3.org/2000/svg}"
EVIL = '<script>alert(1)</script> "q" & co'
NUMERIC = {"x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "width", "height", "fill-opacity"}
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def parse(chart: Markup) -> ET.Element:
    assert isinstance(chart, Markup)
    root = ET.fromstring(str(chart))
    assert root.tag == f"{NS}svg"
    return root


def having(root: ET.Element, cls: str, tag: str | None = None) -> list[ET.Element]:
    return [
        e
        for e in root.iter()
        if cls in e.get("class", "").split() and (tag is None or e.tag == f"{NS}{tag}")
    ]


def tip(e: ET.Element) -> str:
    title = e.find(f"{NS}title")
    assert title is not None, "every data element carries a tooltip"
    return title.text or ""


def texts(root: ET.Element) -> list[str]:
    return [e.text or "" for e in root.iter(f"{NS}text")]


def assert_finite(chart: Markup) -> ET.Element:
    """Well-formed, and every coordinate a finite number."""
    root = parse(chart)
    for e in root.iter():
        for name, value in e.attrib.items():
            if name in NUMERIC and value != "100%":
                assert math.isfinite(float(value)), (e.tag, name, value)
            elif name in ("d", "points", "viewBox"):
                assert re.fullmatch(r"[-\d., MLZ]*", value), (name, value)
                assert all(math.isfinite(float(n)) for n in NUMBER.findall(value))
    return root


MONTHS = [f"2025-{m:02d}" for m in range(1, 13)] + ["2026-01", "2026-02", "2026-03"]


# ---------------------------------------------------------------------------------------------
# primitives


def test_nice_ticks_are_round_and_cover_the_range() -> None:
    assert nice_ticks(0, 4000) == [0, 1000, 2000, 3000, 4000]
    assert nice_ticks(0, 1234) == [0, 500, 1000, 1500]
    assert [round(t, 9) for t in nice_ticks(0, 0.83)] == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(0, 0) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]  # a flat zero series still has an axis
    ticks = nice_ticks(-70, 480)
    assert ticks[0] <= -70 and ticks[-1] >= 480 and 0 in ticks


def test_number_formats() -> None:
    assert fmt_number(1234) == "1,234"
    assert fmt_number(1234567.0) == "1,234,567"
    assert fmt_number(1234.5) == "1,234.5"
    assert fmt_number(float("nan")) == "—"
    assert [compact(v) for v in (0, 500, 1000, 2500, 1.2e6, 3e9, 1e12, -200)] == [
        "0",
        "500",
        "1k",
        "2.5k",
        "1.2M",
        "3B",
        "1T",
        "−200",
    ]
    assert [percent(v) for v in (1, 0.456, 0.045, 0)] == ["100%", "46%", "4.5%", "0%"]


def test_labels_are_thinned_but_the_latest_is_kept() -> None:
    labels = [f"2026-{m:02d}" for m in range(1, 13)] * 4
    shown = shown_labels(labels, 20)
    assert shown[-1] == len(labels) - 1
    gaps = {b - a for a, b in itertools.pairwise(shown)}
    assert len(gaps) == 1 and gaps.pop() * 20 >= 7 * 6.2  # never closer than a label's width
    assert shown_labels(labels[:3], 200) == [0, 1, 2]


# ---------------------------------------------------------------------------------------------
# line chart


def test_line_chart_points_tooltips_gaps_and_legend() -> None:
    mau = [1000 + 100 * i for i in range(15)]
    mau[5] = None  # type: ignore[call-overload]
    dau = [v // 4 if v is not None else None for v in mau]
    root = parse(
        line_chart(
            MONTHS, [Series("MAU", mau), Series("DAU", dau)], title="Trends", y_label="persons"
        )
    )
    assert root.get("class") == "chart chart-line"
    assert root.get("role") == "img" and root.get("aria-label") == "Trends"
    assert root.get("viewBox") == "0 0 720 260" and root.get("width") == "100%"
    assert root.find(f"{NS}title").text == "Trends"  # type: ignore[union-attr]
    points = having(root, "point", "circle")
    assert len(points) == 28 and root.get("data-points") == "28"
    assert len(having(root, "series-0", "circle")) == 14
    assert "2026-03: 2,400 MAU" in [tip(p) for p in points]
    # the gap lifts the pen: two runs for each series
    lines = having(root, "line", "path")
    assert [p.get("d", "").count("M") for p in lines] == [2, 2]
    legend = having(root, "legend")[0]
    assert [t.text for t in legend.iter(f"{NS}text")] == ["MAU", "DAU"]
    # nice y ticks and thinned x labels, the latest shown
    y_ticks = [e.text for e in having(root, "y-tick")]
    assert y_ticks == ["0", "500", "1k", "1.5k", "2k", "2.5k"]
    x_ticks = [e.text for e in having(root, "x-tick")]
    assert x_ticks[-1] == "2026-03" and set(x_ticks) <= set(MONTHS)
    assert "persons" in texts(root)
    # higher values are drawn higher (smaller y)
    cy = {p.get("data-label"): float(p.get("cy", "")) for p in having(root, "series-0", "circle")}
    assert cy["2025-01"] > cy["2025-05"] > cy["2026-03"]


def test_line_chart_markers_and_isolated_points_are_visible() -> None:
    root = parse(line_chart(["a", "b", "c"], [Series("s", [1, None, 3])], title="t"))
    assert all(p.get("fill-opacity") is None for p in having(root, "point"))  # both isolated
    root = parse(line_chart(["a", "b", "c"], [Series("s", [1, 2, 3])], title="t"))
    assert all(p.get("fill-opacity") == "0" for p in having(root, "point"))  # hover targets only
    root = parse(line_chart(["a", "b", "c"], [Series("s", [1, 2, 3])], title="t", markers=True))
    assert all(p.get("fill-opacity") is None for p in having(root, "point"))


def test_band_extends_the_axis_and_spans_its_labels() -> None:
    history = MONTHS[:12]
    forecast = ["2025-12", "2026-01", "2026-02", "2026-03", "2026-04"]  # overlaps the last month
    band = Band(forecast, [2000, 2050, 2100, 2150, 2200], [2200, 2350, 2500, 2650, 2800], "80%")
    centre = [None] * 11 + [2100, 2200, 2300, 2400, 2500]
    series = [Series("MAU", [1000 + 100 * i for i in range(12)]), Series("forecast", centre)]
    root = parse(line_chart(history, series, band, title="Outlook"))
    # the axis is the history, then the forecast months only the band has
    xs = {p.get("data-label"): float(p.get("cx", "")) for p in having(root, "point")}
    assert list(xs) == [*history, *forecast[1:]]
    assert xs["2026-04"] == max(xs.values())
    polygon = having(root, "band", "polygon")[0]
    pairs = [tuple(map(float, p.split(","))) for p in polygon.get("points", "").split()]
    assert len(pairs) == 2 * len(forecast)
    assert min(x for x, _ in pairs) == pytest.approx(xs["2025-12"], abs=1e-3)
    assert max(x for x, _ in pairs) == pytest.approx(xs["2026-04"], abs=1e-3)
    assert tip(polygon) == "80%: 2025-12 – 2026-04"
    # high edge above low edge at every band label
    marks = having(root, "band-point", "line")
    assert [m.get("data-label") for m in marks] == forecast
    assert all(float(m.get("y1", "")) < float(m.get("y2", "")) for m in marks)
    assert tip(marks[-1]) == "2026-04: 2,200–2,800 80%"
    assert root.get("data-points") == str(12 + 5)
    assert "80%" in [t.text for t in having(root, "legend")[0].iter(f"{NS}text")]


def test_line_chart_rejects_series_longer_than_the_axis() -> None:
    with pytest.raises(ValueError, match="3 values for 2 labels"):
        line_chart(["a", "b"], [Series("s", [1, 2, 3])], title="t")
    with pytest.raises(ValueError):
        Band(["a"], [1, 2], [3])


# ---------------------------------------------------------------------------------------------
# bars


def test_stacked_bars_with_dormant_below_the_axis() -> None:
    months = MONTHS[:4]
    stacks = [
        Series("new", [100, 120, None, 80]),
        Series("returning", [300, 310, 320, 0]),
        Series("resurrecting", [20, 25, 30, 35]),
        Series("dormant", [50, 60, 70, 80]),
    ]
    root = parse(bar_chart(months, stacks, negative={"dormant"}, title="Lifecycle"))
    bars = having(root, "bar", "rect")
    assert len(bars) == 15 and root.get("data-points") == "15"
    zero = float(having(root, "zero")[0].get("y1", ""))
    below = having(root, "negative")
    assert {b.get("data-series") for b in below} == {"dormant"} and len(below) == 4
    for b in bars:
        top, bottom = float(b.get("y", "")), float(b.get("y", "")) + float(b.get("height", ""))
        if b in below:
            assert top == pytest.approx(zero, abs=1e-3) and bottom > zero
        else:
            assert bottom <= zero + 1e-3
    assert "2025-04: 80 dormant" in [tip(b) for b in below]  # the value as given
    assert "2025-02: 120 new" in [tip(b) for b in bars]
    # stacking: returning sits on new
    feb = {b.get("data-series"): b for b in bars if b.get("data-label") == "2025-02"}
    assert float(feb["returning"].get("y", "")) + float(
        feb["returning"].get("height", "")
    ) == pytest.approx(float(feb["new"].get("y", "")), abs=1e-2)
    assert [t.text for t in having(root, "legend")[0].iter(f"{NS}text")] == [
        "new",
        "returning",
        "resurrecting",
        "dormant",
    ]


def test_grouped_bars_stand_side_by_side() -> None:
    root = parse(
        bar_chart(["a", "b"], [Series("x", [1, 2]), Series("y", [3, 4])], stacked=False, title="t")
    )
    bars = having(root, "bar")
    assert len(bars) == 4
    a = sorted((b for b in bars if b.get("data-label") == "a"), key=lambda b: float(b.get("x", "")))
    assert float(a[0].get("x", "")) + float(a[0].get("width", "")) <= float(a[1].get("x", ""))
    zero = float(having(root, "zero")[0].get("y1", ""))
    assert all(
        float(b.get("y", "")) + float(b.get("height", "")) == pytest.approx(zero) for b in bars
    )


def test_histogram_one_bar_per_bucket() -> None:
    buckets = [(str(k), 1000 // k) for k in range(1, 31)]
    root = parse(histogram(buckets, title="Days active", unit="persons"))
    bars = having(root, "bar", "rect")
    assert len(bars) == 30 and root.get("class") == "chart chart-histogram"
    assert tip(bars[0]) == "1: 1,000 persons" and tip(bars[2]) == "3: 333 persons"
    heights = [float(b.get("height", "")) for b in bars]
    assert heights == sorted(heights, reverse=True)
    assert not having(root, "legend")


# ---------------------------------------------------------------------------------------------
# heatmap, gauge, horizontal bars, sparkline


def test_heatmap_cells_text_and_monotone_intensity() -> None:
    cohorts = ["2026-01", "2026-02", "2026-03"]
    columns = ["+0", "+1", "+2"]
    values = [[1.0, 0.42, 0.05], [1.0, None, 0.3], [0.9]]
    root = parse(heatmap(cohorts, columns, values, title="Retention"))
    cells = having(root, "cell", "g")
    assert len(cells) == 6 and root.get("data-points") == "6"
    assert [c.find(f"{NS}text").text for c in cells] == [
        "100%",
        "42%",
        "5.0%",
        "100%",
        "30%",
        "90%",
    ]  # type: ignore[union-attr]
    assert tip(cells[1]) == "2026-01, +1: 42%"
    assert ("2026-02", "+1") not in {(c.get("data-row"), c.get("data-column")) for c in cells}

    def opacity(c: ET.Element) -> float:
        return float(c.find(f"{NS}rect").get("fill-opacity", ""))  # type: ignore[union-attr]

    ordered = sorted(cells, key=lambda c: float(c.get("data-value", "")))
    levels = [opacity(c) for c in ordered]
    assert levels == sorted(levels) and levels[0] < levels[-1]
    custom = parse(heatmap(["r"], ["c"], [[0.5]], title="t", formatter=lambda v: f"{v:.2f}"))
    assert "0.50" in texts(custom)
    with pytest.raises(ValueError):
        heatmap(["r"], ["c"], [[0.1, 0.2]], title="t")


def test_gauge_percent_projection_and_over_cap() -> None:
    root = parse(gauge(1234, 2000, projected=1800, low=1600, high=2100, title="Usage"))
    assert having(root, "percent")[0].text == "62%"
    assert "over-cap" not in root.get("class", "")
    assert "1,234 MAU" in texts(root) and "of 2,000 MAU cap" in texts(root)
    fill, cap = having(root, "fill")[0], having(root, "cap")[0]
    projected, band = having(root, "projected")[0], having(root, "band")[0]
    assert tip(fill) == "1,234 MAU of 2,000 cap (62%)"
    end = float(fill.get("x", "")) + float(fill.get("width", ""))
    assert end < float(projected.get("x1", "")) < float(cap.get("x1", ""))
    band_x = float(band.get("x", ""))
    assert band_x < float(projected.get("x1", "")) < band_x + float(band.get("width", ""))
    assert "projected month end 1,800 (1,600–2,100)" in tip(projected)
    assert root.get("data-points") == "1"

    over = parse(gauge(2345, 2000, projected=2800, title="Usage"))
    assert over.get("class", "").split()[-1] == "over-cap"
    assert having(over, "fill")[0].get("class") == "fill over-cap"
    assert having(over, "percent")[0].text == "117%"
    heading = parse(gauge(1500, 2000, projected=2100, title="t"))
    assert "projected-over-cap" in heading.get("class", "").split()
    # never rounded across the cap
    assert having(parse(gauge(1999, 2000, title="t")), "percent")[0].text == "99%"
    assert having(parse(gauge(2001, 2000, title="t")), "percent")[0].text == "101%"
    assert having(parse(gauge(2000, 2000, title="t")), "percent")[0].text == "100%"


def test_gauge_without_cap_is_just_the_number() -> None:
    root = parse(gauge(1234, None, projected=1500, low=1400, high=1600, title="Usage"))
    assert "no-cap" in root.get("class", "").split()
    assert not having(root, "percent") and not having(root, "cap")
    assert "1,234 MAU" in texts(root)
    assert "projected month end 1,500 (1,400–1,600)" in texts(root)
    with pytest.raises(ValueError):
        gauge(-1, 10, title="t")


def test_hbar_values_and_shares() -> None:
    items = [("web", 1234), ("ios", 800), ("android", 300)]
    root = parse(hbar_chart(items, title="Projects", unit="MAU"))
    rows = having(root, "item", "g")
    assert len(rows) == 3 and root.get("data-points") == "3"
    assert [r.find(f"{NS}text[@class='value']").text for r in rows] == [  # type: ignore[union-attr]
        "1,234 (53%)",
        "800 (34%)",
        "300 (13%)",
    ]
    assert tip(rows[0]) == "web: 1,234 MAU (53% of 2,334)"
    widths = [float(r.find(f"{NS}rect").get("width", "")) for r in rows]  # type: ignore[union-attr]
    assert widths == sorted(widths, reverse=True) and widths[1] / widths[0] == pytest.approx(
        800 / 1234
    )
    of_total = parse(hbar_chart(items, title="t", total=10_000))
    assert "1,234 (12%)" in texts(of_total)


def test_sparkline_fixed_size_points_and_last() -> None:
    root = parse(sparkline([1, 3, None, 5, 4], title="Trend", labels=list("abcde")))
    assert root.get("width") == "120" and root.get("height") == "28"
    points = having(root, "point")
    assert len(points) == 4 and root.get("data-points") == "4"
    assert tip(points[-1]) == "e: 4" and "last" in points[-1].get("class", "").split()
    assert having(root, "line")[0].get("d", "").count("M") == 2
    assert root.find(f"{NS}desc").text == "from 1 to 4, min 1, max 5"  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------------------
# empty data, escaping


@pytest.mark.parametrize(
    "chart",
    [
        line_chart([], [], title="t"),
        line_chart(["a", "b"], [Series("s", [None, None])], title="t"),
        bar_chart(["a"], [Series("s", [None])], title="t"),
        bar_chart([], [], title="t"),
        histogram([], title="t"),
        heatmap([], [], [], title="t"),
        heatmap(["r"], ["c"], [[None]], title="t"),
        hbar_chart([], title="t"),
        sparkline([None], title="t"),
        sparkline([], title="t"),
    ],
)
def test_no_data_yet(chart: Markup) -> None:
    root = parse(chart)
    assert root.get("data-points") == "0" and "empty" in root.get("class", "").split()
    assert texts(root) == ["No data yet"]


def test_every_text_is_escaped() -> None:
    charts = [
        line_chart(
            [EVIL, "b"],
            [Series(EVIL, [1, 2])],
            Band([EVIL, "c"], [1, 2], [3, 4], EVIL),
            title=EVIL,
            y_label=EVIL,
        ),
        bar_chart([EVIL], [Series(EVIL, [1]), Series("d", [2])], negative={EVIL}, title=EVIL),
        histogram([(EVIL, 3)], title=EVIL, unit=EVIL),
        heatmap([EVIL], [EVIL], [[0.5]], title=EVIL, formatter=lambda v: EVIL),
        gauge(5, 10, projected=7, low=6, high=8, title=EVIL, unit=EVIL),
        gauge(5, None, title=EVIL, unit=EVIL),
        hbar_chart([(EVIL, 3)], title=EVIL, unit=EVIL),
        sparkline([1, 2], title=EVIL, labels=[EVIL, EVIL]),
        line_chart([], [], title=EVIL),
    ]
    for chart in charts:
        out = str(chart)
        assert "<script" not in out and '" & co' not in out
        root = parse(chart)
        assert root.get("aria-label") == EVIL
        assert root.find(f"{NS}title").text == EVIL  # type: ignore[union-attr]
        # every place the label went, it comes back as text, never as an element
        assert not any(e.tag.endswith("script") for e in root.iter())
        seen = [e.text or "" for e in root.iter()] + [
            v for e in root.iter() for v in e.attrib.values()
        ]
        assert sum(EVIL in s for s in seen) >= (2 if root.get("data-points") == "0" else 3)


def test_characters_xml_cannot_carry_are_dropped() -> None:
    root = parse(hbar_chart([("a\x00b\x1bc\ud800", 1)], title="t\x07"))
    assert root.get("aria-label") == "t"
    assert "abc" in texts(root)


# ---------------------------------------------------------------------------------------------
# any finite data: well-formed SVG, finite coordinates

VALUE = st.one_of(
    st.none(),
    st.just(0),
    st.integers(0, 10**12),
    st.floats(-1e12, 1e12, allow_nan=False, allow_infinity=False),
)


def no_nan(chart: Markup) -> None:
    out = str(chart).lower()
    assert "nan" not in out and "inf" not in out
    assert_finite(chart)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(VALUE, max_size=30), min_size=1, max_size=4), st.booleans())
def test_any_series_draws_finite_svg(rows: list[list[float | None]], markers: bool) -> None:
    n = max(len(r) for r in rows)
    labels = [f"m{i}" for i in range(n)]
    series = [Series(f"s{i}", r) for i, r in enumerate(rows)]
    spans = [*labels[-1:], "z1", "z2"]  # the last label, then two only the band has
    band = Band(spans, [0.0] * len(spans), [1e12] * len(spans))
    root = parse(line_chart(labels, series, title="t", markers=markers))
    assert int(root.get("data-points", "")) == sum(v is not None for r in rows for v in r)
    no_nan(line_chart(labels, series, title="t", markers=markers))
    no_nan(line_chart(labels, series, band, title="t"))
    for stacked in (True, False):
        chart = bar_chart(labels, series, stacked=stacked, negative={"s1"}, title="t")
        no_nan(chart)
        assert len(having(parse(chart), "bar")) == sum(v is not None for r in rows for v in r)
    no_nan(sparkline(rows[0], title="t"))
    no_nan(hbar_chart([(f"i{k}", v) for k, v in enumerate(rows[0]) if v is not None], title="t"))
    no_nan(histogram([(f"b{k}", int(abs(v or 0))) for k, v in enumerate(rows[0])], title="t"))
    grid = [[None if v is None else v / 1e12 for v in r] for r in rows]
    no_nan(heatmap([f"r{i}" for i in range(len(rows))], labels, grid, title="t"))


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 10**12),
    st.one_of(st.none(), st.integers(0, 10**12)),
    st.one_of(st.none(), st.integers(0, 10**12)),
    st.one_of(st.none(), st.tuples(st.integers(0, 10**12), st.integers(0, 10**12))),
)
def test_any_gauge_is_finite(
    value: int, cap: int | None, projected: int | None, interval: tuple[int, int] | None
) -> None:
    low, high = interval or (None, None)
    root = assert_finite(gauge(value, cap, projected=projected, low=low, high=high, title="t"))
    if cap:
        shown = int(having(root, "percent")[0].text.rstrip("%"))  # type: ignore[union-attr]
        assert (shown > 100) == (value > cap) and (shown < 100) == (value < cap)
        assert ("over-cap" in root.get("class", "").split()) == (value > cap)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=6), st.text(max_size=20))
def test_any_text_stays_well_formed(labels: list[str], name: str) -> None:
    values = list(range(len(labels)))
    parse(line_chart(labels, [Series(name, values)], title=name, y_label=name))
    parse(bar_chart(labels, [Series(name, values)], negative={name}, title=name))
    parse(heatmap(labels, labels, [[0.5] * len(labels)] * len(labels), title=name))
    parse(hbar_chart(list(zip(labels, values, strict=True)), title=name, unit=name))
    parse(sparkline(values, title=name, labels=labels))
    parse(gauge(3, 5, title=name, unit=name))
