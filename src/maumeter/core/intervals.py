"""Analytics intervals: days, weeks starting Monday or Sunday, calendar months, as integers.

Lifecycle, retention and stickiness walk consecutive intervals ("the previous interval",
"k intervals later"). Carrying an interval as an integer index makes those steps ``i - 1`` and
``i + k`` with no calendar arithmetic; :func:`interval_period` turns an index back into the
labelled :class:`~maumeter.core.months.Period` a series shows.

Monday weeks are ISO weeks and reuse :func:`~maumeter.core.months.period_of` unchanged (label
``2024-W09``). Sunday weeks (``--week-start sunday``) run Sunday to Saturday; six of their seven
days belong to the ISO week of the Monday that follows the Sunday, so they carry that ISO label
(the same majority rule by which ISO names a week's year). Labels therefore stay unique and sort
in time order for either week start.

Inputs are local dates (the org's zone was applied upstream), so nothing here knows about DST.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, timedelta
from typing import Literal, TypeAlias

from maumeter.core.errors import InvalidInput
from maumeter.core.months import UNITS, Month, Period, iso_week_label, period_of

__all__ = [
    "WEEK_STARTS",
    "Activity",
    "WeekStart",
    "check_interval",
    "interval_index",
    "interval_period",
    "interval_range",
]

WeekStart = Literal["monday", "sunday"]
WEEK_STARTS: tuple[WeekStart, ...] = ("monday", "sunday")

Activity: TypeAlias = Mapping[str, Collection[date]]
"""Person key -> the local dates on which that person was active: the input of every metric."""

# 0001-01-01 (ordinal 1) is a Monday and 0001-01-07 (ordinal 7) a Sunday: (ordinal - 1) // 7
# numbers Monday-to-Sunday weeks, ordinal // 7 Sunday-to-Saturday weeks.
_WEEK_OFFSET = {"monday": 1, "sunday": 0}


def check_interval(unit: str, week_start: str = "monday") -> None:
    """Refuse an unknown unit or week start with an error naming the choices."""
    if unit not in UNITS:
        raise InvalidInput.field(
            "interval", f"unknown interval {unit!r}; expected one of day, week, month"
        )
    if week_start not in WEEK_STARTS:
        raise InvalidInput.field(
            "week_start", f"unknown week start {week_start!r}; expected monday or sunday"
        )


def interval_index(d: date, unit: str, week_start: str = "monday") -> int:
    """The index of the interval containing ``d``; consecutive intervals differ by one."""
    if unit == "day":
        return d.toordinal()
    if unit == "week":
        return (d.toordinal() - _WEEK_OFFSET[week_start]) // 7
    if unit == "month":
        return d.year * 12 + d.month - 1
    check_interval(unit, week_start)
    raise AssertionError("unreachable")  # pragma: no cover


def interval_period(index: int, unit: str, week_start: str = "monday") -> Period:
    """Inverse of :func:`interval_index`: the whole interval with its label."""
    if unit == "day":
        return period_of(date.fromordinal(index), "day")
    if unit == "week":
        first = date.fromordinal(index * 7 + _WEEK_OFFSET[week_start])
        if week_start == "monday":
            return period_of(first, "week")
        label = iso_week_label(first + timedelta(days=1))
        return Period(label, first, first + timedelta(days=6))
    if unit == "month":
        month = Month.from_index(index)
        return Period(str(month), month.first_day(), month.last_day())
    check_interval(unit, week_start)
    raise AssertionError("unreachable")  # pragma: no cover


def interval_range(start: date, end: date, unit: str, week_start: str = "monday") -> range:
    """Indices of every interval overlapping ``[start, end]`` (whole intervals, not clipped,
    as in :func:`~maumeter.core.months.periods_in_range`); empty when ``start > end``."""
    check_interval(unit, week_start)
    if start > end:
        return range(0)
    return range(interval_index(start, unit, week_start), interval_index(end, unit, week_start) + 1)
