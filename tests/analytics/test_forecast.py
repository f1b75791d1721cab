"""Monthly forecast: model by history length, known trend and season, intervals, cap, tier."""

from __future__ import annotations

import math

import pytest

from maumeter.analytics.forecast import (
    MIN_SEASONAL,
    MIN_TREND,
    MonthForecast,
    cap_month,
    fitting_tier,
    forecast_months,
)
from maumeter.core.errors import InvalidInput
from maumeter.core.months import Month
from maumeter.core.plans import DEFAULT_TIERS

START = Month(2022, 1)


def run(values: list[int], start: Month = START) -> list[tuple[Month, int]]:
    return [(Month.from_index(start.index + i), v) for i, v in enumerate(values)]


def wiggle(i: int) -> float:
    """Deterministic noise, about ±1 %."""
    return 0.01 * math.sin(i * 2.3) + 0.005 * math.cos(i * 5.1)


def seasonal_series(n: int) -> list[int]:
    """+1.5 %/month with a 25 % yearly swing peaking in December."""
    return [
        round(
            20_000 * 1.015**i * (1 + 0.25 * math.cos(2 * math.pi * (i - 11) / 12)) * (1 + wiggle(i))
        )
        for i in range(n)
    ]


def test_a_linear_trend_is_recovered() -> None:
    truth = [5_000 + 120 * i for i in range(30)]
    history = [round(v * (1 + wiggle(i))) for i, v in enumerate(truth[:18])]
    f = forecast_months(run(history))
    assert f.method == "ETS(A,Ad,N)" and f.available and f.history == 18
    first = Month.from_index(START.index + 18)  # the month after the history
    assert [p.month for p in f.points] == [Month.from_index(first.index + h) for h in range(12)]
    for point, expected in zip(f.points, truth[18:], strict=True):
        assert point.expected == pytest.approx(expected, rel=0.04)  # damped: a little under
        assert point.low <= expected <= point.high


def test_with_two_years_the_season_is_modelled_and_its_peak_found() -> None:
    history = seasonal_series(36)
    f = forecast_months(run(history))  # 2022-01 to 2024-12: forecasts 2025
    assert f.method == "ETS(A,Ad,M)"
    assert {"alpha", "beta", "gamma", "phi", "aic"} <= set(f.parameters)
    peak = max(f.points, key=lambda p: p.expected)
    assert peak.month == Month(2025, 12)
    assert min(f.points, key=lambda p: p.expected).month == Month(2025, 6)
    truth = seasonal_series(48)[36:]
    errors = [abs(p.expected - t) / t for p, t in zip(f.points, truth, strict=True)]
    assert sum(errors) / len(errors) < 0.05


def test_a_month_without_mau_makes_the_season_additive() -> None:
    history = seasonal_series(MIN_SEASONAL)
    history[3] = 0
    assert forecast_months(run(history)).method == "ETS(A,Ad,A)"


def test_intervals_hold_the_expected_value_and_widen_with_the_horizon() -> None:
    walk = [10_000]
    for i in range(1, 20):
        walk.append(round(walk[-1] * (1 + 0.04 * math.sin(i * 1.7) + 0.01)))
    for history in (walk[:4], walk, seasonal_series(30)):
        f = forecast_months(run(history), level=0.8)
        widths = [p.high - p.low for p in f.points]
        assert all(p.low <= p.expected <= p.high for p in f.points)
        assert all(p.low >= 0 for p in f.points)
        assert widths[-1] > widths[0] > 0, f.method
    naive = forecast_months(run(walk[:4]))
    widths = [p.high - p.low for p in naive.points]
    assert widths == sorted(widths)
    wide = forecast_months(run(walk[:4]), level=0.95)
    assert all(
        w.high - w.low >= n.high - n.low for w, n in zip(wide.points, naive.points, strict=True)
    )


def test_the_same_history_gives_the_same_forecast() -> None:
    for history in (seasonal_series(30), seasonal_series(15), [5, 8, 6]):
        assert forecast_months(run(history)) == forecast_months(run(history))


def test_short_histories() -> None:
    for n in (0, 1):
        f = forecast_months(run([100] * n))
        assert (f.available, f.method, f.points) == (False, "none", ())
        assert f.reason == f"not enough history: 2 complete months needed, {n} given"
    f = forecast_months(run([100, 130, 120]), horizon=3)
    assert (f.method, f.available, len(f.points)) == ("naive", True, 3)
    assert [p.expected for p in f.points] == [120, 120, 120]
    sigma = math.sqrt((30**2 + 10**2) / 2)
    assert f.parameters == {"sigma": round(sigma, 2)}
    assert f.points[0].high == round(120 + 1.2815515655446004 * sigma)  # z of an 80 % interval
    assert forecast_months(run([100] * (MIN_TREND - 1))).method == "naive"
    assert forecast_months(run([100 + i for i in range(MIN_TREND)])).method == "ETS(A,Ad,N)"


def test_forecasts_never_go_below_zero() -> None:
    f = forecast_months(run([1_000, 600, 300, 100]))
    assert all(p.low >= 0 and p.expected >= 0 for p in f.points)
    assert f.points[-1].low == 0


def test_cap_month_and_fitting_tier() -> None:
    f = forecast_months(run([2_000 + 100 * i for i in range(15)]))
    expected = [p.expected for p in f.points]
    cap = expected[5]
    assert cap_month(f, cap) == f.points[5].month
    possible = cap_month(f, cap, possible=True)
    assert possible is not None and possible <= f.points[5].month
    assert cap_month(f, None) is None
    assert cap_month(f, 10**9) is None and cap_month(f, 10**9, possible=True) is None
    tier = fitting_tier(f, DEFAULT_TIERS)
    assert tier is not None and tier.allotment is not None and tier.allotment >= max(expected)
    assert tier.name == "growth"  # about 3,600 MAU a year out: above 2,500, below 5,000
    assert fitting_tier(forecast_months(run([1])), DEFAULT_TIERS) is None


def test_to_dict() -> None:
    d = forecast_months(run([100, 110, 120]), horizon=2).to_dict()
    assert d == {
        "method": "naive",
        "available": True,
        "reason": None,
        "history": 3,
        "level": 0.8,
        "points": [
            {"month": "2022-04", "expected": 120, "low": 107, "high": 133},
            {"month": "2022-05", "expected": 120, "low": 102, "high": 138},
        ],
        "parameters": {"sigma": 10.0},
    }
    assert MonthForecast("none", False, "x", 0, 0.8).to_dict()["points"] == []


def test_bad_input_is_refused() -> None:
    with pytest.raises(InvalidInput) as e:
        forecast_months([(Month(2024, 1), 1), (Month(2024, 3), 2)])
    assert e.value.problems[0].field == "history[1]"
    with pytest.raises(InvalidInput, match="horizon"):
        forecast_months(run([1, 2]), horizon=0)
    with pytest.raises(InvalidInput, match="level"):
        forecast_months(run([1, 2]), level=1.0)
