"""The data behind each dashboard page, as plain JSON-ready dicts (no markup).

One function per page, each reading the meter once per figure it shows; :mod:`figures` turns
the result into charts and the templates into HTML. Kept apart so the benchmark can time what a
page needs from the store (``bench/dashboard.py``) without the rendering, and so the live
overview polls the same function as the first render.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from maumeter.core.errors import InvalidInput, MaumeterError
from maumeter.core.months import Month

if TYPE_CHECKING:
    from maumeter.meter import Meter

__all__ = [
    "accounts",
    "explain",
    "lifecycle",
    "overview",
    "projects",
    "retention",
    "segments",
    "settings",
    "statements",
    "trends",
]

TREND_DAYS = 90
TREND_WEEKS = 26
INTERVALS = ("day", "week", "month")
LEVEL_LIST = 100  # persons listed per activity level


def overview(meter: Meter, org: str) -> dict[str, Any]:
    """The gauge (MAU against the effective cap, projection, breach day), alerts, refusals,
    identified against anonymous, impressions against MAU."""
    live = meter.live_usage(org).to_dict()
    usage = meter.mau(org)
    return {
        "org": org,
        "live": live,
        "impressions": usage.impressions,
        "alerts": meter.alerts.describe(org)["fired"],
    }


def trends(meter: Meter, org: str) -> dict[str, Any]:
    """DAU, WAU, MAU, rolling 30 with the forecast band; stickiness; growth; seasonality."""
    a = meter.analytics
    today = a.today(org)
    first = today - timedelta(days=TREND_DAYS - 1)
    daily = {
        metric: [p.to_dict() for p in a.series(org, metric, first, today)]
        for metric in ("dau", "rolling7", "rolling30")
    }
    weeks = [
        p.to_dict() for p in a.series(org, "wau", today - timedelta(weeks=TREND_WEEKS - 1), today)
    ]
    history = [{"month": str(m), "mau": n} for m, n in a.history(org)]
    current = Month.of_date(today)
    forecast = a.forecast(org)
    daily_stickiness, monthly = a.stickiness(org, first, today)
    return {
        "org": org,
        "today": today.isoformat(),
        "daily": daily,
        "weekly": weeks,
        "monthly": history,
        "current": {"month": str(current), "mau": a.mau(org, current)},
        "forecast": forecast,
        "stickiness": {
            "daily": [d.to_dict() for d in daily_stickiness],
            "monthly": [m.to_dict() for m in monthly],
        },
        "frequency": a.frequency(org, today - timedelta(days=27), today).to_dict(),
        "growth": a.growth(org).to_dict(),
        "seasonality": a.seasonality(org, "daily").to_dict(),
        "seasonality_monthly": a.seasonality(org, "monthly").to_dict(),
    }


def _interval(value: str | None, default: str) -> str:
    value = value or default
    if value not in INTERVALS:
        raise InvalidInput.field("interval", f"expected day, week or month, got {value!r}")
    return value


def lifecycle(meter: Meter, org: str, interval: str | None = None) -> dict[str, Any]:
    unit = _interval(interval, "week")
    rows = meter.analytics.lifecycle(org, unit)
    return {"org": org, "interval": unit, "rows": [r.to_dict() for r in rows]}


def retention(meter: Meter, org: str, interval: str | None = None) -> dict[str, Any]:
    unit = _interval(interval, "month")
    cohorts = meter.analytics.retention(org, unit)
    return {"org": org, "interval": unit, "cohorts": [c.to_dict() for c in cohorts]}


def segments(
    meter: Meter, org: str, trait: str | None = None, month: Month | None = None
) -> dict[str, Any]:
    """Devices, one trait (default ``country``) and the activity levels with their persons."""
    a = meter.analytics
    month = month or meter.current_month(org)
    trait = trait or "country"
    levels = a.levels(org)
    listed = {
        level: a.person_keys(org, levels.members(level)[:LEVEL_LIST])
        for level in ("highly_active", "active", "at_risk", "dormant")
    }
    return {
        "org": org,
        "month": str(month),
        "trait": trait,
        "devices": a.segments.devices(org, month).to_dict(),
        "traits": a.segments.traits(org, month, trait).to_dict(),
        "levels": levels.to_dict(),
        "persons": listed,
    }


def projects(meter: Meter, org: str, month: Month | None = None) -> dict[str, Any]:
    """MAU per project, and per experiment and flag (the events' properties, as statements
    count them) for a month, the current one by default."""
    month = month or meter.current_month(org)
    a = meter.analytics
    first, last = month.first_day(), month.last_day()
    by_project = [
        {"project": p.name, "mau": meter.mau(org, month, p.name).mau} for p in meter.projects(org)
    ]
    keys = {"experiment": meter.statements.experiment_key, "flag": meter.statements.flag_key}
    found: dict[str, list[dict[str, Any]]] = {}
    for name, key in keys.items():
        (point,) = a.series(org, "mau", first, min(last, a.today(org)), by=f"property:{key}")
        found[name] = [
            {"value": v, "mau": n} for v, n in point.breakdown or () if v is not None and n
        ]
    return {
        "org": org,
        "month": str(month),
        "mau": meter.mau(org, month).mau,
        "projects": by_project,
        "experiments": found["experiment"],
        "flags": found["flag"],
    }


def statements(meter: Meter, org: str) -> dict[str, Any]:
    found = meter.statements.statements(org)
    return {"org": org, "statements": [s.to_dict() for s in reversed(found)]}


def explain(
    meter: Meter, org: str, person: str | None, month: Month | None = None
) -> dict[str, Any]:
    if not person:
        return {"org": org, "person": None, "explanation": None}
    try:
        found = meter.statements.explain(org, person, month).to_dict()
    except MaumeterError as exc:
        return {"org": org, "person": person, "explanation": None, "error": exc.message}
    return {"org": org, "person": person, "explanation": found}


def accounts(meter: Meter) -> dict[str, Any]:
    return {"accounts": meter.analytics.accounts()}


def settings(meter: Meter, org: str) -> dict[str, Any]:
    keys = [meter.describe_key(k) for k in meter.org_keys(org)]
    return {
        "org": org,
        "plan": meter.plan(org).to_dict(),
        "tiers": meter.tiers.to_list(),
        "alerts": meter.alerts.settings(org).to_dict(),
        "webhooks": [w.to_dict() for w in meter.webhooks.list(org)],
        "deliveries": [d.to_dict() for d in meter.webhooks.deliveries(org, limit=50)],
        "projects": [meter.describe_project(p) for p in meter.projects(org)],
        "rules": {p.name: p.activity.to_json() for p in meter.projects(org)},
        "api_keys": [k for k in keys if k.get("active", True)],
    }
