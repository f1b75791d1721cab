"""Monthly MAU forecast for the next months, with an interval, and what it means for the plan.

The model is picked by how much history there is (complete months only: a month still running
would read as a drop). The figures quoted are median errors over 12 months from the backtest
``python -m bench.forecast_backtest`` (synthetic series, results in ``bench/RESULTS.md``).

* **24 months or more** (two full years, the least that tells a yearly season from a trend):
  ETS(A,Ad,M), exponential smoothing with additive errors, an additive *damped* trend and
  *multiplicative* yearly seasonality (Hyndman & Athanasopoulos, FPP3 §8). Multiplicative
  because MAU's seasonal swing grows with the audience: 4.5 % error against 11.0 % for
  additive seasonality and 16.5 % for the last value. Damped, because MAU trends flatten and an
  undamped trend extrapolated for a year overshoots. A history with a month of zero MAU
  cannot be multiplicative and gets ETS(A,Ad,A).
* **12 to 23 months**: ETS(A,Ad,N), damped trend without seasonality. Under two years a season
  cannot be estimated, and a seasonal upswing at the end of the history looks like a trend:
  the model wins clearly on series without a season (3.0 % against 7.5 % for the last value at
  18 months) and loses on strongly seasonal ones (21.5 % against 18.6 %); overall it is a little
  better (14.8 % against 16.5 % at 12 months). With fewer than 12 months it lost overall
  (22.2 % against 16.5 % at 6 months), the fitted trend being mostly the season's slope; with
  a full year in the history the season largely cancels out of it. Its interval is widened to
  hold the naive one below too, whose spread comes from the observed month-to-month changes
  and so includes the seasonal swings the model cannot see: at 12 months ETS's own 80 %
  interval held the truth 40 % of the time, the envelope 75 %.
* **2 to 11 months**: naive, the last value, with an interval that widens with ``sqrt(h)``
  from the root mean square of the observed month-to-month changes (a random walk).
* **fewer than 2**: no forecast (``available=False`` and the reason).

A model that fails to fit or yields a non-finite forecast falls back to the next simpler one.
Intervals come from statsmodels' ``get_prediction``: exact for the additive models, simulated
(1,000 paths from a fixed seed) for multiplicative seasonality, so the same history always
gives the same forecast. Figures are clipped at 0 and rounded to whole persons, and
``low <= expected <= high`` always holds.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from statistics import NormalDist
from typing import Any

from maumeter.core.errors import InvalidInput
from maumeter.core.growth import check_monthly
from maumeter.core.months import Month
from maumeter.core.plans import Tier, TierTable, recommend

__all__ = [
    "MIN_HISTORY",
    "MIN_SEASONAL",
    "MIN_TREND",
    "ForecastPoint",
    "MonthForecast",
    "cap_month",
    "fitting_tier",
    "forecast_months",
]

MIN_HISTORY = 2  # months for the naive forecast (one month-to-month change)
MIN_TREND = 12  # months for the damped trend: a full year (see the module docstring)
MIN_SEASONAL = 24  # months for yearly seasonality: two full years
SEASON = 12
MAX_HORIZON = 120
SEED = 20240301  # of the simulated intervals: same input, same output
REPETITIONS = 1000
_PARAMETERS = {
    "smoothing_level": "alpha",
    "smoothing_trend": "beta",
    "smoothing_seasonal": "gamma",
    "damping_trend": "phi",
}


@dataclass(frozen=True, slots=True)
class ForecastPoint:
    """Expected MAU of ``month`` and the interval around it."""

    month: Month
    expected: int
    low: int
    high: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "month": str(self.month),
            "expected": self.expected,
            "low": self.low,
            "high": self.high,
        }


@dataclass(frozen=True, slots=True)
class MonthForecast:
    """The forecast of the months after the history, or (``available`` false) why there is none.

    ``method`` is ``ETS(A,Ad,M)``, ``ETS(A,Ad,A)``, ``ETS(A,Ad,N)``, ``naive`` or ``none``;
    ``level`` is the interval's coverage (0.8: 80 %); ``parameters`` the fitted smoothing
    parameters (alpha, beta, gamma, phi) and the AIC, or the naive model's sigma."""

    method: str
    available: bool
    reason: str | None
    history: int
    level: float
    points: tuple[ForecastPoint, ...] = ()
    parameters: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "available": self.available,
            "reason": self.reason,
            "history": self.history,
            "level": self.level,
            "points": [p.to_dict() for p in self.points],
            "parameters": dict(self.parameters),
        }


def _check(horizon: int, level: float) -> None:
    if isinstance(horizon, bool) or not isinstance(horizon, int) or not 1 <= horizon <= MAX_HORIZON:
        raise InvalidInput.field("horizon", f"expected 1 to {MAX_HORIZON} months, got {horizon!r}")
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0 < level < 1:
        raise InvalidInput.field(
            "level", f"expected a fraction in (0, 1) such as 0.8, got {level!r}"
        )


def _points(
    after: Month, expected: Sequence[float], low: Sequence[float], high: Sequence[float]
) -> tuple[ForecastPoint, ...]:
    points = []
    for h, (e, lo, hi) in enumerate(zip(expected, low, high, strict=True), start=1):
        mid = max(0, round(e))
        points.append(
            ForecastPoint(
                Month.from_index(after.index + h),
                mid,
                min(mid, max(0, round(lo))),
                max(mid, max(0, round(hi))),
            )
        )
    return tuple(points)


def _naive(values: Sequence[int], horizon: int, level: float) -> tuple[list[float], ...]:
    changes = [b - a for a, b in pairwise(values)]
    sigma = math.sqrt(sum(c * c for c in changes) / len(changes))
    z = NormalDist().inv_cdf((1 + level) / 2)
    last = float(values[-1])
    spread = [z * sigma * math.sqrt(h) for h in range(1, horizon + 1)]
    return [last] * horizon, [last - s for s in spread], [last + s for s in spread], [sigma]


def _ets(
    values: Sequence[int], seasonal: str | None, horizon: int, level: float
) -> tuple[list[float], list[float], list[float], dict[str, float]] | None:
    """Fit ETS(A,Ad,``seasonal``) and predict; None when the fit fails or is not finite."""
    import numpy as np
    import pandas as pd
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    n = len(values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning, ValueWarning, RuntimeWarning...
        try:
            model = ETSModel(
                pd.Series(np.asarray(values, dtype=float)),
                error="add",
                trend="add",
                damped_trend=True,
                seasonal=seasonal,
                seasonal_periods=SEASON if seasonal else None,
            )
            fit = model.fit(disp=False)
            simulated = seasonal == "mul"
            prediction = fit.get_prediction(
                start=n,
                end=n + horizon - 1,
                method="simulated" if simulated else "exact",
                simulate_repetitions=REPETITIONS,
                **({"rng": SEED} if simulated else {}),
            )
            frame = prediction.summary_frame(alpha=1 - level)
        except (ValueError, np.linalg.LinAlgError, ZeroDivisionError, FloatingPointError):
            return None
    columns = [frame[c].to_numpy(dtype=float) for c in ("mean", "pi_lower", "pi_upper")]
    if not all(np.isfinite(c).all() for c in columns):
        return None
    parameters = {
        short: round(float(fit.params[fit.param_names.index(name)]), 4)
        for name, short in _PARAMETERS.items()
        if name in fit.param_names
    }
    parameters["aic"] = round(float(fit.aic), 2)
    return *(list(map(float, c)) for c in columns), parameters  # type: ignore[return-value]


def forecast_months(
    history: Sequence[tuple[Month, int]], horizon: int = 12, level: float = 0.8
) -> MonthForecast:
    """Forecast the ``horizon`` months after ``history`` (consecutive complete months with
    their MAU, oldest first), with a ``level`` interval (0.8: 80 %)."""
    check_monthly(history, "history")
    _check(horizon, level)
    n = len(history)
    if n < MIN_HISTORY:
        reason = f"not enough history: {MIN_HISTORY} complete months needed, {n} given"
        return MonthForecast("none", False, reason, n, level)
    values = [mau for _, mau in history]
    last = history[-1][0]
    candidates: list[tuple[str, str | None]] = []
    if n >= MIN_SEASONAL:
        candidates.append(("ETS(A,Ad,M)", "mul") if min(values) > 0 else ("ETS(A,Ad,A)", "add"))
    if n >= MIN_TREND:
        candidates.append(("ETS(A,Ad,N)", None))
    _, naive_low, naive_high, (sigma,) = _naive(values, horizon, level)
    for method, seasonal in candidates:
        fitted = _ets(values, seasonal, horizon, level)
        if fitted is not None:
            expected, low, high, parameters = fitted
            if seasonal is None:  # the envelope with the naive interval (module docstring)
                low = [min(a, b) for a, b in zip(low, naive_low, strict=True)]
                high = [max(a, b) for a, b in zip(high, naive_high, strict=True)]
            points = _points(last, expected, low, high)
            return MonthForecast(method, True, None, n, level, points, parameters)
    expected, low, high, (sigma,) = _naive(values, horizon, level)
    points = _points(last, expected, low, high)
    return MonthForecast("naive", True, None, n, level, points, {"sigma": round(sigma, 2)})


def cap_month(forecast: MonthForecast, cap: int | None, possible: bool = False) -> Month | None:
    """The first forecast month whose expected MAU reaches ``cap`` (with ``possible``, whose
    interval's top does: the month it could happen); None without a cap or if none does."""
    if cap is None:
        return None
    for point in forecast.points:
        if (point.high if possible else point.expected) >= cap:
            return point.month
    return None


def fitting_tier(forecast: MonthForecast, tiers: TierTable) -> Tier | None:
    """The smallest tier that holds the highest expected MAU of the horizon; None without a
    forecast."""
    if not forecast.points:
        return None
    return recommend(tiers, max(p.expected for p in forecast.points))
