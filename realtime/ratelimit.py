"""Per-unit rate limits: a token bucket per key, so one unit's flood never slows another."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """`rate` messages a second on average, bursts of `burst`. `check` answers 0 when the
    message may go, else the seconds to wait before trying again."""

    def __init__(self, rate: float, burst: float, *, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 100_000) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    def check(self, key: str, cost: float = 1.0) -> float:
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            if tokens >= cost:
                self._buckets[key] = (tokens - cost, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            if len(self._buckets) > self._max_keys:
                self._forget_full(now)
            return (cost - tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled: they hold no information."""
        full = [k for k, (t, at) in self._buckets.items()
                if t + (now - at) * self.rate >= self.burst]
        for k in full:
            del self._buckets[k]
