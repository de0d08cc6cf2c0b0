"""Adaptive API rate governance: one AIMD token bucket per (account, region, service[, operation]).

AWS throttles each account per region and service (EC2: per API) with token buckets whose
size and refill rate it documents for some services and keeps private for others. The
:class:`RateGovernor` mirrors that on the client, shared by every scanner of the process:

* **start** from the service's published rate (:data:`LIMITS`: requests per second and
  bucket size, with the page that says so). Where AWS publishes no figure the start is a
  conservative guess (``documented=False``) and the limiter may probe above it, up to
  :attr:`RateGovernor.probe_factor` times the start, growing by the start rate every second
  until the first throttle (like TCP's slow start);
* **back off multiplicatively** on throttling: each throttled response (``Throttling``,
  ``SlowDown``, ``RequestLimitExceeded``, HTTP 429 …, seen on every attempt, including the
  ones botocore retries itself) halves the bucket's rate, at most once per
  :attr:`AdaptiveBucket.hold_s` so one burst of rejections counts once, and empties its
  saved tokens;
* **recover additively**: every successful call adds ``recover_fraction × peak / rate``, i.e.
  ``recover_fraction × peak`` requests/s per second of full use (``peak``: the rate when the
  last throttle came), up to the ceiling (the published rate, or the probe ceiling). The
  step doubles every :attr:`AdaptiveBucket.reprobe_s` without a throttle (at most the start
  rate per second), so a throttle caused by a first burst does not pin a bucket low for
  long. A bucket thus saw-tooths just under the server's real rate, like TCP.

S3 calls about a bucket are charged to the bucket's region (the collector calls S3 in the
bucket's region), never to one us-east-1 budget. A fixed budget (``aws.rate_per_second`` > 0)
turns the adaptation off: every bucket then runs at that rate, as before.

Pure apart from ``asyncio.sleep``: the clock is injected, so the arithmetic is tested
without waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ServiceLimit:
    """A service's request budget per account and region: ``rate`` requests/s, ``burst`` saved."""

    rate: float
    burst: float
    documented: bool  # False: AWS publishes no figure; the start is a guess the limiter may exceed
    per_operation: bool = False  # each API has its own bucket (EC2)
    source: str = ""


_EC2 = "https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html"
_KMS = "https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html"
_LAMBDA = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"
_SNS = "https://docs.aws.amazon.com/general/latest/gr/sns.html"
_IAM = "https://aws.amazon.com/blogs/security/how-to-monitor-and-query-iam-resources-at-scale-part-2/"
_UNPUBLISHED = "no published per-second figure: a conservative start, probed upwards"

#: Published request rates (read/list APIs, per account and region) and conservative starts
#: where AWS publishes none. Services not listed use :data:`DEFAULT_LIMIT`.
LIMITS: Mapping[str, ServiceLimit] = {
    # non-mutating (Describe*) actions: a bucket of 100 tokens refilled at 20/s, per API
    "ec2": ServiceLimit(20.0, 100.0, True, per_operation=True, source=_EC2),
    # ListKeys, ListAliases, ListResourceTags: 100/s (DescribeKey, Get* are higher, shared here)
    "kms": ServiceLimit(100.0, 100.0, True, source=_KMS),
    # control-plane API requests: 15/s
    "lambda": ServiceLimit(15.0, 15.0, True, source=_LAMBDA),
    # ListTopics, ListSubscriptions: 30/s
    "sns": ServiceLimit(30.0, 30.0, True, source=_SNS),
    # token buckets per API whose sizes IAM does not publish
    "iam": ServiceLimit(20.0, 40.0, False, source=_IAM + " (" + _UNPUBLISHED + ")"),
    # bucket configuration calls (Get*Bucket*), per bucket region; object rates (5,500 GET/s
    # per prefix) do not apply to them
    "s3": ServiceLimit(50.0, 100.0, False, source=_UNPUBLISHED),
    "s3control": ServiceLimit(10.0, 10.0, False, source=_UNPUBLISHED),
    "cloudtrail": ServiceLimit(10.0, 10.0, False, source=_UNPUBLISHED),
    "rds": ServiceLimit(10.0, 40.0, False, source=_UNPUBLISHED),
    "organizations": ServiceLimit(5.0, 5.0, False, source=_UNPUBLISHED),
    "sts": ServiceLimit(20.0, 20.0, False, source=_UNPUBLISHED),
}
DEFAULT_LIMIT = ServiceLimit(20.0, 40.0, False, source=_UNPUBLISHED)


class AdaptiveBucket:
    """One AIMD token bucket (see the module docstring). :meth:`acquire` waits for a token."""

    def __init__(
        self,
        limit: ServiceLimit,
        *,
        probe_factor: float = 10.0,
        decrease: float = 0.5,
        recover_fraction: float = 0.1,
        min_rate: float = 0.5,
        hold_s: float = 1.0,
        reprobe_s: float = 1.0,
        fixed_rate: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.fixed = fixed_rate is not None
        self.start = fixed_rate if fixed_rate is not None else limit.rate
        self.rate = self.start
        if self.fixed:
            self.ceiling = self.start
            self.burst = max(1.0, self.start)
        else:
            self.ceiling = limit.rate if limit.documented else limit.rate * probe_factor
            self.burst = max(1.0, limit.burst)
        self.decrease = decrease
        self.recover_fraction = recover_fraction
        self.min_rate = min(min_rate, self.start)
        self.hold_s = hold_s
        self.reprobe_s = reprobe_s
        self._clock = clock
        self._tokens = self.burst
        self._last = clock()
        self._hold_until = 0.0
        self._lock = asyncio.Lock()
        self.calls = 0
        self.throttles = 0  # throttled responses seen
        self.decreases = 0  # times the rate was cut
        self.peak = self.start  # the rate when the last throttle came
        self._last_throttle = float("-inf")

    def _refill(self, now: float) -> None:
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now

    def wait_time(self) -> float:
        """Seconds until a token is available (0 when one is); takes it when available."""
        now = self._clock()
        self._refill(now)
        if self._tokens >= 1.0 - 1e-9:  # a refill computed to 0.999… is a token (float rounding)
            self._tokens -= 1.0
            self.calls += 1
            return 0.0
        return (1.0 - self._tokens) / self.rate

    async def acquire(self) -> None:
        # The lock serialises waiters so tokens are handed out in arrival order.
        async with self._lock:
            wait = self.wait_time()
            while wait > 0:
                await asyncio.sleep(wait)
                wait = self.wait_time()

    def step(self) -> float:
        """The additive increase now, in requests/s per second of full use."""
        quiet = self._clock() - self._last_throttle
        if quiet == float("inf"):
            return self.start  # never throttled: probing
        growth = float(2.0 ** min(16.0, quiet / self.reprobe_s))
        return min(self.start, self.peak * self.recover_fraction * growth)

    def on_success(self) -> None:
        """A call went through: additive increase toward the ceiling."""
        if self.fixed or self.rate >= self.ceiling:
            return
        self.rate = min(self.ceiling, self.rate + self.step() / self.rate)

    def on_throttle(self) -> None:
        """A throttled response: multiplicative decrease (once per ``hold_s``), saved tokens dropped."""
        self.throttles += 1
        if self.fixed:
            self._tokens = min(self._tokens, 0.0)
            return
        now = self._clock()
        self._last_throttle = now
        if now < self._hold_until:
            return
        self._refill(now)
        self.peak = self.rate
        self.rate = max(self.min_rate, self.rate * self.decrease)
        self._tokens = min(self._tokens, 0.0)
        self._hold_until = now + self.hold_s
        self.decreases += 1

    def stats(self) -> dict[str, Any]:
        return {
            "rate": round(self.rate, 2),
            "start": self.start,
            "ceiling": self.ceiling,
            "calls": self.calls,
            "throttles": self.throttles,
            "decreases": self.decreases,
        }


BucketKey = tuple[str, ...]


class RateGovernor:
    """Every bucket of the process, created on first use. One governor is shared by all the
    collectors of a process (hand the same instance to each)."""

    def __init__(
        self,
        fixed_rate: float | None = None,
        *,
        limits: Mapping[str, ServiceLimit] = LIMITS,
        default: ServiceLimit = DEFAULT_LIMIT,
        probe_factor: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fixed_rate = fixed_rate if fixed_rate else None
        self.limits = limits
        self.default = default
        self.probe_factor = probe_factor
        self._clock = clock
        self._buckets: dict[BucketKey, AdaptiveBucket] = {}

    def key(self, account: str, region: str, service: str, operation: str) -> BucketKey:
        """The bucket an operation is charged to."""
        limit = self.limits.get(service, self.default)
        if limit.per_operation and self.fixed_rate is None:
            return (account, region, service, operation)
        return (account, region, service)

    def bucket(self, account: str, region: str, service: str, operation: str = "") -> AdaptiveBucket:
        k = self.key(account, region, service, operation)
        b = self._buckets.get(k)
        if b is None:
            b = self._buckets[k] = AdaptiveBucket(
                self.limits.get(service, self.default),
                fixed_rate=self.fixed_rate,
                probe_factor=self.probe_factor,
                clock=self._clock,
            )
        return b

    def stats(self) -> dict[str, dict[str, Any]]:
        """Per bucket (``account/region/service[/operation]``): rate now, start, ceiling, calls, throttles."""
        return {"/".join(k): b.stats() for k, b in sorted(self._buckets.items())}
