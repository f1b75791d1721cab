"""Persons active per local day, kept between queries: the index every engagement metric reads.

The live counting state (:class:`~maumeter.store.counters.OrgCounts`) keeps, per project and
local day, the *ids* active that day. Every engagement metric wants *persons* (union-find roots)
per day, with internal persons removed. Resolving a year of days at ten million events costs
about a second, so a :class:`DailyIndex` keeps the resolved days and, on each query, redoes
only the days that can have changed since:

* a day whose id bitmap grew (new activity; usually just today);
* a day holding an id whose root changed (an identity merge: the absorbed person's days);
* every day when the internal persons changed or the counting state was rebuilt (a rule change
  or an erasure replaces it).

While the counting state's version is unchanged nothing is redone at all. Resolved days are
replaced, never mutated, so a :class:`Days` snapshot handed to a query stays
consistent while ingest goes on. State is read under the store's lock only to copy what changed
(roots, the few grown bitmaps); the resolving runs outside it, so ingest is not held up.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from pyroaring import BitMap, FrozenBitMap

from maumeter.core.months import epoch_day
from maumeter.store.base import Store
from maumeter.store.counters import OrgCounts, bitmap, roots_of
from maumeter.store.duckdb import OrgInfo

__all__ = ["DailyIndex", "Days"]

_EMPTY = FrozenBitMap()


@dataclass(slots=True)
class Days:
    """An immutable view: persons (roots) active on each local epoch day of one scope.

    ``roots`` maps every id index to its person as of the snapshot (for listing persons).
    """

    persons: dict[int, BitMap]
    roots: np.ndarray
    _arrays: dict[int, np.ndarray] = field(default_factory=dict)

    def day(self, day: int) -> BitMap:
        return self.persons.get(day, _EMPTY)

    def array(self, day: int) -> np.ndarray:
        """The day's persons as a sorted ``uint32`` array (cached: the sliding metrics' input)."""
        found = self._arrays.get(day)
        if found is None:
            bm = self.persons.get(day)
            found = (
                np.frombuffer(bm.to_array(), dtype=np.uint32)
                if bm
                else np.empty(0, dtype=np.uint32)
            )
            self._arrays[day] = found
        return found

    def union(self, first: int, last: int) -> BitMap:
        """Persons active on any day ``first..last`` (epoch days, inclusive)."""
        parts = [bm for d in range(first, last + 1) if (bm := self.persons.get(d))]
        if not parts:
            return BitMap()
        return BitMap.union(*parts) if len(parts) > 1 else BitMap(parts[0])

    def before(self, day: int) -> BitMap:
        """Persons active on any day before ``day``: "seen before" for lifecycle and cohorts."""
        parts = [bm for d, bm in self.persons.items() if d < day and bm]
        return BitMap.union(*parts) if parts else BitMap()

    def span(self) -> tuple[int, int] | None:
        """The first and last day with activity, or None when there is none."""
        days = [d for d, bm in self.persons.items() if bm]
        return (min(days), max(days)) if days else None

    def population(self) -> int:
        """One more than the highest person index: the size of per-person count arrays."""
        return len(self.roots)

    @staticmethod
    def of(d: date) -> int:
        return epoch_day(d)


@dataclass(slots=True)
class _Scope:
    """What the index resolved for one scope, and from which state."""

    counts: OrgCounts | None = None
    version: int = -1  # counts.version when resolved
    roots: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int32))
    sizes: dict[int, int] = field(default_factory=dict)  # day -> ids seen when resolved
    internal: dict[int, BitMap] = field(default_factory=dict)
    persons: dict[int, BitMap] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class DailyIndex:
    """Resolved persons per day for every (org, project-or-pool) scope asked about."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._scopes: dict[tuple[int, int | None], _Scope] = {}
        self._guard = threading.Lock()

    def days(self, org: OrgInfo, project: int | None = None) -> Days:
        """The current snapshot of a scope (the org's pool when ``project`` is None)."""
        with self._guard:
            scope = self._scopes.setdefault((org.id, project), _Scope())
        with scope.lock:  # one refresh per scope at a time; others wait and reuse it
            self._refresh(scope, org, project)
            return Days(dict(scope.persons), scope.roots)

    def _refresh(self, scope: _Scope, org: OrgInfo, project: int | None) -> None:
        store = self._store
        with store.lock():
            counts = store.counts(org)
            if counts is scope.counts and counts.version == scope.version:
                return  # nothing written since: the resolved days stand
            version = counts.version
            roots = roots_of(counts.graph)
            by_day: dict[int, list[tuple[int, BitMap]]] = {}
            for (p, day), ids in counts.days.items():
                if project is None or p == project:
                    by_day.setdefault(day, []).append((p, ids))
            wanted = (
                counts.internal
                if project is None
                else {p: bm for p, bm in counts.internal.items() if p == project}
            )
            rebuild = (
                scope.counts is not counts
                or wanted.keys() != scope.internal.keys()
                or any(bm != scope.internal[p] for p, bm in wanted.items())
            )
            internal = {p: BitMap(bm) for p, bm in wanted.items()} if rebuild else scope.internal
            changed = BitMap() if rebuild else _changed_ids(scope.roots, roots)
            todo: dict[int, list[tuple[int, BitMap]]] = {}
            sizes: dict[int, int] = {}
            for day, parts in by_day.items():
                size = sum(len(ids) for _, ids in parts)
                sizes[day] = size
                if (
                    rebuild
                    or scope.sizes.get(day) != size
                    or (changed and any(ids.intersect(changed) for _, ids in parts))
                ):
                    todo[day] = [(p, BitMap(ids)) for p, ids in parts]  # copies: ingest goes on
        persons = {} if rebuild else dict(scope.persons)
        for day, parts in todo.items():
            persons[day] = _resolve(parts, roots, internal)
        for day in set(persons) - set(sizes):
            del persons[day]
        scope.counts, scope.version, scope.roots, scope.sizes = counts, version, roots, sizes
        scope.internal, scope.persons = internal, persons


def _changed_ids(before: np.ndarray, now: np.ndarray) -> BitMap:
    """Ids whose person changed between two roots arrays (merges since the last refresh)."""
    n = min(len(before), len(now))
    if n == 0:
        return BitMap()
    return bitmap(np.flatnonzero(before[:n] != now[:n]))


def _resolve(
    parts: Iterable[tuple[int, BitMap]], roots: np.ndarray, internal: dict[int, BitMap]
) -> BitMap:
    """Persons of one day: each project's ids to roots, minus that project's internal persons."""
    parts = list(parts)
    if not any(p in internal for p, _ in parts):
        ids = BitMap.union(*(ids for _, ids in parts)) if len(parts) > 1 else parts[0][1]
        return bitmap(roots[np.frombuffer(ids.to_array(), dtype=np.uint32)])
    found = BitMap()
    for p, ids in parts:
        persons = bitmap(roots[np.frombuffer(ids.to_array(), dtype=np.uint32)])
        excluded = internal.get(p)
        found |= persons - excluded if excluded else persons
    return found
