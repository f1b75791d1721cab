"""Lifecycle and retention over the daily index, as bitmap algebra per interval.

With ``A(t)`` the persons active in interval ``t`` and ``E(t)`` those active in any interval
before ``t`` (all history, not only the range asked for):

* new = ``|A(t) − E(t)|``, returning = ``|A(t) ∩ A(t−1)|``,
  resurrecting = ``|A(t)| − new − returning``, dormant = ``|A(t−1)| − returning``;
* the cohort of ``c`` is ``A(c) − E(c)``; ``retained[k] = |cohort(c) ∩ A(c+k)|``.

These are the definitions of :mod:`maumeter.core.lifecycle` and :mod:`maumeter.core.retention`
(the references the tests hold these to), computed with one union per interval instead of a
walk over every person.
"""

from __future__ import annotations

from datetime import date

from pyroaring import BitMap

from maumeter.analytics.daily import Days
from maumeter.core.errors import InvalidInput
from maumeter.core.intervals import interval_period, interval_range
from maumeter.core.lifecycle import LifecycleRow
from maumeter.core.months import epoch_day
from maumeter.core.retention import Cohort

__all__ = ["lifecycle", "retention"]


def _active(days: Days, index: int, unit: str, week_start: str) -> BitMap:
    period = interval_period(index, unit, week_start)
    return days.union(epoch_day(period.first), epoch_day(period.last))


def lifecycle(
    days: Days, start: date, end: date, unit: str = "month", week_start: str = "monday"
) -> list[LifecycleRow]:
    """One row per interval overlapping ``[start, end]``, empty intervals included."""
    indices = interval_range(start, end, unit, week_start)
    if not indices:
        return []
    first = interval_period(indices.start, unit, week_start).first
    ever = days.before(epoch_day(first))
    previous = _active(days, indices.start - 1, unit, week_start)
    rows = []
    for index in indices:
        active = _active(days, index, unit, week_start)
        new = active.difference_cardinality(ever)
        returning = active.intersection_cardinality(previous)
        rows.append(
            LifecycleRow(
                interval_period(index, unit, week_start),
                new,
                returning,
                len(active) - new - returning,
                len(previous) - returning,
            )
        )
        ever |= active
        previous = active
    return rows


def retention(
    days: Days,
    start: date,
    end: date,
    unit: str = "month",
    week_start: str = "monday",
    horizon: int | None = None,
) -> list[Cohort]:
    """One cohort per interval overlapping ``[start, end]``; offsets up to the range's last
    interval, at most ``horizon`` of them after the first."""
    if horizon is not None and (type(horizon) is not int or horizon < 0):
        raise InvalidInput.field("horizon", f"expected a non-negative integer, got {horizon!r}")
    indices = interval_range(start, end, unit, week_start)
    if not indices:
        return []
    first = interval_period(indices.start, unit, week_start).first
    ever = days.before(epoch_day(first))
    active = [_active(days, index, unit, week_start) for index in indices]
    cohorts = []
    for c, index in enumerate(indices):
        members = active[c] - ever
        ever |= active[c]
        last = len(indices) if horizon is None else min(len(indices), c + horizon + 1)
        retained = tuple(members.intersection_cardinality(active[k]) for k in range(c, last))
        cohorts.append(Cohort(interval_period(index, unit, week_start), len(members), retained))
    return cohorts
