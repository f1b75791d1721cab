"""Reading Segment-shaped records from files: JSONL, JSON arrays, CSV and Parquet.

CSV and Parquet are flat: their columns are the Segment field names (``type``, ``userId``,
``anonymousId``, ``previousId``, ``event``, ``name``, ``timestamp``, ``messageId``…) and dotted
names for nested values (``properties.plan``, ``context.page.url``). Nested Parquet columns
(structs) and JSON-text columns for ``properties``/``traits``/``context`` are taken as they are.
Records come out in file order, in chunks, so a 10-million-event file never sits in memory whole.
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from maumeter.core import wire
from maumeter.core.errors import InvalidInput, Problem

FORMATS = (".jsonl", ".ndjson", ".json", ".csv", ".parquet")
CHUNK = 50_000

Record = dict[str, Any] | None  # None: a line that is not a JSON object (reported as such)


def read_records(path: Path, chunk: int = CHUNK) -> Iterator[list[Any]]:
    """Chunks of records of a file, in order; the format follows the file's extension."""
    if not path.exists():
        raise InvalidInput.field("FILE", f"{path} does not exist")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return _jsonl(path, chunk)
    if suffix == ".json":
        return _json_array(path, chunk)
    if suffix == ".csv":
        return _csv(path, chunk)
    if suffix == ".parquet":
        return _parquet(path, chunk)
    raise InvalidInput.field(
        "FILE", f"unsupported file type {suffix!r}; expected one of {', '.join(FORMATS)}"
    )


def count_rows(path: Path) -> int | None:
    """Rows in a file when cheap to know (for a progress bar), else None."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pq.ParquetFile(path).metadata.num_rows
    if suffix in (".jsonl", ".ndjson", ".csv"):
        with path.open("rb") as handle:
            lines = sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
        return lines - (1 if suffix == ".csv" else 0)
    return None


class NotJson:
    """A line that could not be parsed: kept in place so its index is reported."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem


def _jsonl(path: Path, chunk: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                batch.append(wire.loads(line))
            except (ValueError, UnicodeDecodeError) as exc:
                batch.append(NotJson(Problem("record", f"line {number} is not valid JSON: {exc}")))
            if len(batch) >= chunk:
                yield batch
                batch = []
    if batch:
        yield batch


def _json_array(path: Path, chunk: int) -> Iterator[list[Any]]:
    try:
        data = wire.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput.field("FILE", f"{path} is not valid JSON: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("batch"), list):
        data = data["batch"]
    if not isinstance(data, list):
        raise InvalidInput.field("FILE", f"{path}: expected a JSON array of events")
    for start in range(0, len(data), chunk):
        yield data[start : start + chunk]


def nest(flat: dict[str, Any]) -> dict[str, Any]:
    """``{"properties.plan": "pro"}`` → ``{"properties": {"plan": "pro"}}``; nulls are dropped."""
    record: dict[str, Any] = {}
    for key, value in flat.items():
        if value is None or value == "":
            continue
        if key in ("properties", "traits", "context", "integrations") and isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = wire.loads(value)
        parts = key.split(".")
        target = record
        for part in parts[:-1]:
            child = target.get(part)
            if not isinstance(child, dict):
                child = target[part] = {}
            target = child
        if isinstance(value, dict) and isinstance(target.get(parts[-1]), dict):
            target[parts[-1]].update(value)
        else:
            target[parts[-1]] = value
    return record


def _csv_value(key: str, text: str) -> Any:
    """CSV cells are text; nested values that look like JSON scalars are typed (true, 3, 1.5)."""
    if "." not in key or text == "":
        return text
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _csv(path: Path, chunk: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            batch.append(nest({k: _csv_value(k, v) for k, v in row.items() if k is not None}))
            if len(batch) >= chunk:
                yield batch
                batch = []
    if batch:
        yield batch


def _plain(value: Any) -> Any:
    """Parquet timestamps become ISO-8601 text, as the wire would carry them."""
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return text if getattr(value, "tzinfo", None) else text + "Z"
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _parquet(path: Path, chunk: int) -> Iterator[list[Any]]:
    handle = pq.ParquetFile(path)
    for batch in handle.iter_batches(batch_size=chunk):
        yield [nest({k: _plain(v) for k, v in row.items()}) for row in batch.to_pylist()]
