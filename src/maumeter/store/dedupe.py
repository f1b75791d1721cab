"""Idempotent ingest: which message ids an org has already stored.

A duplicate is acknowledged and reported, never stored or counted twice, for as long as events
are kept. The index holds a 64-bit hash per stored message id (8 bytes per event: 80 MB at 10M
events) in a sorted array plus a small set of recent ones; a hash hit is only a *candidate*, and
the caller confirms it against the stored message ids, so a collision can never drop an event.
"""

from __future__ import annotations

import numpy as np

MERGE_AT = 65_536  # recent hashes folded into the sorted array past this many


class DedupeIndex:
    """The message-id hashes of one org."""

    __slots__ = ("_recent", "_sorted")

    def __init__(self, hashes: np.ndarray | None = None) -> None:
        base = np.empty(0, dtype=np.uint64) if hashes is None else np.asarray(hashes, np.uint64)
        self._sorted = np.sort(base)  # repeats are harmless to searchsorted; np.unique is slow
        self._recent: set[int] = set()

    def __len__(self) -> int:
        return len(self._sorted) + len(self._recent)

    def candidates(self, hashes: np.ndarray) -> np.ndarray:
        """A boolean mask: hashes already seen (a hit may be a collision; confirm it)."""
        hit = np.zeros(len(hashes), dtype=bool)
        if len(self._sorted):
            pos = np.searchsorted(self._sorted, hashes)
            pos[pos == len(self._sorted)] = len(self._sorted) - 1
            hit = self._sorted[pos] == hashes
        if self._recent:
            recent = self._recent
            if len(hashes) < 4096:
                hit |= np.fromiter((int(h) in recent for h in hashes), bool, len(hashes))
            else:
                hit |= np.isin(hashes, np.fromiter(recent, np.uint64, len(recent)))
        return hit

    def add(self, hashes: np.ndarray) -> None:
        """Record stored hashes (after their commit).

        Small batches go to a set; past ``MERGE_AT`` they are sorted and merged into the array
        by one linear insert (re-sorting ten million hashes per chunk would dominate imports).
        """
        if len(hashes) + len(self._recent) < MERGE_AT:
            self._recent.update(int(h) for h in hashes)
            return
        new = np.asarray(hashes, np.uint64)
        if self._recent:
            new = np.concatenate([new, np.fromiter(self._recent, np.uint64, len(self._recent))])
            self._recent = set()
        new = np.sort(new)
        self._sorted = np.insert(self._sorted, np.searchsorted(self._sorted, new), new)


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
