"""The alerts and webhooks API under ``/api/v1/orgs/{org}``: an org's secret key or the admin.

Alerts fire at thresholds of the effective cap and when the month is projected to exceed it,
once each per month, and are delivered to the org's webhooks, signed (see ``core.signing``).
A new webhook's secret is in the answer once and never again.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from maumeter.api import auth
from maumeter.api.query import MonthParam
from maumeter.core.months import Month

router = auth.api_router("alerts and webhooks")

Org = auth.Org


class NewWebhook(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(
        description="A public http(s) URL (loopback, private and link-local addresses only "
        "when the operator allow-lists them: MAUMETER_WEBHOOK_ALLOW)",
        max_length=2048,
    )


class AlertSettingsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    thresholds: list[Annotated[int, Field(ge=1, le=1000)]] | None = Field(
        None,
        description="whole percents of the effective cap, 1-1000, e.g. [80, 90, 100]",
        max_length=100,
    )
    projected: bool | None = Field(
        None, description='the "projected to exceed this month" alert on or off'
    )


@router.post("/orgs/{org}/webhooks", status_code=201)
async def add_webhook(request: Request, org: Org, new: NewWebhook) -> dict[str, Any]:
    """Register a webhook for the org's alerts. The answer holds its signing ``secret``, shown
    once: verify each delivery's ``Maumeter-Signature`` (``v1=`` HMAC-SHA256 of
    ``{Maumeter-Timestamp}.{body}``) with it, and drop repeats by ``Maumeter-Event-Id``."""
    hook, secret = await run_in_threadpool(
        auth.meter_of(request).webhooks.add, org.name, new.url, auth.actor(request)
    )
    return {**hook.to_dict(), "secret": secret}


@router.get("/orgs/{org}/webhooks")
async def list_webhooks(request: Request, org: Org) -> list[dict[str, Any]]:
    """The org's webhooks (never their secrets)."""
    hooks = await run_in_threadpool(auth.meter_of(request).webhooks.list, org.name)
    return [h.to_dict() for h in hooks]


@router.get("/orgs/{org}/webhooks/deliveries")
async def deliveries(
    request: Request,
    org: Org,
    webhook: Annotated[int | None, Query(description="one webhook's deliveries")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """The delivery log, newest first: each alert delivery with its state (pending, delivered,
    failed, cancelled), its next attempt, and every attempt (time, status or error,
    duration)."""
    found = await run_in_threadpool(
        auth.meter_of(request).webhooks.deliveries, org.name, webhook, limit
    )
    return [d.to_dict() for d in found]


@router.delete("/orgs/{org}/webhooks/{webhook_id}")
async def remove_webhook(request: Request, org: Org, webhook_id: int) -> dict[str, Any]:
    """Remove a webhook; its pending deliveries are cancelled, its log stays."""
    hook = await run_in_threadpool(
        auth.meter_of(request).webhooks.remove, org.name, webhook_id, auth.actor(request)
    )
    return hook.to_dict()


@router.get("/orgs/{org}/alerts")
async def alerts(
    request: Request,
    org: Org,
    month: MonthParam = None,
) -> dict[str, Any]:
    """The org's alert thresholds and the alerts fired in the month (each once)."""
    when = Month.parse(month) if month else None
    return await run_in_threadpool(auth.meter_of(request).alerts.describe, org.name, when)


@router.put("/orgs/{org}/alerts")
async def set_alerts(request: Request, org: Org, body: AlertSettingsBody) -> dict[str, Any]:
    """Set the thresholds and/or the projected alert; what is not given stays."""
    meter = auth.meter_of(request)
    await run_in_threadpool(meter.alerts.configure, org.name, body.thresholds, body.projected)
    return await run_in_threadpool(meter.alerts.describe, org.name)
