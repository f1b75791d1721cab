"""Retention: cohorts by the interval of first activity, and who is still active later.

A person joins the cohort of the interval (day, week or month) holding their first activity
ever. For cohort ``c`` and offset ``k``, ``retained[k]`` counts its members active in interval
``c + k`` — *N-interval* retention ("active in week 3"), not *unbounded* ("active in week 3 or
later"): it is the figure the chatbot and customer-success seeds plot, and it can rise again
when persons come back. ``retained[0]`` is the whole cohort, so the first share is 100 %.

Offsets run up to the last interval overlapping the range (whole intervals; when the range
ends today, that last one is partial and its share still moving — the caller knows which day
it is). A cohort with no members is still listed, so a table has no gaps; its shares are
``None`` (undefined), never a made-up 0 %.

As in :mod:`maumeter.core.lifecycle`, first activity is taken from all the activity passed in:
pass full history or persons who came back look new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from maumeter.core.errors import InvalidInput
from maumeter.core.intervals import Activity, interval_index, interval_period, interval_range
from maumeter.core.months import Period

__all__ = ["Cohort", "retention"]


@dataclass(frozen=True, slots=True)
class Cohort:
    """Persons whose first activity fell in ``period``; ``retained[k]`` of them active k later."""

    period: Period
    size: int
    retained: tuple[int, ...]

    @property
    def shares(self) -> tuple[float | None, ...]:
        """``retained[k] / size``, ``None`` throughout for an empty cohort."""
        if self.size == 0:
            return tuple(None for _ in self.retained)
        return tuple(n / self.size for n in self.retained)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cohort": self.period.label,
            "size": self.size,
            "retained": list(self.retained),
            "shares": list(self.shares),
        }


def retention(
    activity: Activity,
    start: date,
    end: date,
    unit: str = "month",
    week_start: str = "monday",
    horizon: int | None = None,
) -> list[Cohort]:
    """One cohort per interval overlapping ``[start, end]``, in order.

    Cohort ``c`` gets offsets ``0 .. last - c`` where ``last`` is the range's last interval,
    capped at ``horizon`` offsets after the first when given (a 12-cohort table by 12 weeks).
    """
    if horizon is not None and (type(horizon) is not int or horizon < 0):
        raise InvalidInput.field("horizon", f"expected a non-negative integer, got {horizon!r}")
    indices = interval_range(start, end, unit, week_start)
    if not indices:
        return []
    lo, hi = indices.start, indices.stop - 1
    sizes = [0] * len(indices)
    retained = [[0] * (hi - c + 1) for c in indices]
    for dates in activity.values():
        if not dates:
            continue
        seen = {interval_index(d, unit, week_start) for d in dates}
        first = min(seen)
        if first < lo or first > hi:
            continue
        row = retained[first - lo]
        sizes[first - lo] += 1
        for i in seen:
            if i <= hi:
                row[i - first] += 1
    cohorts = []
    for c in indices:
        counts = retained[c - lo]
        if horizon is not None:
            counts = counts[: horizon + 1]
        cohorts.append(Cohort(interval_period(c, unit, week_start), sizes[c - lo], tuple(counts)))
    return cohorts
