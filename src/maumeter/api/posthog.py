"""PostHog's capture API: ``/batch/``, ``/capture/``, ``/e/``, ``/i/v0/e/``, ``/track/``.

Point a PostHog library's host at maumeter and give it a project's write key as its API key.
Each path answers with and without its trailing slash. The body is decoded the way PostHog's
libraries send it (posthog-js ``request.ts``, posthog-python ``request.py``):

* JSON, plain or gzip — with ``Content-Encoding: gzip`` (posthog-python) or without any header
  (posthog-js ``?compression=gzip-js`` sends gzip as ``text/plain``; the magic bytes tell);
* ``application/x-www-form-urlencoded`` ``data=<base64 JSON>`` (posthog-js
  ``?compression=base64``) or ``data=<JSON>``;
* posthog-js's deprecated ``lz64`` compression is refused with 415.

All posthog-js and posthog-python requests are POSTs (current posthog-js has no GET/image
transport), so only POST is served. The key is the body's ``api_key``/``token`` (or an event's,
or posthog-js's ``properties.token``), else the ``Authorization`` header (Basic user or Bearer).

Translation is :mod:`maumeter.core.posthog`; ingest and the answer are ``/v1/batch``'s
(:func:`tracking.answer`): 200 when anything was accepted, every rejection itemised by index.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any, cast
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from maumeter.api import auth, body, tracking
from maumeter.core import posthog
from maumeter.core.errors import InvalidInput, Problem, UnsupportedMediaType
from maumeter.meter import IngestResult, Meter, Rejection
from maumeter.sources import NotJson
from maumeter.store.duckdb import ProjectInfo

router = APIRouter(tags=["posthog"])

PATHS = ("/batch", "/capture", "/e", "/i/v0/e", "/track")
COMPRESSIONS = ("", "gzip", "gzip-js", "base64")
FORM = "application/x-www-form-urlencoded"


async def read_payload(request: Request) -> Any:
    """The JSON a PostHog library sent, however it was encoded (within ``body``'s limits)."""
    compression = request.query_params.get("compression", "").strip().lower()
    if compression not in COMPRESSIONS:
        raise UnsupportedMediaType(
            f"compression={compression!r} is not supported; send gzip-js, base64 or plain JSON"
        )
    raw = await body.read_raw(request)
    data = body.decompress(raw, request.headers.get("content-encoding", ""))
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    looks_json = data.lstrip()[:1] in (b"{", b"[")  # curl -d sends JSON labelled as a form
    if data.startswith(b"data=") or (media == FORM and not looks_json):
        data = form_data(data)
    return body.decode_json(data)


def form_data(data: bytes) -> bytes:
    """The JSON in a form body's ``data`` field: base64 (posthog-js) or JSON text."""
    fields = parse_qs(data.decode("latin-1"))
    values = fields.get("data")
    if not values:
        raise InvalidInput.field("data", "a form body needs data=<base64 JSON>")
    value = values[0].strip()
    if value[:1] in ("{", "["):
        return value.encode("latin-1")
    # '+' of base64 arrives as ' ' when a client did not URL-encode it; '-_' is the URL-safe form.
    text = value.replace(" ", "+").replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput.field("data", f"expected base64-encoded JSON: {exc}") from None


class _Itemised:
    """The meter as :func:`tracking.answer` uses it, with the translation's rejections.

    An item that could not be translated stands in the batch as a placeholder (so every index
    holds); its rejection then carries every problem the translation found, not just the first.
    """

    def __init__(self, meter: Meter, problems: dict[int, list[Problem]]) -> None:
        self.meter = meter
        self.problems = problems

    def ingest_project(
        self, project: ProjectInfo, records: Sequence[Any], **kwargs: Any
    ) -> IngestResult:
        result = self.meter.ingest_project(project, records, **kwargs)
        result.rejected = [
            Rejection(r.index, self.problems.get(r.index, r.problems)) for r in result.rejected
        ]
        return result


def answer(meter: Meter, project: ProjectInfo, translation: posthog.Translation) -> JSONResponse:
    problems = translation.problems
    records: list[Any] = [
        NotJson(problems[i][0]) if record is None else record
        for i, record in enumerate(translation.records)
    ]
    return tracking.answer(cast(Meter, _Itemised(meter, problems)), project, records)


async def capture(request: Request) -> JSONResponse:
    """PostHog events (one, an array, or ``{"api_key", "batch": [...]}``), counted like
    ``/v1/batch``: ``$pageview`` is a page, ``$screen`` a screen, ``$identify`` links the anonymous
    id, ``$create_alias`` is an alias, any other event a track."""
    unpacked = posthog.unpack(await read_payload(request))
    key = unpacked.key() or auth.presented(request)
    project = auth.project_for_token(request, key)
    translation = posthog.translate(unpacked, key)
    return await run_in_threadpool(answer, request.app.state.meter, project, translation)


for _path in PATHS:
    for _variant, _listed in ((_path + "/", True), (_path, False)):
        router.add_api_route(
            _variant,
            capture,
            methods=["POST"],
            name=f"posthog {_variant}",
            include_in_schema=_listed,
        )
