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
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
from pyroaring import BitMap

from maumeter.analytics.daily import Days
from maumeter.core.devices import DEVICE_TYPES, device_type
from maumeter.core.errors import InvalidInput
from maumeter.core.months import Month, epoch_day
from maumeter.store.counters import bitmap, groups
from maumeter.store.duckdb import OrgInfo

if TYPE_CHECKING:
    from maumeter.meter import Meter

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
    meter: Meter,
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
        roots, values = meter.analytics.segments.latest_values(
            info.name, Month.of_date(end), name, until=end
        )
        return _trait_days(days, roots, values, first, last)
    return _event_days(meter, info, project, days, first, last, kind, name)


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
    meter: Meter,
    info: OrgInfo,
    project: int | None,
    days: Days,
    first: int,
    last: int,
    kind: str,
    name: str | None,
) -> dict[str | None, Days]:
    store = meter.store
    with store.lock():
        internal = {p: BitMap(bm) for p, bm in store.counts(info).internal.items()}
    params: dict[str, Any] = {"org": info.id, "first": first, "last": last}
    scope = ""
    if project is not None:
        scope = " AND project_id = $project"
        params["project"] = project
    if kind == "property":
        params["path"] = '$."' + (name or "").replace("\\", "\\\\").replace('"', '\\"') + '"'
        value = "json_extract_string(properties, $path)"
    else:
        value = (
            "json_extract_string(context, '$.device.type') AS dt, "
            "json_extract_string(context, '$.userAgent') AS ua"
        )
    con = store.cursor()
    rows = con.sql(
        f"SELECT project_id, actor, day, {value if kind == 'device' else value + ' AS v'} "
        "FROM events WHERE org_id = $org AND verdict = 'qualifies' "
        f"AND day BETWEEN $first AND $last{scope}",
        params=params,
    ).to_arrow_table()
    if kind == "device":
        rows = _with_device(rows)
    actors = rows.column("actor").to_numpy().astype(np.int64)
    keep = actors < len(days.roots)
    roots = np.where(keep, days.roots[np.where(keep, actors, 0)], 0).astype(np.int64)
    projects = rows.column("project_id").to_numpy()
    for pid, excluded in internal.items():
        if excluded:
            keep &= ~((projects == pid) & np.isin(roots, np.asarray(excluded.to_array())))
    codes, labels = _codes(rows.column("v"))
    day_of = rows.column("day").to_numpy().astype(np.int64)
    roots, codes, day_of = roots[keep], codes[keep], day_of[keep]
    totals = {int(c): len(np.unique(roots[rows_])) for c, rows_ in groups(codes)}
    ranked = sorted(totals, key=lambda c: (-totals[c], labels[c] is None, labels[c] or ""))
    top = set(ranked[:TOP])
    other = len(labels)
    codes = np.where(np.isin(codes, list(top)), codes, other)
    labels = [*labels, OTHER]
    found: dict[str | None, dict[int, BitMap]] = {}
    key = codes * (1 << 32) + (day_of - first)
    for k, at in groups(key):
        code, day = k >> 32, (k & 0xFFFFFFFF) + first
        found.setdefault(labels[code], {})[day] = bitmap(roots[at])
    return {value: Days(per_day, days.roots) for value, per_day in found.items()}


def _with_device(rows: pa.Table) -> pa.Table:
    """Replace the (device type, user agent) columns by the derived type, once per pair."""
    dt, ua = rows.column("dt").to_pylist(), rows.column("ua").to_pylist()
    kinds: dict[tuple[Any, Any], str] = {}
    values = []
    for pair in zip(dt, ua, strict=True):
        found = kinds.get(pair)
        if found is None:
            found = kinds[pair] = device_type(*pair)
        values.append(found)
    assert all(v in DEVICE_TYPES for v in kinds.values())
    return rows.drop_columns(["dt", "ua"]).append_column("v", pa.array(values, pa.string()))


def _codes(column: Any) -> tuple[np.ndarray, list[str | None]]:
    """Dictionary codes of a text column (null as its own value) and the labels."""
    encoded = column.combine_chunks().dictionary_encode() if column.num_chunks else None
    if encoded is None:
        return np.empty(0, dtype=np.int64), []
    labels: list[str | None] = encoded.dictionary.to_pylist()
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    nulls = encoded.indices.is_null().to_numpy(zero_copy_only=False)
    codes = np.where(nulls, len(labels), np.nan_to_num(indices, nan=0)).astype(np.int64)
    return codes, [*labels, None]
