"""Series split by a trait, a property or the device, and the monthly outlook (history, growth,
health inputs), against naive recounts over the records sent."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from maumeter.analytics.breakdown import OTHER, TOP
from maumeter.core.devices import device_type
from maumeter.core.errors import InvalidInput
from maumeter.core.levels import activity_levels
from maumeter.core.months import Month
from maumeter.meter import Meter

NOW = datetime(2024, 7, 10, 12, tzinfo=UTC)
AGENTS = {
    "phone": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148",
    "laptop": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Safari/605.1.15",
}


def records(seed: int = 3) -> list[dict[str, Any]]:
    """Users with a country that changes once, two devices, a plan property; Jan–Jul 2024."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    start = datetime(2024, 1, 1, 12, tzinfo=UTC)
    for u in range(40):
        country = rng.choice(["FR", "DE", "US", None])
        if country:
            out.append(
                {
                    "type": "identify",
                    "userId": f"u{u}",
                    "traits": {"country": country},
                    "timestamp": (start + timedelta(days=rng.randint(0, 30))).isoformat(),
                }
            )
        if u % 4 == 0:  # moves in May: the latest value as of the series' end wins
            out.append(
                {
                    "type": "identify",
                    "userId": f"u{u}",
                    "traits": {"country": "ES"},
                    "timestamp": datetime(2024, 5, 2, tzinfo=UTC).isoformat(),
                }
            )
        for _ in range(rng.randint(1, 25)):
            at = start + timedelta(days=rng.randint(0, 190), hours=rng.randint(0, 10))
            device = rng.choice(list(AGENTS))
            out.append(
                {
                    "type": "track",
                    "event": "Used",
                    "userId": f"u{u}",
                    "properties": {"plan": rng.choice(["free", "pro"])}
                    if rng.random() < 0.8
                    else {},
                    "context": {"userAgent": AGENTS[device]},
                    "timestamp": min(at, NOW - timedelta(hours=1)).isoformat(),
                }
            )
    return out


@pytest.fixture(scope="module")
def loaded() -> Any:
    with Meter.open(":memory:", clock=lambda: NOW) as meter:
        meter.create_org("o")
        meter.create_project("o", "web")
        data = records()
        meter.import_records([data], "o", "web")
        yield meter, data


def _day(r: dict[str, Any]) -> date:
    return datetime.fromisoformat(r["timestamp"]).date()


def active(data: list[dict[str, Any]], keep: Any = lambda r: True) -> dict[str, set[date]]:
    found: dict[str, set[date]] = defaultdict(set)
    for r in data:
        if r["type"] == "track" and keep(r):
            found[r["userId"]].add(_day(r))
    return found


def count(activity: dict[str, set[date]], first: date, last: date) -> int:
    return sum(1 for days in activity.values() if any(first <= d <= last for d in days))


def latest_country(data: list[dict[str, Any]], until: date) -> dict[str, str | None]:
    found: dict[str, tuple[datetime, str]] = {}
    for r in data:
        if r["type"] == "identify" and _day(r) <= until:
            at = datetime.fromisoformat(r["timestamp"])
            if r["userId"] not in found or at >= found[r["userId"]][0]:
                found[r["userId"]] = (at, r["traits"]["country"])
    return {u: v for u, (_, v) in found.items()}


START, END = date(2024, 2, 1), date(2024, 6, 30)


@pytest.mark.parametrize("metric", ["dau", "wau", "mau", "rolling7", "rolling30"])
def test_a_trait_split_sums_to_the_total_and_follows_the_latest_value(
    loaded: Any, metric: str
) -> None:
    meter, data = loaded
    points = meter.analytics.series("o", metric, START, END, by="trait:country")
    countries = latest_country(data, END)
    everyone = active(data)
    for p in points:
        cells = dict(p.breakdown)
        assert sum(cells.values()) == p.value == count(everyone, p.first, p.last)
        for value in {*countries.values(), None}:
            members = {u: d for u, d in everyone.items() if countries.get(u) == value}
            assert cells.get(value, 0) == count(members, p.first, p.last), (p.period, value)
    assert "ES" in {v for p in points for v, n in p.breakdown if n}


@pytest.mark.parametrize("metric", ["dau", "mau", "rolling30"])
def test_property_and_device_splits_count_the_events_carrying_each_value(
    loaded: Any, metric: str
) -> None:
    meter, data = loaded
    for by, value_of in (
        ("property:plan", lambda r: r["properties"].get("plan")),
        ("device", lambda r: device_type(None, r["context"]["userAgent"])),
    ):
        points = meter.analytics.series("o", metric, START, END, by=by)
        values = {value_of(r) for r in data if r["type"] == "track"}
        for p in points:
            cells = dict(p.breakdown)
            for value in values:
                members = active(data, lambda r, v=value, f=value_of: f(r) == v)  # type: ignore[misc]
                assert cells.get(value, 0) == count(members, p.first, p.last), (by, p.period)


def test_many_values_keep_the_top_ones_and_merge_the_rest() -> None:
    with Meter.open(":memory:", clock=lambda: NOW) as m:
        m.create_org("o")
        m.create_project("o", "web")
        m.import_records(
            [
                [
                    {
                        "type": "track",
                        "event": "x",
                        "userId": f"u{i}",
                        "properties": {"sku": f"s{i % (TOP + 5)}"},
                        "timestamp": "2024-06-01T10:00:00Z",
                    }
                    for i in range(200)
                ]
            ],
            "o",
            "web",
        )
        (point,) = m.analytics.series(
            "o", "mau", date(2024, 6, 1), date(2024, 6, 1), by="property:sku"
        )
        cells = dict(point.breakdown)
        assert len(cells) == TOP + 1 and OTHER in cells
        assert sum(cells.values()) == 200


def test_a_bad_by_names_the_field(loaded: Any) -> None:
    meter, _ = loaded
    for by in ("colour", "trait:", "property:" + "x" * 300):
        with pytest.raises(InvalidInput) as err:
            meter.analytics.series("o", "dau", START, END, by=by)
        assert err.value.problems[0].field == "by"


def test_history_growth_and_health_inputs_are_the_naive_figures(loaded: Any) -> None:
    meter, data = loaded
    everyone = active(data)
    months = [Month(2024, m) for m in range(1, 7)]  # July is running: not in the history
    expected = [(m, count(everyone, m.first_day(), m.last_day())) for m in months]
    assert meter.analytics.history("o") == expected
    growth = meter.analytics.growth("o")
    assert [g.mau for g in growth.months] == [n for _, n in expected]
    assert growth.months[-1].mom == pytest.approx(expected[-1][1] / expected[-2][1] - 1)
    health = meter.analytics.health("o")
    inputs = health["inputs"]
    assert inputs["monthly_mau"] == [n for _, n in expected]
    assert inputs["mau"] == count(everyone, date(2024, 7, 1), date(2024, 7, 31))
    today = activity_levels(everyone, NOW.date())
    population = sum(today.counts.values())
    assert inputs["at_risk_share"] == pytest.approx(today.counts["at_risk"] / population)
    june = [count(everyone, d, d) for d in (date(2024, 6, i) for i in range(1, 31))]
    assert inputs["stickiness"] == pytest.approx(sum(june) / 30 / expected[-1][1])
    assert 0 <= health["score"] <= 100
    (row,) = meter.analytics.accounts()
    assert row["org"] == "o" and row["score"] == health["score"]
    forecast = meter.analytics.forecast("o")
    assert forecast["months"]["history"] == 6 and len(forecast["months"]["points"]) == 12
    assert forecast["months"]["points"][0]["month"] == "2024-07"
