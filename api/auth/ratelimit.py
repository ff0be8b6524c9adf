"""Token buckets in memory, one per key (or per client address for failed sign-ins), per process.

Several API processes behind one load balancer each allow the configured rate: divide it by the
number of processes, or rate-limit at the proxy as well. The table is bounded: past ``max_keys``
the least recently used buckets are forgotten (a forgotten bucket starts full again).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(
        self,
        *,
        per_minute: float,
        burst: float,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def _bucket(self, key: str) -> _Bucket:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self.burst, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        return bucket

    def take(self, key: str) -> float:
        """Take one token: 0.0 when allowed, else the seconds until one is available."""
        bucket = self._bucket(key)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return max((1.0 - bucket.tokens) / self.rate, 0.001)

    def exhausted(self, key: str) -> float:
        """Seconds until ``key`` may try again (0.0: it may now), without taking a token."""
        bucket = self._bucket(key)
        return 0.0 if bucket.tokens >= 1.0 else max((1.0 - bucket.tokens) / self.rate, 0.001)


def retry_after(seconds: float) -> int:
    """The ``Retry-After`` header's whole seconds, never 0."""
    return max(1, math.ceil(seconds))
