"""The query API under ``/api/v1``: usage of a month, as ``maumeter mau --json`` prints it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from maumeter.core.months import Month

router = APIRouter(prefix="/api/v1", tags=["query"])


@router.get("/orgs/{org}/usage")
async def usage(
    request: Request,
    org: str,
    month: str | None = Query(
        None, description="YYYY-MM; default: the current month in the org's zone"
    ),
    project: str | None = Query(None, description="one project; default: the org's pool"),
) -> dict[str, Any]:
    meter = request.app.state.meter
    when = Month.parse(month) if month is not None else None
    result = await run_in_threadpool(meter.mau, org, when, project)
    return result.to_dict()
