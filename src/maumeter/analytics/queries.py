"""The engagement analytics of one store, as ``Meter.analytics``: validation, defaults, scope.

Every query takes an org (and optionally one of its projects), resolves the scope's daily index
and hands it to the metric. Dates are local dates in the org's time zone; "today" is the
meter's clock in that zone, so a library user with a fixed clock gets reproducible answers.

Default ranges, when a caller gives none: the last 12 intervals ending with today's (lifecycle,
retention), the last 30 days (series, stickiness, frequency). One request covers at most
:data:`MAX_DAYS` days, a bound on its work.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
from pyroaring import BitMap

from maumeter.analytics import breakdown, cohorts, engagement, outlook
from maumeter.analytics import health as health_module
from maumeter.analytics import series as series_module
from maumeter.analytics.daily import DailyIndex, Days
from maumeter.analytics.engagement import Levels
from maumeter.analytics.facets import FacetIndex
from maumeter.analytics.seasonality import Decomposition
from maumeter.analytics.segments import Segments
from maumeter.analytics.series import Point
from maumeter.analytics.traits import TraitIndex
from maumeter.core.errors import InvalidInput
from maumeter.core.growth import Growth
from maumeter.core.intervals import check_interval, interval_index, interval_period
from maumeter.core.levels import LevelRules
from maumeter.core.lifecycle import LifecycleRow
from maumeter.core.months import Month, local_date, zone
from maumeter.core.retention import Cohort
from maumeter.core.stickiness import DailyStickiness, Frequency, MonthlyStickiness
from maumeter.core.worksheet import Estimate, Worksheet, estimate
from maumeter.store.duckdb import OrgInfo

if TYPE_CHECKING:
    from maumeter.meter import Meter

__all__ = ["MAX_DAYS", "Analytics"]

MIN_YEAR, MAX_YEAR = 1970, 2999
MAX_DAYS = 3660  # ten years of days
DEFAULT_INTERVALS = 12
MAX_LIST = 100_000  # persons one listing returns at most


class Analytics:
    """Engagement metrics of every org in a store, backed by one daily index."""

    def __init__(self, meter: Meter) -> None:
        self.meter = meter
        self.index = DailyIndex(meter.store)
        self.facets = FacetIndex(meter.store)
        self.traits = TraitIndex(meter.store)

    # ---- scope and dates -------------------------------------------------------------------

    def today(self, org: str) -> date:
        """The org's local date now."""
        return local_date(self.meter.clock(), zone(self.meter.store.org(org).timezone))

    def days(self, org: str, project: str | None = None) -> Days:
        """The daily index of the org's pool or of one project (the scope every metric reads)."""
        info = self.meter.store.org(org)
        pid = self.meter.store.project(org, project).id if project is not None else None
        return self.index.days(info, pid)

    def mau(self, org: str, month: Month, project: str | None = None) -> int:
        """The live MAU of a month (the counted persons, internal ones removed)."""
        info = self.meter.store.org(org)
        target = self.meter.store.project(org, project) if project is not None else None
        return self.meter.store.mau(info, month, target).mau

    def person_keys(self, org: str, roots: np.ndarray | BitMap) -> list[str]:
        """Person keys (the id each person is known by) of some roots, sorted."""
        info: OrgInfo = self.meter.store.org(org)
        values = self.meter.store.counts(info).graph.values
        return sorted(values[int(r)] for r in roots)

    def _range(
        self, org: str, start: date | None, end: date | None, default_days: int
    ) -> tuple[date, date]:
        end = end or self.today(org)
        start = start or end - timedelta(days=default_days - 1)
        _check_range(start, end)
        return start, end

    def _interval_range(
        self, org: str, unit: str, start: date | None, end: date | None, week_start: str
    ) -> tuple[date, date]:
        check_interval(unit, week_start)
        end = end or self.today(org)
        if start is None:
            first = interval_index(end, unit, week_start) - (DEFAULT_INTERVALS - 1)
            start = interval_period(first, unit, week_start).first
        _check_range(start, end)
        return start, end

    # ---- metrics ---------------------------------------------------------------------------

    def series(
        self,
        org: str,
        metric: str,
        start: date | None = None,
        end: date | None = None,
        project: str | None = None,
        week_start: str = "monday",
        by: str | None = None,
    ) -> list[Point]:
        """DAU, WAU, MAU, rolling 7 or rolling 30 days (:mod:`maumeter.analytics.series`),
        split by ``by`` (``trait:NAME``, ``property:NAME`` or ``device``;
        :mod:`maumeter.analytics.breakdown`) when given."""
        series_module.check_metric(metric)
        check_interval("week", week_start)
        start, end = self._range(org, start, end, 30)
        days = self.days(org, project)
        parts = None
        if by is not None:
            breakdown.parse_by(by)
            info = self.meter.store.org(org)
            pid = self.meter.store.project(org, project).id if project is not None else None
            # whole weeks and months, and the windows of the first rolling days
            first = min(start - timedelta(days=29), Month.of_date(start).first_day())
            last = Month.of_date(end).last_day()
            parts = breakdown.segment_days(self, info, pid, days, first, last, by)
        return series_module.series(days, metric, start, end, week_start, parts)

    @cached_property
    def segments(self) -> Segments:
        """Segments of a month's MAU by trait or device, and the persons behind a cell."""
        return Segments(self.meter, self)

    def stickiness(
        self,
        org: str,
        start: date | None = None,
        end: date | None = None,
        project: str | None = None,
    ) -> tuple[list[DailyStickiness], list[MonthlyStickiness]]:
        """DAU/MAU per day and its mean per month."""
        start, end = self._range(org, start, end, 30)
        daily = engagement.daily_stickiness(self.days(org, project), start, end)
        return daily, engagement.monthly_stickiness(daily)

    def frequency(
        self,
        org: str,
        start: date | None = None,
        end: date | None = None,
        unit: str = "day",
        project: str | None = None,
        week_start: str = "monday",
    ) -> Frequency:
        """How many persons were active on exactly k days (or weeks) of the range."""
        check_interval(unit, week_start)
        start, end = self._range(org, start, end, 30)
        return engagement.frequency(self.days(org, project), start, end, unit, week_start)

    def lifecycle(
        self,
        org: str,
        unit: str = "month",
        start: date | None = None,
        end: date | None = None,
        project: str | None = None,
        week_start: str = "monday",
    ) -> list[LifecycleRow]:
        """New, returning, resurrecting and dormant persons per interval."""
        start, end = self._interval_range(org, unit, start, end, week_start)
        return cohorts.lifecycle(self.days(org, project), start, end, unit, week_start)

    def retention(
        self,
        org: str,
        unit: str = "month",
        start: date | None = None,
        end: date | None = None,
        project: str | None = None,
        week_start: str = "monday",
        horizon: int | None = None,
    ) -> list[Cohort]:
        """Cohorts by first interval of activity, and how many are active k intervals later."""
        start, end = self._interval_range(org, unit, start, end, week_start)
        return cohorts.retention(self.days(org, project), start, end, unit, week_start, horizon)

    def levels(
        self,
        org: str,
        day: date | None = None,
        project: str | None = None,
        rules: LevelRules | None = None,
    ) -> Levels:
        """Highly active / active / at risk / dormant on ``day`` (default today), and the
        movement since one window earlier."""
        day = day or self.today(org)
        _check_range(day, day)
        return engagement.levels(self.days(org, project), day, rules)

    def level_persons(
        self,
        org: str,
        level: str,
        day: date | None = None,
        project: str | None = None,
        rules: LevelRules | None = None,
        previous: str | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> dict[str, Any]:
        """The persons at ``level`` (or, with ``previous``, those who moved from ``previous``
        to ``level``), sorted by key, one page at a time."""
        _check_page(limit, offset)
        report = self.levels(org, day, project, rules)
        roots = report.members(level) if previous is None else report.movers(previous, level)
        keys = self.person_keys(org, roots)
        return {
            "day": report.day.isoformat(),
            "level": level,
            "previous": previous,
            "total": len(keys),
            "persons": keys[offset : offset + limit],
        }

    # ---- trends, forecasts, health, worksheet ----------------------------------------------

    def history(self, org: str, project: str | None = None) -> list[tuple[Month, int]]:
        """MAU of every complete month so far (:mod:`maumeter.analytics.outlook`)."""
        return outlook.history(self, org, project)

    def growth(self, org: str, project: str | None = None) -> Growth:
        """MoM and YoY growth of each complete month, and the compound monthly growth."""
        return outlook.month_growth(self, org, project)

    def seasonality(
        self, org: str, series: str = "daily", project: str | None = None
    ) -> Decomposition:
        """STL of daily DAU (weekly season) or monthly MAU (yearly season), or why not."""
        return outlook.seasonality(self, org, series, project)

    def forecast(self, org: str, horizon: int = 12, level: float = 0.8) -> dict[str, Any]:
        """This month's end from its accrual, the next months by exponential smoothing, the
        month the cap is reached and the tier that fits."""
        return outlook.forecast(self, org, horizon, level)

    def health(self, org: str) -> dict[str, Any]:
        """The org's account health: score, churn flag, reasons, inputs."""
        return health_module.account(self, org)

    def accounts(self) -> list[dict[str, Any]]:
        """Every org's health, riskiest first."""
        return health_module.accounts(self)

    def worksheet(self, data: Any) -> Estimate:
        """Optimizely's MAU worksheet (channels, visitors, coverage, growth, bots) → MAU and
        the tier that fits, on this meter's tier table."""
        return estimate(Worksheet.parse(data), self.meter.tiers)


def _check_range(start: date, end: date) -> None:
    if end < start:
        raise InvalidInput.field("to", f"must not be before from ({start})")
    if start.year < MIN_YEAR or end.year > MAX_YEAR:
        raise InvalidInput.field("from", f"dates between {MIN_YEAR} and {MAX_YEAR} only")
    if (end - start).days >= MAX_DAYS:
        raise InvalidInput.field("to", f"at most {MAX_DAYS:,} days per request; ask for less")


def _check_page(limit: int, offset: int) -> None:
    if type(limit) is not int or not 1 <= limit <= MAX_LIST:
        raise InvalidInput.field("limit", f"expected 1..{MAX_LIST:,}, got {limit!r}")
    if type(offset) is not int or offset < 0:
        raise InvalidInput.field("offset", f"expected a non-negative integer, got {offset!r}")
