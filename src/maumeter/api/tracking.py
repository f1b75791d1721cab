"""The Segment (and RudderStack) HTTP tracking API: ``/v1/batch`` and the single-event paths.

Wire-compatible with Segment's and RudderStack's libraries: the write key comes as the HTTP Basic
user (password empty) or as ``writeKey`` in the body; a batch's top-level ``context`` and
``integrations`` are merged into each item; gzip bodies are accepted (RudderStack gzips by
default). The answer is 200 whenever anything was accepted, and says what was accepted, what was
a duplicate and what was rejected (by index, with every problem): never a 200 that silently drops.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from maumeter.api import auth, body, columnar
from maumeter.core.errors import InvalidInput, Problem
from maumeter.meter import Meter
from maumeter.results import IngestResult
from maumeter.sources import NotJson
from maumeter.store.duckdb import ProjectInfo

router = APIRouter(tags=["tracking"])

SINGLE = ("track", "identify", "page", "screen", "group", "alias")
BATCH_LEVEL = ("context", "integrations")


def guard_sizes(records: list[Any]) -> list[Any]:
    """Records over 32 KB become rejections in place (their neighbours are still taken)."""
    body.check_batch(records)
    too_big = body.oversized(records)
    if not too_big:
        return records
    return [
        NotJson(Problem("record", f"at most {body.MAX_EVENT} bytes per event, got {too_big[i]}"))
        if i in too_big
        else record
        for i, record in enumerate(records)
    ]


def answer(meter: Meter, project: ProjectInfo, records: list[Any], **kwargs: Any) -> JSONResponse:
    """Ingest and encode: 200 when anything was accepted (or already stored), else 400."""
    return encode(meter.ingest_project(project, guard_sizes(records), **kwargs), len(records))


def encode(result: IngestResult, records: int) -> JSONResponse:
    """200 when anything was accepted (or already stored), else 400."""
    payload = {"success": result.accepted > 0 or result.duplicates > 0, **result.to_dict()}
    if records and not result.accepted and not result.duplicates:
        payload["error"] = "InvalidInput"
        payload["message"] = "every record was rejected"
        return JSONResponse(payload, status_code=400)
    return JSONResponse(payload)


def batch_defaults(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The batch-level values merged into each item (the item's own keys win)."""
    found: dict[str, Any] = {}
    for name in BATCH_LEVEL:
        value = payload.get(name)
        if value is None:
            continue
        if not isinstance(value, Mapping):
            raise InvalidInput.field(name, "expected a JSON object")
        found[name] = value
    if isinstance(payload.get("sentAt"), str):  # Segment's libraries stamp the batch
        found["sentAt"] = payload["sentAt"]
    return found


@router.post("/v1/batch")
async def batch(request: Request) -> JSONResponse:
    """Up to 2,500 events of any type; Segment's and RudderStack's libraries send these."""
    data = await body.read_body(request)
    meter: Meter = request.app.state.meter
    received = meter.clock()
    decoded = columnar.decode_batch(data, received)
    if decoded is not None:  # the everyday body: no thread held while the commit is awaited
        token = auth.presented(request) or decoded.write_key
        project = auth.project_for_token(request, token)
        body.check_batch(range(decoded.records))
        others = decoded.others
        if others:
            checked = guard_sizes([record for _, record in others])
            others = [(index, record) for (index, _), record in zip(others, checked, strict=True)]
        future = meter.ingest_columns(project, decoded.batch, others, decoded.defaults, received)
        return encode(await asyncio.wrap_future(future), decoded.records)
    payload = body.decode_json(data)
    project = auth.write_project(request, payload)
    if not isinstance(payload, dict) or not isinstance(payload.get("batch"), list):
        raise InvalidInput.field("batch", "expected an array of events")
    defaults = batch_defaults(payload)
    return await run_in_threadpool(
        answer, request.app.state.meter, project, payload["batch"], defaults=defaults
    )


def _single(kind: str) -> Any:
    async def endpoint(request: Request) -> JSONResponse:
        payload = await body.read_json(request)
        project = auth.write_project(request, payload)
        if not isinstance(payload, dict):
            raise InvalidInput.field("body", "expected a JSON object")
        return await run_in_threadpool(
            answer, request.app.state.meter, project, [payload], default_type=kind
        )

    endpoint.__name__ = kind
    endpoint.__doc__ = f"One {kind} event."
    return endpoint


for _kind in SINGLE:
    router.add_api_route(f"/v1/{_kind}", _single(_kind), methods=["POST"], name=_kind)
