"""Live usage of the current month: MAU against the effective cap, and where it is heading.

Besides the projection it says what the month costs so far at the plan's prices and which
tier the projected month-end MAU fits (the recommendation for the next cycle).

The projection compares this month's accrual so far with how MAU accrued by the same point of
earlier months (:mod:`maumeter.core.accrual`). Accrual curves are derived from the live counts
and cached: an earlier month's curve is computed once an hour at most, the current month's
completed days once a day, and today's point is the live MAU. So a request costs a few
dictionary lookups and a median over the cached curves, not a scan of the log.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from maumeter.core.accrual import Projection, breach_day, project
from maumeter.core.caps import Charges, charges
from maumeter.core.months import Month, epoch_day, local_date
from maumeter.core.plans import recommend
from maumeter.store.counters import roots_of
from maumeter.store.duckdb import OrgInfo, month_index

if TYPE_CHECKING:
    from maumeter.meter import Meter

HISTORY = 12  # earlier months the projection learns the accrual shape from
EARLIER_TTL = 3600.0  # seconds an earlier month's curve is reused


@dataclass(frozen=True, slots=True)
class LiveUsage:
    """The current month of an org, as a billing page shows it."""

    org: str
    month: Month
    as_of: datetime
    mau: int
    identified: int
    anonymous: int
    allotment: int
    carried_in: int
    effective_cap: int | None
    policy: str
    refused: int
    projection: Projection | None
    breach_day: date | None
    charges: Charges
    recommended_tier: str

    @property
    def percent_used(self) -> float | None:
        if not self.effective_cap:
            return None
        return round(100.0 * self.mau / self.effective_cap, 2)

    @property
    def overage(self) -> int:
        return 0 if self.effective_cap is None else max(0, self.mau - self.effective_cap)

    def to_dict(self) -> dict[str, Any]:
        projection = self.projection
        return {
            "org": self.org,
            "month": str(self.month),
            "as_of": self.as_of.isoformat(),
            "mau": self.mau,
            "identified": self.identified,
            "anonymous": self.anonymous,
            "allotment": self.allotment,
            "carried_in": self.carried_in,
            "effective_cap": self.effective_cap,
            "percent_used": self.percent_used,
            "overage": self.overage,
            "policy": self.policy,
            "refused": self.refused,
            "projection": None if projection is None else projection.to_dict(),
            "projected_mau": None if projection is None else projection.expected,
            "breach_day": None if self.breach_day is None else self.breach_day.isoformat(),
            "days_left": self.month.last_day().day - projection.day if projection else None,
            "charges_so_far": self.charges.to_dict(),
            "recommended_tier": self.recommended_tier,
        }


class Usage:
    """Live usage of the meter's orgs, with cached accrual curves."""

    def __init__(self, meter: Meter) -> None:
        self._meter = meter
        self._earlier: dict[tuple[int, int], tuple[float, list[int]]] = {}
        self._today: dict[tuple[int, int], tuple[date, list[int]]] = {}
        self._lock = threading.Lock()

    def live(self, org: str) -> LiveUsage:
        meter = self._meter
        info = meter.store.org(org)
        now = meter.clock()
        today = local_date(now, meter.zone(info))
        month = Month.of_date(today)
        figures = meter.store.mau(info, month, None)
        link = meter.plans.month_cap(org, month)
        done = self._completed_days(info, month, today)
        current = [*done, max(figures.mau, done[-1] if done else 0)]
        earlier = self._earlier_curves(info, month)
        projection = project(month, current, earlier)
        plan = meter.plans.of(info)
        return LiveUsage(
            org,
            month,
            now,
            figures.mau,
            figures.identified,
            figures.anonymous,
            link.allotment,
            link.carried_in,
            link.effective_cap,
            info.policy,
            meter.store.refused(info, month),
            projection,
            breach_day(projection, link.effective_cap, current),
            charges(plan, figures.mau, link.effective_cap),
            recommend(meter.tiers, projection.expected).name,
        )

    def curve(self, info: OrgInfo, month: Month, last: date | None = None) -> list[int]:
        """Cumulative MAU at the end of each day of ``month`` (through ``last``)."""
        end = month.last_day() if last is None else last
        store = self._meter.store
        counts = store.counts(info)
        with store.lock():
            roots = roots_of(counts.graph)
            return counts.accrual(epoch_day(month.first_day()), epoch_day(end), roots)

    def _completed_days(self, info: OrgInfo, month: Month, today: date) -> list[int]:
        if today.day == 1:
            return []
        key = (info.id, month_index(month))
        with self._lock:
            hit = self._today.get(key)
        if hit is not None and hit[0] == today:
            return hit[1]
        curve = self.curve(info, month, date.fromordinal(today.toordinal() - 1))
        with self._lock:
            self._today[key] = (today, curve)
        return curve

    def _earlier_curves(self, info: OrgInfo, month: Month) -> list[list[int]]:
        """The accrual curves of up to ``HISTORY`` earlier months that had activity."""
        counts = self._meter.store.counts(info)
        with self._meter.store.lock():
            active = sorted({m for (p, m) in counts.months if p is None and m < month.index})
        curves = []
        now = time.monotonic()
        for index in reversed(active[-HISTORY:]):
            key = (info.id, index)
            with self._lock:
                hit = self._earlier.get(key)
            if hit is None or now - hit[0] > EARLIER_TTL:
                hit = (now, self.curve(info, Month.from_index(index)))
                with self._lock:
                    self._earlier[key] = hit
            if hit[1] and hit[1][-1] > 0:
                curves.append(hit[1])
        return curves
