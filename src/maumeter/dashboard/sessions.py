"""Dashboard sign-in: server-side sessions behind an opaque cookie, and CSRF tokens.

A person signs in with an org's secret key or the operator's admin token. The key itself never
goes back to the browser: the cookie holds a random session id (HttpOnly, SameSite=Strict,
Secure behind HTTPS), and the session, kept in this process's memory, holds the key. Every
request re-authenticates that key, so a revoked key ends its sessions on the next request; a
restart ends them all (sign in again). Sessions expire after :data:`LIFETIME` idle.

Every form carries the session's CSRF token (the sign-in form a per-browser one, double
submitted in a cookie); a POST without the right token is refused before anything happens.
Tokens are compared in constant time.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

from maumeter.core.keys import Key

__all__ = ["COOKIE", "LIFETIME", "LOGIN_COOKIE", "Session", "Sessions", "same_token"]

COOKIE = "maumeter_session"
LOGIN_COOKIE = "maumeter_login"
LIFETIME = 12 * 3600.0  # seconds of inactivity before a session ends
MAX_SESSIONS = 10_000


def same_token(given: str | None, expected: str) -> bool:
    """Constant-time comparison; a missing token never matches."""
    return bool(given) and secrets.compare_digest(str(given).encode(), expected.encode())


@dataclass(slots=True)
class Session:
    """One signed-in browser: the key it signed in with, and its CSRF token."""

    id: str
    token: str  # the secret key or admin token presented (memory only)
    key_id: int
    kind: str  # "secret" or "admin"
    org: str | None  # the org of a secret key; None for the admin
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    seen: float = field(default_factory=time.monotonic)
    shown: dict[str, str] = field(default_factory=dict)  # secrets to show once, then forget

    @property
    def admin(self) -> bool:
        return self.kind == "admin"

    def may_read(self, org: str) -> bool:
        return self.admin or self.org == org


class Sessions:
    """The sessions of this process (thread-safe)."""

    def __init__(self, lifetime: float = LIFETIME) -> None:
        self._lifetime = lifetime
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def open(self, token: str, key: Key, org: str | None) -> Session:
        session = Session(secrets.token_urlsafe(32), token, key.id, str(key.kind), org)
        with self._lock:
            self._expire()
            if len(self._sessions) >= MAX_SESSIONS:  # the oldest goes
                oldest = min(self._sessions.values(), key=lambda s: s.seen)
                del self._sessions[oldest.id]
            self._sessions[session.id] = session
        return session

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            now = time.monotonic()
            if now - session.seen > self._lifetime:
                del self._sessions[session_id]
                return None
            session.seen = now
            return session

    def close(self, session_id: str | None) -> None:
        with self._lock:
            self._sessions.pop(session_id or "", None)

    def _expire(self) -> None:
        now = time.monotonic()
        for sid in [s.id for s in self._sessions.values() if now - s.seen > self._lifetime]:
            del self._sessions[sid]
