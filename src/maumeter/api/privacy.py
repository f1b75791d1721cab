"""The privacy API: erase a person, read the audit log, change a project's rule (retroactive).

An org's secret key or the admin token. Each action is logged with who did it: the key's kind
and hint (``secret:sk_live…``), ``admin``, or ``cli`` for the CLI talking to its own server.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from maumeter.api import auth
from maumeter.core.activity import ActivityRule, parse_rule_arg

router = auth.api_router("privacy")

Org = auth.Org


class NewRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    activity: str | dict[str, Any] = Field(
        description="a preset (any-activity, sdk-load, decisions-and-tracking, conversation) "
        "or a rule object (matchers, url_include/exclude, internal_user_ids, "
        "internal_email_domains, bot_user_agents, exclude_bots)"
    )


@router.delete("/orgs/{org}/persons/{person_id}")
async def erase_person(request: Request, org: Org, person_id: str) -> dict[str, Any]:
    """Erase a person (GDPR Art. 17) by any of their ids: events, ids and traits deleted and
    compacted out of the store file; closed statements keep their counts with a tombstone."""
    meter = auth.meter_of(request)
    report = await run_in_threadpool(meter.erase, org.name, person_id, auth.actor(request))
    return report.to_dict()


@router.get("/orgs/{org}/audit")
async def audit_log(request: Request, org: Org) -> dict[str, Any]:
    """The org's hash-chained audit log, oldest first, with the chain verified."""
    meter = auth.meter_of(request)
    entries = meter.audit.entries(org.name)
    check = meter.audit.verify(org.name)
    return {"entries": [e.to_dict() for e in entries], "verification": check.to_dict()}


@router.put("/orgs/{org}/projects/{project}/rule")
async def set_rule(request: Request, org: Org, project: str, new: NewRule) -> dict[str, Any]:
    """Give a project a new activity rule: open months recount at once, closed months get
    restatements (reason rule-change)."""
    meter = auth.meter_of(request)
    rule: ActivityRule
    if isinstance(new.activity, str):
        rule = parse_rule_arg(new.activity, None)
    else:
        rule = ActivityRule.from_json(new.activity)
    change = await run_in_threadpool(meter.set_rule, org.name, project, rule, auth.actor(request))
    return change.to_dict()
