"""The admission gate inside the store: atomic decisions, committed in groups.

Decisions run on the writer thread, one at a time, so no two can both take the last place
under a cap. Reading the live counts alone would not do: admissions decided earlier in the same
group are not committed yet. Each org therefore keeps the ids of persons admitted (and counted)
in the open group, ``pending``; a decision counts them too. The admitted events wait in a buffer
and are written by :func:`flush` as one batch just before the group commits; after the commit
the live counts hold them and ``pending`` is emptied. If the group fails, the store reloads the
org's state from the file, and with it empty buffers: nothing half-decided survives.

Refusals are recorded (one row per person and month, written with the group) so usage can
report them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import duckdb
import pyarrow as pa

from maumeter.core.activity import Verdict, emails_of
from maumeter.core.admission import Decision, decide
from maumeter.core.events import Event
from maumeter.core.identity import IdKind
from maumeter.store.batch import TS, batch_from_events
from maumeter.store.fold import Writes
from maumeter.store.ingest import OrgState, commit_batch
from maumeter.store.pending import IdKey


def ids_of(event: Event) -> list[IdKey]:
    found: list[IdKey] = []
    if event.user_id is not None:
        found.append((int(IdKind.USER), event.user_id))
    if event.anonymous_id is not None:
        found.append((int(IdKind.ANONYMOUS), event.anonymous_id))
    return found


def admit(
    state: OrgState,
    project_id: int,
    event: Event,
    received: datetime,
    month: int,
    policy: str,
    cap: int | None,
) -> Decision:
    """Decide for one person (writer thread); buffer the admission or record the refusal."""
    pending = state.pending
    graph, counts = state.graph, state.counts
    persons = counts.persons(month)
    keys = ids_of(event)
    roots = []
    for kind, value in keys:
        idx = graph.lookup(IdKind(kind), value)
        if idx is not None:
            roots.append(graph.find(idx))
    month_ids = pending.ids.setdefault(month, set())
    counted = any(r in persons for r in roots) or any(k in month_ids for k in keys)
    verdict = state.rules[project_id].evaluate(event)  # stored with the event, not recomputed
    decision = decide(
        policy,
        cap,
        len(persons) + pending.new.get(month, 0),
        counted,
        _excluded(state, project_id, event, roots, verdict),
    )
    if decision.admitted:
        pending.events.setdefault(project_id, []).append((event, received, verdict.value))
        if decision.new_person:
            pending.new[month] = pending.new.get(month, 0) + 1
        if decision.counted:
            month_ids.update(keys)
    else:
        _refuse(state, project_id, event, received, month)
    return decision


def _excluded(
    state: OrgState, project_id: int, event: Event, roots: list[int], verdict: Verdict
) -> bool:
    """Bots, excluded URLs and internal persons are served but never counted."""
    rule = state.rules[project_id]
    if verdict is not Verdict.QUALIFIES:
        return True
    if not rule.has_internal_exclusions:
        return False
    internal = state.counts.internal.get(project_id)
    if internal is not None and any(r in internal for r in roots):
        return True
    if event.user_id is not None and rule.is_internal_user_id(event.user_id):
        return True
    return any(rule.is_internal_email(e) for e in emails_of(event))


def _refuse(state: OrgState, project_id: int, event: Event, received: datetime, month: int) -> None:
    key = ids_of(event)[0]
    if key in state.refused.get(month, set()):
        return
    state.pending.refusals.append((project_id, month, key[0], key[1], received))
    state.refused.setdefault(month, set()).add(key)


def flush(
    con: duckdb.DuckDBPyConnection, writes: Writes, state: OrgState, first_seq: int
) -> tuple[int, list[Callable[[], None]]]:
    """Write the group's admitted events and refusals; returns rows written and the
    post-commit steps."""
    refusals = state.pending.refusals
    if refusals:
        projects, months, kinds, values, times = zip(*refusals, strict=True)
        writes.add(
            "admission_refusals",
            pa.table(
                {
                    "org_id": pa.array([state.org_id] * len(refusals), pa.int32()),
                    "project_id": pa.array(projects, pa.int32()),
                    "month": pa.array(months, pa.int32()),
                    "kind": pa.array(kinds, pa.uint8()),
                    "value": pa.array(values, pa.string()),
                    "refused_at": pa.array(times, TS),
                }
            ),
        )
    written = 0
    posts: list[Callable[[], None]] = []
    for project_id, items in state.pending.events.items():
        events = [e for e, _, _ in items]
        billing = [at for _, at, _ in items]
        verdicts = pa.array([v for _, _, v in items], pa.string())
        batch = batch_from_events(events, list(range(len(events))), billing[-1], billing)
        outcome, post = commit_batch(
            con, writes, state, project_id, batch, first_seq + written, verdicts
        )
        written += outcome.accepted
        posts.append(post)
    return written, posts
