"""Privacy in the store: pseudonymised ids, the erasure secret, and compaction of the file.

**Pseudonymisation** (optional): with a secret, every user, anonymous and previous id is stored
as ``p:`` + hex HMAC-SHA256(secret, org id + id) — at the one door every way in passes
(:meth:`DuckDBStore.append_async` for live and bulk batches, :meth:`DuckDBStore.admit`), so the
raw ids never reach the file. Equal ids give equal pseudonyms, so counts are unchanged. The org
id is in the HMAC: the same person in two orgs is not linkable. Internal-user ids of a rule are
pseudonymised the same way when the rule is stored. Traits and context (e-mails, IPs) are kept
as sent: pseudonymisation covers ids, not payloads.

The store remembers a fingerprint of the secret: it refuses to open without the secret, with
another one, or to start pseudonymising a store that already holds raw ids (persons would
split in two). **Erasure secret**: ``MAUMETER_ERASURE_SECRET`` when set, else one generated on
the first erasure and kept in ``privacy_settings`` (then anyone holding the file can test a
guessed id against a tombstone: set the variable to keep the secret off the file). Either way
it must never change: the store keeps its fingerprint and refuses a different one.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from maumeter.core.activity import ActivityRule
from maumeter.core.errors import Conflicting, StoreUnavailable
from maumeter.core.events import Event

PREFIX = "p:"
SHAPE = re.compile(r"^p:[0-9a-f]{64}$")
ID_COLUMNS = ("user_id", "anonymous_id", "previous_id")
PSEUDONYM_CHECK = "pseudonym_check"
ERASURE_SECRET = "erasure_secret"
ERASURE_CHECK = "erasure_check"


@dataclass(frozen=True, slots=True)
class Secrets:
    """The faces' privacy settings, passed to the store explicitly (the library reads no env)."""

    pseudonymize: str | None = None
    erasure: str | None = None


def _fingerprint(secret: str, purpose: str) -> str:
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def _setting(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    rows = con.execute("SELECT value FROM privacy_settings WHERE name = ?", [name]).fetchall()
    return rows[0][0] if rows else None


class Pseudonyms:
    """Keyed HMACs of ids, per org; the identity when pseudonymisation is off."""

    def __init__(self, secret: str | None) -> None:
        self._key = secret.encode() if secret else None

    @property
    def enabled(self) -> bool:
        return self._key is not None

    def of(self, org_id: int, value: str) -> str:
        """The stored form of one raw id."""
        if self._key is None:
            return value
        message = f"{org_id}:".encode() + value.encode("utf-8", "surrogatepass")
        return PREFIX + hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def event(self, org_id: int, event: Event) -> Event:
        if self._key is None:
            return event
        ids = {name: getattr(event, name) for name in ID_COLUMNS}
        return replace(
            event, **{k: None if v is None else self.of(org_id, v) for k, v in ids.items()}
        )

    def batch(self, org_id: int, batch: pa.Table) -> pa.Table:
        """The batch with its id columns replaced, each distinct id hashed once."""
        if self._key is None or batch.num_rows == 0:
            return batch
        for name in ID_COLUMNS:
            position = batch.schema.get_field_index(name)
            encoded = pc.dictionary_encode(batch.column(name)).combine_chunks()
            hashed = pa.array([self.of(org_id, v) for v in encoded.dictionary.to_pylist()])
            column = pc.take(hashed, encoded.indices)
            batch = batch.set_column(position, name, column.cast(pa.string()))
        return batch

    def rule(self, org_id: int, rule: ActivityRule) -> ActivityRule:
        """The rule with its internal user ids as stored ids (pseudonyms kept as they are)."""
        if self._key is None or not rule.internal_user_ids:
            return rule
        ids = frozenset(v if SHAPE.match(v) else self.of(org_id, v) for v in rule.internal_user_ids)
        return replace(rule, internal_user_ids=ids)


def check_pseudonyms(con: duckdb.DuckDBPyConnection, secret: str | None, path: Path) -> None:
    """Refuse to open a store with the wrong pseudonymisation setting (see the module doc)."""
    stored = _setting(con, PSEUDONYM_CHECK)
    if secret is None:
        if stored is not None:
            raise StoreUnavailable(
                f"{path} stores pseudonymised ids: set MAUMETER_PSEUDONYMIZE_SECRET to the "
                "secret it was created with"
            )
        return
    wanted = _fingerprint(secret, PSEUDONYM_CHECK)
    if stored is None:
        if con.execute("SELECT count(*) FROM identities").fetchall()[0][0]:
            raise StoreUnavailable(
                f"{path} already holds raw ids; pseudonymisation must be on from the start "
                "(unset MAUMETER_PSEUDONYMIZE_SECRET, or import into a new store)"
            )
        con.execute("INSERT INTO privacy_settings VALUES (?, ?)", [PSEUDONYM_CHECK, wanted])
    elif not hmac.compare_digest(stored, wanted):
        raise StoreUnavailable(
            f"MAUMETER_PSEUDONYMIZE_SECRET is not the secret {path} was created with"
        )


def erasure_secret(con: duckdb.DuckDBPyConnection, configured: str | None) -> str:
    """The secret of tombstones, inside a writer job: configured, else stored (made once)."""
    secret = configured or _setting(con, ERASURE_SECRET)
    if secret is None:
        secret = secrets.token_hex(32)
        con.execute("INSERT INTO privacy_settings VALUES (?, ?)", [ERASURE_SECRET, secret])
    check = _fingerprint(secret, ERASURE_CHECK)
    stored = _setting(con, ERASURE_CHECK)
    if stored is None:
        con.execute("INSERT INTO privacy_settings VALUES (?, ?)", [ERASURE_CHECK, check])
    elif not hmac.compare_digest(stored, check):
        raise Conflicting(
            "MAUMETER_ERASURE_SECRET differs from the secret of earlier erasures; tombstones "
            "would no longer match: restore the original secret"
        )
    return secret


def copy_fresh(con: duckdb.DuckDBPyConnection, path: Path) -> Path:
    """Copy the whole database into a new file beside it and return that file's path.

    DuckDB does not zero the blocks a DELETE frees; they keep the old bytes until reused. A
    fresh copy holds only live rows, so swapping it in removes erased values from the file."""
    fresh = path.with_name(path.name + ".compact")
    for leftover in (fresh, fresh.with_name(fresh.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
    name = con.execute("SELECT current_database()").fetchall()[0][0]
    quoted = str(fresh).replace("'", "''")
    con.execute("CHECKPOINT")
    con.execute(f"ATTACH '{quoted}' AS maumeter_compact")
    try:
        con.execute(f'COPY FROM DATABASE "{name}" TO maumeter_compact')
    finally:
        con.execute("DETACH maumeter_compact")
    return fresh


def swap_in(fresh: Path, path: Path) -> None:
    """Replace the store file by its fresh copy (atomic rename; the old file is unlinked)."""
    os.replace(fresh, path)
    for stale in (path.with_name(path.name + ".wal"), fresh.with_name(fresh.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()
