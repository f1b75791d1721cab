"""``POST /v1/admit``: the admission gate an SDK asks before it loads (Jimo's hard cap)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request

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
    future = request.app.state.meter.admit_async(project, payload)
    decision = await asyncio.wrap_future(future)  # no thread held while the group commits
    return decision.to_dict()
