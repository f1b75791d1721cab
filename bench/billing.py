"""Billing benchmark: closing a month of 1M persons, `explain`, and live usage.

Builds (once, cached under bench/data/) a store with one org and one month of activity by
``--persons`` persons: 60 % identified (an identify links their anonymous id first), the rest
anonymous, 1 to 4 qualifying events each, a third of them Optimizely-style decisions with an
``experiment_id`` / ``flag_key``. The store is filled through the bulk import path
(``Meter.import_file`` on a flat Parquet file). Then it times ``Statements.close`` (statement
plus counted-person list; targets ≤ 5 s) on fresh copies of the store, and ``explain`` for
random persons (target ≤ 50 ms), and ``live_usage`` (target ≤ 5 ms), and prints medians.

    python -m bench.billing --persons 1000000
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from maumeter.core import statement as core
from maumeter.core.months import Month
from maumeter.meter import Meter

ROOT = Path(__file__).resolve().parent / "data"
MONTH = Month(2024, 3)
START = datetime(2024, 3, 1, tzinfo=UTC)


def write_events(path: Path, persons: int, seed: int = 7) -> int:
    """A flat Parquet file of the month's events; returns the number of events."""
    rng = np.random.default_rng(seed)
    ids = np.arange(persons)
    identified = rng.random(persons) < 0.6
    per = rng.integers(1, 5, persons)
    rows = np.repeat(ids, per)
    n = len(rows)
    seconds = rng.integers(0, 31 * 86400 - 1, n)
    ts = (np.datetime64("2024-03-01T00:00:00") + seconds.astype("timedelta64[s]")).astype(str)
    anon = np.char.add("anon-", rows.astype(str))
    user = np.where(identified[rows], np.char.add("user-", rows.astype(str)), None)
    decision = rng.random(n) < 0.33
    event = np.where(decision, "Decision", "Page Viewed")
    experiment = np.where(decision, np.char.add("exp-", (rows % 20).astype(str)), None)
    flag = np.where(decision & (rows % 3 == 0), np.char.add("flag-", (rows % 7).astype(str)), None)
    # first event of each identified person carries both ids (the link)
    table = pa.table(
        {
            "type": pa.array(["track"] * n),
            "event": pa.array(event),
            "userId": pa.array(user, pa.string()),
            "anonymousId": pa.array(anon),
            "messageId": pa.array(np.char.add("m-", np.arange(n).astype(str))),
            "timestamp": pa.array(np.char.add(ts, "Z")),
            "properties.experiment_id": pa.array(experiment, pa.string()),
            "properties.flag_key": pa.array(flag, pa.string()),
        }
    )
    pq.write_table(table, path)
    return n


def build(persons: int) -> Path:
    target = ROOT / f"billing-p{persons}.duckdb"
    if target.exists():
        return target
    ROOT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        events = Path(tmp) / "events.parquet"
        n = write_events(events, persons)
        building = target.with_suffix(".building")
        building.unlink(missing_ok=True)
        with Meter.open(building, clock=lambda: datetime(2024, 4, 10, tzinfo=UTC)) as meter:
            meter.create_org("bench")
            meter.create_project("bench", "web", "decisions-and-tracking")
            start = time.perf_counter()
            meter.import_file(events, "bench", "web")
            print(f"imported {n:,} events in {time.perf_counter() - start:.1f} s")
        building.rename(target)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--explains", type=int, default=200)
    parser.add_argument("--lives", type=int, default=200, help="live usage calls to time")
    args = parser.parse_args()
    source = build(args.persons)
    closes: list[float] = []
    explains: list[float] = []
    now = datetime(2024, 4, 10, tzinfo=UTC)
    for run in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "store.duckdb"
            shutil.copy(source, copy)
            with Meter.open(copy, clock=lambda: now) as meter:
                mau = meter.mau("bench", MONTH).mau
                start = time.perf_counter()
                statement = meter.statements.close("bench", MONTH, now)
                closes.append(time.perf_counter() - start)
                keys = meter.statements.persons("bench", MONTH).column("person_key").to_pylist()
                assert statement.mau == mau == len(keys), (statement.mau, mau, len(keys))
                assert core.checksum(keys) == statement.checksum
                if run == 0:
                    rng = np.random.default_rng(run)
                    asked = [
                        f"{'user' if i % 2 else 'anon'}-{int(p)}"
                        for i, p in enumerate(rng.integers(0, args.persons, args.explains))
                    ]
                    for person in asked:
                        start = time.perf_counter()
                        meter.statements.explain("bench", person, MONTH)
                        explains.append(time.perf_counter() - start)
    cold, warm = live_usage(source, args.lives)
    print(f"persons in {MONTH}: {mau:,} MAU, statement rows {len(keys):,}, checksum verified")
    print(
        f"close (statement + counted-person list): median {statistics.median(closes):.2f} s "
        f"over {len(closes)} runs (target <= 5 s)"
    )
    ms = sorted(t * 1000 for t in explains)
    print(
        f"explain: median {statistics.median(ms):.1f} ms, p95 {ms[int(len(ms) * 0.95)]:.1f} ms "
        f"over {len(ms)} persons (target <= 50 ms)"
    )

    ms = sorted(t * 1000 for t in warm)
    print(
        f"live usage: median {statistics.median(ms):.2f} ms, p95 {ms[int(len(ms) * 0.95)]:.2f} ms "
        f"over {len(ms)} calls (target <= 5 ms); the first call of the day, which builds the "
        f"month's accrual curve, {cold * 1000:.0f} ms"
    )


def live_usage(source: Path, calls: int) -> tuple[float, list[float]]:
    """``Meter.live_usage`` on the last day of the month (1M persons so far): the first call
    builds and caches the accrual curve of the completed days; later calls reuse it."""
    last_day = datetime(2024, 3, 31, 18, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "store.duckdb"
        shutil.copy(source, copy)
        with Meter.open(copy, clock=lambda: last_day) as meter:
            meter.set_plan("bench", {"tier": "custom", "allotment": 900_000, "policy": "soft"})
            start = time.perf_counter()
            first = meter.live_usage("bench")
            cold = time.perf_counter() - start
            assert first.mau == meter.mau("bench", MONTH).mau
            warm = []
            for _ in range(calls):
                start = time.perf_counter()
                meter.live_usage("bench")
                warm.append(time.perf_counter() - start)
    return cold, warm


if __name__ == "__main__":
    main()
