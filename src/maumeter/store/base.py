"""The store interface: what `Meter` needs from persistence, and nothing more.

The embedded DuckDB store implements it; scale-out backends (Redis for live state, a Parquet
lake for the log) are to fit behind the same seams. Counting state is handed out as
:class:`~maumeter.store.counters.OrgCounts` (roaring bitmaps), read under :meth:`Store.lock`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

import pyarrow as pa

from maumeter.core.activity import ActivityRule
from maumeter.core.admission import Decision
from maumeter.core.events import Event
from maumeter.core.keys import Key, KeyKind
from maumeter.core.months import Month

if TYPE_CHECKING:
    from maumeter.store.counters import MauFigures, OrgCounts
    from maumeter.store.duckdb import OrgInfo, ProjectInfo
    from maumeter.store.ingest import BatchOutcome


class Store(Protocol):
    """Orgs and projects, the append-only log, and the live counts derived from it."""

    def close(self) -> None: ...

    def create_org(
        self,
        name: str,
        timezone: str,
        cap: int | None,
        policy: str,
        now: datetime,
        secret: tuple[str, str] | None = None,
    ) -> OrgInfo: ...

    def create_project(
        self, org: str, name: str, rule: ActivityRule, write: tuple[str, str], now: datetime
    ) -> ProjectInfo: ...

    def org(self, name: str) -> OrgInfo: ...

    def orgs(self) -> list[OrgInfo]: ...

    def project(self, org: str, name: str) -> ProjectInfo: ...

    def projects(self, org: str) -> list[ProjectInfo]: ...

    def project_by_id(self, project_id: int) -> ProjectInfo: ...

    def org_by_id(self, org_id: int) -> OrgInfo: ...

    def key_by_digest(self, digest: str) -> Key | None:
        """An active key by its digest."""
        ...

    def keys(self, org_id: int | None) -> list[Key]: ...

    def create_key(
        self,
        kind: KeyKind,
        org_id: int | None,
        project_id: int | None,
        secret: tuple[str, str],
        now: datetime,
    ) -> Key: ...

    def revoke_key(self, key_id: int, now: datetime) -> Key: ...

    def append(self, project: ProjectInfo, batch: pa.Table) -> BatchOutcome:
        """Commit a columnar batch durably; duplicates are reported, never stored twice."""
        ...

    def append_async(self, project: ProjectInfo, batch: pa.Table) -> Future[BatchOutcome]: ...

    def admit_async(
        self,
        org: OrgInfo,
        project: ProjectInfo,
        event: Event,
        received: datetime,
        month: Month,
        cap: int | None = None,
    ) -> Future[Decision]:
        """Decide atomically whether a person may be served; count and commit the admitted
        (the future resolves once committed)."""
        ...

    def refused(self, org: OrgInfo, month: Month) -> int: ...

    def mau(self, org: OrgInfo, month: Month, project: ProjectInfo | None) -> MauFigures: ...

    def counts(self, org: OrgInfo) -> OrgCounts: ...

    def lock(self) -> threading.RLock: ...

    def qualifying_events(
        self, org: OrgInfo, first_day: int, last_day: int, project: ProjectInfo | None
    ) -> list[tuple[int, int, datetime, str, str | None, str]]: ...

    def log(self, org: OrgInfo) -> Iterator[tuple[str, datetime, Event]]:
        """Every event of the org in log order, as core events (for the reference count)."""
        ...
