"""Trait values kept between queries: every event carrying a trait, read from the log once.

A trait breakdown needs each person's latest value of the trait (see
:mod:`maumeter.analytics.segments` for the rules: ``identify`` traits or ``context.traits``,
latest by billing time then log position, scalars only). Finding it in the log parses the JSON
of every identify event (seconds at a million persons), so a :class:`TraitIndex` keeps, per
(org, trait), the rows that carry a value — id, local day, time, log position, value code —
and reads only the events appended since the last query (by ``seq``, as
:mod:`maumeter.analytics.facets` does). A rewritten log (rule change, erasure) replaces the
org's counting state, and the trait is read again.

For "as of" the last day seen or later (the current month), each id's latest value is kept
sorted by recency, so a query is a rank per person (``np.maximum.at``) rather than a sort.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from maumeter.store.base import Store
from maumeter.store.counters import OrgCounts
from maumeter.store.duckdb import OrgInfo

__all__ = ["TraitIndex", "Values", "latest_per_person"]

_NO_VALUE = "('OBJECT', 'ARRAY', 'NULL')"
# MATERIALIZED: DuckDB would otherwise copy the value's expression into every filter term and
# parse the JSON again for each. Values come back tagged: "s" + a string, "j" + the JSON text
# of a number or boolean.
_SQL = f"""
WITH carried AS MATERIALIZED (
    SELECT actor, day, epoch_us(billing_time) AS t, seq,
           CASE WHEN type = 'identify' AND json_type(traits, $own) NOT IN {_NO_VALUE}
                THEN json_extract(traits, $own)
                ELSE json_extract(context, $ctx) END AS v
    FROM events
    WHERE org_id = $org AND seq > $after
      AND ((type = 'identify' AND traits IS NOT NULL) OR contains(context, '"traits"'))
), typed AS MATERIALIZED (
    SELECT actor, day, t, seq, v, json_type(v) AS jt FROM carried
)
SELECT actor, day, t, seq,
       CASE WHEN jt = 'VARCHAR' THEN 's' || (v ->> '$') ELSE 'j' || v::VARCHAR END AS v
FROM typed WHERE jt NOT IN {_NO_VALUE}
"""


def _label(tagged: str) -> str:
    """A value as a cell shows it: a string as it is; a number or boolean as its JSON text,
    written as Python writes it (DuckDB re-renders ``1e20`` as ``100000000000000000000.0``)."""
    if tagged[0] == "s":
        return tagged[1:]
    return json.dumps(json.loads(tagged[1:]))


@dataclass(frozen=True, slots=True)
class Values:
    """Rows carrying the trait: parallel arrays, and the distinct values the codes stand for.

    ``latest``: for each id with a value, its latest row, ordered by recency (time, then log
    position), oldest first — the rows as of the last day the index has seen."""

    actor: np.ndarray
    day: np.ndarray
    t: np.ndarray
    seq: np.ndarray
    code: np.ndarray
    labels: tuple[str, ...]
    latest: np.ndarray  # row positions

    @property
    def last_day(self) -> int:
        return int(self.day.max()) if len(self.day) else -(2**31)


@dataclass(slots=True)
class _Trait:
    counts: OrgCounts | None = None
    seen: int = -1
    values: Values | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def _empty() -> Values:
    none = np.empty(0, dtype=np.int64)
    return Values(none, none, none, none, none, (), none)


def _latest_rows(actor: np.ndarray, t: np.ndarray, seq: np.ndarray) -> np.ndarray:
    """Each id's latest row (by time, then log position), the result ordered by recency."""
    if not len(actor):
        return np.empty(0, dtype=np.int64)
    order = np.lexsort((seq, t, actor))
    ordered = actor[order]
    last = order[np.flatnonzero(np.append(ordered[1:] != ordered[:-1], True))]
    return last[np.lexsort((seq[last], t[last]))]


class TraitIndex:
    """Trait rows of every (org, trait) asked about."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._traits: dict[tuple[int, str], _Trait] = {}
        self._guard = threading.Lock()

    def values(self, org: OrgInfo, trait: str) -> Values:
        with self._guard:
            entry = self._traits.setdefault((org.id, trait), _Trait())
        with entry.lock:
            with self._store.lock():
                counts = self._store.counts(org)
            if counts is not entry.counts or entry.values is None:
                entry.counts, entry.seen, entry.values = counts, -1, _empty()
            table = self._read(org, trait, entry.seen)
            if table.num_rows:
                entry.seen = max(entry.seen, int(pc.max(table.column("seq")).as_py()))
                entry.values = _merge(entry.values, table)
            return entry.values

    def _read(self, org: OrgInfo, trait: str, after: int) -> pa.Table:
        pointer = "/" + trait.replace("~", "~0").replace("/", "~1")  # JSON Pointer, RFC 6901
        params = {"org": org.id, "after": after, "own": pointer, "ctx": "/traits" + pointer}
        return self._store.cursor().sql(_SQL, params=params).to_arrow_table()  # type: ignore[attr-defined]


def _merge(old: Values, table: pa.Table) -> Values:
    """``old`` with the rows of ``table`` appended (values re-coded into one sorted list)."""
    encoded = pc.dictionary_encode(table.column("v").combine_chunks())
    fresh = [_label(v) for v in encoded.dictionary.to_pylist()]
    labels = sorted(set(old.labels) | set(fresh))  # "42" and 42 are one value
    position = {value: i for i, value in enumerate(labels)}
    remap_old = np.array([position[v] for v in old.labels], dtype=np.int64)
    remap_new = np.array([position[v] for v in fresh], dtype=np.int64)
    new_codes = remap_new[encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)]
    actor = np.concatenate([old.actor, table.column("actor").to_numpy().astype(np.int64)])
    day = np.concatenate([old.day, table.column("day").to_numpy().astype(np.int64)])
    t = np.concatenate([old.t, table.column("t").to_numpy().astype(np.int64)])
    seq = np.concatenate([old.seq, table.column("seq").to_numpy().astype(np.int64)])
    code = np.concatenate([remap_old[old.code] if len(old.code) else old.code, new_codes])
    return Values(actor, day, t, seq, code, tuple(labels), _latest_rows(actor, t, seq))


def latest_per_person(
    values: Values, last_day: int, roots: np.ndarray, member: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """The persons (roots; those ``member`` marks, when given) with a value on or before local
    epoch day ``last_day``, ascending, and each one's latest value code."""
    empty = np.empty(0, dtype=np.int64)
    if last_day >= values.last_day:
        rows = values.latest
    else:
        past = np.flatnonzero(values.day <= last_day)
        rows = past[_latest_rows(values.actor[past], values.t[past], values.seq[past])]
    rows = rows[values.actor[rows] < len(roots)]  # ids newer than the snapshot: not counted
    if not len(rows):
        return empty, empty
    people = roots[values.actor[rows]].astype(np.int64)
    if member is not None:
        keep = member[people]
        rows, people = rows[keep], people[keep]
        if not len(rows):
            return empty, empty
    # rows are in recency order: a person's latest is the one with the highest rank
    best = np.full(int(people.max()) + 1, -1, dtype=np.int64)
    np.maximum.at(best, people, np.arange(len(rows)))
    persons = np.flatnonzero(best >= 0)
    return persons, values.code[rows[best[persons]]]
