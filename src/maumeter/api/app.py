"""The ASGI application: the tracking API and the query API over one `Meter`."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

from maumeter.api import errors, query, tracking
from maumeter.core.errors import MaumeterError
from maumeter.meter import Meter


def create_app(meter: Meter) -> FastAPI:
    app = FastAPI(
        title="maumeter",
        summary="Exact monthly active users: Segment-compatible ingest and MAU queries.",
        version="0.1.0",
    )
    app.state.meter = meter
    app.add_exception_handler(MaumeterError, errors.maumeter_error)
    app.add_exception_handler(RequestValidationError, errors.validation_error)
    app.include_router(tracking.router)
    app.include_router(query.router)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
