"""The audit log's SQL: one hash chain per org in ``audit_log``, appended by the writer.

Entries are appended inside a write transaction (the caller's, when it has one), so the
action and its audit entry commit together, and the single writer makes ``seq`` gap-free
without a lock of its own. ``org_id`` 0 holds the instance-wide chain (admin tokens, ...).
The detail is stored as the canonical JSON the hash covers; nothing is recomputed on read, so
:func:`maumeter.core.audit.verify_chain` sees any change made to the table behind our back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import duckdb

from maumeter.core.audit import Entry, chain

INSTANCE = 0  # the org id of the instance-wide chain


def last(con: duckdb.DuckDBPyConnection, org_id: int, org: str | None) -> Entry | None:
    """The newest entry of an org's chain (None: the chain is empty)."""
    rows = con.execute(
        "SELECT seq, logged_at, actor, action, detail, prev_hash, hash FROM audit_log "
        "WHERE org_id = ? ORDER BY seq DESC LIMIT 1",
        [org_id],
    ).fetchall()
    return _entry(rows[0], org) if rows else None


def append(
    con: duckdb.DuckDBPyConnection,
    org_id: int,
    org: str | None,
    actor: str,
    action: str,
    detail: Mapping[str, Any],
    at: datetime,
) -> Entry:
    """Chain and insert one entry in the open transaction; refuses personal data (ValueError)."""
    entry = chain(last(con, org_id, org), at=at, org=org, actor=actor, action=action, detail=detail)
    con.execute(
        "INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            org_id,
            entry.seq,
            entry.at,
            entry.actor,
            entry.action,
            _detail_text(entry.detail),
            entry.prev_hash,
            entry.hash,
        ],
    )
    return entry


def entries(con: duckdb.DuckDBPyConnection, org_id: int, org: str | None) -> list[Entry]:
    """An org's chain in sequence order, exactly as stored."""
    rows = con.execute(
        "SELECT seq, logged_at, actor, action, detail, prev_hash, hash FROM audit_log "
        "WHERE org_id = ? ORDER BY seq",
        [org_id],
    ).fetchall()
    return [_entry(row, org) for row in rows]


def _detail_text(detail: Mapping[str, Any]) -> str:
    return json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _entry(row: tuple[Any, ...], org: str | None) -> Entry:
    seq, at, actor, action, detail, prev_hash, digest = row
    try:
        parsed = json.loads(detail)
    except ValueError:
        parsed = {"unreadable": detail}  # tampered: the hash check will fail on it
    return Entry(seq, at, org, actor, action, parsed, prev_hash, digest)
