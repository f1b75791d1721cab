"""Folding the journal into DuckDB: large transactions off the request path, and recovery.

The writer thread makes each hot group durable in the journal (:mod:`maumeter.store.journal`)
and hands its rows to the :class:`Folder`, a thread that inserts whatever has gathered into the
store's tables in one transaction every :data:`FOLD_SECONDS` or :data:`FOLD_ROWS` rows, and
records the last folded LSN in ``journal_state`` in that same transaction. The live counts are
in memory and current at once; the tables catch up within a fold. Whoever reads the tables
first calls :meth:`Folder.sync`, which folds at once what was acknowledged before the call and
waits for it: a read never misses an acknowledged event.

On start, :func:`recover` folds the frames a crash left behind (those past ``folded_lsn``; a
frame folded before the crash but not yet deleted is skipped), so the store is whole before its
state is loaded.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from maumeter.core.errors import StoreUnavailable
from maumeter.store.journal import Frame, Journal, Rows, read_frames, segments

# DuckDB writes an insert's full row groups (122,880 rows) straight into the file instead of
# its own log: a fold of that many events costs about half as much per row as a smaller one.
FOLD_ROWS = 131_072  # events gathered before a fold starts early
FOLD_SECONDS = 10.0  # the longest an acknowledged row waits before it is folded
# Past this many unfolded events the writer waits for the fold: memory stays bounded (about
# 130 MB of Arrow) when ingest outruns folding.
MAX_UNFOLDED = 2 * FOLD_ROWS
RETRY_SECONDS = 1.0
FOLD_NICE = 10  # folding runs at a lower priority than answering requests


class FoldError(StoreUnavailable):
    """The journal could not be folded into the store (reads would miss acknowledged rows)."""


class Writes:
    """The rows one write group adds, by table, in order: the content of its frame."""

    __slots__ = ("_unfolded", "rows")

    def __init__(self, unfolded: Folder | None = None) -> None:
        self.rows: Rows = []
        self._unfolded = unfolded

    def add(self, table: str, rows: pa.Table) -> None:
        if rows.num_rows:
            self.rows.append((table, rows))

    def stored_message_ids(self, org_id: int, wanted: pa.Array) -> set[str]:
        """Those of ``wanted`` already in this group or in frames not folded yet."""
        tables = [rows for table, rows in self.rows if table == "events"]
        if self._unfolded is not None:
            tables.extend(self._unfolded.unfolded_events())
        found: set[str] = set()
        for rows in tables:
            mine = rows.filter(pc.equal(rows.column("org_id"), org_id))
            hit = pc.is_in(mine.column("message_id"), value_set=wanted)
            found.update(mine.column("message_id").filter(hit).to_pylist())
        return found


def fold(con: duckdb.DuckDBPyConnection, frames: list[Frame]) -> None:
    """Insert the frames' rows (table by table, in one transaction) and record the last LSN."""
    by_table: dict[str, list[pa.Table]] = {}
    for frame in frames:
        for table, rows in frame.rows:
            by_table.setdefault(table, []).append(rows)
    con.execute("BEGIN TRANSACTION")
    try:
        for table, parts in by_table.items():
            _rows = pa.concat_tables(parts, promote_options="permissive")
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _rows")  # read by name
        con.execute("UPDATE journal_state SET folded_lsn = ?", [frames[-1].lsn])
        con.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise


def folded_lsn(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("SELECT folded_lsn FROM journal_state").fetchall()[0][0])


def recover(con: duckdb.DuckDBPyConnection, directory: Path) -> int:
    """Fold what a crash left in the journal, delete its segments; returns the next LSN."""
    done = folded_lsn(con)
    frames = [frame for frame in read_frames(directory) if frame.lsn > done]
    if frames:
        fold(con, frames)
        con.execute("CHECKPOINT")
        done = frames[-1].lsn
    for path in segments(directory):
        path.unlink()
    return done + 1


class Folder:
    """The thread folding acknowledged frames into the store's tables."""

    def __init__(self, con: duckdb.DuckDBPyConnection, journal: Journal) -> None:
        self._con = con
        self._journal = journal
        self._cond = threading.Condition()
        self._pending: list[tuple[Frame, float]] = []
        self._rows = 0
        self._appended = self._folded = self._wanted = journal.next_lsn - 1
        self._error: BaseException | None = None
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="maumeter-fold", daemon=True)
        self._thread.start()

    def add(self, lsn: int, rows: Rows) -> None:
        """A frame is durable in the journal: fold it soon."""
        count = sum(table.num_rows for name, table in rows if name == "events")
        with self._cond:
            self._pending.append((Frame(lsn, rows), time.monotonic()))
            self._appended = lsn
            self._rows += count
            if self._rows >= FOLD_ROWS:
                self._cond.notify_all()
            while self._rows > MAX_UNFOLDED and self._error is None:
                self._cond.wait(RETRY_SECONDS)  # back-pressure on the writer

    def unfolded_events(self) -> list[pa.Table]:
        with self._cond:
            frames = [frame for frame, _ in self._pending]
        return [rows for frame in frames for table, rows in frame.rows if table == "events"]

    def sync(self) -> None:
        """Return once every frame added before this call is in the tables."""
        with self._cond:
            target = self._appended
            if self._folded >= target:
                return
            self._wanted = max(self._wanted, target)
            self._cond.notify_all()
            while self._folded < target:
                if self._error is not None and not self._thread.is_alive():
                    raise FoldError(f"cannot fold the journal into the store: {self._error}")
                self._cond.wait(RETRY_SECONDS)
                if self._error is not None and self._folded < target:
                    raise FoldError(f"cannot fold the journal into the store: {self._error}")

    def use(self, con: duckdb.DuckDBPyConnection) -> None:
        """Fold through ``con`` from now on (the store file was swapped; call after sync)."""
        with self._cond:
            self._con = con

    def close(self) -> bool:
        """Fold what is left and stop; True when everything was folded."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join()
        return not self._pending

    def _due(self) -> float | None:
        """0 when a fold should start now, else how long until the oldest frame is due."""
        if not self._pending:
            return None
        if self._closing or self._rows >= FOLD_ROWS or self._wanted > self._folded:
            return 0.0
        return max(0.0, self._pending[0][1] + FOLD_SECONDS - time.monotonic())

    def _run(self) -> None:
        if sys.platform == "linux":  # a thread's own nice value: folds yield to requests
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), FOLD_NICE)
        while True:
            with self._cond:
                wait = self._due()
                while wait is None or wait > 0:
                    if self._closing and not self._pending:
                        return
                    self._cond.wait(wait)
                    wait = self._due()
                taken = [frame for frame, _ in self._pending]
                con = self._con
            try:
                fold(con, taken)
            except BaseException as exc:  # disk full, say: keep the frames, tell readers
                with self._cond:
                    self._error = exc
                    self._cond.notify_all()
                    if self._closing:
                        return
                time.sleep(RETRY_SECONDS)
                continue
            last = taken[-1].lsn
            with self._cond:
                del self._pending[: len(taken)]
                self._rows -= sum(
                    t.num_rows for frame in taken for name, t in frame.rows if name == "events"
                )
                self._folded = last
                self._error = None
                self._cond.notify_all()
            self._journal.discard_through(last)
