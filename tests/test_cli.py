"""The CLI contract: commands, --json shapes, file formats, and one-line errors with exit 2."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

BIN = Path(sys.executable).parent / "maumeter"

RECORDS = [
    {
        "type": "page",
        "anonymousId": "anon-1",
        "timestamp": "2024-03-01T10:00:00Z",
        "messageId": "m1",
        "context": {"page": {"url": "https://app.example.com/"}},
    },
    {
        "type": "identify",
        "anonymousId": "anon-1",
        "userId": "ada",
        "timestamp": "2024-03-02T10:00:00Z",
        "messageId": "m2",
        "traits": {"email": "ada@example.com"},
    },
    {
        "type": "track",
        "userId": "ada",
        "event": "Logged In",
        "timestamp": "2024-03-03T10:00:00Z",
        "messageId": "m3",
    },
    {
        "type": "track",
        "userId": 42,
        "event": "Logged In",
        "timestamp": "2024-03-04T23:30:00Z",
        "messageId": "m4",
    },
    {
        "type": "track",
        "anonymousId": "anon-2",
        "event": "Logged In",
        "timestamp": "2024-04-01T00:00:00Z",
        "messageId": "m5",
    },
]


def run(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), "--db", str(db), *args], capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "cli.duckdb"
    org = run(path, "org", "create", "acme", "--timezone", "Europe/Paris", "--json")
    assert org.returncode == 0, org.stderr
    assert json.loads(org.stdout)["org"] == "acme"
    project = run(path, "project", "create", "acme", "web", "--activity", "any-activity", "--json")
    assert project.returncode == 0, project.stderr
    body = json.loads(project.stdout)
    assert set(body) == {"org", "project", "write_key"} and body["write_key"].startswith("wk_")
    return path


def write(path: Path, kind: str) -> Path:
    if kind == "jsonl":
        path.write_text("\n".join(json.dumps(r) for r in RECORDS) + "\n")
    elif kind == "json":
        path.write_text(json.dumps(RECORDS))
    else:
        flat = []
        for r in RECORDS:
            row = {k: v for k, v in r.items() if not isinstance(v, dict)}
            if "traits" in r:
                row["traits.email"] = r["traits"]["email"]
            if "context" in r:
                row["context.page.url"] = r["context"]["page"]["url"]
            row["userId"] = str(row["userId"]) if "userId" in row else None
            flat.append(row)
        columns = [
            "type",
            "userId",
            "anonymousId",
            "event",
            "timestamp",
            "messageId",
            "traits.email",
            "context.page.url",
        ]
        if kind == "csv":
            with path.open("w", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=columns)
                writer.writeheader()
                writer.writerows({c: row.get(c) for c in columns} for row in flat)
        else:
            pq.write_table(pa.table({c: [row.get(c) for row in flat] for c in columns}), path)
    return path


@pytest.mark.parametrize("kind", ["jsonl", "json", "csv", "parquet"])
def test_import_every_format_then_mau(db: Path, tmp_path: Path, kind: str) -> None:
    source = write(tmp_path / f"events.{kind}", kind)
    result = run(db, "import", str(source), "--org", "acme", "--project", "web")
    assert result.returncode == 0, result.stderr
    assert "accepted 5" in result.stdout
    march = json.loads(run(db, "mau", "acme", "--month", "2024-03", "--json").stdout)
    assert march == {
        "org": "acme",
        "project": None,
        "month": "2024-03",
        "mau": 2,
        "identified": 2,
        "anonymous": 0,
        "impressions": 3,
        "cap": 2500,  # the default plan: the starter tier
        "policy": "none",
        "refused": 0,
    }
    # 2024-04-01T00:00Z is already April in UTC and in Paris (02:00).
    april = json.loads(
        run(db, "mau", "acme", "--project", "web", "--month", "2024-04", "--json").stdout
    )
    assert (april["project"], april["mau"], april["anonymous"]) == ("web", 1, 1)
    again = run(db, "import", str(source), "--org", "acme", "--project", "web")
    assert "accepted 0  duplicates 5" in again.stdout


def series(db: Path, metric: str, start: str, end: str) -> list[dict[str, Any]]:
    result = run(db, "series", "acme", "--metric", metric, "--from", start, "--to", end, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_series_export_and_verify(db: Path, tmp_path: Path) -> None:
    run(
        db, "import", str(write(tmp_path / "e.jsonl", "jsonl")), "--org", "acme", "--project", "web"
    )
    # 2024-03-04T23:30Z is 2024-03-05 00:30 in Paris.
    assert series(db, "dau", "2024-03-01", "2024-03-05") == [
        {"period": f"2024-03-0{d}", "value": v} for d, v in [(1, 1), (2, 0), (3, 1), (4, 0), (5, 1)]
    ]
    assert series(db, "wau", "2024-03-01", "2024-03-05") == [
        {"period": "2024-W09", "value": 1},
        {"period": "2024-W10", "value": 1},
    ]
    assert series(db, "mau", "2024-03-01", "2024-04-30") == [
        {"period": "2024-03", "value": 2},
        {"period": "2024-04", "value": 1},
    ]
    rolling = series(db, "rolling30", "2024-03-30", "2024-04-01")
    assert [p["value"] for p in rolling] == [2, 2, 3]
    out = tmp_path / "persons.csv"
    assert run(db, "export", "acme", "--month", "2024-03", "--output", str(out)).returncode == 0
    rows = list(csv.DictReader(out.open()))
    assert sorted(r["person"] for r in rows) == ["42", "ada"]
    ada = next(r for r in rows if r["person"] == "ada")
    assert (ada["message_id"], ada["event_type"]) == ("m1", "page")
    verified = run(db, "verify", "acme")
    assert verified.returncode == 0 and "verified" in verified.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["mau", "nope"], "no org named 'nope'"),
        (["mau", "acme", "--month", "2024-3"], "YYYY-MM"),
        (["mau", "acme", "--project", "nope"], "no project named 'nope'"),
        (["org", "create", "acme"], "already exists"),
        (["org", "create", "x", "--timezone", "Mars/Base"], "timezone"),
        (["org", "create", "bad name"], "org"),
        (["project", "create", "acme", "p", "--activity", "bogus"], "bogus"),
        (["project", "create", "acme", "p", "--activity-json", "{not json"], "activity-json"),
        (["import", "missing.jsonl", "--org", "acme", "--project", "web"], "does not exist"),
        (
            ["series", "acme", "--metric", "dau", "--from", "2024-03-05", "--to", "2024-03-01"],
            "--from",
        ),
        (
            ["series", "acme", "--metric", "dau", "--from", "yesterday", "--to", "2024-03-01"],
            "YYYY-MM-DD",
        ),
    ],
)
def test_errors_are_one_line_and_exit_2(db: Path, args: list[str], needle: str) -> None:
    result = run(db, *args)
    assert result.returncode == 2, result
    assert needle in result.stderr
    assert "Traceback" not in result.stderr


def test_rejected_records_are_summarised(db: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"type": "track", "userId": "u", "timestamp": "2024-03-01T00:00:00Z"}\nnot json\n'
    )
    result = run(db, "import", str(bad), "--org", "acme", "--project", "web")
    assert result.returncode == 0
    assert "rejected 2" in result.stdout
    assert "record 0: event: required" in result.stdout
    assert "line 2 is not valid JSON" in result.stdout
