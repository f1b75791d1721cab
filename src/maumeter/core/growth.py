"""MAU growth: month over month, year over year, and the compound monthly growth rate.

The input is a run of consecutive *complete* calendar months with their MAU. A month still
running has only its MAU so far, which would read as a drop: the caller leaves it out (or
passes its month-end projection as if complete, and says so). Gaps are refused rather than
guessed: a missing month is not a month with no MAU.

* ``mom``: ``mau / previous - 1``; None for the first month and after a month with no MAU
  (growth from zero has no ratio).
* ``yoy``: against the same month a year earlier, None when that month is not in the input or
  had no MAU.
* ``cmgr``: ``(last / first) ** (1 / (n - 1)) - 1`` where ``first`` is the first month with
  MAU and ``n`` the months from it to the last one, both included: the constant monthly rate
  that leads from one to the other. Leading months without MAU (before launch) are skipped;
  None when fewer than two months are left. A decline to zero gives -1 (−100 %).

Rates are plain fractions (0.05 is +5 %), unrounded: presentation rounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from maumeter.core.errors import InvalidInput, Problem
from maumeter.core.months import Month

__all__ = ["Growth", "MonthGrowth", "check_monthly", "cmgr", "growth"]


@dataclass(frozen=True, slots=True)
class MonthGrowth:
    """One month's MAU and its change against the month before and a year before."""

    month: Month
    mau: int
    mom: float | None
    yoy: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"month": str(self.month), "mau": self.mau, "mom": self.mom, "yoy": self.yoy}


@dataclass(frozen=True, slots=True)
class Growth:
    """Per-month rates over a run of consecutive complete months, and their CMGR."""

    months: tuple[MonthGrowth, ...]
    cmgr: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"months": [m.to_dict() for m in self.months], "cmgr": self.cmgr}


def check_monthly(monthly: Sequence[tuple[Month, int]], name: str = "monthly") -> None:
    """Raise InvalidInput naming every item that is not ``(Month, MAU >= 0)`` or not the month
    after the one before it."""
    if isinstance(monthly, str | bytes) or not isinstance(monthly, Sequence):
        raise InvalidInput.field(name, f"expected a list of (month, MAU), got {monthly!r}")
    problems: list[Problem] = []
    previous: Month | None = None
    for i, item in enumerate(monthly):
        path = f"{name}[{i}]"
        if not isinstance(item, tuple) or len(item) != 2 or not isinstance(item[0], Month):
            problems.append(Problem(path, f"expected a (Month, MAU) pair, got {item!r}"))
            previous = None
            continue
        month, mau = item
        if isinstance(mau, bool) or not isinstance(mau, int) or mau < 0:
            problems.append(Problem(path, f"expected a whole number of MAU from 0, got {mau!r}"))
        if previous is not None and month.index != previous.index + 1:
            problems.append(
                Problem(path, f"expected {previous.next()} (consecutive months), got {month}")
            )
        previous = month
    if problems:
        raise InvalidInput(problems)


def _ratio(now: int, before: int | None) -> float | None:
    return None if not before else now / before - 1


def growth(monthly: Sequence[tuple[Month, int]]) -> Growth:
    """Month-over-month and year-over-year rates of consecutive complete months, and the CMGR."""
    check_monthly(monthly)
    values = [mau for _, mau in monthly]
    rows = tuple(
        MonthGrowth(
            month,
            mau,
            _ratio(mau, values[i - 1] if i >= 1 else None),
            _ratio(mau, values[i - 12] if i >= 12 else None),
        )
        for i, (month, mau) in enumerate(monthly)
    )
    return Growth(rows, cmgr(values))


def cmgr(values: Sequence[int]) -> float | None:
    """The compound monthly growth rate from the first non-zero value to the last one."""
    start = next((i for i, v in enumerate(values) if v > 0), None)
    if start is None or len(values) - start < 2:
        return None
    return (values[-1] / values[start]) ** (1 / (len(values) - start - 1)) - 1
