"""The JSON answers of the analytics, shared by the HTTP API and the CLI's in-process backend.

Each function takes the meter, the org and typed arguments, and returns what both faces print:
``GET /api/v1/orgs/{org}/<name>`` and ``maumeter <name> ORG --json`` give the same document,
so a script can move between them. The CLI going through a running server sends the same
arguments as query parameters (``start``/``end`` as ``from``/``to``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from maumeter.analytics.breakdown import parse_by
from maumeter.core.errors import InvalidInput
from maumeter.core.levels import LevelRules
from maumeter.core.months import Month

if TYPE_CHECKING:
    from maumeter.meter import Meter

__all__ = ["ANSWERS", "accounts", "level_rules", "worksheet"]


def series(
    meter: Meter,
    org: str,
    metric: str,
    start: date | None = None,
    end: date | None = None,
    project: str | None = None,
    week_start: str = "monday",
    by: str | None = None,
) -> list[dict[str, Any]]:
    points = meter.analytics.series(org, metric, start, end, project, week_start, by=by)
    return [p.to_dict() for p in points]


def stickiness(
    meter: Meter,
    org: str,
    start: date | None = None,
    end: date | None = None,
    project: str | None = None,
) -> dict[str, Any]:
    daily, monthly = meter.analytics.stickiness(org, start, end, project)
    return {"daily": [d.to_dict() for d in daily], "monthly": [m.to_dict() for m in monthly]}


def frequency(
    meter: Meter,
    org: str,
    start: date | None = None,
    end: date | None = None,
    interval: str = "day",
    project: str | None = None,
    week_start: str = "monday",
) -> dict[str, Any]:
    found = meter.analytics.frequency(org, start, end, interval, project, week_start)
    return {**found.to_dict(), "persons": found.persons()}


def lifecycle(
    meter: Meter,
    org: str,
    interval: str = "month",
    start: date | None = None,
    end: date | None = None,
    project: str | None = None,
    week_start: str = "monday",
) -> list[dict[str, Any]]:
    rows = meter.analytics.lifecycle(org, interval, start, end, project, week_start)
    return [r.to_dict() for r in rows]


def retention(
    meter: Meter,
    org: str,
    interval: str = "month",
    start: date | None = None,
    end: date | None = None,
    project: str | None = None,
    week_start: str = "monday",
    horizon: int | None = None,
) -> list[dict[str, Any]]:
    cohorts = meter.analytics.retention(org, interval, start, end, project, week_start, horizon)
    return [c.to_dict() for c in cohorts]


def level_rules(
    window: int | None = None,
    highly_active_days: int | None = None,
    decline_ratio: float | None = None,
    unseen_days: int | None = None,
    population_days: int | None = None,
) -> LevelRules | None:
    """Rules from optional overrides of the defaults; None when none is given."""
    given = {
        k: v
        for k, v in {
            "window": window,
            "highly_active_days": highly_active_days,
            "decline_ratio": decline_ratio,
            "unseen_days": unseen_days,
            "population_days": population_days,
        }.items()
        if v is not None
    }
    if not given:
        return None
    try:
        return LevelRules(**given)
    except ValueError as exc:
        name = str(exc).split(" ", 1)[0]
        field = name if name in given else "rules"
        raise InvalidInput.field(field, str(exc)) from None


def levels(
    meter: Meter,
    org: str,
    day: date | None = None,
    project: str | None = None,
    window: int | None = None,
    highly_active_days: int | None = None,
    decline_ratio: float | None = None,
    unseen_days: int | None = None,
    population_days: int | None = None,
) -> dict[str, Any]:
    rules = level_rules(window, highly_active_days, decline_ratio, unseen_days, population_days)
    return meter.analytics.levels(org, day, project, rules).to_dict()


def level_persons(
    meter: Meter,
    org: str,
    level: str,
    day: date | None = None,
    project: str | None = None,
    previous: str | None = None,
    limit: int = 1000,
    offset: int = 0,
    window: int | None = None,
    highly_active_days: int | None = None,
    decline_ratio: float | None = None,
    unseen_days: int | None = None,
    population_days: int | None = None,
) -> dict[str, Any]:
    rules = level_rules(window, highly_active_days, decline_ratio, unseen_days, population_days)
    return meter.analytics.level_persons(org, level, day, project, rules, previous, limit, offset)


def segments(
    meter: Meter,
    org: str,
    by: str,
    month: Month | None = None,
    project: str | None = None,
) -> dict[str, Any]:
    month = month or meter.current_month(org)
    if by == "device":
        return meter.analytics.segments.devices(org, month, project).to_dict()
    kind, name = parse_by(by)
    if kind != "trait":
        raise InvalidInput.field("by", f"segments are by trait:NAME or device, got {by!r}")
    return meter.analytics.segments.traits(org, month, name or "", project).to_dict()


def segment_persons(
    meter: Meter,
    org: str,
    by: str,
    value: str | None = None,
    month: Month | None = None,
    project: str | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> dict[str, Any]:
    month = month or meter.current_month(org)
    found = meter.analytics.segments.persons(org, month, by, value, project, limit, offset)
    return found.to_dict()


def growth(meter: Meter, org: str, project: str | None = None) -> dict[str, Any]:
    return {"org": org, "project": project, **meter.analytics.growth(org, project).to_dict()}


def seasonality(
    meter: Meter, org: str, series: str = "daily", project: str | None = None
) -> dict[str, Any]:
    found = meter.analytics.seasonality(org, series, project)
    return {"org": org, "project": project, "series": series, **found.to_dict()}


def forecast(meter: Meter, org: str, horizon: int = 12, level: float = 0.8) -> dict[str, Any]:
    return meter.analytics.forecast(org, horizon, level)


def health(meter: Meter, org: str) -> dict[str, Any]:
    return meter.analytics.health(org)


def accounts(meter: Meter) -> list[dict[str, Any]]:
    return meter.analytics.accounts()


def worksheet(meter: Meter, data: Any) -> dict[str, Any]:
    return meter.analytics.worksheet(data).to_dict()


ANSWERS: dict[str, Callable[..., Any]] = {
    "series": series,
    "stickiness": stickiness,
    "frequency": frequency,
    "lifecycle": lifecycle,
    "retention": retention,
    "levels": levels,
    "levels/persons": level_persons,
    "segments": segments,
    "segments/persons": segment_persons,
    "growth": growth,
    "seasonality": seasonality,
    "forecast": forecast,
    "health": health,
}
