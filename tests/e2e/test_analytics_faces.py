"""The analytics through the faces: every endpoint of the real server answers what the library
computes, the CLI prints the same document through the running server and in process, and bad
parameters are 4xx naming the field.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from e2e.conftest import ADMIN, Server, cli, start

pytestmark = pytest.mark.e2e

COUNTRIES = ["FR", "DE", "US"]
AGENTS = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0",
    "Mozilla/5.0 (iPad; CPU OS 16_0 like Mac OS X) Safari/604.1",
]


def history(now: datetime) -> list[dict[str, Any]]:
    """150 days of activity by 60 persons, with traits, devices and anonymous sign-ups."""
    rng = random.Random(5)
    records: list[dict[str, Any]] = []
    for p in range(60):
        first = rng.randint(1, 150)
        ids = {"userId": f"user-{p}"} if p % 3 else {"anonymousId": f"anon-{p}"}
        if p % 5 == 0:  # an anonymous visitor who signs up later
            records.append(
                {
                    "type": "page",
                    "anonymousId": f"visitor-{p}",
                    "timestamp": (now - timedelta(days=first, hours=2)).isoformat(),
                }
            )
            records.append(
                {
                    "type": "identify",
                    "anonymousId": f"visitor-{p}",
                    "userId": f"user-{p}",
                    "traits": {"country": COUNTRIES[p % 3]},
                    "timestamp": (now - timedelta(days=first, hours=1)).isoformat(),
                }
            )
        for back in range(first, 0, -rng.choice([1, 2, 3, 7])):
            records.append(
                {
                    "type": "track",
                    "event": "Used",
                    **ids,
                    "context": {"userAgent": AGENTS[p % 3], "traits": {"plan": "pro"}},
                    "properties": {"tier": ["free", "paid"][p % 2]},
                    "timestamp": (now - timedelta(days=back, minutes=p)).isoformat(),
                }
            )
    return records


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("analytics")
    db = tmp / "e2e.duckdb"
    org = cli(db, "org", "create", "acme", "--json")
    assert org.returncode == 0, org.stderr
    assert cli(db, "project", "create", "acme", "web", "--json").returncode == 0
    data = tmp / "history.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in history(datetime.now(UTC))))
    imported = cli(db, "import", str(data), "--org", "acme", "--project", "web")
    assert imported.returncode == 0, imported.stderr
    process, url = start(db, "--no-demo")
    srv = Server(url, db, process, "", json.loads(org.stdout)["secret_key"])
    yield srv
    srv.stop()


# (API path under /api/v1/orgs/acme, query parameters, the same request as CLI arguments)
QUERIES: list[tuple[str, dict[str, str], list[str]]] = [
    ("series", {"metric": "rolling30"}, ["series", "acme", "--metric", "rolling30"]),
    (
        "series",
        {"metric": "wau", "week_start": "sunday", "by": "trait:country"},
        ["series", "acme", "--metric", "wau", "--week-start", "sunday", "--by", "trait:country"],
    ),
    (
        "series",
        {"metric": "dau", "by": "device"},
        ["series", "acme", "--metric", "dau", "--by", "device"],
    ),
    (
        "series",
        {"metric": "mau", "by": "property:tier"},
        ["series", "acme", "--metric", "mau", "--by", "property:tier"],
    ),
    ("stickiness", {}, ["stickiness", "acme"]),
    ("frequency", {"interval": "week"}, ["frequency", "acme", "--interval", "week"]),
    ("lifecycle", {"interval": "week"}, ["lifecycle", "acme", "--interval", "week"]),
    ("retention", {"interval": "month"}, ["retention", "acme", "--interval", "month"]),
    ("levels", {}, ["levels", "acme"]),
    ("levels/persons", {"level": "at_risk"}, ["levels", "acme", "--list", "at_risk"]),
    ("segments", {"by": "trait:country"}, ["segments", "acme", "--by", "trait:country"]),
    ("segments", {"by": "device"}, ["segments", "acme", "--by", "device"]),
    (
        "segments/persons",
        {"by": "device", "value": "mobile"},
        ["segments", "acme", "--by", "device", "--persons", "mobile"],
    ),
    ("growth", {}, ["growth", "acme"]),
    ("seasonality", {}, ["seasonality", "acme"]),
    ("forecast", {}, ["forecast", "acme"]),
    ("health", {}, ["health", "acme"]),
]


def test_api_and_cli_give_the_same_documents(served: Server) -> None:
    answers = []
    for path, params, args in QUERIES:
        got = httpx.get(
            f"{served.url}/api/v1/orgs/acme/{path}",
            params=params,
            headers=served.secret,
            timeout=60,
        )
        assert got.status_code == 200, (path, got.text)
        answers.append(got.json())
        through = cli(served.db, *args, "--json")
        assert through.returncode == 0, (args, through.stderr)
        assert json.loads(through.stdout) == got.json(), args
    # The documents carry data, not empty shells.
    by_path = {q[0] + json.dumps(q[1]): a for q, a in zip(QUERIES, answers, strict=True)}
    assert any(p["value"] for p in by_path['series{"metric": "rolling30"}'])
    countries = by_path['series{"metric": "wau", "week_start": "sunday", "by": "trait:country"}']
    assert {c["value"] for p in countries for c in p["breakdown"]} >= {"FR", "DE", "US"}
    assert sum(r["new"] for r in by_path['lifecycle{"interval": "week"}']) > 0
    assert by_path["levels{}"]["population"] > 0
    assert by_path['segments{"by": "device"}']["cells"]
    assert by_path["health{}"]["score"] is not None
    # The CLI in process, on the store the server released: the same answers. In process the
    # CLI calls the very functions the server does, so a few kinds of query are enough.
    served.stop()
    for i in (1, 2, 9, 12, 15):
        (_, _, args), answer = QUERIES[i], answers[i]
        local = cli(served.db, *args, "--json")
        assert local.returncode == 0, (args, local.stderr)
        assert json.loads(local.stdout) == answer, args
    tables = cli(served.db, "lifecycle", "acme", "--interval", "month")
    assert tables.returncode == 0 and "resurrecting" in tables.stdout


def test_accounts_are_the_operators_and_the_worksheet_estimates(served: Server) -> None:
    if served.process.poll() is not None:
        served.process, served.url = start(served.db, "--no-demo")
    denied = httpx.get(f"{served.url}/api/v1/accounts", headers=served.secret)
    assert denied.status_code == 403
    table = httpx.get(f"{served.url}/api/v1/accounts", headers=ADMIN, timeout=60)
    assert table.status_code == 200 and table.json()[0]["org"] == "acme"
    sheet = {
        "channels": [
            {"name": "web", "monthly_visitors": 40_000, "coverage": 0.5, "bot_share": 0.1},
            {"name": "ios", "monthly_visitors": 10_000, "coverage": 1.0, "bot_share": 0.0},
        ],
        "annual_growth": 0.2,
    }
    estimate = httpx.post(f"{served.url}/api/v1/worksheet", json=sheet, headers=served.secret)
    assert estimate.status_code == 200, estimate.text
    assert estimate.json()["mau"] == 40_000 * 0.9 * 0.5 + 10_000
    bad = httpx.post(
        f"{served.url}/api/v1/worksheet",
        json={"channels": [{"name": "web", "monthly_visitors": -1, "coverage": 2}]},
        headers=served.secret,
    )
    assert bad.status_code == 400
    fields = {e["field"] for e in bad.json()["errors"]}
    assert {"channels[0].monthly_visitors", "channels[0].coverage"} <= fields


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("lifecycle", {"interval": "year"}, "interval"),
        ("lifecycle", {"from": "2024-05-01", "to": "2024-04-01"}, "to"),
        ("series", {"metric": "dau", "from": "2000-01-01", "to": "2024-01-01"}, "to"),
        ("series", {"metric": "dau", "by": "colour"}, "by"),
        ("segments", {"by": "property:x"}, "by"),
        ("levels", {"window": "0"}, "window"),
        ("levels", {"window": "60", "population_days": "30"}, "population_days"),
        ("levels/persons", {"level": "sleepy"}, "level"),
        ("retention", {"horizon": "-1"}, "horizon"),
    ],
)
def test_bad_parameters_are_400_naming_the_field(
    served: Server, path: str, params: dict[str, str], field: str
) -> None:
    if served.process.poll() is not None:
        served.process, served.url = start(served.db, "--no-demo")
    got = httpx.get(f"{served.url}/api/v1/orgs/acme/{path}", params=params, headers=served.secret)
    assert got.status_code == 400, got.text
    assert field in {e["field"] for e in got.json()["errors"]}, got.json()
