"""build_sources(): the configured sources started together, on moto server and the real broker."""

from __future__ import annotations

import asyncio
import gzip
import uuid
from pathlib import Path

import orjson
import pytest

from cspm_stream import settings as settings_mod
from cspm_stream.kafka import Producer
from cspm_stream.models.activity import ActivityRecord
from cspm_stream.models.codec import decode
from cspm_stream.sources.eventbridge import EventBridgeSqsSource
from cspm_stream.sources.lookup import LookupEventsPoller
from cspm_stream.sources.runner import build_sources
from cspm_stream.sources.s3_sqs import S3SqsSource
from cspm_stream.testing import MotoServer, cloudtrail_record
from cspm_stream.topic_admin import ensure_topics
from tests.integration.test_sources_sqs import _queue, _trail_bucket, read_topic

pytestmark = [pytest.mark.integration, pytest.mark.moto, pytest.mark.timeout(60)]


async def test_runner_starts_configured_sources_and_stops(
    moto_server: MotoServer, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    s3_url, s3_arn = _queue(moto_server)
    bucket = _trail_bucket(moto_server, s3_arn)
    eb_url, _ = _queue(moto_server)
    settings = settings_mod.load(
        data={
            "app": {"data_dir": str(tmp_path)},
            "kafka": {"bootstrap": kafka_bootstrap, "topic_prefix": topic_prefix, "partitions": 3},
            "aws": {"endpoint_url": moto_server.endpoint_url, "regions": ["us-east-1"]},
            "cloudtrail": {
                "sqs_queue_urls": [s3_url],
                "eventbridge_queue_urls": [eb_url],
                "lookup_events": True,
                "lookup_interval_s": 3600,
                "sqs_wait_time_s": 1,
            },
        },
        environ={},
    )
    await ensure_topics(settings.kafka)
    tag = uuid.uuid4().hex[:6]
    recs = [cloudtrail_record("PutBucketAcl", "s3.amazonaws.com", event_id=f"{tag}-{i}") for i in range(3)]
    moto_server.boto3_client("s3").put_object(
        Bucket=bucket,
        Key="AWSLogs/123456789012/CloudTrail/us-east-1/2026/01/01/x.json.gz",
        Body=gzip.compress(orjson.dumps({"Records": recs[:2]})),
    )
    env = {"detail-type": "AWS API Call via CloudTrail", "source": "aws.s3", "detail": recs[2]}
    moto_server.boto3_client("sqs").send_message(QueueUrl=eb_url, MessageBody=orjson.dumps(env).decode())

    async with Producer(settings.kafka) as producer:
        sources = build_sources(settings, producer)
        await sources.start()
        try:
            kinds = sorted(type(s).__name__ for s in sources.sources)
            assert kinds == sorted([S3SqsSource.__name__, EventBridgeSqsSource.__name__, LookupEventsPoller.__name__])
            msgs = await read_topic(kafka_bootstrap, topic_prefix + "activity", 3, timeout=20)
        finally:
            await asyncio.wait_for(sources.stop(), 10)
    assert sorted(decode(m.value, ActivityRecord).event_id for m in msgs) == sorted(r["eventID"] for r in recs)
    assert sources.sources == []
