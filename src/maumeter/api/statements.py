"""The statements API under ``/api/v1/orgs/{org}``: close a month, read frozen statements and
their counted-person lists, explain a person, anonymous inflation.

An org's secret key reads and closes its own org; the admin token any. Answers have the shape
the CLI's ``--json`` prints.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Path as PathParam
from fastapi import Query, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from maumeter.api import auth
from maumeter.api.query import MONTH_PATTERN, MonthParam
from maumeter.core.months import Month
from maumeter.meter import Meter

router = auth.api_router("statements")

Org = auth.Org
MonthPath = Annotated[
    str,
    PathParam(
        description="YYYY-MM, a month in the org's time zone",
        pattern=MONTH_PATTERN,
    ),
]


@router.post("/orgs/{org}/statements/{month}/close")
async def close(request: Request, org: Org, month: MonthPath) -> dict[str, Any]:
    """Close an ended month: freeze its statement and counted-person list (closing a closed
    month returns its statement as frozen)."""
    meter = auth.meter_of(request)
    found = await run_in_threadpool(
        meter.statements.close, org.name, Month.parse(month), None, auth.actor(request)
    )
    return found.to_dict()


@router.get("/orgs/{org}/statements")
async def statements(request: Request, org: Org) -> list[dict[str, Any]]:
    """Every closed month's statement, oldest first, each with its restatements."""
    found = await run_in_threadpool(auth.meter_of(request).statements.statements, org.name)
    return [s.to_dict() for s in found]


@router.get("/orgs/{org}/statements/{month}")
async def statement(request: Request, org: Org, month: MonthPath) -> dict[str, Any]:
    """A closed month's frozen statement and the restatements made since."""
    found = await run_in_threadpool(
        auth.meter_of(request).statements.get, org.name, Month.parse(month)
    )
    return found.to_dict()


@router.get(
    "/orgs/{org}/statements/{month}/persons",
    responses={200: {"content": {"text/csv": {}, "application/vnd.apache.parquet": {}}}},
)
async def persons(
    request: Request,
    org: Org,
    month: MonthPath,
    format: Annotated[Literal["csv", "parquet"], Query()] = "csv",
) -> FileResponse:
    """The frozen counted-person list (exactly MAU rows, sorted by person key; the statement's
    checksum is the SHA-256 of the keys, one per line)."""
    return await statement_file(auth.meter_of(request), org.name, Month.parse(month), format)


async def statement_file(meter: Meter, org: str, month: Month, fmt: str) -> FileResponse:
    """A closed month's counted-person list as a download, written by the statements'
    exporter into a temporary file removed once sent (the API's and the dashboard's)."""
    handle, name = tempfile.mkstemp(suffix="." + fmt, prefix="maumeter-statement-")
    os.close(handle)
    path = Path(name)
    try:
        await run_in_threadpool(meter.statements.export, org, month, path, fmt)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    media = "text/csv" if fmt == "csv" else "application/vnd.apache.parquet"
    return FileResponse(
        path,
        media_type=media,
        filename=f"{org}-{month}-persons.{fmt}",
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


@router.get("/orgs/{org}/explain")
async def explain(
    request: Request,
    org: Org,
    person: Annotated[str, Query(min_length=1, max_length=255, description="any id of the person")],
    month: MonthParam = None,
) -> dict[str, Any]:
    """Why a person was or was not counted in a month: the first qualifying event and the rule
    that matched it, or the reason they were not (internal, bot, refused, no activity...)."""
    found = await run_in_threadpool(
        auth.meter_of(request).statements.explain, org.name, person, Month.optional(month)
    )
    return found.to_dict()


@router.get("/orgs/{org}/inflation")
async def inflation(request: Request, org: Org, month: MonthParam = None) -> dict[str, Any]:
    """Anonymous inflation of a month: anonymous share, persons identified later, and the MAU
    had every anonymous person been identified on first sight."""
    found = await run_in_threadpool(
        auth.meter_of(request).statements.inflation, org.name, Month.optional(month)
    )
    return found.to_dict()
