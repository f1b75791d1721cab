"""Each page's charts, from its data (:mod:`pages`) to SVG (:mod:`charts`).

Pure: dicts in, :class:`~markupsafe.Markup` out. Every label that reaches a chart is escaped by
the charts themselves.
"""

from __future__ import annotations

from typing import Any

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

__all__ = [
    "accounts",
    "gauge_of",
    "lifecycle",
    "overview",
    "projects",
    "retention",
    "segments",
    "trends",
]

LEVELS = ("highly_active", "active", "at_risk", "dormant")
CARD = 400  # the drawing width of charts in a card (a third of the page): legible text


def gauge_of(live: dict[str, Any]) -> Markup:
    """The overview's gauge, from the live usage (also sent alone to the polling page)."""
    projection = live.get("projection") or {}
    return gauge(
        live["mau"],
        live["effective_cap"],
        projected=live.get("projected_mau"),
        low=projection.get("low"),
        high=projection.get("high"),
        title=f"MAU of {live['month']} against the effective cap",
        width=CARD,
    )


def overview(data: dict[str, Any]) -> dict[str, Markup]:
    live = data["live"]
    return {
        "gauge": gauge_of(live),
        "identity": hbar_chart(
            [
                ("identified", live["identified"]),
                ("anonymous", live["anonymous"]),
                ("refused", live["refused"]),
            ],
            title="Identified, anonymous and refused persons this month",
            total=live["mau"] or None,
            width=CARD,
        ),
    }


def trends(data: dict[str, Any]) -> dict[str, Markup]:
    daily = data["daily"]
    labels = [p["period"] for p in daily["dau"]]
    months = [m["month"] for m in data["monthly"]]
    forecast = data["forecast"]["months"]
    points = forecast["points"] if forecast["available"] else []
    current = data["current"]
    monthly_labels = [*months, current["month"]]
    monthly_values: list[float | None] = [m["mau"] for m in data["monthly"]] + [current["mau"]]
    band = None
    if points:
        band = Band(
            [p["month"] for p in points],
            [p["low"] for p in points],
            [p["high"] for p in points],
            name=f"forecast, {round(100 * forecast['level'])} % interval",
        )
    expected = {p["month"]: p["expected"] for p in points}
    axis = monthly_labels + [m for m in expected if m not in monthly_labels]
    stickiness = data["stickiness"]["daily"]
    growth = [m for m in data["growth"]["months"] if m["mom"] is not None]
    season = data["seasonality"]
    return {
        "daily": line_chart(
            labels,
            [
                Series("DAU", [p["value"] for p in daily["dau"]]),
                Series("rolling 7 days", [p["value"] for p in daily["rolling7"]]),
                Series("rolling 30 days", [p["value"] for p in daily["rolling30"]]),
            ],
            title="Active persons per day, last 90 days",
            y_label="persons",
        ),
        "weekly": line_chart(
            [p["period"] for p in data["weekly"]],
            [Series("WAU", [p["value"] for p in data["weekly"]])],
            title="Weekly active persons",
            y_label="persons",
            markers=True,
        ),
        "monthly": line_chart(
            axis,
            [
                Series("MAU", [*monthly_values, *[None] * (len(axis) - len(monthly_labels))]),
                Series("forecast", [expected.get(m) for m in axis]),
            ],
            band,
            title="Monthly active persons and the forecast",
            y_label="MAU",
            markers=True,
        ),
        "stickiness": line_chart(
            [d["day"] for d in stickiness],
            [Series("DAU/MAU", [round(100 * d["ratio"], 2) for d in stickiness])],
            title="Stickiness: DAU over the month's MAU, percent",
            y_label="%",
        ),
        "growth": bar_chart(
            [m["month"] for m in growth],
            [Series("MoM growth %", [round(100 * m["mom"], 2) for m in growth])],
            stacked=False,
            title="Month-over-month growth, percent",
            y_label="%",
        ),
        "frequency": histogram(
            [(k, n) for k, n in data["frequency"]["counts"].items()],
            title="Persons by the number of days they were active, last 28 days",
            unit="persons",
            y_label="persons",
        ),
        "seasonality": bar_chart(
            [p["position"] for p in season.get("profile", [])],
            [Series("weekly effect", [p["seasonal"] for p in season.get("profile", [])])],
            stacked=False,
            title="Weekly seasonal effect on DAU",
            y_label="persons",
        ),
    }


def lifecycle(data: dict[str, Any]) -> dict[str, Markup]:
    rows = data["rows"]
    return {
        "lifecycle": bar_chart(
            [r["period"] for r in rows],
            [
                Series(name, [r[name] for r in rows])
                for name in ("new", "returning", "resurrecting", "dormant")
            ],
            negative=frozenset({"dormant"}),
            title=f"Lifecycle per {data['interval']}: dormant below the axis",
            y_label="persons",
        )
    }


def retention(data: dict[str, Any]) -> dict[str, Markup]:
    cohorts = data["cohorts"]
    width = max((len(c["shares"]) for c in cohorts), default=0)
    return {
        "retention": heatmap(
            [f"{c['cohort']} ({c['size']:,})" for c in cohorts],
            [f"+{k}" for k in range(width)],
            [c["shares"] for c in cohorts],
            title=f"Retention by {data['interval']} cohort",
        )
    }


def _cells(breakdown: dict[str, Any]) -> list[tuple[str, float]]:
    return [
        ("(none)" if c["value"] is None else str(c["value"]), c["persons"])
        for c in breakdown["cells"]
    ]


def segments(data: dict[str, Any]) -> dict[str, Any]:
    levels = data["levels"]
    movement = {(m["from"], m["to"]): m["persons"] for m in levels["movement"]}
    return {
        "devices": hbar_chart(
            _cells(data["devices"]),
            title=f"MAU by device type, {data['month']}",
            total=data["devices"]["mau"] or None,
            width=CARD,
        ),
        "traits": hbar_chart(
            _cells(data["traits"])[:20],
            title=f"MAU by {data['trait']}, {data['month']}",
            total=data["traits"]["mau"] or None,
            width=CARD,
        ),
        "levels": bar_chart(
            [levels["previous_day"], levels["day"]],
            [
                Series(level, [levels["previous_counts"][level], levels["counts"][level]])
                for level in LEVELS
            ],
            title="Activity levels, one window apart",
            y_label="persons",
        ),
        "movement": movement,
    }


def projects(data: dict[str, Any]) -> dict[str, Markup]:
    return {
        "projects": hbar_chart(
            [(p["project"], p["mau"]) for p in data["projects"]],
            title=f"MAU per project, {data['month']}",
            total=data["mau"] or None,
            width=CARD,
        ),
        "experiments": hbar_chart(
            [(e["value"], e["mau"]) for e in data["experiments"]],
            title=f"MAU per experiment, {data['month']}",
            total=data["mau"] or None,
            width=CARD,
        ),
        "flags": hbar_chart(
            [(f["value"], f["mau"]) for f in data["flags"]],
            title=f"MAU per flag, {data['month']}",
            total=data["mau"] or None,
            width=CARD,
        ),
    }


def accounts(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "sparklines": {
            h["org"]: sparkline(
                h["inputs"]["monthly_mau"], title=f"{h['org']}: MAU of the last complete months"
            )
            for h in data["accounts"]
        }
    }
