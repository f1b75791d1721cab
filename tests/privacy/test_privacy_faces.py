"""The faces: the privacy API (secret key or admin, actors in the audit log) and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from maumeter.api.app import create_app
from maumeter.meter import Meter
from privacy.helpers import ADA, JAN, MAR, history, setup

BIN = Path(sys.executable).parent / "maumeter"
ADMIN = "mt_privacy_admin_token_for_tests"


def test_api_erase_audit_and_rule(meter: Meter) -> None:
    setup(meter)
    meter.ensure_admin_token(ADMIN)
    key, secret = meter.create_secret_key("acme")
    client = TestClient(create_app(meter))
    as_org = {"Authorization": f"Bearer {secret}"}
    as_admin = {"Authorization": f"Bearer {ADMIN}"}

    rule = {"activity": {"preset": "any-activity", "internal_user_ids": ["staff-1"]}}
    changed = client.put("/api/v1/orgs/acme/projects/web/rule", json=rule, headers=as_admin)
    assert changed.status_code == 200, changed.text
    assert meter.mau("acme", MAR).mau == 5
    assert [r["reason"] for r in changed.json()["restatements"]] == ["rule-change"]

    erased = client.delete(f"/api/v1/orgs/acme/persons/{ADA}", headers=as_org)
    assert erased.status_code == 200, erased.text
    assert erased.json()["persons"] == 1 and meter.mau("acme", MAR).mau == 4
    again = client.delete(f"/api/v1/orgs/acme/persons/{ADA}", headers=as_org)
    assert again.status_code == 404

    log = client.get("/api/v1/orgs/acme/audit", headers=as_org).json()
    assert log["verification"]["intact"] is True
    actors = {e["action"]: e["actor"] for e in log["entries"]}
    assert actors["rule.set"] == "admin"
    assert actors["person.erase"] == f"secret:{key.hint}"
    assert client.get("/api/v1/orgs/acme/audit").status_code == 401
    other = meter.create_org("globex").secret_key
    denied = client.get("/api/v1/orgs/acme/audit", headers={"Authorization": f"Bearer {other}"})
    assert denied.status_code == 404


def run(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), "--db", str(db), *args], capture_output=True, text=True, timeout=120
    )


def test_cli_erase_audit_and_rule(tmp_path: Path, clock: object) -> None:
    db = tmp_path / "cli.duckdb"
    with Meter.open(db, clock=clock) as meter:  # type: ignore[arg-type]
        setup(meter, history())
        frozen = meter.statements.get("acme", JAN).mau

    staff = '{"preset": "any-activity", "internal_user_ids": ["staff-1"]}'
    ruled = run(db, "rule", "set", "acme", "web", "--activity-json", staff, "--json")
    assert ruled.returncode == 0, ruled.stderr
    assert json.loads(ruled.stdout)["restatements"][0]["removed"] == ["staff-1"]

    erased = run(db, "erase", "acme", ADA, "--json")
    assert erased.returncode == 0, erased.stderr
    assert json.loads(erased.stdout)["statement_rows"] == 1
    assert run(db, "erase", "acme", ADA).returncode == 2  # not found: one line, exit 2

    audited = run(db, "audit", "acme", "--verify", "--json")
    assert audited.returncode == 0, audited.stderr
    found = json.loads(audited.stdout)
    assert [e["actor"] for e in found["entries"] if e["action"] == "person.erase"] == ["cli"]
    assert ADA not in audited.stdout
    text = run(db, "audit", "acme")
    assert "chain intact" in text.stdout

    with Meter.open(db) as meter:
        meter.store.cursor().execute("UPDATE audit_log SET actor = 'someone' WHERE seq = 1")
        assert meter.statements.get("acme", JAN).mau == frozen
    assert run(db, "audit", "acme", "--verify").returncode == 1
