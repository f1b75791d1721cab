"""Plans over HTTP and through the CLI while the server holds the store: only the operator
sets a plan, the org reads it, and the admission gate enforces it from the next request."""

from __future__ import annotations

import json

import httpx

from .conftest import ADMIN, Server, cli


def test_only_the_operator_sets_a_plan_and_admission_follows(server: Server) -> None:
    body = {"tier": "custom", "allotment": 2, "policy": "hard"}
    denied = httpx.put(f"{server.url}/api/v1/orgs/acme/plan", json=body, headers=server.secret)
    assert denied.status_code == 403
    set_ = httpx.put(f"{server.url}/api/v1/orgs/acme/plan", json=body, headers=ADMIN)
    assert set_.status_code == 200, set_.text
    assert set_.json()["allotment"] == 2

    read = httpx.get(f"{server.url}/api/v1/orgs/acme/plan", headers=server.secret).json()
    assert (read["tier"], read["allotment"], read["policy"]) == ("custom", 2, "hard")

    auth = (server.write_key, "")
    answers = [
        httpx.post(f"{server.url}/v1/admit", json={"userId": f"u{i}"}, auth=auth).json()
        for i in range(3)
    ]
    assert [a["admitted"] for a in answers] == [True, True, False]
    assert answers[2]["reason"] == "cap-reached"

    live = httpx.get(f"{server.url}/api/v1/orgs/acme/usage/live", headers=server.secret).json()
    assert (live["mau"], live["effective_cap"], live["refused"]) == (2, 2, 1)
    assert live["percent_used"] == 100.0
    assert live["projection"]["expected"] >= 2


def test_bad_plans_are_400_naming_the_field(server: Server) -> None:
    url = f"{server.url}/api/v1/orgs/acme/plan"
    for body, field in (
        ({"tier": "nope"}, "tier"),
        ({"tier": "growth", "allotment": 3}, "allotment"),
        ({"policy": "maybe"}, "policy"),
        ({"term": {"start": "2024-13", "months": 3}}, "term.start"),
        ({"rollover": {"enabled": True, "max_carried": -1}}, "rollover.max_carried"),
        ({"monthly_price": "ten"}, "monthly_price"),
    ):
        answer = httpx.put(url, json=body, headers=ADMIN)
        assert answer.status_code == 400, (body, answer.text)
        fields = {e["field"] for e in answer.json().get("errors", [])}
        assert any(f.endswith(field) or field in f for f in fields), (body, answer.json())
    assert (
        httpx.put(f"{server.url}/api/v1/orgs/nobody/plan", json={}, headers=ADMIN).status_code
        == 404
    )


def test_the_cli_sets_and_shows_plans_through_the_running_server(server: Server) -> None:
    done = cli(server.db, "plan", "set", "acme", "--tier", "growth", "--policy", "soft", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["allotment"] == 5000
    shown = cli(server.db, "plan", "show", "acme", "--json")
    assert json.loads(shown.stdout)["cap"]["effective_cap"] == 5000
    usage = cli(server.db, "usage", "acme", "--json")
    assert json.loads(usage.stdout)["effective_cap"] == 5000
    bad = cli(server.db, "plan", "set", "acme", "--tier", "nope")
    assert bad.returncode == 2
    assert "tier" in bad.stderr
