"""The columnar decoding of ``/v1/batch`` bodies makes exactly what the general path makes.

For any body, hostile or plain: when ``decode_batch`` takes it, the batch it builds (with the
records it leaves to the general validation put back in their places) equals, column for
column, the batch ``_validate`` and ``batch_from_events`` make of the same body, and the
rejections are the same. When it does not take it, the general path answers (and words the
error) as it always did.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import msgspec
import pyarrow as pa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from maumeter.api import body as wire_body
from maumeter.api.columnar import decode_batch
from maumeter.api.tracking import batch_defaults, guard_sizes
from maumeter.core.errors import MaumeterError
from maumeter.meter import _validate, with_others
from maumeter.store.batch import BATCH_SCHEMA, batch_from_events

RECEIVED = datetime(2026, 3, 29, 1, 30, 0, 123456, tzinfo=UTC)
ABSENT = object()

TEXTS = st.sampled_from(["u1", "user-2", " ", "", "\u2003", "é😀", "a" * 255, "a" * 256, "x\x00y"])
IDS = st.one_of(st.none(), TEXTS, st.integers(-5, 5), st.booleans(), st.just({"a": 1}))
TIMES = st.sampled_from(
    [
        "2026-03-29T01:29:59.000Z",
        "2026-03-29T01:30:00Z",
        "2026-03-29T03:30:00+02:00",
        "2026-03-29T01:30:00",
        "2026-03-29T01:30:00.1234567Z",
        "2026-03-29 01:30:00z",
        "2026-03-29",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "1969-12-31T23:59:59.9995Z",
        "yesterday",
        " 2026-03-29T01:30:00Z ",
    ]
) | st.sampled_from([None, 5, 1.5])
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False)
) | st.text(max_size=5)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
OBJECTS = st.one_of(
    st.dictionaries(
        st.sampled_from(["a", "url", "userAgent", "page", "traits", "é"]), VALUES, max_size=3
    ),
    st.just({"page": {"url": "https://example.com/app"}, "userAgent": "Googlebot/2.1"}),
    st.just({}),
    st.none(),
    st.just("not an object"),
    st.just([1, 2]),
)
TYPES = st.sampled_from(["track", "track", "page", "screen", "identify", "group", "alias", "nope"])


@st.composite
def records(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 30)) == 0:
        return draw(st.sampled_from([None, 3, "text", [1]]))
    record: dict[str, Any] = {}
    fields = {
        "type": TYPES,
        "userId": IDS,
        "anonymousId": IDS,
        "messageId": IDS | st.just("m" * 101),
        "event": st.none() | TEXTS,
        "name": st.none() | TEXTS,
        "timestamp": TIMES,
        "sentAt": TIMES,
        "properties": OBJECTS,
        "traits": OBJECTS,
        "context": OBJECTS,
        "integrations": OBJECTS,
        "previousId": IDS,
        "groupId": TEXTS,
        "originalTimestamp": TIMES,
        "writeKey": st.just("wk_x"),
        "receivedAt": TIMES,
        "channel": TEXTS,
    }
    common = {"type", "userId", "messageId", "event", "timestamp", "properties", "context"}
    for name, strategy in fields.items():
        chance = 4 if name in common else 12
        if draw(st.integers(0, chance)) < (chance - 1 if name in common else 1):
            record[name] = draw(strategy)
    if draw(st.integers(0, 25)) == 0:  # near or past the 32 KB limit of one event
        record["properties"] = {"blob": "x" * draw(st.sampled_from([6_000, 32_600, 33_000]))}
    return record


GOOD_TIMES = st.sampled_from(
    [
        "2026-03-29T01:29:59.000Z",
        "2026-03-29T01:30:00Z",
        "2026-03-29T03:30:00+02:00",
        "2026-03-29T01:30:00",
        "2026-03-29T01:30:00.1234567Z",
        "1969-12-31T23:59:59.9995Z",
    ]
)
GOOD_OBJECTS = st.dictionaries(
    st.sampled_from(["a", "url", "userAgent", "page", "traits", "é"]), VALUES, max_size=3
)


@st.composite
def plain_records(draw: st.DrawFn) -> dict[str, Any]:
    """An everyday record, sometimes with one thing changed (a hostile or unusual field)."""
    kind = draw(st.sampled_from(["track", "page", "screen"]))
    record: dict[str, Any] = {"type": kind, "messageId": draw(st.sampled_from(["m1", "m2", "é"]))}
    who = draw(st.sampled_from(["user", "anon", "both"]))
    if who in ("user", "both"):
        record["userId"] = draw(st.sampled_from(["u1", "u2", "é😀"]))
    if who in ("anon", "both"):
        record["anonymousId"] = draw(st.sampled_from(["a1", "a2"]))
    if kind == "track" or draw(st.booleans()):
        record["event"] = draw(st.sampled_from(["Clicked", "Page Viewed"]))
    if kind != "track" and draw(st.booleans()):
        record["name"] = "Home"
    for name, strategy in (
        ("timestamp", GOOD_TIMES),
        ("sentAt", GOOD_TIMES | st.none()),
        ("properties", GOOD_OBJECTS | st.none()),
        ("traits", GOOD_OBJECTS | st.none()),
        ("context", GOOD_OBJECTS | st.none()),
        ("integrations", GOOD_OBJECTS | st.none()),
        ("writeKey", st.just("wk_x")),
        ("receivedAt", st.just("2020-01-01T00:00:00Z")),
    ):
        if draw(st.booleans()):
            record[name] = draw(strategy)
    if draw(st.integers(0, 3)) == 0:  # one field as anything
        name = draw(st.sampled_from(sorted({*record, "previousId", "groupId", "channel"})))
        record[name] = draw(IDS | TIMES | OBJECTS)
    return record


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    items = st.lists(plain_records() | records(), max_size=6)
    envelope: dict[str, Any] = {"batch": draw(items)}
    if draw(st.booleans()):
        envelope["sentAt"] = draw(TIMES)
    for name in ("context", "integrations"):
        if draw(st.integers(0, 5)) == 0:
            envelope[name] = draw(OBJECTS)
    if draw(st.integers(0, 8)) == 0:
        envelope["writeKey"] = draw(st.sampled_from(["wk_body", 7]))
    if draw(st.integers(0, 12)) == 0:
        envelope["other"] = 1
    if draw(st.integers(0, 12)) == 0:
        envelope = draw(st.sampled_from([{"batch": "no"}, {"batch": [{"type": "track"}]}]))
    spaced = draw(st.booleans())
    return json.dumps(envelope, indent=1 if spaced else None).encode()


def general(data: bytes) -> tuple[pa.Table, list[Any]] | None:
    """The general path: strict JSON, batch defaults, size guard, validation, Event → batch."""
    try:
        payload = wire_body.decode_json(data)
        if not isinstance(payload, dict) or not isinstance(payload.get("batch"), list):
            return None
        defaults = batch_defaults(payload)
        records_ = guard_sizes(payload["batch"])
    except MaumeterError:
        return None
    events, rownums, result = _validate(records_, None, defaults, 0, received=RECEIVED)
    table = batch_from_events(events, rownums, RECEIVED) if events else BATCH_SCHEMA.empty_table()
    return table, [r.to_dict() for r in result.rejected]


def columnar(data: bytes) -> tuple[pa.Table, list[Any], Any] | None:
    decoded = decode_batch(data, RECEIVED)
    if decoded is None:
        return None
    others = decoded.others
    if others:
        checked = guard_sizes([record for _, record in others])
        others = [(index, r) for (index, _), r in zip(others, checked, strict=True)]
    table, result = with_others(decoded.batch, others, decoded.defaults, RECEIVED)
    return table, [r.to_dict() for r in result.rejected], decoded.write_key


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=bodies())
@example(data=b'{"batch":[{"type":"track","userId":"u","messageId":"m","event":"e"}]}')
def test_columnar_equals_general(data: bytes) -> None:
    fast = columnar(data)
    slow = general(data)
    if fast is None:
        return  # the general path takes the body, as before
    assert slow is not None, "the columnar path took a body the general path refuses whole"
    table, rejected, write_key = fast
    assert table.schema == BATCH_SCHEMA
    assert table.to_pylist() == slow[0].to_pylist()
    assert rejected == slow[1]
    payload = msgspec.json.decode(data)
    expected_key = payload.get("writeKey")
    assert write_key == (expected_key if isinstance(expected_key, str) else None)


def test_everyday_bodies_take_the_columnar_path() -> None:
    """The shapes SDKs send all day are decoded in columns, not handed back."""
    record = {
        "type": "track",
        "userId": "u1",
        "messageId": "m1",
        "event": "Clicked",
        "timestamp": "2026-03-29T01:29:59.000Z",
        "properties": {"plan": "pro"},
        "context": {"library": {"name": "analytics-python"}},
        "integrations": {},
    }
    page = {**record, "type": "page", "messageId": "m2", "name": "Home"}
    data = json.dumps({"batch": [record, page], "sentAt": "2026-03-29T01:30:00.000Z"}).encode()
    decoded = decode_batch(data, RECEIVED)
    assert decoded is not None and decoded.others == [] and decoded.batch.num_rows == 2
    assert columnar(data)[:2] == (general(data)[0], [])  # type: ignore[index]
    extra = json.loads(decoded.batch.column("extra")[0].as_py())
    assert extra == {"integrations": {}, "originalTimestamp": "2026-03-29T01:29:59.000Z"}
