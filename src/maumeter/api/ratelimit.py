"""Per-key token buckets: each key may make ``rate`` requests a second, in bursts of ``burst``.

In memory, per process: the embedded server is one process. A refused request gets 429 with
``Retry-After`` (whole seconds, rounded up, as HTTP wants).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from maumeter.core.errors import TooManyRequests


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """Token buckets keyed by key id; ``rate`` <= 0 disables limiting."""

    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = max(burst, 1.0)
        self._clock = clock
        self._buckets: dict[int, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key_id: int, cost: float = 1.0) -> None:
        """Spend ``cost`` tokens of the key's bucket, or raise :class:`TooManyRequests`."""
        if self.rate <= 0:
            return
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key_id)
            if bucket is None:
                bucket = self._buckets[key_id] = _Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
            bucket.stamp = now
            if bucket.tokens >= cost:
                bucket.tokens -= cost
                return
            wait = (cost - bucket.tokens) / self.rate
        raise TooManyRequests(
            f"rate limit of this key: {self.rate:g} requests/s (bursts of {self.burst:g}); "
            f"retry in {wait:.2f} s",
            retry_after=wait,
        )

    @staticmethod
    def header(retry_after: float) -> str:
        return str(max(1, math.ceil(retry_after)))
