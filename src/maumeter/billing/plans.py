"""An org's plan in use: stored, defaulted, and turned into the effective cap of each month.

An org that never had a plan set is on the default tier (2,500 MAU, after Jimo) unless it was
created with a cap of its own, which is then its custom allotment; its policy is the one it was
created with. Setting a plan stores it and makes the org's cap and policy follow it, so the
admission gate enforces what the plan says. The effective cap of a month is the allotment plus
what rolled over into it (:func:`maumeter.core.caps.caps`): closed months count with the MAU of
their frozen statement, open months with their live MAU.
"""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING, Any

from maumeter.core.audit import Action
from maumeter.core.caps import MonthCap, caps, chain_start
from maumeter.core.errors import InvalidInput
from maumeter.core.months import Month, months_between
from maumeter.core.plans import Plan, Policy, TierTable
from maumeter.store.duckdb import OrgInfo, month_index

if TYPE_CHECKING:
    from maumeter.meter import Meter

CAP_TTL = 5.0  # seconds an effective cap is reused by the admission gate before recomputing


class Plans:
    """Plans of the meter's orgs and the caps they give."""

    def __init__(self, meter: Meter, tiers: TierTable) -> None:
        self._meter = meter
        self.tiers = tiers
        self._cache: dict[tuple[int, int], tuple[float, MonthCap]] = {}
        self._lock = threading.Lock()

    def get(self, org: str) -> Plan:
        """The org's plan: the one set, else the default derived from how it was created."""
        return self.of(self._meter.store.org(org))

    def of(self, info: OrgInfo) -> Plan:
        stored = self._meter.store.plan_json(info)
        if stored is not None:
            return Plan.parse(json.loads(stored), self.tiers)
        policy = Policy(info.policy)
        if info.cap is None:
            return Plan.build(self.tiers, policy=policy, timezone=info.timezone)
        fitting = [t for t in self.tiers.tiers if t.allotment == info.cap]
        if fitting:
            return Plan.build(self.tiers, fitting[0].name, policy=policy, timezone=info.timezone)
        custom = [t for t in self.tiers.tiers if t.custom]
        if custom:
            return Plan.build(
                self.tiers, custom[0].name, info.cap, policy=policy, timezone=info.timezone
            )
        return Plan(None, info.cap, policy, info.timezone)

    def set(self, org: str, data: Any, actor: str = "library") -> Plan:
        """Set the org's plan from its JSON form (see :meth:`Plan.parse`); fields left out keep
        the tier's defaults. Billing months follow the org's time zone, so a plan may not name
        another one."""
        info = self._meter.store.org(org)
        if not isinstance(data, dict):
            raise InvalidInput.field("plan", "expected a JSON object")
        if data.get("timezone") not in (None, info.timezone):
            raise InvalidInput.field(
                "timezone",
                f"billing months follow the org's time zone {info.timezone!r}; "
                "leave timezone out or give that one",
            )
        plan = Plan.parse({**data, "timezone": info.timezone}, self.tiers)
        self._meter.store.set_plan(
            info,
            json.dumps(plan.to_dict()),
            plan.allotment,
            str(plan.policy),
            self._meter.clock(),
        )
        self._meter.audit.record(org, actor, Action.PLAN_SET, plan.to_dict())
        with self._lock:
            self._cache = {k: v for k, v in self._cache.items() if k[0] != info.id}
        return plan

    def month_cap(self, org: str, month: Month) -> MonthCap:
        """The rollover chain's link for ``month``: allotment, carried in and out, effective
        cap, overage (provisional while the month is open)."""
        return self._month_cap(self._meter.store.org(org), month)

    def effective_cap(self, info: OrgInfo, month: Month) -> int:
        """The month's effective cap for the admission gate, reused for a few seconds (it
        changes only when earlier months change, or the plan does)."""
        key = (info.id, month_index(month))
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and now - hit[0] < CAP_TTL:
            return hit[1].effective_cap
        link = self._month_cap(info, month)
        with self._lock:
            self._cache[key] = (now, link)
        return link.effective_cap

    def _month_cap(self, info: OrgInfo, month: Month) -> MonthCap:
        plan = self.of(info)
        first = chain_start(plan, month)
        if plan.rollover.enabled and plan.term is None:  # the chain runs from the start
            first = min(Month.of(info.created_at, self._meter.zone(info)), month)
            counts = self._meter.store.counts(info)
            with self._meter.store.lock():
                active = [m for (p, m) in counts.months if p is None]
            if active:
                first = min(first, Month.from_index(min(active)))
        frozen = self._meter.frozen_mau(info)
        mau = {
            m: frozen[m] if m in frozen else self._meter.store.mau(info, m, None).mau
            for m in months_between(first, month)
        }
        return caps(plan, mau, [month])[-1]
