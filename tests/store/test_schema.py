"""Migrations: a store from before keys were digests keeps working, its keys unchanged."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from maumeter.core.activity import preset
from maumeter.meter import Meter
from maumeter.store import schema


def test_version_1_store_migrates_and_its_write_keys_still_work(tmp_path: Path) -> None:
    path = tmp_path / "v1.duckdb"
    now = datetime(2025, 1, 1, tzinfo=UTC)
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, "
        "applied_at TIMESTAMPTZ NOT NULL)"
    )
    version, name, sql = schema.MIGRATIONS[0]
    con.execute(sql)
    con.execute("INSERT INTO migrations VALUES (?, ?, ?)", [version, name, now])
    con.execute("INSERT INTO orgs VALUES (1, 'acme', 'UTC', NULL, 'none', ?)", [now])
    rule = json.dumps(preset("any-activity").to_json())
    con.execute(
        "INSERT INTO projects VALUES (1, 1, 'web', 'wk_legacy_plain_key', ?, ?)", [rule, now]
    )
    con.close()
    with Meter.open(path) as meter:
        project = meter.project_for_key("wk_legacy_plain_key")
        assert project is not None and project.name == "web"
        meter.ingest([{"type": "page", "userId": "u"}], "acme", "web")
        assert meter.mau("acme").mau == 1
    con = duckdb.connect(str(path), read_only=True)
    columns = {row[0] for row in con.execute("DESCRIBE projects").fetchall()}
    stored = con.execute("SELECT digest, hint FROM keys").fetchall()
    con.close()
    assert "write_key" not in columns  # the plain key is gone from the store
    assert stored[0][1] == "wk_legac…" and "wk_legacy_plain_key" not in stored[0][0]
