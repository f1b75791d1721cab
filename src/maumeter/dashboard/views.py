"""The dashboard's routes: sign in and out, one page per view, the live overview, the forms.

Thin like the API: read the session, call :mod:`pages` (data) and :mod:`figures` (charts),
render a template. Templates autoescape everything; forms are POST with the session's CSRF
token and answer with a redirect (or the page with the error, 400). None of these routes is in
the OpenAPI document: they are HTML for people, the API is for programs.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from maumeter.api.statements import statement_file
from maumeter.core.activity import parse_rule_arg
from maumeter.core.errors import MaumeterError, NotFound
from maumeter.core.months import Month
from maumeter.dashboard import figures, pages
from maumeter.dashboard.sessions import COOKIE, LOGIN_COOKIE, Session, Sessions, same_token
from maumeter.meter import Meter

__all__ = ["router"]

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)

PAGES = (
    ("overview", "Overview"),
    ("trends", "Trends"),
    ("lifecycle", "Lifecycle"),
    ("retention", "Retention"),
    ("segments", "Segments"),
    ("projects", "Projects & experiments"),
    ("statements", "Statements"),
    ("explain", "Explain"),
    ("settings", "Settings"),
)
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class SignInRequired(Exception):
    """No (valid) session: the browser goes to the sign-in page."""


class Refused(Exception):
    """A form the session may not send (a missing or wrong CSRF token, an admin-only form):
    403, and nothing was done."""


def _meter(request: Request) -> Meter:
    return request.app.state.meter  # type: ignore[no-any-return]


def _sessions(request: Request) -> Sessions:
    return request.app.state.sessions  # type: ignore[no-any-return]


def session_of(request: Request) -> Session:
    """The signed-in session; its key is checked again (a revoked key signs it out)."""
    sessions = _sessions(request)
    session = sessions.get(request.cookies.get(COOKIE))
    if session is None:
        raise SignInRequired
    key = _meter(request).authenticate(session.token)
    if key is None or key.id != session.key_id:
        sessions.close(session.id)
        raise SignInRequired
    return session


def _org(request: Request, org: str) -> Session:
    session = session_of(request)
    if not session.may_read(org):
        raise NotFound(f"no org named {org!r}")
    _meter(request).store.org(org)  # 404 for an org that does not exist
    return session


def _secure(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


def render(
    request: Request,
    template: str,
    session: Session | None,
    status: int = 200,
    **context: Any,
) -> Response:
    orgs: list[str] = []
    if session is not None:
        orgs = [o.name for o in _meter(request).orgs()] if session.admin else [session.org or ""]
    context = {
        "session": session,
        "csrf": session.csrf if session else "",
        "pages": PAGES,
        "orgs": orgs,
        **context,
    }
    return _secure(templates.TemplateResponse(request, template, context, status_code=status))


def _check_csrf(session: Session, form: Any) -> None:
    if not same_token(form.get("csrf"), session.csrf):
        raise Refused("the form's CSRF token is missing or wrong: reload the page")


# ---- sign in and out -------------------------------------------------------------------------


@router.get("/")
async def home(request: Request) -> Response:
    try:
        session = session_of(request)
    except SignInRequired:
        return RedirectResponse("/signin", status_code=303)
    if session.admin:
        return RedirectResponse("/accounts", status_code=303)
    return RedirectResponse(f"/orgs/{session.org}/overview", status_code=303)


@router.get("/signin")
async def signin_form(request: Request, error: str | None = None) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(request, "signin.html", None, login_csrf=token, error=error)
    response.set_cookie(
        LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=_https(request), path="/"
    )
    return response


def _https(request: Request) -> bool:
    return request.url.scheme == "https"


@router.post("/signin")
async def signin(request: Request) -> Response:
    form = await request.form()
    if not same_token(str(form.get("csrf") or ""), request.cookies.get(LOGIN_COOKIE) or "-"):
        return render(
            request,
            "signin.html",
            None,
            status=403,
            login_csrf=request.cookies.get(LOGIN_COOKIE, ""),
            error="The form expired: try again.",
        )
    token = str(form.get("key") or "").strip()
    meter = _meter(request)
    key = meter.authenticate(token) if token else None
    if key is None or key.kind not in ("secret", "admin"):
        error = (
            "A write key cannot sign in: use the org's secret key (sk_…) or the admin token."
            if key is not None
            else "Unknown or revoked key."
        )
        return render(
            request,
            "signin.html",
            None,
            status=401,
            login_csrf=request.cookies.get(LOGIN_COOKIE, ""),
            error=error,
        )
    org = meter.store.org_by_id(key.org_id).name if key.org_id is not None else None
    session = _sessions(request).open(token, key, org)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        COOKIE, session.id, httponly=True, samesite="strict", secure=_https(request), path="/"
    )
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return _secure(response)


@router.post("/signout")
async def signout(request: Request) -> Response:
    session = session_of(request)
    _check_csrf(session, await request.form())
    _sessions(request).close(session.id)
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return _secure(response)


# ---- pages -----------------------------------------------------------------------------------


async def _page(request: Request, org: str, page: str, *arguments: Any) -> Response:
    """One org page: its data (:mod:`pages`), its charts (:mod:`figures`, where it has any)
    and its template, all named after the page."""
    session = _org(request, org)
    data = await run_in_threadpool(getattr(pages, page), _meter(request), org, *arguments)
    chart = getattr(figures, page, None)
    return render(
        request,
        f"{page}.html",
        session,
        org=org,
        page=page,
        data=data,
        charts=chart(data) if chart else {},
    )


@router.get("/orgs/{org}/overview")
async def overview(request: Request, org: str) -> Response:
    return await _page(request, org, "overview")


@router.get("/orgs/{org}/live")
async def live(request: Request, org: str) -> Response:
    """The overview's figures and gauge, polled by the page to move without a reload."""
    _org(request, org)
    data = await run_in_threadpool(pages.overview, _meter(request), org)
    live = data["live"]
    return _secure(
        JSONResponse(
            {
                "mau": f"{live['mau']:,}",
                "identified": f"{live['identified']:,}",
                "anonymous": f"{live['anonymous']:,}",
                "refused": f"{live['refused']:,}",
                "impressions": f"{data['impressions']:,}",
                "percent": "—" if live["percent_used"] is None else f"{live['percent_used']:.1f} %",
                "projected": "—" if live["projected_mau"] is None else f"{live['projected_mau']:,}",
                "gauge": str(figures.gauge_of(live)),
            }
        )
    )


@router.get("/orgs/{org}/trends")
async def trends(request: Request, org: str) -> Response:
    return await _page(request, org, "trends")


@router.get("/orgs/{org}/lifecycle")
async def lifecycle(request: Request, org: str, interval: str | None = None) -> Response:
    return await _page(request, org, "lifecycle", interval)


@router.get("/orgs/{org}/retention")
async def retention(request: Request, org: str, interval: str | None = None) -> Response:
    return await _page(request, org, "retention", interval)


@router.get("/orgs/{org}/segments")
async def segments(
    request: Request, org: str, trait: str | None = None, month: str | None = None
) -> Response:
    return await _page(request, org, "segments", trait or None, Month.optional(month))


@router.get("/orgs/{org}/projects")
async def projects(request: Request, org: str, month: str | None = None) -> Response:
    return await _page(request, org, "projects", Month.optional(month))


@router.get("/orgs/{org}/statements")
async def statements(request: Request, org: str) -> Response:
    return await _page(request, org, "statements")


@router.get("/orgs/{org}/statements/{month}/persons.{fmt}")
async def statement_persons(request: Request, org: str, month: str, fmt: str) -> Response:
    """The counted-person list of a closed month, as a download: the same file the API and
    ``maumeter statement --persons`` write."""
    _org(request, org)
    if fmt not in ("csv", "parquet"):
        raise NotFound(f"no such format {fmt!r}: csv or parquet")
    found = await statement_file(_meter(request), org, Month.parse(month), fmt)
    return _secure(found)


@router.get("/orgs/{org}/explain")
async def explain(
    request: Request, org: str, person: str | None = None, month: str | None = None
) -> Response:
    return await _page(request, org, "explain", person, Month.optional(month))


@router.get("/accounts")
async def accounts(request: Request) -> Response:
    session = session_of(request)
    if not session.admin:
        raise NotFound("the accounts view is the operator's: sign in with the admin token")
    data = await run_in_threadpool(pages.accounts, _meter(request))
    return render(
        request,
        "accounts.html",
        session,
        org=None,
        page="accounts",
        data=data,
        charts=figures.accounts(data),
    )


@router.get("/orgs/{org}/settings")
async def settings(request: Request, org: str) -> Response:
    session = _org(request, org)
    return await _settings_page(request, session, org)


async def _settings_page(
    request: Request,
    session: Session,
    org: str,
    status: int = 200,
    message: str | None = None,
    error: str | None = None,
    secret: str | None = None,
) -> Response:
    data = await run_in_threadpool(pages.settings, _meter(request), org)
    return render(
        request,
        "settings.html",
        session,
        status=status,
        org=org,
        page="settings",
        data=data,
        message=message,
        error=error,
        secret=secret,
    )


@router.post("/orgs/{org}/settings/{action}")
async def change(request: Request, org: str, action: str) -> Response:
    """A settings form: plan (admin), alerts, webhooks, activity rule, keys."""
    session = _org(request, org)
    form = await request.form()
    _check_csrf(session, form)
    meter = _meter(request)
    actor = "dashboard:admin" if session.admin else f"dashboard:key:{session.key_id}"
    secret: str | None = None
    try:
        if action == "plan":
            if not session.admin:
                raise Refused("only the operator's admin token may set a plan")
            plan = {"tier": str(form.get("tier")), "policy": str(form.get("policy"))}
            await run_in_threadpool(meter.set_plan, org, plan, actor)
            message = f"Plan set: {plan['tier']}, {plan['policy']} cap."
        elif action == "alerts":
            text = str(form.get("thresholds") or "")
            thresholds = [int(t) for t in text.replace(" ", "").split(",") if t]
            await run_in_threadpool(
                meter.alerts.configure, org, thresholds, form.get("projected") == "on"
            )
            message = "Alert thresholds saved."
        elif action == "webhook-add":
            hook, secret = await run_in_threadpool(
                meter.webhooks.add, org, str(form.get("url") or ""), actor
            )
            message = f"Webhook {hook.id} added; its signing secret is shown once below."
        elif action == "webhook-remove":
            await run_in_threadpool(meter.webhooks.remove, org, int(str(form.get("id"))), actor)
            message = "Webhook removed."
        elif action == "rule":
            rule = parse_rule_arg(
                str(form.get("preset") or "") or None, str(form.get("rule") or "") or None
            )
            await run_in_threadpool(meter.set_rule, org, str(form.get("project")), rule, actor)
            message = f"Activity rule of {form.get('project')} set; open months recounted."
        elif action == "key-secret":
            _, secret = await run_in_threadpool(meter.create_secret_key, org, actor)
            message = "New secret key: copy it now, it is never shown again."
        elif action == "key-write":
            _, secret = await run_in_threadpool(
                meter.create_write_key, org, str(form.get("project")), actor
            )
            message = "New write key: copy it now, it is never shown again."
        elif action == "key-revoke":
            await run_in_threadpool(meter.revoke_key, org, int(str(form.get("id"))), actor)
            message = "Key revoked."
        else:
            raise NotFound(f"no settings action {action!r}")
    except (MaumeterError, ValueError) as exc:
        text = exc.message if isinstance(exc, MaumeterError) else f"invalid value: {exc}"
        if isinstance(exc, NotFound):
            raise
        return await _settings_page(request, session, org, status=400, error=text)
    return await _settings_page(request, session, org, message=message, secret=secret)
