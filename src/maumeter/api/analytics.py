"""The analytics API under ``/api/v1/orgs/{org}``: series, stickiness, frequency, lifecycle,
retention, activity levels (and the persons behind them).

Thin: parameters are typed here (so OpenAPI documents them), the answer is
:mod:`maumeter.analytics.answers`, the same document ``maumeter <name> ORG --json`` prints. An
org's secret key reads its own org; the admin token any.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Query, Request
from starlette.concurrency import run_in_threadpool

from maumeter.analytics import answers
from maumeter.api import auth
from maumeter.api.query import MonthParam, ProjectParam
from maumeter.core.months import Month

router = auth.api_router("analytics")

Org = auth.Org
From = Annotated[
    date | None, Query(alias="from", description="first local day, YYYY-MM-DD; default varies")
]
To = Annotated[date | None, Query(alias="to", description="last local day; default: today")]
Interval = Annotated[Literal["day", "week", "month"], Query(description="interval unit")]
WeekStart = Annotated[
    Literal["monday", "sunday"], Query(description="first day of a week (default Monday)")
]
Level = Literal["highly_active", "active", "at_risk", "dormant"]
Moved = Literal["highly_active", "active", "at_risk", "dormant", "absent"]
Positive = Annotated[int | None, Query(ge=1, le=3660)]


async def _answer(request: Request, name: str, *args: Any, **kwargs: Any) -> Any:
    return await run_in_threadpool(answers.ANSWERS[name], auth.meter_of(request), *args, **kwargs)


@router.get("/orgs/{org}/series")
async def series(
    request: Request,
    org: Org,
    metric: Annotated[Literal["dau", "wau", "mau", "rolling7", "rolling30"], Query()],
    start: From = None,
    end: To = None,
    project: ProjectParam = None,
    week_start: WeekStart = "monday",
    by: Annotated[
        str | None,
        Query(
            description="split each point: trait:NAME (latest value per person), "
            "property:NAME (event property) or device",
            max_length=200,
        ),
    ] = None,
) -> list[dict[str, Any]]:
    """DAU per day, WAU per week, MAU per calendar month, or rolling 7/30 days for each day
    (default: the last 30 days)."""
    return await _answer(  # type: ignore[no-any-return]
        request, "series", org.name, metric, start, end, project, week_start, by
    )


@router.get("/orgs/{org}/stickiness")
async def stickiness(
    request: Request, org: Org, start: From = None, end: To = None, project: ProjectParam = None
) -> dict[str, Any]:
    """DAU/MAU for each day (MAU of the day's calendar month) and its mean per month."""
    return await _answer(request, "stickiness", org.name, start, end, project)  # type: ignore[no-any-return]


@router.get("/orgs/{org}/frequency")
async def frequency(
    request: Request,
    org: Org,
    start: From = None,
    end: To = None,
    interval: Annotated[Literal["day", "week"], Query()] = "day",
    project: ProjectParam = None,
    week_start: WeekStart = "monday",
) -> dict[str, Any]:
    """How many persons were active on exactly k distinct days (or weeks) of the range."""
    return await _answer(  # type: ignore[no-any-return]
        request, "frequency", org.name, start, end, interval, project, week_start
    )


@router.get("/orgs/{org}/lifecycle")
async def lifecycle(
    request: Request,
    org: Org,
    interval: Interval = "month",
    start: From = None,
    end: To = None,
    project: ProjectParam = None,
    week_start: WeekStart = "monday",
) -> list[dict[str, Any]]:
    """New, returning, resurrecting and dormant persons per interval (default: the last 12)."""
    return await _answer(  # type: ignore[no-any-return]
        request, "lifecycle", org.name, interval, start, end, project, week_start
    )


@router.get("/orgs/{org}/retention")
async def retention(
    request: Request,
    org: Org,
    interval: Interval = "month",
    start: From = None,
    end: To = None,
    project: ProjectParam = None,
    week_start: WeekStart = "monday",
    horizon: Annotated[int | None, Query(ge=0, le=3660)] = None,
) -> list[dict[str, Any]]:
    """Cohorts by first interval of activity; for each, how many are active k intervals later."""
    return await _answer(  # type: ignore[no-any-return]
        request, "retention", org.name, interval, start, end, project, week_start, horizon
    )


@router.get("/orgs/{org}/levels")
async def levels(
    request: Request,
    org: Org,
    day: Annotated[date | None, Query(description="local day; default today")] = None,
    project: ProjectParam = None,
    window: Positive = None,
    highly_active_days: Positive = None,
    decline_ratio: Annotated[float | None, Query(ge=0, le=1)] = None,
    unseen_days: Positive = None,
    population_days: Positive = None,
) -> dict[str, Any]:
    """Highly active / active / at risk / dormant persons on a day, and the movement since
    one window earlier. Thresholds default to the issue's (12 of 28 days, 14 days unseen…)."""
    return await _answer(  # type: ignore[no-any-return]
        request,
        "levels",
        org.name,
        day,
        project,
        window,
        highly_active_days,
        decline_ratio,
        unseen_days,
        population_days,
    )


@router.get("/orgs/{org}/levels/persons")
async def level_persons(
    request: Request,
    org: Org,
    level: Annotated[Moved, Query()],
    day: Annotated[date | None, Query()] = None,
    project: ProjectParam = None,
    previous: Annotated[Moved | None, Query(description="level one window earlier")] = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
    window: Positive = None,
    highly_active_days: Positive = None,
    decline_ratio: Annotated[float | None, Query(ge=0, le=1)] = None,
    unseen_days: Positive = None,
    population_days: Positive = None,
) -> dict[str, Any]:
    """The persons at a level (or who moved from ``previous`` to it), sorted, one page."""
    return await _answer(  # type: ignore[no-any-return]
        request,
        "levels/persons",
        org.name,
        level,
        day,
        project,
        previous,
        limit,
        offset,
        window,
        highly_active_days,
        decline_ratio,
        unseen_days,
        population_days,
    )


By = Annotated[
    str, Query(description="device, or trait:NAME (latest value per person)", max_length=210)
]


@router.get("/orgs/{org}/segments")
async def segments(
    request: Request,
    org: Org,
    by: By,
    month: MonthParam = None,
    project: ProjectParam = None,
) -> dict[str, Any]:
    """A month's MAU broken down by a trait's latest value (cells sum to the MAU) or by device
    type (mobile / tablet / desktop / unknown; a person on two is in two cells)."""
    return await _answer(request, "segments", org.name, by, Month.optional(month), project)  # type: ignore[no-any-return]


@router.get("/orgs/{org}/segments/persons")
async def segment_persons(
    request: Request,
    org: Org,
    by: By,
    value: Annotated[str | None, Query(description="the cell; omit for no value")] = None,
    month: MonthParam = None,
    project: ProjectParam = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """The persons behind one segment cell, sorted by key, one page."""
    return await _answer(  # type: ignore[no-any-return]
        request,
        "segments/persons",
        org.name,
        by,
        value,
        Month.optional(month),
        project,
        limit,
        offset,
    )


@router.get("/orgs/{org}/growth")
async def growth(request: Request, org: Org, project: ProjectParam = None) -> dict[str, Any]:
    """MoM and YoY growth of every complete month, and the compound monthly growth rate."""
    return await _answer(request, "growth", org.name, project)  # type: ignore[no-any-return]


@router.get("/orgs/{org}/seasonality")
async def seasonality(
    request: Request,
    org: Org,
    series: Annotated[Literal["daily", "monthly"], Query()] = "daily",
    project: ProjectParam = None,
) -> dict[str, Any]:
    """STL decomposition of daily DAU (weekly season) or monthly MAU (yearly season) when two
    full seasons exist; otherwise ``available: false`` and the reason."""
    return await _answer(request, "seasonality", org.name, series, project)  # type: ignore[no-any-return]


@router.get("/orgs/{org}/forecast")
async def forecast(
    request: Request,
    org: Org,
    horizon: Annotated[int, Query(ge=1, le=120)] = 12,
    level: Annotated[float, Query(gt=0, lt=1)] = 0.8,
) -> dict[str, Any]:
    """This month's end MAU from its accrual, the next months by exponential smoothing with
    intervals, the month the cap is reached and the tier that fits."""
    return await _answer(request, "forecast", org.name, horizon, level)  # type: ignore[no-any-return]


@router.get("/orgs/{org}/health")
async def health(request: Request, org: Org) -> dict[str, Any]:
    """The org's account health: a 0–100 score, churn-risk flag, reasons and inputs."""
    return await _answer(request, "health", org.name)  # type: ignore[no-any-return]


@router.get("/accounts")
async def accounts(request: Request, _: auth.Admin) -> list[dict[str, Any]]:
    """Every org's account health, riskiest first (operator view; admin token)."""
    meter = auth.meter_of(request)
    return await run_in_threadpool(answers.accounts, meter)


@router.post("/worksheet")
async def worksheet(request: Request, _: auth.Reader, body: dict[str, Any]) -> dict[str, Any]:
    """Optimizely's MAU worksheet as an estimator: channels (monthly unique visitors, peak,
    share covered by the implementation, bot share), annual growth, overlap → MAU and tier."""
    return await run_in_threadpool(answers.worksheet, auth.meter_of(request), body)
