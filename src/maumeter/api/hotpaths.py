"""The two hottest routes, ``POST /v1/batch`` and ``POST /v1/admit``, served as plain ASGI.

An SDK calls these on every page load and every flush; everything else is occasional. Through
FastAPI's router, dependency solver and middleware stack a request costs about 150 µs before
the endpoint runs, more than half of an admission's whole budget at 3,000 decisions a second on
one core. This middleware answers those two exact paths by calling the very same endpoint
functions (``tracking.batch``, ``admission.admit``) with a Starlette ``Request``, and renders
errors with the same handler, so the answers are identical; FastAPI still documents both
routes in OpenAPI and serves every other path. It sits inside the CORS middleware, so browser
SDKs get the same headers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from maumeter.api import admission, errors, tracking
from maumeter.core.errors import MaumeterError

Endpoint = Callable[[Request], Awaitable[Any]]
HOT: dict[str, Endpoint] = {"/v1/batch": tracking.batch, "/v1/admit": admission.admit}


class HotPaths:
    """ASGI middleware: ``POST`` to a hot path goes straight to its endpoint."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = HOT.get(scope["path"]) if scope["type"] == "http" else None
        if endpoint is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            answer = await endpoint(request)
        except MaumeterError as exc:
            answer = await errors.maumeter_error(request, exc)
        response = answer if isinstance(answer, Response) else JSONResponse(answer)
        await response(scope, receive, send)
