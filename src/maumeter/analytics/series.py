"""Active-person series over the daily index: DAU, WAU, MAU, rolling 7 and rolling 30 days.

* ``dau`` — each day of the range;
* ``wau`` / ``mau`` — each whole week (Monday or Sunday start) or calendar month overlapping
  the range, as in :func:`~maumeter.core.months.periods_in_range` (periods are not clipped);
* ``rolling7`` / ``rolling30`` — for each day ``D`` of the range, persons active on any day of
  ``D-6..D`` (``D-29..D``).

Calendar periods are bitmap unions. Rolling windows slide a per-person counter of active days in
the window: each step adds one day's persons and removes the day that left, so a year of
rolling-30 costs two day-sized numpy updates per day rather than 365 unions of 30 bitmaps.

A breakdown splits every point by a segment: each segment value comes with its own persons per
day (a trait's holders, or the persons of the events carrying a property value), and each
point gets the same metric computed over every segment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import numpy as np

from maumeter.analytics.daily import Days
from maumeter.core.errors import InvalidInput
from maumeter.core.intervals import check_interval, interval_period, interval_range
from maumeter.core.months import epoch_day, from_epoch_day

__all__ = ["CALENDAR", "METRICS", "ROLLING", "Point", "series"]

CALENDAR = {"dau": "day", "wau": "week", "mau": "month"}
ROLLING = {"rolling7": 7, "rolling30": 30}
METRICS: tuple[str, ...] = (*CALENDAR, *ROLLING)


@dataclass(frozen=True, slots=True)
class Point:
    """One point: ``value`` persons active in ``first..last``; ``breakdown`` by segment."""

    period: str
    first: date
    last: date
    value: int
    breakdown: tuple[tuple[str | None, int], ...] | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"period": self.period, "value": self.value}
        if self.breakdown is not None:
            found["breakdown"] = [{"value": v, "persons": n} for v, n in self.breakdown]
        return found


def check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise InvalidInput.field("metric", f"expected one of {', '.join(METRICS)}, got {metric!r}")


def series(
    days: Days,
    metric: str,
    start: date,
    end: date,
    week_start: str = "monday",
    parts: Mapping[str | None, Days] | None = None,
) -> list[Point]:
    """The points of ``metric`` over ``[start, end]``; with ``parts`` (a segment's persons per
    day, for each segment value), each point also carries its count in every segment."""
    check_metric(metric)
    check_interval("week", week_start)
    points = _points(days, metric, start, end, week_start)
    if parts is None:
        return points
    cells = {value: _points(p, metric, start, end, week_start) for value, p in parts.items()}
    return [
        replace(
            point,
            breakdown=tuple(
                sorted(
                    ((value, found[i].value) for value, found in cells.items()),
                    key=lambda c: (-c[1], c[0] is None, c[0] or ""),
                )
            ),
        )
        for i, point in enumerate(points)
    ]


def _points(days: Days, metric: str, start: date, end: date, week_start: str) -> list[Point]:
    if metric in ROLLING:
        return _rolling(days, ROLLING[metric], start, end)
    unit = CALENDAR[metric]
    points = []
    for index in interval_range(start, end, unit, week_start):
        period = interval_period(index, unit, week_start)
        persons = days.union(epoch_day(period.first), epoch_day(period.last))
        points.append(Point(period.label, period.first, period.last, len(persons)))
    return points


def _rolling(days: Days, width: int, start: date, end: date) -> list[Point]:
    first, last = epoch_day(start), epoch_day(end)
    if last < first:
        return []
    counter = np.zeros(days.population() + 1, dtype=np.int16)
    active = 0
    points = []
    for d in range(first - width + 1, last + 1):
        ids = days.array(d)
        if len(ids):
            counter[ids] += 1
            active += int(np.count_nonzero(counter[ids] == 1))
        if d - width >= first - width + 1:  # the day that just left the window
            gone = days.array(d - width)
            if len(gone):
                counter[gone] -= 1
                active -= int(np.count_nonzero(counter[gone] == 0))
        if d >= first:
            day = from_epoch_day(d)
            points.append(Point(day.isoformat(), day - timedelta(days=width - 1), day, active))
    return points
