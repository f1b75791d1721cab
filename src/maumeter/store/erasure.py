"""Erasure's SQL (GDPR Art. 17): one person's data out of every table, in one transaction.

Runs as a writer job, so it is atomic with everything else. What goes, for the ids of the
person (every id linked to it in the identity graph):

* their events (traits, context and properties with them);
* their ids: an ``identities`` row cannot be deleted (indices are dense: events and the
  in-memory graph address ids by position), so its value is replaced by a placeholder longer
  than any valid id — it can never match an incoming id and says nothing about the person;
* the merges between those ids and the conflicts naming them; another person's events that
  carry one of them as a refused anonymous link get that field cleared;
* their admission refusals;
* in closed statements, their rows keep their place (the count does not change) with the key
  replaced by its tombstone and the ids emptied; the checksum is recomputed over the new list;
  restatement lists get tombstones too. Their tombstones are recorded in ``erasures``, so a
  recount that meets them again (a replay of old messages) maps them back to the tombstone.

Physical removal (the freed blocks still hold the bytes) is compaction's job, after commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import numpy as np
import pyarrow as pa

from maumeter.core.events import MAX_ID_LENGTH
from maumeter.core.identity import IdentityGraph
from maumeter.core.months import Month
from maumeter.core.statement import Restatement, checksum, tombstone
from maumeter.store.batch import registered


def placeholder(idx: int) -> str:
    """The value an erased id becomes: unique per index, longer than any valid id."""
    return f"erased#{idx}".ljust(MAX_ID_LENGTH + 1, "#")


@dataclass(slots=True)
class Erased:
    """What one erasure removed and rewrote (counts and checksums: no personal data)."""

    persons: int = 0
    ids: int = 0
    events: int = 0
    refusals: int = 0
    statement_rows: int = 0
    restatements: int = 0
    checksums: list[tuple[Month, str, str]] = field(default_factory=list)  # month, old, new

    def audit_detail(self) -> dict[str, object]:
        return {
            "persons": self.persons,
            "ids": self.ids,
            "events": self.events,
            "refusals": self.refusals,
            "statement_rows": self.statement_rows,
            "restatements": self.restatements,
            "statements": [
                {"month": str(m), "old_checksum": old, "new_checksum": new}
                for m, old, new in self.checksums
            ],
        }


def members(graph: IdentityGraph, roots: set[int]) -> list[int]:
    """Every id index of the persons ``roots`` (a scan of the graph: erasure is rare)."""
    find = graph.find
    return [i for i in range(len(graph)) if find(i) in roots]


def erase(
    con: duckdb.DuckDBPyConnection,
    org_id: int,
    org: str,
    graph: IdentityGraph,
    roots: set[int],
    secret: str,
    now: datetime,
) -> Erased:
    """Erase the persons ``roots`` of an org inside the open transaction."""
    indices = members(graph, roots)
    values = [graph.values[i] for i in indices]
    done = Erased(persons=len(roots), ids=len(indices))
    ids = pa.table(
        {
            "idx": pa.array(indices, pa.int32()),
            "kind": pa.array(np.frombuffer(bytes(graph.kinds[i] for i in indices), np.uint8)),
            "value": pa.array(values, pa.string()),
            "placeholder": pa.array([placeholder(i) for i in indices], pa.string()),
        }
    )
    with registered(con, "_erased", ids):
        done.events = _count(
            con,
            "DELETE FROM events WHERE org_id = ? AND actor IN (SELECT idx FROM _erased)",
            org_id,
        )
        con.execute(
            "UPDATE events SET anonymous_id = NULL WHERE org_id = ? AND user_id IS NOT NULL "
            "AND anonymous_id IN (SELECT value FROM _erased WHERE kind = 0)",
            [org_id],
        )
        con.execute(
            "UPDATE identities SET value = e.placeholder FROM _erased e "
            "WHERE identities.org_id = ? AND identities.idx = e.idx",
            [org_id],
        )
        con.execute(
            "DELETE FROM identity_merges WHERE org_id = ? AND (absorbed IN (SELECT idx FROM "
            "_erased) OR survivor IN (SELECT idx FROM _erased))",
            [org_id],
        )
        con.execute(
            "DELETE FROM identity_conflicts WHERE org_id = ? AND (anonymous_id IN (SELECT value "
            "FROM _erased WHERE kind = 0) OR claimed_by IN (SELECT value FROM _erased WHERE "
            "kind = 1) OR owner IN (SELECT value FROM _erased WHERE kind = 1))",
            [org_id],
        )
        done.refusals = _count(
            con,
            "DELETE FROM admission_refusals r WHERE org_id = ? AND EXISTS (SELECT 1 FROM "
            "_erased e WHERE e.kind = r.kind AND e.value = r.value)",
            org_id,
        )
        keys = _statement_keys(con, org_id)
    marks = {v: tombstone(secret, org, v) for v in {*values, *(k for _, k in keys)}}
    _tombstone_statements(con, org_id, keys, marks, done)
    done.restatements = _redact_restatements(con, org_id, marks)
    for mark in sorted(set(marks.values())):
        con.execute("INSERT OR IGNORE INTO erasures VALUES (?, ?, ?)", [org_id, mark, now])
    return done


def _count(con: duckdb.DuckDBPyConnection, sql: str, org_id: int) -> int:
    row = con.execute(sql, [org_id]).fetchone()
    return int(row[0]) if row else 0


def _statement_keys(con: duckdb.DuckDBPyConnection, org_id: int) -> list[tuple[int, str]]:
    """(month, person key) of closed-statement rows holding one of the erased ids."""
    return [
        (int(month), key)
        for month, key in con.execute(
            "SELECT month, person_key FROM statement_persons WHERE org_id = ? AND "
            "(person_key IN (SELECT value FROM _erased) OR "
            "list_has_any(ids, (SELECT list(value) FROM _erased)))",
            [org_id],
        ).fetchall()
    ]


def _tombstone_statements(
    con: duckdb.DuckDBPyConnection,
    org_id: int,
    keys: list[tuple[int, str]],
    marks: dict[str, str],
    done: Erased,
) -> None:
    """Swap keys for tombstones in each affected month's list and re-seal its checksum."""
    for month in sorted({m for m, _ in keys}):
        for m, key in keys:
            if m == month:
                con.execute(
                    "UPDATE statement_persons SET person_key = ?, ids = []::VARCHAR[] "
                    "WHERE org_id = ? AND month = ? AND person_key = ?",
                    [marks[key], org_id, month, key],
                )
                done.statement_rows += 1
        listed = con.execute(
            "SELECT person_key FROM statement_persons WHERE org_id = ? AND month = ?",
            [org_id, month],
        ).fetchall()
        new = checksum(k for (k,) in listed)
        row = con.execute(
            "SELECT checksum FROM statements WHERE org_id = ? AND month = ?", [org_id, month]
        ).fetchone()
        old = row[0] if row else ""
        con.execute(
            "UPDATE statements SET checksum = ? WHERE org_id = ? AND month = ?",
            [new, org_id, month],
        )
        done.checksums.append((Month.from_index(month), old, new))


def _redact_restatements(con: duckdb.DuckDBPyConnection, org_id: int, marks: dict[str, str]) -> int:
    rows = con.execute(
        "SELECT id, month, reason, previous_mau, new_mau, added, removed FROM restatements "
        "WHERE org_id = ? AND (list_has_any(added, ?) OR list_has_any(removed, ?))",
        [org_id, list(marks), list(marks)],
    ).fetchall()
    for rid, month, reason, previous, new, added, removed in rows:
        change = Restatement(
            Month.from_index(month), tuple(added), tuple(removed), previous, new, reason
        ).redact(marks)
        con.execute(
            "UPDATE restatements SET added = ?, removed = ? WHERE id = ?",
            [list(change.added), list(change.removed), rid],
        )
    return len(rows)
