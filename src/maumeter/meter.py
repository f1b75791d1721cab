"""`Meter`: the one facade and the library. The HTTP app, the CLI and Python users all go
through it; it validates, stamps billing time with the injected clock, and asks the store.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import replace
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
from pyroaring import BitMap

from maumeter.analytics.queries import Analytics
from maumeter.billing.alerts import Alerts
from maumeter.billing.audit import Audit
from maumeter.billing.plans import Plans
from maumeter.billing.privacy import ErasureReport, Privacy, RuleChange
from maumeter.billing.statements import Statements
from maumeter.billing.usage import LiveUsage
from maumeter.billing.usage import Usage as UsageTracker
from maumeter.billing.webhooks import Webhooks
from maumeter.core import keys, wire
from maumeter.core.activity import ActivityRule, preset
from maumeter.core.admission import Decision
from maumeter.core.caps import MonthCap
from maumeter.core.counting import LoggedEvent, reference_count
from maumeter.core.errors import InvalidInput, NotFound, Problem
from maumeter.core.events import ADMIT, Event, parse_event, parse_plain, skew_corrected
from maumeter.core.keys import Key, KeyKind
from maumeter.core.months import (
    Month,
    epoch_day,
    zone,
)
from maumeter.core.plans import DEFAULT_TIERS, Plan, TierTable
from maumeter.results import (
    PERSON_FIELDS,
    ActivePerson,
    IngestResult,
    Rejection,
    ScopeCheck,
    Usage,
    Verification,
)
from maumeter.sources import NotJson, read_records
from maumeter.store import bulk
from maumeter.store.base import Store
from maumeter.store.batch import batch_from_events
from maumeter.store.counters import roots_of
from maumeter.store.duckdb import DuckDBStore, OrgInfo, ProjectInfo, month_index
from maumeter.store.privacy import Secrets

__all__ = [
    "PERSON_FIELDS",
    "ActivePerson",
    "IngestResult",
    "Meter",
    "Rejection",
    "ScopeCheck",
    "Usage",
    "Verification",
]

Clock = Callable[[], datetime]
POLICIES = ("hard", "soft", "none")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
TOKEN = re.compile(r"^[!-~]{8,200}$")
DEFAULT_DB = "maumeter.duckdb"
IMPORT_CHUNK = 125_000
MAX_CAP = 2**63 - 1


# An admission without a messageId gets a unique one: a random prefix drawn once per process and
# a counter. ``uuid4`` per admission read 16 bytes of ``os.urandom`` each time, about 100 µs on
# a virtual machine: a third of an admission's budget.
_ADMISSIONS = itertools.count()
_ADMISSION_PREFIX = "admit-" + secrets.token_hex(8) + "-"


def _admission_id() -> str:
    return _ADMISSION_PREFIX + str(next(_ADMISSIONS))


def system_clock() -> datetime:
    return datetime.now(UTC)


def new_token(kind: KeyKind) -> str:
    """A fresh key: its kind's prefix and 32 random bytes."""
    return keys.PREFIX[kind] + secrets.token_urlsafe(32)


class Meter:
    """Counts monthly active users exactly. Open one per store file."""

    def __init__(
        self, store: Store, clock: Clock = system_clock, tiers: TierTable = DEFAULT_TIERS
    ) -> None:
        self.store = store
        self.clock = clock
        self.tiers = tiers

    @classmethod
    def open(
        cls,
        path: str | Path | None = None,
        clock: Clock = system_clock,
        tiers: TierTable = DEFAULT_TIERS,
        secrets: Secrets | None = None,
    ) -> Meter:
        """Open (or create) a store; ``path`` defaults to ``$MAUMETER_DB`` or ./maumeter.duckdb.
        ``tiers``: the tier table plans are chosen from (default: Jimo's). ``secrets``: the
        pseudonymisation and erasure secrets (``maumeter.store.privacy``)."""
        target = path or os.environ.get("MAUMETER_DB") or DEFAULT_DB
        return cls(DuckDBStore.open(target, secrets=secrets), clock, tiers)

    # ---- plans and live usage ----------------------------------------------------------------

    @cached_property
    def plans(self) -> Plans:
        return Plans(self, self.tiers)

    @cached_property
    def usage(self) -> UsageTracker:
        return UsageTracker(self)

    def plan(self, org: str) -> Plan:
        """The org's plan (the default tier when none was set)."""
        return self.plans.get(org)

    def set_plan(self, org: str, plan: Mapping[str, Any], actor: str = "library") -> Plan:
        """Set the org's plan: ``{"tier"?, "allotment"?, "policy"?, "term"?, "rollover"?,
        "monthly_price"?, "overage_price"?}``; admission enforces it from the next request."""
        return self.plans.set(org, dict(plan), actor)

    def month_cap(self, org: str, month: Month | None = None) -> MonthCap:
        """Allotment, rollover in and out, effective cap and overage of a month."""
        return self.plans.month_cap(org, month or self.current_month(org))

    def live_usage(self, org: str) -> LiveUsage:
        """The current month: MAU against the effective cap, refusals, the projection."""
        return self.usage.live(org)

    def zone(self, info: OrgInfo) -> ZoneInfo:
        return zone(info.timezone)

    def frozen_mau(self, info: OrgInfo) -> dict[Month, int]:
        """MAU of the org's closed months, as their statements froze it."""
        return {_month_of_index(i): mau for i, mau in self.store.closed_months(info).items()}

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Meter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- orgs and projects -----------------------------------------------------------------

    def create_org(
        self,
        name: str,
        timezone: str = "UTC",
        cap: int | None = None,
        policy: str = "none",
        secret_key: str | None = None,
        actor: str = "library",
    ) -> OrgInfo:
        """Create an org and its first secret key (returned once, on the value returned).

        ``secret_key`` brings a key of your own (a migration); by default one is made."""
        problems = _name_problems("org", name) + _token_problems("secret_key", secret_key)
        if cap is not None and (
            isinstance(cap, bool) or not isinstance(cap, int) or not 0 <= cap <= MAX_CAP
        ):
            problems.append(Problem("cap", f"expected a whole number of MAU, 0 to {MAX_CAP}"))
        if policy not in POLICIES:
            problems.append(
                Problem("policy", f"expected one of {', '.join(POLICIES)}, got {policy!r}")
            )
        try:
            zone(timezone)
        except InvalidInput as exc:
            problems.extend(exc.problems)
        if problems:
            raise InvalidInput(problems)
        token = secret_key or new_token("secret")
        info = self.store.create_org(
            name, timezone, cap, policy, self.clock(), (keys.digest(token), keys.hint(token))
        )
        self.audit.record(name, actor, "org.create", {"timezone": timezone, "policy": policy})
        return replace(info, secret_key=token)

    def create_project(
        self,
        org: str,
        name: str,
        activity: ActivityRule | str = "any-activity",
        write_key: str | None = None,
        actor: str = "library",
    ) -> ProjectInfo:
        """Create a project and its first write key (returned once, on the value returned).

        ``write_key`` keeps a key your SDKs already embed (moving from Segment, say)."""
        problems = _name_problems("project", name) + _token_problems("write_key", write_key)
        if problems:
            raise InvalidInput(problems)
        rule = preset(activity) if isinstance(activity, str) else activity
        token = write_key or new_token("write")
        info = self.store.create_project(
            org, name, rule, (keys.digest(token), keys.hint(token)), self.clock()
        )
        self.audit.record(org, actor, "project.create", {"project": name, "preset": rule.preset})
        return replace(info, write_key=token)

    def orgs(self) -> list[OrgInfo]:
        return self.store.orgs()

    def org(self, name: str) -> OrgInfo:
        return self.store.org(name)

    def projects(self, org: str) -> list[ProjectInfo]:
        return self.store.projects(org)

    def project_for_key(self, write_key: str) -> ProjectInfo | None:
        """The project of an active write key (``None`` for anything else)."""
        found = self.authenticate(write_key)
        if found is None or found.kind != "write" or found.project_id is None:
            return None
        return self.store.project_by_id(found.project_id)

    def describe_org(self, info: OrgInfo) -> dict[str, Any]:
        """An org as the API and ``--json`` show it (its secret key only when just created)."""
        found = {
            "org": info.name,
            "timezone": info.timezone,
            "cap": info.cap,
            "policy": info.policy,
        }
        if info.secret_key is not None:
            found["secret_key"] = info.secret_key
        return found

    def describe_project(self, info: ProjectInfo) -> dict[str, Any]:
        """A project as the API and ``--json`` show it: its active write keys as hints (the
        key itself only when just created)."""
        org = self.store.org_by_id(info.org_id)
        found: dict[str, Any] = {
            "org": org.name,
            "project": info.name,
            "activity": info.activity.preset,
            "write_keys": [
                k.hint
                for k in self.store.keys(org.id)
                if k.active and k.kind == "write" and k.project_id == info.id
            ],
        }
        if info.write_key is not None:
            found["write_key"] = info.write_key
        return found

    def describe_key(self, key: Key) -> dict[str, Any]:
        org = self.store.org_by_id(key.org_id).name if key.org_id is not None else None
        project = self.store.project_by_id(key.project_id).name if key.project_id else None
        return key.to_dict(org, project)

    # ---- keys ------------------------------------------------------------------------------

    def authenticate(self, token: str) -> Key | None:
        """The active key ``token`` is, or ``None``; digests compared in constant time."""
        if not token:
            return None
        wanted = keys.digest(token)
        found = self.store.key_by_digest(wanted)
        if found is not None and keys.same_digest(found.digest, wanted):
            return found
        return None

    def create_write_key(self, org: str, project: str, actor: str = "library") -> tuple[Key, str]:
        """A second write key for a project (a rotation); the plain key is returned once."""
        target = self.store.project(org, project)
        token = new_token("write")
        key = self.store.create_key(
            "write", target.org_id, target.id, (keys.digest(token), keys.hint(token)), self.clock()
        )
        self.audit.record(org, actor, "key.create", {"kind": "write", "key_id": key.id})
        return key, token

    def create_secret_key(self, org: str, actor: str = "library") -> tuple[Key, str]:
        info = self.store.org(org)
        token = new_token("secret")
        key = self.store.create_key(
            "secret", info.id, None, (keys.digest(token), keys.hint(token)), self.clock()
        )
        self.audit.record(org, actor, "key.create", {"kind": "secret", "key_id": key.id})
        return key, token

    def org_keys(self, org: str) -> list[Key]:
        return self.store.keys(self.store.org(org).id)

    def revoke_key(self, org: str, key_id: int, actor: str = "library") -> Key:
        """Revoke one of the org's keys; effective for the next request."""
        info = self.store.org(org)
        if not any(k.id == key_id for k in self.store.keys(info.id)):
            raise NotFound(f"no key {key_id} in org {org!r}")
        key = self.store.revoke_key(key_id, self.clock())
        self.audit.record(org, actor, "key.revoke", {"kind": key.kind, "key_id": key_id})
        return key

    def ensure_admin_token(self, token: str | None = None) -> str | None:
        """Make ``token`` (``$MAUMETER_ADMIN_TOKEN``) an admin token; with none given and none
        stored, create one and return it (it is shown once). Returns the new token or None."""
        if token:
            if self.authenticate(token) is None:
                self.store.create_key(
                    "admin", None, None, (keys.digest(token), keys.hint(token)), self.clock()
                )
            return None
        if any(k.active for k in self.store.keys(None)):
            return None
        created = new_token("admin")
        self.store.create_key(
            "admin", None, None, (keys.digest(created), keys.hint(created)), self.clock()
        )
        return created

    # ---- ingest ----------------------------------------------------------------------------

    def ingest(
        self,
        records: Sequence[Any],
        org: str,
        project: str,
        *,
        default_type: str | None = None,
        defaults: Mapping[str, Any] | None = None,
    ) -> IngestResult:
        """Live ingest: billing time is now, by the server's clock, whatever the records say.

        ``defaults`` are a batch's top-level objects (``context``, ``integrations``), merged
        under each record's own."""
        target = self.store.project(org, project)
        return self.ingest_project(target, records, default_type=default_type, defaults=defaults)

    def ingest_project(
        self,
        target: ProjectInfo,
        records: Sequence[Any],
        *,
        default_type: str | None = None,
        defaults: Mapping[str, Any] | None = None,
    ) -> IngestResult:
        received = self.clock()
        events, rownums, result = _validate(records, default_type, defaults, 0, received=received)
        if events:
            outcome = self.store.append(target, batch_from_events(events, rownums, received))
            result.accepted = outcome.accepted
            result.duplicates = len(outcome.duplicate_rows)
        return result

    def ingest_columns(
        self,
        target: ProjectInfo,
        batch: pa.Table,
        others: Sequence[tuple[int, Any]],
        defaults: Mapping[str, Any] | None,
        received: datetime,
    ) -> Future[IngestResult]:
        """Live ingest of a body already in columns (``api.columnar``, billing time
        ``received``), plus the records that path left as ``(index, record)`` for validation
        here. The future resolves once the batch is durably committed, so a server can wait
        for it without holding a thread."""
        batch, result = with_others(batch, others, defaults, received)
        done: Future[IngestResult] = Future()
        if batch.num_rows == 0:
            done.set_result(result)
            return done

        def settle(written: Future[Any]) -> None:
            error = written.exception()
            if error is not None:
                done.set_exception(error)
                return
            outcome = written.result()
            result.accepted = outcome.accepted
            result.duplicates = len(outcome.duplicate_rows)
            done.set_result(result)

        self.store.append_async(target, batch).add_done_callback(settle)
        return done

    def import_records(
        self,
        chunks: Iterable[Sequence[Any]],
        org: str,
        project: str,
        progress: Callable[[int], None] | None = None,
        offset: int = 0,
    ) -> IngestResult:
        """History: each record's own ``timestamp`` decides its period (and is required)."""
        target = self.store.project(org, project)
        result = IngestResult()
        for chunk in chunks:
            received = self.clock()
            events, rownums, part = _validate(chunk, None, None, offset, require_timestamp=True)
            if events:
                billing = [e.timestamp for e in events]
                batch = batch_from_events(events, rownums, received, billing)  # type: ignore[arg-type]
                outcome = self.store.append(target, batch)
                part.accepted = outcome.accepted
                part.duplicates = len(outcome.duplicate_rows)
            result.merge(part)
            offset += len(chunk)
            if progress is not None:
                progress(len(chunk))
        self.statements.after_import(org)  # late events into a closed month: restatements
        return result

    def import_file(
        self,
        path: str | Path,
        org: str,
        project: str,
        progress: Callable[[int], None] | None = None,
    ) -> IngestResult:
        """Import a file of history. JSONL and flat Parquet go through the vectorised path
        (DuckDB reads and checks the records; the core judges only the doubtful ones); other
        formats, and files the fast path cannot read, go record by record. Same result."""
        target = self.store.project(org, project)
        source = Path(path)
        if not source.exists():
            raise InvalidInput.field("FILE", f"{source} does not exist")
        result = IngestResult()
        done = 0
        pending: tuple[IngestResult, Future[Any] | None, int] | None = None

        def settle() -> None:
            part, future, rows = pending  # type: ignore[misc]
            if future is not None:
                outcome = future.result()
                part.accepted = outcome.accepted
                part.duplicates = len(outcome.duplicate_rows)
            result.merge(part)
            pa.default_memory_pool().release_unused()  # keep a long import's RSS flat
            if progress is not None:
                progress(rows)

        try:
            for good, doubtful in bulk.read_batches(bulk.checker(), source, IMPORT_CHUNK):
                part, future = self._import_chunk(target, good, doubtful)
                if pending is not None:
                    settle()
                pending = (part, future, good.num_rows + len(doubtful))
                done += pending[2]
            if pending is not None:
                settle()
            self.statements.after_import(org)  # late events into a closed month: restatements
            return result
        except bulk.Unsupported:
            if pending is not None:
                settle()
        rest = _skip(read_records(source), done)
        result.merge(self.import_records(rest, org, project, progress, offset=done))
        return result

    def _import_chunk(
        self, target: ProjectInfo, good: Any, doubtful: list[tuple[int, Any]]
    ) -> tuple[IngestResult, Future[Any] | None]:
        """Validate a chunk's doubtful records and queue the chunk's commit."""
        received = self.clock()
        batch = bulk.to_batch(good, received)
        records: list[Any] = []
        for _, raw in doubtful:
            text, line = raw if isinstance(raw, tuple) else (raw, None)
            try:
                records.append(wire.loads(text))
            except ValueError as exc:
                where = f"line {line}" if line is not None else "the record"
                records.append(NotJson(Problem("record", f"{where} is not valid JSON: {exc}")))
        indices = [index for index, _ in doubtful]
        events, rownums, result = _validate(records, None, None, 0, True, indices)
        if events:
            billing = [e.timestamp for e in events]
            more = batch_from_events(events, rownums, received, billing)  # type: ignore[arg-type]
            batch = pa.concat_tables([batch, more]).sort_by("rownum")
        future = self.store.append_async(target, batch) if batch.num_rows else None
        return result, future

    # ---- counting --------------------------------------------------------------------------

    def current_month(self, org: str) -> Month:
        return Month.of(self.clock(), zone(self.store.org(org).timezone))

    def mau(self, org: str, month: Month | None = None, project: str | None = None) -> Usage:
        info = self.store.org(org)
        target = self.store.project(org, project) if project is not None else None
        month = month or self.current_month(org)
        figures = self.store.mau(info, month, target)
        return Usage(
            org,
            project,
            month,
            figures.mau,
            figures.identified,
            figures.anonymous,
            figures.impressions or 0,
            self.plans.month_cap(org, month).effective_cap if target is None else None,
            info.policy,
            self.store.refused(info, month),
        )

    # ---- admission -------------------------------------------------------------------------

    def admit(self, project: ProjectInfo, request: Any) -> Decision:
        """May this person be served now? Atomic under any concurrency; an admitted person is
        counted (the admission is the SDK loading: activity under every rule) before this
        returns. ``request``: ``{"userId" | "anonymousId", "context"?, "messageId"?}``."""
        return self.admit_async(project, request).result()

    def admit_async(self, project: ProjectInfo, request: Any) -> Future[Decision]:
        """:meth:`admit` without holding a thread: the request is checked at once (bad input
        raises here), the future resolves once the decision is committed."""
        if not isinstance(request, Mapping):
            raise InvalidInput.field("body", "expected a JSON object with userId or anonymousId")
        record = {k: v for k, v in request.items() if k not in ("writeKey", "type")}
        record["type"] = ADMIT
        if record.get("messageId") is None:
            record["messageId"] = _admission_id()  # each admission is an event
        event = parse_event(record, types=(ADMIT,))
        received = self.clock()
        event = skew_corrected(event, received)
        org = self.store.org_by_id(project.org_id)
        month = Month.of(received, zone(org.timezone))
        cap = self.plans.effective_cap(org, month)
        return self.store.admit_async(org, project, event, received, month, cap)

    def series(
        self,
        org: str,
        metric: str,
        start: date,
        end: date,
        project: str | None = None,
        week_start: str = "monday",
    ) -> list[tuple[str, int]]:
        """DAU per day, WAU per week, MAU per calendar month (whole periods that overlap the
        range), or rolling 7/30 days for each day of the range: persons active in D-6..D or
        D-29..D. ``analytics.series`` has breakdowns and period bounds."""
        points = self.analytics.series(org, metric, start, end, project, week_start)
        return [(p.period, p.value) for p in points]

    @cached_property
    def analytics(self) -> Analytics:
        """Engagement analytics: series, stickiness, lifecycle, retention, levels, segments,
        growth, seasonality, forecasts, account health."""
        return Analytics(self)

    def active_persons(
        self, org: str, month: Month | None = None, project: str | None = None
    ) -> list[ActivePerson]:
        """The counted persons of a month, each with the event that first counted them."""
        info = self.store.org(org)
        target = self.store.project(org, project) if project is not None else None
        month = month or self.current_month(org)
        counts = self.store.counts(info)
        with self.store.lock():
            persons = counts.persons(month_index(month), target.id if target else None)
            counted = np.asarray(persons.to_array(), dtype=np.int64)
            roots = roots_of(counts.graph)
            graph = counts.graph
            keys = {int(r): graph.values[int(r)] for r in counted}
            users = BitMap(counts.users)
            internal = {p: BitMap(bm) for p, bm in counts.internal.items()}
        rows = self.store.qualifying_events(
            info, epoch_day(month.first_day()), epoch_day(month.last_day()), target
        )
        names = {p.id: p.name for p in self.store.projects(org)}
        first: dict[int, ActivePerson] = {}
        projects: dict[int, set[str]] = {}
        for actor, pid, billing_time, etype, event, message_id in rows:
            root = int(roots[actor])
            if root not in keys or (pid in internal and root in internal[pid]):
                continue
            projects.setdefault(root, set()).add(names[pid])
            if root not in first:
                first[root] = ActivePerson(
                    keys[root],
                    root in users,
                    billing_time.astimezone(UTC),
                    (),
                    names[pid],
                    etype,
                    event,
                    message_id,
                )
        return [
            ActivePerson(
                p.person,
                p.identified,
                p.first_seen,
                tuple(sorted(projects[root])),
                p.project,
                p.event_type,
                p.event,
                p.message_id,
            )
            for root, p in sorted(first.items(), key=lambda item: item[1].person)
        ]

    def verify(self, org: str, month: Month | None = None) -> Verification:
        """Recount from the raw log with the reference count; equal, or a precise diff."""
        info = self.store.org(org)
        tz = zone(info.timezone)
        projects = self.store.projects(org)
        rules = {p.name: p.activity for p in projects}
        log = (LoggedEvent(p, t, e) for p, t, e in self.store.log(info))
        reference = reference_count(log, rules, tz)
        counts = self.store.counts(info)
        with self.store.lock():
            live_months = {m for (_, m) in counts.months}
        months = {m for (_, m) in reference.months} | {_month_of_index(i) for i in live_months}
        if month is not None:
            months = {month}
        checks = []
        for m in sorted(months):
            for target in [None, *projects]:
                name = target.name if target else None
                usage = self.mau(org, m, name)
                with self.store.lock():
                    live_roots = counts.persons(month_index(m), target.id if target else None)
                    live = {counts.graph.values[r] for r in live_roots}
                ref = reference.months.get((name, m), set())
                checks.append(
                    ScopeCheck(
                        m,
                        name,
                        usage.mau,
                        reference.mau(m, name),
                        sorted(ref - live),
                        sorted(live - ref),
                        usage.impressions,
                        reference.impressions.get((name, m), 0),
                    )
                )
        return Verification(org, checks)

    # ---- alerts and webhooks -----------------------------------------------------------------

    @cached_property
    def alerts(self) -> Alerts:
        """Alert thresholds per org, checks against live usage, the alerts fired."""
        return Alerts(self)

    @cached_property
    def webhooks(self) -> Webhooks:
        """Webhooks per org and the delivery queue (faces ``configure`` its policy)."""
        return Webhooks(self)

    # ---- statements: closed months, restatements, explanations -------------------------------

    @cached_property
    def statements(self) -> Statements:
        """Closing months into frozen statements, restatements, explain, anonymous inflation."""
        statements = Statements(self)
        statements.tombstone = self.privacy.tombstone  # a replayed erased person stays erased
        return statements

    # ---- exclusions and privacy: the audit log, retroactive rules, erasure --------------------

    @cached_property
    def audit(self) -> Audit:
        """The hash-chained audit log of admin actions, closes, restatements and erasures."""
        return Audit(self)

    @cached_property
    def privacy(self) -> Privacy:
        return Privacy(self)

    def set_rule(
        self, org: str, project: str, rule: ActivityRule | str, actor: str = "library"
    ) -> RuleChange:
        """A project's new activity rule, applied retroactively: open months recount at once,
        closed months get restatements (their statements never change)."""
        return self.privacy.set_rule(
            org, project, preset(rule) if isinstance(rule, str) else rule, actor
        )

    def erase(self, org: str, person_id: str, actor: str = "library") -> ErasureReport:
        """Erase a person (GDPR Art. 17): data gone, closed statements keep their counts."""
        return self.privacy.erase(org, person_id, actor)


def _month_of_index(index: int) -> Month:
    return Month(index // 12, index % 12 + 1)


def _skip(chunks: Iterable[list[Any]], count: int) -> Iterator[list[Any]]:
    """The records after the first ``count`` (a fallback resumes where the fast path stopped)."""
    for chunk in chunks:
        if count >= len(chunk):
            count -= len(chunk)
            continue
        yield chunk[count:]
        count = 0


def _token_problems(field_name: str, token: Any) -> list[Problem]:
    if token is None:
        return []
    if not isinstance(token, str) or not TOKEN.match(token):
        return [Problem(field_name, "expected 8-200 printable ASCII characters without spaces")]
    return []


def _name_problems(kind: str, name: Any) -> list[Problem]:
    if not isinstance(name, str) or not NAME.match(name):
        return [
            Problem(
                kind,
                "expected 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit, "
                f"got {name!r}",
            )
        ]
    return []


def with_others(
    batch: pa.Table,
    others: Sequence[tuple[int, Any]],
    defaults: Mapping[str, Any] | None,
    received: datetime,
) -> tuple[pa.Table, IngestResult]:
    """A columnar batch completed with the records left as ``(index, record)`` for the general
    validation, each in its place (by ``rownum``), and what became of those records."""
    if not others:
        return batch, IngestResult()
    events, rownums, result = _validate(
        [record for _, record in others],
        None,
        defaults,
        0,
        indices=[index for index, _ in others],
        received=received,
    )
    if events:
        slow = batch_from_events(events, rownums, received)
        batch = pa.concat_tables([batch, slow]).sort_by("rownum")
    return batch, result


def _validate(
    records: Sequence[Any],
    default_type: str | None,
    defaults: Mapping[str, Any] | None,
    offset: int,
    require_timestamp: bool = False,
    indices: Sequence[int] | None = None,
    received: datetime | None = None,
) -> tuple[list[Event], list[int], IngestResult]:
    """Validate each record; batch-level objects (``defaults``) are merged under its own.

    A record's index is ``offset + position``, or ``indices[position]`` when given. Live
    traffic passes ``received``: its events come back skew-corrected, the everyday ones
    through the one-pass check (``parse_plain``)."""
    events: list[Event] = []
    rownums: list[int] = []
    result = IngestResult()
    for i, record in enumerate(records):
        index = indices[i] if indices is not None else offset + i
        if isinstance(record, NotJson):
            result.rejected.append(Rejection(index, [record.problem]))
            continue
        if defaults and isinstance(record, Mapping):
            record = dict(record)
            for name, shared in defaults.items():
                own = record.get(name)
                if not isinstance(shared, Mapping):
                    record.setdefault(name, shared)  # a scalar such as the batch's sentAt
                elif own is None or isinstance(own, Mapping):
                    record[name] = {**shared, **(own or {})}
        if received is not None:
            plain = parse_plain(record, received, default_type)
            if plain is not None:
                events.append(plain)
                rownums.append(index)
                continue
        try:
            event = parse_event(record, default_type=default_type)
        except InvalidInput as exc:
            result.rejected.append(Rejection(index, exc.problems))
            continue
        if received is not None:
            event = skew_corrected(event, received)
        if require_timestamp and event.timestamp is None:
            result.rejected.append(
                Rejection(
                    index,
                    [Problem("timestamp", "required when importing history: it decides the month")],
                )
            )
            continue
        events.append(event)
        rownums.append(index)
    return events, rownums, result
