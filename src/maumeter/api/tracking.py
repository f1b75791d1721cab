"""The Segment HTTP tracking API: ``/v1/batch`` and the single-event endpoints.

Wire-compatible with Segment's libraries: the write key comes as the HTTP Basic user (password
empty) or as ``writeKey`` in the body; a batch's top-level ``context`` is merged into each item;
gzip bodies are accepted. The answer says what was accepted, what was a duplicate and what was
rejected (by index, with every problem), so a client never gets a 200 that silently drops data.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import zlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from maumeter.core import wire
from maumeter.core.errors import InvalidInput, Unauthorized
from maumeter.meter import Meter
from maumeter.store.duckdb import ProjectInfo

router = APIRouter(tags=["tracking"])

MAX_BODY = 500 * 1024  # Segment's limit per request, after decompression
SINGLE = ("track", "identify", "page", "screen", "group", "alias")


async def read_json(request: Request) -> Any:
    raw = await request.body()
    encoding = request.headers.get("content-encoding", "").lower()
    if encoding == "gzip" or raw[:2] == b"\x1f\x8b":
        try:
            decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
            raw = decoder.decompress(raw, MAX_BODY + 1)
        except (zlib.error, gzip.BadGzipFile) as exc:
            raise InvalidInput.field("body", f"not valid gzip: {exc}") from None
    if len(raw) > MAX_BODY:
        return JSONResponse(
            {"error": "PayloadTooLarge", "message": f"body: at most {MAX_BODY} bytes are accepted"},
            status_code=413,
        )
    try:
        return wire.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput.field("body", f"expected a JSON object: {exc}") from None


def write_key(request: Request, body: Any) -> str:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthorized("authorization: not valid HTTP Basic credentials") from None
        return decoded.split(":", 1)[0]
    if isinstance(body, dict) and isinstance(body.get("writeKey"), str):
        return body["writeKey"]
    raise Unauthorized("a write key is required: HTTP Basic user, or writeKey in the body")


def project_for(meter: Meter, key: str) -> ProjectInfo:
    found = meter.project_for_key(key) if key else None
    if found is None:
        raise Unauthorized("unknown write key")
    return found


def answer(meter: Meter, project: ProjectInfo, records: list[Any], **kwargs: Any) -> JSONResponse:
    result = meter.ingest_project(project, records, **kwargs)
    body = {"success": result.accepted > 0 or result.duplicates > 0, **result.to_dict()}
    if records and not result.accepted and not result.duplicates:
        body["error"] = "InvalidInput"
        body["message"] = "every record was rejected"
        return JSONResponse(body, status_code=400)
    return JSONResponse(body)


@router.post("/v1/batch")
async def batch(request: Request) -> JSONResponse:
    body = await read_json(request)
    if isinstance(body, JSONResponse):
        return body
    project = project_for(request.app.state.meter, write_key(request, body))
    if not isinstance(body, dict) or not isinstance(body.get("batch"), list):
        raise InvalidInput.field("batch", "expected an array of events")
    context = body.get("context")
    if context is not None and not isinstance(context, dict):
        raise InvalidInput.field("context", "expected a JSON object")
    return await run_in_threadpool(
        answer, request.app.state.meter, project, body["batch"], context=context
    )


def _single(kind: str) -> Any:
    async def endpoint(request: Request) -> JSONResponse:
        body = await read_json(request)
        if isinstance(body, JSONResponse):
            return body
        project = project_for(request.app.state.meter, write_key(request, body))
        if not isinstance(body, dict):
            raise InvalidInput.field("body", "expected a JSON object")
        return await run_in_threadpool(
            answer, request.app.state.meter, project, [body], default_type=kind
        )

    endpoint.__name__ = kind
    return endpoint


for _kind in SINGLE:
    router.add_api_route(f"/v1/{_kind}", _single(_kind), methods=["POST"], name=_kind)
