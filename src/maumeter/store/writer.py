"""One writer: a queue feeding one thread that group-commits (the Datasette pattern).

DuckDB allows one writing connection per file and rewards large transactions. Callers submit
jobs and block until the group holding their job is durable, so an acknowledgement always means
"durably stored". Jobs that arrive while a group is being written wait and go into the next one
together. Each job returns a post-commit step (updating live counts) that runs only once the
group is durable, in job order.

Two kinds of group. *Journaled* jobs (ingest batches and admissions) only decide and leave rows
for the end of the group; the ``seal`` hook writes those rows as one frame of the journal
(:mod:`maumeter.store.journal`), synced, and they reach DuckDB later in large folds. Every other
job runs in a DuckDB transaction of its own group, after ``drain`` has folded everything
journaled before it, so it sees (and may rewrite) all acknowledged rows.

If a group fails, it is rolled back, the in-memory state of the orgs it touched is reloaded from
the store (jobs mutate identity state as they run), and its jobs are retried one by one so one
bad job cannot fail its neighbours.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import duckdb

PostCommit = Callable[[], None]
Job = Callable[[duckdb.DuckDBPyConnection], tuple[Any, PostCommit | None]]

MAX_GROUP = 256


@dataclass(slots=True)
class _Item:
    job: Job
    orgs: tuple[int, ...]
    future: Future[Any]
    exclusive: bool = False
    journaled: bool = False


class Writer:
    """The single writing thread of a store."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        lock: threading.RLock,
        reload: Callable[[tuple[int, ...]], None],
        seal: Callable[[duckdb.DuckDBPyConnection, set[int]], list[PostCommit]],
        drain: Callable[[], None],
    ) -> None:
        self._con = con
        self._lock = lock
        self._reload = reload
        self._seal = seal
        self._drain = drain
        self._queue: queue.Queue[_Item | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="maumeter-writer", daemon=True)
        self._thread.start()

    def submit(self, job: Job, orgs: tuple[int, ...] = ()) -> Any:
        """Run ``job`` in a write transaction; returns its result once committed."""
        return self.submit_async(job, orgs).result()

    def submit_async(
        self, job: Job, orgs: tuple[int, ...] = (), journaled: bool = False
    ) -> Future[Any]:
        """Queue ``job``; the future resolves once its group is durable. A ``journaled`` job
        writes nothing through the connection: it leaves its rows to the group's seal."""
        if not self._thread.is_alive():
            raise RuntimeError("the store is closed")
        future: Future[Any] = Future()
        self._queue.put(_Item(job, orgs, future, journaled=journaled))
        return future

    def exclusive(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the writer thread between groups, with everything journaled folded and
        nothing else writing meanwhile (compaction swaps the store file, then :meth:`use`)."""
        if not self._thread.is_alive():
            raise RuntimeError("the store is closed")
        future: Future[Any] = Future()
        self._queue.put(_Item(lambda _: (fn(), None), (), future, exclusive=True))
        return future.result()

    def use(self, con: duckdb.DuckDBPyConnection) -> None:
        """Write through ``con`` from now on (called from an exclusive job)."""
        self._con = con

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def _run(self) -> None:
        held: _Item | None = None
        while True:
            item, held = (held, None) if held is not None else (self._queue.get(), None)
            if item is None:
                return
            if item.exclusive:
                self._run_exclusive(item)
                continue
            group = [item]
            stop = False
            while len(group) < MAX_GROUP:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                if more.exclusive or more.journaled != item.journaled:
                    held = more  # after this group: alone, or in a group of its kind
                    break
                group.append(more)
            try:
                if not self._commit(group) and len(group) > 1:
                    for single in group:
                        self._commit([single])
            except BaseException as exc:  # never leave a caller waiting on a dead thread
                for pending in group:
                    if not pending.future.done():
                        pending.future.set_exception(exc)
            if stop:
                return

    def _run_exclusive(self, item: _Item) -> None:
        try:
            self._drain()
            value, _ = item.job(None)  # type: ignore[arg-type]
        except BaseException as exc:
            item.future.set_exception(exc)
        else:
            item.future.set_result(value)

    def _commit(self, group: list[_Item]) -> bool:
        """Make a group durable (journal or transaction); on failure roll back, reload the
        orgs it touched, and report False."""
        con = self._con
        journaled = group[0].journaled
        results: list[tuple[_Item, Any, PostCommit | None]] = []
        failed: _Item | None = None
        error: BaseException | None = None
        if not journaled:
            try:
                self._drain()
            except BaseException as exc:
                for item in group:
                    item.future.set_exception(exc)
                return True  # answered: nothing to retry while the journal cannot fold
            con.execute("BEGIN TRANSACTION")
        for item in group:
            try:
                value, post = item.job(con)
            except BaseException as exc:  # a job's own error fails only that job, if alone
                failed, error = item, exc
                break
            results.append((item, value, post))
        extra: list[PostCommit] = []
        if failed is None:
            try:
                if journaled:
                    extra = self._seal(con, {o for item in group for o in item.orgs})
                else:
                    con.execute("COMMIT")
            except BaseException as exc:
                failed, error = group[0], exc
        if failed is not None:
            if not journaled:
                with contextlib.suppress(duckdb.Error):
                    con.execute("ROLLBACK")
            self._reload(tuple(sorted({org for item in group for org in item.orgs})))
            if len(group) == 1:
                failed.future.set_exception(error)  # type: ignore[arg-type]
            return False
        try:
            with self._lock:
                for _, _, post in results:
                    if post is not None:
                        post()
                for post in extra:
                    post()
        except BaseException:
            # Committed, but the live state missed an update: rebuild it from the store.
            self._reload(tuple(sorted({org for item in group for org in item.orgs})))
        for item, value, _ in results:
            item.future.set_result(value)
        return True
