"""Shared data for the privacy tests: a small history across a closed and an open month."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from maumeter.billing.statements import Statements
from maumeter.core.activity import Verdict
from maumeter.core.events import parse_event
from maumeter.core.months import Month
from maumeter.meter import Meter

JAN, MAR = Month(2024, 1), Month(2024, 3)
ADA, ADA_ANON, ADA_EMAIL = "ada-raw-id-7f3c", "anon-ada-91de", "ada.lovelace@secret.example"


def record(n: int, day: str, **fields: Any) -> dict[str, Any]:
    base = {"type": "track", "event": "Logged In", "messageId": f"m-{n}", "timestamp": day}
    return {**base, **fields}


def history() -> list[dict[str, Any]]:
    """Ada (anonymous, then identified, with an e-mail) in January and March; bob, carol and
    two anonymous visitors; one person seen only through a monitoring agent."""
    rows = [
        record(1, "2024-01-05T10:00:00Z", anonymousId=ADA_ANON, type="page", event=None),
        record(
            2, "2024-01-06T10:00:00Z", type="identify", event=None, userId=ADA,
            anonymousId=ADA_ANON, traits={"email": ADA_EMAIL},
        ),
        record(3, "2024-01-07T10:00:00Z", userId=ADA),
        record(4, "2024-01-08T10:00:00Z", userId="bob"),
        record(5, "2024-01-09T10:00:00Z", anonymousId="visitor-1"),
        record(
            6, "2024-01-10T10:00:00Z", userId="monitor",
            context={"userAgent": "AcmeMonitor/2.1"},
        ),
        record(7, "2024-01-11T10:00:00Z", userId="staff-1"),
        record(11, "2024-03-02T10:00:00Z", userId=ADA, properties={"plan": "pro"}),
        record(12, "2024-03-03T10:00:00Z", userId="bob"),
        record(13, "2024-03-04T10:00:00Z", userId="carol"),
        record(14, "2024-03-05T10:00:00Z", anonymousId="visitor-2"),
        record(
            15, "2024-03-06T10:00:00Z", userId="monitor",
            context={"userAgent": "AcmeMonitor/2.1"},
        ),
        record(16, "2024-03-07T10:00:00Z", userId="staff-1"),
    ]  # fmt: skip
    return [{k: v for k, v in r.items() if v is not None} for r in rows]


def setup(meter: Meter, rows: list[dict[str, Any]] | None = None) -> Statements:
    """Org ``acme`` with project ``web``, the history imported, January closed."""
    meter.create_org("acme")
    meter.create_project("acme", "web")
    result = meter.import_records([rows or history()], "acme", "web")
    assert not result.rejected, result.rejected
    statements = statements_of(meter)
    statements.close("acme", JAN)
    return statements


def statements_of(meter: Meter) -> Statements:
    found = getattr(meter, "statements", None)
    if found is None:
        found = Statements(meter)
        found.tombstone = meter.privacy.tombstone
    return found


def file_bytes(db: Path) -> bytes:
    """The store's files as they are on disk (the database and its write-ahead log)."""
    data = b""
    for path in (db, db.with_name(db.name + ".wal")):
        if path.exists():
            data += path.read_bytes()
    return data


def naive_mau(rows: list[dict[str, Any]], month: Month, rule: Any, erased: set[str]) -> int:
    """Counted the slow, obvious way: parse, evaluate the rule, link ids, drop the excluded."""
    links = {r["anonymousId"]: r["userId"] for r in rows if "userId" in r and "anonymousId" in r}
    persons = set()
    for r in rows:
        if Month.of(datetime.fromisoformat(r["timestamp"]), UTC) != month:
            continue
        event = parse_event(r)
        if rule.evaluate(event) is not Verdict.QUALIFIES:
            continue
        key = event.user_id or links.get(event.anonymous_id, event.anonymous_id)
        if key in erased or rule.is_internal_user_id(key):
            continue
        persons.add(key)
    return len(persons)
