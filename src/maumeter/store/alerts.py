"""SQL of usage alerts: each org's thresholds, and the alerts that have fired.

``alerts_fired`` has one row per (org, month, key), its primary key: the record that an alert
fired is what makes it fire once. Writes run in the single writer's transaction (the caller's
``con``); reads on a reading cursor.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

__all__ = ["fired", "fired_keys", "record_fired", "save_settings", "settings"]


def settings(con: duckdb.DuckDBPyConnection, org_id: int) -> tuple[list[int], bool] | None:
    """The org's thresholds (percents) and whether "projected" alerts are on; None if unset."""
    row = con.execute(
        "SELECT thresholds, projected FROM alert_settings WHERE org_id = ?", [org_id]
    ).fetchone()
    return None if row is None else (list(row[0]), bool(row[1]))


def save_settings(
    con: duckdb.DuckDBPyConnection,
    org_id: int,
    thresholds: list[int],
    projected: bool,
    now: datetime,
) -> None:
    con.execute(
        "INSERT OR REPLACE INTO alert_settings VALUES (?, ?, ?, ?)",
        [org_id, thresholds, projected, now],
    )


def fired_keys(con: duckdb.DuckDBPyConnection, org_id: int, month: int) -> set[str]:
    rows = con.execute(
        "SELECT key FROM alerts_fired WHERE org_id = ? AND month = ?", [org_id, month]
    ).fetchall()
    return {row[0] for row in rows}


def record_fired(
    con: duckdb.DuckDBPyConnection,
    org_id: int,
    month: int,
    key: str,
    event_id: str,
    payload: str,
    now: datetime,
) -> None:
    """Record that an alert fired; a second record of the same key fails the transaction."""
    con.execute(
        "INSERT INTO alerts_fired VALUES (?, ?, ?, ?, ?, ?)",
        [org_id, month, key, event_id, payload, now],
    )


def fired(
    con: duckdb.DuckDBPyConnection, org_id: int, month: int
) -> list[tuple[str, str, str, datetime]]:
    """(key, event id, payload JSON, fired at) of a month's alerts, in the order they fired."""
    return con.execute(
        "SELECT key, event_id, payload, fired_at FROM alerts_fired "
        "WHERE org_id = ? AND month = ? ORDER BY fired_at",
        [org_id, month],
    ).fetchall()
