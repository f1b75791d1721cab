"""Month-end MAU projected from how MAU accrued in earlier months.

MAU accrues fast early in a month (regulars show up in the first days) and slowly later (only
new or occasional persons are left), so a straight line from today overshoots. If by day ``d``
earlier months had reached a share ``r`` of their final MAU, this month will end near
``MAU so far / r``. The projection takes the median share over earlier months; the 80 %
interval comes from the 10th and 90th percentiles of the shares.

Months have 28 to 31 days, so earlier months are compared at the same *fraction* of the month,
not the same day number: day 15 of a 30-day month is matched with day 14 of February
(interpolated linearly along the cumulative curve, which starts at 0 before day 1). When the
months have equal length this is exactly "MAU at day ``d`` / final MAU".

Without history the projection extrapolates linearly by day fraction (``method="linear"``); the
interval then runs from the MAU so far (nobody new) to 1.5 times the extrapolated growth. With
fewer than three earlier months the percentiles mean little, and the interval is widened to
the linear one's. A projection is never below the MAU so far.

Pure: cumulative counts per day in, numbers out; the caller says which day it is.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from maumeter.core.months import Month

__all__ = ["MIN_HISTORY", "Projection", "breach_day", "percentile", "project"]

MIN_HISTORY = 3  # earlier months needed before the accrual interval is trusted on its own
LOW_QUANTILE, HIGH_QUANTILE = 0.1, 0.9
LINEAR_SPREAD = 1.5  # the linear interval's top: the extrapolated growth times this

Method = Literal["accrual", "linear"]


@dataclass(frozen=True, slots=True)
class Projection:
    """Projected month-end MAU of ``month`` as of the end of day ``day``.

    ``shape[k]`` is the expected share of month-end MAU reached by the end of day ``k + 1``
    (the median over earlier months, or ``(k + 1) / days`` for ``linear``); ``breach_day``
    walks it.
    """

    month: Month
    day: int
    mau: int
    expected: int
    low: int
    high: int
    method: Method
    history: int
    shape: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "month": str(self.month),
            "day": self.day,
            "mau": self.mau,
            "expected": self.expected,
            "low": self.low,
            "high": self.high,
            "method": self.method,
            "history": self.history,
        }


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (NumPy's default), for ``0 <= q <= 1``."""
    if not values or not 0 <= q <= 1:
        raise ValueError("percentile needs values and 0 <= q <= 1")
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def _check_curve(curve: Sequence[int], name: str) -> None:
    if not curve:
        raise ValueError(f"{name}: expected cumulative MAU for at least one day")
    if any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in curve):
        raise ValueError(f"{name}: expected non-negative whole numbers")


def _share(curve: Sequence[int], fraction: float) -> float:
    """Share of the curve's final value reached at ``fraction`` of its month, in ``[0, 1]``."""
    x = fraction * len(curve)  # days elapsed; the curve is 0 at x = 0 and curve[i] at x = i + 1
    i = math.floor(x)
    lower = 0 if i == 0 else curve[i - 1]
    value = lower if i >= len(curve) else lower + (curve[i] - lower) * (x - i)
    return min(1.0, value / curve[-1])


def project(month: Month, current: Sequence[int], earlier: Sequence[Sequence[int]]) -> Projection:
    """Project ``month``'s final MAU from ``current`` (cumulative MAU at the end of days 1 to
    today, so ``len(current)`` is today's day of the month) and the cumulative curves of
    earlier months (each from day 1 to its last day).

    Earlier months with no MAU, or none yet by the same point, say nothing about the ratio and
    are left out; if none is left, the projection is linear.
    """
    days = month.last_day().day
    _check_curve(current, "current")
    if len(current) > days:
        raise ValueError(f"current: {month} has {days} days, got {len(current)}")
    for i, curve in enumerate(earlier):
        _check_curve(curve, f"earlier[{i}]")
    today, mau = len(current), current[-1]
    now = today / days
    usable = [c for c in earlier if c[-1] > 0 and _share(c, now) > 0]
    if not usable:
        return _linear(month, today, mau)
    ratios = [_share(c, now) for c in usable]
    median = statistics.median(ratios)
    shape = tuple(
        statistics.median(_share(c, k / days) for c in usable) for k in range(1, days + 1)
    )
    expected = max(mau, round(mau / median))
    low = max(mau, math.floor(mau / percentile(ratios, HIGH_QUANTILE)))
    high = max(expected, math.ceil(mau / percentile(ratios, LOW_QUANTILE)))
    low = min(low, expected)
    if len(usable) < MIN_HISTORY:
        linear = _linear(month, today, mau)
        low, high = min(low, linear.low), max(high, linear.high)
    return Projection(month, today, mau, expected, low, high, "accrual", len(usable), shape)


def _linear(month: Month, today: int, mau: int) -> Projection:
    days = month.last_day().day
    growth = mau * days / today - mau
    expected = mau + round(growth)
    high = max(expected, mau + math.ceil(growth * LINEAR_SPREAD))
    shape = tuple(k / days for k in range(1, days + 1))
    return Projection(month, today, mau, expected, mau, high, "linear", 0, shape)


def breach_day(projection: Projection, cap: int | None, current: Sequence[int] = ()) -> date | None:
    """The day the cumulative MAU is projected to reach ``cap`` (at its end), or None.

    Past days come from ``current`` when given (the day the cap was actually reached); later
    days follow the accrual shape scaled through today's MAU, so the projection for the last
    day is the expected month-end MAU. None without a cap or when the month is projected to
    stay below it.
    """
    if cap is None:
        return None
    month, today = projection.month, projection.day
    for k, value in enumerate(current[:today], start=1):
        if value >= cap:
            return date(month.year, month.month, k)
    if projection.mau >= cap:
        return date(month.year, month.month, today)
    share_now = projection.shape[today - 1]
    reached = share_now
    for k in range(today + 1, len(projection.shape) + 1):
        reached = max(reached, projection.shape[k - 1])  # cumulative: never falls
        if projection.mau * reached >= cap * share_now:
            return date(month.year, month.month, k)
    return None
