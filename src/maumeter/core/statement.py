"""The pure parts of a frozen statement: the checksum of its counted persons, the tombstone that
stands in for an erased person, and restatements.

**Checksum recipe** (so that a customer can check a statement without maumeter): write the
person keys one per line, each line ending in ``\\n``, sorted by bytes (their UTF-8 encoding),
and take the SHA-256 of that text, in lowercase hex. In a shell, with the keys in a file::

    LC_ALL=C sort keys.txt | sha256sum

or, for a non-empty list, ``printf '%s\\n' KEY... | LC_ALL=C sort | sha256sum``. An empty list
has the SHA-256 of no bytes (``e3b0c442...``). Sorting by code point, as Python does, is the
same order as sorting UTF-8 bytes. Keys are unique in a statement and cannot hold a newline
(the line format would be ambiguous): ``checksum`` refuses both rather than produce a checksum
that the recipe cannot reproduce.

**Erasure.** A closed statement keeps its count after a person is erased: in its list the
person's key is replaced by ``tombstone(secret, org, key)``, ``erased:`` and a keyed hash
(HMAC-SHA256 with a secret of the instance). The list still has exactly MAU rows; its checksum
is recomputed over the new list. The tombstone is the same for the same person of the same org
in every month, so replaying the erased person's old events can be recognised (its tombstone is
known) without keeping the raw id; without the secret it links to no one.

**Restatement.** After a close, nothing changes the statement; a later recount that differs is
recorded as a ``Restatement``: who was added, who was removed, the counts before and after, and
why.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise
from typing import Any

from maumeter.core.months import Month

__all__ = [
    "EMPTY_CHECKSUM",
    "TOMBSTONE_PREFIX",
    "Cause",
    "Restatement",
    "checksum",
    "is_tombstone",
    "tombstone",
]

TOMBSTONE_PREFIX = "erased:"
EMPTY_CHECKSUM = hashlib.sha256(b"").hexdigest()


def checksum(person_keys: Iterable[str]) -> str:
    """SHA-256 (hex) of the sorted keys, one per line, each ending in a newline (see above)."""
    keys = sorted(person_keys)
    for key in keys:
        if not isinstance(key, str) or "\n" in key:
            raise ValueError(f"person keys must be text without newlines, got {key!r}")
    for a, b in pairwise(keys):
        if a == b:
            raise ValueError(f"person key {a!r} appears twice; a statement counts each person once")
    if not keys:
        return EMPTY_CHECKSUM
    try:
        text = ("\n".join(keys) + "\n").encode()
    except UnicodeEncodeError as e:
        raise ValueError(f"person key is not valid Unicode text: {e}") from None
    return hashlib.sha256(text).hexdigest()


def tombstone(secret: bytes | str, org: str, person_key: str) -> str:
    """``erased:`` + hex HMAC-SHA256 of the org and the key (length-prefixed, so no two pairs
    share an input), keyed by the instance's erasure secret."""
    key = secret.encode() if isinstance(secret, str) else secret
    if not isinstance(key, bytes) or not key:
        raise ValueError("the tombstone secret must be non-empty")
    org_bytes = org.encode()
    message = str(len(org_bytes)).encode() + b":" + org_bytes + person_key.encode()
    return TOMBSTONE_PREFIX + hmac.new(key, message, hashlib.sha256).hexdigest()


def is_tombstone(key: str) -> bool:
    """Whether ``key`` has a tombstone's shape (a user id could, in theory, too)."""
    digest = key.removeprefix(TOMBSTONE_PREFIX)
    return digest != key and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)


class Cause(StrEnum):
    """Why a closed month was recounted; ``Restatement.reason`` may add words after these."""

    LATE_EVENTS = "late-events"
    IDENTITY_MERGE = "identity-merge"
    EXCLUSION_CHANGE = "exclusion-change"
    RULE_CHANGE = "rule-change"
    ERASURE = "erasure"


@dataclass(frozen=True, slots=True)
class Restatement:
    """A change to a closed month's count, recorded beside its frozen statement.

    ``added`` and ``removed`` are sorted and disjoint, and
    ``new_mau == previous_mau + len(added) - len(removed)``.
    """

    month: Month
    added: tuple[str, ...]
    removed: tuple[str, ...]
    previous_mau: int
    new_mau: int
    reason: str

    def __post_init__(self) -> None:
        if not isinstance(self.month, Month):
            raise TypeError(f"month must be a Month, got {self.month!r}")
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise ValueError("a restatement needs a reason")
        object.__setattr__(self, "added", tuple(sorted(self.added)))
        object.__setattr__(self, "removed", tuple(sorted(self.removed)))
        if set(self.added) & set(self.removed):
            raise ValueError("a person cannot be both added and removed")
        if len(set(self.added)) != len(self.added) or len(set(self.removed)) != len(self.removed):
            raise ValueError("added and removed must not repeat a person")
        if self.new_mau != self.previous_mau + len(self.added) - len(self.removed):
            raise ValueError(
                f"counts do not reconcile: {self.previous_mau} + {len(self.added)} added - "
                f"{len(self.removed)} removed != {self.new_mau}"
            )

    @classmethod
    def diff(
        cls, month: Month, old_keys: Iterable[str], new_keys: Iterable[str], reason: str
    ) -> Restatement:
        """The restatement taking the frozen list ``old_keys`` to the recount ``new_keys``."""
        old, new = set(old_keys), set(new_keys)
        return cls(month, tuple(new - old), tuple(old - new), len(old), len(new), reason)

    @property
    def changed(self) -> bool:
        """False when the recount found the same persons: nothing to record."""
        return bool(self.added or self.removed)

    def apply(self, keys: Iterable[str]) -> set[str]:
        """The list after this restatement, from the list before it."""
        result = set(keys)
        if len(result) != self.previous_mau or not set(self.removed) <= result:
            raise ValueError(f"this restatement does not follow from that list of {self.month}")
        return (result - set(self.removed)) | set(self.added)

    def redact(self, tombstones: Mapping[str, str]) -> Restatement:
        """This restatement with erased persons' keys replaced by their tombstones."""
        return Restatement(
            self.month,
            tuple(tombstones.get(k, k) for k in self.added),
            tuple(tombstones.get(k, k) for k in self.removed),
            self.previous_mau,
            self.new_mau,
            self.reason,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "month": str(self.month),
            "added": list(self.added),
            "removed": list(self.removed),
            "previous_mau": self.previous_mau,
            "new_mau": self.new_mau,
            "reason": self.reason,
        }
