"""The adaptive limiter against a local stand-in AWS endpoint that really throttles.

The stand-in (aiohttp on 127.0.0.1) enforces a token bucket, as AWS does, and answers what
exceeds it the way the services do: SQS (JSON protocol) with ``400 ThrottlingException``,
S3 (REST-XML) with ``503 SlowDown``. Real aiobotocore clients, the real collector: every
call must succeed, the governor must have seen the throttling and settled its rate.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from cspm_stream import settings as settings_mod
from cspm_stream.collect import Collector
from cspm_stream.collect.ratelimit import RateGovernor

ACCOUNT = "123456789012"
ACL = (
    '<?xml version="1.0" encoding="UTF-8"?><AccessControlPolicy><Owner><ID>o</ID></Owner>'
    "<AccessControlList></AccessControlList></AccessControlPolicy>"
)
SLOWDOWN = (
    '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
    "<Message>Please reduce your request rate.</Message></Error>"
)


class StandIn:
    """A token-bucket-throttled endpoint serving SQS ListQueues and S3 GetBucketAcl."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.last = burst, time.monotonic()
        self.ok = 0
        self.throttled = 0

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            self.ok += 1
            return True
        self.throttled += 1
        return False

    async def handle(self, request: web.Request) -> web.Response:
        allowed = self.allow()
        if request.headers.get("X-Amz-Target") == "AmazonSQS.ListQueues":
            if not allowed:
                body = '{"__type": "com.amazonaws.sqs#ThrottlingException", "message": "Rate exceeded"}'
                return web.Response(status=400, text=body, content_type="application/x-amz-json-1.0")
            return web.Response(text='{"QueueUrls": []}', content_type="application/x-amz-json-1.0")
        if request.method == "GET" and "acl" in request.query:
            if not allowed:
                return web.Response(status=503, text=SLOWDOWN, content_type="application/xml")
            return web.Response(text=ACL, content_type="application/xml")
        return web.Response(status=400, text="unexpected request")


@pytest.fixture
async def endpoint(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, StandIn]]:
    rate, burst = request.param
    stand_in = StandIn(rate, burst)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", stand_in.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", stand_in
    finally:
        await runner.cleanup()


def _settings(url: str) -> Any:
    aws = {
        "endpoint_url": url,
        "regions": ["us-east-1"],
        "max_attempts": 3,
        "max_concurrency_per_service": 16,
        "max_concurrency_per_region": 32,
        "max_concurrency_per_account": 64,
    }
    return settings_mod.load(data={"aws": aws}, environ={})


@pytest.fixture(autouse=True)
def _fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(k, "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


async def _hammer(c: Collector, service: str, op: str, n: int, **params: Any) -> list[Any]:
    return await asyncio.gather(*(c.call(ACCOUNT, None, "us-east-1", service, op, **params) for _ in range(n)))


@pytest.mark.parametrize("endpoint", [(80.0, 10.0)], indirect=True)
async def test_sqs_throttling_exception_converges_without_errors(endpoint: tuple[str, StandIn]) -> None:
    url, server = endpoint
    governor = RateGovernor()
    async with Collector(_settings(url).aws, governor=governor, backoff_base_s=0.05) as c:
        t0 = time.monotonic()
        results = await _hammer(c, "sqs", "list_queues", 300)
        wall = time.monotonic() - t0
    assert len(results) == 300 and all(r.get("QueueUrls") == [] for r in results)  # nothing failed
    b = governor.bucket(ACCOUNT, "us-east-1", "sqs")
    assert server.throttled > 0 and b.throttles >= 1 and b.decreases >= 1  # it was pushed back, and noticed
    assert server.throttled / (server.ok + server.throttled) < 0.25  # most requests go through
    assert wall < 300 / 80.0 * 3  # and the scan still runs near the server's rate


@pytest.mark.parametrize("endpoint", [(50.0, 5.0)], indirect=True)
async def test_s3_slowdown_converges_without_errors(endpoint: tuple[str, StandIn]) -> None:
    url, server = endpoint
    governor = RateGovernor()
    async with Collector(_settings(url).aws, governor=governor, backoff_base_s=0.05) as c:
        results = await _hammer(c, "s3", "get_bucket_acl", 150, Bucket="bucket-a")
    assert len(results) == 150 and all("Grants" in r for r in results)
    b = governor.bucket(ACCOUNT, "us-east-1", "s3")
    assert server.throttled > 0 and b.decreases >= 1  # pushed back, and noticed
    assert c.calls_by_operation["s3.get_bucket_acl"] == 150
