"""The admin API: orgs (admin token), projects and keys (an org's secret key or the admin).

New keys are in the answer once and never again: the store keeps digests only.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from maumeter.api import auth
from maumeter.core.activity import ActivityRule, parse_rule_arg

router = auth.api_router("admin")

Org = auth.Org
Admin = auth.Admin


class NewOrg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="1-63 letters, digits, '.', '_' or '-'")
    timezone: str = Field("UTC", description="IANA zone of the billing month")
    cap: int | None = Field(None, ge=0, le=2**63 - 1, description="monthly MAU allotment")
    policy: Literal["hard", "soft", "none"] = "none"


class NewProject(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="1-63 letters, digits, '.', '_' or '-'")
    activity: str | dict[str, Any] = Field(
        "any-activity",
        description="a preset (any-activity, sdk-load, decisions-and-tracking, conversation) "
        "or a rule object",
    )


class NewKey(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["secret"] = "secret"


@router.post("/orgs", status_code=201)
async def create_org(request: Request, _: Admin, new: NewOrg) -> dict[str, Any]:
    """Create an org (admin token); the answer holds its secret key, shown once."""
    info = await run_in_threadpool(
        auth.meter_of(request).create_org, new.name, new.timezone, new.cap, new.policy
    )
    return auth.meter_of(request).describe_org(info)


@router.get("/orgs")
async def list_orgs(request: Request, _: Admin) -> list[dict[str, Any]]:
    """Every org (admin token)."""
    meter = auth.meter_of(request)
    return [meter.describe_org(o) for o in meter.orgs()]


@router.get("/orgs/{org}")
async def get_org(request: Request, org: Org) -> dict[str, Any]:
    return auth.meter_of(request).describe_org(org)


@router.post("/orgs/{org}/projects", status_code=201)
async def create_project(request: Request, org: Org, new: NewProject) -> dict[str, Any]:
    """Create a project; the answer holds its write key, shown once."""
    meter = auth.meter_of(request)
    rule: ActivityRule
    if isinstance(new.activity, str):
        rule = parse_rule_arg(new.activity, None)
    else:
        rule = ActivityRule.from_json(new.activity)
    info = await run_in_threadpool(meter.create_project, org.name, new.name, rule)
    return meter.describe_project(info)


@router.get("/orgs/{org}/projects")
async def list_projects(request: Request, org: Org) -> list[dict[str, Any]]:
    meter = auth.meter_of(request)
    return [meter.describe_project(p) for p in meter.projects(org.name)]


@router.get("/orgs/{org}/keys")
async def list_keys(request: Request, org: Org) -> list[dict[str, Any]]:
    """The org's keys (hints only), revoked ones included."""
    meter = auth.meter_of(request)
    return [meter.describe_key(k) for k in meter.org_keys(org.name)]


@router.post("/orgs/{org}/keys", status_code=201)
async def create_secret_key(request: Request, org: Org, new: NewKey) -> dict[str, Any]:
    """A second secret key (at most two active): rotate, then revoke the old one."""
    meter = auth.meter_of(request)
    key, token = await run_in_threadpool(meter.create_secret_key, org.name)
    return {**meter.describe_key(key), "key": token}


@router.post("/orgs/{org}/projects/{project}/keys", status_code=201)
async def create_write_key(request: Request, org: Org, project: str) -> dict[str, Any]:
    """A second write key for a project (at most two active): deploy it, revoke the old."""
    meter = auth.meter_of(request)
    key, token = await run_in_threadpool(meter.create_write_key, org.name, project)
    return {**meter.describe_key(key), "key": token}


@router.delete("/orgs/{org}/keys/{key_id}")
async def revoke_key(request: Request, org: Org, key_id: int) -> dict[str, Any]:
    """Revoke a key: refused from the next request on."""
    meter = auth.meter_of(request)
    key = await run_in_threadpool(meter.revoke_key, org.name, key_id)
    return meter.describe_key(key)
