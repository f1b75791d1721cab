"""The kill -9 soak: many crash runs, each on a fresh store with its own seed.

    python -m bench.crash_soak --kills 200 --seconds 600

Runs ``bench.crashload`` rounds of ``--per-run`` kills until ``--kills`` kills are done or
``--seconds`` have passed, prints one line per round and a summary, and exits 1 when any round
found a problem (its store, server log and seed are kept for the reproduction). Not part of
``make test``; the bounded version is ``tests/e2e/test_crash.py``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.crashload import Config, Report, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.crash_soak", description=__doc__)
    parser.add_argument("--kills", type=int, default=200, help="SIGKILLs in all (default 200)")
    parser.add_argument("--seconds", type=float, default=600, help="wall-time budget")
    parser.add_argument("--per-run", type=int, default=25, help="kills per store (default 25)")
    parser.add_argument("--senders", type=int, default=4, help="sender threads")
    parser.add_argument("--seed", type=int, default=None, help="first seed (default: the clock)")
    parser.add_argument(
        "--no-overlap",
        action="store_true",
        help="never let two requests in flight carry the same message id",
    )
    parser.add_argument("--keep", action="store_true", help="keep the stores of passing runs")
    args = parser.parse_args(argv)

    began = time.monotonic()
    seed = args.seed if args.seed is not None else int(time.time()) % 1_000_000
    root = Path(tempfile.mkdtemp(prefix="maumeter-crash-soak-"))
    print(f"crash soak: up to {args.kills} kills in {args.seconds:.0f} s, stores under {root}")
    reports: list[Report] = []
    failed: list[tuple[Report, Path]] = []
    while True:
        done = sum(r.kills for r in reports)
        left = args.seconds - (time.monotonic() - began)
        if done >= args.kills or left < 15:
            break
        workdir = root / f"seed-{seed}"
        config = Config(
            seed=seed,
            kills=min(args.per_run, args.kills - done),
            seconds=left - 10,  # the final restart and the audit take a few seconds
            senders=args.senders,
            overlap=not args.no_overlap,
        )
        report = run(workdir, config)
        reports.append(report)
        print(("FAIL " if report.problems else "ok   ") + report.summary(), flush=True)
        if report.problems:
            failed.append((report, workdir))
            for problem in report.problems[:10]:
                print("    " + problem[:1500].replace("\n", "\n    "))
        elif not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        seed += 1

    kills = sum(r.kills for r in reports)
    print(
        f"\n{len(reports)} runs, {kills} kills "
        f"({sum(r.kills_mid_request for r in reports)} mid-request), "
        f"{sum(r.requests for r in reports)} requests "
        f"({sum(r.acked for r in reports)} acked, {sum(r.lost for r in reports)} lost), "
        f"{sum(r.acked_ids for r in reports)} acknowledged ids, "
        f"{sum(r.lost_judged for r in reports)} unanswered batches judged, "
        f"{time.monotonic() - began:.0f} s: "
        + ("no problems" if not failed else f"{len(failed)} runs FAILED")
    )
    for report, workdir in failed:
        print(f"  seed {report.seed}: {len(report.problems)} problems; store and log in {workdir}")
    if not failed and not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
