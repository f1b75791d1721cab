"""Pseudonymisation: ids stored as keyed HMACs at every way in, the same counts, raw ids absent
from the file; explain-style lookups and erasure take the raw id."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from maumeter.core.errors import StoreUnavailable
from maumeter.meter import Meter
from maumeter.store.privacy import Secrets
from privacy.helpers import ADA, ADA_ANON, JAN, MAR, file_bytes, history

SECRETS = Secrets(pseudonymize="pseudonym-secret-for-tests", erasure="erasure-secret")


def fill(meter: Meter, tmp_path: Path) -> None:
    """The same data through every way in: bulk file, records, live ingest, admission."""
    meter.create_org("acme")
    meter.create_project("acme", "web")
    rows = history()
    jsonl = tmp_path / f"history-{id(meter)}.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows[:6]))
    meter.import_file(jsonl, "acme", "web")
    meter.import_records([rows[6:]], "acme", "web")
    live = [
        {"type": "track", "userId": "live-lena", "anonymousId": "anon-lena", "event": "Go"},
        {"type": "alias", "previousId": "old-lena", "userId": "live-lena"},
    ]
    meter.ingest(live, "acme", "web")
    project = meter.store.project("acme", "web")
    assert meter.admit(project, {"anonymousId": "gate-visitor"}).admitted


def figures(meter: Meter) -> list[tuple[int, int, int]]:
    return [
        (u.mau, u.identified, u.anonymous)
        for u in (meter.mau("acme", JAN), meter.mau("acme", MAR), meter.mau("acme", MAR, "web"))
    ]


def test_counts_are_unchanged_and_raw_ids_never_reach_the_file(
    tmp_path: Path, clock: object
) -> None:
    plain_db, hashed_db = tmp_path / "plain.duckdb", tmp_path / "hashed.duckdb"
    with Meter.open(plain_db, clock=clock) as plain:  # type: ignore[arg-type]
        fill(plain, tmp_path)
        expected = figures(plain)
    with Meter.open(hashed_db, clock=clock, secrets=SECRETS) as hashed:  # type: ignore[arg-type]
        fill(hashed, tmp_path)
        assert figures(hashed) == expected
        assert hashed.verify("acme").equal
        stored = hashed.privacy.pseudonym("acme", ADA)
        assert stored.startswith("p:") and len(stored) == 66
        keys = [p.person for p in hashed.active_persons("acme", MAR)]
        assert stored in keys and ADA not in keys
    raw = [ADA, ADA_ANON, "live-lena", "anon-lena", "old-lena", "gate-visitor", "visitor-1"]
    assert [r for r in raw if r.encode() in file_bytes(plain_db)] == raw  # the control
    assert not [r for r in raw if r.encode() in file_bytes(hashed_db)]


def test_erasure_takes_the_raw_id(tmp_path: Path, clock: object) -> None:
    with Meter.open(tmp_path / "h.duckdb", clock=clock, secrets=SECRETS) as meter:  # type: ignore[arg-type]
        fill(meter, tmp_path)
        before = meter.mau("acme", MAR).mau
        report = meter.erase("acme", ADA)
        assert report.persons == 1
        assert meter.mau("acme", MAR).mau == before - 1


def test_the_store_refuses_a_missing_or_different_secret(tmp_path: Path) -> None:
    db = tmp_path / "h.duckdb"
    with Meter.open(db, secrets=SECRETS) as meter:
        meter.create_org("acme")
    with pytest.raises(StoreUnavailable, match="MAUMETER_PSEUDONYMIZE_SECRET"):
        Meter.open(db)
    with pytest.raises(StoreUnavailable, match="not the secret"):
        Meter.open(db, secrets=Secrets(pseudonymize="another"))
    plain = tmp_path / "plain.duckdb"
    with Meter.open(plain) as meter:
        meter.create_org("acme")
        meter.create_project("acme", "web")
        meter.ingest([{"type": "track", "userId": "u", "event": "x"}], "acme", "web")
    with pytest.raises(StoreUnavailable, match="already holds raw ids"):
        Meter.open(plain, secrets=SECRETS)
