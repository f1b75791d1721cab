"""The two hottest routes, ``POST /v1/batch`` and ``POST /v1/admit``, served as plain ASGI.

An SDK calls these on every page load and every flush; everything else is occasional. Through
FastAPI's router, dependency solver and middleware stack (error, telemetry and body-limit
layers, each wrapping ``send``) a request costs well over 100 µs before the endpoint runs, a
third of an admission's whole budget at 3,000 decisions a second on one core. :class:`App`
therefore answers those two exact paths before its own stack: it hands them to
:class:`HotPaths`, wrapped in the same CORS middleware as the rest, which calls the very same
endpoint functions (``tracking.batch``, ``admission.admit``) with a Starlette ``Request`` and
renders errors with the same handler, so the answers are identical. FastAPI still documents
both routes in OpenAPI and serves every other path and method (a CORS preflight, say).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from maumeter.api import admission, errors, tracking
from maumeter.core.errors import MaumeterError

Endpoint = Callable[[Request], Awaitable[Any]]
HOT: dict[str, Endpoint] = {"/v1/batch": tracking.batch, "/v1/admit": admission.admit}

log = logging.getLogger("maumeter.api")


class HotPaths:
    """ASGI app for the hot paths only: each goes straight to its endpoint."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            answer = await HOT[scope["path"]](request)
        except MaumeterError as exc:
            answer = await errors.maumeter_error(request, exc)
        except Exception:  # what FastAPI's error middleware does: a 500, logged, no traceback out
            log.exception("error answering %s", scope["path"])
            answer = JSONResponse(
                {"error": "InternalError", "message": "internal server error"}, status_code=500
            )
        response = answer if isinstance(answer, Response) else JSONResponse(answer)
        await response(scope, receive, send)


class App(FastAPI):
    """The FastAPI app, answering ``POST`` to a hot path before its middleware stack."""

    def __init__(self, *args: Any, cors: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_middleware(CORSMiddleware, **cors)
        self._hot: ASGIApp = CORSMiddleware(HotPaths(), **cors)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in HOT:
            scope["app"] = self  # what Starlette sets: endpoints reach app.state through it
            await self._hot(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
