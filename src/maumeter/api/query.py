"""The query API under ``/api/v1/orgs/{org}``: usage, series, counted persons, verify.

Each answer has the shape the CLI's ``--json`` prints, so a script can move between them. An
org's secret key reads its own org; the admin token reads any.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from maumeter.api import auth
from maumeter.core.months import Month
from maumeter.meter import PERSON_FIELDS, ActivePerson

router = auth.api_router("query")

Org = auth.Org
# YYYY-MM, year 0001 on (a month the core can hold).
MONTH_PATTERN = (
    r"^([0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})-(0[1-9]|1[0-2])$"
)
MonthParam = Annotated[
    str | None,
    Query(
        description="YYYY-MM; default: the current month in the org's time zone",
        pattern=MONTH_PATTERN,
    ),
]
ProjectParam = Annotated[str | None, Query(description="one project; default: the org's pool")]


@router.get("/orgs/{org}/usage")
async def usage(
    request: Request, org: Org, month: MonthParam = None, project: ProjectParam = None
) -> dict[str, Any]:
    """MAU of a month (identified, anonymous, impressions), the cap, the policy and how many
    persons the admission gate refused."""
    result = await run_in_threadpool(
        auth.meter_of(request).mau, org.name, Month.optional(month), project
    )
    return result.to_dict()


def _csv(persons: list[ActivePerson]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=PERSON_FIELDS)
    writer.writeheader()
    for n, person in enumerate(persons, 1):
        writer.writerow(person.csv_row())
        if n % 1000 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _json(persons: list[ActivePerson]) -> Iterator[str]:
    yield "["
    for n, person in enumerate(persons):
        yield ("," if n else "") + json.dumps(person.to_dict(), ensure_ascii=False)
    yield "]"


@router.get(
    "/orgs/{org}/persons",
    responses={200: {"content": {"text/csv": {}, "application/json": {}}}},
)
async def persons(
    request: Request,
    org: Org,
    month: MonthParam = None,
    project: ProjectParam = None,
    format: Annotated[Literal["csv", "json"], Query()] = "json",
) -> StreamingResponse:
    """The counted persons of a month, each with the event that first counted them (the list
    that reconciles with the count), streamed as CSV or JSON."""
    found = await run_in_threadpool(
        auth.meter_of(request).active_persons, org.name, Month.optional(month), project
    )
    if format == "csv":
        return StreamingResponse(_csv(found), media_type="text/csv")
    return StreamingResponse(_json(found), media_type="application/json")


@router.post("/orgs/{org}/verify")
async def verify(request: Request, org: Org, month: MonthParam = None) -> dict[str, Any]:
    """Recount from the raw event log and compare with the live counts: ``equal``, or the
    precise difference per month and scope."""
    result = await run_in_threadpool(auth.meter_of(request).verify, org.name, Month.optional(month))
    return result.to_dict()
