"""API keys: three kinds, stored only as digests, compared in constant time.

* a project's **write key** (``wk_``): ingest and admission for that project; it is embedded in
  browsers, so it can do nothing else;
* an org's **secret key** (``sk_``): read the org (usage, series, persons, verify) and manage
  its projects and keys;
* the operator's **admin token** (``mt_``): create orgs, and everything a secret key can do.

A store keeps a key's SHA-256 digest and a short hint (its first characters) to recognise it in
a list; the key itself is shown once, when created. Up to two keys of a kind are active per
project (write) or org (secret) so a rotation never has a gap: create the new key, deploy it,
revoke the old one.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

KeyKind = Literal["write", "secret", "admin"]
PREFIX: Final[dict[str, str]] = {"write": "wk_", "secret": "sk_", "admin": "mt_"}
MAX_ACTIVE: Final = 2
HINT_CHARS: Final = 8


def digest(token: str) -> str:
    """The stored form of a key: SHA-256 hex (keys are long random strings, no salt needed)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def hint(token: str) -> str:
    return token[:HINT_CHARS] + "…"


def same_digest(a: str, b: str) -> bool:
    """Constant-time comparison of two digests."""
    return hmac.compare_digest(a.encode(), b.encode())


@dataclass(frozen=True, slots=True)
class Key:
    id: int
    kind: KeyKind
    org_id: int | None
    project_id: int | None
    digest: str
    hint: str
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def to_dict(self, org: str | None = None, project: str | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "org": org,
            "project": project,
            "hint": self.hint,
            "created_at": _iso(self.created_at),
            "revoked_at": _iso(self.revoked_at) if self.revoked_at else None,
            "active": self.active,
        }


def _iso(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")
