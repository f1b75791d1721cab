"""Reading a tracking request's body within Segment's limits, whatever the SDK sends.

Limits (Segment's): 500 KB per request *after* decompression, 32 KB per event, 2,500 events per
batch. The body is read as a stream and decompressed incrementally with an output bound, so a
gzip bomb is cut off at the limit without ever being inflated whole. Gzip is recognised by the
``Content-Encoding`` header or by its magic bytes (PostHog's libraries compress without saying
so); ``deflate`` and ``identity`` are accepted, any other encoding is a 415.
"""

from __future__ import annotations

import zlib
from collections.abc import Sized
from typing import Any

import msgspec
from fastapi import Request

from maumeter.core import wire
from maumeter.core.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType

MAX_BODY = 500 * 1024
MAX_EVENT = 32 * 1024
MAX_BATCH = 2500
GZIP_MAGIC = b"\x1f\x8b"
_encoder = msgspec.json.Encoder()
_decode = msgspec.json.Decoder().decode


async def read_raw(request: Request, limit: int = MAX_BODY) -> bytes:
    """The request body, refusing (413) past ``limit`` bytes on the wire before reading on."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body: at most {limit} bytes are accepted, got {declared}")
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body: at most {limit} bytes are accepted")
        parts.append(chunk)
    return b"".join(parts)


def decompress(raw: bytes, encoding: str, limit: int = MAX_BODY) -> bytes:
    """The decoded body; never inflates more than ``limit`` + 1 bytes."""
    encoding = encoding.strip().lower()
    if encoding in ("gzip", "x-gzip") or (encoding in ("", "identity") and raw[:2] == GZIP_MAGIC):
        wbits = 16 + zlib.MAX_WBITS
    elif encoding == "deflate":
        wbits = zlib.MAX_WBITS
    elif encoding in ("", "identity"):
        if len(raw) > limit:
            raise PayloadTooLarge(f"body: at most {limit} bytes are accepted")
        return raw
    else:
        raise UnsupportedMediaType(
            f"Content-Encoding: {encoding!r} is not supported; send gzip, deflate or identity"
        )
    decoder = zlib.decompressobj(wbits)
    try:
        out = decoder.decompress(raw, limit + 1)
    except zlib.error as exc:
        raise InvalidInput.field("body", f"not valid {encoding or 'gzip'} data: {exc}") from None
    if len(out) > limit or decoder.unconsumed_tail:
        raise PayloadTooLarge(f"body: at most {limit} bytes are accepted after decompression")
    if not decoder.eof:
        raise InvalidInput.field("body", f"truncated {encoding or 'gzip'} data")
    return out


async def read_json(request: Request) -> Any:
    """The decoded JSON body of a tracking request, within the limits."""
    return decode_json(await read_body(request))


async def read_body(request: Request) -> bytes:
    """The decompressed bytes of a tracking request's body, within the limits."""
    raw = await read_raw(request)
    return decompress(raw, request.headers.get("content-encoding", ""))


def decode_json(data: bytes) -> Any:
    """Strict JSON (core.wire), every failure a 400 naming the body.

    msgspec decodes first: it refuses exactly what ``core.wire`` refuses (``NaN``, ``1e400``,
    lone surrogates, runaway nesting) at several times the speed. Anything it refuses goes
    through ``core.wire``, which words the error or takes the rare JSON msgspec does not
    (a UTF-16 body, say); the property test in ``tests/api/test_body.py`` holds them equal."""
    if not data.strip():
        raise InvalidInput.field("body", "expected a JSON body, got an empty one")
    try:
        return _decode(data)
    except (ValueError, RecursionError):  # msgspec's errors are ValueErrors
        pass
    try:
        return wire.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput.field("body", f"expected JSON: {exc}") from None


def check_batch(records: Sized) -> None:
    """A batch over 2,500 events is refused whole (413)."""
    if len(records) > MAX_BATCH:
        raise PayloadTooLarge(
            f"batch: at most {MAX_BATCH} events per request are accepted, got {len(records)}"
        )


def oversized(records: list[Any]) -> dict[int, int]:
    """Index -> encoded size of each record over 32 KB (msgspec: about a microsecond a
    record, so every record is measured)."""
    found: dict[int, int] = {}
    for index, record in enumerate(records):
        try:
            size = len(_encoder.encode(record))
        except (TypeError, OverflowError, UnicodeEncodeError, msgspec.EncodeError):
            continue  # validation will name the problem
        if size > MAX_EVENT:
            found[index] = size
    return found
