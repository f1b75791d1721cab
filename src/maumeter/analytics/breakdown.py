"""Segments of a series: each value's persons per day, for ``--by`` on a series.

* ``trait:NAME`` — a person's latest known value of the trait (as of the series' last day; see
  :mod:`maumeter.analytics.segments`) puts all their activity in that value's segment; persons
  without it are in the ``None`` segment. Segments are disjoint, so they sum to the total.
* ``property:NAME`` — an event property: a person is in a value's segment on the days they had
  a qualifying event carrying that value (``None``: events without it). A person can be in
  several segments on one day, so segments can sum to more than the total.
* ``device`` — the same, by the device type of the event (``context.device.type`` or the user
  agent; :mod:`maumeter.core.devices`).

Only the :data:`TOP` values with the most persons over the range are kept as their own segment;
the rest are merged into ``"(other)"`` so a high-cardinality property cannot explode a chart.
Values are text: numbers and booleans as their JSON text, objects and arrays as JSON.
"""

from __future__ import annotations

from datetime import date
from itertools import count
from typing import TYPE_CHECKING

import numpy as np
from pyroaring import BitMap

from maumeter.analytics import facets
from maumeter.analytics.daily import Days
from maumeter.core.errors import InvalidInput
from maumeter.core.months import Month, epoch_day
from maumeter.store.duckdb import OrgInfo

if TYPE_CHECKING:
    from maumeter.analytics.queries import Analytics

__all__ = ["OTHER", "TOP", "parse_by", "segment_days"]

TOP = 20
OTHER = "(other)"
MAX_NAME = 200
_names = count()


def parse_by(by: str) -> tuple[str, str | None]:
    """``("trait", name)``, ``("property", name)`` or ``("device", None)``."""
    if by == "device":
        return "device", None
    kind, _, name = by.partition(":")
    if kind not in ("trait", "property") or not 1 <= len(name) <= MAX_NAME:
        raise InvalidInput.field(
            "by",
            f"expected trait:NAME, property:NAME or device (NAME 1–{MAX_NAME} chars), got {by!r}",
        )
    return kind, name


def segment_days(
    analytics: Analytics,
    info: OrgInfo,
    project: int | None,
    days: Days,
    start: date,
    end: date,
    by: str,
) -> dict[str | None, Days]:
    """Each segment value's persons per day over ``[start, end]`` (the caller widens the range
    to whole periods and rolling windows)."""
    kind, name = parse_by(by)
    first, last = epoch_day(start), epoch_day(end)
    if kind == "trait":
        assert name is not None
        roots, values = analytics.segments.latest_values(
            info.name, Month.of_date(end), name, until=end
        )
        return _trait_days(days, roots, values, first, last)
    return _event_days(analytics, info, project, days, first, last, kind, name)


def _trait_days(
    days: Days, roots: np.ndarray, values: list[str | None], first: int, last: int
) -> dict[str | None, Days]:
    holders: dict[str | None, BitMap] = {}
    for root, value in zip(roots.tolist(), values, strict=True):
        holders.setdefault(value, BitMap()).add(root)
    active = days.union(first, last)
    known = BitMap.union(*holders.values()) if holders else BitMap()
    members = {v: bm & active for v, bm in holders.items()}
    members[None] = (members.get(None) or BitMap()) | (active - known)
    ranked = sorted(members, key=lambda v: (-len(members[v]), v is None, v or ""))
    kept = {v: members[v] for v in ranked[:TOP] if members[v]}
    rest = [members[v] for v in ranked[TOP:] if members[v]]
    if rest:
        kept[OTHER] = BitMap.union(*rest)
    return {
        value: Days(
            {d: bm & found for d in range(first, last + 1) if (bm := days.persons.get(d))},
            days.roots,
        )
        for value, found in kept.items()
    }


def _event_days(
    analytics: Analytics,
    info: OrgInfo,
    project: int | None,
    days: Days,
    first: int,
    last: int,
    kind: str,
    name: str | None,
) -> dict[str | None, Days]:
    """From the facet index (:mod:`maumeter.analytics.facets`): the events are read once."""
    by = "device" if kind == "device" else f"property:{name}"
    slots = analytics.facets.slots(info, by)
    store = analytics.meter.store
    with store.lock():
        internal = {p: BitMap(bm) for p, bm in store.counts(info).internal.items()}
    found = facets.persons(slots, days.roots, internal, first, last, project)
    totals = {value: len(facets.union(per_day.values())) for value, per_day in found.items()}
    ranked = sorted(totals, key=lambda v: (-totals[v], v is None, v or ""))
    kept = {v: found[v] for v in ranked[:TOP]}
    rest = [found[v] for v in ranked[TOP:]]
    if rest:
        merged: dict[int, BitMap] = {}
        for per_day in rest:
            for day, people in per_day.items():
                merged[day] = merged[day] | people if day in merged else BitMap(people)
        kept[OTHER] = merged
    return {value: Days(per_day, days.roots) for value, per_day in kept.items()}
