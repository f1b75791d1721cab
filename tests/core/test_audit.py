"""The hash-chained audit log: building, recomputing, and catching any tampering."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maumeter.core.audit import GENESIS, Action, Entry, canonical, chain, verify_chain

T0 = datetime(2024, 4, 1, 9, 30, tzinfo=UTC)


def build(n: int, org: str | None = "acme") -> list[Entry]:
    entries: list[Entry] = []
    for i in range(n):
        entries.append(
            chain(
                entries[-1] if entries else None,
                at=T0 + timedelta(minutes=i),
                org=org,
                actor="admin" if i % 2 else "system",
                action=Action.MONTH_CLOSE if i % 3 else Action.PLAN_SET,
                detail={"month": f"2024-{i % 12 + 1:02d}", "mau": i * 100, "flags": [i, "x"]},
            )
        )
    return entries


def test_first_entry_links_to_genesis_and_hash_is_recomputable() -> None:
    first = chain(
        None, at=T0, org="acme", actor="admin", action="plan.set", detail={"allotment": 5000}
    )
    assert (first.seq, first.prev_hash) == (1, GENESIS)
    text = (
        '{"action":"plan.set","actor":"admin","at":"2024-04-01T09:30:00.000000+00:00",'
        '"detail":{"allotment":5000},"org":"acme","seq":1}'
    )
    assert canonical(1, T0, "acme", "admin", "plan.set", {"allotment": 5000}) == text.encode()
    assert first.hash == hashlib.sha256(GENESIS.encode() + text.encode()).hexdigest()
    second = chain(first, at=T0, org="acme", actor="admin", action="month.close")
    assert (second.seq, second.prev_hash, second.detail) == (2, first.hash, {})


def test_times_are_stored_in_utc() -> None:
    paris = timezone(timedelta(hours=2))
    entry = chain(
        None, at=datetime(2024, 4, 1, 11, 30, tzinfo=paris), org=None, actor="cli", action="x"
    )
    assert entry.at == T0 and entry.at.tzinfo is UTC
    with pytest.raises(ValueError):
        chain(None, at=datetime(2024, 4, 1), org=None, actor="cli", action="x")


def test_detail_is_plain_json_without_personal_fields() -> None:
    for bad in (
        {"ratio": 0.5},
        {1: "x"},
        {"userId": "u1"},
        {"nested": {"Email": "a@b"}},
        {"s": {1, 2}},
    ):
        with pytest.raises(ValueError):
            chain(None, at=T0, org="acme", actor="admin", action="x", detail=bad)
    detail = {"months": ("2024-01", "2024-02"), "erased": 1}
    entry = chain(None, at=T0, org="acme", actor="admin", action=Action.ERASURE, detail=detail)
    assert entry.detail == {"months": ["2024-01", "2024-02"], "erased": 1}
    assert entry.action == "person.erase"
    with pytest.raises(ValueError):
        chain(None, at=T0, org="acme", actor="", action="x")


def test_unicode_is_kept_as_utf8() -> None:
    entry = chain(None, at=T0, org="société", actor="admin", action="org.create")
    assert "société".encode() in canonical(1, T0, "société", "admin", "org.create", {})
    assert verify_chain([entry]) is None


def test_round_trip_through_dicts() -> None:
    entries = build(5)
    stored = [Entry.from_dict(json.loads(json.dumps(e.to_dict()))) for e in entries]
    assert verify_chain(stored, head=entries[-1].hash) is None
    assert stored == entries


def test_verify_from_an_anchor() -> None:
    entries = build(6)
    assert verify_chain(entries[3:], prev=entries[2]) is None
    assert verify_chain(entries[3:]) == 1  # without the anchor a suffix is not a chain
    assert verify_chain(entries[4:], prev=entries[2]) == 4
    assert verify_chain([]) is None


def test_truncation_needs_the_head() -> None:
    entries = build(4)
    assert verify_chain(entries[:3]) is None  # a shorter chain is still a chain...
    assert verify_chain(entries[:3], head=entries[-1].hash) == 4  # ...but not the one we had
    assert verify_chain([], head=entries[-1].hash) == 1


def test_a_broken_entry_is_reported_even_if_unreadable() -> None:
    entries = build(3)
    broken = dataclasses.replace(entries[1], detail={"x": 1.5})
    assert verify_chain([entries[0], broken, entries[2]]) == 2


# --- properties ------------------------------------------------------------------------------

FIELDS = ["seq", "at", "org", "actor", "action", "detail", "prev_hash", "hash"]


def tamper(entry: Entry, field: str) -> Entry:
    value = getattr(entry, field)
    changed: object
    if field == "seq":
        changed = value + 1
    elif field == "at":
        changed = value + timedelta(microseconds=1)
    elif field == "detail":
        changed = {**value, "mau": value["mau"] + 1}
    elif field in ("prev_hash", "hash"):
        changed = ("1" if value[0] == "0" else "0") + value[1:]
    else:
        changed = (value or "") + "x"
    return dataclasses.replace(entry, **{field: changed})


@given(st.integers(1, 12), st.data())
def test_any_modification_is_detected(n: int, data: st.DataObject) -> None:
    entries = build(n)
    i = data.draw(st.integers(0, n - 1))
    field = data.draw(st.sampled_from(FIELDS))
    entries[i] = tamper(entries[i], field)
    assert verify_chain(entries) == i + 1


@given(st.integers(1, 12), st.data())
def test_any_removal_is_detected(n: int, data: st.DataObject) -> None:
    entries = build(n)
    head = entries[-1].hash
    i = data.draw(st.integers(0, n - 1))
    del entries[i]
    assert verify_chain(entries, head=head) == i + 1


@given(st.integers(2, 12), st.data())
def test_any_reorder_is_detected(n: int, data: st.DataObject) -> None:
    entries = build(n)
    order = data.draw(st.permutations(range(n)).filter(lambda p: list(p) != sorted(p)))
    shuffled = [entries[k] for k in order]
    first_moved = next(pos for pos, k in enumerate(order) if k != pos)
    assert verify_chain(shuffled) == first_moved + 1


@given(st.integers(1, 12), st.data())
def test_an_insertion_is_detected(n: int, data: st.DataObject) -> None:
    entries = build(n)
    i = data.draw(st.integers(0, n))
    prev = entries[i - 1] if i else None
    forged = chain(prev, at=T0, org="acme", actor="admin", action="plan.set", detail={"mau": 1})
    assert verify_chain([*entries[:i], forged, *entries[i:]]) == (i + 2 if i < n else None)
