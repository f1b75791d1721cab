"""Dashboard benchmark (issue 6): the data and charts of every page at 10M events.

Opens the analytics benchmark's store (``bench/analytics.py`` builds it once: the generator's
year of 10,000,000 events by 1,000,000 persons in one org, ``bench``) with the clock at its
last day, and times, for each dashboard page, what serving it costs beyond the HTML template:
the page's data from the meter (:mod:`maumeter.dashboard.pages`) and its SVG charts
(:mod:`maumeter.dashboard.figures`). *Cold* is the first request after the store opened (daily
index, forecast fit); *warm* the median of the next ``--repeat``. The accounts page is timed on
the 100-org store of the same benchmark. Target (issue 6): every page ≤ 300 ms.

    python -m bench.dashboard [--repeat 7] [--output bench/RESULTS.md]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from maumeter.dashboard import figures, pages
from maumeter.meter import Meter

ROOT = Path(__file__).resolve().parent
DATA = ROOT / "data"
CLOCK = datetime(2024, 6, 30, 12, tzinfo=UTC)
TARGET_MS = 300.0
SECTION = "## Dashboard (issue 6)"


def _pages(org: str) -> list[tuple[str, Callable[[Meter], Any]]]:
    return [
        ("overview", lambda m: figures.overview(pages.overview(m, org))),
        ("trends", lambda m: figures.trends(pages.trends(m, org))),
        ("lifecycle (weeks)", lambda m: figures.lifecycle(pages.lifecycle(m, org))),
        ("retention (months)", lambda m: figures.retention(pages.retention(m, org))),
        ("segments and levels", lambda m: figures.segments(pages.segments(m, org))),
        ("projects & experiments", lambda m: figures.projects(pages.projects(m, org))),
        ("statements", lambda m: pages.statements(m, org)),
        ("explain", lambda m: pages.explain(m, org, "user-1")),
        ("settings", lambda m: pages.settings(m, org)),
    ]


def _time(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    start = time.perf_counter()
    fn()
    cold = (time.perf_counter() - start) * 1000
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - start) * 1000)
    return cold, statistics.median(runs)


def _verdict(warm: float) -> str:
    return "yes" if warm <= TARGET_MS else "**no**"


def replace_section(path: Path, header: str, body: str) -> None:
    """Replace the section starting at ``header`` (up to the next ``## ``) or append it."""
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    start = text.find(header + "\n")
    if start < 0:
        path.write_text(text.rstrip("\n") + "\n\n" + body.rstrip("\n") + "\n")
        return
    nxt = text.find("\n## ", start + len(header))
    end = len(text) if nxt < 0 else nxt + 1
    rest = text[end:]
    path.write_text(text[:start] + body.rstrip("\n") + "\n" + ("\n" + rest if rest else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--store", type=Path, default=DATA / "analytics-e10000000.duckdb")
    parser.add_argument("--orgs-store", type=Path, default=DATA / "analytics-orgs100.duckdb")
    parser.add_argument("--org", default="bench")
    parser.add_argument("--output", type=Path, default=ROOT / "RESULTS.md")
    args = parser.parse_args()
    if not args.store.exists():
        raise SystemExit(f"{args.store} is missing: run `python -m bench.analytics` first")
    rows: list[tuple[str, float, float]] = []
    start = time.perf_counter()
    with Meter.open(args.store, clock=lambda: CLOCK) as meter:
        opened = time.perf_counter() - start
        for name, fn in _pages(args.org):
            cold, warm = _time(lambda fn=fn: fn(meter), args.repeat)  # type: ignore[misc]
            rows.append((name, cold, warm))
            print(f"{name:28} cold {cold:8.1f} ms  warm {warm:8.1f} ms")
    if args.orgs_store.exists():
        with Meter.open(args.orgs_store, clock=lambda: CLOCK) as meter:
            n = len(meter.orgs())
            cold, warm = _time(lambda: figures.accounts(pages.accounts(meter)), args.repeat)
            rows.append((f"accounts ({n} orgs)", cold, warm))
            print(f"{'accounts':28} cold {cold:8.1f} ms  warm {warm:8.1f} ms")
    lines = [
        SECTION,
        "",
        f"`python -m bench.dashboard` — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{platform.processor() or platform.machine()}, 2 cores (noisy VM), store opened in "
        f"{opened:.1f} s (`{args.store.name}`: the analytics benchmark's 10M events, 1M "
        "persons, clock at 2024-06-30). Each page's data from the meter and its SVG charts, "
        f"in process; cold = first request after the open, warm = median of {args.repeat}.",
        "",
        "Cold includes one-time work that `maumeter serve` does in a background warm-up at "
        "start, before anyone asks: importing statsmodels and fitting each org's forecast "
        "(trends), and reading the log once for the device, experiment and flag facets and "
        "the `country` trait (segments, projects). After it, the facet and trait indexes "
        "read only the events appended since the last request.",
        "",
        "| page | warm (ms) | cold (ms) | ≤ 300 ms warm |",
        "|---|--:|--:|:-:|",
        *(
            f"| {name} | **{warm:,.1f}** | {cold:,.1f} | {_verdict(warm)} |"
            for name, cold, warm in rows
        ),
        "",
    ]
    replace_section(args.output, SECTION, "\n".join(lines))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
