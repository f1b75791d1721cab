"""The embedded store: one DuckDB file, one writer thread, many readers.

Nothing to install or start. The event log, orgs, projects and identities are tables; the live
counting state (roaring bitmaps) is derived, rebuilt from the log when the store opens and kept
current by each commit. Ingest and admissions are made durable in the write-ahead journal next
to the file (``<file>.journal``) and folded into the tables in large transactions; a reader
first waits for what was acknowledged before it (:meth:`DuckDBStore.cursor`). Readers use their
own DuckDB cursors (MVCC snapshots) and read the counting state under a short lock, so they
never block the writer for long.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from maumeter.core.activity import ActivityRule
from maumeter.core.admission import Decision
from maumeter.core.errors import AlreadyExists, Conflicting, NotFound, StoreUnavailable
from maumeter.core.events import STORED_TYPES, Event, parse_event
from maumeter.core.identity import IdentityGraph, IdKind
from maumeter.core.keys import MAX_ACTIVE, Key, KeyKind
from maumeter.core.months import Month, epoch_day
from maumeter.store import admission
from maumeter.store.counters import MauFigures, OrgCounts, roots_of
from maumeter.store.dedupe import HASH_SQL, DedupeIndex
from maumeter.store.fold import Folder, Writes, recover
from maumeter.store.ingest import BatchOutcome, OrgState, flush_appends
from maumeter.store.journal import Journal, directory_of
from maumeter.store.pending import Append
from maumeter.store.privacy import Pseudonyms, Secrets, check_pseudonyms, copy_fresh, swap_in
from maumeter.store.schema import migrate
from maumeter.store.writer import Job, Writer


@dataclass(frozen=True, slots=True)
class OrgInfo:
    id: int
    name: str
    timezone: str
    cap: int | None
    policy: str
    created_at: datetime
    secret_key: str | None = None  # the plain key: only on the value creation returns


@dataclass(frozen=True, slots=True)
class ProjectInfo:
    id: int
    org_id: int
    name: str
    activity: ActivityRule
    created_at: datetime
    write_key: str | None = None  # the plain key: only on the value creation returns


MEMORY_LIMIT = "256MB"
# DuckDB checkpoints (compresses the write-ahead log into the file) when the log passes this.
# Its default, 16 MB, is about 35,000 events: checkpointing eight times as much at once halves
# the writer's commit cost per event. A restart replays at most this much log.
CHECKPOINT_THRESHOLD = "128MB"


def usable_cpus() -> int:
    """The CPUs this process may run on. DuckDB sizes its thread pool by the machine's
    hardware threads, ignoring the affinity mask: pinned to one core (``taskset -c 0``), its
    second thread only adds a wake-up and a context switch to every statement."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


def quiet(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A connection that never draws DuckDB's progress bar on the user's terminal."""
    con.execute("SET enable_progress_bar = false")
    return con


def month_index(month: Month) -> int:
    return month.year * 12 + month.month - 1


def _lock_message(path: Path, error: duckdb.Error) -> str:
    text = str(error)
    pid = re.search(r"PID (\d+)", text)
    holder = f"process {pid.group(1)}" if pid else "another process"
    return (
        f"the store {path} is in use by {holder} (a DuckDB file has one owner at a time); "
        "stop that process (for example a running `maumeter serve`), or point --db / "
        "MAUMETER_DB at another file"
    )


class DuckDBStore:
    """The default store. Open it with :meth:`open`; close it to release the file."""

    secrets = Secrets()  # privacy settings (store.privacy); open() sets them
    pseudonyms = Pseudonyms(None)
    _memory_limit = MEMORY_LIMIT
    _generation = 0  # bumped when compaction swaps the file: readers reconnect

    def __init__(self, path: Path, con: duckdb.DuckDBPyConnection, journal: Journal) -> None:
        self.path = path
        self._db = con
        self._journal = journal
        self._lock = threading.RLock()
        self._local = threading.local()
        self._orgs: dict[str, OrgInfo] = {}
        self._org_ids: dict[int, OrgInfo] = {}
        self._projects: dict[int, ProjectInfo] = {}
        self._keys: dict[int, Key] = {}
        self._by_digest: dict[str, Key] = {}
        self._states: dict[int, OrgState] = {}
        self._plans: dict[int, str] = {}  # org id -> its plan as JSON (orgs with one set)
        # Closed months' frozen MAU per org: statements are immutable once written, so this is
        # dropped only when a write job touches the org (a close), guarded by a write count.
        self._closed: dict[int, dict[int, int]] = {}
        self._writes = 0
        self._next_seq = 0
        self._load()
        self._folder = Folder(quiet(con.cursor()), journal)
        self._writer = Writer(
            quiet(con.cursor()), self._lock, self._reload, self._seal, self._folder.sync
        )

    @classmethod
    def open(
        cls, path: str | Path, memory_limit: str = MEMORY_LIMIT, secrets: Secrets | None = None
    ) -> DuckDBStore:
        """Open or create the store; DuckDB's own buffers are capped at ``memory_limit`` (it
        spills to disk past it) so the process stays predictable next to the counting state."""
        target = Path(path)
        if target.parent and not target.parent.exists():
            raise StoreUnavailable(
                f"cannot create the store {target}: {target.parent} does not exist"
            )
        try:
            con = duckdb.connect(
                str(target),
                config={
                    "memory_limit": memory_limit,
                    "checkpoint_threshold": CHECKPOINT_THRESHOLD,
                    "threads": usable_cpus(),
                },
            )
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise StoreUnavailable(_lock_message(target, exc)) from None
            raise StoreUnavailable(f"cannot open the store {target}: {exc}") from None
        except duckdb.Error as exc:
            raise StoreUnavailable(f"cannot open the store {target}: {exc}") from None
        quiet(con)
        in_memory = str(path) == ":memory:"
        journal_dir = directory_of(target)
        if in_memory:  # nothing to recover: a scratch directory, removed on close
            journal_dir = Path(tempfile.mkdtemp(prefix="maumeter-journal-"))
        try:
            migrate(con)
            check_pseudonyms(con, (secrets or Secrets()).pseudonymize, target)
            next_lsn = recover(con, journal_dir)
            journal = Journal(journal_dir, next_lsn, durable=not in_memory)
        except duckdb.Error as exc:
            con.close()
            raise StoreUnavailable(f"{target} is not a maumeter store: {exc}") from None
        except OSError as exc:
            con.close()
            raise StoreUnavailable(f"cannot open the journal {journal_dir}: {exc}") from None
        except StoreUnavailable:
            con.close()
            raise
        store = cls(target, con, journal)
        store._journal_is_temporary = in_memory
        store.secrets = secrets or Secrets()
        store.pseudonyms = Pseudonyms(store.secrets.pseudonymize)
        store._memory_limit = memory_limit
        return store

    _journal_is_temporary = False

    def close(self) -> None:
        self._writer.close()
        folded = self._folder.close()
        self._journal.close()
        if folded:  # else the segments stay for the next open to fold
            self._journal.reset()
            if self._journal_is_temporary:
                shutil.rmtree(self._journal.directory, ignore_errors=True)
        with contextlib.suppress(duckdb.Error):
            self._db.execute("CHECKPOINT")
        self._db.close()

    # ---- loading ---------------------------------------------------------------------------

    def _load(self) -> None:
        con = self._db
        for row in con.execute(
            "SELECT id, name, timezone, cap, policy, created_at FROM orgs"
        ).fetchall():
            info = self._orgs[row[1]] = OrgInfo(*row)
            self._org_ids[info.id] = info
        for row in con.execute(
            "SELECT id, org_id, name, activity, created_at FROM projects"
        ).fetchall():
            self._projects[row[0]] = _project(row)
        for row in con.execute(
            "SELECT id, kind, org_id, project_id, digest, hint, created_at, revoked_at FROM keys"
        ).fetchall():
            self._remember_key(Key(*row))
        self._plans = dict(con.execute("SELECT org_id, plan FROM plans").fetchall())
        self._next_seq = con.execute("SELECT coalesce(max(seq) + 1, 0) FROM events").fetchall()[0][
            0
        ]
        for org in self._orgs.values():
            self._states[org.id] = self._build_state(con, org)

    def _reload(self, org_ids: tuple[int, ...]) -> None:
        """After a failed group: rebuild the touched orgs' state from what is stored (every
        acknowledged frame folded first)."""
        self._folder.sync()
        con = self._db.cursor()
        with self._lock:
            self._next_seq = con.execute("SELECT coalesce(max(seq) + 1, 0) FROM events").fetchall()[
                0
            ][0]
            for org in self._orgs.values():
                if org.id in org_ids:
                    self._states[org.id] = self._build_state(con, org)

    def _build_state(self, con: duckdb.DuckDBPyConnection, org: OrgInfo) -> OrgState:
        """Replay identities, the dedupe index and the live counts of one org from the store."""
        graph = load_graph(con, org.id)
        hashes = con.execute(
            f"SELECT {HASH_SQL} AS h FROM events WHERE org_id = ?", [org.id]
        ).fetchnumpy()["h"]
        counts = OrgCounts(graph)
        counts.add_ids(0)
        rules = {p.id: p.activity for p in self._projects.values() if p.org_id == org.id}
        state = OrgState(org.id, org.timezone, graph, counts, DedupeIndex(hashes), rules)
        rebuild_counts(con, state)
        for month, kind, value in con.execute(
            "SELECT DISTINCT month, kind, value FROM admission_refusals WHERE org_id = ?", [org.id]
        ).fetchall():
            state.refused.setdefault(month, set()).add((kind, value))
        return state

    def write(self, job: Job, orgs: tuple[int, ...] = ()) -> Any:
        """Run ``job(con) -> (result, post_commit | None)`` in the single writer's transaction
        and return its result once durably committed. ``orgs``: the orgs whose in-memory
        state the job touches (reloaded from the store if the transaction fails). Billing
        modules keep their SQL in their own store modules and write through here."""
        try:
            return self._writer.submit(job, orgs)
        finally:
            self._writes += 1
            for org_id in orgs:
                self._closed.pop(org_id, None)

    # ---- metadata --------------------------------------------------------------------------

    def create_org(
        self,
        name: str,
        timezone: str,
        cap: int | None,
        policy: str,
        now: datetime,
        secret: tuple[str, str] | None = None,
    ) -> OrgInfo:
        """Create an org, with its first secret key when ``secret`` (digest, hint) is given."""

        def job(con: duckdb.DuckDBPyConnection) -> tuple[OrgInfo, Any]:
            if name in self._orgs:
                raise AlreadyExists(f"org {name!r} already exists")
            org_id = con.execute("SELECT coalesce(max(id) + 1, 1) FROM orgs").fetchall()[0][0]
            con.execute(
                "INSERT INTO orgs VALUES (?, ?, ?, ?, ?, ?)",
                [org_id, name, timezone, cap, policy, now],
            )
            info = OrgInfo(org_id, name, timezone, cap, policy, now)
            key = self._insert_key(con, "secret", org_id, None, secret, now) if secret else None

            def post() -> None:
                self._orgs[name] = info
                self._org_ids[org_id] = info
                if key is not None:
                    self._remember_key(key)
                graph = IdentityGraph()
                self._states[org_id] = OrgState(
                    org_id, timezone, graph, OrgCounts(graph), DedupeIndex()
                )

            return info, post

        return self._writer.submit(job)

    def create_project(
        self, org: str, name: str, rule: ActivityRule, write: tuple[str, str], now: datetime
    ) -> ProjectInfo:
        """Create a project with its first write key, ``write`` = (digest, hint)."""
        info_org = self.org(org)
        rule = self.pseudonyms.rule(info_org.id, rule)

        def job(con: duckdb.DuckDBPyConnection) -> tuple[ProjectInfo, Any]:
            if any(p.org_id == info_org.id and p.name == name for p in self._projects.values()):
                raise AlreadyExists(f"project {name!r} already exists in org {org!r}")
            project_id = con.execute("SELECT coalesce(max(id) + 1, 1) FROM projects").fetchall()[0][
                0
            ]
            con.execute(
                "INSERT INTO projects VALUES (?, ?, ?, ?, ?)",
                [project_id, info_org.id, name, json.dumps(rule.to_json()), now],
            )
            info = ProjectInfo(project_id, info_org.id, name, rule, now)
            key = self._insert_key(con, "write", info_org.id, project_id, write, now)

            def post() -> None:
                self._projects[project_id] = info
                self._remember_key(key)
                self._states[info_org.id].rules[project_id] = rule

            return info, post

        return self._writer.submit(job, (info_org.id,))

    def org(self, name: str) -> OrgInfo:
        found = self._orgs.get(name)
        if found is None:
            raise NotFound(f"no org named {name!r}")
        return found

    def orgs(self) -> list[OrgInfo]:
        return sorted(self._orgs.values(), key=lambda o: o.id)

    def projects(self, org: str) -> list[ProjectInfo]:
        org_id = self.org(org).id
        return sorted(
            (p for p in self._projects.values() if p.org_id == org_id), key=lambda p: p.id
        )

    def project(self, org: str, name: str) -> ProjectInfo:
        for p in self.projects(org):
            if p.name == name:
                return p
        raise NotFound(f"no project named {name!r} in org {org!r}")

    def project_by_id(self, project_id: int) -> ProjectInfo:
        return self._projects[project_id]

    def org_by_id(self, org_id: int) -> OrgInfo:
        """Every admission and secret-key request asks this: a dict, not a scan."""
        found = self._org_ids.get(org_id)
        if found is None:
            raise NotFound(f"no org with id {org_id}")
        return found

    # ---- keys ------------------------------------------------------------------------------

    def key_by_digest(self, digest: str) -> Key | None:
        """An active key by its digest (every request asks this: a dict, not a scan)."""
        return self._by_digest.get(digest)

    def keys(self, org_id: int | None) -> list[Key]:
        """The keys of an org (``None``: the operator's admin tokens), revoked ones included."""
        return sorted((k for k in self._keys.values() if k.org_id == org_id), key=lambda k: k.id)

    def create_key(
        self,
        kind: KeyKind,
        org_id: int | None,
        project_id: int | None,
        secret: tuple[str, str],
        now: datetime,
    ) -> Key:
        """Add a key; at most two active per project (write) or org (secret)."""

        def job(con: duckdb.DuckDBPyConnection) -> tuple[Key, Any]:
            if kind != "admin":
                active = [
                    k
                    for k in self._keys.values()
                    if k.active
                    and k.kind == kind
                    and k.org_id == org_id
                    and k.project_id == project_id
                ]
                if len(active) >= MAX_ACTIVE:
                    raise Conflicting(
                        f"{kind} keys: {MAX_ACTIVE} are active already; revoke one "
                        f"(ids {', '.join(str(k.id) for k in active)}) before creating another"
                    )
            key = self._insert_key(con, kind, org_id, project_id, secret, now)
            return key, lambda: self._remember_key(key)

        return self._writer.submit(job)

    def revoke_key(self, key_id: int, now: datetime) -> Key:
        found = self._keys.get(key_id)
        if found is None:
            raise NotFound(f"no key with id {key_id}")

        def job(con: duckdb.DuckDBPyConnection) -> tuple[Key, Any]:
            current = self._keys[key_id]
            if not current.active:
                return current, None
            con.execute("UPDATE keys SET revoked_at = ? WHERE id = ?", [now, key_id])
            revoked = replace(current, revoked_at=now)
            return revoked, lambda: self._remember_key(revoked)

        return self._writer.submit(job)

    def _insert_key(
        self,
        con: duckdb.DuckDBPyConnection,
        kind: KeyKind,
        org_id: int | None,
        project_id: int | None,
        secret: tuple[str, str],
        now: datetime,
    ) -> Key:
        digest, hint = secret
        key_id = con.execute("SELECT coalesce(max(id) + 1, 1) FROM keys").fetchall()[0][0]
        con.execute(
            "INSERT INTO keys VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
            [key_id, kind, org_id, project_id, digest, hint, now],
        )
        return Key(key_id, kind, org_id, project_id, digest, hint, now)

    def _remember_key(self, key: Key) -> None:
        self._keys[key.id] = key
        if key.active:
            self._by_digest[key.digest] = key
        else:
            self._by_digest.pop(key.digest, None)

    # ---- writes ----------------------------------------------------------------------------

    def append(self, project: ProjectInfo, batch: pa.Table) -> BatchOutcome:
        """Commit a batch of one project durably; returns what was accepted and duplicated."""
        return self.append_async(project, batch).result()

    def append_async(self, project: ProjectInfo, batch: pa.Table) -> Future[BatchOutcome]:
        """Queue a batch; the future resolves once it is durably committed (a bulk import
        prepares its next chunk meanwhile)."""

        slot = Append(self.pseudonyms.batch(project.org_id, batch))

        def job(con: duckdb.DuckDBPyConnection) -> tuple[Append, Any]:
            state = self._states[project.org_id]  # looked up now: a failed group reloads it
            state.pending.appends.setdefault(project.id, []).append(slot)
            return slot, None  # written with the group's other batches, before its commit

        done: Future[BatchOutcome] = Future()

        def resolve(written: Future[Any]) -> None:
            error = written.exception()
            if error is not None:
                done.set_exception(error)
            else:
                found = written.result()
                done.set_result(BatchOutcome(found.accepted, found.duplicate_rows, 0, 0, 0))

        self._writer.submit_async(job, (project.org_id,), journaled=True).add_done_callback(resolve)
        return done

    def admit_async(
        self,
        org: OrgInfo,
        project: ProjectInfo,
        event: Event,
        received: datetime,
        month: Month,
        cap: int | None = None,
    ) -> Future[Decision]:
        """Decide atomically whether a person may be served; admitted ones are counted and
        their ``admit`` event committed when the future resolves. ``cap``: the month's
        effective cap (allotment plus rollover); the org's plain cap when not given."""

        event = self.pseudonyms.event(org.id, event)

        def job(con: duckdb.DuckDBPyConnection) -> tuple[Decision, Any]:
            state = self._states[org.id]
            current = self._orgs[org.name]  # cap and policy as of now
            decision = admission.admit(
                state,
                project.id,
                event,
                received,
                month_index(month),
                current.policy,
                current.cap if cap is None else cap,
            )
            return decision, None

        return self._writer.submit_async(job, (org.id,), journaled=True)

    def _seal(self, con: duckdb.DuckDBPyConnection, orgs: set[int]) -> list[Any]:
        """Make a journaled group durable: its batches (merged per project), then the
        admissions its jobs decided, for the orgs its jobs touched, as one journal frame."""
        writes = Writes(self._folder)
        posts: list[Any] = []
        next_seq = self._next_seq
        for org_id in sorted(orgs):
            state = self._states[org_id]
            pending = state.pending
            if not pending.appends and not pending.events and not pending.refusals:
                continue
            for flush in (flush_appends, admission.flush):
                written, steps = flush(con, writes, state, next_seq)
                next_seq += written
                posts.extend(steps)
            posts.append(pending.clear)
        if writes.rows:
            lsn = self._journal.append(writes.rows)  # durable from here on
            self._folder.add(lsn, writes.rows)
        self._next_seq = next_seq
        return posts

    def plan_json(self, org: OrgInfo) -> str | None:
        """The org's plan as stored (JSON), or None when it never had one set."""
        return self._plans.get(org.id)

    def set_plan(
        self, org: OrgInfo, plan_json: str, cap: int | None, policy: str, now: datetime
    ) -> OrgInfo:
        """Store a plan; the org's cap and policy (what admission reads) follow it."""

        def job(con: duckdb.DuckDBPyConnection) -> tuple[OrgInfo, Any]:
            con.execute("INSERT OR REPLACE INTO plans VALUES (?, ?, ?)", [org.id, plan_json, now])
            con.execute("UPDATE orgs SET cap = ?, policy = ? WHERE id = ?", [cap, policy, org.id])
            info = replace(self._org_ids[org.id], cap=cap, policy=policy)

            def post() -> None:
                self._plans[org.id] = plan_json
                self._orgs[info.name] = info
                self._org_ids[info.id] = info

            return info, post

        return self._writer.submit(job, (org.id,))

    def closed_months(self, org: OrgInfo) -> dict[int, int]:
        """Month index -> MAU frozen by the statement of each closed month."""
        found = self._closed.get(org.id)
        if found is None:
            writes, generation = self._writes, self._generation
            found = dict(
                self.cursor()
                .execute("SELECT month, mau FROM statements WHERE org_id = ?", [org.id])
                .fetchall()
            )
            if writes == self._writes and generation == self._generation:
                self._closed[org.id] = found
        return dict(found)

    def refused(self, org: OrgInfo, month: Month) -> int:
        """Persons refused by the admission gate in a month."""
        with self._lock:
            return len(self._states[org.id].refused.get(month_index(month), ()))

    # ---- reads -----------------------------------------------------------------------------

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A reading connection for this thread (DuckDB connections are not thread-safe),
        once every write acknowledged so far is in the tables."""
        self._folder.sync()
        con = getattr(self._local, "con", None)
        if con is None or getattr(self._local, "generation", 0) != self._generation:
            con = self._local.con = quiet(self._db.cursor())
            self._local.generation = self._generation
        return con

    def counts(self, org: OrgInfo) -> OrgCounts:
        return self._states[org.id].counts

    def lock(self) -> threading.RLock:
        return self._lock

    def mau(self, org: OrgInfo, month: Month, project: ProjectInfo | None) -> MauFigures:
        with self._lock:
            figures = self._states[org.id].counts.mau(
                month_index(month), project.id if project else None
            )
        if figures.impressions is not None:
            return figures
        return MauFigures(
            figures.mau,
            figures.identified,
            figures.anonymous,
            self._impressions(org, month, project),
        )

    def _impressions(self, org: OrgInfo, month: Month, project: ProjectInfo | None) -> int:
        """Qualifying events of counted persons, read from the log (orgs with internal rules)."""
        with self._lock:
            counts = self._states[org.id].counts
            persons = counts.persons(month_index(month), project.id if project else None)
            roots = roots_of(counts.graph)
        first, last = _day_range(month)
        con = self.cursor()
        actors = con.execute(
            "SELECT actor, project_id FROM events WHERE org_id = ? AND verdict = 'qualifies' "
            "AND day BETWEEN ? AND ?" + (" AND project_id = ?" if project else ""),
            [org.id, first, last] + ([project.id] if project else []),
        ).fetchnumpy()
        if len(actors["actor"]) == 0:
            return 0
        counted = np.isin(roots[actors["actor"]], np.asarray(persons.to_array(), dtype=np.int32))
        if project is None:
            internal = counts.internal
            for pid, excluded in internal.items():
                mask = actors["project_id"] == pid
                counted[mask] &= ~np.isin(
                    roots[actors["actor"][mask]], np.asarray(excluded.to_array(), dtype=np.int32)
                )
        return int(counted.sum())

    def qualifying_events(
        self, org: OrgInfo, first_day: int, last_day: int, project: ProjectInfo | None
    ) -> list[tuple[int, int, datetime, str, str | None, str]]:
        """(actor, project id, billing time, type, event, message id) of the qualifying events
        on local days first..last, in log order of billing time."""
        return (
            self.cursor()
            .execute(
                "SELECT actor, project_id, billing_time, type, event, message_id FROM events "
                "WHERE org_id = ? AND verdict = 'qualifies' AND day BETWEEN ? AND ?"
                + (" AND project_id = ?" if project else "")
                + " ORDER BY billing_time, seq",
                [org.id, first_day, last_day] + ([project.id] if project else []),
            )
            .fetchall()
        )

    def log(self, org: OrgInfo) -> Iterator[tuple[str, datetime, Event]]:
        """The org's events in log order, rebuilt as core events (for the reference count)."""
        self._folder.sync()
        con = self._db.cursor()
        names = {p.id: p.name for p in self._projects.values()}
        iso = "'%Y-%m-%dT%H:%M:%S.%fZ'"
        reader = con.sql(
            "SELECT project_id, billing_time, type, message_id AS messageId, user_id AS userId, "
            "anonymous_id AS anonymousId, previous_id AS previousId, event, name, "
            f'strftime("timestamp", {iso}) AS "timestamp", strftime(sent_at, {iso}) AS sentAt, '
            "properties, traits, context, extra FROM events WHERE org_id = $org ORDER BY seq",
            params={"org": org.id},
        ).to_arrow_reader(100_000)
        try:
            for chunk in reader:
                for row in chunk.to_pylist():
                    project_id = row.pop("project_id")
                    billing_time = row.pop("billing_time")
                    extra = row.pop("extra")
                    for key in ("properties", "traits", "context"):
                        if row[key] is not None:
                            row[key] = json.loads(row[key])
                    if extra is not None:
                        row.update(json.loads(extra))
                    record = {k: v for k, v in row.items() if v is not None}
                    yield names[project_id], billing_time, parse_event(record, types=STORED_TYPES)
        finally:
            con.close()

    # ---- rewriting history: rules, erasure, compaction (billing.privacy) --------------------

    def rewrite(self, org_id: int, job: Job, project: ProjectInfo | None = None) -> Any:
        """Run a job that rewrites an org's stored history; once it commits, ``project``
        (with its new rule) replaces the old info and the org's live state is rebuilt from
        the tables (a full replay of the org: seconds per ten million events)."""

        def wrapped(con: duckdb.DuckDBPyConnection) -> tuple[Any, Any]:
            value, post = job(con)
            if project is not None:  # later batches of this group evaluate the new rule
                state = self._states[org_id]
                state.rules[project.id] = project.activity
                state.verdicts.pop(project.id, None)

            def after() -> None:
                if post is not None:
                    post()
                if project is not None:
                    self._projects[project.id] = project
                con = quiet(self._db.cursor())
                try:
                    self._states[org_id] = self._build_state(con, self._org_ids[org_id])
                finally:
                    con.close()

            return value, after

        return self._writer.submit(wrapped, (org_id,))

    def compact(self) -> int:
        """Rewrite the store into a fresh file and swap it in (the bytes of deleted rows are
        gone from the file afterwards); returns the new size in bytes. Writes wait meanwhile;
        a read running at that moment fails once. Costs a full copy of the store."""

        def swap() -> int:
            fresh = copy_fresh(self._db, self.path)
            with self._lock:
                self._db.close()
                swap_in(fresh, self.path)
                self._db = quiet(
                    duckdb.connect(str(self.path), config={"memory_limit": self._memory_limit})
                )
                self._generation += 1
            self._writer.use(quiet(self._db.cursor()))
            self._folder.use(quiet(self._db.cursor()))
            return self.path.stat().st_size

        return self._writer.exclusive(swap)


def _day_range(month: Month) -> tuple[int, int]:
    return epoch_day(month.first_day()), epoch_day(month.last_day())


def _project(row: tuple[Any, ...]) -> ProjectInfo:
    return ProjectInfo(row[0], row[1], row[2], ActivityRule.from_json(json.loads(row[3])), row[4])


def load_graph(con: duckdb.DuckDBPyConnection, org_id: int) -> IdentityGraph:
    """The identity graph of an org: its ids in index order, then its merges in log order."""
    ids = con.sql(
        "SELECT idx, kind, value FROM identities WHERE org_id = $org ORDER BY idx",
        params={"org": org_id},
    ).to_arrow_table()
    merges = con.execute(
        "SELECT absorbed, survivor FROM identity_merges WHERE org_id = ? ORDER BY seq", [org_id]
    ).fetchnumpy()
    values = ids.column("value").to_pylist()
    kinds = ids.column("kind").to_numpy()
    idx = ids.column("idx").to_numpy()
    if len(idx) and not np.array_equal(idx, np.arange(len(idx))):
        raise StoreUnavailable(f"identities of org {org_id} are not dense; run `maumeter verify`")
    parent = np.arange(len(values), dtype=np.int32)
    parent[np.asarray(merges["absorbed"], dtype=np.int64)] = np.asarray(
        merges["survivor"], dtype=np.int32
    )
    return IdentityGraph.from_arrays(values, bytes(kinds.astype(np.uint8)), parent)


def rebuild_counts(con: duckdb.DuckDBPyConnection, state: OrgState) -> None:
    """The live counts of an org, recomputed from its stored qualifying events."""
    rows = con.execute(
        "SELECT project_id, actor, day FROM events WHERE org_id = ? AND verdict = 'qualifies'",
        [state.org_id],
    ).fetchnumpy()
    actors = np.asarray(rows["actor"], dtype=np.int32)
    roots = roots_of(state.graph)
    state.counts.add_activity(
        np.asarray(rows["project_id"], dtype=np.int32),
        actors,
        np.asarray(rows["day"], dtype=np.int32),
        roots[actors] if len(actors) else actors,
    )
    graph = state.graph
    for project, rule in state.rules.items():
        if not rule.has_internal_exclusions:
            continue
        hits = {
            int(roots[i])
            for i in range(len(graph))
            if graph.kinds[i] == IdKind.USER and rule.is_internal_user_id(graph.values[i])
        }
        for actor, email in con.execute(
            "SELECT actor, e FROM (SELECT actor, unnest([json_extract_string(traits, '$.email'), "
            "json_extract_string(context, '$.traits.email')]) AS e FROM events WHERE org_id = ?) "
            "WHERE e IS NOT NULL",
            [state.org_id],
        ).fetchall():
            if rule.is_internal_email(email):
                hits.add(int(roots[actor]))
        if hits:
            state.counts.mark_internal(project, np.fromiter(hits, np.int32, len(hits)))
