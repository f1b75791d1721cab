"""Bench-only launcher: ``maumeter serve`` itself, its app with one more route, ``/bench/noop``.

The no-op endpoint does what ``/v1/batch`` does before it reaches the store (read the body,
decode it with ``maumeter.core.wire.loads``, authenticate the write key) and answers the same
kind of JSON, so the gap between the two is what ingest itself costs. The product has no such
route: this module wraps ``create_app`` as ``maumeter.api.server`` sees it and then runs the
real CLI command, so uvicorn, its settings and the store are exactly those of ``maumeter
serve``.

    python -m bench.noop_server --db bench.duckdb serve --no-demo --port 8000
"""

from __future__ import annotations

import base64
import sys
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from maumeter.core import wire


def _write_project(request: Request, body: Any) -> Any:
    """The write-key check of the tracking API (whichever version of it is installed)."""
    try:
        from maumeter.api.auth import write_project  # type: ignore[import-not-found]
    except ImportError:
        header = request.headers.get("authorization", "")
        key = base64.b64decode(header[6:]).decode().split(":", 1)[0] if header else ""
        project = request.app.state.meter.project_for_key(key)
        if project is None:
            raise PermissionError("unknown write key") from None
        return project
    return write_project(request, body)


def add_noop(app: FastAPI) -> FastAPI:
    @app.post("/bench/noop", include_in_schema=False)
    async def noop(request: Request) -> JSONResponse:
        body = wire.loads(await request.body())
        _write_project(request, body)
        records = body.get("batch", []) if isinstance(body, dict) else []
        return JSONResponse(
            {"success": True, "accepted": len(records), "duplicates": 0, "rejected": []}
        )

    return app


def main(argv: list[str] | None = None) -> None:
    from maumeter import cli
    from maumeter.api import server

    real = server.create_app

    def create_app(*args: Any, **kwargs: Any) -> FastAPI:
        return add_noop(real(*args, **kwargs))

    server.create_app = create_app  # type: ignore[assignment]
    cli.main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
