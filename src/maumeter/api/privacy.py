"""The privacy API: erase a person, read the audit log, change a project's rule (retroactive).

An org's secret key or the admin token. Each action is logged with who did it: the key's kind
and hint (``secret:sk_live…``), ``admin``, or ``cli`` for the CLI talking to its own server.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Security
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from maumeter.api import auth
from maumeter.core.activity import ActivityRule, parse_rule_arg
from maumeter.meter import Meter
from maumeter.store.duckdb import OrgInfo

ERRORS: dict[int | str, dict[str, Any]] = {"4XX": {"description": "{error, message, errors?}"}}
router = APIRouter(
    prefix="/api/v1",
    tags=["privacy"],
    dependencies=[Security(auth.bearer_scheme)],
    responses=ERRORS,
)

Org = Annotated[OrgInfo, Depends(auth.org_reader)]


class NewRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    activity: str | dict[str, Any] = Field(
        description="a preset (any-activity, sdk-load, decisions-and-tracking, conversation) "
        "or a rule object (matchers, url_include/exclude, internal_user_ids, "
        "internal_email_domains, bot_user_agents, exclude_bots)"
    )


def _meter(request: Request) -> Meter:
    return request.app.state.meter  # type: ignore[no-any-return]


def actor(request: Request) -> str:
    """Who is calling, for the audit log: never the key itself, only its kind and hint."""
    token = auth.presented(request)
    key = _meter(request).authenticate(token) if token else None
    if key is None:
        local = request.app.state.local_admin
        return "cli" if local is not None and token and local.matches(token) else "unknown"
    return "admin" if key.kind == "admin" else f"{key.kind}:{key.hint}"


@router.delete("/orgs/{org}/persons/{person_id}")
async def erase_person(request: Request, org: Org, person_id: str) -> dict[str, Any]:
    """Erase a person (GDPR Art. 17) by any of their ids: events, ids and traits deleted and
    compacted out of the store file; closed statements keep their counts with a tombstone."""
    meter = _meter(request)
    report = await run_in_threadpool(meter.erase, org.name, person_id, actor(request))
    return report.to_dict()


@router.get("/orgs/{org}/audit")
async def audit_log(request: Request, org: Org) -> dict[str, Any]:
    """The org's hash-chained audit log, oldest first, with the chain verified."""
    meter = _meter(request)
    entries = meter.audit.entries(org.name)
    check = meter.audit.verify(org.name)
    return {"entries": [e.to_dict() for e in entries], "verification": check.to_dict()}


@router.put("/orgs/{org}/projects/{project}/rule")
async def set_rule(request: Request, org: Org, project: str, new: NewRule) -> dict[str, Any]:
    """Give a project a new activity rule: open months recount at once, closed months get
    restatements (reason rule-change)."""
    meter = _meter(request)
    rule: ActivityRule
    if isinstance(new.activity, str):
        rule = parse_rule_arg(new.activity, None)
    else:
        rule = ActivityRule.from_json(new.activity)
    change = await run_in_threadpool(meter.set_rule, org.name, project, rule, actor(request))
    return change.to_dict()
