"""Smoke test of the analytics benchmark (``bench.analytics --quick``): 200k events, 10 orgs.

It proves the benchmark runs end to end into a temporary directory and that every SQL result
equals the library's; it asserts no timings.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from bench.analytics import SECTION, write_section

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(90)
def test_analytics_bench_quick(tmp_path: Path) -> None:
    results_md = tmp_path / "RESULTS.md"
    results_md.write_text("# Benchmark results\n\n## Other\n\nkept\n")
    raw = tmp_path / "analytics.json"
    command = [sys.executable, "-m", "bench.analytics", "--quick", "--data-dir", str(tmp_path)]
    command += ["--output", str(results_md), "--json", str(raw)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=80)
    assert done.returncode == 0, done.stderr[-3000:]

    r = json.loads(raw.read_text())
    assert r["equal"] is True
    rows = {row["name"]: row for row in r["rows"]}
    compared = ["dau", "wau", "mau", "rolling7", "rolling30", "lifecycle", "retention"]
    compared += ["levels", "health"]
    for name in compared:
        assert rows[name]["equal"] is True, (name, rows[name]["detail"])
        assert len(rows[name]["lib_warm_ms"]) == len(rows[name]["sql_ms"]) == 2
        assert rows[name]["lib_median_ms"] > 0 and rows[name]["sql_median_ms"] > 0
    accounts = rows["accounts"]  # skipped with a note in a build without accounts()
    assert accounts["equal"] is True or accounts["note"].startswith("skipped"), accounts
    assert r["main_store"]["accepted"] == 200_000

    text = results_md.read_text()
    assert text.startswith("# Benchmark results\n\n## Other\n\nkept\n")
    assert text.count(SECTION) == 1
    assert "| DAU per day, 1 year |" in text and "| lifecycle, 12 months |" in text
    assert "| health of 10 orgs: `accounts()`" in text and "| health inputs of 10 orgs" in text
    assert list(tmp_path.glob("*-sql.duckdb")) == []  # the SQL side's copies are removed


def test_write_section_replaces_only_its_section_and_keeps_notes(tmp_path: Path) -> None:
    path = tmp_path / "RESULTS.md"
    path.write_text(
        f"# Results\n\n## Before\n\nb\n\n{SECTION}\n\nold\n\n### Notes\n\nby hand\n\n"
        "## After\n\na\n"
    )
    write_section(path, [SECTION, "", "new", ""])
    assert path.read_text() == (
        f"# Results\n\n## Before\n\nb\n\n{SECTION}\n\nnew\n\n### Notes\n\nby hand\n\n"
        "## After\n\na\n"
    )
    path.write_text("# Results\n\n## Before\n\nb\n")
    write_section(path, [SECTION, "", "new", ""])
    write_section(path, [SECTION, "", "newer", ""])
    assert path.read_text() == f"# Results\n\n## Before\n\nb\n\n{SECTION}\n\nnewer\n"
