"""A month's caps and charges: the rollover chain, overage and amounts.

A month's *effective cap* is its allotment plus what rolled over from the month before
(Optimizely); its *carried out* is the unused part of the effective cap, at most
``Rollover.max_carried``. Nothing crosses the end of a contract term: a term's first month
carries nothing in and its last month carries nothing out (terms renew back to back, see
``Term.covering``). Months before the first term roll nothing over.

Amounts are exact ``Decimal`` products, not rounded: rounding to a currency's minor unit is the
invoice's business, done once, at the end.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import Any

from maumeter.core.months import Month
from maumeter.core.plans import Plan

__all__ = ["Charges", "MonthCap", "caps", "chain_start", "charges", "overage"]


@dataclass(frozen=True, slots=True)
class MonthCap:
    """One link of the rollover chain.

    Identity over a term: the allotments sum to the capacity used plus the capacity forfeited,
    because what one month carries out the next carries in, and nothing crosses the term's ends.
    """

    month: Month
    mau: int
    allotment: int
    carried_in: int
    carried_out: int

    @property
    def effective_cap(self) -> int:
        return self.allotment + self.carried_in

    @property
    def used(self) -> int:
        return min(self.mau, self.effective_cap)

    @property
    def unused(self) -> int:
        return max(0, self.effective_cap - self.mau)

    @property
    def forfeited(self) -> int:
        """Unused capacity that expires: past ``max_carried``, or at the end of a term."""
        return self.unused - self.carried_out

    @property
    def overage(self) -> int:
        return overage(self.mau, self.effective_cap)

    def to_dict(self) -> dict[str, Any]:
        return {
            "month": str(self.month),
            "mau": self.mau,
            "allotment": self.allotment,
            "carried_in": self.carried_in,
            "effective_cap": self.effective_cap,
            "carried_out": self.carried_out,
            "forfeited": self.forfeited,
            "overage": self.overage,
        }


def chain_start(plan: Plan, month: Month) -> Month:
    """The first month whose MAU bears on ``month``'s cap: the start of its term, or ``month``
    itself without rollover or a term. Fetch MAU from here on to call :func:`caps`."""
    if not plan.rollover.enabled or plan.term is None:
        return month
    term = plan.term.covering(month)
    return month if term is None else term.start


def caps(plan: Plan, mau_by_month: Mapping[Month, int], months: Sequence[Month]) -> list[MonthCap]:
    """The rollover chain for ``months`` (consecutive, ascending).

    With a term, the chain starts at the beginning of the term holding ``months[0]``, so that
    the months before it are computed too (and not returned): ``mau_by_month`` must cover them.
    A month missing from ``mau_by_month`` had no active person: MAU 0. Without a term, the
    chain runs over ``months`` as given. For the open month, pass the MAU so far: its carried
    out is then provisional.
    """
    if any(b.index != a.index + 1 for a, b in pairwise(months)):
        raise ValueError("months must be consecutive and ascending")
    if not months:
        return []
    first = chain_start(plan, months[0])
    chain: list[MonthCap] = []
    carried = 0
    for index in range(first.index, months[-1].index + 1):
        month = Month.from_index(index)
        mau = mau_by_month.get(month, 0)
        term = plan.term.covering(month) if plan.term is not None else None
        if not plan.rollover.enabled or (plan.term is not None and term is None):
            carried_in = carried_out = 0
        else:
            carried_in = 0 if term is not None and month == term.start else carried
            carried_out = max(0, plan.allotment + carried_in - mau)
            if plan.rollover.max_carried is not None:
                carried_out = min(carried_out, plan.rollover.max_carried)
            if term is not None and month == term.end:
                carried_out = 0
        chain.append(MonthCap(month, mau, plan.allotment, carried_in, carried_out))
        carried = carried_out
    return chain[len(chain) - len(months) :]


def overage(mau: int, effective_cap: int | None) -> int:
    """MAU above the effective cap (soft cap, Jimo pricing FAQ); none without a cap."""
    return 0 if effective_cap is None else max(0, mau - effective_cap)


@dataclass(frozen=True, slots=True)
class Charges:
    """A month's amounts: None where the plan sets no price (the units are known regardless)."""

    base: Decimal | None
    overage_units: int
    overage_amount: Decimal | None
    total: Decimal | None

    def to_dict(self) -> dict[str, Any]:
        def text(d: Decimal | None) -> str | None:
            return None if d is None else str(d)

        return {
            "base": text(self.base),
            "overage_units": self.overage_units,
            "overage_amount": text(self.overage_amount),
            "total": text(self.total),
        }


def charges(plan: Plan, mau: int, effective_cap: int | None) -> Charges:
    """Base price plus overage at the plan's prices, exact (no rounding).

    Overage units are reported under every policy: a hard cap keeps them at 0 in practice, but
    late imports can still exceed it, and the statement must say so.
    """
    units = overage(mau, effective_cap)
    amount = None if plan.overage_price is None else plan.overage_price * units
    parts = [p for p in (plan.monthly_price, amount) if p is not None]
    total = sum(parts, Decimal(0)) if parts else None
    return Charges(plan.monthly_price, units, amount, total)
