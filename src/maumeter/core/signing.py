"""Webhook signatures and the retry schedule.

A delivery carries two headers::

    Maumeter-Timestamp: 1711929600
    Maumeter-Signature: v1=<hex HMAC-SHA256 of b"1711929600." + body, keyed by the secret>

(plus ``Maumeter-Event-Id``, the alert's event id, for deduplication). Signing the timestamp
with the body lets a receiver refuse replays older than a tolerance (5 minutes by default);
``v1=`` names the scheme so that it can change without breaking receivers, and the header may
hold several signatures (``v1=a,v1=b``) while a secret is being rotated. Comparison is
constant-time.

Retries back off exponentially (10 s, 20 s, 40 s ... at most 1 h apart) and go on until 25 h
after the first attempt, so an endpoint that is down for a day still gets the alert. Jitter is
optional and deterministic (derived from a key such as the event id), so a persistent queue can
recompute any attempt's time after a restart.

Pure: the caller gives the time; ``new_secret`` draws from ``secrets`` (randomness, not I/O).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

__all__ = [
    "BASE_DELAY",
    "DEFAULT_TOLERANCE",
    "EVENT_HEADER",
    "MAX_DELAY",
    "RETRY_WINDOW",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "backoff",
    "headers",
    "new_secret",
    "next_attempt",
    "schedule",
    "sign",
    "verify",
    "verify_headers",
]

TIMESTAMP_HEADER = "Maumeter-Timestamp"
SIGNATURE_HEADER = "Maumeter-Signature"
EVENT_HEADER = "Maumeter-Event-Id"
SCHEME = "v1"
SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE = 300  # seconds either side of the receiver's clock

BASE_DELAY = timedelta(seconds=10)
MAX_DELAY = timedelta(hours=1)
RETRY_WINDOW = timedelta(hours=25)  # the last attempt is at least 24 h after the first

Secret = bytes | str


def new_secret() -> str:
    """A fresh webhook secret: 256 random bits, URL-safe, with a recognisable prefix."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _key(secret: Secret) -> bytes:
    key = secret.encode() if isinstance(secret, str) else secret
    if not isinstance(key, bytes) or not key:
        raise ValueError("a webhook secret must be non-empty bytes or text")
    return key


def sign(secret: Secret, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``f"{timestamp}.".encode() + body``, keyed by ``secret`` (text is
    UTF-8, used as is, prefix included)."""
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise ValueError(f"timestamp must be a non-negative integer of seconds, got {timestamp!r}")
    return hmac.new(_key(secret), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def headers(
    secret: Secret, timestamp: int, body: bytes, event_id: str | None = None
) -> dict[str, str]:
    """The headers of one delivery attempt (each attempt is signed with its own timestamp)."""
    out = {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: f"{SCHEME}={sign(secret, timestamp, body)}",
    }
    if event_id is not None:
        out[EVENT_HEADER] = event_id
    return out


def _seconds(now: datetime | float) -> float:
    if isinstance(now, datetime):
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        return now.timestamp()
    return float(now)


def _timestamp(value: int | str) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 12:
        return int(value)
    return None


def verify(
    secret: Secret | Iterable[Secret],
    timestamp: int | str,
    body: bytes,
    signature: str,
    now: datetime | float,
    tolerance: int = DEFAULT_TOLERANCE,
) -> bool:
    """Whether ``signature`` (a ``Maumeter-Signature`` value, possibly several ``v1=`` entries)
    signs ``body`` at ``timestamp`` with ``secret`` (or any of several, during a rotation), and
    the timestamp is within ``tolerance`` seconds of ``now``. Never raises on bad input."""
    ts = _timestamp(timestamp)
    if ts is None or not isinstance(signature, str) or abs(_seconds(now) - ts) > tolerance:
        return False
    candidates = [
        value.strip().encode()
        for scheme, _, value in (part.strip().partition("=") for part in signature.split(","))
        if scheme == SCHEME and value
    ]
    keys = [secret] if isinstance(secret, bytes | str) else list(secret)
    matched = False
    for key in keys:
        expected = sign(key, ts, body).encode()
        for candidate in candidates:
            matched |= hmac.compare_digest(expected, candidate)
    return matched


def verify_headers(
    secret: Secret | Iterable[Secret],
    received: Mapping[str, str],
    body: bytes,
    now: datetime | float,
    tolerance: int = DEFAULT_TOLERANCE,
) -> bool:
    """``verify`` from a request's headers, whose names are matched case-insensitively."""
    lower = {k.lower(): v for k, v in received.items()}
    ts = lower.get(TIMESTAMP_HEADER.lower())
    sig = lower.get(SIGNATURE_HEADER.lower())
    return ts is not None and sig is not None and verify(secret, ts, body, sig, now, tolerance)


def _unit(key: str, attempt: int) -> float:
    """A number in [0, 1) fixed by (key, attempt): jitter that a restart recomputes."""
    digest = hashlib.sha256(f"{key}\x00{attempt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def backoff(
    attempt: int,
    *,
    base: timedelta = BASE_DELAY,
    cap: timedelta = MAX_DELAY,
    jitter: str | None = None,
) -> timedelta:
    """The wait after failed attempt number ``attempt`` (1 = the first delivery):
    ``base * 2 ** (attempt - 1)``, at most ``cap``. With a ``jitter`` key, a deterministic
    fraction between one half and all of it ("equal jitter"), so that many deliveries failing
    together do not retry together."""
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise ValueError(f"attempt must be a positive integer, got {attempt!r}")
    # Past 2**40 the cap has long won; bounding the exponent keeps the arithmetic small.
    delay = min(cap, base * 2 ** min(attempt - 1, 40))
    if jitter is None:
        return delay
    return delay * (0.5 + 0.5 * _unit(jitter, attempt))


def next_attempt(
    first: datetime,
    attempt: int,
    failed_at: datetime,
    *,
    jitter: str | None = None,
    window: timedelta = RETRY_WINDOW,
    base: timedelta = BASE_DELAY,
    cap: timedelta = MAX_DELAY,
) -> datetime | None:
    """When to try again after attempt number ``attempt`` failed at ``failed_at``; None when
    that would fall more than ``window`` after the ``first`` attempt: give up. ``base`` and
    ``cap`` are ``backoff``'s (operators and tests shorten them)."""
    when = failed_at + backoff(attempt, base=base, cap=cap, jitter=jitter)
    return when if when - first <= window else None


def schedule(
    first: datetime, *, jitter: str | None = None, window: timedelta = RETRY_WINDOW
) -> list[datetime]:
    """Every attempt's time when each one fails at once: the whole retry plan, first included.

    With the defaults, about 33 attempts (more with jitter), the last at least 24 h after the
    first.
    """
    times = [first]
    while (
        when := next_attempt(first, len(times), times[-1], jitter=jitter, window=window)
    ) is not None:
        times.append(when)
    return times
