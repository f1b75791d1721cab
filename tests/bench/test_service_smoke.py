"""Smoke test of the service benchmarks (``bench.service``): each measurement for ~2 seconds.

1.5 s measured after a short warm-up (the memory run 4 s, to visit its whole pool). It proves
the code works end to end against real servers; it asserts no timings, only that events were
acknowledged and the figures are positive.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from bench.loadgen import BATCH, BodyMaker, Persons

from maumeter.core import wire

REPO = Path(__file__).resolve().parents[2]


def test_bodies_are_valid_unique_batches() -> None:
    maker = BodyMaker(Persons(500, length=1_000))
    bodies = [wire.loads(maker.batch(tag)) for tag in (0, 1, 0)]
    events = [e for body in bodies for e in body["batch"]]
    assert len(events) == 3 * BATCH
    assert len({e["messageId"] for e in events}) == len(events)
    assert all(e["type"] == "track" and e["event"] for e in events)
    assert all(("userId" in e) != ("anonymousId" in e) for e in events)
    assert 250 < len(maker.batch(2)) / BATCH < 600


@pytest.mark.e2e
@pytest.mark.timeout(150)  # a hang guard: ~30 s alone, ~50 s beside the rest of the suite
def test_service_bench_smoke(tmp_path: Path) -> None:
    results_md = tmp_path / "RESULTS.md"
    results_md.write_text("# Benchmark results\n\n## Other\n\nkept\n")
    raw = tmp_path / "service.json"
    # The memory run offers 3/4 of the measured ingest rate: 4 s of it visit the 2,000 persons
    # even when that rate is measured on a busy machine (1.5 s fell 100 persons short with the
    # suite running in parallel).
    command = [sys.executable, "-m", "bench.service", "--seconds", "1.5", "--memory-seconds", "4"]
    command += ["--persons", "2000", "--known", "500", "--connections", "4"]
    command += ["--output", str(results_md), "--json", str(raw)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=140)
    assert done.returncode == 0, done.stderr[-3000:]
    r = json.loads(raw.read_text())

    ingest, noop, memory = r["ingest"], r["noop"], r["memory"]
    assert ingest["measured_units"] > 0 and ingest["median"] > 0
    assert ingest["accepted"] == ingest["units"] > 0  # every acked event was stored
    assert ingest["duplicates"] == 0 and not ingest["errors"]
    assert noop["median"] > 0 and noop["units"] > 0
    assert r["build_rate"] > 0
    assert ingest["latency_ms"]["p99"] > 0 and ingest["generator_cpu"] > 0
    assert memory["units"] > 0 and memory["end"]["rss_kib"] > 0
    assert memory["end"]["mau"] == 2000  # the first pass visits the whole pool
    assert memory["end"]["impressions"] > 0

    admit = r["admit"]
    if admit["available"]:
        assert admit["units"] > 0 and admit["median"] > 0
        assert admit["latency_ms"]["p99"] > 0
        assert sum(admit["reasons"].values()) == admit["ok"]
    else:
        assert "/v1/admit" in admit["detail"]

    text = results_md.read_text()
    assert text.count("## Service (issue 3)") == 1
    assert "## Other\n\nkept" in text
    assert "### Ingest and the HTTP ceiling" in text and "### Memory" in text
