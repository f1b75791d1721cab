"""The live counting state of one org: roaring bitmaps of dense person indices.

Derived state, rebuilt from the event log at start (:meth:`OrgCounts.rebuild`) and kept current
by each commit. It answers ``mau()`` without touching events:

* ``months[(project, month)]`` — the persons (union-find roots) active in a project and month;
  ``project`` None is the org's pool. Kept as roots, so an identity merge rewrites the few
  bitmaps that hold the absorbed person (merges are retroactive in open months);
* ``days[(project, day)]`` — the *ids* (not persons) active on a local day; ids never change, so
  these never need rewriting and series resolve persons when asked;
* ``impressions[(project, month)]`` — qualifying events;
* ``users`` — every user-id index: a root in it is an identified person;
* ``internal[project]`` — persons excluded as internal in that project (person-level, so it is
  subtracted at read time rather than baked into the bitmaps).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from pyroaring import BitMap

from maumeter.core.identity import IdentityGraph, IdKind
from maumeter.store.localtime import month_index_of_epoch_days

Scope = int | None  # a project id, or None for the org's pool


def bitmap(values: np.ndarray) -> BitMap:
    """A bitmap from a numpy array of non-negative indices, through the fast buffer path.

    Sorting and dropping repeats first pays: roaring appends sorted values an order of
    magnitude faster, and events repeat persons many times."""
    if len(values) == 0:
        return BitMap()
    ordered = np.sort(np.asarray(values, dtype=np.uint32))
    if len(ordered) > 1:
        ordered = ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]
    return BitMap(array("I", ordered.tobytes()))


def roots_of(graph: IdentityGraph) -> np.ndarray:
    """Every index's root, by pointer jumping over a copy of the forest (vectorised find)."""
    if not len(graph):
        return np.empty(0, dtype=np.int32)
    # ``tobytes`` copies with the GIL held; a numpy view would export the array's buffer while
    # numpy copies without the GIL, and the writer's next ``append`` would raise BufferError.
    roots = np.frombuffer(graph.parent.tobytes(), dtype=np.int32).copy()
    while True:
        jumped = roots[roots]
        if np.array_equal(jumped, roots):
            return roots
        roots = jumped


def roots_at(graph: IdentityGraph, indices: np.ndarray) -> np.ndarray:
    """The roots of some indices, by pointer jumping over the live forest: no Python per
    index, no copy of the whole forest. Writer thread only: the view exports the parent
    array's buffer, and is released before anything appends to it again."""
    parent = np.frombuffer(graph.parent, dtype=np.int32)
    try:
        roots = parent[indices]
        while True:
            jumped = parent[roots]
            if np.array_equal(jumped, roots):
                return roots
            roots = jumped
    finally:
        del parent


def groups(keys: np.ndarray) -> Iterable[tuple[int, np.ndarray]]:
    """(key, row positions) for each distinct key, via one stable sort."""
    if len(keys) == 0:
        return
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    cuts = np.flatnonzero(np.diff(sorted_keys)) + 1
    starts = np.concatenate(([0], cuts))
    ends = np.concatenate((cuts, [len(keys)]))
    for start, end in zip(starts, ends, strict=True):
        yield int(sorted_keys[start]), order[start:end]


@dataclass(frozen=True, slots=True)
class MauFigures:
    mau: int
    identified: int
    anonymous: int
    impressions: int | None  # None: not kept live for this scope (internal exclusions)


class OrgCounts:
    """Counting state of one org; mutated only by the writer, read under the store's lock."""

    def __init__(self, graph: IdentityGraph) -> None:
        self.graph = graph
        self.months: dict[tuple[Scope, int], BitMap] = {}
        self.impressions: dict[tuple[Scope, int], int] = {}
        self.days: dict[tuple[int, int], BitMap] = {}
        self.users = BitMap()
        self.internal: dict[int, BitMap] = {}
        # Bumped by every write: derived views (the analytics' daily index) skip their refresh
        # while it is unchanged. The writer changes the identity graph only in the jobs whose
        # commit then calls one of the writes below.
        self.version = 0

    # ---- writes ----------------------------------------------------------------------------

    def add_ids(self, start: int) -> None:
        """Register ids created since index ``start`` (user ids go into ``users``)."""
        self.version += 1
        kinds = np.frombuffer(bytes(self.graph.kinds[start:]), dtype=np.uint8)
        self.users |= bitmap(np.flatnonzero(kinds == IdKind.USER) + start)

    def add_activity(
        self, projects: np.ndarray, actors: np.ndarray, days: np.ndarray, roots: np.ndarray
    ) -> None:
        """Qualifying events: parallel arrays of project id, actor index, local epoch day and
        the actor's current root."""
        self.version += 1
        if len(actors) == 0:
            return
        day_key = projects.astype(np.int64) << 32 | (days.astype(np.int64) & 0xFFFFFFFF)
        for key, rows in groups(day_key):
            slot = (key >> 32, np.int32(key & 0xFFFFFFFF).item())
            ids = bitmap(actors[rows])
            if slot in self.days:
                self.days[slot] |= ids
            else:
                self.days[slot] = ids
        months = month_index_of_epoch_days(days.astype(np.int32))
        month_key = projects.astype(np.int64) << 32 | months.astype(np.int64)
        pool: dict[int, list[BitMap]] = {}
        events: dict[int, int] = {}
        for key, rows in groups(month_key):
            project, month = key >> 32, key & 0xFFFFFFFF
            persons = bitmap(roots[rows])
            self._add_persons((project, month), persons, len(rows))
            pool.setdefault(month, []).append(persons)
            events[month] = events.get(month, 0) + len(rows)
        for month, parts in pool.items():
            self._add_persons((None, month), BitMap.union(*parts), events[month])

    def _add_persons(self, slot: tuple[Scope, int], persons: BitMap, events: int) -> None:
        if slot in self.months:
            self.months[slot] |= persons
        else:
            self.months[slot] = persons
        self.impressions[slot] = self.impressions.get(slot, 0) + events

    def apply_merges(self, absorbed: Iterable[int]) -> None:
        """Rewrite absorbed persons to their survivors' roots, everywhere a person is held."""
        self.version += 1
        gone = BitMap(absorbed)
        if not gone:
            return
        find = self.graph.find
        for table in (self.months, self.internal):
            for slot, persons in table.items():
                hits = persons & gone
                if hits:
                    persons -= hits
                    persons |= BitMap(find(i) for i in hits)
                    table[slot] = persons

    def mark_internal(self, project: int, roots: np.ndarray) -> None:
        self.version += 1
        current = self.internal.setdefault(project, BitMap())
        current |= bitmap(roots)

    # ---- reads -----------------------------------------------------------------------------

    def persons(self, month: int, project: Scope = None) -> BitMap:
        """The counted persons (roots) of a month: internal persons removed."""
        if project is not None:
            persons = self.months.get((project, month), BitMap())
            internal = self.internal.get(project)
            return persons - internal if internal else persons
        if not self.internal:
            return self.months.get((None, month), BitMap())
        parts = [self.persons(month, p) for (p, m) in self.months if m == month and p is not None]
        return BitMap.union(*parts) if parts else BitMap()

    def mau(self, month: int, project: Scope = None) -> MauFigures:
        has_internal = bool(self.internal) if project is None else project in self.internal
        persons = self.persons(month, project)
        mau = len(persons)
        identified = persons.intersection_cardinality(self.users)
        impressions = None if has_internal else self.impressions.get((project, month), 0)
        return MauFigures(mau, identified, mau - identified, impressions)

    def accrual(self, first_day: int, last_day: int, roots: np.ndarray) -> list[int]:
        """Cumulative MAU of the org's pool at the end of each local day first..last: persons
        (``roots``: every id's current root) active on any day so far, internal persons
        removed per project as in :meth:`persons`. The last value is the month's MAU when
        the range is a whole month."""
        projects = sorted({p for (p, _) in self.days})
        seen = BitMap()
        curve: list[int] = []
        for day in range(first_day, last_day + 1):
            for project in projects:
                ids = self.days.get((project, day))
                if not ids:
                    continue
                persons = bitmap(roots[np.frombuffer(ids.to_array(), dtype=np.uint32)])
                internal = self.internal.get(project)
                seen |= persons - internal if internal else persons
            curve.append(len(seen))
        return curve

    def state_bytes(self) -> int:
        """Serialized size of every bitmap: the memory the counting state needs, roughly."""
        tables = (self.months, self.days, self.internal)
        total = sum(len(bm.serialize()) for table in tables for bm in table.values())
        return total + len(self.users.serialize())
