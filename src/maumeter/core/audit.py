"""The audit log: append-only, hash-chained entries for admin actions, closes, restatements and
erasures.

Each entry's hash is ``sha256(prev_hash + canonical JSON of the entry)``, hex, where the first
entry's ``prev_hash`` is 64 zeros. Changing, removing, inserting or reordering any entry breaks
every later link, which :func:`verify_chain` finds. Cutting entries off the *end* leaves a valid
shorter chain; to catch that, keep the latest hash (the *head*) somewhere else too — a
statement, a report, the operator's notes — and pass it as ``head``.

Canonical JSON: keys sorted, no spaces, UTF-8 (not ``\\u`` escapes), no floats, ``at`` as
ISO 8601 in UTC with microseconds. Anyone can recompute a hash with a few lines of any
language.

**No personal data.** An audit log outlives erasures, so ``detail`` holds only what identifies
no person: months, counts, statement checksums, restatement ids, settings. An erasure is logged
as "one person erased, N statements restated", never with the id or its tombstone. As a guard
(not a guarantee), detail keys naming person fields (``userId``, ``email``...) are refused.

A chain per org is the natural unit (``maumeter audit ORG`` verifies one org's history alone);
``org`` None is for instance-wide actions. The store assigns ``seq`` under its write lock.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

__all__ = ["GENESIS", "Action", "Entry", "canonical", "chain", "verify_chain"]

GENESIS = "0" * 64
PERSONAL_KEYS = frozenset(
    {
        "anonymousid",
        "anonymous_id",
        "userid",
        "user_id",
        "previousid",
        "person",
        "person_key",
        "person_id",
        "email",
        "ip",
        "traits",
        "name",
        "phone",
    }
)


class Action(StrEnum):
    """The actions the meter logs; ``Entry.action`` may be any dotted name, these are the
    ones maumeter itself writes."""

    ORG_CREATE = "org.create"
    PLAN_SET = "plan.set"
    RULE_SET = "rule.set"
    KEY_ROTATE = "key.rotate"
    MONTH_CLOSE = "month.close"
    RESTATEMENT = "statement.restate"
    ERASURE = "person.erase"
    WEBHOOK_ADD = "webhook.add"
    WEBHOOK_REMOVE = "webhook.remove"


def _plain(value: Any, path: str) -> Any:
    """A JSON value with a single canonical text: no floats, string keys, no person fields."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{path}: keys must be strings, got {key!r}")
            if key.lower() in PERSONAL_KEYS:
                raise ValueError(f"{path}.{key}: the audit log holds no personal data")
            out[key] = _plain(item, f"{path}.{key}")
        return out
    if isinstance(value, list | tuple):
        return [_plain(item, f"{path}[{i}]") for i, item in enumerate(value)]
    raise ValueError(f"{path}: expected JSON without floats, got {type(value).__name__}")


def _at(at: datetime) -> str:
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"audit times must be timezone-aware datetimes, got {at!r}")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(
    seq: int, at: datetime, org: str | None, actor: str, action: str, detail: Mapping[str, Any]
) -> bytes:
    """The exact bytes an entry's hash covers (with the previous hash in front)."""
    body = {
        "seq": seq,
        "at": _at(at),
        "org": org,
        "actor": actor,
        "action": action,
        "detail": _plain(detail, "detail"),
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode()


def _hash(prev_hash: str, body: bytes) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + body).hexdigest()


@dataclass(frozen=True, slots=True)
class Entry:
    """One audit entry, as stored: the fields, the previous entry's hash and its own."""

    seq: int
    at: datetime
    org: str | None
    actor: str
    action: str
    detail: Mapping[str, Any]
    prev_hash: str
    hash: str

    def computed_hash(self) -> str:
        """The hash the entry's fields give now; differs from ``hash`` if anything changed."""
        body = canonical(self.seq, self.at, self.org, self.actor, self.action, self.detail)
        return _hash(self.prev_hash, body)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": _at(self.at),
            "org": self.org,
            "actor": self.actor,
            "action": self.action,
            "detail": _plain(self.detail, "detail"),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Entry:
        """As stored; nothing is recomputed, so that ``verify_chain`` sees any tampering."""
        return cls(
            data["seq"],
            datetime.fromisoformat(data["at"]),
            data["org"],
            data["actor"],
            data["action"],
            data["detail"],
            data["prev_hash"],
            data["hash"],
        )


def chain(
    prev: Entry | None,
    *,
    at: datetime,
    org: str | None,
    actor: str,
    action: str,
    detail: Mapping[str, Any] | None = None,
) -> Entry:
    """The entry that follows ``prev`` (None: the first of a chain). ``actor`` says who acted:
    ``admin``, ``org:acme`` (its secret key), ``cli``, ``system`` (automatic closes)."""
    if not isinstance(actor, str) or not actor or not isinstance(action, str) or not action:
        raise ValueError("an audit entry needs an actor and an action")
    if org is not None and not isinstance(org, str):
        raise ValueError(f"org must be a name or None, got {org!r}")
    seq = 1 if prev is None else prev.seq + 1
    prev_hash = GENESIS if prev is None else prev.hash
    plain = _plain(detail or {}, "detail")
    body = canonical(seq, at, org, actor, action, plain)
    return Entry(
        seq, at.astimezone(UTC), org, actor, str(action), plain, prev_hash, _hash(prev_hash, body)
    )


def verify_chain(
    entries: Iterable[Entry], prev: Entry | None = None, head: str | None = None
) -> int | None:
    """The first sequence number at which the chain breaks, or None if it holds.

    ``entries`` must start right after ``prev`` (None: at seq 1, from the genesis hash). The
    number returned is the one the failing position should hold: a changed entry's own,
    the first missing one's, or — with ``head``, the hash the last entry must have — the one
    after the last entry when entries were cut off the end.
    """
    expected_seq = 1 if prev is None else prev.seq + 1
    expected_prev = GENESIS if prev is None else prev.hash
    for entry in entries:
        try:
            intact = entry.computed_hash() == entry.hash
        except (ValueError, TypeError, AttributeError):
            intact = False
        if not intact or entry.seq != expected_seq or entry.prev_hash != expected_prev:
            return expected_seq
        expected_prev = entry.hash
        expected_seq += 1
    if head is not None and head != expected_prev:
        return expected_seq
    return None
