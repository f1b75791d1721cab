"""The write-ahead journal and its folding: torn tails, segments, recovery, reads that wait.

Acknowledged means "in the journal, synced": these tests hold that a frame is read back whole
or not at all, that recovery folds exactly the frames past the recorded LSN (twice is once),
that a process dying without closing loses nothing acknowledged, and that readers and the
deduplication see acknowledged rows before they are folded.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maumeter.meter import Meter
from maumeter.store import dedupe, fold, ingest, journal
from maumeter.store.journal import Journal, read_frames, segments
from maumeter.store.schema import migrate
from maumeter.store.verdicts import _read_contexts


def _rows(i: int, n: int = 3) -> journal.Rows:
    return [
        (
            "identities",
            pa.table(
                {
                    "org_id": pa.array([1] * n, pa.int32()),
                    "idx": pa.array([i * 100 + k for k in range(n)], pa.int32()),
                    "kind": pa.array([1] * n, pa.uint8()),
                    "value": [f"id-{i}-{k}" for k in range(n)],
                }
            ),
        )
    ]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.integers(min_value=0, max_value=10_000))
def test_a_torn_tail_reads_back_as_the_whole_frames_before_it(tmp_path: Path, cut: int) -> None:
    directory = tmp_path / f"j{cut}"
    log = Journal(directory, 1)
    for i in range(5):
        log.append(_rows(i))
    log.close()
    [segment] = segments(directory)
    data = segment.read_bytes()
    cut = cut % (len(data) + 1)
    segment.write_bytes(data[:cut])
    bounds = []
    offset = 0
    for i in range(5):
        offset += len(journal.encode_frame(i + 1, _rows(i)))
        bounds.append(offset)
    whole = sum(1 for b in bounds if b <= cut)
    frames = list(read_frames(directory))
    assert [f.lsn for f in frames] == list(range(1, whole + 1))
    for i, frame in enumerate(frames):
        assert frame.rows[0][0] == "identities"
        assert frame.rows[0][1].equals(_rows(i)[0][1])


def test_a_corrupt_frame_ends_the_journal(tmp_path: Path) -> None:
    directory = tmp_path / "j"
    log = Journal(directory, 1)
    for i in range(3):
        log.append(_rows(i))
    log.close()
    [segment] = segments(directory)
    data = bytearray(segment.read_bytes())
    second = len(journal.encode_frame(1, _rows(0)))
    data[second + journal.HEADER.size + 5] ^= 0xFF  # a byte of the second frame's payload
    segment.write_bytes(bytes(data))
    assert [f.lsn for f in read_frames(directory)] == [1]


def test_segments_rotate_and_only_folded_ones_are_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal, "SEGMENT_BYTES", 1)  # every frame starts a new segment
    directory = tmp_path / "j"
    log = Journal(directory, 1)
    for i in range(4):
        log.append(_rows(i))
    assert len(segments(directory)) == 4
    assert [f.lsn for f in read_frames(directory)] == [1, 2, 3, 4]
    log.discard_through(2)
    assert [int(p.stem) for p in segments(directory)] == [3, 4]  # 4 is still being written
    log.discard_through(4)
    assert [int(p.stem) for p in segments(directory)] == [4]
    log.reset()
    assert segments(directory) == []


def test_recovery_folds_what_is_past_the_folded_lsn_once(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "s.duckdb"))
    migrate(con)
    directory = tmp_path / "j"
    log = Journal(directory, 1)
    for i in range(3):
        log.append(_rows(i))
    log.close()
    fold.fold(con, [journal.Frame(1, _rows(0))])  # frame 1 was folded before the "crash"
    assert fold.recover(con, directory) == 4
    assert segments(directory) == []
    values = [r[0] for r in con.execute("SELECT value FROM identities ORDER BY idx").fetchall()]
    assert values == [f"id-{i}-{k}" for i in range(3) for k in range(3)]
    assert fold.folded_lsn(con) == 3
    assert fold.recover(con, directory) == 4  # nothing left: nothing twice
    assert con.execute("SELECT count(*) FROM identities").fetchall()[0][0] == 9


def test_a_failed_append_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "j"
    log = Journal(directory, 1)
    log.append(_rows(0))
    real = journal.os.pwrite

    def half_then_fail(fd: int, data: memoryview, offset: int) -> int:
        real(fd, data[: len(data) // 2], offset)  # part of the frame reaches the file
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(journal.os, "pwrite", half_then_fail)
    with pytest.raises(journal.JournalError, match="No space left"):
        log.append(_rows(1))
    monkeypatch.setattr(journal.os, "pwrite", real)
    assert log.next_lsn == 2  # the failed frame took no LSN and left no bytes
    log.append(_rows(1))
    log.close()
    assert [f.lsn for f in read_frames(directory)] == [1, 2]


BATCH = [
    {"type": "track", "event": "Clicked", "userId": f"u{i}", "messageId": f"m{i}"}
    for i in range(50)
]


def test_reads_wait_for_acknowledged_rows(tmp_path: Path) -> None:
    """Folds are seconds apart; a read right after an acknowledgement still sees the rows."""
    with Meter.open(tmp_path / "s.duckdb") as meter:
        meter.create_org("acme")
        meter.create_project("acme", "web")
        assert meter.ingest(BATCH, "acme", "web").accepted == 50
        con = meter.store.cursor()
        assert con.execute("SELECT count(*) FROM events").fetchall()[0][0] == 50
        assert meter.verify("acme").equal


def test_duplicates_are_found_in_rows_not_folded_yet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every message id hashes alike: each hash hit is confirmed against the unfolded rows,
    so a new id is kept and a repeated one is not."""
    monkeypatch.setattr(
        ingest, "message_hashes", lambda ids: dedupe.np.zeros(len(ids), dedupe.np.uint64)
    )
    with Meter.open(tmp_path / "s.duckdb") as meter:
        meter.create_org("acme")
        meter.create_project("acme", "web")
        first = meter.ingest(BATCH[:10], "acme", "web")
        second = meter.ingest(BATCH[5:20], "acme", "web")
        assert (first.accepted, first.duplicates) == (10, 0)
        assert (second.accepted, second.duplicates) == (10, 5)
        meter.store.cursor()  # fold, then the tables answer too
        third = meter.ingest(BATCH[15:25], "acme", "web")
        assert (third.accepted, third.duplicates) == (5, 5)
        assert meter.mau("acme").mau == 25


CHILD = """
import os, sys
from maumeter.meter import Meter
meter = Meter.open(sys.argv[1])
meter.create_org("acme")
meter.create_project("acme", "web")
for b in range(20):
    records = [{"type": "track", "event": "Clicked", "userId": f"u{b}-{i % 7}",
                "messageId": f"m{b}-{i}"} for i in range(30)]
    result = meter.ingest(records, "acme", "web")
    print(result.accepted, flush=True)
os._exit(0)  # no close: the journal is not folded
"""


def test_a_process_dying_without_closing_loses_nothing_acknowledged(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CHILD), str(db)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert sum(int(line) for line in done.stdout.split()) == 600
    assert segments(journal.directory_of(db))  # acknowledged rows wait in the journal
    with Meter.open(db) as meter:
        con = meter.store.cursor()
        stored = "SELECT count(*), count(DISTINCT message_id) FROM events"
        assert con.execute(stored).fetchall() == [(600, 600)]
        assert meter.mau("acme").mau == 140
        assert meter.verify("acme").equal
    assert segments(journal.directory_of(db)) == []


def test_an_in_memory_store_cleans_up_its_journal() -> None:
    with Meter.open(":memory:") as meter:
        directory = meter.store._journal.directory
        meter.create_org("acme")
        meter.create_project("acme", "web")
        assert meter.ingest(BATCH, "acme", "web").accepted == 50
        assert directory.exists()
    assert not directory.exists()


def test_contexts_that_are_not_one_object_each_are_read_one_by_one() -> None:
    texts = [
        json.dumps({"userAgent": "Googlebot/2.1", "page": {"url": "https://a.example/x"}}),
        None,
        "1, 2",  # would split the joined array: must not shift the rows after it
        json.dumps({"userAgent": 5, "page": {"url": 7}}),
        "[]",
        json.dumps({"page": "https://not-an-object.example"}),
    ]
    agents, urls = _read_contexts(texts)
    assert agents == ["Googlebot/2.1", None, None, None, None, None]
    assert urls == ["https://a.example/x", None, None, None, None, None]


def test_the_folded_lsn_starts_at_zero(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "s.duckdb"))
    migrate(con)
    assert fold.folded_lsn(con) == 0
