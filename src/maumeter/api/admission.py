"""``POST /v1/admit``: the admission gate an SDK asks before it loads (Jimo's hard cap)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from maumeter.api import auth, body

router = APIRouter(tags=["admission"])


@router.post("/v1/admit")
async def admit(request: Request) -> dict[str, Any]:
    """May this person be served now? Body: ``{"userId" | "anonymousId", "context"?,
    "messageId"?}``; write key as for tracking. Under a `hard` cap a person not yet counted
    this month is refused once the cap is reached; already-counted persons always pass.
    Answer: ``{"admitted", "counted", "reason", "mau", "cap"}``, reason one of
    already-counted, within-cap, cap-reached, overage, excluded."""
    payload = await body.read_json(request)
    project = auth.write_project(request, payload)
    decision = await run_in_threadpool(request.app.state.meter.admit, project, payload)
    return decision.to_dict()
