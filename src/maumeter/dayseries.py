"""Persons per local day of one scope, for DAU/WAU/MAU/rolling-30 series.

Day bitmaps hold ids (which never change); persons are their current roots, resolved when a
series is asked for, with the project's internal persons removed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
from pyroaring import BitMap

from maumeter.core.months import epoch_day, from_epoch_day
from maumeter.store.counters import bitmap


class DayPersons:
    """Persons (roots) active per local day of one scope, for series."""

    def __init__(self, counts: Any, project: int | None, roots: np.ndarray, internal: BitMap):
        self._by_day: dict[int, list[BitMap]] = {}
        for (p, day), ids in counts.days.items():
            if project is None or p == project:
                self._by_day.setdefault(day, []).append(ids)
        self._roots = roots
        self._internal = internal
        self._project = project
        self._counts = counts
        self._cache: dict[int, BitMap] = {}

    def _day(self, day: int) -> BitMap:
        found = self._cache.get(day)
        if found is None:
            parts = self._by_day.get(day)
            if not parts:
                found = BitMap()
            else:
                ids = BitMap.union(*parts) if len(parts) > 1 else parts[0]
                arr = np.asarray(ids.to_array(), dtype=np.int64)
                found = bitmap(self._roots[arr])
                found = self._exclude(found, day)
            self._cache[day] = found
        return found

    def _exclude(self, persons: BitMap, day: int) -> BitMap:
        counts = self._counts
        if not counts.internal:
            return persons
        if self._project is not None:
            return persons - self._internal
        keep = BitMap()
        for (p, d), ids in counts.days.items():
            if d != day:
                continue
            arr = np.asarray(ids.to_array(), dtype=np.int64)
            mine = bitmap(self._roots[arr])
            keep |= mine - counts.internal.get(p, BitMap())
        return keep

    def count(self, first: date, last: date) -> int:
        days = [self._day(epoch_day(d)) for d in days_between(first, last)]
        return len(BitMap.union(*days)) if days else 0


def days_between(first: date, last: date) -> list[date]:
    return [from_epoch_day(n) for n in range(epoch_day(first), epoch_day(last) + 1)]
