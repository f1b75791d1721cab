"""Statements in DuckDB: the counted-person list of a month, frozen rows, restatements.

The list is computed in SQL, not in Python: the month's qualifying events are joined to a
snapshot of the identity forest (every id's root, registered as an Arrow table), kept only for
the persons the live count holds (and not in a project where the person is internal), and
reduced per person to the first event by ``(billing_time, seq)``. A million persons take a
couple of seconds; the row count is then checked against the count it must equal.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from maumeter.core.identity import IdentityGraph, IdKind
from maumeter.core.months import Month, epoch_day
from maumeter.store.batch import registered
from maumeter.store.duckdb import DuckDBStore, OrgInfo, month_index, quiet

WORK_MEMORY = "2GB"  # the private DuckDB a close computes its list in
PERSON_COLUMNS = (
    "person_key",
    "identified",
    "ids",
    "first_time",
    "project",
    "event_type",
    "event",
    "message_id",
    "experiment",
    "flag",
)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The live count of one month, read under the store's lock in one go.

    ``persons``: the counted roots (sorted); ``roots``: every id index's root; ``internal``:
    per project, the roots excluded there; ``by_project``: MAU per project id.
    """

    month: Month
    persons: np.ndarray
    roots: np.ndarray
    kinds: np.ndarray
    values: list[str]
    identified: int
    internal: dict[int, np.ndarray]
    by_project: dict[int, int]

    @property
    def mau(self) -> int:
        return len(self.persons)

    def fingerprint(self) -> int:
        """Changes when the counted roots do (late events, merges): keys follow from roots."""
        return hash(self.persons.tobytes())


def forest(graph: IdentityGraph) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Every id's root, kind and value, from copies taken without exporting the graph's
    buffers (the writer may append ids meanwhile) and without ``find``'s path compression."""
    parent = np.frombuffer(graph.parent.tobytes(), dtype=np.int32).copy()
    n = len(parent)
    kinds = np.frombuffer(bytes(graph.kinds[:n]), dtype=np.uint8)
    values = graph.values[:n]
    while True:
        jumped = parent[parent]
        if np.array_equal(jumped, parent):
            return parent, kinds, values
        parent = jumped


def snapshot(store: DuckDBStore, org: OrgInfo, month: Month) -> Snapshot:
    counts = store.counts(org)
    index = month_index(month)
    with store.lock():
        graph = counts.graph
        persons = counts.persons(index)
        counted = np.asarray(persons.to_array(), dtype=np.int32)
        identified = persons.intersection_cardinality(counts.users)
        roots, kinds, values = forest(graph)
        internal = {
            p: np.asarray(bm.to_array(), dtype=np.int32) for p, bm in counts.internal.items() if bm
        }
        by_project = {
            p: len(counts.persons(index, p)) for (p, m) in counts.months if m == index and p
        }
    return Snapshot(month, counted, roots, kinds, values, identified, internal, by_project)


def person_keys(persons: np.ndarray, values: Sequence[str], kinds: np.ndarray) -> list[str]:
    """The statement key of each counted person (parallel to ``persons``).

    The person key (user id, else anonymous id) as is, except in the rare cases the checksum
    recipe cannot take: a newline is written ``\\n`` (backslash, n); an anonymous person whose
    key is also a counted user's gets ``anonymous:`` before it; a key still shared after that
    gets ``#`` and the person's index. Keys are unique and newline-free, so the list has one
    row per person and its checksum can be reproduced with ``sort | sha256sum``.
    """
    keys = [values[r] for r in persons.tolist()]
    if len(set(keys)) == len(keys) and not any("\n" in k for k in keys):
        return keys
    keys = [k.replace("\n", "\\n") for k in keys]
    shared = Counter(keys)
    keys = [
        "anonymous:" + k if shared[k] > 1 and kinds[r] == IdKind.ANONYMOUS else k
        for k, r in zip(keys, persons.tolist(), strict=True)
    ]
    shared = Counter(keys)
    return [f"{k}#{r}" if shared[k] > 1 else k for k, r in zip(keys, persons.tolist(), strict=True)]


def _json_path(key: str) -> str:
    return '$."' + key + '"'


def _property(key: str) -> str:
    """SQL for a top-level property as text; a LIKE guard skips parsing most events' JSON."""
    guard = f"properties LIKE '%\"{key}\"%'" if key.isascii() and key.isprintable() else "true"
    return f"CASE WHEN {guard} THEN json_extract_string(properties, '{_json_path(key)}') END"


def _tables(con: duckdb.DuckDBPyConnection, snap: Snapshot, keys: list[str] | None) -> ExitStack:
    """Register the snapshot as Arrow tables: _ids (idx, root, root_user), _counted (root[, key]),
    _internal (project_id, root)."""
    stack = ExitStack()
    n = len(snap.roots)
    ids = pa.table(
        {
            "idx": pa.array(np.arange(n, dtype=np.int32)),
            "root": pa.array(snap.roots),
            "root_user": pa.array(snap.kinds[snap.roots] == IdKind.USER),
        }
    )
    counted: dict[str, Any] = {"root": pa.array(snap.persons)}
    if keys is not None:
        counted["key"] = pa.array(keys, pa.string())
    pairs = [(p, r) for p, roots in snap.internal.items() for r in roots.tolist()]
    internal = pa.table(
        {
            "project_id": pa.array([p for p, _ in pairs], pa.int32()),
            "root": pa.array([r for _, r in pairs], pa.int32()),
        }
    )
    stack.enter_context(registered(con, "_ids", ids))
    stack.enter_context(registered(con, "_counted", pa.table(counted)))
    stack.enter_context(registered(con, "_internal", internal))
    return stack


def counted_events_sql(extra: str = "") -> str:
    """The month's qualifying events of counted persons, outside projects where they are
    internal: what the count counts (parameters $org, $first, $last)."""
    return f"""
        SELECT i.root, e.seq, e.actor, e.project_id, e.billing_time, e.type, e.event, e.name,
               e.message_id, e.properties{extra}
        FROM events e
        JOIN _ids i ON e.actor = i.idx
        SEMI JOIN _counted c ON c.root = i.root
        ANTI JOIN _internal x ON x.project_id = e.project_id AND x.root = i.root
        WHERE e.org_id = $org AND e.verdict = 'qualifies' AND e.day BETWEEN $first AND $last
    """


def _params(org: OrgInfo, month: Month) -> dict[str, int]:
    return {
        "org": org.id,
        "first": epoch_day(month.first_day()),
        "last": epoch_day(month.last_day()),
    }


def person_rows(
    store: DuckDBStore,
    org: OrgInfo,
    snap: Snapshot,
    keys: list[str],
    project_names: dict[int, str],
    experiment_key: str,
    flag_key: str,
) -> tuple[pa.Table, int, dict[str, int], dict[str, int]]:
    """The counted-person list (``PERSON_COLUMNS``), the impressions (the qualifying events
    counted), and MAU per experiment and per flag.

    The store's connection only scans (its memory is capped for the writer's sake): the
    month's counted events, narrowed to a few columns, go to Arrow, and the per-person work
    runs in a private in-memory DuckDB. The first event of a person is the least
    ``(billing_time, seq)``, packed into one HUGEINT so the aggregate compares integers."""
    con = store.cursor()
    params = _params(org, snap.month)
    props = f"{_property(experiment_key)} AS x, {_property(flag_key)} AS f"
    with _tables(con, snap, keys):
        events = con.sql(
            f"SELECT root, seq, billing_time AS t, {props} FROM ({counted_events_sql()})",
            params=params,
        ).to_arrow_table()
    work = quiet(duckdb.connect(config={"memory_limit": WORK_MEMORY}))
    try:
        work.register("q", events)
        firsts = work.sql(
            f"SELECT root, (min(epoch_us(t)::HUGEINT * {2**63} + seq) % {2**63})::BIGINT AS seq, "
            "count(*) AS n FROM q GROUP BY root"
        ).to_arrow_table()
        by_experiment = _tally(work, "x")
        by_flag = _tally(work, "f")
        work.unregister("q")
        del events
        with registered(con, "_firsts", firsts.select(["seq"])):
            details = con.sql(
                "SELECT seq, billing_time AS first_time, project_id, type AS event_type, "
                f"coalesce(event, name) AS event, message_id, {props} FROM events "
                "SEMI JOIN _firsts USING (seq) "
                "WHERE org_id = $org AND day BETWEEN $first AND $last",
                params=params,
            ).to_arrow_table()
        linked = np.flatnonzero(snap.roots != np.arange(len(snap.roots), dtype=np.int32))
        counted = snap.persons.tolist()
        tables = {
            "firsts": firsts,
            "details": details,
            "linked": pa.table(
                {
                    "root": pa.array(snap.roots[linked]),
                    "kind": pa.array(snap.kinds[linked]),
                    "value": pa.array([snap.values[i] for i in linked.tolist()], pa.string()),
                }
            ),
            "counted": pa.table(
                {
                    "root": pa.array(snap.persons),
                    "key": pa.array(keys, pa.string()),
                    "value": pa.array([snap.values[r] for r in counted], pa.string()),
                    "identified": pa.array(snap.kinds[snap.persons] == IdKind.USER),
                }
            ),
            "names": pa.table(
                {
                    "project_id": pa.array(list(project_names), pa.int32()),
                    "project": pa.array(list(project_names.values()), pa.string()),
                }
            ),
        }
        for name, table in tables.items():
            work.register(name, table)
        rows = work.sql(
            """
            WITH others AS (
                SELECT root, list(value ORDER BY kind DESC, value) AS ids FROM linked GROUP BY root
            )
            SELECT c.key AS person_key, c.identified,
                   list_concat([c.value], coalesce(o.ids, [])) AS ids, d.first_time, n.project,
                   d.event_type, d.event, d.message_id, d.x AS experiment, d.f AS flag
            FROM counted c
            JOIN firsts f USING (root)
            JOIN details d ON d.seq = f.seq
            JOIN names n ON n.project_id = d.project_id
            LEFT JOIN others o ON o.root = c.root
            """
        ).to_arrow_table()
        impressions = int(pc.sum(firsts.column("n")).as_py() or 0)
    finally:
        work.close()
    return rows.select(list(PERSON_COLUMNS)), impressions, by_experiment, by_flag


def _tally(con: duckdb.DuckDBPyConnection, column: str) -> dict[str, int]:
    """Distinct persons per value of a property over the month's counted events."""
    rows = con.execute(
        f"SELECT {column}, count(DISTINCT root) FROM q WHERE {column} IS NOT NULL "
        f"GROUP BY {column} ORDER BY {column}"
    ).fetchall()
    return {v: n for v, n in rows}


# ---- frozen rows ---------------------------------------------------------------------------


def insert_statement(
    con: duckdb.DuckDBPyConnection,
    org: OrgInfo,
    month: Month,
    closed_at: datetime,
    mau: int,
    checksum: str,
    figures: dict[str, Any],
    rows: pa.Table,
) -> bool:
    """Write a statement and its list (writer thread); False when the month was closed."""
    index = month_index(month)
    found = con.execute(
        "SELECT 1 FROM statements WHERE org_id = ? AND month = ?", [org.id, index]
    ).fetchall()
    if found:
        return False
    con.execute(
        "INSERT INTO statements VALUES (?, ?, ?, ?, ?, ?)",
        [org.id, index, closed_at, mau, checksum, json.dumps(figures)],
    )
    columns = ", ".join(PERSON_COLUMNS)
    with registered(con, "_statement_rows", rows):
        con.execute(
            f"INSERT INTO statement_persons (org_id, month, {columns}) "
            f"SELECT ?, ?, {columns} FROM _statement_rows",
            [org.id, index],
        )
    return True


def statement_row(
    con: duckdb.DuckDBPyConnection, org: OrgInfo, month: Month
) -> tuple[datetime, int, str, dict[str, Any]] | None:
    row = con.execute(
        "SELECT closed_at, mau, checksum, figures FROM statements WHERE org_id = ? AND month = ?",
        [org.id, month_index(month)],
    ).fetchall()
    if not row:
        return None
    return row[0][0], row[0][1], row[0][2], json.loads(row[0][3])


def closed_months(con: duckdb.DuckDBPyConnection, org: OrgInfo) -> list[Month]:
    rows = con.execute(
        "SELECT month FROM statements WHERE org_id = ? ORDER BY month", [org.id]
    ).fetchall()
    return [Month.from_index(r[0]) for r in rows]


def frozen_keys(con: duckdb.DuckDBPyConnection, org: OrgInfo, month: Month) -> list[str]:
    table = con.sql(
        "SELECT person_key FROM statement_persons WHERE org_id = $org AND month = $month",
        params={"org": org.id, "month": month_index(month)},
    ).to_arrow_table()
    return table.column(0).to_pylist()  # type: ignore[no-any-return]


def export(con: duckdb.DuckDBPyConnection, org: OrgInfo, month: Month, path: Path, fmt: str) -> int:
    """Write the list to ``path`` as ``csv`` (ids as a JSON array, times as ISO 8601 in UTC,
    the form the API answers) or ``parquet`` (typed columns); returns the rows written."""
    text = {
        "ids": "to_json(ids)::VARCHAR AS ids",
        "first_time": "strftime(first_time::TIMESTAMP, '%Y-%m-%dT%H:%M:%S.%gZ') AS first_time",
    }
    columns = ", ".join(text.get(c, c) if fmt == "csv" else c for c in PERSON_COLUMNS)
    options = "FORMAT csv, HEADER" if fmt == "csv" else "FORMAT parquet"
    target = str(path).replace("'", "''")
    con.execute(
        f"COPY (SELECT {columns} FROM statement_persons WHERE org_id = {int(org.id)} "
        f"AND month = {month_index(month)} ORDER BY person_key) TO '{target}' ({options})"
    )
    found = con.execute(
        "SELECT count(*) FROM statement_persons WHERE org_id = ? AND month = ?",
        [org.id, month_index(month)],
    ).fetchall()
    return int(found[0][0]) if found else 0


# ---- restatements --------------------------------------------------------------------------


def insert_restatement(
    con: duckdb.DuckDBPyConnection,
    org: OrgInfo,
    month: Month,
    created_at: datetime,
    reason: str,
    previous_mau: int,
    new_mau: int,
    added: Sequence[str],
    removed: Sequence[str],
) -> int:
    found = con.execute("SELECT coalesce(max(id) + 1, 1) FROM restatements").fetchall()
    rid = int(found[0][0]) if found else 1
    con.execute(
        "INSERT INTO restatements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            rid,
            org.id,
            month_index(month),
            created_at,
            reason,
            previous_mau,
            new_mau,
            list(added),
            list(removed),
        ],
    )
    return rid


def restatement_rows(
    con: duckdb.DuckDBPyConnection, org: OrgInfo, month: Month
) -> Iterator[tuple[Any, ...]]:
    """(id, created_at, reason, previous_mau, new_mau, added, removed) in the order made."""
    yield from con.execute(
        "SELECT id, created_at, reason, previous_mau, new_mau, added, removed FROM restatements "
        "WHERE org_id = ? AND month = ? ORDER BY id",
        [org.id, month_index(month)],
    ).fetchall()


def erased(con: duckdb.DuckDBPyConnection, org: OrgInfo) -> set[str]:
    rows = con.execute("SELECT tombstone FROM erasures WHERE org_id = ?", [org.id]).fetchall()
    return {r[0] for r in rows}


# ---- anonymous inflation -------------------------------------------------------------------


def inflation_counts(store: DuckDBStore, org: OrgInfo, snap: Snapshot) -> tuple[int, int]:
    """(MAU as seen, anonymous ids identified later) of the month; see billing.inflation."""
    sql = f"""
        WITH q AS ({counted_events_sql(", e.user_id, e.anonymous_id, i.root_user")}),
        links AS (
            SELECT anonymous_id AS a, min(billing_time) AS t FROM events
            WHERE org_id = $org AND anonymous_id IS NOT NULL AND user_id IS NOT NULL GROUP BY 1
            UNION ALL
            SELECT previous_id, min(billing_time) FROM events
            WHERE org_id = $org AND type = 'alias' AND previous_id IS NOT NULL
              AND user_id IS NOT NULL GROUP BY 1
        ),
        link AS (SELECT a, min(t) AS t FROM links GROUP BY a),
        seen AS (
            SELECT q.root, q.actor,
                   coalesce(q.user_id IS NULL AND q.root_user AND q.billing_time < l.t, false)
                       AS early
            FROM q LEFT JOIN link l ON l.a = q.anonymous_id
        )
        SELECT count(DISTINCT CASE WHEN early THEN -1 - actor ELSE root END),
               count(DISTINCT actor) FILTER (WHERE early)
        FROM seen
    """
    con = store.cursor()
    with _tables(con, snap, None):
        row = con.sql(sql, params=_params(org, snap.month)).fetchall()
    return (int(row[0][0]), int(row[0][1])) if row else (0, 0)
