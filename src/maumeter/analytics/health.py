"""Account health, the vendor's view across orgs: the inputs of :mod:`maumeter.core.health`.

For each org, as of today in its zone:

* ``monthly_mau`` — the MAU of the last :data:`MONTHS` complete months (the 3-month slope
  reads the last three);
* ``mau`` / ``projected_mau`` / ``cap`` — the live usage of the current month (MAU so far, the
  accrual projection of its end, the effective cap; a hard policy marks refusals as friction);
* ``stickiness`` — the mean DAU/MAU of the last complete month;
* ``at_risk_share`` — at-risk persons over the persons classified today (the activity levels'
  90-day population);
* ``growth_mom`` — the last complete month against the one before.

The score, its reasons and the churn flag are the pure core's; this module only gathers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from maumeter.analytics import engagement
from maumeter.analytics.outlook import history
from maumeter.core.health import Health, HealthInputs, health, rank
from maumeter.core.months import Month

if TYPE_CHECKING:
    from maumeter.analytics.queries import Analytics

__all__ = ["MONTHS", "account", "accounts", "inputs"]

MONTHS = 6


def inputs(analytics: Analytics, org: str) -> HealthInputs:
    past = history(analytics, org)[-MONTHS:]
    monthly = tuple(mau for _, mau in past)
    live = analytics.meter.live_usage(org)
    stickiness = None
    if past:
        month: Month = past[-1][0]
        days = analytics.days(org)
        daily = engagement.daily_stickiness(days, month.first_day(), month.last_day())
        stickiness = engagement.monthly_stickiness(daily)[0].ratio
    levels = analytics.levels(org)
    population = levels.population
    at_risk = levels.counts["at_risk"] / population if population else None
    growth_mom = None
    if len(monthly) >= 2 and monthly[-2] > 0:
        growth_mom = monthly[-1] / monthly[-2] - 1
    return HealthInputs(
        org=org,
        monthly_mau=monthly,
        mau=live.mau,
        projected_mau=live.projection.expected if live.projection else None,
        cap=live.effective_cap,
        hard_cap=live.policy == "hard",
        stickiness=stickiness,
        at_risk_share=at_risk,
        growth_mom=growth_mom,
    )


def _answer(found: Health, given: HealthInputs) -> dict[str, Any]:
    return {
        **found.to_dict(),
        "inputs": {
            "monthly_mau": list(given.monthly_mau),
            "mau": given.mau,
            "projected_mau": given.projected_mau,
            "cap": given.cap,
            "hard_cap": given.hard_cap,
            "stickiness": given.stickiness,
            "at_risk_share": given.at_risk_share,
            "growth_mom": given.growth_mom,
        },
    }


def account(analytics: Analytics, org: str) -> dict[str, Any]:
    """One org's health: score, churn flag, reasons, components and the inputs read."""
    given = inputs(analytics, org)
    return _answer(health(given), given)


def accounts(analytics: Analytics) -> list[dict[str, Any]]:
    """Every org's health, riskiest first (churn risk, then lowest score, then name)."""
    given = {info.name: inputs(analytics, info.name) for info in analytics.meter.orgs()}
    return [_answer(h, given[h.org]) for h in rank(health(g) for g in given.values())]
