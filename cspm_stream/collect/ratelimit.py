"""A token bucket: the client-side call budget per (account, region, service)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` saved; :meth:`acquire` waits for one."""

    def __init__(self, rate: float, burst: float | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0")
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self._tokens = self.burst
        self._clock = clock
        self._last = clock()
        self._lock = asyncio.Lock()
        self._penalty_until = 0.0

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now

    def penalise(self, seconds: float) -> None:
        """Throttling seen: nobody on this budget calls for ``seconds``."""
        self._penalty_until = max(self._penalty_until, self._clock() + seconds)
        self._tokens = min(self._tokens, 0.0)

    async def acquire(self) -> None:
        # The lock serialises waiters so tokens are handed out in arrival order.
        async with self._lock:
            while True:
                now = self._clock()
                if now < self._penalty_until:
                    await asyncio.sleep(self._penalty_until - now)
                    continue
                self._refill()
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return
                await asyncio.sleep((1.0 - self._tokens) / self.rate)
