"""Reading tracking bodies within the limits: gzip bombs, truncation, encodings, sizes."""

from __future__ import annotations

import gzip
import json
import zlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maumeter.api import body
from maumeter.core import wire
from maumeter.core.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType


def test_gzip_by_header_or_by_magic_bytes() -> None:
    data = b'{"batch": []}'
    packed = gzip.compress(data)
    assert body.decompress(packed, "gzip") == data
    assert body.decompress(packed, "") == data  # PostHog compresses without saying so
    assert body.decompress(zlib.compress(data), "deflate") == data
    assert body.decompress(data, "identity") == data


def test_a_gzip_bomb_is_cut_off_at_the_limit() -> None:
    bomb = gzip.compress(b" " * (50 * 1024 * 1024))  # 50 MB of spaces in ~50 KB
    assert len(bomb) < 100_000
    with pytest.raises(PayloadTooLarge, match="after decompression"):
        body.decompress(bomb, "gzip")


def test_just_under_and_just_over_the_body_limit() -> None:
    assert len(body.decompress(gzip.compress(b"x" * body.MAX_BODY), "gzip")) == body.MAX_BODY
    with pytest.raises(PayloadTooLarge):
        body.decompress(gzip.compress(b"x" * (body.MAX_BODY + 1)), "gzip")
    with pytest.raises(PayloadTooLarge):
        body.decompress(b"x" * (body.MAX_BODY + 1), "")


def test_truncated_or_corrupt_gzip_is_a_400_naming_the_body() -> None:
    packed = gzip.compress(b'{"a": 1}' * 100)
    with pytest.raises(InvalidInput) as exc:
        body.decompress(packed[: len(packed) // 2], "gzip")
    assert exc.value.problems[0].field == "body"
    with pytest.raises(InvalidInput):
        body.decompress(b"\x1f\x8bnot gzip at all", "gzip")


def test_unknown_encodings_are_415() -> None:
    with pytest.raises(UnsupportedMediaType, match="br"):
        body.decompress(b"...", "br")


def test_batch_and_event_limits() -> None:
    body.check_batch([{}] * body.MAX_BATCH)
    with pytest.raises(PayloadTooLarge, match="2500"):
        body.check_batch([{}] * (body.MAX_BATCH + 1))
    small = {"type": "track", "userId": "u", "event": "e"}
    big = {**small, "properties": {"blob": "x" * body.MAX_EVENT}}
    assert body.oversized([small, big, small]) == {1: pytest.approx(body.MAX_EVENT + 60, abs=60)}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)
hostile = st.sampled_from(
    [
        b"[NaN]",
        b"[Infinity]",
        b"[-Infinity]",
        b"[1e400]",
        b'["\\ud800"]',
        b'{"a": "\\udfff"}',
        b'["\xed\xa0\x80"]',
        b"[" * 5000 + b"]" * 5000,
        b"[123456789012345678901234567890]",
        b'{"a":1,"a":2}',
        b"\xef\xbb\xbf{}",
        '{"a": "\u00e9"}'.encode("utf-16"),
        b"{,}",
        b"[1,]",
        b'"\\u0000"',
        b"[0.1e-400, -0.0]",
    ]
)


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(json_values.map(lambda v: json.dumps(v).encode()), hostile, st.binary(max_size=40))
)
def test_fast_decoding_agrees_with_the_strict_decoder(data: bytes) -> None:
    """``decode_json`` (msgspec first) accepts and refuses exactly what ``core.wire`` does."""
    try:
        expected: Any = wire.loads(data)
    except (ValueError, UnicodeDecodeError):
        expected = InvalidInput
    if not data.strip():
        expected = InvalidInput
    try:
        got: Any = body.decode_json(data)
    except InvalidInput:
        got = InvalidInput
    assert got == expected
