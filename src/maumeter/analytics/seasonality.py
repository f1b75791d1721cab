"""Seasonality of an activity series: STL decomposition, seasonal strength and the profile.

``decompose`` splits a series into trend, seasonal and residual parts with STL (Cleveland et
al. 1990, statsmodels' implementation) in its robust form, so that one outage day or a launch
spike lands in the residual instead of bending the seasonal pattern. The usual periods are 7
on a daily series (the week) and 12 on a monthly one (the year).

**Two full seasons** are needed: with one, "seasonal" and "this particular week" cannot be told
apart. Below that the result says so (``available=False`` and a reason such as "not enough
history: 2 full seasons (14 days) needed, 9 given") rather than raising: not having enough
history yet is an answer, not an error.

**Seasonal strength** is Hyndman's ``max(0, 1 − var(residual) / var(seasonal + residual))``
(Forecasting: Principles and Practice, 3rd ed., §3.7): 0 is no seasonality, above about 0.6 a
pattern worth planning around.

**The profile** is the mean seasonal component at each position of the season, labelled by
the calendar when the labels say it: weekdays (Monday first) for daily ISO dates with period 7,
month names (January first) for ``YYYY-MM`` labels with period 12; otherwise each position is
labelled by its first label in the series. Calendar labels must be consecutive (a day or month
missing would shift every later position); other labels are taken as given. The peak and the
trough are the profile's highest and lowest positions (None for a flat profile).

Figures are rounded to 2 decimals (strength to 3). The same input gives the same output.
"""

from __future__ import annotations

import calendar
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Any

from maumeter.core.errors import InvalidInput, Problem
from maumeter.core.months import Month

__all__ = ["Decomposition", "decompose", "seasonal_strength"]

SEASONS_NEEDED = 2
_MONTH_LABEL = re.compile(r"[0-9]{4}-[0-9]{2}")
_DAY_LABEL = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True, slots=True)
class Decomposition:
    """Trend, seasonal and residual parts of a labelled series, or why there are none.

    ``profile`` pairs each position of the season with its mean seasonal component."""

    available: bool
    reason: str | None
    period: int
    labels: tuple[str, ...]
    observed: tuple[float, ...]
    trend: tuple[float, ...] = ()
    seasonal: tuple[float, ...] = ()
    residual: tuple[float, ...] = ()
    strength: float | None = None
    profile: tuple[tuple[str, float], ...] = ()
    peak: str | None = None
    trough: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "available": self.available,
            "reason": self.reason,
            "period": self.period,
            "labels": list(self.labels),
            "observed": list(self.observed),
            "trend": list(self.trend),
            "seasonal": list(self.seasonal),
            "residual": list(self.residual),
            "strength": self.strength,
            "profile": [{"position": p, "seasonal": v} for p, v in self.profile],
            "peak": self.peak,
            "trough": self.trough,
        }


def _r(x: float, digits: int = 2) -> float:
    return round(float(x), digits) + 0.0  # + 0.0: no "-0.0" in JSON


def seasonal_strength(seasonal: Sequence[float], residual: Sequence[float]) -> float:
    """Hyndman's strength of seasonality, in [0, 1]; 0 when there is no variation at all."""
    combined = [s + r for s, r in zip(seasonal, residual, strict=True)]
    total = _variance(combined)
    return 0.0 if total == 0 else max(0.0, 1 - _variance(residual) / total)


def _variance(values: Sequence[float]) -> float:
    mean = sum(values) / len(values)
    return sum((v - mean) ** 2 for v in values) / len(values)


def _kind(labels: Sequence[str]) -> str:
    """``day`` for ISO dates, ``month`` for ``YYYY-MM``, else ``other``."""
    if labels and all(_DAY_LABEL.fullmatch(x) for x in labels):
        return "day"
    if labels and all(_MONTH_LABEL.fullmatch(x) for x in labels):
        return "month"
    return "other"


def _check(values: Sequence[float], labels: Sequence[str], period: int) -> str:
    problems: list[Problem] = []
    if isinstance(period, bool) or not isinstance(period, int) or period < 2:
        problems.append(Problem("period", f"expected a whole number from 2, got {period!r}"))
    bad = [
        i
        for i, v in enumerate(values)
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v)
    ]
    if bad:
        problems.append(Problem(f"values[{bad[0]}]", f"expected a number, got {values[bad[0]]!r}"))
    if len(labels) != len(values) or not all(isinstance(x, str) for x in labels):
        problems.append(Problem("labels", f"expected {len(values)} strings, one per value"))
    if problems:
        raise InvalidInput(problems)
    kind = _kind(labels)
    try:
        if kind == "day":
            steps = [date.fromisoformat(x).toordinal() for x in labels]
        elif kind == "month":
            steps = [Month.parse(x).index for x in labels]
        else:
            steps = list(range(len(labels)))
    except (ValueError, InvalidInput):
        raise InvalidInput.field("labels", "expected valid dates (YYYY-MM-DD) or months") from None
    gap = next((i for i, (a, b) in enumerate(pairwise(steps)) if b != a + 1), None)
    if gap is not None:
        raise InvalidInput.field(
            f"labels[{gap + 1}]",
            f"expected the {kind} after {labels[gap]} (consecutive {kind}s), got {labels[gap + 1]}",
        )
    return kind


def _positions(labels: Sequence[str], period: int, kind: str) -> list[tuple[int, str]]:
    """For each value, its profile slot (ordering key) and the slot's label."""
    if kind == "day" and period == 7:
        return [
            (d.weekday(), calendar.day_name[d.weekday()]) for d in map(date.fromisoformat, labels)
        ]
    if kind == "month" and period == 12:
        return [(int(x[5:7]) - 1, calendar.month_name[int(x[5:7])]) for x in labels]
    return [(i % period, labels[i % period]) for i in range(len(labels))]


def decompose(values: Sequence[float], labels: Sequence[str], period: int) -> Decomposition:
    """STL (robust) of ``values`` with season length ``period``; ``labels`` name the points
    (``2024-03-01`` days, ``2024-03`` months, or anything)."""
    kind = _check(values, labels, period)
    observed = tuple(_r(v) for v in values)
    needed = SEASONS_NEEDED * period
    if len(values) < needed:
        unit = {"day": "days", "month": "months"}.get(kind, "points")
        return Decomposition(
            False,
            f"not enough history: {SEASONS_NEEDED} full seasons ({needed} {unit}) needed, "
            f"{len(values)} given",
            period,
            tuple(labels),
            observed,
        )
    import numpy as np
    from statsmodels.tsa.seasonal import STL

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = STL(np.asarray(values, dtype=float), period=period, robust=True).fit()
    trend, seasonal, residual = (
        list(map(float, part)) for part in (fit.trend, fit.seasonal, fit.resid)
    )
    slots: dict[int, tuple[str, list[float]]] = {}
    for (slot, label), s in zip(_positions(labels, period, kind), seasonal, strict=True):
        slots.setdefault(slot, (label, []))[1].append(s)
    profile = tuple((label, sum(xs) / len(xs)) for _, (label, xs) in sorted(slots.items()))
    means = [m for _, m in profile]
    tiny = 1e-9 * max(1.0, max(abs(v) for v in values))  # float noise, at the series' scale
    flat = max(means) - min(means) <= tiny
    still = all(abs(s + r) <= tiny for s, r in zip(seasonal, residual, strict=True))
    strength = 0.0 if still else seasonal_strength(seasonal, residual)  # no variation: none
    return Decomposition(
        True,
        None,
        period,
        tuple(labels),
        observed,
        tuple(map(_r, trend)),
        tuple(map(_r, seasonal)),
        tuple(map(_r, residual)),
        _r(strength, 3),
        tuple((label, _r(m)) for label, m in profile),
        None if flat else profile[means.index(max(means))][0],
        None if flat else profile[means.index(min(means))][0],
    )
