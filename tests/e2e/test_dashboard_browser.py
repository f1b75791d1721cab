"""The dashboard in a real browser (issue 6): Debian's chromium driven by Playwright.

One ``maumeter serve`` on a fresh store with the demo (what a newcomer sees first), one browser,
one context per role (the ``demo`` org signed in with its secret key; the operator with the
admin token). Every page must load without a console error, an uncaught exception, a failed
request or an error status; every chart must draw its data; the overview must follow new events
without a reload; statements download; injected markup stays text; forms need their CSRF token;
secrets are never echoed. Screenshots of every page go to ``test-artifacts/dashboard/``.
"""

from __future__ import annotations

import csv
import io
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, expect, sync_playwright

from .browser import (
    VIEWPORT,
    Watch,
    charts,
    chromium_path,
    launch,
    screenshot,
    sign_in,
    sign_out,
)
from .conftest import ADMIN, ADMIN_TOKEN, start

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        chromium_path() is None,
        reason="no chromium: `apt-get install chromium` (.ci/run does it on CI)",
    ),
]

ORG = "demo"
SECRET = "sk_demo_org"
WRITE = "wk_demo_web"
ORG_PAGES = (
    "overview",
    "trends",
    "lifecycle",
    "retention",
    "segments",
    "projects",
    "statements",
    "explain",
    "settings",
)
# The charts each page draws for the demo org. None of them is legitimately empty for `demo`
# (every figure has history, devices, countries, experiments and flags); the empty ones are
# elsewhere: `legacy` has no experiment or flag ("No data yet", checked below), and a trait
# nobody has is not empty but one "(none)" bar holding every person.
CHARTS = {
    "overview": 2,  # gauge, identified/anonymous/refused
    "trends": 7,  # daily, weekly, monthly + forecast, stickiness, frequency, growth, seasonality
    "lifecycle": 1,
    "retention": 1,
    "segments": 3,  # devices, trait, activity levels
    "projects": 3,  # projects, experiments, flags
}
EXPECTED_EMPTY: dict[str, set[str]] = {}  # page → chart labels allowed to be empty, for `demo`
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"


# ---- fixtures: one server, one browser, one context per role ---------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`maumeter serve` on a fresh store, demo included (no --no-demo)."""
    db = tmp_path_factory.mktemp("dashboard") / "demo.duckdb"
    process, url = start(db)
    yield url
    process.terminate()
    try:
        process.wait(timeout=30)
    except Exception:
        process.kill()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        found = launch(playwright)
        yield found
        found.close()


def _context(browser: Browser) -> BrowserContext:
    return browser.new_context(viewport=VIEWPORT, accept_downloads=True)


@pytest.fixture(scope="module")
def org(browser: Browser, site: str) -> Iterator[Watch]:
    """A page signed in as the `demo` org with its secret key, watched for problems."""
    context = _context(browser)
    watch = Watch(context.new_page())
    sign_in(watch.page, site, SECRET)
    assert watch.page.url == f"{site}/orgs/{ORG}/overview"
    yield watch
    context.close()


@pytest.fixture(scope="module")
def admin(browser: Browser, site: str) -> Iterator[Watch]:
    """A page signed in as the operator with the admin token."""
    context = _context(browser)
    watch = Watch(context.new_page())
    sign_in(watch.page, site, ADMIN_TOKEN)
    assert watch.page.url == f"{site}/accounts"
    yield watch
    context.close()


@pytest.fixture(scope="module")
def orgs(site: str) -> list[str]:
    response = httpx.get(f"{site}/api/v1/orgs", headers=ADMIN)
    assert response.status_code == 200
    return [o["org"] for o in response.json()]


@pytest.fixture(scope="module")
def person(org: Watch, site: str) -> str:
    """A person of the demo active this month (from the segments page's level lists)."""
    org.page.goto(f"{site}/orgs/{ORG}/segments")
    found = org.page.locator("ul.persons li").first.text_content()
    org.take()
    assert found
    return found.strip()


@pytest.fixture
def clean(org: Watch, admin: Watch) -> Iterator[None]:
    """Nothing left over from earlier tests; no dialog may open during the test."""
    org.take()
    admin.take()
    yield
    assert org.dialogs == [] and admin.dialogs == []


def _secret(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _url(site: str, page: str, person: str | None = None) -> str:
    if page == "explain" and person:
        return f"{site}/orgs/{ORG}/explain?{httpx.QueryParams(person=person)}"
    return f"{site}/orgs/{ORG}/{page}"


def _visit(watch: Watch, url: str) -> str:
    """Open a page (200 expected), give the overview one live poll; its HTML as served."""
    response = watch.page.goto(url)
    assert response is not None and response.status == 200, url
    watch.page.wait_for_load_state("networkidle")
    if watch.page.locator("[data-live-source]").count():
        watch.page.wait_for_selector("body[data-live-updated]", timeout=10_000)
    return response.text()


def _send(site: str, events: list[dict[str, Any]], key: str = WRITE) -> None:
    response = httpx.post(f"{site}/v1/batch", json={"batch": events}, auth=(key, ""))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["accepted"] == len(events) and not body["rejected"], body


def _usage(site: str) -> dict[str, Any]:
    response = httpx.get(f"{site}/api/v1/orgs/{ORG}/usage", headers=_secret(SECRET))
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def _thresholds(site: str) -> list[int]:
    response = httpx.get(f"{site}/api/v1/orgs/{ORG}/alerts", headers=_secret(SECRET))
    assert response.status_code == 200
    return response.json()["thresholds"]  # type: ignore[no-any-return]


# ---- 1. sign in and out ----------------------------------------------------------------------


def test_sign_in_and_out(browser: Browser, site: str) -> None:
    context = _context(browser)
    page = context.new_page()
    watch = Watch(page)
    try:
        page.goto(f"{site}/orgs/{ORG}/overview")
        assert page.url == f"{site}/signin"

        for key, error in (
            ("sk_not_a_key", "Unknown or revoked key."),
            (WRITE, "A write key cannot sign in"),
        ):
            sign_in(page, site, key)
            assert page.url == f"{site}/signin"
            expect(page.get_by_role("alert")).to_contain_text(error)
            assert not any(c["name"] == "maumeter_session" for c in context.cookies())
        # the refused attempts answer 401, which Chrome also logs; nothing else went wrong
        assert [p for p in watch.take() if "401" not in p] == []

        sign_in(page, site, SECRET)
        assert page.url == f"{site}/orgs/{ORG}/overview"
        expect(page.locator("header .who")).to_have_text(ORG)
        expect(page.get_by_test_id("mau")).to_have_text(f"{_usage(site)['mau']:,}")
        (session,) = [c for c in context.cookies() if c["name"] == "maumeter_session"]
        assert session["httpOnly"] and session["sameSite"] == "Strict"

        sign_out(page)
        assert page.url == f"{site}/signin"
        for path in (f"/orgs/{ORG}/overview", f"/orgs/{ORG}/settings", "/", "/accounts"):
            page.goto(site + path)
            assert page.url == f"{site}/signin", path
        # the old session id is dead on the server too, not only forgotten by the browser
        context.add_cookies([{"name": session["name"], "value": session["value"], "url": site}])
        assert session["value"] in [c["value"] for c in context.cookies()]
        page.goto(f"{site}/orgs/{ORG}/statements")
        assert page.url == f"{site}/signin"
        assert watch.take() == [] and watch.dialogs == []
    finally:
        context.close()


# ---- 2. every page loads cleanly -------------------------------------------------------------


def test_every_page_loads_without_errors(
    org: Watch, admin: Watch, site: str, orgs: list[str], person: str, clean: None
) -> None:
    problems: dict[str, list[str]] = {}
    for name in ORG_PAGES:
        _visit(org, _url(site, name))
        expect(org.page.locator("nav.pages a.active")).to_have_attribute(
            "href", f"/orgs/{ORG}/{name}"
        )
        problems[name] = org.take()
    for url in (
        _url(site, "explain", person),
        f"{site}/orgs/{ORG}/lifecycle?interval=day",
        f"{site}/orgs/{ORG}/retention?interval=week",
        f"{site}/orgs/{ORG}/segments?trait=plan",
    ):
        _visit(org, url)
        problems[url] = org.take()
    expect(org.page.locator("header .who")).to_have_text(ORG)

    _visit(admin, f"{site}/accounts")
    problems["accounts"] = admin.take()
    rows = admin.page.locator("table.accounts tbody tr")
    expect(rows).to_have_count(len(orgs))
    for name in orgs:  # the operator reads every org, `demo` and the others
        _visit(admin, f"{site}/orgs/{name}/overview")
        expect(admin.page.locator("header .who")).to_have_text("operator")
        problems[f"admin: {name} overview"] = admin.take()
    assert {k: v for k, v in problems.items() if v} == {}


# ---- 3. every chart draws its data -----------------------------------------------------------


def test_every_chart_renders_with_data(
    org: Watch, admin: Watch, site: str, orgs: list[str], clean: None
) -> None:
    found: dict[str, list[str]] = {}
    for name, count in CHARTS.items():
        _visit(org, _url(site, name))
        drawn = charts(org.page)
        assert len(drawn) == count, (name, [c["label"] for c in drawn])
        for chart in drawn:
            if chart["label"] in EXPECTED_EMPTY.get(name, set()):
                continue
            if chart["points"] <= 0 or chart["drawn"] == 0 or "empty" in chart["classes"]:
                found.setdefault(name, []).append(chart["label"])
    assert found == {}, f"charts without data: {found}"
    assert org.take() == []

    # the operator's sparklines: one per org, each with the org's past months
    _visit(admin, f"{site}/accounts")
    sparks = charts(admin.page, "td.spark svg")
    assert len(sparks) == len(orgs)
    assert all(s["points"] > 0 and s["drawn"] > 0 for s in sparks), sparks

    # legitimately empty: an org without experiments or flags says so instead of drawing
    if "legacy" in orgs:
        _visit(admin, f"{site}/orgs/legacy/projects")
        by_label = {c["label"].split(",")[0]: c for c in charts(admin.page)}
        for label in ("MAU per experiment", "MAU per flag"):
            chart = by_label[label]
            assert chart["points"] == 0 and "empty" in chart["classes"], chart
            assert "No data yet" in chart["text"]
        assert by_label["MAU per project"]["points"] > 0
    assert admin.take() == []


# ---- 9. screenshots (before the tests below add keys, live persons and injected labels) ------


def test_screenshots_of_every_page(
    org: Watch, admin: Watch, browser: Browser, site: str, person: str, clean: None
) -> None:
    shots = []
    for name in ORG_PAGES:
        _visit(org, _url(site, name, person))
        shots.append(screenshot(org.page, name))
    _visit(admin, f"{site}/accounts")
    shots.append(screenshot(admin.page, "accounts"))
    context = _context(browser)
    try:
        page = context.new_page()
        page.goto(f"{site}/signin")
        shots.append(screenshot(page, "signin"))
    finally:
        context.close()
    for shot in shots:
        data = Path(shot).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 5_000, shot
    assert org.take() == [] and admin.take() == []


# ---- 4. the overview follows new events without a reload -------------------------------------


def test_overview_mau_moves_without_reload(org: Watch, site: str, clean: None) -> None:
    page = org.page
    _visit(org, _url(site, "overview"))
    before = page.get_by_test_id("mau").inner_text()
    assert before == f"{_usage(site)['mau']:,}"
    page.evaluate("window.__e2e_marker = 'still the same page'")
    run = uuid.uuid4().hex[:8]
    _send(
        site,
        [{"type": "track", "userId": f"live-{run}-{i}", "event": "Signed Up"} for i in range(5)],
    )
    after = f"{_usage(site)['mau']:,}"
    assert after != before
    started = time.monotonic()
    expect(page.get_by_test_id("mau")).to_have_text(after, timeout=15_000)
    assert time.monotonic() - started < 15
    assert page.evaluate("window.__e2e_marker") == "still the same page"
    assert page.url == _url(site, "overview")
    assert org.take() == []


# ---- 5. a statement's CSV has exactly its MAU rows -------------------------------------------


def test_statement_csv_download_has_mau_rows(org: Watch, site: str, clean: None) -> None:
    page = org.page
    _visit(org, _url(site, "statements"))
    links = page.locator("[data-testid^='csv-']")
    months = [
        str(x).removeprefix("csv-")
        for x in links.evaluate_all("els => els.map(e => e.getAttribute('data-testid'))")
    ]
    assert len(months) >= 2, "the demo closes its past months"
    for month in {months[0], months[-1]}:  # the newest and the oldest
        row = page.locator("table.statements tbody tr", has=page.get_by_test_id(f"csv-{month}"))
        shown = int(row.locator("td").nth(1).inner_text().replace(",", ""))
        api = httpx.get(
            f"{site}/api/v1/orgs/{ORG}/statements/{month}", headers=_secret(SECRET)
        ).json()
        with page.expect_download() as info:
            page.get_by_test_id(f"csv-{month}").click()
        download = info.value
        failure = download.failure()
        if failure is not None:
            status = page.request.get(download.url).status
            pytest.fail(f"the CSV of {month} did not download ({failure}): HTTP {status}")
        assert download.suggested_filename == f"{ORG}-{month}-persons.csv"
        rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text("utf-8"))))
        assert len(rows) == shown == api["mau"] > 0, month
        keys = {r["person_key"] for r in rows}
        assert len(keys) == len(rows)
        same = httpx.get(  # the same persons as the API's list
            f"{site}/api/v1/orgs/{ORG}/statements/{month}/persons",
            params={"format": "csv"},
            headers=_secret(SECRET),
        )
        assert keys == {r["person_key"] for r in csv.DictReader(io.StringIO(same.text))}
    assert page.url == _url(site, "statements")
    assert org.take() == []


# ---- 7. forms need their CSRF token ----------------------------------------------------------


def test_forms_need_the_csrf_token(org: Watch, browser: Browser, site: str, clean: None) -> None:
    page = org.page
    target = f"{site}/orgs/{ORG}/settings/alerts"
    _visit(org, _url(site, "settings"))
    token = page.locator("form[action$='/settings/alerts'] input[name=csrf]").input_value()
    original = _thresholds(site)
    assert original

    # page.request shares the browser's cookies: signed in, only the token is missing or wrong
    for form in ({"thresholds": "1,2,3"}, {"thresholds": "1,2,3", "csrf": token[::-1]}):
        response = page.request.post(target, form=form, max_redirects=0)
        assert response.status == 403, form
        assert "CSRF" in response.text()
        assert _thresholds(site) == original
    response = page.request.post(f"{site}/signout", form={}, max_redirects=0)
    assert response.status == 403
    _visit(org, _url(site, "overview"))  # still signed in
    expect(page.locator("header .who")).to_have_text(ORG)

    # with the token (the real form): saved, then put back
    _visit(org, _url(site, "settings"))
    form = page.locator("form[action$='/settings/alerts']")
    for values in ([60, 85], original):
        form.locator("input[name=thresholds]").fill(",".join(map(str, values)))
        with page.expect_navigation():
            form.get_by_role("button", name="Save").click()
        expect(page.get_by_role("status")).to_have_text("Alert thresholds saved.")
        assert _thresholds(site) == values
        form = page.locator("form[action$='/settings/alerts']")
    assert org.take() == []

    # the sign-in form has its own token, double-submitted in a cookie
    context = _context(browser)
    try:
        fresh = context.new_page()
        answer = fresh.request.post(f"{site}/signin", form={"key": SECRET}, max_redirects=0)
        assert answer.status == 403 and "The form expired" in answer.text()
        fresh.goto(f"{site}/signin")
        login = fresh.locator("input[name=csrf]").input_value()
        answer = fresh.request.post(
            f"{site}/signin", form={"key": SECRET, "csrf": login[::-1]}, max_redirects=0
        )
        assert answer.status == 403
        assert not any(c["name"] == "maumeter_session" for c in context.cookies())
        answer = fresh.request.post(
            f"{site}/signin", form={"key": SECRET, "csrf": login}, max_redirects=0
        )
        assert answer.status == 303
        assert any(c["name"] == "maumeter_session" for c in context.cookies())
    finally:
        context.close()


# ---- 8. secrets are never echoed; a new key is shown once ------------------------------------


def test_secrets_never_shown_and_new_key_shown_once(
    org: Watch, admin: Watch, site: str, orgs: list[str], person: str, clean: None
) -> None:
    page = org.page
    for name in ORG_PAGES:
        html = _visit(org, _url(site, name, person))
        assert SECRET not in html and SECRET not in page.content(), name
    assert all(SECRET not in c["value"] for c in page.context.cookies())
    for url in [f"{site}/accounts", *(f"{site}/orgs/{o}/settings" for o in orgs)]:
        html = _visit(admin, url)
        assert ADMIN_TOKEN not in html and SECRET not in html, url
    assert all(ADMIN_TOKEN not in c["value"] for c in admin.page.context.cookies())

    _visit(org, _url(site, "settings"))
    assert page.get_by_test_id("new-secret").count() == 0
    with page.expect_navigation():
        page.get_by_role("button", name="New secret key").click()
    shown = page.get_by_test_id("new-secret")
    expect(shown).to_be_visible()
    new = shown.locator("code").inner_text().strip()
    assert new.startswith("sk_") and new != SECRET
    assert httpx.get(f"{site}/api/v1/orgs/{ORG}/usage", headers=_secret(new)).status_code == 200

    html = _visit(org, _url(site, "settings"))  # a fresh look: the key is gone for good
    assert page.get_by_test_id("new-secret").count() == 0
    assert new not in html and new[:8] + "…" in html  # only its hint remains

    # revoking it from the keys table ends it
    row = page.locator("tr", has=page.locator("code", has_text=new[:8] + "…"))
    with page.expect_navigation():
        row.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status")).to_have_text("Key revoked.")
    assert httpx.get(f"{site}/api/v1/orgs/{ORG}/usage", headers=_secret(new)).status_code == 401
    assert org.take() == [] and admin.take() == []


# ---- 6. injected markup stays text -----------------------------------------------------------


def test_injected_markup_is_shown_as_text(org: Watch, site: str, clean: None) -> None:
    who = f"xss-{IMG}"
    _send(
        site,
        [
            {"type": "identify", "userId": who, "traits": {"country": SCRIPT, "plan": IMG}},
            {
                "type": "track",
                "userId": who,
                "event": SCRIPT,
                "properties": {"experiment_id": SCRIPT, "flag_key": IMG},
            },
            {"type": "track", "userId": who, "event": IMG, "properties": {"experiment_id": IMG}},
        ],
    )
    page = org.page
    visits = {
        "explain": (_url(site, "explain", who), [who]),  # the person id itself is markup
        "segments": (f"{site}/orgs/{ORG}/segments?trait=country", [SCRIPT]),
        "segments (plan)": (f"{site}/orgs/{ORG}/segments?trait=plan", [IMG]),
        "projects": (_url(site, "projects"), [SCRIPT, IMG]),
    }
    for name, (url, texts) in visits.items():
        html = _visit(org, url)
        page.wait_for_timeout(300)  # time for an injected onerror to fire, were there one
        assert SCRIPT not in html and IMG not in html, name
        for text in texts:
            escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            assert escaped in html, (name, text)
            assert page.get_by_text(text, exact=False).count() > 0, (name, text)
        assert page.locator("img[src='x']").count() == 0, name
        assert (
            page.evaluate(
                "[...document.scripts].filter(s => s.textContent.includes('alert')).length"
            )
            == 0
        ), name
        assert org.dialogs == [], name
    assert org.take() == []
