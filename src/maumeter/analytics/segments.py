"""Segments: a month's counted persons broken down by a trait or by device type.

The persons broken down are exactly the month's counted persons (``OrgCounts.persons``: the
MAU of the scope, internal persons excluded), so the figures reconcile with the bill.

**Traits** (``trait:<name>``): each person falls in the cell of the *latest known value* of the
trait as of the end of the month — what an analyst looking back at a past month expects (a
person who moved from France to Spain in April is in the ``FR`` cell of March). Rules:

* a value comes from ``traits`` of an ``identify`` event or from ``context.traits`` of any event
  (``traits`` of other types, such as ``group``, describe something else and are not read);
  when one identify event carries both, its ``traits`` wins;
* the events considered are those of *any* of the person's ids (merges are retroactive, as for
  counting), in *any* project of the org (a trait describes the person, not a project; the
  ``project`` argument only chooses whose persons are broken down), with a billing time on or
  before the last local day of the month;
* "latest" is the highest billing time, then the highest log position (``seq``): events
  imported later with older timestamps do not overwrite newer values;
* values are stringified scalars: strings as they are, numbers and booleans as their JSON text
  (``42``, ``1.5``, ``true``), so the string ``"42"`` and the number ``42`` share a cell.
  ``null``, objects and arrays carry no value (they are skipped, as if the trait were absent);
* persons without a value fall in the ``None`` cell (shown as :data:`NONE_LABEL`, "(none)",
  by the faces). The cells of a trait breakdown always sum to the MAU;
* a trait name (1 to :data:`MAX_TRAIT_CHARS` characters) is taken literally: ``a.b`` is the
  trait called ``a.b``, not ``b`` inside ``a``.

**Devices** (``device``): each person falls in the cell of every device type of their
qualifying events of the month in the scope (:mod:`maumeter.core.devices`: ``mobile``,
``tablet``, ``desktop`` or ``unknown``). A person active on a phone and a laptop is in two
cells, so the cells can sum to *more* than the MAU; ``mau`` on the result is the persons total.
Events of a project where the person is an internal user are not looked at. The device type is
derived once per distinct (``context.device.type``, ``context.userAgent``) pair, not per event.

The events are read from the log once, by the trait index (:mod:`maumeter.analytics.traits`)
and the facet index (:mod:`maumeter.analytics.facets`), which then read only what is appended;
a breakdown is numpy and bitmaps over them. The live state is read under the store's lock only
to copy the month's persons and the id → person map. At ten million events and a million
persons a breakdown takes tens of milliseconds once the indexes exist (``bench/dashboard.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
from pyroaring import BitMap

from maumeter.analytics import facets, traits
from maumeter.core.devices import DEVICE_TYPES
from maumeter.core.errors import InvalidInput
from maumeter.core.months import Month, epoch_day
from maumeter.store.counters import roots_of
from maumeter.store.duckdb import OrgInfo, ProjectInfo, month_index

if TYPE_CHECKING:
    from maumeter.analytics.queries import Analytics
    from maumeter.meter import Meter

__all__ = [
    "DEVICE",
    "MAX_LIMIT",
    "MAX_TRAIT_CHARS",
    "NONE_LABEL",
    "TRAIT",
    "Breakdown",
    "CellPersons",
    "Segments",
]

DEVICE = "device"
TRAIT = "trait:"
MAX_TRAIT_CHARS = 200
MAX_LIMIT = 100_000
NONE_LABEL = "(none)"  # how the faces show the None cell of a trait


@dataclass(frozen=True, slots=True)
class Breakdown:
    """A month's counted persons by one dimension: ``cells`` are ``(value, persons)``, most
    persons first, then by value (the ``None`` cell last among equals)."""

    org: str
    month: Month
    project: str | None
    dimension: str  # "trait:<name>" or "device"
    mau: int  # the persons total: the scope's MAU
    cells: tuple[tuple[str | None, int], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "org": self.org,
            "month": str(self.month),
            "project": self.project,
            "dimension": self.dimension,
            "mau": self.mau,
            "cells": [
                {"value": value, "persons": persons, "share": _share(persons, self.mau)}
                for value, persons in self.cells
            ],
        }


@dataclass(frozen=True, slots=True)
class CellPersons:
    """One page of the persons (keys, sorted) behind one cell of a breakdown."""

    org: str
    month: Month
    project: str | None
    dimension: str
    value: str | None
    total: int  # persons in the cell
    persons: tuple[str, ...]
    limit: int
    offset: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "org": self.org,
            "month": str(self.month),
            "project": self.project,
            "dimension": self.dimension,
            "value": self.value,
            "total": self.total,
            "limit": self.limit,
            "offset": self.offset,
            "persons": list(self.persons),
        }


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """What the breakdowns need of the live state, copied under the lock."""

    persons: np.ndarray  # the month's counted persons (roots), sorted
    roots: np.ndarray  # id index -> its person's root
    keys: list[str]  # id index -> its value (a root's value is the person's key)
    internal: dict[int, BitMap]  # project -> its internal persons

    def member(self) -> np.ndarray:
        """A boolean per id index: is it a counted person of the month?"""
        found = np.zeros(len(self.roots), dtype=bool)
        found[self.persons] = True
        return found


class Segments:
    """Breakdowns of a month's MAU by person trait and by device type."""

    def __init__(self, meter: Meter, analytics: Analytics | None = None) -> None:
        self.meter = meter
        self._analytics = analytics  # whose indexes to read (default: the meter's)

    @property
    def analytics(self) -> Analytics:
        return self._analytics if self._analytics is not None else self.meter.analytics

    # ---- breakdowns --------------------------------------------------------------------------

    def traits(self, org: str, month: Month, trait: str, project: str | None = None) -> Breakdown:
        """The month's counted persons by the latest value of ``trait`` as of the month's end;
        the cells sum to the MAU (persons without a value are in the ``None`` cell)."""
        _check_trait("trait", trait)
        info, _, snap = self._scope(org, month, project)
        roots, codes, values = self._trait_values(
            info, epoch_day(month.last_day()), trait, snap.roots, snap.member()
        )
        tally = np.bincount(codes, minlength=len(values))
        cells: list[tuple[str | None, int]] = [
            (value, int(n)) for value, n in zip(values, tally, strict=True) if n
        ]
        missing = len(snap.persons) - len(roots)
        if missing:
            cells.append((None, missing))
        return Breakdown(org, month, project, TRAIT + trait, len(snap.persons), _sorted(cells))

    def devices(self, org: str, month: Month, project: str | None = None) -> Breakdown:
        """The month's counted persons by the device types of their qualifying events; a
        person on several types is in several cells (the cells may sum to more than ``mau``)."""
        info, target, snap = self._scope(org, month, project)
        _, codes = self._device_pairs(info, month, target, snap)
        tally = np.bincount(codes, minlength=len(DEVICE_TYPES))
        cells: list[tuple[str | None, int]] = [
            (kind, int(n)) for kind, n in zip(DEVICE_TYPES, tally, strict=True) if n
        ]
        return Breakdown(org, month, project, DEVICE, len(snap.persons), _sorted(cells))

    def persons(
        self,
        org: str,
        month: Month,
        by: str,
        value: str | None,
        project: str | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> CellPersons:
        """The keys of the persons in one cell, sorted, ``limit`` from ``offset``. ``by`` is
        ``"device"`` or ``"trait:<name>"``; ``value`` None is a trait's no-value cell."""
        trait = _parse_by(by)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput.field("limit", f"expected a whole number from 1 to {MAX_LIMIT:,}")
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise InvalidInput.field("offset", "expected a whole number, 0 or more")
        if trait is None and value not in DEVICE_TYPES:
            raise InvalidInput.field(
                "value", f"expected a device type, one of {', '.join(DEVICE_TYPES)}; got {value!r}"
            )
        if value is not None and not isinstance(value, str):
            raise InvalidInput.field("value", "expected a text value, or none for no value")
        info, target, snap = self._scope(org, month, project)
        if trait is None:
            roots, codes = self._device_pairs(info, month, target, snap)
            chosen = roots[codes == DEVICE_TYPES.index(value)]  # type: ignore[arg-type]
        else:
            roots, codes, values = self._trait_values(
                info, epoch_day(month.last_day()), trait, snap.roots, snap.member()
            )
            if value is None:
                valued = np.zeros(len(snap.roots), dtype=bool)
                valued[roots] = True
                chosen = snap.persons[~valued[snap.persons]]
            elif value in values:
                chosen = roots[codes == values.index(value)]
            else:
                chosen = roots[:0]
        keys = sorted(snap.keys[int(r)] for r in chosen)
        page = tuple(keys[offset : offset + limit])
        return CellPersons(org, month, project, by, value, len(keys), page, limit, offset)

    def latest_values(
        self, org: str, month: Month, trait: str, until: date | None = None
    ) -> tuple[np.ndarray, list[str]]:
        """Every person of the org with a value of ``trait`` as of the end of local day
        ``until`` (default: the month's last day), counted or not, by the rules of
        :meth:`traits`: ``(roots, values)``, the persons' root indices (distinct, ascending)
        and each one's latest value. Persons without a value are not listed: intersect the
        roots with the persons you break down; the ones missing have no value (``None``)."""
        _check_trait("trait", trait)
        store = self.meter.store
        info = store.org(org)
        counts = store.counts(info)
        with store.lock():
            roots = roots_of(counts.graph)
        last = epoch_day(until if until is not None else month.last_day())
        persons, codes, values = self._trait_values(info, last, trait, roots, None)
        return persons, [values[c] for c in codes.tolist()]

    # ---- the work ----------------------------------------------------------------------------

    def _scope(
        self, org: str, month: Month, project: str | None
    ) -> tuple[OrgInfo, ProjectInfo | None, _Snapshot]:
        store = self.meter.store
        info = store.org(org)
        target = store.project(org, project) if project is not None else None
        counts = store.counts(info)
        with store.lock():
            found = counts.persons(month_index(month), target.id if target else None)
            persons = np.asarray(found.to_array(), dtype=np.int64)
            roots = roots_of(counts.graph)
            keys = counts.graph.values  # appended to, never rewritten: safe to read later
            internal = (
                {p: BitMap(bm) for p, bm in counts.internal.items()} if target is None else {}
            )
        return info, target, _Snapshot(persons, roots, keys, internal)

    def _trait_values(
        self,
        info: OrgInfo,
        last_day: int,
        trait: str,
        roots_of_ids: np.ndarray,
        member: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """The persons (roots; only those ``member`` marks, when given) with a value of
        ``trait`` on or before local epoch day ``last_day``, the code of each one's latest
        value, and the values the codes stand for (distinct, sorted)."""
        empty = np.empty(0, dtype=np.int64)
        if len(roots_of_ids) == 0 or (member is not None and not member.any()):
            return empty, empty, []
        # The trait index (maumeter.analytics.traits) reads each event carrying it once.
        found = self.analytics.traits.values(info, trait)
        persons, codes = traits.latest_per_person(found, last_day, roots_of_ids, member)
        return persons, codes, list(found.labels)

    def _device_pairs(
        self, info: OrgInfo, month: Month, target: ProjectInfo | None, snap: _Snapshot
    ) -> tuple[np.ndarray, np.ndarray]:
        """Distinct (person root, device type code) of the month's qualifying events, from the
        facet index (:mod:`maumeter.analytics.facets`: each event is read once, ever)."""
        slots = self.analytics.facets.slots(info, facets.DEVICE)
        first, last = epoch_day(month.first_day()), epoch_day(month.last_day())
        found = facets.persons(
            slots, snap.roots, snap.internal, first, last, target.id if target else None
        )
        member = snap.member()
        roots: list[np.ndarray] = []
        codes: list[np.ndarray] = []
        for kind, per_day in found.items():
            people = np.asarray(facets.union(per_day.values()).to_array(), dtype=np.int64)
            people = people[member[people]]
            roots.append(people)
            codes.append(np.full(len(people), DEVICE_TYPES.index(kind), dtype=np.int64))
        if not roots:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        return np.concatenate(roots), np.concatenate(codes)


# ---- helpers -----------------------------------------------------------------------------------


def _check_trait(field: str, trait: Any) -> None:
    if not isinstance(trait, str) or not 1 <= len(trait) <= MAX_TRAIT_CHARS:
        raise InvalidInput.field(
            field, f"expected a trait name of 1 to {MAX_TRAIT_CHARS} characters, got {trait!r}"
        )


def _parse_by(by: Any) -> str | None:
    """The trait name of ``trait:<name>``, None for ``device``; anything else is an error."""
    if by == DEVICE:
        return None
    if isinstance(by, str) and by.startswith(TRAIT):
        _check_trait("by", by[len(TRAIT) :])
        return by[len(TRAIT) :]
    raise InvalidInput.field("by", f"expected 'device' or 'trait:<name>', got {by!r}")


def _distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values, by a sort (numpy 2's hashing ``np.unique`` is far slower here)."""
    ordered = np.sort(values)
    return ordered[np.append(True, ordered[1:] != ordered[:-1])] if len(ordered) else ordered


def _sorted(cells: list[tuple[str | None, int]]) -> tuple[tuple[str | None, int], ...]:
    return tuple(sorted(cells, key=lambda c: (-c[1], c[0] is None, c[0] or "")))


def _share(persons: int, mau: int) -> float:
    return round(persons / mau, 4) if mau else 0.0
