"""Webhook signatures (sign, verify, tamper, replay, rotation) and the retry schedule."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maumeter.core.signing import (
    EVENT_HEADER,
    MAX_DELAY,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    backoff,
    headers,
    new_secret,
    next_attempt,
    schedule,
    sign,
    verify,
    verify_headers,
)

SECRET = "whsec_test"
BODY = b'{"id":"e1","type":"mau.threshold"}'
T = 1_711_929_600
FIRST = datetime(2024, 4, 1, tzinfo=UTC)


def test_sign_is_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(b"whsec_test", b"1711929600." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, T, BODY) == expected == sign(SECRET.encode(), T, BODY)
    with pytest.raises(ValueError):
        sign("", T, BODY)
    with pytest.raises(ValueError):
        sign(SECRET, -1, BODY)


def test_headers_and_verify_headers() -> None:
    h = headers(SECRET, T, BODY, event_id="e1")
    assert h[TIMESTAMP_HEADER] == str(T)
    assert h[SIGNATURE_HEADER] == f"v1={sign(SECRET, T, BODY)}"
    assert h[EVENT_HEADER] == "e1"
    assert verify_headers(SECRET, h, BODY, T + 10)
    assert verify_headers(SECRET, {k.lower(): v for k, v in h.items()}, BODY, T)
    assert not verify_headers(SECRET, {TIMESTAMP_HEADER: str(T)}, BODY, T)
    assert EVENT_HEADER not in headers(SECRET, T, BODY)


def test_verify_refuses_stale_or_future_timestamps() -> None:
    sig = f"v1={sign(SECRET, T, BODY)}"
    assert verify(SECRET, T, BODY, sig, T + 300)
    assert verify(SECRET, T, BODY, sig, T - 300)
    assert not verify(SECRET, T, BODY, sig, T + 301)
    assert not verify(SECRET, T, BODY, sig, T - 301)
    assert verify(SECRET, T, BODY, sig, datetime.fromtimestamp(T + 60, UTC))
    assert not verify(SECRET, T, BODY, sig, T + 3600, tolerance=60)


@pytest.mark.parametrize("timestamp", ["", "abc", "-5", "+5", " 5", "1e9", "١٢٣", True, -1])
def test_verify_refuses_malformed_timestamps(timestamp: object) -> None:
    assert not verify(SECRET, timestamp, BODY, f"v1={sign(SECRET, 0, BODY)}", 0)  # type: ignore[arg-type]


def test_verify_accepts_string_timestamps_and_any_listed_signature() -> None:
    good = sign(SECRET, T, BODY)
    assert verify(SECRET, str(T), BODY, f"v1={good}", T)
    assert verify(SECRET, T, BODY, f"v1={'0' * 64}, v1={good}", T)
    assert not verify(SECRET, T, BODY, good, T)  # no scheme
    assert not verify(SECRET, T, BODY, f"v0={good}", T)
    assert not verify(SECRET, T, BODY, "v1=", T)


def test_verify_during_secret_rotation() -> None:
    old, new = "whsec_old", "whsec_new"
    sig = f"v1={sign(old, T, BODY)}"
    assert verify([new, old], T, BODY, sig, T)
    assert not verify([new], T, BODY, sig, T)
    assert not verify([], T, BODY, sig, T)


def test_new_secret() -> None:
    a, b = new_secret(), new_secret()
    assert a != b and a.startswith("whsec_") and len(a) >= 40


secrets_ = st.binary(min_size=1, max_size=64) | st.text(min_size=1, max_size=64)


@given(secrets_, st.integers(0, 2**40), st.binary(max_size=512), st.integers(-300, 300))
def test_sign_verify_round_trip(secret: bytes | str, ts: int, body: bytes, skew: int) -> None:
    assert verify(secret, ts, body, f"v1={sign(secret, ts, body)}", ts + skew)


@given(
    secrets_,
    st.integers(0, 2**40),
    st.binary(max_size=256),
    st.data(),
)
def test_any_tampering_is_detected(
    secret: bytes | str, ts: int, body: bytes, data: st.DataObject
) -> None:
    sig = f"v1={sign(secret, ts, body)}"
    other_body = data.draw(st.binary(max_size=256).filter(lambda b: b != body))
    assert not verify(secret, ts, other_body, sig, ts)
    other_ts = data.draw(st.integers(0, 2**40).filter(lambda t: t != ts))
    assert not verify(secret, other_ts, body, sig, other_ts)
    other_secret = data.draw(
        secrets_.filter(
            lambda s: (
                (s.encode() if isinstance(s, str) else s)
                != (secret.encode() if isinstance(secret, str) else secret)
            )
        )
    )
    assert not verify(other_secret, ts, body, sig, ts)
    position = data.draw(st.integers(3, len(sig) - 1))
    flipped = sig[:position] + ("0" if sig[position] != "0" else "1") + sig[position + 1 :]
    assert not verify(secret, ts, body, flipped, ts)


# --- retries ---------------------------------------------------------------------------------


def test_backoff_doubles_up_to_an_hour() -> None:
    assert [backoff(n).total_seconds() for n in range(1, 11)] == [
        10,
        20,
        40,
        80,
        160,
        320,
        640,
        1280,
        2560,
        3600,
    ]
    assert backoff(10**6) == MAX_DELAY
    with pytest.raises(ValueError):
        backoff(0)


def test_jitter_is_deterministic_and_bounded() -> None:
    for n in range(1, 40):
        full = backoff(n)
        jittered = backoff(n, jitter="event-1")
        assert full / 2 <= jittered <= full
        assert jittered == backoff(n, jitter="event-1")
    assert [backoff(n, jitter="a") for n in range(1, 20)] != [
        backoff(n, jitter="b") for n in range(1, 20)
    ]


def test_retries_span_at_least_a_day() -> None:
    times = schedule(FIRST)
    assert 30 <= len(times) <= 40
    assert times[-1] - FIRST >= timedelta(hours=24)
    assert times[-1] - FIRST <= timedelta(hours=25)
    assert next_attempt(FIRST, len(times), times[-1]) is None  # then it gives up


def test_next_attempt_counts_from_the_failed_attempt() -> None:
    late = FIRST + timedelta(minutes=5)  # the attempt itself took a while
    assert next_attempt(FIRST, 1, late) == late + timedelta(seconds=10)
    assert next_attempt(FIRST, 30, FIRST + timedelta(hours=24, minutes=30)) is None


@given(st.none() | st.text(max_size=20))
def test_schedule_properties(jitter: str | None) -> None:
    times = schedule(FIRST, jitter=jitter)
    gaps = [b - a for a, b in pairwise(times)]
    assert all(timedelta(seconds=5) <= g <= MAX_DELAY for g in gaps)
    assert times[-1] - FIRST >= timedelta(hours=24)
    assert times == schedule(FIRST, jitter=jitter)
