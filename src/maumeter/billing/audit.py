"""The audit log of admin actions, closes, restatements and erasures (``Meter.audit``).

Who did what, when, with no personal data (see :mod:`maumeter.core.audit`). Callers that
change state in a writer job append their entry in that same transaction with :meth:`append`,
so an action is never committed without its entry; the others use :meth:`record`, a
transaction of its own right after the action. ``actor`` is whatever the face says: the API
passes the key's kind and hint (``secret:sk_live…``) or ``admin``, the CLI ``cli``, Python
callers ``library`` unless they say otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import duckdb

from maumeter.core.audit import Entry, verify_chain
from maumeter.store import audit as sql
from maumeter.store.duckdb import OrgInfo

if TYPE_CHECKING:
    from maumeter.meter import Meter

LIBRARY = "library"


@dataclass(frozen=True, slots=True)
class AuditCheck:
    """The result of verifying one chain: intact, or the first sequence number that breaks."""

    org: str | None
    entries: int
    intact: bool
    broken_at: int | None
    head: str | None  # the last entry's hash: keep it elsewhere to detect truncation

    def to_dict(self) -> dict[str, Any]:
        return {
            "org": self.org,
            "entries": self.entries,
            "intact": self.intact,
            "broken_at": self.broken_at,
            "head": self.head,
        }


class Audit:
    """Append to and read the hash-chained audit log, one chain per org."""

    def __init__(self, meter: Meter) -> None:
        self.meter = meter

    def _target(self, org: str | None) -> tuple[int, str | None]:
        if org is None:
            return sql.INSTANCE, None
        return self.meter.store.org(org).id, org

    def append(
        self,
        con: duckdb.DuckDBPyConnection,
        org: OrgInfo | None,
        actor: str,
        action: str,
        detail: Mapping[str, Any] | None = None,
    ) -> Entry:
        """Append inside a writer job's transaction (``con`` is the job's connection)."""
        org_id, name = (sql.INSTANCE, None) if org is None else (org.id, org.name)
        return sql.append(
            con, org_id, name, actor or LIBRARY, action, detail or {}, self.meter.clock()
        )

    def record(
        self,
        org: str | None,
        actor: str,
        action: str,
        detail: Mapping[str, Any] | None = None,
    ) -> Entry:
        """Append in a transaction of its own; ``org`` None: the instance-wide chain."""
        org_id, name = self._target(org)
        at = self.meter.clock()

        def job(con: duckdb.DuckDBPyConnection) -> tuple[Entry, None]:
            return sql.append(con, org_id, name, actor or LIBRARY, action, detail or {}, at), None

        return self.meter.store.write(job)  # type: ignore[attr-defined,no-any-return]

    def entries(self, org: str | None) -> list[Entry]:
        """The org's chain, oldest first, as stored."""
        org_id, name = self._target(org)
        return sql.entries(self.meter.store.cursor(), org_id, name)  # type: ignore[attr-defined]

    def verify(self, org: str | None, head: str | None = None) -> AuditCheck:
        """Recompute every hash and link of the org's chain (and match ``head`` if given)."""
        found = self.entries(org)
        broken = verify_chain(found, None, head)
        return AuditCheck(
            org, len(found), broken is None, broken, found[-1].hash if found else None
        )
