"""The dedupe index: hash hits are only candidates, so a collision never drops an event."""

from __future__ import annotations

import numpy as np

from maumeter.store.dedupe import MERGE_AT, DedupeIndex, first_occurrences


def test_first_occurrence_wins_within_a_batch() -> None:
    hashes = np.array([5, 7, 5, 9, 7], dtype=np.uint64)
    assert first_occurrences(hashes).tolist() == [True, True, False, True, False]


def test_a_collision_inside_a_batch_keeps_both_events() -> None:
    hashes = np.array([5, 5, 5], dtype=np.uint64)
    ids = ["a", "b", "a"]
    assert first_occurrences(hashes, ids).tolist() == [True, True, False]


def test_candidates_across_recent_and_merged_hashes() -> None:
    index = DedupeIndex(np.array([1, 2, 3], dtype=np.uint64))
    index.add(np.array([10, 11], dtype=np.uint64))  # kept as recent
    probe = np.array([1, 10, 4, 11, 99], dtype=np.uint64)
    assert index.candidates(probe).tolist() == [True, True, False, True, False]
    big = np.arange(1000, 1000 + MERGE_AT, dtype=np.uint64)
    index.add(big)  # folds everything into the sorted array
    assert len(index) == 3 + 2 + MERGE_AT
    assert index.candidates(np.array([10, 1500, 2**63], dtype=np.uint64)).tolist() == [
        True,
        True,
        False,
    ]


class EverythingCollides(DedupeIndex):
    """An index whose every probe is a hit: the worst case for the exact confirmation."""

    def candidates(self, hashes: np.ndarray) -> np.ndarray:
        return np.ones(len(hashes), dtype=bool)


def test_a_stored_collision_is_confirmed_against_the_log(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from maumeter.meter import Meter

    with Meter.open(tmp_path / "s.duckdb", clock=lambda: datetime(2024, 3, 1, tzinfo=UTC)) as m:
        m.create_org("o")
        m.create_project("o", "p")
        m.store._states[m.org("o").id].dedupe = EverythingCollides()
        first = m.ingest([{"type": "page", "userId": "u", "messageId": "m1"}], "o", "p")
        second = m.ingest(
            [
                {"type": "page", "userId": "u", "messageId": "m2"},
                {"type": "page", "userId": "u", "messageId": "m1"},
            ],
            "o",
            "p",
        )
        assert (first.accepted, second.accepted, second.duplicates) == (1, 1, 1)
