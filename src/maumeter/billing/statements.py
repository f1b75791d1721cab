"""Frozen statements: closing a month, its counted-person list, and restatements.

**Closing** freezes an ended month (in the org's time zone): MAU, identified / anonymous,
impressions, the cap's rollover link and overage (with amounts when the plan has prices),
refused admissions, MAU per project, per experiment and per flag (top-level event properties,
``experiment_id`` and ``flag_key`` by default: a person counts once under each value seen on
their qualifying events of the month), the recommended tier, and the list of counted persons
with the SHA-256 checksum of its keys (``maumeter.core.statement``). The list has exactly MAU
rows; closing checks it against the live count and refuses to freeze anything else. Closing a
closed month returns the statement as it was frozen.

**Auto-close** closes, for every org, each month that ended more than the grace period ago,
from the month the org was created on; months without activity get a statement too (MAU 0:
the base fee and the rollover chain still need one). History imported for months before the
org existed is closed by command (``maumeter close``), so a bulk import is never frozen half-way.

**Restatements.** A statement never changes. ``restate`` recounts each closed month from the
current data and compares the persons with the frozen list plus the restatements already made;
a difference is recorded as a restatement (added, removed, previous and new MAU, reason).
Erased persons (``erased:`` tombstones in the list) stay counted: erasure removes the data, not
the fact that they were billed; with ``tombstone`` set, a recounted person whose tombstone is
recorded is taken as that tombstone (a replay does not resurrect them).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from maumeter.core import statement as core
from maumeter.core.audit import Action
from maumeter.core.caps import charges
from maumeter.core.errors import InvalidInput, NotFound, StoreUnavailable
from maumeter.core.months import Month, zone
from maumeter.core.plans import recommend
from maumeter.core.statement import Cause, Restatement
from maumeter.store import statements as sql
from maumeter.store.duckdb import DuckDBStore, OrgInfo, month_index

if TYPE_CHECKING:
    from maumeter.billing.explain import Explanation
    from maumeter.billing.inflation import Inflation
    from maumeter.meter import Meter

GRACE_DAYS = 3
ATTEMPTS = 5
FORMATS = ("csv", "parquet")


@dataclass(frozen=True, slots=True)
class RestatementRecord:
    """A restatement as stored: when it was made, and its number."""

    id: int
    created_at: datetime
    restatement: Restatement

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created_at": _iso(self.created_at),
            **self.restatement.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class Statement:
    """A closed month as frozen, with the restatements made since (the statement never
    changes; ``current_mau`` is the latest restated figure)."""

    org: str
    month: Month
    closed_at: datetime
    mau: int
    checksum: str
    figures: dict[str, Any]
    restatements: tuple[RestatementRecord, ...] = field(default=())

    @property
    def current_mau(self) -> int:
        return self.restatements[-1].restatement.new_mau if self.restatements else self.mau

    def to_dict(self) -> dict[str, Any]:
        return {
            "org": self.org,
            "month": str(self.month),
            "closed_at": _iso(self.closed_at),
            "mau": self.mau,
            **self.figures,
            "checksum": self.checksum,
            "restatements": [r.to_dict() for r in self.restatements],
            "current_mau": self.current_mau,
        }


def _ended(month: Month, timezone: str, now: datetime) -> bool:
    """Whether ``month`` is over in the zone (December 9999 never is: no month follows)."""
    try:
        return now >= month.end(zone(timezone))
    except ValueError:
        return False


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Statements:
    """Closing months, reading statements, restating them; exposed as ``Meter.statements``."""

    def __init__(
        self, meter: Meter, experiment_key: str = "experiment_id", flag_key: str = "flag_key"
    ) -> None:
        self.meter = meter
        self.configure(experiment_key, flag_key)
        self.tombstone: Callable[[str, str], str] | None = None  # (org, key) -> tombstone
        self._seen: dict[tuple[int, int], int] = {}  # fingerprints already reconciled
        self._lock = threading.Lock()  # one restatement check at a time

    def configure(self, experiment_key: str, flag_key: str) -> None:
        """The top-level event properties counted per experiment and per flag."""
        for name, key in (("experiment_key", experiment_key), ("flag_key", flag_key)):
            if not isinstance(key, str) or not key or any(c in key for c in "\"\\'"):
                raise InvalidInput.field(name, f"expected a property name, got {key!r}")
        self.experiment_key = experiment_key
        self.flag_key = flag_key

    @property
    def store(self) -> DuckDBStore:
        store = self.meter.store
        if not isinstance(store, DuckDBStore):
            raise TypeError("statements need the DuckDB store")
        return store

    # ---- closing ---------------------------------------------------------------------------

    def close(
        self, org: str, month: Month, now: datetime | None = None, actor: str = "library"
    ) -> Statement:
        """Freeze ``month``; refused while it has not ended in the org's time zone. The close
        is in the audit log (month, MAU, checksum), in the same transaction."""
        info = self.store.org(org)
        now = now or self.meter.clock()
        if not _ended(month, info.timezone, now):
            raise InvalidInput.field(
                "month",
                f"{month} has not ended yet in {info.timezone}; a month is closed after its end",
            )
        existing = self.statement(org, month)
        if existing is not None:
            return existing
        names = {p.id: p.name for p in self.store.projects(org)}
        for attempt in range(ATTEMPTS):
            # A writer group that merges persons changes the forest before it commits and the
            # counts after: a snapshot taken in between does not reconcile, the next one does.
            snap = sql.snapshot(self.store, info, month)
            keys = sql.person_keys(snap.persons, snap.values, snap.kinds)
            rows, impressions, by_experiment, by_flag = sql.person_rows(
                self.store, info, snap, keys, names, self.experiment_key, self.flag_key
            )
            if rows.num_rows == snap.mau:
                break
            time.sleep(0.05 * (attempt + 1))
        else:
            raise StoreUnavailable(
                f"the counted-person list of {org} {month} has {rows.num_rows:,} rows for "
                f"{snap.mau:,} MAU; nothing was frozen: run `maumeter verify {org}`"
            )
        checksum = core.checksum(keys)
        figures = self._figures(info, snap, impressions, by_experiment, by_flag, names)

        def job(con: Any) -> tuple[bool, None]:
            inserted = sql.insert_statement(
                con, info, month, now, snap.mau, checksum, figures, rows
            )
            if inserted:
                detail = {"month": str(month), "mau": snap.mau, "checksum": checksum}
                self.meter.audit.append(con, info, actor, Action.MONTH_CLOSE, detail)
            return inserted, None

        self.store.write(job, (info.id,))
        self._seen[(info.id, month_index(month))] = snap.fingerprint()
        found = self.statement(org, month)
        assert found is not None
        return found

    def _figures(
        self,
        info: OrgInfo,
        snap: sql.Snapshot,
        impressions: int,
        by_experiment: dict[str, int],
        by_flag: dict[str, int],
        names: dict[int, str],
    ) -> dict[str, Any]:
        plan = self.meter.plan(info.name)
        cap = self.meter.month_cap(info.name, snap.month)
        amounts = charges(plan, snap.mau, cap.effective_cap)
        tier = recommend(self.meter.tiers, snap.mau)
        return {
            "timezone": info.timezone,
            "identified": snap.identified,
            "anonymous": snap.mau - snap.identified,
            "impressions": impressions,
            "plan": plan.to_dict(),
            "cap": cap.to_dict(),
            "effective_cap": cap.effective_cap,
            "carried_in": cap.carried_in,
            "carried_out": cap.carried_out,
            "overage": cap.overage,
            "charges": amounts.to_dict(),
            "refused": self.store.refused(info, snap.month),
            "by_project": {
                names[p]: n for p, n in sorted(snap.by_project.items()) if p in names and n
            },
            "by_experiment": by_experiment,
            "by_flag": by_flag,
            "property_keys": {"experiment": self.experiment_key, "flag": self.flag_key},
            "recommended_tier": tier.to_dict(),
        }

    def auto_close(self, now: datetime, grace_days: int = GRACE_DAYS) -> list[Statement]:
        """Close every org's months that ended more than ``grace_days`` ago (a loop tick)."""
        closed = []
        for info in self.store.orgs():
            tz = zone(info.timezone)
            done = set(sql.closed_months(self.store.cursor(), info))
            month = Month.of(info.created_at, tz)
            while month.end(tz) + timedelta(days=grace_days) <= now:
                if month not in done:
                    closed.append(self.close(info.name, month, now, actor="auto-close"))
                month = month.next()
        return closed

    # ---- reading ---------------------------------------------------------------------------

    def statement(self, org: str, month: Month) -> Statement | None:
        """The statement of a closed month with its restatements; None while open."""
        info = self.store.org(org)
        con = self.store.cursor()
        row = sql.statement_row(con, info, month)
        if row is None:
            return None
        closed_at, mau, checksum, figures = row
        return Statement(org, month, closed_at, mau, checksum, figures, self._records(info, month))

    def get(self, org: str, month: Month) -> Statement:
        found = self.statement(org, month)
        if found is None:
            raise NotFound(f"{org} has no statement for {month}: the month is not closed")
        return found

    def statements(self, org: str) -> list[Statement]:
        info = self.store.org(org)
        found = [self.statement(org, m) for m in sql.closed_months(self.store.cursor(), info)]
        return [s for s in found if s is not None]

    def persons(self, org: str, month: Month) -> pa.Table:
        """The frozen counted-person list, sorted by key."""
        info = self.store.org(org)
        self.get(org, month)
        return (
            self.store.cursor()
            .sql(
                f"SELECT {', '.join(sql.PERSON_COLUMNS)} FROM statement_persons "
                "WHERE org_id = $org AND month = $month ORDER BY person_key",
                params={"org": info.id, "month": month_index(month)},
            )
            .to_arrow_table()
        )

    def export(self, org: str, month: Month, path: str | Path, fmt: str | None = None) -> int:
        """Write the list as CSV or Parquet (from ``fmt``, else the file's suffix); rows."""
        target = Path(path)
        fmt = fmt or target.suffix.lstrip(".").lower()
        if fmt not in FORMATS:
            raise InvalidInput.field("format", f"expected csv or parquet, got {fmt!r}")
        info = self.store.org(org)
        self.get(org, month)
        return sql.export(self.store.cursor(), info, month, target, fmt)

    def _records(self, info: OrgInfo, month: Month) -> tuple[RestatementRecord, ...]:
        return tuple(
            RestatementRecord(rid, at, Restatement(month, tuple(a), tuple(r), prev, new, reason))
            for rid, at, reason, prev, new, a, r in sql.restatement_rows(
                self.store.cursor(), info, month
            )
        )

    # ---- restatements ----------------------------------------------------------------------

    def restate(
        self, org: str, reason: str, now: datetime | None = None, only_changed: bool = False
    ) -> list[RestatementRecord]:
        """Recount every closed month of ``org``; record a restatement where persons differ.

        ``only_changed`` skips months whose counted roots are as they were when last
        reconciled (the periodic check and the import hook; callers after an erasure or a
        rule change leave it off)."""
        info = self.store.org(org)
        now = now or self.meter.clock()
        made = []
        with self._lock:
            for month in sql.closed_months(self.store.cursor(), info):
                record = self._restate_month(info, month, reason, now, only_changed)
                if record is not None:
                    made.append(record)
        return made

    def _restate_month(
        self, info: OrgInfo, month: Month, reason: str, now: datetime, only_changed: bool
    ) -> RestatementRecord | None:
        snap = sql.snapshot(self.store, info, month)
        slot = (info.id, month_index(month))
        if only_changed and self._seen.get(slot) == snap.fingerprint():
            return None
        con = self.store.cursor()
        listed = set(sql.frozen_keys(con, info, month))
        for record in self._records(info, month):
            listed = record.restatement.apply(listed)
        current = set(sql.person_keys(snap.persons, snap.values, snap.kinds))
        tombstones = sql.erased(con, info)
        privacy = getattr(self.meter, "privacy", None)
        mark = self.tombstone or getattr(privacy, "tombstone", None)
        if tombstones and mark is not None:
            current = {t if (t := mark(info.name, k)) in tombstones else k for k in current}
        current |= {k for k in listed if core.is_tombstone(k)}
        change = Restatement.diff(month, listed, current, reason)
        record = None
        if change.changed:

            def job(con: Any) -> tuple[int, None]:
                rid = sql.insert_restatement(
                    con,
                    info,
                    month,
                    now,
                    reason,
                    change.previous_mau,
                    change.new_mau,
                    change.added,
                    change.removed,
                )
                detail = {
                    "month": str(month),
                    "restatement": rid,
                    "reason": reason,
                    "previous_mau": change.previous_mau,
                    "new_mau": change.new_mau,
                    "added": len(change.added),
                    "removed": len(change.removed),
                }
                self.meter.audit.append(con, info, "restatement", Action.RESTATEMENT, detail)
                return rid, None

            rid = self.store.write(job, (info.id,))
            record = RestatementRecord(rid, now, change)
        self._seen[slot] = snap.fingerprint()
        return record

    def check(self, now: datetime) -> list[RestatementRecord]:
        """The periodic restatement check (a loop tick): identity merges and late data can
        change closed months; only months whose counted persons moved are recounted."""
        made = []
        for info in self.store.orgs():
            made += self.restate(info.name, Cause.IDENTITY_MERGE.value, now, only_changed=True)
        return made

    def after_import(self, org: str) -> list[RestatementRecord]:
        """Late events imported into closed months: restate those that changed."""
        info = self.store.org(org)
        if not sql.closed_months(self.store.cursor(), info):
            return []
        return self.restate(org, Cause.LATE_EVENTS.value, only_changed=True)

    # ---- explanations and inflation ----------------------------------------------------------

    def explain(self, org: str, person_id: str, month: Month | None = None) -> Explanation:
        """Why a person was, or was not, counted in a month (default: the current one)."""
        from maumeter.billing.explain import explain

        return explain(self.meter, org, person_id, month or self.meter.current_month(org))

    def inflation(self, org: str, month: Month | None = None) -> Inflation:
        """How much of a month's MAU is anonymous (see ``maumeter.billing.inflation``)."""
        from maumeter.billing.inflation import inflation

        return inflation(self.meter, org, month or self.meter.current_month(org))
