"""One table from error class to HTTP status, and the JSON body every error has."""

from __future__ import annotations

import re

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from maumeter.api.ratelimit import RateLimiter
from maumeter.core.errors import (
    AlreadyExists,
    Conflicting,
    Forbidden,
    InvalidInput,
    MaumeterError,
    NotFound,
    PayloadTooLarge,
    StoreUnavailable,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
)

STATUS: dict[type[MaumeterError], int] = {
    InvalidInput: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    AlreadyExists: 409,
    Conflicting: 409,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    TooManyRequests: 429,
    StoreUnavailable: 503,
}


def status_of(error: MaumeterError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def error_body(error: MaumeterError) -> dict[str, object]:
    body: dict[str, object] = {"error": type(error).__name__, "message": error.message}
    if isinstance(error, InvalidInput):
        body["errors"] = [p.to_dict() for p in error.problems]
    return body


async def maumeter_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, MaumeterError)
    headers: dict[str, str] | None = None
    if isinstance(error, Unauthorized):
        headers = {"WWW-Authenticate": 'Bearer, Basic realm="maumeter"'}
    elif isinstance(error, TooManyRequests):
        headers = {"Retry-After": RateLimiter.header(error.retry_after)}
    return JSONResponse(error_body(error), status_code=status_of(error), headers=headers)


async def validation_error(_: Request, error: Exception) -> JSONResponse:
    """FastAPI's own parameter errors, in our shape: which field, what was expected."""
    assert isinstance(error, RequestValidationError)
    errors = [
        {
            "field": ".".join(
                str(p) for p in e.get("loc", ()) if p not in ("query", "path", "body")
            ),
            "message": e.get("msg", "invalid"),
        }
        for e in error.errors()
    ]
    return JSONResponse(
        {
            "error": "InvalidInput",
            "message": "; ".join(f"{e['field']}: {e['message']}" for e in errors),
            "errors": errors,
        },
        status_code=400,
    )


async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """Starlette's own errors (404 for no route, 405 for a method), as FastAPI answers them;
    a 405's ``Allow`` lists every method the path serves. Starlette stops at the first route
    whose path matches, so its ``Allow`` would name that one route's method only; the methods
    come from the OpenAPI document, the contract clients read."""
    if exc.status_code == 405:
        path = request.url.path
        for pattern, methods in _method_table(request.app):
            if pattern.fullmatch(path):
                exc.headers = {**(exc.headers or {}), "Allow": ", ".join(methods)}
                break
    return await http_exception_handler(request, exc)


def _method_table(app: FastAPI) -> list[tuple[re.Pattern[str], list[str]]]:
    table = getattr(app.state, "method_table", None)
    if table is None:
        table = [
            (compile_path(path)[0], sorted(m.upper() for m in operations))
            for path, operations in app.openapi().get("paths", {}).items()
        ]
        app.state.method_table = table
    return table
