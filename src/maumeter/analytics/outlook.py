"""Where MAU is going: monthly history, growth, seasonality and forecasts of one scope.

The **history** is the MAU of every complete calendar month (org time zone) from the first month
with activity to the one before the current month, as the live state counts it now (merges,
rule changes and erasures applied; a closed statement keeps its frozen figure, and its
restatements say why the two differ). The current month is never in it: a partial month would
read as a collapse.

* growth — :func:`maumeter.core.growth.growth` over that history;
* seasonality — STL (:mod:`maumeter.analytics.seasonality`) of the daily DAU of the last
  :data:`DAILY_DAYS` complete days (weekly season) or of the monthly history (yearly season);
* forecast — the current month's end from its accrual (the billing projection, the same figure
  the live usage shows) and the next 12 months from exponential smoothing
  (:mod:`maumeter.analytics.forecast`), with the month the effective cap is reached and the tier
  that fits.
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from maumeter.analytics.forecast import MonthForecast, cap_month, fitting_tier, forecast_months
from maumeter.analytics.seasonality import Decomposition, decompose
from maumeter.core.errors import InvalidInput
from maumeter.core.growth import Growth, growth
from maumeter.core.months import Month, from_epoch_day

if TYPE_CHECKING:
    from maumeter.analytics.queries import Analytics

__all__ = ["DAILY_DAYS", "forecast", "history", "month_growth", "seasonality"]

DAILY_DAYS = 364  # 52 whole weeks of daily DAU for the weekly decomposition
SERIES = ("daily", "monthly")


def history(analytics: Analytics, org: str, project: str | None = None) -> list[tuple[Month, int]]:
    """MAU of each complete month with activity so far, oldest first, gaps as 0."""
    days = analytics.days(org, project)
    span = days.span()
    current = Month.of_date(analytics.today(org))
    if span is None:
        return []
    first = Month.of_date(from_epoch_day(span[0]))
    months = []
    month = first
    while month < current:
        months.append(month)
        month = month.next()
    return [(m, analytics.mau(org, m, project)) for m in months]


def month_growth(analytics: Analytics, org: str, project: str | None = None) -> Growth:
    return growth(history(analytics, org, project))


def seasonality(
    analytics: Analytics, org: str, series: str = "daily", project: str | None = None
) -> Decomposition:
    if series not in SERIES:
        raise InvalidInput.field("series", f"expected daily or monthly, got {series!r}")
    if series == "monthly":
        found = history(analytics, org, project)
        return decompose([v for _, v in found], [str(m) for m, _ in found], 12)
    yesterday = analytics.today(org) - timedelta(days=1)
    days = analytics.days(org, project)
    span = days.span()
    first = yesterday - timedelta(days=DAILY_DAYS - 1)
    if span is not None:
        first = max(first, from_epoch_day(span[0]))
    points = analytics.series(org, "dau", first, yesterday, project) if first <= yesterday else []
    return decompose([p.value for p in points], [p.period for p in points], 7)


@lru_cache(maxsize=1024)
def _forecast(history: tuple[tuple[Month, int], ...], horizon: int, level: float) -> MonthForecast:
    """Fitting is deterministic in the history, which changes at most when a month ends, a
    late import lands or persons merge: the fit is kept per exact history (a cache that cannot
    go stale)."""
    return forecast_months(history, horizon, level)


def forecast(
    analytics: Analytics, org: str, horizon: int = 12, level: float = 0.8
) -> dict[str, Any]:
    """The month-end projection, the months ahead, the month the cap is reached, the tier."""
    meter = analytics.meter
    live = meter.live_usage(org)
    past = history(analytics, org)
    months = _forecast(tuple(past), horizon, level)
    cap = live.effective_cap
    reached = cap_month(months, cap)
    possible = cap_month(months, cap, possible=True)
    tier = fitting_tier(months, meter.tiers)
    projection = live.projection
    return {
        "org": org,
        "month_end": {
            "month": str(live.month),
            "mau": live.mau,
            "expected": None if projection is None else projection.expected,
            "low": None if projection is None else projection.low,
            "high": None if projection is None else projection.high,
            "method": None if projection is None else projection.method,
            "history": None if projection is None else projection.history,
            "breach_day": None if live.breach_day is None else live.breach_day.isoformat(),
        },
        "months": months.to_dict(),
        "cap": cap,
        "policy": live.policy,
        "cap_reached": None if reached is None else str(reached),
        "cap_possibly_reached": None if possible is None else str(possible),
        "fitting_tier": None if tier is None else tier.name,
    }
