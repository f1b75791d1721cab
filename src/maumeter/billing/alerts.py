"""Usage alerts: each org's thresholds of its effective cap, checked against live usage.

``check`` asks ``Meter.live_usage`` (O(1)) which alerts are due (``core.alerts.due``), then, in
ONE transaction of the single writer, re-reads the keys already fired, records the new ones in
``alerts_fired`` (primary key org, month, key) and queues one delivery per active webhook. The
writer runs transactions one at a time and the re-read happens inside, so two concurrent checks,
or a check racing a restart, fire an alert once; the primary key stands behind it. An alert
that fires while the org has no webhook is recorded (it shows in ``fired``) and not delivered
later: an alert is news of a moment.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import duckdb

from maumeter.core.alerts import (
    DEFAULT_THRESHOLDS,
    PROJECTED_KEY,
    Alert,
    Threshold,
    due,
    parse_thresholds,
    payload,
    trusted_projection,
)
from maumeter.core.errors import InvalidInput, MaumeterError
from maumeter.core.months import Month
from maumeter.store import alerts as sql
from maumeter.store import webhooks as webhook_sql

if TYPE_CHECKING:
    from maumeter.meter import Meter
    from maumeter.store.duckdb import DuckDBStore

__all__ = ["AlertSettings", "Alerts", "Fired"]


@dataclass(frozen=True, slots=True)
class AlertSettings:
    """An org's alert thresholds (percent of the effective cap), and whether the "projected to
    exceed this month" alert is on."""

    thresholds: tuple[Threshold, ...] = DEFAULT_THRESHOLDS
    projected: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"thresholds": [t.percent for t in self.thresholds], "projected": self.projected}


@dataclass(frozen=True, slots=True)
class Fired:
    """An alert that fired: its key, when, and the payload its webhooks get."""

    key: str
    event_id: str
    fired_at: datetime
    payload: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "event_id": self.event_id,
            "fired_at": self.fired_at.astimezone(UTC).isoformat(),
            **{k: v for k, v in self.payload.items() if k != "id"},
        }


def _body(alert: Alert) -> str:
    """The payload as it is stored and sent: compact JSON, the same bytes on every attempt."""
    return json.dumps(payload(alert), separators=(",", ":"), sort_keys=True)


def _percent(fired: Fired) -> int:
    threshold = fired.payload.get("threshold")
    return threshold if isinstance(threshold, int) else 0


class Alerts:
    """Alert settings, checks and history of every org. ``meter.alerts``."""

    def __init__(self, meter: Meter) -> None:
        self._meter = meter
        self._store = cast("DuckDBStore", meter.store)

    def settings(self, org: str) -> AlertSettings:
        found = sql.settings(self._store.cursor(), self._store.org(org).id)
        if found is None:
            return AlertSettings()
        return AlertSettings(tuple(Threshold(p) for p in found[0]), found[1])

    def configure(
        self, org: str, thresholds: Sequence[int] | None = None, projected: bool | None = None
    ) -> AlertSettings:
        """Set the org's thresholds (whole percents, 1-1000) and/or the projected alert; what
        is not given stays. Alerts already fired this month stay fired."""
        info = self._store.org(org)
        current = self.settings(org)
        if projected is not None and not isinstance(projected, bool):
            raise InvalidInput.field("projected", "expected true or false")
        chosen = AlertSettings(
            parse_thresholds(thresholds) if thresholds is not None else current.thresholds,
            current.projected if projected is None else projected,
        )
        now = self._meter.clock()

        def job(con: duckdb.DuckDBPyConnection) -> tuple[None, None]:
            percents = [t.percent for t in chosen.thresholds]
            sql.save_settings(con, info.id, percents, chosen.projected, now)
            return None, None

        self._store.write(job)
        return chosen

    def check(self, org: str, now: datetime) -> list[Alert]:
        """Fire the alerts of ``org`` that are due now; returns those this call fired."""
        usage = self._meter.live_usage(org)
        if not usage.effective_cap:
            return []
        info = self._store.org(org)
        settings = self.settings(org)
        month = usage.month.index
        off = set() if settings.projected else {PROJECTED_KEY}
        projected = trusted_projection(usage.projection)

        def wanted(fired: set[str]) -> list[Alert]:
            return due(
                settings.thresholds,
                usage.mau,
                usage.effective_cap,
                projected,
                fired | off,
                org=org,
                month=usage.month,
            )

        if not wanted(sql.fired_keys(self._store.cursor(), info.id, month)):
            return []

        def job(con: duckdb.DuckDBPyConnection) -> tuple[list[Alert], None]:
            fresh = wanted(sql.fired_keys(con, info.id, month))  # again, inside the transaction
            for alert in fresh:
                body = _body(alert)
                sql.record_fired(con, info.id, month, alert.key, alert.event_id, body, now)
                webhook_sql.enqueue(con, info.id, alert.event_id, alert.type, body, now)
            return fresh, None

        return cast("list[Alert]", self._store.write(job))

    def fired(self, org: str, month: Month | None = None) -> list[Fired]:
        """The alerts fired in ``month`` (default: the current one), in the order they fired."""
        info = self._store.org(org)
        month = month or self._meter.current_month(org)
        rows = sql.fired(self._store.cursor(), info.id, month.index)
        found = [Fired(key, eid, at, json.loads(body)) for key, eid, body, at in rows]
        # the order they were decided in: thresholds ascending, then "projected"
        return sorted(found, key=lambda f: (f.fired_at, f.key == PROJECTED_KEY, _percent(f)))

    def describe(self, org: str, month: Month | None = None) -> dict[str, Any]:
        """Settings and this month's fired alerts, as the API and ``--json`` show them."""
        month = month or self._meter.current_month(org)
        return {
            "org": org,
            "month": str(month),
            **self.settings(org).to_dict(),
            "fired": [f.to_dict() for f in self.fired(org, month)],
        }

    def tick(self, now: datetime) -> int:
        """Check every org; returns how many alerts fired. One org's failure (deleted meanwhile,
        say) does not stop the others."""
        fired = 0
        for info in self._store.orgs():
            try:
                fired += len(self.check(info.name, now))
            except MaumeterError:
                continue
        return fired
