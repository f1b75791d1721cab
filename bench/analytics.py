"""Issue 5's benchmark: the engagement analytics, side by side with DuckDB SQL on the same store.

Two stores, built once through ``Meter.import_file`` and cached under ``--data-dir``:

* ``analytics-e{events}.duckdb`` — the benchmark generator's data (default one year ending
  2024-06, 10,000,000 events, 1,000,000 persons, 3 projects, seed 42) in one org, ``bench``,
  with the rule of :mod:`bench.run` (every event type counts, bots kept);
* ``analytics-orgs{n}.duckdb`` — ``n`` orgs (``org000``…) of one project each, 5k–40k events
  and 500–4,000 persons, a year each, different seeds; a quarter of them decline over their
  last three months and a quarter grow, so that the health ranking has something to rank.

Each store is opened with the clock fixed at 2024-06-30 12:00 UTC (the data's last day). Every
query runs on the library (``meter.analytics``, in this process) and as DuckDB SQL over the raw
``events`` table of a copy of the same store file (a separate read-only connection: DuckDB lets
one process hold a file either read-write or read-only). Identity resolution is given to the SQL
as a table ``roots(org_id, idx, root)`` computed from the stored merges, not timed. The two sides
must return the same numbers; a disagreement fails the run (after the figures are written).

Runs are interleaved per query: the library's cold run (a fresh ``Analytics``: its first query
builds the scope's daily index), the SQL's first run, then library and SQL alternately
``--repeat`` times; medians of those.

    python -m bench.analytics                 # 10M events; ~10 min the first time
    python -m bench.analytics --quick --data-dir /tmp/a --output /tmp/a/RESULTS.md
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bench.generate import generate_chunks, write_dataset
from bench.run import RULE, import_all
from maumeter.analytics.queries import Analytics
from maumeter.core.levels import LevelRules
from maumeter.core.months import Month, epoch_day
from maumeter.meter import Meter

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent
SECTION = "## Analytics (issue 5)"
NOTES = "### Notes"  # a hand-written subsection, kept as is by later runs
TARGET_MS = 500.0
GOAL_RATIO = 5.0

NOW = datetime(2024, 6, 30, 12, tzinfo=UTC)
TODAY = NOW.date()
END_MONTH = Month(2024, 6)
FIRST_MONTH = Month.from_index(END_MONTH.index - 11)  # 12 months: 2023-07..2024-06
START = FIRST_MONTH.first_day()
LAST_COMPLETE = END_MONTH.prev()  # June is still running on June 30 at noon
HEALTH_MONTHS = [Month.from_index(LAST_COMPLETE.index - k) for k in (2, 1, 0)]
EPOCH = "DATE '1970-01-01'"


def clock() -> datetime:
    return NOW


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---- stores ---------------------------------------------------------------------------------


def dataset(data_dir: Path, args: argparse.Namespace) -> Path:
    """The generator's Parquet files (the same directory :mod:`bench.run` uses), made if missing."""
    out = data_dir / f"e{args.events}-p{args.persons}-m{args.months}-j{args.projects}-s{args.seed}"
    if not (out / "manifest.json").exists():
        log(f"generating {args.events:,} events into {out}")
        write_dataset(
            out,
            args.events,
            args.persons,
            args.months,
            args.projects,
            args.seed,
            formats=("parquet",),
            end_month=str(END_MONTH),
        )
    return out


def _cached(path: Path, params: dict[str, Any], rebuild: bool) -> dict[str, Any] | None:
    """The build record of a store that exists and was built with ``params``, else None."""
    meta = path.with_suffix(".json")
    if rebuild or not path.exists() or not meta.exists():
        return None
    found = json.loads(meta.read_text())
    return found if found.get("params") == params else None


def _record(path: Path, params: dict[str, Any], **figures: Any) -> dict[str, Any]:
    found = {"params": params, "built": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC", **figures}
    path.with_suffix(".json").write_text(json.dumps(found, indent=1) + "\n")
    return found


def main_store(data_dir: Path, args: argparse.Namespace) -> tuple[Path, dict[str, Any]]:
    """One org, ``bench``, holding the generator's data (built once)."""
    path = data_dir / f"analytics-e{args.events}.duckdb"
    params = {k: getattr(args, k) for k in ("events", "persons", "months", "projects", "seed")}
    found = _cached(path, params, args.rebuild)
    if found is not None:
        return path, found
    data = dataset(data_dir, args)
    projects = list(json.loads((data / "manifest.json").read_text())["counts"])
    building = path.with_suffix(".building")
    log(f"building {path} from {data}")
    seconds, accepted, meter = import_all(building, data, projects, "parquet")
    meter.close()
    path.unlink(missing_ok=True)
    building.rename(path)
    return path, _record(path, params, seconds=round(seconds, 1), accepted=accepted)


def org_sizes(n: int, quick: bool, seed: int) -> list[dict[str, Any]]:
    """Events, persons, seed, trend and cap of each org of the health store."""
    rng = np.random.default_rng(seed)
    low, high = (1_000, 4_000) if quick else (5_000, 40_000)
    found = []
    for i in range(n):
        events = int(rng.integers(low, high + 1))
        found.append(
            {
                "org": f"org{i:03d}",
                "events": events,
                "persons": max(50, int(events / rng.uniform(8, 12))),
                "seed": seed * 1000 + i,
                "trend": ("flat", "flat", "growing", "declining")[i % 4],
                "cap": int(rng.choice([1_000, 2_500, 5_000])),
            }
        )
    return found


# Share of each month's events kept, from the third-last month on (the others keep everything).
KEEP = {"declining": (0.8, 0.55, 0.35), "growing": (0.45, 0.7, 1.0), "flat": (1.0, 1.0, 1.0)}


def _thin(table: pa.Table, trend: str, rng: np.random.Generator) -> pa.Table:
    keep = KEEP[trend]
    if keep == (1.0, 1.0, 1.0) or not table.num_rows:
        return table
    months = pc.utf8_slice_codeunits(table.column("timestamp"), 0, 7).to_numpy(zero_copy_only=False)
    share = np.ones(table.num_rows)
    for k, kept in enumerate(keep):
        share[months == str(Month.from_index(END_MONTH.index - 2 + k))] = kept
    return table.filter(pa.array(rng.random(table.num_rows) < share))


def orgs_store(data_dir: Path, args: argparse.Namespace) -> tuple[Path, dict[str, Any]]:
    """``args.orgs`` orgs of varied sizes and trends, one project each (built once)."""
    path = data_dir / f"analytics-orgs{args.orgs}.duckdb"
    sizes = org_sizes(args.orgs, args.quick, args.seed)
    params = {"orgs": sizes}
    found = _cached(path, params, args.rebuild)
    if found is not None:
        return path, found
    building = path.with_suffix(".building")
    building.unlink(missing_ok=True)
    log(f"building {path}: {args.orgs} orgs")
    start = time.perf_counter()
    events = 0
    with tempfile.TemporaryDirectory() as tmp, Meter.open(building, clock=clock) as meter:
        for spec in sizes:
            rng = np.random.default_rng(spec["seed"])
            tables = [
                _thin(t, spec["trend"], rng)
                for _, t in generate_chunks(spec["events"], spec["persons"], 12, 1, spec["seed"])
            ]
            table = pa.concat_tables(tables)
            file = Path(tmp) / f"{spec['org']}.parquet"
            pq.write_table(table, file)
            meter.create_org(spec["org"], cap=spec["cap"], policy="soft")
            meter.create_project(spec["org"], "web", RULE)
            events += meter.import_file(file, spec["org"], "web").accepted
    path.unlink(missing_ok=True)
    building.rename(path)
    seconds = time.perf_counter() - start
    return path, _record(path, params, seconds=round(seconds, 1), accepted=events)


def sql_copy(path: Path) -> Path:
    """A copy of a (closed, checkpointed) store for the read-only SQL connection."""
    copy = path.with_name(path.stem + "-sql.duckdb")
    shutil.copyfile(path, copy)
    return copy


def connect_sql(path: Path) -> duckdb.DuckDBPyConnection:
    """The SQL side: a read-only connection with DuckDB's defaults, and the roots table."""
    con = duckdb.connect(str(path), read_only=True)
    con.execute("SET enable_progress_bar = false")
    con.register("roots_arrow", roots_table(con))
    con.execute("CREATE TEMP TABLE roots AS SELECT * FROM roots_arrow")
    con.unregister("roots_arrow")
    return con


def roots_table(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """Every id's person (union-find root) per org, from ``identities`` and the merge log."""
    sizes = con.execute(
        "SELECT org_id, count(*), max(idx) FROM identities GROUP BY org_id ORDER BY org_id"
    ).fetchall()
    merges = con.execute(
        "SELECT org_id, absorbed, survivor FROM identity_merges ORDER BY org_id, seq"
    ).fetchnumpy()
    org_of = np.asarray(merges["org_id"])
    parts = []
    for org_id, n, top in sizes:
        assert n == top + 1, f"identities of org {org_id} are not dense"
        mine = org_of == org_id
        absorbed = np.asarray(merges["absorbed"])[mine]
        assert len(np.unique(absorbed)) == len(absorbed), "an id absorbed twice"
        parent = np.arange(n, dtype=np.int32)
        parent[absorbed] = np.asarray(merges["survivor"], dtype=np.int32)[mine]
        while not np.array_equal(jumped := parent[parent], parent):
            parent = jumped
        parts.append(
            pa.table(
                {
                    "org_id": pa.array(np.full(n, org_id, dtype=np.int32)),
                    "idx": pa.array(np.arange(n, dtype=np.int32)),
                    "root": pa.array(parent),
                }
            )
        )
    return pa.concat_tables(parts)


# ---- the SQL --------------------------------------------------------------------------------

ACTIVITY = """
    FROM events e JOIN roots r ON r.org_id = e.org_id AND r.idx = e.actor
    WHERE e.org_id = {org} AND e.verdict = 'qualifies'"""


def sql_calendar(org: int, unit: str, first: int, last: int) -> str:
    """Distinct persons per day / ISO week / month of ``[first, last]`` (whole periods)."""
    if unit == "day":
        return f"""
            SELECT e.day AS period, count(DISTINCT r.root) AS persons
            {ACTIVITY.format(org=org)} AND e.day BETWEEN {first} AND {last}
            GROUP BY e.day ORDER BY e.day"""
    return f"""
        SELECT date_trunc('{unit}', {EPOCH} + e.day)::DATE AS period,
               count(DISTINCT r.root) AS persons
        {ACTIVITY.format(org=org)} AND e.day BETWEEN {first} AND {last}
        GROUP BY period ORDER BY period"""


def sql_rolling(org: int, width: int, first: int, last: int) -> str:
    """Persons active in the ``width`` days ending on each day of ``[first, last]``: each
    active (person, day) covers ``[day, min(their next active day, day + width))``; a running
    sum of +1 at the start and -1 at the end of each cover."""
    lo = first - width + 1
    return f"""
        WITH pairs AS (
            SELECT DISTINCT r.root, e.day
            {ACTIVITY.format(org=org)} AND e.day BETWEEN {lo} AND {last}
        ), covers AS (
            SELECT day AS enters,
                   least(lead(day, 1, day + {width}) OVER (PARTITION BY root ORDER BY day),
                         day + {width}) AS leaves
            FROM pairs
        ), moves AS (
            SELECT enters AS day, count(*) AS delta FROM covers GROUP BY enters
            UNION ALL
            SELECT leaves, -count(*) FROM covers GROUP BY leaves
        ), net AS (
            SELECT day, sum(delta) AS delta FROM moves GROUP BY day
        ), running AS (
            SELECT d.day, sum(coalesce(net.delta, 0)) OVER (ORDER BY d.day) AS persons
            FROM range({lo}, {last + 1}) d(day) LEFT JOIN net USING (day)
        )
        SELECT day, persons FROM running WHERE day >= {first} ORDER BY day"""


def _months_cte(org: int, last: int) -> str:
    """Distinct (person, month) over all history up to ``last`` ("ever before" needs it)."""
    return f"""
        months AS (
            SELECT DISTINCT r.root, date_trunc('month', {EPOCH} + e.day)::DATE AS month
            {ACTIVITY.format(org=org)} AND e.day <= {last}
        )"""


def sql_lifecycle(org: int, first: date, last: date) -> str:
    """New / returning / resurrecting / dormant per month of ``[first, last]``."""
    stop = Month.of_date(last).next().first_day()
    return f"""
        WITH {_months_cte(org, epoch_day(last))},
        marked AS (
            SELECT month, lag(month) OVER w AS prev, lead(month) OVER w AS next
            FROM months WINDOW w AS (PARTITION BY root ORDER BY month)
        ), active AS (
            SELECT month,
                   count(*) FILTER (WHERE prev IS NULL) AS n_new,
                   count(*) FILTER (WHERE prev = month - INTERVAL 1 MONTH) AS n_returning,
                   count(*) FILTER (WHERE prev < month - INTERVAL 1 MONTH) AS n_resurrecting
            FROM marked GROUP BY month
        ), gone AS (
            SELECT (month + INTERVAL 1 MONTH)::DATE AS month, count(*) AS n_dormant
            FROM marked WHERE next IS NULL OR next > month + INTERVAL 1 MONTH
            GROUP BY ALL
        ), wanted AS (
            SELECT range::DATE AS month
            FROM range(DATE '{first}', DATE '{stop}', INTERVAL 1 MONTH)
        )
        SELECT month, coalesce(n_new, 0), coalesce(n_returning, 0), coalesce(n_resurrecting, 0),
               coalesce(n_dormant, 0)
        FROM wanted LEFT JOIN active USING (month) LEFT JOIN gone USING (month)
        ORDER BY month"""


def sql_retention(org: int, first: date, last: date) -> str:
    """Monthly cohorts (first month of activity) from ``first``; persons active k months on."""
    return f"""
        WITH {_months_cte(org, epoch_day(last))},
        cohorts AS (
            SELECT month, min(month) OVER (PARTITION BY root) AS cohort FROM months
        )
        SELECT cohort, datediff('month', cohort, month) AS k, count(*) AS persons
        FROM cohorts WHERE cohort >= DATE '{first}'
        GROUP BY ALL ORDER BY ALL"""


def _level_case(rules: LevelRules, tag: str) -> str:
    return f"""CASE WHEN NOT present_{tag} THEN 'absent'
                    WHEN recent_{tag} = 0 THEN 'dormant'
                    WHEN recent_{tag} < before_{tag} * {rules.decline_ratio}
                         OR NOT lately_{tag} THEN 'at_risk'
                    WHEN recent_{tag} >= {rules.highly_active_days} THEN 'highly_active'
                    ELSE 'active' END"""


def _level_facts(d: int, rules: LevelRules, tag: str) -> str:
    w, u, p = rules.window, rules.unseen_days, rules.population_days
    return f"""
            count(*) FILTER (WHERE day BETWEEN {d - w + 1} AND {d}) AS recent_{tag},
            count(*) FILTER (WHERE day BETWEEN {d - 2 * w + 1} AND {d - w}) AS before_{tag},
            bool_or(day BETWEEN {d - u + 1} AND {d}) AS lately_{tag},
            bool_or(day BETWEEN {d - p + 1} AND {d}) AS present_{tag}"""


def _level_low(d: int, rules: LevelRules) -> int:
    """The first day the facts of ``d`` and of one window earlier read."""
    then = d - rules.window
    return min(then - 2 * rules.window + 1, then - rules.population_days + 1)


def sql_levels(org: int, day: date, rules: LevelRules) -> str:
    """Each person's level on ``day`` and one window earlier; persons per (then, now)."""
    d = epoch_day(day)
    then = d - rules.window
    return f"""
        WITH days AS (
            SELECT DISTINCT r.root, e.day
            {ACTIVITY.format(org=org)} AND e.day BETWEEN {_level_low(d, rules)} AND {d}
        ), facts AS (
            SELECT root, {_level_facts(d, rules, "now")}, {_level_facts(then, rules, "then")}
            FROM days GROUP BY root
        )
        SELECT {_level_case(rules, "then")} AS level_then,
               {_level_case(rules, "now")} AS level_now,
               count(*) AS persons
        FROM facts GROUP BY ALL"""


def sql_health(day: date, rules: LevelRules) -> str:
    """The health inputs of every org in one query: MAU of the last 3 complete months, the
    mean DAU/MAU of the last one, and the share of the 90-day population at risk."""
    d = epoch_day(day)
    m = [(epoch_day(x.first_day()), epoch_day(x.last_day())) for x in HEALTH_MONTHS]
    w, u, p = rules.window, rules.unseen_days, rules.population_days
    low = min(m[0][0], d - 2 * w + 1, d - p + 1)
    ndays = m[2][1] - m[2][0] + 1
    return f"""
        WITH days AS (
            SELECT DISTINCT e.org_id, r.root, e.day
            FROM events e JOIN roots r ON r.org_id = e.org_id AND r.idx = e.actor
            WHERE e.verdict = 'qualifies' AND e.day BETWEEN {low} AND {d}
        ), persons AS (
            SELECT org_id, root,
                   bool_or(day BETWEEN {m[0][0]} AND {m[0][1]}) AS in1,
                   bool_or(day BETWEEN {m[1][0]} AND {m[1][1]}) AS in2,
                   bool_or(day BETWEEN {m[2][0]} AND {m[2][1]}) AS in3,
                   count(*) FILTER (WHERE day BETWEEN {m[2][0]} AND {m[2][1]}) AS days3,
                   count(*) FILTER (WHERE day BETWEEN {d - w + 1} AND {d}) AS recent,
                   count(*) FILTER (WHERE day BETWEEN {d - 2 * w + 1} AND {d - w}) AS before,
                   bool_or(day BETWEEN {d - u + 1} AND {d}) AS lately,
                   bool_or(day BETWEEN {d - p + 1} AND {d}) AS present
            FROM days GROUP BY org_id, root
        )
        SELECT o.name,
               count(*) FILTER (WHERE in1) AS mau1,
               count(*) FILTER (WHERE in2) AS mau2,
               count(*) FILTER (WHERE in3) AS mau3,
               sum(days3) / {ndays} / nullif(count(*) FILTER (WHERE in3), 0) AS stickiness,
               count(*) FILTER (WHERE present AND recent > 0
                                AND (recent < before * {rules.decline_ratio} OR NOT lately))
                   / nullif(count(*) FILTER (WHERE present), 0) AS at_risk_share
        FROM persons JOIN orgs o ON o.id = persons.org_id
        GROUP BY o.name ORDER BY o.name"""


# ---- one query kind, both sides -------------------------------------------------------------


@dataclass
class Row:
    name: str
    label: str
    lib_cold: float = math.nan
    lib_warm: list[float] = field(default_factory=list)
    sql_first: float = math.nan
    sql: list[float] = field(default_factory=list)
    equal: bool | None = None
    detail: str = ""
    note: str = ""

    @property
    def lib_median(self) -> float:
        return statistics.median(self.lib_warm) if self.lib_warm else math.nan

    @property
    def sql_median(self) -> float:
        return statistics.median(self.sql) if self.sql else math.nan

    @property
    def ratio(self) -> float:
        return self.sql_median / self.lib_median if self.lib_warm and self.sql else math.nan

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "lib_cold_ms": self.lib_cold,
            "lib_warm_ms": self.lib_warm,
            "lib_median_ms": self.lib_median,
            "sql_first_ms": self.sql_first,
            "sql_ms": self.sql,
            "sql_median_ms": self.sql_median,
            "ratio": self.ratio,
            "equal": self.equal,
            "detail": self.detail,
            "note": self.note,
        }


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1e3, result


def compare(
    row: Row,
    meter: Meter,
    library: Callable[[Analytics], Any],
    sql: str | None,
    con: duckdb.DuckDBPyConnection | None,
    check: Callable[[Any, Any], str] | None,
    repeat: int,
) -> Row:
    """Time one query on both sides, interleaved, and check that they agree."""
    fresh = Analytics(meter)  # a new daily index: the first query builds it
    row.lib_cold, ours = timed(lambda: library(fresh))
    if sql is None or con is None or check is None:
        row.lib_warm = [timed(lambda: library(fresh))[0] for _ in range(repeat)]
        return row
    query = sql
    row.sql_first, theirs = timed(lambda: con.execute(query).fetchall())
    problem = check(ours, theirs)
    for _ in range(repeat):
        t, again = timed(lambda: library(fresh))
        row.lib_warm.append(t)
        t, theirs_again = timed(lambda: con.execute(query).fetchall())
        row.sql.append(t)
    problem = problem or check(again, theirs_again)
    row.equal, row.detail = not problem, problem
    log(
        f"{row.name:<12} library {row.lib_median:9.1f} ms (cold {row.lib_cold:9.1f})  "
        f"SQL {row.sql_median:9.1f} ms  equal {row.equal}{'  ' + problem if problem else ''}"
    )
    return row


def _diff(ours: list[Any], theirs: list[Any]) -> str:
    if ours == theirs:
        return ""
    if len(ours) != len(theirs):
        return f"{len(ours)} library rows vs {len(theirs)} SQL rows"
    bad = [(a, b) for a, b in zip(ours, theirs, strict=True) if a != b]
    return f"{len(bad)} of {len(ours)} rows differ, e.g. library {bad[0][0]} vs SQL {bad[0][1]}"


def check_points(key: Callable[[Any], Any]) -> Callable[[Any, Any], str]:
    """A series' points against SQL rows (period, persons) that omit empty periods."""

    def check(points: list[Any], rows: list[tuple[Any, int]]) -> str:
        found = {period: int(n) for period, n in rows}
        ours = [(key(p), p.value) for p in points]
        extra = set(found) - {k for k, _ in ours}
        if extra:
            return f"SQL has periods outside the library's: {sorted(extra)[:3]}"
        return _diff(ours, [(k, found.get(k, 0)) for k, _ in ours])

    return check


def check_lifecycle(rows: list[Any], sql: list[tuple[Any, ...]]) -> str:
    ours = [(r.period.first, r.new, r.returning, r.resurrecting, r.dormant) for r in rows]
    return _diff(ours, [tuple(int(x) if i else x for i, x in enumerate(r)) for r in sql])


def check_retention(cohorts: list[Any], sql: list[tuple[date, int, int]]) -> str:
    found = {(c, int(k)): int(n) for c, k, n in sql}
    ours = [(c.period.first, c.size, c.retained) for c in cohorts]
    theirs = []
    for i, c in enumerate(cohorts):
        first = c.period.first
        theirs.append(
            (
                first,
                found.get((first, 0), 0),
                tuple(found.get((first, k), 0) for k in range(len(cohorts) - i)),
            )
        )
    months = {c for c, _ in found}
    if months - {c.period.first for c in cohorts}:
        return f"SQL has cohorts outside the library's: {sorted(months)[:3]}"
    return _diff(ours, theirs)


def check_levels(result: tuple[dict, dict, dict], sql: list[tuple[str, str, int]]) -> str:
    now, then, movement = result
    moves = {(a, b): int(n) for a, b, n in sql if n}
    sql_now = {level: 0 for level in now}
    sql_then = {level: 0 for level in then}
    for (a, b), n in moves.items():
        if b in sql_now:
            sql_now[b] += n
        if a in sql_then:
            sql_then[a] += n
    problems = []
    if now != sql_now:
        problems.append(f"levels now: library {now} vs SQL {sql_now}")
    if then != sql_then:
        problems.append(f"levels then: library {then} vs SQL {sql_then}")
    if movement != moves:
        problems.append("movement differs")
    return "; ".join(problems)


def check_health(ours: list[tuple[Any, ...]], sql: list[tuple[Any, ...]]) -> str:
    if len(ours) != len(sql):
        return f"{len(ours)} library orgs vs {len(sql)} SQL orgs"
    for a, b in zip(ours, sql, strict=True):
        same = a[:4] == tuple(b[:4]) and all(
            (x is None and y is None)
            or (x is not None and y is not None and math.isclose(x, float(y), rel_tol=1e-12))
            for x, y in zip(a[4:], b[4:], strict=True)
        )
        if not same:
            return f"library {a} vs SQL {tuple(b)}"
    return ""


def check_accounts(listed: list[dict[str, Any]], sql: list[tuple[Any, ...]]) -> str:
    """``accounts()``'s inputs (last 3 complete months, stickiness, at-risk share) against SQL."""
    ours = []
    for found in sorted(listed, key=lambda a: a["org"]):
        given = found["inputs"]
        months = tuple(given["monthly_mau"][-len(HEALTH_MONTHS) :])
        ours.append((found["org"], *months, given["stickiness"], given["at_risk_share"]))
    return check_health(ours, sql)


def ranking_note(listed: list[dict[str, Any]], args: argparse.Namespace) -> str:
    """How many of the orgs made to decline are among the riskiest quarter."""
    trend = {spec["org"]: spec["trend"] for spec in org_sizes(args.orgs, args.quick, args.seed)}
    top = max(1, len(listed) // 4)
    declining = sum(1 for a in listed[:top] if trend.get(a["org"]) == "declining")
    churn = sum(1 for a in listed if a.get("churn_risk"))
    return f"{churn} flagged churn risk; {declining} of the riskiest {top} are the declining orgs"


# ---- the run --------------------------------------------------------------------------------


def health_inputs(an: Analytics, orgs: list[str]) -> list[tuple[Any, ...]]:
    """The health inputs of every org through the library's own queries."""
    first, last = HEALTH_MONTHS[0].first_day(), HEALTH_MONTHS[-1].last_day()
    found = []
    for org in orgs:
        mau = [p.value for p in an.series(org, "mau", first, last)]
        _, monthly = an.stickiness(org, HEALTH_MONTHS[-1].first_day(), last)
        report = an.levels(org, TODAY)
        population = report.population
        stickiness = monthly[0].ratio if monthly[0].mau else None
        share = report.counts["at_risk"] / population if population else None
        found.append((org, *mau, stickiness, share))
    return found


def run_main(args: argparse.Namespace, path: Path) -> tuple[list[Row], float]:
    """Series, lifecycle, retention and levels of the one big org."""
    copy = sql_copy(path)
    try:
        open_s = time.perf_counter()
        meter = Meter.open(path, clock=clock)
        open_s = time.perf_counter() - open_s
        log(f"opened {path.name} in {open_s:.1f} s")
        con = connect_sql(copy)
        try:
            org = meter.store.org("bench").id
            rows = []
            first, last = epoch_day(START), epoch_day(TODAY)
            monday = START - timedelta(days=START.weekday())
            sunday = TODAY + timedelta(days=6 - TODAY.weekday())
            calendar = {
                "dau": ("DAU per day, 1 year", "day", first, last),
                "wau": ("WAU per ISO week, 1 year", "week", epoch_day(monday), epoch_day(sunday)),
                "mau": (
                    "MAU per month, 12 months",
                    "month",
                    first,
                    epoch_day(END_MONTH.last_day()),
                ),
            }
            for metric, (label, unit, lo, hi) in calendar.items():
                rows.append(
                    compare(
                        Row(metric, label),
                        meter,
                        lambda an, m=metric: an.series("bench", m, START, TODAY),
                        sql_calendar(org, unit, lo, hi),
                        con,
                        check_points(
                            (lambda p: epoch_day(p.first)) if unit == "day" else (lambda p: p.first)
                        ),
                        args.repeat,
                    )
                )
            for metric, width in (("rolling7", 7), ("rolling30", 30)):
                rows.append(
                    compare(
                        Row(metric, f"rolling {width} days per day, 1 year"),
                        meter,
                        lambda an, m=metric: an.series("bench", m, START, TODAY),
                        sql_rolling(org, width, first, last),
                        con,
                        check_points(lambda p: epoch_day(p.last)),
                        args.repeat,
                    )
                )
            rows.append(
                compare(
                    Row("lifecycle", "lifecycle, 12 months"),
                    meter,
                    lambda an: an.lifecycle("bench", "month", START, TODAY),
                    sql_lifecycle(org, START, TODAY),
                    con,
                    check_lifecycle,
                    args.repeat,
                )
            )
            rows.append(
                compare(
                    Row("retention", "retention, 12 monthly cohorts"),
                    meter,
                    lambda an: an.retention("bench", "month", START, TODAY),
                    sql_retention(org, START, TODAY),
                    con,
                    check_retention,
                    args.repeat,
                )
            )

            def levels(an: Analytics) -> tuple[dict, dict, dict]:
                report = an.levels("bench", TODAY)
                return report.counts, report.previous_counts, report.movement()

            rows.append(
                compare(
                    Row("levels", f"activity levels on {TODAY} and movement"),
                    meter,
                    levels,
                    sql_levels(org, TODAY, LevelRules()),
                    con,
                    check_levels,
                    args.repeat,
                )
            )
        finally:
            con.close()
            meter.close()
    finally:
        copy.unlink(missing_ok=True)
    return rows, open_s


def run_orgs(args: argparse.Namespace, path: Path) -> tuple[list[Row], float]:
    """The health of every org: the library's ``accounts()`` and its inputs, against SQL."""
    copy = sql_copy(path)
    try:
        open_s = time.perf_counter()
        meter = Meter.open(path, clock=clock)
        open_s = time.perf_counter() - open_s
        con = connect_sql(copy)
        try:
            orgs = sorted(o.name for o in meter.orgs())
            sql = sql_health(TODAY, LevelRules())
            row = Row("accounts", f"health of {len(orgs)} orgs: `accounts()`, scored and ranked")
            if not hasattr(Analytics(meter), "accounts"):
                row.note = "skipped: `meter.analytics.accounts` does not exist in this build"
                log(f"accounts     {row.note}")
            else:
                try:
                    compare(
                        row, meter, lambda an: an.accounts(), sql, con, check_accounts, args.repeat
                    )
                    row.note = ranking_note(Analytics(meter).accounts(), args)
                except AttributeError as exc:
                    row.equal, row.note = None, f"skipped: {exc}"
                    log(f"accounts     {row.note}")
            rows = [
                row,
                compare(
                    Row(
                        "health", f"health inputs of {len(orgs)} orgs, one library query at a time"
                    ),
                    meter,
                    lambda an: health_inputs(an, orgs),
                    sql,
                    con,
                    check_health,
                    args.repeat,
                ),
            ]
        finally:
            con.close()
            meter.close()
    finally:
        copy.unlink(missing_ok=True)
    return rows, open_s


# ---- the report -----------------------------------------------------------------------------


def fmt_ms(ms: float) -> str:
    if math.isnan(ms):
        return "—"
    return f"{ms:,.0f}" if ms >= 100 else f"{ms:.1f}" if ms >= 1 else f"{ms:.2f}"


def table(rows: list[Row]) -> list[str]:
    lines = [
        "| query | library warm (ms) | library cold (ms) | SQL (ms) | SQL first (ms) "
        "| SQL / library | ≤ 500 ms | ≥ 5× | equal |",
        "|---|--:|--:|--:|--:|--:|:-:|:-:|:-:|",
    ]
    for r in rows:
        fast = "—" if math.isnan(r.lib_median) else "yes" if r.lib_median <= TARGET_MS else "**no**"
        ratio = "—" if math.isnan(r.ratio) else f"{r.ratio:.1f}×"
        goal = "—" if math.isnan(r.ratio) else "yes" if r.ratio >= GOAL_RATIO else "**no**"
        equal = "—" if r.equal is None else "yes" if r.equal else "**NO**"
        label = r.label + (f" ({r.note})" if r.note else "")
        lines.append(
            f"| {label} | **{fmt_ms(r.lib_median)}** | {fmt_ms(r.lib_cold)} "
            f"| {fmt_ms(r.sql_median)} | {fmt_ms(r.sql_first)} | {ratio} | {fast} | {goal} "
            f"| {equal} |"
        )
    return lines


def command_line(args: argparse.Namespace) -> str:
    parts = ["python -m bench.analytics"]
    if args.quick:
        parts.append("--quick")
    defaults = {"events": 10_000_000, "persons": 1_000_000, "months": 12, "projects": 3}
    for name, value in defaults.items():
        if getattr(args, name) != value and not args.quick:
            parts.append(f"--{name} {getattr(args, name)}")
    if args.seed != 42:
        parts.append(f"--seed {args.seed}")
    if args.repeat != (2 if args.quick else 7):
        parts.append(f"--repeat {args.repeat}")
    return " ".join(parts)


def code_version() -> str:
    def git(*a: str) -> str:
        done = subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True)
        return done.stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = bool(git("status", "--porcelain", "--", "src"))
    return f"`{head}`" + (" with uncommitted changes in src/" if dirty else "")


def machine() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
        return re.search(r"model name\s*:\s*(.+)", text).group(1).strip()  # type: ignore[union-attr]
    except (OSError, AttributeError):
        return platform.machine()


def load_average() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def section(args: argparse.Namespace, result: dict[str, Any]) -> list[str]:
    rows = result["row_objects"]
    big, small = result["main_store"], result["orgs_store"]
    equal = all(r.equal is not False for r in rows)
    return [
        SECTION,
        "",
        f"`{command_line(args)}` (stores built once through `Meter.import_file` and cached "
        "under `bench/data/`; `--rebuild` rebuilds them)",
        "",
        f"Run {result['date']} on {machine()}, {os.cpu_count()} cores (a shared, noisy VM; "
        f"load average {result['load_before']} before, {result['load_after']} after), Python "
        f"{platform.python_version()}, DuckDB {duckdb.__version__}, code {code_version()}.",
        "",
        f"Data: the benchmark generator's year ending {END_MONTH}: "
        f"{big['accepted']:,} events of {args.persons:,} persons in {args.projects} projects of "
        f"one org (seed {args.seed}; store built in {big['seconds']:.0f} s, "
        f"opened — identities and counting state replayed — in {result['main_open']:.1f} s). "
        f"Health: {args.orgs} orgs of one project each, {small['accepted']:,} events in all "
        f"(store built in {small['seconds']:.0f} s), a quarter declining and a quarter growing "
        f"over the last three months. Clock fixed at {NOW:%Y-%m-%d %H:%M} UTC; the year is "
        f"{START}..{TODAY}, the health months {HEALTH_MONTHS[0]}..{HEALTH_MONTHS[-1]}.",
        "",
        "Library: `meter.analytics` in the benchmark's process (one thread). *Cold* is the "
        "first query of a fresh `Analytics`, which builds the scope's daily index (persons per "
        "day) from the in-memory counting state; *warm* is the median of "
        f"{args.repeat} later runs (each refreshes the index incrementally: nothing changed). "
        "SQL: the equivalent query over the raw `events` table of a copy of the same store "
        "file, on a separate read-only DuckDB connection with its defaults (2 threads), "
        "identity resolution given as a table `roots(org_id, idx, root)` built from the "
        "stored merges (not timed); median of "
        f"{args.repeat} runs after a first one. The two sides run alternately in one process, "
        "query by query. Every SQL result equals the library's "
        f"(numbers asserted): **{'yes' if equal else 'NO'}**.",
        "",
        *table(rows),
        "",
        f"Targets (issue 5): each query ≤ {TARGET_MS:.0f} ms warm, goal "
        f"{GOAL_RATIO:.0f}× faster than the SQL.",
        "",
    ]


def write_section(path: Path, lines: list[str]) -> None:
    """Replace this section in ``path`` (keeping a hand-written ``### Notes``), or append it."""
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    start = text.find(SECTION + "\n")
    notes = ""
    if start >= 0:
        nxt = text.find("\n## ", start + len(SECTION))
        end = len(text) if nxt < 0 else nxt + 1
        old = text[start:end]
        at = old.find("\n" + NOTES + "\n")
        if at >= 0:
            notes = old[at + 1 :].rstrip("\n") + "\n"
        before, after = text[:start], text[end:]
    else:
        before, after = text.rstrip("\n") + "\n\n", ""
    body = "\n".join(lines).rstrip("\n") + "\n" + ("\n" + notes if notes else "")
    path.write_text(before + body + ("\n" + after if after else ""))


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--projects", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--orgs", type=int, default=None, help="Orgs of the health store (100).")
    parser.add_argument("--repeat", type=int, default=None, help="Timed runs per side (7).")
    parser.add_argument(
        "--quick", action="store_true", help="Smoke test: 200k events, 10 orgs, 2 repeats."
    )
    parser.add_argument("--rebuild", action="store_true", help="Rebuild the cached stores.")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data")
    parser.add_argument("--output", type=Path, default=ROOT / "RESULTS.md")
    parser.add_argument("--json", type=Path, help="Also write the raw figures here.")
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.persons = 200_000, 20_000
    args.orgs = args.orgs or (10 if args.quick else 100)
    args.repeat = args.repeat or (2 if args.quick else 7)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    load_before = load_average()
    big_path, big = main_store(args.data_dir, args)
    small_path, small = orgs_store(args.data_dir, args)
    rows, main_open = run_main(args, big_path)
    health_rows, _ = run_orgs(args, small_path)
    rows += health_rows
    result = {
        "date": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "load_before": load_before,
        "load_after": load_average(),
        "main_store": big,
        "orgs_store": small,
        "main_open": main_open,
        "row_objects": rows,
    }
    lines = section(args, result)
    write_section(args.output, lines)
    print("\n".join(lines))
    if args.json:
        raw = {k: v for k, v in result.items() if k != "row_objects"}
        raw["rows"] = [r.to_dict() for r in rows]
        raw["equal"] = all(r.equal is not False for r in rows)
        raw["args"] = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
        args.json.write_text(json.dumps(raw, indent=1, default=str) + "\n")
    wrong = [r for r in rows if r.equal is False]
    for r in wrong:
        log(f"DISAGREEMENT in {r.name}: {r.detail}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
