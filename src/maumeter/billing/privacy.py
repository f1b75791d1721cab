"""Exclusions and privacy (``Meter.privacy``): retroactive rules, erasure, pseudonyms.

**Rule changes are retroactive.** A project's new activity rule (matchers, URL filters,
bot and internal-user exclusions) is stored, the ``verdict`` of every event of the project
is recomputed in SQL with the rule's twin, and the org's live state is rebuilt: the MAU of
open months changes at once. The verdict column is derived state, so it is redone for
closed months too (``maumeter verify`` recounts with the current rule); their statements
are frozen and never change, and the recount that now differs is recorded as a restatement
(reason ``rule-change``) by ``Meter.statements.restate``.

**Erasure** (GDPR Art. 17, :mod:`maumeter.store.erasure`): the person — every id linked to
the given one — loses their events, ids, merges, refusals and traits in one transaction;
closed statements keep their counts with a tombstone in place of the person; then the store
file is compacted (copied into a fresh file and swapped in), because DuckDB keeps the bytes
of deleted rows in freed blocks. Compaction costs a full copy of the store (about the time
of reading and writing the file once; writes wait meanwhile): the price of the guarantee
that the raw id is gone from the files, which a test checks by grepping them.

A replay of the erased person's old messages is taken as new data: it counts in open months
(the person came back), and in closed months the recount maps them to their recorded
tombstone, which is already in the list, so nothing is restated.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import duckdb

from maumeter.core.activity import ActivityRule
from maumeter.core.audit import Action
from maumeter.core.errors import InvalidInput, NotFound
from maumeter.core.identity import IdKind
from maumeter.core.statement import Cause, tombstone
from maumeter.store import erasure
from maumeter.store.duckdb import DuckDBStore
from maumeter.store.privacy import ERASURE_SECRET, erasure_secret
from maumeter.store.rules import reverdict, store_rule

if TYPE_CHECKING:
    from maumeter.meter import Meter

LIBRARY = "library"


@dataclass(frozen=True, slots=True)
class ErasureReport:
    """What an erasure did: counts and checksums only (it names no one)."""

    org: str
    persons: int
    ids: int
    events: int
    refusals: int
    statement_rows: int
    restatements: int
    statements: tuple[dict[str, str], ...]
    compacted_bytes: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "org": self.org,
            "persons": self.persons,
            "ids": self.ids,
            "events": self.events,
            "refusals": self.refusals,
            "statement_rows": self.statement_rows,
            "restatements": self.restatements,
            "statements": list(self.statements),
            "compacted_bytes": self.compacted_bytes,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True, slots=True)
class RuleChange:
    """A project's new rule: events whose verdict changed, restatements of closed months."""

    org: str
    project: str
    rule: ActivityRule
    events_changed: int
    restatements: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "org": self.org,
            "project": self.project,
            "activity": self.rule.to_json(),
            "events_changed": self.events_changed,
            "restatements": list(self.restatements),
        }


def rule_detail(project: str, rule: ActivityRule, changed: int) -> dict[str, Any]:
    """The audit detail of a rule change: its shape, never the internal user ids themselves."""
    return {
        "project": project,
        "preset": rule.preset,
        "matchers": len(rule.matchers),
        "url_include": list(rule.url_include),
        "url_exclude": list(rule.url_exclude),
        "internal_user_ids": len(rule.internal_user_ids),
        "internal_email_domains": sorted(rule.internal_email_domains),
        "exclude_bots": rule.exclude_bots,
        "bot_user_agents": len(rule.bot_user_agents),
        "events_changed": changed,
    }


class Privacy:
    """Retroactive rules, erasure and pseudonyms over one meter's store."""

    def __init__(self, meter: Meter) -> None:
        self.meter = meter
        self._secret: str | None = None

    @property
    def store(self) -> DuckDBStore:
        store = self.meter.store
        if not isinstance(store, DuckDBStore):
            raise TypeError("privacy needs the DuckDB store")
        return store

    # ---- ids ---------------------------------------------------------------------------------

    def pseudonym(self, org: str, person_id: str) -> str:
        """The id as stored: its keyed HMAC when the store pseudonymises, else itself."""
        return self.store.pseudonyms.of(self.store.org(org).id, person_id)

    def tombstone(self, org: str, key: str) -> str:
        """The tombstone of a person key (the hook ``Statements.tombstone`` calls)."""
        if self._secret is None:
            self._secret = self.store.secrets.erasure or self._stored_secret()
        return tombstone(self._secret, org, key)

    def _stored_secret(self) -> str:
        rows = (
            self.store.cursor()
            .execute("SELECT value FROM privacy_settings WHERE name = ?", [ERASURE_SECRET])
            .fetchall()
        )
        if not rows:
            raise NotFound("no erasure secret yet: nothing was erased")
        return str(rows[0][0])

    # ---- erasure -----------------------------------------------------------------------------

    def erase(self, org: str, person_id: str, actor: str = LIBRARY) -> ErasureReport:
        """Erase the person holding ``person_id`` (a user or anonymous id, raw even when the
        store pseudonymises): their data goes, closed statements keep their counts."""
        if not isinstance(person_id, str) or not person_id.strip():
            raise InvalidInput.field("person_id", "expected a user id or an anonymous id")
        started = time.perf_counter()
        store = self.store
        info = store.org(org)
        value = store.pseudonyms.of(info.id, person_id)
        now = self.meter.clock()
        audit = self.meter.audit

        def job(con: duckdb.DuckDBPyConnection) -> tuple[erasure.Erased, None]:
            graph = store.counts(info).graph
            found = (graph.lookup(kind, value) for kind in (IdKind.USER, IdKind.ANONYMOUS))
            roots = {graph.find(i) for i in found if i is not None}
            if not roots:
                raise NotFound(f"no person with the id {person_id!r} in org {org!r}")
            secret = erasure_secret(con, store.secrets.erasure)
            done = erasure.erase(con, info.id, info.name, graph, roots, secret, now)
            audit.append(con, info, actor, Action.ERASURE, done.audit_detail())
            return done, None

        done: erasure.Erased = store.rewrite(info.id, job)
        size = store.compact()
        statements = tuple(
            {"month": str(m), "old_checksum": old, "new_checksum": new}
            for m, old, new in done.checksums
        )
        return ErasureReport(
            org,
            done.persons,
            done.ids,
            done.events,
            done.refusals,
            done.statement_rows,
            done.restatements,
            statements,
            size,
            time.perf_counter() - started,
        )

    # ---- rules -------------------------------------------------------------------------------

    def set_rule(
        self, org: str, project: str, rule: ActivityRule, actor: str = LIBRARY
    ) -> RuleChange:
        """Give a project a new activity rule, retroactively (see the module doc)."""
        if not isinstance(rule, ActivityRule):
            raise InvalidInput.field("activity", "expected an activity rule")
        store = self.store
        info = store.org(org)
        target = store.project(org, project)
        stored = store.pseudonyms.rule(info.id, rule)
        audit = self.meter.audit

        def job(con: duckdb.DuckDBPyConnection) -> tuple[int, None]:
            store_rule(con, target.id, json.dumps(stored.to_json()))
            changed = reverdict(con, info.id, target.id, stored)
            audit.append(con, info, actor, Action.RULE_SET, rule_detail(project, stored, changed))
            return changed, None

        changed: int = store.rewrite(info.id, job, replace(target, activity=stored))
        statements = getattr(self.meter, "statements", None)
        made: list[Any] = []
        if statements is not None:
            made = statements.restate(org, Cause.RULE_CHANGE.value, self.meter.clock())
        return RuleChange(org, project, stored, changed, tuple(r.to_dict() for r in made))
