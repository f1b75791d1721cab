"""Event facets kept between queries: which ids were active with each value of a facet, per day.

A *facet* is a value read from each qualifying event: its device type (``device``, from
``context.device.type`` or the user agent) or one of its properties (``property:NAME``).
Breakdowns by a facet, the device segments and the MAU per experiment and flag all need "the
ids active on day *d* with value *v*". Reading that from the log means parsing the JSON of every
event of the range (seconds at ten million events), so a :class:`FacetIndex` reads each event
once and keeps ``(project, value, day) -> ids`` bitmaps in memory:

* the first query of a facet reads the org's whole log, later ones only the events appended
  since (by log position: ``seq`` grows with every commit, so "after the last one read" is
  exactly what is new);
* ids never change (persons are resolved when asked, as in :mod:`maumeter.analytics.daily`),
  so identity merges need nothing redone;
* a rule change or an erasure rewrites the log and replaces the org's counting state: the facet
  is then read again from scratch.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyroaring import BitMap

from maumeter.core.devices import device_type
from maumeter.core.errors import InvalidInput
from maumeter.store.base import Store
from maumeter.store.counters import OrgCounts, bitmap, groups
from maumeter.store.duckdb import OrgInfo

__all__ = ["DEVICE", "FacetIndex", "Slots", "facet_of"]

DEVICE = "device"
MAX_NAME = 200
MAX_VALUES = 10_000  # distinct values a facet may have (each is a bitmap per project and day)
Slots = dict[tuple[int, str | None, int], BitMap]  # (project, value, day) -> ids


def facet_of(by: str) -> tuple[str, str | None]:
    """``("device", None)`` or ``("property", NAME)``."""
    if by == DEVICE:
        return DEVICE, None
    kind, _, name = by.partition(":")
    if kind != "property" or not 1 <= len(name) <= MAX_NAME:
        raise InvalidInput.field(
            "by", f"expected device or property:NAME (NAME 1–{MAX_NAME} chars), got {by!r}"
        )
    return kind, name


@dataclass(slots=True)
class _Facet:
    counts: OrgCounts | None = None
    seen: int = -1  # the highest seq read
    slots: Slots = field(default_factory=dict)
    values: set[str | None] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


class FacetIndex:
    """Facet bitmaps of every (org, facet) asked about."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._facets: dict[tuple[int, str], _Facet] = {}
        self._guard = threading.Lock()

    def slots(self, org: OrgInfo, by: str) -> Slots:
        """A snapshot of the facet's bitmaps (replaced, never mutated, by later refreshes)."""
        kind, name = facet_of(by)
        with self._guard:
            facet = self._facets.setdefault((org.id, by), _Facet())
        with facet.lock:
            with self._store.lock():
                counts = self._store.counts(org)
            if counts is not facet.counts:
                facet.counts, facet.seen, facet.slots, facet.values = counts, -1, {}, set()
            rows = _read(self._store, org, kind, name, facet.seen)
            if rows.num_rows:
                slots, values = _add(facet.slots, rows, kind)
                values |= facet.values
                if len(values) > MAX_VALUES:  # an id-like property: refuse, keep nothing
                    facet.counts, facet.seen, facet.slots, facet.values = None, -1, {}, set()
                    raise InvalidInput.field(
                        "by",
                        f"{by} has more than {MAX_VALUES:,} distinct values: a breakdown needs "
                        "a property with few values (a plan, a country, an experiment)",
                    )
                facet.seen = int(pc.max(rows.column("seq")).as_py())
                facet.slots, facet.values = slots, values
            return facet.slots


def _read(store: Store, org: OrgInfo, kind: str, name: str | None, after: int) -> pa.Table:
    if kind == DEVICE:
        value = (
            "json_extract_string(context, '$.device.type') AS dt, "
            "json_extract_string(context, '$.userAgent') AS ua"
        )
        params: dict[str, Any] = {"org": org.id, "after": after}
    else:
        value = "json_extract_string(properties, $path) AS v"
        path = '$."' + (name or "").replace("\\", "\\\\").replace('"', '\\"') + '"'
        params = {"org": org.id, "after": after, "path": path}
    return (
        store.cursor()  # type: ignore[attr-defined]
        .sql(
            f"SELECT seq, verdict = 'qualifies' AS q, project_id, actor, day, {value} "
            "FROM events WHERE org_id = $org AND seq > $after",
            params=params,
        )
        .to_arrow_table()
    )


def _add(slots: Slots, rows: pa.Table, kind: str) -> tuple[Slots, set[str | None]]:
    """The bitmaps with the qualifying rows added (new objects where anything changed), and the
    values the rows carried."""
    rows = rows.filter(rows.column("q"))
    if not rows.num_rows:
        return slots, set()
    codes, labels = _values(rows, kind)
    if len(labels) > MAX_VALUES + 1:
        return slots, set(labels)  # refused by the caller: not worth building
    projects = rows.column("project_id").to_numpy().astype(np.int64)
    days = rows.column("day").to_numpy().astype(np.int64)
    actors = rows.column("actor").to_numpy()
    key = (projects << 40) | (codes.astype(np.int64) << 24) | (days - days.min())
    found = dict(slots)
    base = int(days.min())
    for k, at in groups(key):
        slot = (k >> 40, labels[(k >> 24) & 0xFFFF], (k & 0xFFFFFF) + base)
        ids = bitmap(actors[at])
        old = found.get(slot)
        found[slot] = ids if old is None else old | ids
    return found, set(labels)


def _values(rows: pa.Table, kind: str) -> tuple[np.ndarray, list[str | None]]:
    """A small integer code per row and the value each code stands for."""
    if kind == DEVICE:  # a missing field reads like an empty one (core.devices does too)
        pairs = pc.binary_join_element_wise(
            pc.fill_null(rows.column("dt"), ""), pc.fill_null(rows.column("ua"), ""), "\x1f"
        )
        encoded = pairs.combine_chunks().dictionary_encode()
        kinds = [device_type(*p.split("\x1f", 1)) for p in encoded.dictionary.to_pylist()]
        labels: list[str | None] = sorted(set(kinds))
        lookup = np.asarray([labels.index(k) for k in kinds], dtype=np.int64)
        return lookup[encoded.indices.to_numpy(zero_copy_only=False)], labels
    encoded = rows.column("v").combine_chunks().dictionary_encode()
    labels = [*encoded.dictionary.to_pylist(), None]
    indices = encoded.indices
    nulls = indices.is_null().to_numpy(zero_copy_only=False)
    codes = np.where(nulls, len(labels) - 1, indices.fill_null(0).to_numpy()).astype(np.int64)
    return codes, labels


def persons(
    slots: Slots,
    roots: np.ndarray,
    internal: dict[int, BitMap],
    first: int,
    last: int,
    project: int | None = None,
) -> dict[str | None, dict[int, BitMap]]:
    """value -> day -> persons (roots) active with it on days ``first..last``, each project's
    internal persons removed; ``project`` restricts to one project."""
    found: dict[str | None, dict[int, BitMap]] = {}
    for (p, value, day), ids in slots.items():
        if not first <= day <= last or (project is not None and p != project):
            continue
        known = ids if ids.max() < len(roots) else ids & BitMap(range(len(roots)))
        people = bitmap(roots[np.frombuffer(known.to_array(), dtype=np.uint32)])
        excluded = internal.get(p)
        if excluded:
            people -= excluded
        per_day = found.setdefault(value, {})
        old = per_day.get(day)
        per_day[day] = people if old is None else old | people
    return found


def union(per_day: Iterable[BitMap]) -> BitMap:
    parts = [bm for bm in per_day if bm]
    return BitMap.union(*parts) if parts else BitMap()
