"""SQL of webhooks and their delivery queue.

``deliveries`` is the persistent queue: one row per (webhook, alert event), unique, with the
time of its next attempt; ``delivery_attempts`` is the log. A restart finds the queue as it
was. Ids are ``max + 1``, safe because every write goes through the one writer. Writes take the
writer's ``con`` (inside its transaction); reads take a reading cursor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

__all__ = [
    "Due",
    "Outcome",
    "WebhookRow",
    "active_count",
    "add_webhook",
    "attempts",
    "deliveries",
    "due",
    "enqueue",
    "record",
    "remove_webhook",
    "webhooks",
]

PENDING, DELIVERED, FAILED, CANCELLED = "pending", "delivered", "failed", "cancelled"


@dataclass(frozen=True, slots=True)
class WebhookRow:
    id: int
    org_id: int
    url: str
    created_at: datetime
    removed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Due:
    """A delivery whose next attempt is due, with what sending it needs."""

    id: int
    webhook_id: int
    event_id: str
    payload: str
    created_at: datetime
    attempts: int
    url: str
    secret: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """One attempt's result and the delivery's state after it."""

    delivery_id: int
    attempt: int
    attempted_at: datetime
    status: int | None
    error: str | None
    duration_ms: float
    state: str
    next_attempt: datetime | None


def add_webhook(
    con: duckdb.DuckDBPyConnection, org_id: int, url: str, secret: str, now: datetime
) -> WebhookRow:
    (next_id,) = con.execute("SELECT coalesce(max(id), 0) + 1 FROM webhooks").fetchone()  # type: ignore[misc]
    con.execute(
        "INSERT INTO webhooks VALUES (?, ?, ?, ?, ?, NULL)", [next_id, org_id, url, secret, now]
    )
    return WebhookRow(next_id, org_id, url, now, None)


def active_count(con: duckdb.DuckDBPyConnection, org_id: int) -> int:
    (n,) = con.execute(  # type: ignore[misc]
        "SELECT count(*) FROM webhooks WHERE org_id = ? AND removed_at IS NULL", [org_id]
    ).fetchone()
    return int(n)


def webhooks(
    con: duckdb.DuckDBPyConnection, org_id: int, *, removed: bool = False
) -> list[WebhookRow]:
    """The org's webhooks, oldest first; removed ones too when asked."""
    where = "" if removed else " AND removed_at IS NULL"
    rows = con.execute(
        "SELECT id, org_id, url, created_at, removed_at FROM webhooks "
        f"WHERE org_id = ?{where} ORDER BY id",
        [org_id],
    ).fetchall()
    return [WebhookRow(*row) for row in rows]


def remove_webhook(
    con: duckdb.DuckDBPyConnection, org_id: int, webhook_id: int, now: datetime
) -> WebhookRow | None:
    """Mark a webhook removed and cancel its pending deliveries; None if it is not the org's
    or already removed."""
    row = con.execute(
        "SELECT id, org_id, url, created_at, removed_at FROM webhooks "
        "WHERE id = ? AND org_id = ? AND removed_at IS NULL",
        [webhook_id, org_id],
    ).fetchone()
    if row is None:
        return None
    con.execute("UPDATE webhooks SET removed_at = ? WHERE id = ?", [now, webhook_id])
    con.execute(
        "UPDATE deliveries SET state = ?, next_attempt = NULL WHERE webhook_id = ? AND state = ?",
        [CANCELLED, webhook_id, PENDING],
    )
    return WebhookRow(*row[:4], now)


def enqueue(
    con: duckdb.DuckDBPyConnection,
    org_id: int,
    event_id: str,
    event_type: str,
    payload: str,
    now: datetime,
) -> int:
    """Queue an event for each of the org's active webhooks, due now; an event already queued
    for a webhook is not queued twice. Returns how many deliveries were queued."""
    hooks = [w.id for w in webhooks(con, org_id)]
    if not hooks:
        return 0
    (next_id,) = con.execute("SELECT coalesce(max(id), 0) + 1 FROM deliveries").fetchone()  # type: ignore[misc]
    queued = 0
    for hook in hooks:
        exists = con.execute(
            "SELECT 1 FROM deliveries WHERE webhook_id = ? AND event_id = ?", [hook, event_id]
        ).fetchone()
        if exists is not None:
            continue
        con.execute(
            "INSERT INTO deliveries VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
            [next_id + queued, hook, org_id, event_id, event_type, payload, now, now, PENDING],
        )
        queued += 1
    return queued


def due(con: duckdb.DuckDBPyConnection, now: datetime, limit: int) -> list[Due]:
    """Pending deliveries of active webhooks whose next attempt is at or before ``now``."""
    rows = con.execute(
        "SELECT d.id, d.webhook_id, d.event_id, d.payload, d.created_at, d.attempts, "
        "w.url, w.secret FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id "
        "WHERE d.state = ? AND d.next_attempt <= ? AND w.removed_at IS NULL "
        "ORDER BY d.next_attempt, d.id LIMIT ?",
        [PENDING, now, limit],
    ).fetchall()
    return [Due(*row) for row in rows]


def record(con: duckdb.DuckDBPyConnection, outcome: Outcome) -> bool:
    """Log an attempt and move its delivery on; False (nothing written) when the delivery is
    no longer pending at that attempt (its webhook was removed meanwhile)."""
    current = con.execute(
        "SELECT attempts FROM deliveries WHERE id = ? AND state = ?",
        [outcome.delivery_id, PENDING],
    ).fetchone()
    if current is None or current[0] != outcome.attempt - 1:
        return False
    con.execute(
        "UPDATE deliveries SET attempts = ?, state = ?, next_attempt = ? WHERE id = ?",
        [outcome.attempt, outcome.state, outcome.next_attempt, outcome.delivery_id],
    )
    con.execute(
        "INSERT INTO delivery_attempts VALUES (?, ?, ?, ?, ?, ?)",
        [
            outcome.delivery_id,
            outcome.attempt,
            outcome.attempted_at,
            outcome.status,
            outcome.error,
            outcome.duration_ms,
        ],
    )
    return True


def deliveries(
    con: duckdb.DuckDBPyConnection, org_id: int, webhook_id: int | None, limit: int
) -> list[tuple[int, int, str, str, str, datetime, datetime | None, str]]:
    """(id, webhook id, event id, type, payload, created at, next attempt, state), newest
    first."""
    where, params = "org_id = ?", [org_id]
    if webhook_id is not None:
        where, params = where + " AND webhook_id = ?", [org_id, webhook_id]
    return con.execute(
        "SELECT id, webhook_id, event_id, type, payload, created_at, next_attempt, state "
        f"FROM deliveries WHERE {where} ORDER BY id DESC LIMIT ?",
        [*params, limit],
    ).fetchall()


def attempts(
    con: duckdb.DuckDBPyConnection, delivery_ids: list[int]
) -> dict[int, list[tuple[int, datetime, int | None, str | None, float]]]:
    """Each delivery's attempts: (attempt, at, status, error, duration ms), in order."""
    if not delivery_ids:
        return {}
    rows = con.execute(
        "SELECT delivery_id, attempt, attempted_at, status, error, duration_ms "
        "FROM delivery_attempts WHERE list_contains(?, delivery_id) ORDER BY delivery_id, attempt",
        [delivery_ids],
    ).fetchall()
    found: dict[int, list[tuple[int, datetime, int | None, str | None, float]]] = {}
    for delivery_id, *rest in rows:
        found.setdefault(delivery_id, []).append(tuple(rest))  # type: ignore[arg-type]
    return found
