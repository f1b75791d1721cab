"""The write-ahead journal: where a write group becomes durable, in one append and one fsync.

A DuckDB commit costs a few milliseconds of fixed work per group (a transaction, a statement per
table, its own log), and large inserts cost a third of small ones per row. So the hot write
groups (ingest batches, admissions) are made durable here instead: the rows each group adds to
the store's tables go into one *frame* appended to a segment file and synced with ``fdatasync``
before any caller is answered. :mod:`maumeter.store.fold` then inserts frames into DuckDB in
large transactions off the request path, and replays them on start after a crash.

A frame is ``header | payload``: the header holds a magic number, the frame's log sequence
number (LSN, increasing by one per frame), the payload's length and its CRC-32; the payload is
MessagePack of ``[(table, Arrow IPC stream), ...]``. A frame whose header or checksum does not
hold is a torn write by a crash: it and everything after it were never acknowledged.

Segments are files ``<lsn of the first frame>.seg`` in the journal directory; a new one is
started once the current one passes :data:`SEGMENT_BYTES`, and whole segments are deleted once
everything in them is folded.
"""

from __future__ import annotations

import contextlib
import os
import struct
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec
import pyarrow as pa

from maumeter.core.errors import StoreUnavailable

MAGIC = b"MMJ1"
HEADER = struct.Struct("<4sQII")  # magic, lsn, payload length, crc32 of the payload
SEGMENT_BYTES = 64 * 1024 * 1024
SUFFIX = ".seg"

Rows = list[tuple[str, pa.Table]]
"""A frame's content: rows to add to each table, in the order they are to be inserted."""

_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(list[tuple[str, bytes]]).decode


class JournalError(StoreUnavailable):
    """The journal could not be written (the group it held is not durable)."""


def directory_of(store: Path) -> Path:
    """Where the journal of a store file lives: next to it, ``<name>.journal``."""
    return store.with_name(store.name + ".journal")


def encode_frame(lsn: int, rows: Rows) -> bytes:
    parts = []
    for table, data in rows:
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, data.schema) as writer:
            writer.write_table(data)
        parts.append((table, sink.getvalue().to_pybytes()))
    payload = _encode(parts)
    return HEADER.pack(MAGIC, lsn, len(payload), zlib.crc32(payload)) + payload


def decode_rows(payload: bytes) -> Rows:
    rows: Rows = []
    for table, data in _decode(payload):
        with pa.ipc.open_stream(pa.py_buffer(data)) as reader:
            rows.append((table, reader.read_all()))
    return rows


@dataclass(frozen=True, slots=True)
class Frame:
    lsn: int
    rows: Rows


def segments(directory: Path) -> list[Path]:
    """The segment files, oldest first."""
    if not directory.is_dir():
        return []
    return sorted(
        (p for p in directory.iterdir() if p.suffix == SUFFIX and p.stem.isdigit()),
        key=lambda p: int(p.stem),
    )


def read_frames(directory: Path) -> Iterator[Frame]:
    """Every whole frame in the journal, in LSN order; stops at the first torn one."""
    expected: int | None = None
    for path in segments(directory):
        data = path.read_bytes()
        offset = 0
        while offset + HEADER.size <= len(data):
            magic, lsn, length, crc = HEADER.unpack_from(data, offset)
            start = offset + HEADER.size
            payload = data[start : start + length]
            if (
                magic != MAGIC
                or len(payload) != length
                or zlib.crc32(payload) != crc
                or (expected is not None and lsn != expected)
            ):
                return  # a torn tail: never acknowledged
            yield Frame(lsn, decode_rows(payload))
            expected = lsn + 1
            offset = start + length
        if offset != len(data):
            return


class Journal:
    """The appending side, used by the writer thread only (deletion by the fold thread)."""

    def __init__(self, directory: Path, next_lsn: int, durable: bool = True) -> None:
        self.directory = directory
        self.next_lsn = next_lsn
        self._durable = durable  # False for an in-memory store: nothing survives it anyway
        directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._closed: list[tuple[Path, int]] = []  # full segments and the last LSN in each
        self._fd = -1
        self._path: Path | None = None
        self._size = 0

    def append(self, rows: Rows) -> int:
        """Write one frame and sync it; returns its LSN. On failure nothing of it remains."""
        lsn = self.next_lsn
        frame = encode_frame(lsn, rows)
        if self._fd < 0 or self._size >= SEGMENT_BYTES:
            self._start_segment(lsn)
        try:
            view, at = memoryview(frame), self._size
            while view:  # at explicit offsets: a failed frame is overwritten, never skipped
                written = os.pwrite(self._fd, view, at)
                view, at = view[written:], at + written
            if self._durable:
                os.fdatasync(self._fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._size)
            raise JournalError(f"cannot write the journal in {self.directory}: {exc}") from exc
        self._size += len(frame)
        self.next_lsn = lsn + 1
        return lsn

    def _start_segment(self, lsn: int) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            assert self._path is not None
            with self._lock:
                self._closed.append((self._path, lsn - 1))
        path = self.directory / f"{lsn:020d}{SUFFIX}"
        try:
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            if self._durable:
                _sync_directory(self.directory)  # the new file's name survives a power cut
        except OSError as exc:
            self._fd = -1
            raise JournalError(f"cannot write the journal in {self.directory}: {exc}") from exc
        self._path, self._size = path, 0

    def discard_through(self, lsn: int) -> None:
        """Delete the full segments whose frames are all folded (up to ``lsn``)."""
        with self._lock:
            done = [path for path, last in self._closed if last <= lsn]
            self._closed = [(path, last) for path, last in self._closed if last > lsn]
        for path in done:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def reset(self) -> None:
        """Everything is folded and nothing is being appended: start with no segment."""
        self.close()
        for path in segments(self.directory):
            path.unlink()

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        self._path = None
        with self._lock:
            self._closed.clear()


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
