"""The columnar batch: normalised events as one Arrow table, the unit the writer commits.

Both ways in converge here: the live path turns validated :class:`~maumeter.core.events.Event`
values into a batch; the bulk import builds the same columns straight from a file inside DuckDB.
From then on one code path deduplicates, resolves identities, evaluates rules and counts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import msgspec
import numpy as np
import pyarrow as pa

from maumeter.core.events import Event

TS = pa.timestamp("us", tz="UTC")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)

BATCH_SCHEMA = pa.schema(
    [
        ("rownum", pa.int64()),
        ("type", pa.string()),
        ("message_id", pa.string()),
        ("user_id", pa.string()),
        ("anonymous_id", pa.string()),
        ("previous_id", pa.string()),
        ("event", pa.string()),
        ("name", pa.string()),
        ("timestamp", TS),
        ("sent_at", TS),
        ("received_at", TS),
        ("billing_time", TS),
        ("properties", pa.string()),
        ("traits", pa.string()),
        ("context", pa.string()),
        ("extra", pa.string()),
    ]
)


_encode = msgspec.json.Encoder().encode


def dumps(value: dict[str, Any]) -> str | None:
    """Nested objects are stored as JSON text; an empty object is stored as NULL.

    msgspec writes the same compact JSON as ``json.dumps`` an order of magnitude faster (this
    runs for every object of every event); what it cannot encode (integers past 64 bits,
    non-string keys) goes through ``json.dumps``."""
    if not value:
        return None
    try:
        return _encode(value).decode("utf-8")
    except (TypeError, OverflowError, msgspec.EncodeError):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def batch_from_events(
    events: Sequence[Event],
    rownums: Sequence[int],
    received_at: datetime,
    billing_times: Sequence[datetime] | None = None,
) -> pa.Table:
    """A batch from validated events; billing time is ``received_at`` unless given per event."""
    n = len(events)
    received = pa.array(np.full(n, micros(received_at), dtype=np.int64), TS)
    columns: dict[str, Any] = {
        "rownum": list(rownums),
        "type": [e.type for e in events],
        "message_id": [e.message_id for e in events],
        "user_id": [e.user_id for e in events],
        "anonymous_id": [e.anonymous_id for e in events],
        "previous_id": [e.previous_id for e in events],
        "event": [e.event for e in events],
        "name": [e.name for e in events],
        "timestamp": _timestamps([e.timestamp for e in events]),
        "sent_at": _timestamps([e.sent_at for e in events]),
        "received_at": received,
        "billing_time": received if billing_times is None else _timestamps(billing_times),
        "properties": [dumps(e.properties) for e in events],
        "traits": [dumps(e.traits) for e in events],
        "context": [dumps(e.context) for e in events],
        "extra": [dumps(e.extra) for e in events],
    }
    return pa.Table.from_pydict(columns, schema=BATCH_SCHEMA)


def micros(instant: datetime) -> int:
    """Microseconds since the epoch, exactly; a naive time is taken as UTC (as Arrow does).
    Building timestamps from these is several times faster than handing Arrow datetimes."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return (instant - EPOCH) // MICROSECOND


def _timestamps(values: Sequence[datetime | None]) -> pa.Array:
    return pa.array([None if v is None else micros(v) for v in values], TS)


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> Iterator[None]:
    """An Arrow table visible to SQL on ``con`` as ``name`` for the duration of the block."""
    con.register(name, table)
    try:
        yield
    finally:
        con.unregister(name)
