"""Bulk import, vectorised in DuckDB: JSONL and Parquet files to columnar batches.

The core's per-record validator is the definition of a valid record; running it on ten
million records costs minutes. Here DuckDB reads the file and checks every record against a
*conservative* SQL test: a record that passes is certainly valid and its columns are already
normalised; anything else (a missing messageId, an odd timestamp, a blank-looking id, not an
object…) is handed to the core, which rejects it with its usual messages or normalises it. So
error messages have one source, and the fast path only ever skips work, never judgement. A
property test holds both paths equal on hostile input.

Each record becomes the Segment JSON object ``j`` first (JSONL lines are that already; Parquet
columns are nested by their dotted names, empty strings and nulls dropped, exactly as
:func:`maumeter.sources.nest` does), so one SQL test serves every format.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from maumeter.core.events import EVENT_TYPES, KNOWN_KEYS, MAX_ID_LENGTH, MAX_MESSAGE_ID_LENGTH
from maumeter.core.events import MAX_NAME_LENGTH as MAX_TEXT
from maumeter.store.batch import BATCH_SCHEMA, registered

FIELDS = (
    "type", "userId", "anonymousId", "previousId", "event", "name", "messageId", "timestamp",
    "sentAt", "properties", "traits", "context",
)  # fmt: skip
# ISO-8601 forms that Python's ``datetime.fromisoformat`` and DuckDB's cast read identically.
ISO = (
    r"(1\d{3}|[2-8]\d{3})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?"
    r"(Z|[+-]([01]\d|2[0-3]):[0-5]\d)"
)
UNSUPPORTED = "fast import supports JSONL and flat Parquet"


class Unsupported(Exception):
    """This file needs the per-record path (malformed JSON lines, nested Parquet columns…)."""


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


SCALARS = ("type", "userId", "anonymousId", "previousId", "event", "name", "messageId", "timestamp",
           "sentAt")  # fmt: skip
OBJECTS = ("properties", "traits", "context")


# DuckDB's parser takes NaN and Infinity, JSON and the core do not: such lines go to the core.
JSONL_SOURCE = (
    "SELECT rownum, CASE WHEN json_valid(line) AND NOT contains(line, 'NaN') "
    "AND NOT contains(line, 'Infinity') THEN line::JSON END AS j FROM _chunk"
)


def _absent(name: str) -> str:
    return f"(t_{name} IS NULL OR t_{name} = 'NULL')"


def _printable_ends(name: str) -> str:
    """No blank or exotic whitespace at either end (ASCII printable first and last char):
    cheaper than a regex, and anything else is left to the core."""
    return f"(s_{name}[1] BETWEEN '!' AND '~' AND s_{name}[-1] BETWEEN '!' AND '~')"


def _id_ok(name: str, limit: int) -> str:
    """A JSON string id that is certainly valid, or an integer id."""
    return (
        f"(t_{name} IN ('BIGINT', 'UBIGINT') OR (t_{name} = 'VARCHAR' AND "
        f"strlen(s_{name}) BETWEEN 1 AND {limit} AND {_printable_ends(name)}))"
    )


def _text_ok(name: str) -> str:
    """Certainly not blank: its first character is printable ASCII."""
    return (
        f"(t_{name} = 'VARCHAR' AND strlen(s_{name}) <= {MAX_TEXT} "
        f"AND s_{name}[1] BETWEEN '!' AND '~')"
    )


def _time_ok(name: str) -> str:
    return (
        f"(t_{name} = 'VARCHAR' AND regexp_full_match(s_{name}, {_q(ISO)}) "
        f"AND TRY_CAST(s_{name} AS TIMESTAMPTZ) IS NOT NULL)"
    )


def _known_patch() -> str:
    return _q(json.dumps(dict.fromkeys(sorted(KNOWN_KEYS))))


def select_sql(source: str = JSONL_SOURCE) -> str:
    """Canonical columns, an ``ok`` flag and the raw record (for not-ok rows) from ``source``,
    a relation with one JSON column ``j``. Each field is parsed once (``t_`` its JSON type,
    ``s_`` its text), then only compared."""
    paths = ", ".join(_q(f"$.{name}") for name in FIELDS)
    typed = ", ".join(
        [f"json_type(v[{FIELDS.index(n) + 1}]) AS t_{n}" for n in FIELDS]
        + [f"v[{FIELDS.index(n) + 1}]->>'$' AS s_{n}" for n in SCALARS]
        + [f"v[{FIELDS.index(n) + 1}]::VARCHAR AS o_{n}" for n in OBJECTS]
    )
    known = ", ".join(_q(k) for k in sorted(KNOWN_KEYS))
    unknown = f"len(list_filter(json_keys(j), lambda k: k NOT IN ({known}))) > 0"
    extra = (
        f"CASE WHEN {unknown} THEN "
        f"nullif(json_merge_patch(j, {_known_patch()})::VARCHAR, '{{}}') END"
    )
    fields = f"""
        WITH parsed AS (
            SELECT rownum, j, json_type(j) AS t_j, json_extract(j, [{paths}]) AS v
            FROM ({source})
        ),
        fields AS (SELECT rownum, t_j, {typed}, {extra} AS extra FROM parsed)"""
    return checked_sql(fields, raw="NULL")


def checked_sql(fields: str, raw: str = "j") -> str:
    """The shared half: from a ``fields`` CTE (``j``, ``t_j``, ``t_``/``s_``/``o_`` per field and
    ``extra``), the ``ok`` test and the canonical columns."""
    ok = " AND ".join(
        [
            "t_j = 'OBJECT'",
            f"t_type = 'VARCHAR' AND s_type IN ({', '.join(_q(t) for t in EVENT_TYPES)})",
            f"({_absent('userId')} OR {_id_ok('userId', MAX_ID_LENGTH)})",
            f"({_absent('anonymousId')} OR {_id_ok('anonymousId', MAX_ID_LENGTH)})",
            f"(NOT {_absent('userId')} OR NOT {_absent('anonymousId')})",
            f"({_absent('previousId')} OR {_id_ok('previousId', MAX_ID_LENGTH)})",
            f"(s_type <> 'alias' OR (NOT {_absent('previousId')} AND NOT {_absent('userId')}))",
            f"({_absent('event')} OR {_text_ok('event')})",
            f"(s_type <> 'track' OR NOT {_absent('event')})",
            f"({_absent('name')} OR {_text_ok('name')})",
            _id_ok("messageId", MAX_MESSAGE_ID_LENGTH),
            _time_ok("timestamp"),
            f"({_absent('sentAt')} OR {_time_ok('sentAt')})",
            *(f"({_absent(k)} OR t_{k} = 'OBJECT')" for k in OBJECTS),
        ]
    )

    def text(name: str) -> str:
        return f"CASE WHEN {_absent(name)} THEN NULL ELSE s_{name} END"

    def obj(name: str) -> str:
        return f"CASE WHEN {_absent(name)} OR o_{name} = '{{}}' THEN NULL ELSE o_{name} END"

    return f"""{fields},
        checked AS (SELECT *, coalesce({ok}, false) AS ok FROM fields)
        SELECT rownum, ok,
            CASE WHEN ok THEN NULL ELSE {raw} END AS raw,
            CASE WHEN ok THEN s_type END AS type,
            CASE WHEN ok THEN s_messageId END AS message_id,
            CASE WHEN ok THEN {text("userId")} END AS user_id,
            CASE WHEN ok THEN {text("anonymousId")} END AS anonymous_id,
            CASE WHEN ok THEN {text("previousId")} END AS previous_id,
            CASE WHEN ok THEN {text("event")} END AS event,
            CASE WHEN ok THEN {text("name")} END AS name,
            CASE WHEN ok THEN TRY_CAST(s_timestamp AS TIMESTAMPTZ) END AS "timestamp",
            CASE WHEN ok THEN TRY_CAST({text("sentAt")} AS TIMESTAMPTZ) END AS sent_at,
            CASE WHEN ok THEN {obj("properties")} END AS properties,
            CASE WHEN ok THEN {obj("traits")} END AS traits,
            CASE WHEN ok THEN {obj("context")} END AS context,
            CASE WHEN ok THEN extra END AS extra
        FROM checked
    """


INTEGERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER",
            "UBIGINT")  # fmt: skip
ISO_OUT = "'%Y-%m-%dT%H:%M:%S.%fZ'"


def parquet_sql(schema: pa.Schema) -> str:
    """The checked canonical columns of a flat Parquet file, straight from its typed columns.

    Top-level Segment fields are read as they are; dotted columns are nested into JSON only for
    ``properties``/``traits``/``context`` (and any other prefix, into ``extra``); the whole record
    is built as JSON only for the rows the core must judge. Values follow
    :func:`maumeter.sources.nest`: empty strings and nulls are dropped.
    """
    probe = duckdb.connect()
    probe.register("_chunk", schema.empty_table())
    described = probe.execute("DESCRIBE SELECT * FROM _chunk").fetchall()
    probe.close()
    tree: dict[str, Any] = {}
    kinds: dict[str, str] = {}
    alias: dict[str, str] = {}
    for i, (name, kind, *_) in enumerate(described):
        if kind.startswith(("STRUCT", "MAP", "LIST", "UNION")) or kind.endswith("]"):
            raise Unsupported(f"{UNSUPPORTED}: column {name!r} is {kind}")
        if kind in ("FLOAT", "DOUBLE", "BLOB", "HUGEINT", "UHUGEINT") or kind.startswith("DECIMAL"):
            raise Unsupported(f"{UNSUPPORTED}: column {name!r} is {kind}")
        if name in OBJECTS:
            raise Unsupported(f"{UNSUPPORTED}: column {name!r} holds a whole object")
        ref = alias[name] = f"c_{i}"
        kinds[name] = kind
        value = f"nullif({ref}, '')" if kind == "VARCHAR" else ref
        if kind.startswith("TIMESTAMP"):
            value = f"strftime({ref}, {ISO_OUT})"
        node = tree
        parts = name.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise Unsupported(f"{UNSUPPORTED}: column {name!r} nests under a value")
        if isinstance(node.get(parts[-1]), dict):
            raise Unsupported(f"{UNSUPPORTED}: column {name!r} is also a prefix")
        node[parts[-1]] = value

    def build(node: dict[str, Any]) -> str:
        pairs = ", ".join(
            f"{_q(k)}, {build(v) if isinstance(v, dict) else v}" for k, v in node.items()
        )
        return f"nullif(json_merge_patch('{{}}', json_object({pairs})), '{{}}')"

    computed: list[str] = []  # columns of the source row
    derived: list[str] = []  # columns over those (the objects' JSON types)
    for n in SCALARS:
        kind, ref = kinds.get(n), alias.get(n)
        if kind is None or ref is None:
            computed += [f"NULL::VARCHAR AS t_{n}", f"NULL::VARCHAR AS s_{n}"]
        elif kind == "VARCHAR":
            computed += [
                f"CASE WHEN nullif({ref}, '') IS NULL THEN NULL ELSE 'VARCHAR' END AS t_{n}",
                f"nullif({ref}, '') AS s_{n}",
            ]
        elif kind in INTEGERS:
            computed += [
                f"CASE WHEN {ref} IS NULL THEN NULL ELSE 'BIGINT' END AS t_{n}",
                f"CAST({ref} AS VARCHAR) AS s_{n}",
            ]
        elif kind.startswith("TIMESTAMP"):
            computed += [
                f"CASE WHEN {ref} IS NULL THEN NULL ELSE 'VARCHAR' END AS t_{n}",
                f"strftime({ref}, {ISO_OUT}) AS s_{n}",
            ]
        else:  # a type no Segment field has: the core says what is wrong with it
            computed += [
                f"CASE WHEN {ref} IS NULL THEN NULL ELSE {_q(kind)} END AS t_{n}",
                f"CAST({ref} AS VARCHAR) AS s_{n}",
            ]
    for n in OBJECTS:
        sub = tree.get(n)
        if isinstance(sub, dict):
            computed.append(f"{build(sub)}::VARCHAR AS o_{n}")
            derived.append(f"CASE WHEN o_{n} IS NULL THEN NULL ELSE 'OBJECT' END AS t_{n}")
        else:
            computed.append(f"NULL::VARCHAR AS o_{n}")
            derived.append(f"NULL::VARCHAR AS t_{n}")
    others = {
        k: v for k, v in tree.items() if k not in (*SCALARS, *OBJECTS) and k not in KNOWN_KEYS
    }
    computed.append(f"{build(others)}::VARCHAR AS extra" if others else "NULL::VARCHAR AS extra")
    renamed = ", ".join(f'"{n.replace(chr(34), chr(34) * 2)}" AS {a}' for n, a in alias.items())
    source = f"SELECT _rownum AS rownum, {renamed} FROM _chunk"
    fields = f"""
        WITH source AS ({source}),
        typed AS (SELECT *, 'OBJECT' AS t_j, {", ".join(computed)} FROM source),
        fields AS (SELECT *, {", ".join(derived)} FROM typed)"""
    raw = f"coalesce({build(tree)}, '{{}}')::VARCHAR"
    return checked_sql(fields, raw)


def _jsonl_chunks(path: Path, chunk: int) -> Iterator[tuple[pa.Table, list[tuple[bytes, int]]]]:
    """Blocks of non-blank lines (with their 1-based line numbers), numbered in file order as
    the per-record reader numbers them; a line that is not UTF-8 goes on as NULL."""
    offset = 0
    number = 0
    with path.open("rb") as handle:
        while True:
            block = handle.readlines(chunk * 256)
            if not block:
                return
            kept = [(line, number + i + 1) for i, line in enumerate(block) if line.strip()]
            number += len(block)
            if not kept:
                continue
            lines = [line for line, _ in kept]
            binary = pa.array(lines, pa.binary())
            try:
                text = binary.cast(pa.string())
            except pa.ArrowInvalid:
                text = pa.array([_utf8(line) for line in lines], pa.string())
            rownum = pa.array(range(offset, offset + len(lines)), pa.int64())
            table = pa.table({"rownum": rownum, "line": text})
            yield pa.Table.from_batches(table.to_batches(max_chunksize=SCAN_BATCH)), kept
            offset += len(lines)


def _utf8(line: bytes) -> str | None:
    try:
        return line.decode()
    except UnicodeDecodeError:
        return None


SCAN_BATCH = 1 << 16  # DuckDB scans an Arrow table in parallel, one record batch per task


def _parquet_chunks(path: Path, chunk: int) -> Iterator[pa.Table]:
    """Tables of about ``chunk`` rows in file order, made of small record batches."""
    offset = 0
    pending: list[pa.RecordBatch] = []
    size = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=SCAN_BATCH):
        pending.append(batch)
        size += batch.num_rows
        if size >= chunk:
            yield _numbered(pending, offset)
            offset += size
            pending, size = [], 0
    if pending:
        yield _numbered(pending, offset)


def _numbered(batches: list[pa.RecordBatch], offset: int) -> pa.Table:
    table = pa.Table.from_batches(batches)
    rownum = pa.array(range(offset, offset + table.num_rows), pa.int64())
    return table.append_column("_rownum", rownum)


def checker(memory_limit: str = "256MB") -> duckdb.DuckDBPyConnection:
    """A private in-memory DuckDB for checking blocks, apart from the store's buffer pool.

    (Measured: one checker thread, leaving the other core to the writer, was slower than
    letting both threads check and re-sorting the rare out-of-order block.)"""
    con = duckdb.connect(config={"memory_limit": memory_limit})
    con.execute("SET enable_progress_bar = false")
    return con


def read_batches(
    con: duckdb.DuckDBPyConnection, path: Path, chunk: int
) -> Iterator[tuple[pa.Table, list[tuple[int, Any]]]]:
    """Chunks of (certainly valid rows as a partial batch, [(index, raw record)] of the others),
    in file order; indices count records as the per-record reader does.

    Python reads the file in order (pyarrow row groups, or blocks of lines) and DuckDB checks
    each block, so order and numbering never depend on DuckDB's parallel scans.
    """
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        sql = select_sql()
        for table, kept in _jsonl_chunks(path, chunk):
            first = table["rownum"][0].as_py()
            yield _split(_check(con, sql, table), lambda i, kept=kept, first=first: kept[i - first])
        return
    if suffix != ".parquet":
        raise Unsupported(f"{UNSUPPORTED}, not {suffix}")
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError) as exc:
        raise Unsupported(f"{UNSUPPORTED}: {exc}") from None
    sql = parquet_sql(schema)
    for table in _parquet_chunks(path, chunk):
        yield _split(_check(con, sql, table), None)


def _check(con: duckdb.DuckDBPyConnection, sql: str, table: pa.Table) -> pa.Table:
    with registered(con, "_chunk", table):
        # Wrapped in a subquery: DuckDB plans the bare CTE chain ~3x slower (materialising).
        checked = con.sql(f"SELECT * FROM ({sql})").to_arrow_table()
    rownum = checked.column("rownum").to_numpy()
    if len(rownum) > 1 and not (np.diff(rownum) > 0).all():  # parallel scans may reorder
        checked = checked.take(pa.array(np.argsort(rownum, kind="stable")))
    return checked


def _split(checked: pa.Table, raw_of: Any) -> tuple[pa.Table, list[tuple[int, Any]]]:
    """The certainly valid rows, and (index, raw) of the others: raw is the record's JSON text,
    or for JSONL the original (line bytes, line number)."""
    ok = checked.column("ok")
    doubtful = checked.filter(pc.invert(ok)).select(["rownum", "raw"]).to_pylist()
    if raw_of is None:
        slow = [(row["rownum"], row["raw"]) for row in doubtful]
    else:
        slow = [(row["rownum"], raw_of(row["rownum"])) for row in doubtful]
    return checked.filter(ok), slow


def to_batch(good: pa.Table, received_at: datetime) -> pa.Table:
    """Fill in the times: history is billed at its own timestamp."""
    n = good.num_rows
    ts = pc.cast(good.column("timestamp"), BATCH_SCHEMA.field("timestamp").type)
    columns = {
        "rownum": good.column("rownum"),
        **{
            name: good.column(name)
            for name in BATCH_SCHEMA.names
            if name in good.column_names and name not in ("rownum", "timestamp", "sent_at")
        },
        "timestamp": ts,
        "sent_at": pc.cast(good.column("sent_at"), BATCH_SCHEMA.field("sent_at").type),
        "received_at": pa.array([received_at] * n, BATCH_SCHEMA.field("received_at").type),
        "billing_time": ts,
    }
    return pa.table({name: columns[name] for name in BATCH_SCHEMA.names}, schema=BATCH_SCHEMA)
