"""Idempotent ingest: which message ids an org has already stored.

A duplicate is acknowledged and reported, never stored or counted twice, for as long as events
are kept. The index holds a 64-bit hash per stored message id (8 bytes per event: 80 MB at 10M
events) in a sorted array plus a small sorted array of recent ones (both searched and grown
with whole-array numpy operations: no Python per event); a hash hit is only a *candidate*, and
the caller confirms it against the stored message ids, so a collision can never drop an event.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa

HASH_SQL = "md5_number_lower(message_id)"
"""The hash of a stored message id, in SQL: the same as :func:`message_hashes` computes."""

MERGE_AT = 65_536  # recent hashes folded into the sorted array past this many


class DedupeIndex:
    """The message-id hashes of one org."""

    __slots__ = ("_recent", "_sorted")

    def __init__(self, hashes: np.ndarray | None = None) -> None:
        base = np.empty(0, dtype=np.uint64) if hashes is None else np.asarray(hashes, np.uint64)
        self._sorted = np.sort(base)  # repeats are harmless to searchsorted; np.unique is slow
        self._recent = np.empty(0, dtype=np.uint64)

    def __len__(self) -> int:
        return len(self._sorted) + len(self._recent)

    def candidates(self, hashes: np.ndarray) -> np.ndarray:
        """A boolean mask: hashes already seen (a hit may be a collision; confirm it)."""
        hashes = np.asarray(hashes, np.uint64)
        return _within(self._sorted, hashes) | _within(self._recent, hashes)

    def add(self, hashes: np.ndarray) -> None:
        """Record stored hashes (after their commit).

        Batches are inserted into the small sorted array; past ``MERGE_AT`` it is merged into
        the large one by one linear insert (copying ten million hashes per batch, or re-sorting
        them per chunk, would dominate ingest and imports).
        """
        new = np.sort(np.asarray(hashes, np.uint64))
        self._recent = np.insert(self._recent, np.searchsorted(self._recent, new), new)
        if len(self._recent) >= MERGE_AT:
            recent, self._recent = self._recent, np.empty(0, dtype=np.uint64)
            self._sorted = np.insert(self._sorted, np.searchsorted(self._sorted, recent), recent)


def message_hashes(message_ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The 64-bit hash of each message id: the low half of its MD5, as DuckDB's
    ``md5_number_lower`` gives it (so the index of a store is rebuilt in SQL when it opens)."""
    md5 = hashlib.md5
    digests = b"".join([md5(m.encode()).digest() for m in message_ids.to_pylist()])
    return np.frombuffer(digests, dtype="<u8")[1::2].astype(np.uint64)


def _within(ordered: np.ndarray, hashes: np.ndarray) -> np.ndarray:
    """Mask of ``hashes`` found in the sorted array ``ordered``."""
    if not len(ordered):
        return np.zeros(len(hashes), dtype=bool)
    pos = np.searchsorted(ordered, hashes)
    pos[pos == len(ordered)] = len(ordered) - 1
    return ordered[pos] == hashes


def first_occurrences(hashes: np.ndarray, message_ids: list[str] | None = None) -> np.ndarray:
    """Mask of rows that are the first of their message id within one batch.

    Rows sharing a hash are compared by their message id (when given), so a collision inside a
    batch keeps both rows.
    """
    n = len(hashes)
    order = np.argsort(hashes, kind="stable")
    ordered = hashes[order]
    repeat = np.zeros(n, dtype=bool)
    repeat[1:] = ordered[1:] == ordered[:-1]
    first = np.ones(n, dtype=bool)
    first[order[repeat]] = False  # stable sort: the earliest row of a hash comes first
    if first.all() or message_ids is None:
        return first
    owner: dict[int, set[str]] = {}
    for i in np.flatnonzero(first):
        owner[int(hashes[i])] = {message_ids[i]}
    for i in np.flatnonzero(~first):
        seen = owner[int(hashes[i])]
        if message_ids[i] not in seen:
            seen.add(message_ids[i])
            first[i] = True
    return first
