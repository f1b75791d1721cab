"""Committing one columnar batch: the ingest pipeline's vectorised steps.

Steps, in order (the same as the reference count's): drop duplicates (first occurrence wins, in
the batch and against everything stored), resolve identities in log order, evaluate the
project's activity rule, find the local day of the billing time, append to the log (rows left
in the group's :class:`~maumeter.store.fold.Writes`, which the journal makes durable), and — only
once the group is durable — update the live counts. Everything runs on the writer thread; the
connection is used for computing over the batch and for reading what is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import repeat

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from maumeter.core.activity import ActivityRule, Verdict
from maumeter.core.identity import Conflict, IdentityGraph, IdKind, Merge
from maumeter.store.batch import registered
from maumeter.store.counters import OrgCounts, roots_at
from maumeter.store.dedupe import DedupeIndex, first_occurrences, message_hashes
from maumeter.store.fold import Writes
from maumeter.store.localtime import local_epoch_days
from maumeter.store.pending import Pending
from maumeter.store.verdicts import Verdicts

SMALL = 4096  # past this many linking rows, already-linked pairs are dropped before the loop


@dataclass(slots=True)
class OrgState:
    """Everything the writer keeps in memory for one org."""

    org_id: int
    timezone: str
    graph: IdentityGraph
    counts: OrgCounts
    dedupe: DedupeIndex
    rules: dict[int, ActivityRule] = field(default_factory=dict)
    pending: Pending = field(default_factory=Pending)  # admissions of the open group
    refused: dict[int, set[tuple[int, str]]] = field(default_factory=dict)  # month -> ids
    verdicts: dict[int, Verdicts] = field(default_factory=dict)  # project -> its evaluator


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    accepted: int
    duplicate_rows: list[int]
    qualifying: int
    merges: int
    conflicts: int


def commit_batch(
    con: duckdb.DuckDBPyConnection,
    writes: Writes,
    state: OrgState,
    project_id: int,
    batch: pa.Table,
    first_seq: int,
    verdict: pa.Array | None = None,
) -> tuple[BatchOutcome, Callable[[], None]]:
    """Add ``batch`` to the group's writes; return the outcome and the post-commit step.
    ``verdict``: each row's, when the caller has it already (admissions decide with it)."""
    if batch.num_rows == 0:
        return BatchOutcome(0, [], 0, 0, 0), lambda: None
    hashes = message_hashes(batch.column("message_id"))
    keep = _not_duplicates(con, writes, state, batch, hashes)
    duplicate_rows = batch.column("rownum").filter(pa.array(~keep)).to_pylist()
    if not keep.all():
        batch = batch.filter(pa.array(keep))
        hashes = hashes[keep]
        if verdict is not None:
            verdict = verdict.filter(pa.array(keep))
    n = batch.num_rows
    if n == 0:
        return BatchOutcome(0, duplicate_rows, 0, 0, 0), lambda: None
    # Known at once, not after the commit: a later job of the same group (one transaction)
    # must see these ids as stored. A failed transaction reloads the whole state anyway.
    state.dedupe.add(hashes)

    if verdict is None:
        verdicts = state.verdicts.get(project_id)
        if verdicts is None:
            verdicts = state.verdicts[project_id] = Verdicts(state.rules[project_id])
        verdict = verdicts.of(batch)
    graph = state.graph
    first_new_id = len(graph)
    seqs = np.arange(first_seq, first_seq + n, dtype=np.int64)
    actors, merges, conflicts = _resolve_identities(graph, batch, seqs)
    roots = roots_at(graph, actors)

    micros = pc.cast(batch.column("billing_time"), pa.int64()).to_numpy()
    days = local_epoch_days(micros, state.timezone)

    stored = pa.table(
        {
            "seq": seqs,
            "org_id": pa.array(np.full(n, state.org_id, dtype=np.int32)),
            "project_id": pa.array(np.full(n, project_id, dtype=np.int32)),
            **{name: batch.column(name) for name in batch.column_names if name != "rownum"},
            "actor": pa.array(actors),
            "day": pa.array(days),
            "verdict": verdict,
        }
    )
    writes.add("events", stored)
    internal = _internal_roots(con, state, graph, first_new_id, stored)
    _persist_identities(writes, state.org_id, graph, first_new_id, merges, conflicts)

    qualifies = pc.equal(verdict, Verdict.QUALIFIES.value).to_numpy(zero_copy_only=False)
    q_actors, q_days, q_roots = actors[qualifies], days[qualifies], roots[qualifies]
    absorbed = [m.absorbed for _, m in merges]
    counts = state.counts

    def after_commit() -> None:
        counts.add_ids(first_new_id)
        counts.apply_merges(absorbed)
        for project, found in internal.items():
            counts.mark_internal(project, found)
        projects = np.full(len(q_actors), project_id, dtype=np.int32)
        counts.add_activity(projects, q_actors, q_days, q_roots)

    outcome = BatchOutcome(n, duplicate_rows, int(qualifies.sum()), len(merges), len(conflicts))
    return outcome, after_commit


def flush_appends(
    con: duckdb.DuckDBPyConnection, writes: Writes, state: OrgState, first_seq: int
) -> tuple[int, list[Callable[[], None]]]:
    """Write the group's appended batches, one merged batch per project: every statement's
    fixed cost is paid once per group, not once per request. Each batch's duplicates are
    mapped back to its own row numbers."""
    written = 0
    posts: list[Callable[[], None]] = []
    for project_id, slots in state.pending.appends.items():
        tables, bases, base = [], [], 0
        for slot in slots:
            bases.append(base)
            if slot.batch.num_rows == 0:
                continue
            rownum = slot.batch.column("rownum")
            table = slot.batch
            if base:
                position = table.schema.get_field_index("rownum")
                table = table.set_column(position, "rownum", pc.add(rownum, base))
            tables.append(table)
            base += int(pc.max(rownum).as_py()) + 1
        if not tables:
            continue
        merged = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
        outcome, post = commit_batch(con, writes, state, project_id, merged, first_seq + written)
        written += outcome.accepted
        posts.append(post)
        duplicates = np.sort(np.asarray(outcome.duplicate_rows, dtype=np.int64))
        for slot, start, end in zip(slots, bases, [*bases[1:], base], strict=True):
            lo, hi = np.searchsorted(duplicates, [start, end])
            slot.duplicate_rows = (duplicates[lo:hi] - start).tolist()
            slot.accepted = slot.batch.num_rows - len(slot.duplicate_rows)
    return written, posts


def _not_duplicates(
    con: duckdb.DuckDBPyConnection,
    writes: Writes,
    state: OrgState,
    batch: pa.Table,
    hashes: np.ndarray,
) -> np.ndarray:
    """Rows to keep: first in the batch, and not stored before (hash hits confirmed exactly,
    in the tables and in what is acknowledged but not folded yet)."""
    ids: list[str] | None = None

    def message_ids() -> list[str]:
        nonlocal ids
        if ids is None:
            ids = batch.column("message_id").to_pylist()
        return ids

    first = first_occurrences(hashes)
    if not first.all():
        first = first_occurrences(hashes, message_ids())
    candidates = state.dedupe.candidates(hashes) & first
    if not candidates.any():
        return first
    wanted = pa.table({"message_id": batch.column("message_id").filter(pa.array(candidates))})
    # Unfolded rows first: a fold committing in between is then seen by the query below.
    stored = writes.stored_message_ids(state.org_id, wanted.column("message_id").combine_chunks())
    with registered(con, "_wanted", wanted):
        found = con.execute(
            "SELECT DISTINCT message_id FROM events WHERE org_id = ? "
            "AND message_id IN (SELECT message_id FROM _wanted)",
            [state.org_id],
        ).fetchall()
    stored.update(row[0] for row in found)
    if not stored:
        return first
    all_ids = message_ids()
    seen = np.fromiter((all_ids[i] in stored for i in range(len(all_ids))), bool, len(all_ids))
    return first & ~(candidates & seen)


def _indices(graph: IdentityGraph, column: pa.ChunkedArray, kind: IdKind) -> np.ndarray:
    """The graph index of each row's id (-1 where null), creating new ids. Known ids are
    looked up in C (``map`` over the graph's dict); only new ones go through ``index``."""
    values = column.to_pylist()
    known = graph.ids(kind)
    found = np.fromiter(map(known.get, values, repeat(-1)), np.int32, len(values))
    for row in np.flatnonzero(found < 0):
        value = values[row]
        if value is not None:
            found[row] = graph.index(kind, value)
    return found


def _resolve_identities(
    graph: IdentityGraph, batch: pa.Table, seqs: np.ndarray
) -> tuple[np.ndarray, list[tuple[int, Merge]], list[tuple[int, Conflict]]]:
    """Actor index per row, and the merges and conflicts, applying links in log order."""
    users = _indices(graph, batch.column("user_id"), IdKind.USER)
    anons = _indices(graph, batch.column("anonymous_id"), IdKind.ANONYMOUS)
    actors = np.where(users >= 0, users, anons).astype(np.int32)
    is_alias = pc.equal(batch.column("type"), "alias").to_numpy(zero_copy_only=False)
    is_alias = np.asarray(is_alias, dtype=bool)

    link_rows = np.flatnonzero((users >= 0) & (anons >= 0) & ~is_alias)
    if len(link_rows) > SMALL:  # keep only the pairs not linked yet: the loop below is Python
        pairs = anons[link_rows].astype(np.int64) << 32 | users[link_rows].astype(np.int64)
        link_rows = link_rows[first_occurrences(pairs.view(np.uint64))]
        apart = roots_at(graph, anons[link_rows]) != roots_at(graph, users[link_rows])
        link_rows = link_rows[apart]
    alias_rows = np.flatnonzero(is_alias)
    if len(alias_rows) == 0 and len(link_rows) == 0:
        return actors, [], []

    previous = batch.column("previous_id").to_pylist() if len(alias_rows) else []
    values = graph.values
    merges: list[tuple[int, Merge]] = []
    conflicts: list[tuple[int, Conflict]] = []
    for row in np.sort(np.concatenate((link_rows, alias_rows))):
        row = int(row)
        if is_alias[row]:
            outcomes = graph.alias(previous[row], values[users[row]])
        else:
            linked = graph.link(values[anons[row]], values[users[row]])
            outcomes = [] if linked is None else [linked]
        for outcome in outcomes:
            if isinstance(outcome, Merge):
                merges.append((int(seqs[row]), outcome))
            else:
                conflicts.append((int(seqs[row]), outcome))
    return actors, merges, conflicts


def _internal_roots(
    con: duckdb.DuckDBPyConnection,
    state: OrgState,
    graph: IdentityGraph,
    first_new_id: int,
    stored: pa.Table,
) -> dict[int, np.ndarray]:
    """Per project with internal exclusions: persons this batch reveals as internal."""
    rules = {p: r for p, r in state.rules.items() if r.has_internal_exclusions}
    if not rules:
        return {}
    with registered(con, "_stored", stored.select(["actor", "traits", "context"])):
        rows = con.execute(
            "SELECT actor, e FROM (SELECT actor, unnest([json_extract_string(traits, '$.email'), "
            "json_extract_string(context, '$.traits.email')]) AS e FROM _stored) "
            "WHERE e IS NOT NULL"
        ).fetchall()
    found: dict[int, np.ndarray] = {}
    for project, rule in rules.items():
        hits = {graph.find(actor) for actor, email in rows if rule.is_internal_email(email)}
        for idx in range(first_new_id, len(graph)):
            if graph.kinds[idx] == IdKind.USER and rule.is_internal_user_id(graph.values[idx]):
                hits.add(graph.find(idx))
        if hits:
            found[project] = np.fromiter(hits, np.int32, len(hits))
    return found


def _persist_identities(
    writes: Writes,
    org_id: int,
    graph: IdentityGraph,
    first_new_id: int,
    merges: list[tuple[int, Merge]],
    conflicts: list[tuple[int, Conflict]],
) -> None:
    if len(graph) > first_new_id:
        new = pa.table(
            {
                "org_id": pa.array(np.full(len(graph) - first_new_id, org_id, dtype=np.int32)),
                "idx": pa.array(np.arange(first_new_id, len(graph), dtype=np.int32)),
                "kind": pa.array(np.frombuffer(bytes(graph.kinds[first_new_id:]), np.uint8)),
                "value": pa.array(graph.values[first_new_id:], pa.string()),
            }
        )
        writes.add("identities", new)
    if merges:
        _insert(
            writes,
            "identity_merges",
            {
                "org_id": pa.array(np.full(len(merges), org_id, dtype=np.int32)),
                "seq": pa.array([seq for seq, _ in merges], pa.int64()),
                "absorbed": pa.array([m.absorbed for _, m in merges], pa.int32()),
                "survivor": pa.array([m.survivor for _, m in merges], pa.int32()),
            },
        )
    if conflicts:
        _insert(
            writes,
            "identity_conflicts",
            {
                "org_id": pa.array(np.full(len(conflicts), org_id, dtype=np.int32)),
                "seq": pa.array([seq for seq, _ in conflicts], pa.int64()),
                "anonymous_id": pa.array([c.anonymous_id for _, c in conflicts], pa.string()),
                "claimed_by": pa.array([c.claimed_by for _, c in conflicts], pa.string()),
                "owner": pa.array([c.owner for _, c in conflicts], pa.string()),
            },
        )


def _insert(writes: Writes, table: str, columns: dict[str, pa.Array]) -> None:
    writes.add(table, pa.table(columns))
