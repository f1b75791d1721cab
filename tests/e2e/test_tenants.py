"""Keys and tenants on the real server: the isolation matrix, rotation, revocation, limits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from .conftest import ADMIN, Server, cli, start

pytestmark = pytest.mark.e2e

MONTH_RANGE = {"metric": "dau", "from": "2026-01-01", "to": "2026-01-03"}


@dataclass
class World:
    server: Server
    beta_secret: str
    beta_write: str
    acme_key_id: int


@pytest.fixture
def world(server: Server) -> Iterator[World]:
    url = server.url
    made = httpx.post(f"{url}/api/v1/orgs", json={"name": "beta"}, headers=ADMIN)
    assert made.status_code == 201, made.text
    beta_secret = made.json()["secret_key"]
    app = httpx.post(
        f"{url}/api/v1/orgs/beta/projects",
        json={"name": "app"},
        headers={"Authorization": f"Bearer {beta_secret}"},
    )
    assert app.status_code == 201
    beta_write = app.json()["write_key"]
    for key, person in ((server.write_key, "acme-person-7"), (beta_write, "beta-person-9")):
        r = httpx.post(f"{url}/v1/track", json={"userId": person, "event": "Seen"}, auth=(key, ""))
        assert r.status_code == 200
    keys = httpx.get(f"{url}/api/v1/orgs/acme/keys", headers=server.secret).json()
    write_id = next(k["id"] for k in keys if k["kind"] == "write")
    yield World(server, beta_secret, beta_write, write_id)


def callers(w: World) -> dict[str, dict[str, str]]:
    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    return {
        "none": {},
        "bad": bearer("sk_not_a_key_at_all"),
        "acme-write": bearer(w.server.write_key),
        "acme-secret": bearer(w.server.secret_key),
        "beta-secret": bearer(w.beta_secret),
        "admin": ADMIN,
    }


OK = "ok"  # 2xx, or 409 when a creation conflicts with one made by a previous caller
ORG_SCOPED = {
    "none": 401,
    "bad": 401,
    "acme-write": 403,
    "acme-secret": OK,
    "beta-secret": 404,
    "admin": OK,
}
ADMIN_ONLY = {
    "none": 401,
    "bad": 401,
    "acme-write": 403,
    "acme-secret": 403,
    "beta-secret": 403,
    "admin": OK,
}
WRITE_ONLY = {
    "none": 401,
    "bad": 401,
    "acme-write": OK,
    "acme-secret": 403,
    "beta-secret": 403,
    "admin": 403,
}
ENDPOINTS: list[tuple[str, str, dict[str, object], dict[str, object]]] = [
    ("GET", "/api/v1/orgs/acme", {}, ORG_SCOPED),
    ("GET", "/api/v1/orgs/acme/usage", {}, ORG_SCOPED),
    ("GET", "/api/v1/orgs/acme/series", {"params": MONTH_RANGE}, ORG_SCOPED),
    ("GET", "/api/v1/orgs/acme/persons", {}, ORG_SCOPED),
    ("GET", "/api/v1/orgs/acme/persons", {"params": {"format": "csv"}}, ORG_SCOPED),
    ("POST", "/api/v1/orgs/acme/verify", {}, ORG_SCOPED),
    ("GET", "/api/v1/orgs/acme/projects", {}, ORG_SCOPED),
    ("GET", "/api/v1/orgs/acme/keys", {}, ORG_SCOPED),
    ("POST", "/api/v1/orgs/acme/projects", {"json": {"name": "mobile"}}, ORG_SCOPED),
    ("POST", "/api/v1/orgs/acme/keys", {"json": {}}, ORG_SCOPED),
    ("POST", "/api/v1/orgs/acme/projects/web/keys", {}, ORG_SCOPED),
    ("GET", "/api/v1/orgs/acme/webhooks", {}, ORG_SCOPED),
    (
        "POST",
        "/api/v1/orgs/acme/webhooks",
        {"json": {"url": "https://93.184.216.34/h"}},
        ORG_SCOPED,
    ),
    ("GET", "/api/v1/orgs/acme/webhooks/deliveries", {}, ORG_SCOPED),
    ("GET", "/api/v1/orgs/acme/alerts", {}, ORG_SCOPED),
    ("PUT", "/api/v1/orgs/acme/alerts", {"json": {"thresholds": [80, 90, 100]}}, ORG_SCOPED),
    ("GET", "/api/v1/orgs/acme/plan", {}, ORG_SCOPED),
    ("GET", "/api/v1/orgs/acme/usage/live", {}, ORG_SCOPED),
    ("GET", "/api/v1/orgs/acme/caps", {}, ORG_SCOPED),
    ("PUT", "/api/v1/orgs/acme/plan", {"json": {"tier": "growth"}}, ADMIN_ONLY),
    ("GET", "/api/v1/tiers", {}, {**ADMIN_ONLY, "acme-secret": OK, "beta-secret": OK}),
    ("GET", "/api/v1/orgs", {}, ADMIN_ONLY),
    ("POST", "/api/v1/orgs", {"json": {"name": "gamma"}}, ADMIN_ONLY),
    ("POST", "/v1/track", {"json": {"userId": "u-matrix", "event": "e"}}, WRITE_ONLY),
    ("POST", "/v1/batch", {"json": {"batch": [{"type": "page", "userId": "u"}]}}, WRITE_ONLY),
    ("POST", "/v1/admit", {"json": {"userId": "u-admit"}}, WRITE_ONLY),
]


def test_isolation_matrix(world: World) -> None:
    """Every endpoint × every kind of caller → the expected status; no answer to one org's key
    ever holds the other org's persons or keys."""
    url = world.server.url
    failures = []
    for name, headers in callers(world).items():
        for method, path, extra, expected in ENDPOINTS:
            r = httpx.request(method, url + path, headers=headers, **extra)  # type: ignore[arg-type]
            want = expected[name]
            good = (
                (r.status_code < 300 or r.status_code == 409)
                if want == OK
                else (r.status_code == want)
            )
            if not good:
                failures.append(f"{name} {method} {path}: {r.status_code} (want {want}) {r.text}")
            if name != "admin":
                assert "beta-person-9" not in r.text and world.beta_secret not in r.text
                assert world.beta_write not in r.text
            assert r.status_code < 500
    assert failures == []
    # and beta's own key reads beta, never acme
    beta = {"Authorization": f"Bearer {world.beta_secret}"}
    persons = httpx.get(f"{url}/api/v1/orgs/beta/persons", headers=beta).json()
    assert [p["person"] for p in persons] == ["beta-person-9"]


def test_rotation_and_revocation(world: World) -> None:
    url, secret = world.server.url, world.server.secret
    rotated = httpx.post(f"{url}/api/v1/orgs/acme/projects/web/keys", headers=secret)
    assert rotated.status_code == 201
    new_key = rotated.json()["key"]
    third = httpx.post(f"{url}/api/v1/orgs/acme/projects/web/keys", headers=secret)
    assert third.status_code == 409 and "revoke one" in third.json()["message"]
    event = {"userId": "rotating", "event": "e"}
    for key in (world.server.write_key, new_key):  # both work during the rotation
        assert httpx.post(f"{url}/v1/track", json=event, auth=(key, "")).status_code == 200
    revoked = httpx.delete(f"{url}/api/v1/orgs/acme/keys/{world.acme_key_id}", headers=secret)
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    # effective at once: the very next request with the old key is refused
    old = httpx.post(f"{url}/v1/track", json=event, auth=(world.server.write_key, ""))
    assert old.status_code == 401
    assert httpx.post(f"{url}/v1/track", json=event, auth=(new_key, "")).status_code == 200
    # beta cannot revoke acme's keys, nor see that they exist
    beta = {"Authorization": f"Bearer {world.beta_secret}"}
    assert (
        httpx.delete(f"{url}/api/v1/orgs/beta/keys/{world.acme_key_id}", headers=beta).status_code
        == 404
    )
    listed = httpx.get(f"{url}/api/v1/orgs/acme/keys", headers=secret).json()
    assert all(new_key not in str(k) for k in listed)  # hints only, never the key


def test_rate_limit_answers_429_with_retry_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "rl.duckdb"
    assert cli(db, "org", "create", "acme").returncode == 0
    made = cli(db, "project", "create", "acme", "web", "--json")
    key = json.loads(made.stdout)["write_key"]
    # A slow refill (one request every 5 s) so that the six requests below exhaust the burst
    # however slowly a busy machine answers them (at 2/s, six requests that took 1.5 s were
    # all let through when the suite ran in parallel).
    monkeypatch.setenv("MAUMETER_RATE_LIMIT", "0.2")
    monkeypatch.setenv("MAUMETER_RATE_BURST", "3")
    process, url = start(db, "--no-demo")
    try:
        statuses = []
        for i in range(6):
            r = httpx.post(
                f"{url}/v1/track", json={"userId": f"u{i}", "event": "e"}, auth=(key, "")
            )
            statuses.append(r.status_code)
            if r.status_code == 429:
                assert int(r.headers["retry-after"]) >= 1
                assert "rate limit" in r.json()["message"]
        assert statuses[:3] == [200, 200, 200] and 429 in statuses
    finally:
        process.terminate()
        process.wait(timeout=30)
