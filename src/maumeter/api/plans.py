"""Plans, caps and live usage under ``/api/v1``.

An org's secret key reads its plan, its caps and its live usage; only the operator's admin
token sets a plan (a customer must not raise its own cap). Answers have the shape the CLI's
``--json`` prints.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from maumeter.api import auth
from maumeter.api.query import MonthParam
from maumeter.core.months import Month

router = auth.api_router("billing")

Org = auth.Org
Admin = auth.Admin
Reader = auth.Reader


class Term(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    start: str = Field(description="first month of the contract, YYYY-MM")
    months: int = Field(ge=1, le=1200, description="length of the term in months")


class Rollover(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    enabled: bool = False
    max_carried: int | None = Field(None, ge=0, description="most MAU carried into a month")


class PlanBody(BaseModel):
    """Fields left out take the tier's defaults (the default tier when neither ``tier`` nor
    ``allotment`` is given)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    tier: str | None = Field(None, description="a tier of GET /api/v1/tiers")
    allotment: int | None = Field(None, ge=0, description="custom tier: the monthly MAU")
    policy: Literal["hard", "soft", "none"] | None = None
    timezone: str | None = Field(None, description="must be the org's own time zone")
    term: Term | None = None
    rollover: Rollover | None = None
    monthly_price: str | None = Field(None, description="decimal, e.g. '199.00'")
    overage_price: str | None = Field(None, description="decimal per MAU above the cap")


@router.get("/tiers")
async def tiers(request: Request, _: Reader) -> list[dict[str, Any]]:
    """The tier table plans are chosen from."""
    return auth.meter_of(request).tiers.to_list()


@router.get("/orgs/{org}/plan")
async def get_plan(request: Request, org: Org) -> dict[str, Any]:
    """The org's plan (the default tier when none was set)."""
    plan = await run_in_threadpool(auth.meter_of(request).plan, org.name)
    return {"org": org.name, **plan.to_dict()}


@router.put("/orgs/{org}/plan")
async def set_plan(request: Request, org: str, body: PlanBody, _: Admin) -> dict[str, Any]:
    """Set the org's plan (admin token). Admission enforces it from the next request."""
    meter = auth.meter_of(request)
    data = body.model_dump(exclude_none=True)
    plan = await run_in_threadpool(meter.set_plan, meter.org(org).name, data, auth.actor(request))
    return {"org": org, **plan.to_dict()}


@router.get("/orgs/{org}/usage/live")
async def live_usage(request: Request, org: Org) -> dict[str, Any]:
    """The current month: MAU, effective cap, % used, refused admissions, the projected
    month-end MAU with its 80 % interval and the projected day the cap is reached."""
    usage = await run_in_threadpool(auth.meter_of(request).live_usage, org.name)
    return usage.to_dict()


@router.get("/orgs/{org}/caps")
async def month_cap(request: Request, org: Org, month: MonthParam = None) -> dict[str, Any]:
    """A month's link of the rollover chain: allotment, carried in and out, effective cap,
    overage (provisional while the month is open)."""
    target = Month.parse(month) if month is not None else None
    link = await run_in_threadpool(auth.meter_of(request).month_cap, org.name, target)
    return {"org": org.name, **link.to_dict()}
