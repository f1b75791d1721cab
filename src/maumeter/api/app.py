"""The ASGI application: tracking, admission, query and admin APIs over one `Meter`."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from maumeter import dashboard
from maumeter.api import (
    admin,
    admission,
    analytics,
    errors,
    plans,
    posthog,
    query,
    statements,
    tracking,
    webhooks,
)
from maumeter.api import privacy as privacy_api
from maumeter.api.hotpaths import App
from maumeter.api.ratelimit import RateLimiter
from maumeter.core.errors import MaumeterError
from maumeter.meter import Meter
from maumeter.sidecar import LocalAdmin

DESCRIPTION = """
Exact monthly active users.

* **Tracking** (`/v1/*`): Segment's and RudderStack's HTTP API, PostHog's capture API
  (`/batch/`, `/capture/`, `/e/`, …), and `/v1/admit`, the admission gate. A project's
  **write key**: HTTP Basic user, `writeKey` (PostHog: `api_key`) in the body.
* **Query and admin** (`/api/v1/*`): an org's **secret key** (`sk_…`) reads and manages that
  org; the operator's **admin token** (`mt_…`) creates orgs. `Authorization: Bearer KEY`.
"""


def create_app(
    meter: Meter,
    *,
    rate: float = 2000.0,
    burst: float = 10000.0,
    local_admin: LocalAdmin | None = None,
) -> FastAPI:
    app = App(
        title="maumeter",
        summary="Exact monthly active users: Segment-compatible ingest, admission, MAU queries.",
        description=DESCRIPTION,
        version="0.2.0",
        # Write keys live in browsers (analytics.js, posthog-js): the tracking API answers
        # any origin. No cookies are ever read, so no credentials are allowed.
        cors={
            "allow_origins": ["*"],
            "allow_methods": ["GET", "POST", "PUT", "DELETE", "OPTIONS"],
            "allow_headers": ["*"],
            "max_age": 86400,
        },
    )
    app.state.meter = meter
    app.state.limiter = RateLimiter(rate, burst)
    app.state.local_admin = local_admin
    app.add_exception_handler(MaumeterError, errors.maumeter_error)
    app.add_exception_handler(RequestValidationError, errors.validation_error)
    app.add_exception_handler(StarletteHTTPException, errors.http_error)  # type: ignore[arg-type]
    app.include_router(tracking.router)
    app.include_router(admission.router)
    app.include_router(posthog.router)
    app.include_router(query.router)
    app.include_router(analytics.router)
    app.include_router(admin.router)
    app.include_router(plans.router)
    app.include_router(webhooks.router)
    app.include_router(statements.router)
    app.include_router(privacy_api.router)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    dashboard.install(app)
    return app
