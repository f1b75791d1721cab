"""Erasure: data gone from the files, counts of open months recounted, closed statements kept
(tombstones, same count, checksum re-sealed), replays not resurrected, the audit log clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from maumeter.core import statement
from maumeter.core.activity import DEFAULT_RULE
from maumeter.core.errors import NotFound
from maumeter.meter import Meter
from privacy.helpers import (
    ADA,
    ADA_ANON,
    ADA_EMAIL,
    JAN,
    MAR,
    file_bytes,
    history,
    naive_mau,
    setup,
)

RAW = (ADA.encode(), ADA_ANON.encode(), ADA_EMAIL.encode())


def test_erasure_removes_the_person_from_the_files(meter: Meter, tmp_path: Path) -> None:
    setup(meter)
    db = tmp_path / "test.duckdb"
    meter.store.cursor().execute("CHECKPOINT")
    before = file_bytes(db)
    assert all(raw in before for raw in RAW), "the test must see the raw ids before erasure"

    report = meter.erase("acme", ADA_ANON, actor="cli")  # any of the person's ids will do

    assert (report.persons, report.ids, report.events) == (1, 2, 4)
    assert report.statement_rows == 1 and len(report.statements) == 1
    after = file_bytes(db)
    assert not [raw for raw in RAW if raw in after]
    # ... and still after more writes and a clean close with its checkpoint
    meter.ingest([{"type": "track", "userId": "dave", "event": "Logged In"}], "acme", "web")
    meter.close()
    assert not [raw for raw in RAW if raw in file_bytes(db)]


def test_open_months_recount_and_closed_statements_keep_their_count(meter: Meter) -> None:
    statements = setup(meter)
    frozen = statements.get("acme", JAN)
    assert meter.mau("acme", MAR).mau == naive_mau(history(), MAR, DEFAULT_RULE, set()) == 6

    report = meter.erase("acme", ADA)

    assert meter.mau("acme", MAR).mau == naive_mau(history(), MAR, DEFAULT_RULE, {ADA}) == 5
    assert meter.verify("acme").equal
    kept = statements.get("acme", JAN)
    assert kept.mau == frozen.mau == 5
    keys = statements.persons("acme", JAN).column("person_key").to_pylist()
    assert len(keys) == kept.mau  # the list reconciles: one row per counted person
    assert ADA not in keys and sum(statement.is_tombstone(k) for k in keys) == 1
    assert statement.checksum(keys) == kept.checksum != frozen.checksum
    assert report.statements[0] == {
        "month": "2024-01",
        "old_checksum": frozen.checksum,
        "new_checksum": kept.checksum,
    }
    entry = meter.audit.entries("acme")[-1]
    assert entry.action == "person.erase" and entry.actor == "library"
    assert entry.detail["statements"][0]["new_checksum"] == kept.checksum
    text = repr(meter.store.cursor().execute("SELECT * FROM audit_log").fetchall())
    assert ADA not in text and ADA_ANON not in text


def test_replaying_an_erased_person_does_not_resurrect_them(meter: Meter) -> None:
    statements = setup(meter)
    meter.erase("acme", ADA)
    frozen = statements.get("acme", JAN)
    january = [r for r in history() if r["timestamp"].startswith("2024-01")]

    replayed = meter.import_records([january], "acme", "web")  # restates changed months

    assert replayed.accepted == 3  # ada's messages are new again; the others are duplicates
    assert meter.mau("acme", JAN).mau == frozen.mau  # counted live again, as a tombstone...
    assert statements.restate("acme", "late-events") == []
    kept = statements.get("acme", JAN)
    assert kept.restatements == ()  # ... already in the list: nothing added
    assert (kept.mau, kept.checksum) == (frozen.mau, frozen.checksum)


def test_restatement_lists_get_tombstones(meter: Meter) -> None:
    statements = setup(meter)
    late = [{"type": "track", "userId": "late-lucy", "event": "Logged In",
             "messageId": "late-1", "timestamp": "2024-01-20T10:00:00Z"}]  # fmt: skip
    meter.import_records([late], "acme", "web")  # restates the closed month it lands in
    [made] = statements.get("acme", JAN).restatements
    assert made.restatement.added == ("late-lucy",)

    report = meter.erase("acme", "late-lucy")

    assert report.restatements == 1
    [kept] = statements.get("acme", JAN).restatements
    assert statement.is_tombstone(kept.restatement.added[0])
    assert statements.restate("acme", "erasure") == []


def test_erasing_an_unknown_person_is_not_found(meter: Meter) -> None:
    setup(meter)
    meter.erase("acme", "bob")
    with pytest.raises(NotFound):
        meter.erase("acme", "bob")
    with pytest.raises(NotFound):
        meter.erase("acme", "nobody")
