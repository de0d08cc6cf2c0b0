"""LookupEvents poller against recorded responses served over HTTP on 127.0.0.1, producing to real Kafka.

moto does not implement cloudtrail:LookupEvents, so a tiny aiohttp server answers the
JSON 1.1 protocol with the recorded pages in tests/unit/sources/fixtures/lookup_events.json.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from aiohttp import web

from cspm_stream.models.activity import ActivityRecord
from cspm_stream.models.codec import decode
from cspm_stream.sources.lookup import JsonFileCheckpoints, LookupEventsPoller, RateLimiter
from tests.integration import test_sources_sqs as sqs_tests
from tests.integration.test_sources_sqs import KafkaOut, read_topic

kafka_out = sqs_tests.kafka_out  # the same real-Kafka producer fixture

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

FIXTURE = Path(__file__).parents[1] / "unit" / "sources" / "fixtures" / "lookup_events.json"
TARGET = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"


class RecordedCloudTrail:
    def __init__(self) -> None:
        self.pages = orjson.loads(FIXTURE.read_bytes())["pages"]
        self.requests: list[tuple[float, dict[str, Any]]] = []
        self.throttle_first = True

    async def handle(self, request: web.Request) -> web.Response:
        assert request.headers["X-Amz-Target"] == TARGET
        body = await request.json()
        self.requests.append((asyncio.get_running_loop().time(), body))
        ctype = "application/x-amz-json-1.1"
        if self.throttle_first:
            self.throttle_first = False
            err = {"__type": "ThrottlingException", "message": "Rate exceeded"}
            return web.Response(status=400, body=orjson.dumps(err), content_type=ctype)
        page = self.pages[1] if body.get("NextToken") == self.pages[0]["NextToken"] else self.pages[0]
        return web.Response(body=orjson.dumps(page), content_type=ctype)


@pytest.fixture
async def cloudtrail_api() -> AsyncIterator[tuple[RecordedCloudTrail, str]]:
    api = RecordedCloudTrail()
    app = web.Application()
    app.router.add_post("/", api.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield api, f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_lookup_events_poller_checkpoints_and_rate_limit(
    cloudtrail_api: tuple[RecordedCloudTrail, str], kafka_out: KafkaOut, kafka_bootstrap: str, tmp_path: Path
) -> None:
    api, url = cloudtrail_api
    t0 = dt.datetime(2026, 1, 1, 0, 10, tzinfo=dt.UTC)
    now = [t0]
    cp_file = tmp_path / "cp.json"
    cfg = AioConfig(retries={"total_max_attempts": 1, "mode": "standard"})
    async with get_session().create_client(
        "cloudtrail",
        region_name="us-east-1",
        endpoint_url=url,
        config=cfg,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ) as client:
        poller = LookupEventsPoller(
            client,
            "123456789012",
            "us-east-1",
            kafka_out,
            JsonFileCheckpoints(cp_file),
            lookback_s=900,
            limiter=RateLimiter(2.0),
            clock=lambda: now[0],
        )
        assert await poller.poll_once() == 3
        assert poller.throttled == 1 and poller.calls == 3
        first_window = api.requests[0][1]
        assert first_window["StartTime"] == (t0 - dt.timedelta(seconds=900)).timestamp()
        assert first_window["EndTime"] == t0.timestamp()
        # 2 requests/s at most: consecutive calls at least ~0.5 s apart
        times = [t for t, _ in api.requests]
        assert all(b - a >= 0.45 for a, b in itertools.pairwise(times))

        saved = orjson.loads(cp_file.read_bytes())["123456789012|us-east-1"]
        assert saved["last_event_time"] == "2026-01-01T00:09:30.000Z"
        assert saved["queried_until"] == "2026-01-01T00:10:00.000Z"
        assert len(saved["seen_ids"]) == 3

        # next poll, same recorded events visible again: nothing new is produced
        now[0] = t0 + dt.timedelta(seconds=60)
        restarted = LookupEventsPoller(
            client,
            "123456789012",
            "us-east-1",
            kafka_out,
            JsonFileCheckpoints(cp_file),
            lookback_s=900,
            limiter=RateLimiter(2.0),
            clock=lambda: now[0],
        )
        assert await restarted.poll_once() == 0
        second_window = api.requests[-2][1]
        assert second_window["StartTime"] == (t0 - dt.timedelta(seconds=900)).timestamp()  # queried_until - lookback
        assert second_window["EndTime"] == now[0].timestamp()

    msgs = await read_topic(kafka_bootstrap, kafka_out.prefix + "activity", 3)
    recs = [decode(m.value, ActivityRecord) for m in msgs]
    assert sorted(r.event_name for r in recs) == ["ConsoleLogin", "CreateUser", "StopLogging"]
    assert {r.source.value for r in recs} == {"lookup-events"}
    assert {m.key.decode() for m in msgs} == {
        "arn:aws:iam::123456789012:user/alice",
        "arn:aws:iam::123456789012:user/bob",
    }
