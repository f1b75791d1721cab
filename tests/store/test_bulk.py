"""The vectorised import equals the per-record import, record for record, on hostile input.

Both paths load the same file into fresh stores; the acknowledgements (accepted, duplicates,
every rejection with its fields and messages) and the stored log (every event, normalised, with
its billing time) must be identical.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maumeter.meter import Meter
from maumeter.sources import read_records

TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
IDS = st.one_of(
    st.sampled_from(["u1", "u2", "a-1", " padded ", "", "   ", "é-ok", "x" * 256, "\tx", "y\n"]),
    st.integers(-5, 2**70),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=1),
    TEXT,
)
TIMES = st.one_of(
    st.sampled_from(
        [
            None,
            1700000000,
            2**40,
            "2024-03-01T10:00:00Z",
            "2024-03-01T10:00:00.123Z",
            "2024-03-31T23:59:59.999999+02:00",
            "2024-03-01T10:00:00.1234567Z",
            "2024-03-01 10:00:00Z",
            "2024-03-01T24:00:00Z",
            "2024-02-30T00:00:00Z",
            "2024-03-01",
            "2024-03-01T10:00:00",
            "yesterday",
            "",
        ]
    ),
)
JSONISH = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        TEXT,
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=6,
)


HOSTILE: dict[str, Any] = {
    "type": st.sampled_from(["Track", "", 3, None, "alias", "track"]),
    "userId": IDS,
    "anonymousId": IDS,
    "previousId": IDS,
    "event": st.one_of(st.sampled_from([" Decision", "", "  ", None]), TEXT, st.integers()),
    "name": st.one_of(TEXT, st.integers(), st.none()),
    "messageId": st.one_of(st.sampled_from([" m4", "z" * 101, "", None]), st.integers(0, 3)),
    "timestamp": TIMES,
    "sentAt": TIMES,
    "properties": st.one_of(st.dictionaries(TEXT, JSONISH, max_size=3), JSONISH),
    "traits": st.one_of(st.dictionaries(TEXT, JSONISH, max_size=2), st.none()),
    "context": st.one_of(st.just({"page": {"url": "https://x/"}}), JSONISH),
    "channel": st.one_of(st.just("web"), st.none(), JSONISH),
    "integrations": st.just({"All": True, "x": None}),
    "receivedAt": st.just("2020-01-01T00:00:00Z"),
}


@st.composite
def record(draw: st.DrawFn) -> Any:
    """A valid record, then none, one or two hostile changes (or, rarely, not an object)."""
    if draw(st.integers(0, 40)) == 0:
        return draw(st.one_of(st.lists(st.integers(), max_size=2), st.integers(), TEXT))
    kind = draw(st.sampled_from(["track", "page", "screen", "identify", "alias", "group"]))
    rec: dict[str, Any] = {
        "type": kind,
        "messageId": draw(st.sampled_from(["m1", "m2", "m3", "m4", "m5"])),
        "timestamp": draw(st.sampled_from(["2024-03-01T10:00:00Z", "2024-03-31T23:59:59.5+02:00"])),
    }
    who = draw(st.sampled_from(["user", "anon", "both"]))
    if who != "anon" or kind == "alias":
        rec["userId"] = draw(st.sampled_from(["u1", "u2", "ü3", 42]))
    if who != "user":
        rec["anonymousId"] = draw(st.sampled_from(["a1", "a2"]))
    if kind == "alias":
        rec["previousId"] = draw(st.sampled_from(["a1", "u2", "old"]))
    if kind == "track":
        rec["event"] = draw(st.sampled_from(["Logged In", "Decision"]))
    if draw(st.booleans()):
        rec["properties"] = draw(st.dictionaries(TEXT, JSONISH, max_size=3))
    for _ in range(draw(st.sampled_from([0, 1, 1, 2, 3]))):
        key = draw(st.sampled_from(sorted(HOSTILE)))
        if draw(st.integers(0, 4)) == 0:
            rec.pop(key, None)
        else:
            rec[key] = draw(HOSTILE[key])
    return rec


def load(path: Path, fast: bool) -> tuple[dict[str, Any], list[Any]]:
    with Meter.open(":memory:", clock=lambda: datetime(2025, 1, 1, tzinfo=UTC)) as meter:
        meter.create_org("o")
        meter.create_project("o", "p")
        if fast:
            result = meter.import_file(path, "o", "p")
        else:
            result = meter.import_records(read_records(path), "o", "p")
        log = list(meter.store.log(meter.org("o")))
    return result.to_dict(), log


SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))


@SETTINGS
@given(st.lists(record(), min_size=1, max_size=25))
def test_jsonl_fast_path_equals_the_core(records: list[Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.jsonl"
        path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n")
        assert load(path, fast=True) == load(path, fast=False)


FLAT = {
    "type": st.sampled_from(["track", "page", "identify", "alias", "nope", "", None]),
    "userId": st.sampled_from(["u1", "u2", " u3", "", None]),
    "anonymousId": st.sampled_from(["a1", "a2", "", None]),
    "previousId": st.sampled_from(["a1", "u9", None]),
    "event": st.sampled_from(["Logged In", " x", "", None]),
    "messageId": st.sampled_from(["m1", "m2", "m3", "", None]),
    "timestamp": st.sampled_from(["2024-03-01T10:00:00.000Z", "2024-03-01 10:00", "", None]),
    "properties.plan": st.sampled_from(["pro", "", None]),
    "properties.enabled": st.sampled_from([True, False, None]),
    "properties.count": st.sampled_from([1, 0, None]),
    "context.page.url": st.sampled_from(["https://x/a", None]),
    "traits.email": st.sampled_from(["a@b.c", None]),
    "channel": st.sampled_from(["server", None]),
}


@SETTINGS
@given(st.lists(st.fixed_dictionaries(FLAT), min_size=1, max_size=25))
def test_parquet_fast_path_equals_the_core(rows: list[dict[str, Any]]) -> None:
    types = {"properties.enabled": pa.bool_(), "properties.count": pa.int64()}
    table = pa.table({k: pa.array([r[k] for r in rows], types.get(k, pa.string())) for k in FLAT})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.parquet"
        pq.write_table(table, path)
        assert load(path, fast=True) == load(path, fast=False)


def test_valid_files_take_the_fast_path(tmp_path: Path, monkeypatch: Any) -> None:
    """No silent fallback: a clean JSONL or Parquet file never reaches the per-record reader."""
    import maumeter.meter

    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("fell back to the per-record path")

    monkeypatch.setattr(maumeter.meter, "read_records", refuse)
    good = {
        "type": "track",
        "userId": "u1",
        "event": "x",
        "messageId": "m1",
        "timestamp": "2024-03-01T10:00:00.000Z",
        "properties": {"plan": "pro"},
    }
    jsonl = tmp_path / "e.jsonl"
    jsonl.write_text(json.dumps(good) + "\n" + json.dumps({**good, "messageId": "m2"}) + "\n")
    parquet = tmp_path / "e.parquet"
    pq.write_table(
        pa.table(
            {
                "type": ["page"],
                "anonymousId": ["a"],
                "messageId": ["m3"],
                "timestamp": ["2024-03-02T00:00:00Z"],
                "properties.plan": ["x"],
            }
        ),
        parquet,
    )
    with Meter.open(tmp_path / "s.duckdb") as meter:
        meter.create_org("o")
        meter.create_project("o", "p")
        assert meter.import_file(jsonl, "o", "p").accepted == 2
        assert meter.import_file(parquet, "o", "p").accepted == 1


def test_not_json_constants_and_deep_nesting_are_rejected_alike(tmp_path: Path) -> None:
    """NaN/Infinity and absurd nesting: rejected with a reason by both paths, never stored."""
    base = '"type":"page","userId":"u","timestamp":"2024-03-01T00:00:00Z"'
    path = tmp_path / "odd.jsonl"
    path.write_text(
        f'{{{base},"messageId":"m1","properties":{{"x":NaN}}}}\n'
        f'{{{base},"messageId":"m2","properties":{{"x":-Infinity}}}}\n'
        f'{{{base},"messageId":"m3","properties":' + "[" * 100_000 + "]" * 100_000 + "}\n"
        f'{{{base},"messageId":"m4"}}\n'
    )
    fast, slow = load(path, fast=True), load(path, fast=False)
    assert fast == slow
    result, log = fast
    assert result["accepted"] == 1 and len(log) == 1
    messages = [r["errors"][0]["message"] for r in result["rejected"]]
    assert "NaN is not a JSON value" in messages[0]
    assert "-Infinity is not a JSON value" in messages[1]
    assert "nested too deeply" in messages[2]
