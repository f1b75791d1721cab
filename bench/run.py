"""`make bench`: the foundation benchmarks, side by side with DuckDB and Polars on the same data.

Measures import throughput (Parquet, JSONL), the full recount (rebuilding every month's counts
from the stored events with identities resolved) against DuckDB ``COUNT(DISTINCT)`` and Polars
``n_unique`` over the same Parquet (which resolve no identities), the reference count
(``verify``), live ``mau()`` latency, peak RSS and the counting state's bytes per person. It
checks maumeter's monthly MAU against the generator's ground truth, and writes
``bench/RESULTS.md``.

    python -m bench.run --events 1000000 --persons 100000 --months 6
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from bench.generate import write_dataset
from maumeter.core.activity import ActivityRule
from maumeter.core.months import Month
from maumeter.meter import Meter
from maumeter.store.counters import OrgCounts
from maumeter.store.duckdb import rebuild_counts

ROOT = Path(__file__).resolve().parent
ACTIVE_TYPES = ("identify", "track", "page", "screen", "group", "alias")
# The generator's ground truth counts a person in every month with any event of theirs, bots
# included; the benchmark's rule says the same, so the figures can be compared exactly.
RULE = ActivityRule.from_json(
    {"preset": "custom", "matchers": [{"type": t} for t in ACTIVE_TYPES], "exclude_bots": False}
)


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Median wall time of ``repeat`` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def dataset(args: argparse.Namespace) -> tuple[Path, dict[str, Any]]:
    out = (
        ROOT
        / "data"
        / f"e{args.events}-p{args.persons}-m{args.months}-j{args.projects}-s{args.seed}"
    )
    manifest = out / "manifest.json"
    if not manifest.exists():
        write_dataset(
            out,
            args.events,
            args.persons,
            args.months,
            args.projects,
            args.seed,
            formats=("parquet", "jsonl"),
        )
    return out, json.loads(manifest.read_text())


def import_all(db: Path, data: Path, projects: list[str], suffix: str) -> tuple[float, int, Meter]:
    db.unlink(missing_ok=True)
    meter = Meter.open(db)
    meter.create_org("bench")
    for p in projects:
        meter.create_project("bench", p, RULE)
    accepted = 0
    start = time.perf_counter()
    for p in projects:
        accepted += meter.import_file(data / f"events-{p}.{suffix}", "bench", p).accepted
    return time.perf_counter() - start, accepted, meter


SIZES = {
    # name: (events, persons, months, run the reference count)
    "1M": (1_000_000, 100_000, 6, True),
    "10M": (10_000_000, 1_000_000, 12, False),
}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """One size, in this process: every figure, as data."""
    data, manifest = dataset(args)
    projects = list(manifest["counts"])
    work = ROOT / "data" / "stores"
    work.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, str, str]] = []

    t_parquet, accepted, meter = import_all(work / "parquet.duckdb", data, projects, "parquet")
    rss_import = peak_rss_mib()
    rows.append(
        (
            "import from Parquet",
            f"{accepted / t_parquet:,.0f} events/s",
            f"{accepted:,} events in {t_parquet:.1f} s; target ≥ 1,000,000 events/s",
        )
    )

    months = sorted(manifest["persons_by_month"])
    truth = {m: manifest["persons_by_month"][m] for m in months}
    ours = {m: meter.mau("bench", Month.parse(m)).mau for m in months}

    store = meter.store
    org = store.org("bench")
    state = store._states[org.id]
    con = store.cursor()

    def recount() -> OrgCounts:
        state.counts = OrgCounts(state.graph)
        state.counts.add_ids(0)
        rebuild_counts(con, state)
        return state.counts

    t_recount, counts = timed(recount, repeat=5)
    files = [str(data / f"events-{p}.parquet") for p in projects]
    in_list = ", ".join(f"'{t}'" for t in ACTIVE_TYPES)
    sql = (
        "SELECT substr(timestamp, 1, 7) AS month, COUNT(DISTINCT coalesce(userId, anonymousId)) "
        f"FROM read_parquet({files}) WHERE type IN ({in_list}) GROUP BY 1 ORDER BY 1"
    )
    duck = duckdb.connect()
    duck.execute("SET enable_progress_bar = false")
    t_duck, duck_rows = timed(lambda: duck.execute(sql).fetchall(), repeat=5)
    lazy = (
        pl.scan_parquet(files)
        .filter(pl.col("type").is_in(ACTIVE_TYPES))
        .with_columns(
            pl.col("timestamp").str.slice(0, 7).alias("month"),
            pl.coalesce("userId", "anonymousId").alias("who"),
        )
        .group_by("month")
        .agg(pl.col("who").n_unique())
    )
    t_polars, _ = timed(lambda: lazy.collect(), repeat=5)
    rows.append(
        (
            "full recount, identities resolved (maumeter)",
            f"{t_recount:.3f} s",
            f"{t_duck / t_recount:.2f}× faster than DuckDB; goal 2×",
        )
    )
    rows.append(
        ("DuckDB COUNT(DISTINCT) per month over Parquet (no identity)", f"{t_duck:.3f} s", "")
    )
    rows.append(
        (
            "Polars n_unique per month over Parquet (no identity)",
            f"{t_polars:.3f} s",
            f"{t_polars / t_recount:.2f}× maumeter's time",
        )
    )
    if args.verify:
        t_verify, verification = timed(lambda: meter.verify("bench"))
        rows.append(
            (
                "reference count (`verify`, pure Python)",
                f"{t_verify:.1f} s",
                "equal" if verification.equal else "DIFFERENT",
            )
        )

    last = Month.parse(months[-1])
    t_mau, _ = timed(lambda: meter.mau("bench", last), repeat=2001)
    rows.append(("live mau() of a month", f"{t_mau * 1e3:.3f} ms median", "target ≤ 1 ms"))
    persons = manifest["distinct_persons"]
    rows.append(
        (
            "counting state",
            f"{counts.state_bytes() / persons:.1f} bytes/person",
            f"{counts.state_bytes() / 2**20:.1f} MiB for {persons:,} persons",
        )
    )
    rows.append(
        (
            "peak RSS after the Parquet import",
            f"{rss_import:,.0f} MiB",
            "target ≤ 2 GiB at 10M events",
        )
    )
    meter.close()

    if not args.skip_jsonl:
        t_jsonl, accepted_j, meter_j = import_all(work / "jsonl.duckdb", data, projects, "jsonl")
        meter_j.close()
        rows.insert(
            1,
            (
                "import from JSONL",
                f"{accepted_j / t_jsonl:,.0f} events/s",
                f"{accepted_j:,} events in {t_jsonl:.1f} s; target ≥ 250,000 events/s",
            ),
        )
    return {
        "rows": rows,
        "months": [[m, ours[m], truth[m], dict(duck_rows).get(m, 0)] for m in months],
        "exact": ours == truth,
        "persons": persons,
        "projects": len(projects),
    }


def section(name: str, args: argparse.Namespace, result: dict[str, Any]) -> list[str]:
    command = (
        f"python -m bench.run --one --events {args.events} --persons {args.persons} "
        f"--months {args.months} --projects {args.projects} --seed {args.seed}"
        + ("" if args.verify else " --no-verify")
    )
    return [
        f"## {name}: {args.events:,} events, {result['persons']:,} persons, "
        f"{args.months} months, {result['projects']} projects",
        "",
        f"`{command}`",
        "",
        "| measure | figure | notes |",
        "|---|---|---|",
        *[f"| {a} | {b} | {c} |" for a, b, c in result["rows"]],
        "",
        "MAU per month equals the generator's identity-resolved ground truth: "
        f"**{result['exact']}**.",
        "",
        "| month | maumeter MAU | ground truth | DuckDB COUNT(DISTINCT) (no identity) |",
        "|---|---|---|---|",
        *[f"| {m} | {a:,} | {b:,} | {c:,} |" for m, a, b, c in result["months"]],
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--one", action="store_true", help="Measure one size in this process.")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--projects", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-verify", dest="verify", action="store_false")
    parser.add_argument("--skip-jsonl", action="store_true")
    parser.add_argument("--sizes", default=",".join(SIZES), help="Sizes for the full run.")
    parser.add_argument("--output", type=Path, default=ROOT / "RESULTS.md")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args)))
        return
    lines = [
        "# Benchmark results",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, Python "
        f"{platform.python_version()}, 2 cores. Reproduce everything with `make bench`; each "
        "size runs in its own process (so peak RSS is that size's), with the command shown.",
        "",
        "Data: generated Segment events (bench/generate.py: Zipf-like activity, ~60 % "
        "identified, anonymous→user merges, second devices, aliases, bots). The benchmark's "
        "activity rule counts every event type and keeps bots, the definition the generator's "
        "ground truth uses. Times are medians of 5 runs (imports: one run; mau(): 2,001 "
        "calls); the machine is shared and noisy: read ratios, not digits.",
        "",
    ]
    for name in args.sizes.split(","):
        events, persons, months, verify = SIZES[name]
        one = argparse.Namespace(
            events=events,
            persons=persons,
            months=months,
            projects=args.projects,
            seed=args.seed,
            verify=verify,
        )
        command = [
            sys.executable,
            "-m",
            "bench.run",
            "--one",
            "--events",
            str(events),
            "--persons",
            str(persons),
            "--months",
            str(months),
            "--projects",
            str(args.projects),
            "--seed",
            str(args.seed),
        ]
        if not verify:
            command.append("--no-verify")
        print(f"bench {name}: {' '.join(command[1:])}", file=sys.stderr)
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        lines += section(name, one, json.loads(done.stdout.strip().splitlines()[-1]))
        args.output.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
