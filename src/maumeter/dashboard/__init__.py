"""The dashboard: HTML pages with server-rendered SVG charts, served by ``maumeter serve``.

:func:`install` adds it to the API's app: the routes (not in the OpenAPI document), the static
files (vendored: it works offline), the sessions, and error pages in HTML for its own paths
while the API keeps answering JSON.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

__all__ = ["install", "is_dashboard"]

HERE = Path(__file__).parent
PREFIXES = ("/signin", "/signout", "/orgs/", "/accounts", "/static/")


def is_dashboard(path: str) -> bool:
    """Is this one of the dashboard's paths (HTML errors), rather than the API's (JSON)?"""
    return path == "/" or path.startswith(PREFIXES)


def install(app: FastAPI) -> None:
    from maumeter.api import errors
    from maumeter.core.errors import MaumeterError
    from maumeter.dashboard import views
    from maumeter.dashboard.sessions import Sessions

    app.state.sessions = Sessions()
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(views.router)

    async def sign_in(request: Request, _: Exception) -> Response:
        return RedirectResponse("/signin", status_code=303)

    async def forbidden(request: Request, error: Exception) -> Response:
        return _error(request, 403, str(error))

    async def failed(request: Request, error: Exception) -> Response:
        if not is_dashboard(request.url.path):
            return await errors.maumeter_error(request, error)
        assert isinstance(error, MaumeterError)
        return _error(request, errors.status_of(error), error.message)

    app.add_exception_handler(views.SignInRequired, sign_in)
    app.add_exception_handler(views.Refused, forbidden)
    app.add_exception_handler(MaumeterError, failed)


def _error(request: Request, status: int, message: str) -> Any:
    from maumeter.dashboard import views

    try:
        session = views.session_of(request)
    except views.SignInRequired:
        session = None
    return views.render(
        request, "error.html", session, status=status, org=None, page=None, message=message
    )
