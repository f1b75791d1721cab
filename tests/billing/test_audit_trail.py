"""Billing actions leave an audit trail: plan set, month close, restatement — each in the
org's hash chain, with counts and checksums but no person in it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from maumeter.core.months import Month
from maumeter.meter import Meter

MARCH = Month(2024, 3)


def test_plan_close_and_restatement_are_audited(meter: Meter, clock: Any) -> None:
    meter.create_org("acme")
    meter.create_project("acme", "web")
    meter.set_plan("acme", {"tier": "growth", "policy": "soft"}, actor="admin")
    clock.now = datetime(2024, 3, 10, tzinfo=UTC)
    web = meter.store.project("acme", "web")
    meter.ingest_project(web, [{"type": "track", "userId": "ada", "event": "x", "messageId": "1"}])
    clock.now = datetime(2024, 4, 9, tzinfo=UTC)
    statement = meter.statements.close("acme", MARCH, actor="secret:sk_abc…")
    late = {"type": "track", "userId": "bob", "event": "x", "messageId": "2"}
    meter.import_records([[{**late, "timestamp": "2024-03-20T10:00:00Z"}]], "acme", "web")

    entries = meter.audit.entries("acme")
    actions = [(e.action, e.actor) for e in entries]
    assert ("plan.set", "admin") in actions
    assert ("month.close", "secret:sk_abc…") in actions
    close = next(e for e in entries if e.action == "month.close")
    assert close.detail == {"month": "2024-03", "mau": 1, "checksum": statement.checksum}
    restated = [e for e in entries if e.action == "statement.restate"]
    assert len(restated) == 1
    assert restated[0].detail["new_mau"] == 2 and restated[0].detail["added"] == 1
    assert "bob" not in str([e.to_dict() for e in entries]) and "ada" not in str(entries)
    assert meter.audit.verify("acme").intact
