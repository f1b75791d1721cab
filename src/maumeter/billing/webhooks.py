"""Webhooks: where an org's alerts are delivered, the persistent delivery queue, and its log.

An org registers http(s) URLs; each gets a secret (shown once) that signs every delivery
(``core.signing``: HMAC-SHA256 over ``timestamp.body``). An alert queues one delivery per
active webhook in the transaction that records it (``billing.alerts``). ``tick`` sends the
due ones: the HTTP requests run outside any transaction, in parallel, and their outcomes are
recorded afterwards in one write, so a slow receiver never holds the writer. A 2xx answer
delivers; anything else (another status, a refusal, a timeout) schedules the next attempt with
exponential backoff for at least 24 hours (``core.signing.next_attempt``), then gives up
(``failed``). The queue is in the store: a restart resumes it. Delivery is at least once (a
crash between a send and its record repeats that send): receivers drop duplicates by the
``Maumeter-Event-Id`` header, the alert's stable id.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import duckdb

from maumeter.billing import sender
from maumeter.core import signing
from maumeter.core.audit import Action
from maumeter.core.destinations import Allowlist
from maumeter.core.errors import Conflicting, InvalidInput, NotFound
from maumeter.store import webhooks as sql

if TYPE_CHECKING:
    from maumeter.meter import Meter
    from maumeter.store.duckdb import DuckDBStore

__all__ = ["Attempt", "Delivery", "DeliveryPolicy", "Webhook", "Webhooks"]

MAX_WEBHOOKS = 10  # active webhooks per org
MAX_LOG = 1000  # deliveries per log request


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """How webhooks are reached: the operator's allow list (networks and hosts that may be
    reached although not public), the request timeout, and the retry schedule. Faces build it
    from the settings; tests shorten the schedule instead of waiting hours."""

    allow: Allowlist = field(default_factory=Allowlist)
    timeout: float = 5.0
    base: timedelta = signing.BASE_DELAY
    cap: timedelta = signing.MAX_DELAY
    window: timedelta = signing.RETRY_WINDOW
    batch: int = 100  # deliveries sent per tick
    workers: int = 8  # requests in flight at once


@dataclass(frozen=True, slots=True)
class Webhook:
    id: int
    org: str
    url: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "org": self.org,
            "url": self.url,
            "created_at": _iso(self.created_at),
        }


def _iso(when: datetime | None) -> str | None:
    """UTC ISO 8601, whatever zone the database session handed the value back in."""
    return None if when is None else when.astimezone(UTC).isoformat()


@dataclass(frozen=True, slots=True)
class Attempt:
    attempt: int
    at: datetime
    status: int | None
    error: str | None
    duration_ms: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "attempt": self.attempt,
            "at": _iso(self.at),
            "status": self.status,
            "error": self.error,
            "duration_ms": self.duration_ms,
        }


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event for one webhook: its state (pending, delivered, failed, cancelled), when it
    is tried next, and every attempt so far."""

    id: int
    webhook: int
    event_id: str
    type: str
    payload: dict[str, Any]
    state: str
    created_at: datetime
    next_attempt: datetime | None
    attempts: tuple[Attempt, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "webhook": self.webhook,
            "event_id": self.event_id,
            "type": self.type,
            "state": self.state,
            "created_at": _iso(self.created_at),
            "next_attempt": _iso(self.next_attempt),
            "payload": self.payload,
            "attempts": [a.to_dict() for a in self.attempts],
        }


class Webhooks:
    """An org's webhooks and the delivery queue. ``meter.webhooks``; faces ``configure`` it."""

    def __init__(
        self,
        meter: Meter,
        policy: DeliveryPolicy | None = None,
        resolver: sender.Resolver = sender.resolve,
    ) -> None:
        self._meter = meter
        self._store = cast("DuckDBStore", meter.store)
        self.policy = policy or DeliveryPolicy()
        self._resolver = resolver
        self._sending = threading.Lock()

    def configure(self, policy: DeliveryPolicy) -> None:
        self.policy = policy

    def add(self, org: str, url: str, actor: str = "library") -> tuple[Webhook, str]:
        """Register ``url`` for ``org``'s alerts; returns the webhook and its signing secret,
        which is shown this once. Refuses URLs that are not public http(s) endpoints (unless
        allow-listed): ``InvalidInput`` on ``url``."""
        info = self._store.org(org)
        if not isinstance(url, str):
            raise InvalidInput.field("url", "expected an http(s) URL")
        sender.target(url, self.policy.allow, self._resolver)
        secret = signing.new_secret()
        now = self._meter.clock()

        def job(con: duckdb.DuckDBPyConnection) -> tuple[sql.WebhookRow, None]:
            if sql.active_count(con, info.id) >= MAX_WEBHOOKS:
                raise Conflicting(
                    f"org {org!r} has {MAX_WEBHOOKS} webhooks, the most it may have; "
                    "remove one first"
                )
            row = sql.add_webhook(con, info.id, url, secret, now)
            detail = {"webhook": row.id, "host": urlsplit(url).hostname or ""}
            self._meter.audit.append(con, info, actor, Action.WEBHOOK_ADD, detail)
            return row, None

        row = self._store.write(job)
        return Webhook(row.id, org, row.url, row.created_at), secret

    def list(self, org: str) -> list[Webhook]:
        """The org's active webhooks (never their secrets)."""
        info = self._store.org(org)
        return [
            Webhook(w.id, org, w.url, w.created_at)
            for w in sql.webhooks(self._store.cursor(), info.id)
        ]

    def remove(self, org: str, webhook_id: int, actor: str = "library") -> Webhook:
        """Remove a webhook; its pending deliveries are cancelled (their log stays)."""
        info = self._store.org(org)
        now = self._meter.clock()

        def job(con: duckdb.DuckDBPyConnection) -> tuple[sql.WebhookRow | None, None]:
            row = sql.remove_webhook(con, info.id, webhook_id, now)
            if row is not None:
                detail = {"webhook": webhook_id}
                self._meter.audit.append(con, info, actor, Action.WEBHOOK_REMOVE, detail)
            return row, None

        row = self._store.write(job)
        if row is None:
            raise NotFound(f"no webhook {webhook_id} in org {org!r}")
        return Webhook(row.id, org, row.url, row.created_at)

    def deliveries(
        self, org: str, webhook_id: int | None = None, limit: int = 100
    ) -> list[Delivery]:
        """The delivery log, newest first: each delivery with its attempts."""
        info = self._store.org(org)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LOG:
            raise InvalidInput.field("limit", f"expected 1 to {MAX_LOG}")
        con = self._store.cursor()
        if webhook_id is not None and all(
            w.id != webhook_id for w in sql.webhooks(con, info.id, removed=True)
        ):
            raise NotFound(f"no webhook {webhook_id} in org {org!r}")
        rows = sql.deliveries(con, info.id, webhook_id, limit)
        tried = sql.attempts(con, [row[0] for row in rows])
        return [
            Delivery(
                did,
                hook,
                event_id,
                kind,
                json.loads(payload),
                state,
                created,
                next_at,
                tuple(Attempt(*a) for a in tried.get(did, [])),
            )
            for did, hook, event_id, kind, payload, created, next_at, state in rows
        ]

    # ---- delivering ------------------------------------------------------------------------

    def tick(self, now: datetime) -> int:
        """Send the deliveries due at ``now``; returns how many attempts were made. One tick at
        a time per process (a tick still running makes another return 0)."""
        if not self._sending.acquire(blocking=False):
            return 0
        try:
            due = sql.due(self._store.cursor(), now, self.policy.batch)
            if not due:
                return 0
            if len(due) == 1:
                outcomes = [self._attempt(due[0], now)]
            else:
                with ThreadPoolExecutor(min(self.policy.workers, len(due))) as pool:
                    outcomes = list(pool.map(lambda d: self._attempt(d, now), due))

            def job(con: duckdb.DuckDBPyConnection) -> tuple[int, None]:
                return sum(sql.record(con, o) for o in outcomes), None

            return int(self._store.write(job))
        finally:
            self._sending.release()

    def _attempt(self, delivery: sql.Due, now: datetime) -> sql.Outcome:
        """Send one delivery and decide what follows: delivered, a later attempt, or failed."""
        body = delivery.payload.encode()
        headers = signing.headers(delivery.secret, int(now.timestamp()), body, delivery.event_id)
        policy = self.policy
        sent = sender.send(
            delivery.url,
            body,
            headers,
            allow=policy.allow,
            timeout=policy.timeout,
            resolver=self._resolver,
        )
        attempt = delivery.attempts + 1
        if sent.ok:
            state, next_at = sql.DELIVERED, None
        else:
            next_at = signing.next_attempt(
                delivery.created_at,
                attempt,
                now,
                jitter=f"{delivery.event_id}/{delivery.webhook_id}",
                window=policy.window,
                base=policy.base,
                cap=policy.cap,
            )
            state = sql.PENDING if next_at is not None else sql.FAILED
        return sql.Outcome(
            delivery.id, attempt, now, sent.status, sent.error, sent.duration_ms, state, next_at
        )
