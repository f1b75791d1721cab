"""Lifecycle: who is new, returning, resurrecting or dormant in each day, week or month.

For a person and an interval ``t`` (first activity ever in interval ``f``):

- **new** — active in ``t`` and ``t == f``;
- **returning** — active in ``t`` and in ``t - 1``;
- **resurrecting** — active in ``t``, not in ``t - 1``, and ``t > f`` (seen before);
- **dormant** — active in ``t - 1``, not in ``t``. Reported as a positive count (some tools
  plot it below the axis as a negative one; the sign is the face's business).

An active person is exactly one of new / returning / resurrecting, so per interval

    new + returning + resurrecting = active(t)      returning + dormant = active(t - 1)

and the first row's "previous interval" and each person's "first activity ever" are taken from
all the activity passed in, not only from the requested range: pass full history (or at least
from the first interval before the range) or early persons look new.

Pure: the reference every store's lifecycle query is tested against.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from maumeter.core.intervals import Activity, interval_index, interval_period, interval_range
from maumeter.core.months import Period

__all__ = ["LifecycleRow", "lifecycle"]


@dataclass(frozen=True, slots=True)
class LifecycleRow:
    """Counts of one interval; ``active`` is derived, so the first identity holds by shape."""

    period: Period
    new: int
    returning: int
    resurrecting: int
    dormant: int

    @property
    def active(self) -> int:
        return self.new + self.returning + self.resurrecting

    def to_dict(self) -> dict[str, Any]:
        """The CLI/API row: ``{"period", "new", "returning", "resurrecting", "dormant"}``."""
        return {
            "period": self.period.label,
            "new": self.new,
            "returning": self.returning,
            "resurrecting": self.resurrecting,
            "dormant": self.dormant,
        }


def lifecycle(
    activity: Activity,
    start: date,
    end: date,
    unit: str = "month",
    week_start: str = "monday",
) -> list[LifecycleRow]:
    """One row per interval overlapping ``[start, end]``, including empty ones, in order.

    Work is one pass over each person's active intervals (not over the range), so long ranges of
    sparse activity stay cheap.
    """
    indices = interval_range(start, end, unit, week_start)
    if not indices:
        return []
    lo, hi = indices.start, indices.stop - 1
    size = len(indices)
    new = [0] * size
    returning = [0] * size
    resurrecting = [0] * size
    dormant = [0] * size
    for dates in activity.values():
        if not dates:
            continue
        seen = {interval_index(d, unit, week_start) for d in dates}
        first = min(seen)
        for i in seen:
            if i + 1 <= hi and i + 1 >= lo and i + 1 not in seen:
                dormant[i + 1 - lo] += 1
            if i < lo or i > hi:
                continue
            if i == first:
                new[i - lo] += 1
            elif i - 1 in seen:
                returning[i - lo] += 1
            else:
                resurrecting[i - lo] += 1
    return [
        LifecycleRow(
            interval_period(i, unit, week_start),
            new[i - lo],
            returning[i - lo],
            resurrecting[i - lo],
            dormant[i - lo],
        )
        for i in indices
    ]
