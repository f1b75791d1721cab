"""Who is calling: the three kinds of key, and what each may touch.

* write key — ``/v1/*`` (ingest, admission) of its own project; HTTP Basic user (Segment's
  libraries), ``writeKey`` in the body, or PostHog's ``api_key``/``token``;
* secret key — its own org under ``/api/v1/orgs/{org}``; ``Authorization: Bearer``;
* admin token — everything, and creating orgs; ``Authorization: Bearer``.

A valid key used where its kind has no business gets 403; a key of another org asking about an
org gets the same 404 as an org that does not exist, so tenants cannot probe each other. Every
authenticated request spends a token of its key's rate limit.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Security
from fastapi.security import HTTPBearer

from maumeter.core.errors import Forbidden, NotFound, Unauthorized
from maumeter.core.keys import Key
from maumeter.meter import Meter
from maumeter.store.duckdb import OrgInfo, ProjectInfo

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="secret key or admin token",
    description="An org's secret key (sk_…) or the operator's admin token (mt_…).",
)


def presented(request: Request) -> str | None:
    """The key on the request's ``Authorization`` header: Bearer, or the Basic user."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer":
        return value.strip() or None
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthorized("authorization: not valid HTTP Basic credentials") from None
        user = decoded.split(":", 1)[0]
        return user or None
    if header:
        raise Unauthorized("authorization: expected 'Bearer KEY' or HTTP Basic credentials")
    return None


def _limited(request: Request, key: Key) -> Key:
    request.app.state.limiter.take(key.id)
    return key


def _known(request: Request, token: str | None) -> Key:
    if not token:
        raise Unauthorized("a key is required: Authorization: Bearer KEY")
    meter: Meter = request.app.state.meter
    key = meter.authenticate(token)
    if key is None:
        local = request.app.state.local_admin
        if local is not None and local.matches(token):
            return local.key
        raise Unauthorized("unknown or revoked key")
    return _limited(request, key)


def write_project(request: Request, body: Any) -> ProjectInfo:
    """The project a tracking request writes to: its write key's project."""
    token = presented(request)
    if token is None and isinstance(body, dict) and isinstance(body.get("writeKey"), str):
        token = body["writeKey"]
    return project_for_token(request, token)


def project_for_token(request: Request, token: str | None) -> ProjectInfo:
    """The project of a write key however it came (header, ``writeKey``, PostHog ``api_key``)."""
    if not token:
        raise Unauthorized(
            "a write key is required: HTTP Basic user, or writeKey (PostHog: api_key) in the body"
        )
    meter: Meter = request.app.state.meter
    key = meter.authenticate(token)
    if key is None:
        raise Unauthorized("unknown or revoked write key")
    if key.kind != "write" or key.project_id is None:
        raise Forbidden("this endpoint takes a project's write key, not a secret key or token")
    _limited(request, key)
    return meter.store.project_by_id(key.project_id)


def org_reader(request: Request, org: str) -> OrgInfo:
    """The org a secret key (of that org) or the admin token may read and manage."""
    key = _known(request, presented(request))
    meter: Meter = request.app.state.meter
    if key.kind == "write":
        raise Forbidden("a write key can only send events and admissions; use a secret key")
    if key.kind == "secret":
        info = meter.store.org_by_id(key.org_id) if key.org_id is not None else None
        if info is None or info.name != org:
            raise NotFound(f"no org named {org!r}")
        return info
    return meter.org(org)


def reader(request: Request) -> Key:
    """Any secret key or the admin token (what is not about one org, e.g. the tier table)."""
    key = _known(request, presented(request))
    if key.kind == "write":
        raise Forbidden("a write key can only send events and admissions; use a secret key")
    return key


def admin(request: Request) -> Key:
    key = _known(request, presented(request))
    if key.kind != "admin":
        raise Forbidden("only the operator's admin token may do this")
    return key


def meter_of(request: Request) -> Meter:
    """The meter the app serves."""
    return request.app.state.meter  # type: ignore[no-any-return]


def actor(request: Request) -> str:
    """Who is calling, for the audit log: never the key itself, only its kind and hint."""
    token = presented(request)
    key = meter_of(request).authenticate(token) if token else None
    if key is None:
        local = request.app.state.local_admin
        return "cli" if local is not None and token and local.matches(token) else "unknown"
    return "admin" if key.kind == "admin" else f"{key.kind}:{key.hint}"


def api_router(tag: str) -> APIRouter:
    """A router under ``/api/v1`` whose operations take a bearer key and answer errors.py's
    4xx bodies (never FastAPI's default 422)."""
    return APIRouter(
        prefix="/api/v1",
        tags=[tag],
        dependencies=[Security(bearer_scheme)],
        responses={"4XX": {"description": "{error, message, errors?}"}},
    )


# What an operation of the query, billing and admin APIs depends on, by who may call it.
Org = Annotated[OrgInfo, Depends(org_reader)]
Admin = Annotated[Key, Depends(admin)]
Reader = Annotated[Key, Depends(reader)]
