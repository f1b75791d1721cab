"""Tracking bodies decoded straight into the columnar batch: the everyday path of ``/v1/batch``.

SDKs send the same few shapes all day: ``track``, ``page``, ``screen`` records with string ids,
a ``messageId``, ISO times and plain objects. Going through a ``dict`` per record, an
:class:`~maumeter.core.events.Event` per record and a Python ``datetime`` per cell costs about
25 µs an event, more than the whole budget of a 50,000 events/s server. Here msgspec decodes
each record into a typed struct in C, the columns are gathered as lists and times as integers,
and the skew correction and ``originalTimestamp`` are computed on whole arrays.

The result is exactly what the general path (``meter._validate`` and
``store.batch.batch_from_events``) makes of the same body, column for column; the property test
in ``tests/api/test_columnar.py`` holds them equal. Anything this path does not take as it is
falls back, and says so by returning ``None`` or by handing the record back:

* the whole body, when its envelope is anything but ``batch``, ``sentAt``, ``writeKey``,
  ``context`` and ``integrations`` of the expected types, or a record is not valid strict JSON
  (the general path then words the error);
* one record, when it is another type (identify, alias, group), has another top-level key, an
  integer or blank id, no ``messageId``, a time ``parse_time`` refuses or a skew correction out
  of range: it is validated by ``parse_event`` like any other, and keeps its place in the log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from maumeter.api.body import MAX_EVENT
from maumeter.core.errors import Problem
from maumeter.core.events import MAX_ID_LENGTH, MAX_MESSAGE_ID_LENGTH, MAX_NAME_LENGTH, parse_time
from maumeter.store.batch import BATCH_SCHEMA, TS, dumps, micros

# A record's compact re-encoding is at most about 4.5 times its wire size (``1e15`` becomes
# ``1000000000000000.0``): below this many bytes it cannot pass the 32 KB limit.
SURELY_SMALL = MAX_EVENT // 5
MIN_MICROS = -62_135_596_800_000_000  # 0001-01-01T00:00:00Z, datetime's range
MAX_MICROS = 253_402_300_799_999_999  # 9999-12-31T23:59:59.999999Z


class Plain(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """The everyday record; ``UNSET`` tells an absent ``sentAt`` from a ``null`` one."""

    type: Literal["track", "page", "screen"]
    messageId: str
    userId: str | None = None
    anonymousId: str | None = None
    event: str | None = None
    name: str | None = None
    timestamp: str | None = None
    sentAt: str | msgspec.UnsetType | None = msgspec.UNSET
    properties: dict[str, Any] | None = None
    traits: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    integrations: dict[str, Any] | msgspec.UnsetType | None = msgspec.UNSET
    writeKey: Any = None
    receivedAt: Any = None


class Envelope(msgspec.Struct, forbid_unknown_fields=True):
    """A ``/v1/batch`` body whose records are all plain."""

    batch: list[Plain]
    sentAt: str | None = None
    writeKey: str | None = None
    context: dict[str, Any] | None = None
    integrations: dict[str, Any] | None = None


class Mixed(msgspec.Struct, forbid_unknown_fields=True):
    """The same envelope, its records kept raw to be taken one by one."""

    batch: list[msgspec.Raw]
    sentAt: str | None = None
    writeKey: str | None = None
    context: dict[str, Any] | None = None
    integrations: dict[str, Any] | None = None


_envelope = msgspec.json.Decoder(Envelope).decode
_mixed = msgspec.json.Decoder(Mixed).decode
_plain = msgspec.json.Decoder(Plain).decode
_any = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode
UNDECODED = (ValueError, RecursionError)  # msgspec's errors, UnicodeDecodeError: all ValueErrors
# Leaving out null fields (``omit_defaults``) makes a plain record's encoding at most this much
# shorter than the record's own (14 fields at ``"receivedAt":null,`` each).
NULLS = 14 * 20


@dataclass(slots=True)
class Decoded:
    """A body's plain records as a batch, and the records left for the general path."""

    write_key: str | None
    records: int
    batch: pa.Table
    others: list[tuple[int, Any]] = field(default_factory=list)  # (index, record)
    defaults: dict[str, Any] = field(default_factory=dict)


def decode_batch(data: bytes, received: datetime) -> Decoded | None:
    """The body of ``/v1/batch`` in columns, or None when the general path must take it."""
    try:
        envelope: Envelope | Mixed = _envelope(data)
    except UNDECODED:
        try:
            envelope = _mixed(data)
        except UNDECODED:
            return None
    defaults: dict[str, Any] = {}
    if envelope.context is not None:
        defaults["context"] = envelope.context
    if envelope.integrations is not None:
        defaults["integrations"] = envelope.integrations
    if envelope.sentAt is not None:
        defaults["sentAt"] = envelope.sentAt
    plain: list[tuple[int, Plain]] = []
    others: list[tuple[int, Any]] = []
    if isinstance(envelope, Envelope):
        plain = list(enumerate(envelope.batch))
        if len(data) > SURELY_SMALL and any(
            len(_encode(record)) + NULLS > MAX_EVENT for record in envelope.batch
        ):
            envelope = _mixed(data)  # near the 32 KB limit: measured record by record
    if isinstance(envelope, Mixed):
        plain = []
        for index, raw in enumerate(envelope.batch):
            try:
                record = _plain(raw)
            except UNDECODED:
                try:
                    others.append((index, _any(raw)))  # strict JSON, just not the plain shape
                except UNDECODED:
                    return None  # the general path answers 400 for the body, naming it
                continue
            if len(raw) > SURELY_SMALL and len(_encode(_any(raw))) > MAX_EVENT:
                others.append((index, _any(raw)))  # the general path words the size problem
            else:
                plain.append((index, record))
    columns = _Columns(received, plain, defaults)
    if columns.refused:  # rare: fetch those records as they were sent
        records = _any(data)["batch"]
        others.extend((index, records[index]) for index in columns.refused)
        others.sort(key=lambda found: found[0])
    return Decoded(envelope.writeKey, len(envelope.batch), columns.table(), others, defaults)


def _bad_text(values: list[str | None], limit: int) -> set[int]:
    """Positions of present values that are blank or longer than ``limit`` (``parse_plain``)."""
    return {
        i
        for i, value in enumerate(values)
        if value is not None and (not 0 < len(value) <= limit or value.isspace())
    }


class _Columns:
    """The batch being gathered, a list per column; ``refused``: records for the general
    path (by their index in the body)."""

    def __init__(
        self, received: datetime, plain: list[tuple[int, Plain]], defaults: Mapping[str, Any]
    ) -> None:
        self.received_us = micros(received)
        self._times: dict[str, int | None] = {}
        records = [record for _, record in plain]
        user_id = [r.userId for r in records]
        anonymous_id = [r.anonymousId for r in records]
        message_id = [r.messageId for r in records]
        event = [r.event for r in records]
        name = [r.name for r in records]
        bad = _bad_text(user_id, MAX_ID_LENGTH) | _bad_text(anonymous_id, MAX_ID_LENGTH)
        bad |= _bad_text(message_id, MAX_MESSAGE_ID_LENGTH)
        bad |= _bad_text(event, MAX_NAME_LENGTH) | _bad_text(name, MAX_NAME_LENGTH)
        bad.update(i for i, r in enumerate(records) if r.userId is None and r.anonymousId is None)
        bad.update(i for i, r in enumerate(records) if r.type == "track" and r.event is None)
        shared_sent = defaults.get("sentAt")
        timestamp = [self._time(r.timestamp) for r in records]
        sent_at = [
            self._time(shared_sent if r.sentAt is msgspec.UNSET else r.sentAt)  # type: ignore[arg-type]
            for r in records
        ]
        for i, (ts, sent) in enumerate(zip(timestamp, sent_at, strict=True)):
            if ts is False or sent is False:
                bad.add(i)
            elif (
                ts is not None
                and sent is not None
                and not MIN_MICROS <= self.received_us - (sent - ts) <= MAX_MICROS
            ):
                bad.add(i)  # the general path keeps the client's time (an OverflowError)
        if bad:
            keep = [i for i in range(len(records)) if i not in bad]
            self.refused = [plain[i][0] for i in sorted(bad)]
            plain = [plain[i] for i in keep]
            records = [records[i] for i in keep]
            user_id, anonymous_id, message_id, event, name, timestamp, sent_at = (
                [column[i] for i in keep]
                for column in (user_id, anonymous_id, message_id, event, name, timestamp, sent_at)
            )
        else:
            self.refused = []
        self.rownum = [index for index, _ in plain]
        self.type = [r.type for r in records]
        self.user_id, self.anonymous_id, self.message_id = user_id, anonymous_id, message_id
        self.event, self.name = event, name
        self.timestamp, self.sent_at = timestamp, sent_at
        self.properties = [dumps(r.properties) if r.properties else None for r in records]
        self.traits = [dumps(r.traits) if r.traits else None for r in records]
        shared = defaults.get("context")
        if shared is None:
            self.context = [dumps(r.context) if r.context else None for r in records]
        else:
            self.context = [dumps({**shared, **(r.context or {})}) for r in records]
        shared = defaults.get("integrations")
        if shared is None:
            self.integrations = [
                None if r.integrations is msgspec.UNSET else _encode(r.integrations).decode()
                for r in records
            ]
        else:
            self.integrations = [
                _encode({**shared, **(r.integrations or {})}).decode()  # type: ignore[dict-item]
                for r in records
            ]

    def _time(self, text: str | None) -> int | bool | None:
        """Micros since the epoch; None when absent; False when ``parse_time`` refuses it."""
        if text is None:
            return None
        found = self._times.get(text, False)
        if found is False:
            problems: list[Problem] = []
            parsed = parse_time(text, "timestamp", problems)
            found = None if parsed is None else micros(parsed)
            self._times[text] = found
        return False if found is None else found

    def table(self) -> pa.Table:
        n = len(self.rownum)
        has_ts = np.fromiter((t is not None for t in self.timestamp), bool, n)
        has_sent = np.fromiter((t is not None for t in self.sent_at), bool, n)
        ts = np.fromiter((t or 0 for t in self.timestamp), np.int64, n)
        sent = np.fromiter((t or 0 for t in self.sent_at), np.int64, n)
        # skew_corrected: received - (sentAt - timestamp) where both are known; a row whose
        # time it changed keeps the client's as ``originalTimestamp``
        both = has_ts & has_sent
        corrected = np.where(both, self.received_us - (sent - ts), ts)
        stamped = both & (corrected != ts)
        received = pa.array(np.full(n, self.received_us, dtype=np.int64), TS)
        columns: dict[str, Any] = {
            "rownum": pa.array(self.rownum, pa.int64()),
            "type": pa.array(self.type, pa.string()),
            "message_id": pa.array(self.message_id, pa.string()),
            "user_id": pa.array(self.user_id, pa.string()),
            "anonymous_id": pa.array(self.anonymous_id, pa.string()),
            "previous_id": pa.nulls(n, pa.string()),
            "event": pa.array(self.event, pa.string()),
            "name": pa.array(self.name, pa.string()),
            "timestamp": pa.array(corrected, TS, mask=~has_ts),
            "sent_at": pa.array(sent, TS, mask=~has_sent),
            "received_at": received,
            "billing_time": received,
            "properties": pa.array(self.properties, pa.string()),
            "traits": pa.array(self.traits, pa.string()),
            "context": pa.array(self.context, pa.string()),
            "extra": _extra(self.integrations, ts, stamped),
        }
        return pa.table(columns, schema=BATCH_SCHEMA)


def _extra(integrations: list[str | None], timestamp: np.ndarray, stamped: np.ndarray) -> pa.Array:
    """The ``extra`` column: ``integrations`` (kept as sent) and ``originalTimestamp``."""
    sent = any(found is not None for found in integrations)
    if not sent:  # the everyday case, in whole arrays
        if not stamped.any():
            return pa.nulls(len(integrations), pa.string())
        texts = pc.binary_join_element_wise(
            '{"originalTimestamp":"', pa.array(_iso_millis_array(timestamp)), 'Z"}', ""
        )
        return pc.if_else(pa.array(stamped), texts, pa.scalar(None, pa.string()))
    original = _iso_millis(timestamp)
    out: list[str | None] = []
    for i, found in enumerate(integrations):
        parts = [] if found is None else ['"integrations":' + found]
        if stamped[i]:
            parts.append('"originalTimestamp":"' + original[i] + '"')
        out.append("{" + ",".join(parts) + "}" if parts else None)
    return pa.array(out, pa.string())


def _iso_millis_array(micros: np.ndarray) -> np.ndarray:
    """ISO-8601 UTC to the millisecond (truncated), without the ``Z``: a numpy str array."""
    return np.datetime_as_string((micros // 1000).astype("datetime64[ms]"), unit="ms")


def _iso_millis(micros: np.ndarray) -> list[str]:
    """``format_time`` on whole arrays: ISO-8601 UTC, milliseconds (truncated), ``Z``."""
    return [text + "Z" for text in _iso_millis_array(micros).tolist()]
