"""The adaptive limiter's arithmetic on a fake clock: start, halve, recover, probe, converge."""

from __future__ import annotations

import asyncio

import pytest

from cspm_stream.collect.ratelimit import LIMITS, AdaptiveBucket, RateGovernor, ServiceLimit


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def drain(b: AdaptiveBucket, clock: Clock, seconds: float) -> int:
    """Take tokens as fast as the bucket allows for ``seconds`` of fake time; calls granted."""
    end = clock.t + seconds
    n = 0
    while clock.t < end:
        wait = b.wait_time()
        if wait > 0:
            clock.t += wait
            continue
        n += 1
    return n


def test_documented_service_starts_at_its_published_rate_and_never_exceeds_it() -> None:
    clock = Clock()
    b = RateGovernor(clock=clock).bucket("1", "us-east-1", "ec2", "describe_instances")
    assert (b.rate, b.burst, b.ceiling) == (20.0, 100.0, 20.0)
    for _ in range(1000):
        b.on_success()
    assert b.rate == 20.0  # a published limit is a ceiling
    assert drain(b, clock, 10.0) == pytest.approx(100 + 20 * 10, abs=2)  # the burst, then the refill


def test_keys_per_operation_only_where_the_service_throttles_per_api() -> None:
    g = RateGovernor()
    assert g.bucket("1", "r", "ec2", "describe_instances") is not g.bucket("1", "r", "ec2", "describe_volumes")
    assert g.bucket("1", "r", "iam", "list_users") is g.bucket("1", "r", "iam", "list_roles")
    assert g.bucket("1", "eu-west-1", "s3", "get_bucket_acl") is not g.bucket("1", "us-east-1", "s3", "get_bucket_acl")
    assert g.bucket("2", "r", "iam") is not g.bucket("1", "r", "iam")


def test_throttle_halves_once_per_hold_and_drops_saved_tokens() -> None:
    clock = Clock()
    b = AdaptiveBucket(LIMITS["kms"], clock=clock)
    b.on_throttle()
    assert b.rate == 50.0 and b.wait_time() > 0  # no saved token left
    b.on_throttle()  # the same burst of rejections
    assert b.rate == 50.0 and (b.throttles, b.decreases) == (2, 1)
    clock.t += 1.5
    b.on_throttle()
    assert b.rate == 25.0 and b.decreases == 2
    for _ in range(100):
        clock.t += 2
        b.on_throttle()
    assert b.rate == 0.5  # never below the floor: a call still goes out now and then


def test_additive_recovery_toward_the_start() -> None:
    b = AdaptiveBucket(ServiceLimit(100.0, 100.0, True), clock=Clock())
    b.on_throttle()
    assert b.rate == 50.0
    # recovery adds 10% of the start (10/s) per second of full use: ~50 calls for the first second
    for _ in range(50):
        b.on_success()
    assert 59.0 < b.rate < 61.0
    for _ in range(10_000):
        b.on_success()
    assert b.rate == 100.0


def test_unpublished_limit_is_probed_upwards_until_the_first_throttle() -> None:
    clock = Clock()
    b = AdaptiveBucket(ServiceLimit(20.0, 40.0, False), probe_factor=10.0, clock=clock)
    assert b.ceiling == 200.0 and b.step() == 20.0  # never throttled: + the start rate per second
    for _ in range(30):  # one second of full use: 20 → 40 calls/s, 30 calls on average
        b.on_success()
    assert b.rate == pytest.approx(40.0, rel=0.02)  # + the start rate per second of full use
    for _ in range(10_000):
        b.on_success()
    assert b.rate == 200.0
    b.on_throttle()
    assert b.rate == 100.0 and b.step() == pytest.approx(20.0)  # 10% of the peak (200) per second
    for _ in range(110):  # about one second of full use right after the throttle
        b.on_success()
    assert b.rate == pytest.approx(120.0, rel=0.02)
    clock.t += 1.0
    assert b.step() == pytest.approx(20.0)  # doubling each quiet second, never above the start rate


def test_recovery_accelerates_while_quiet() -> None:
    clock = Clock()
    b = AdaptiveBucket(ServiceLimit(100.0, 100.0, False), clock=clock)
    b.on_throttle()  # at the start: peak 100, rate 50
    steps = []
    for _ in range(5):
        steps.append(b.step())
        clock.t += 1.0
    assert steps == [10.0, 20.0, 40.0, 80.0, 100.0]


def test_fixed_rate_does_not_adapt() -> None:
    g = RateGovernor(7.0)
    b = g.bucket("1", "r", "ec2", "describe_instances")
    b.on_throttle()
    for _ in range(100):
        b.on_success()
    assert (b.rate, b.ceiling) == (7.0, 7.0)
    assert g.key("1", "r", "ec2", "describe_instances") == ("1", "r", "ec2")  # one budget per service


@pytest.mark.parametrize("server_rate", [8.0, 35.0, 150.0])
@pytest.mark.parametrize("server_burst", [1.0, 0.2])
def test_converges_on_a_throttling_server(server_rate: float, server_burst: float) -> None:
    """A simulated AWS token bucket rejects what exceeds ``server_rate``; the client keeps
    calling as fast as its bucket allows. Over a minute it settles at or below the server's
    rate, keeps most of it, and only a small share of calls is throttled (retried, not lost)."""
    clock = Clock()
    client = AdaptiveBucket(ServiceLimit(20.0, 40.0, False), clock=clock)
    burst = server_rate * server_burst  # the server saves a second, or a fifth of one, of tokens
    server_tokens, server_last = burst, 0.0
    ok = throttled = 0
    late_ok = 0
    while clock.t < 60.0:
        wait = client.wait_time()
        if wait > 0:
            clock.t += wait
            continue
        server_tokens = min(burst, server_tokens + (clock.t - server_last) * server_rate)
        server_last = clock.t
        if server_tokens >= 1.0:
            server_tokens -= 1.0
            ok += 1
            late_ok += clock.t >= 30.0
            client.on_success()
        else:
            throttled += 1
            client.on_throttle()
    assert throttled / (ok + throttled) < 0.12
    assert late_ok / 30.0 > 0.5 * server_rate  # at least half the server's rate once settled
    assert late_ok / 30.0 <= server_rate * 1.05


async def test_acquire_waits_for_a_token() -> None:
    clock = Clock()
    b = AdaptiveBucket(ServiceLimit(2.0, 1.0, True), clock=clock)
    await b.acquire()  # the saved token
    waiter = asyncio.create_task(b.acquire())
    await asyncio.sleep(0.05)
    assert not waiter.done()  # no token until the clock moves
    clock.t = 0.6
    await asyncio.wait_for(waiter, 2)
