"""build_sources(): the configured sources started together, on moto server and the real broker."""

from __future__ import annotations

import asyncio
import gzip
import time
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


async def test_cloudtrail_freshness_per_account_region(
    moto_server: MotoServer, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    """No aws.accounts: the scope is the discovered account (moto's) x aws.regions; a record of another
    account or region reaches activity but only the outside-scope counter, never a series."""
    from prometheus_client.parser import text_string_to_metric_families

    from cspm_stream.observability.metrics import create_metrics

    eb_url, _ = _queue(moto_server)
    settings = settings_mod.load(
        data={
            "app": {"data_dir": str(tmp_path)},
            "kafka": {"bootstrap": kafka_bootstrap, "topic_prefix": topic_prefix, "partitions": 1},
            "aws": {"endpoint_url": moto_server.endpoint_url, "regions": ["us-east-1", "eu-west-1"]},
            "cloudtrail": {"eventbridge_queue_urls": [eb_url], "sqs_wait_time_s": 1},
        },
        environ={},
    )
    await ensure_topics(settings.kafka)
    me = moto_server.boto3_client("sts").get_caller_identity()["Account"]
    metrics = create_metrics()
    recs = [
        cloudtrail_record("GetObject", "s3.amazonaws.com", account_id=me, region="eu-west-1"),
        cloudtrail_record("GetObject", "s3.amazonaws.com", account_id="999988887777", region="eu-west-1"),
        cloudtrail_record("GetObject", "s3.amazonaws.com", account_id=me, region="ap-south-1"),
    ]
    async with Producer(settings.kafka) as producer:
        sources = build_sources(settings, producer, metrics=metrics)
        await sources.start()
        try:
            for _ in range(100):  # discovery runs in the background
                if metrics.cloudtrail.accounts:
                    break
                await asyncio.sleep(0.1)
            assert metrics.cloudtrail.accounts == {me}
            assert metrics.cloudtrail.regions == {"us-east-1", "eu-west-1"}
            sqs = moto_server.boto3_client("sqs")
            for r in recs:
                env = {"detail-type": "AWS API Call via CloudTrail", "source": "aws.s3", "detail": r}
                sqs.send_message(QueueUrl=eb_url, MessageBody=orjson.dumps(env).decode())
            msgs = await read_topic(kafka_bootstrap, topic_prefix + "activity", 3, timeout=20)
            assert len(msgs) == 3
            for _ in range(50):  # counted right after the acknowledgement
                if metrics.cloudtrail.accounts and b'outside_scope_total{reason="region"}' in metrics.exposition():
                    break
                await asyncio.sleep(0.1)
        finally:
            await asyncio.wait_for(sources.stop(), 10)
    values = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in text_string_to_metric_families(metrics.exposition().decode())
        for s in fam.samples
        if fam.name.startswith("cspm_cloudtrail")
    }
    gauges = {k: v for k, v in values.items() if k[0] == "cspm_cloudtrail_last_event_timestamp_seconds"}
    assert list(gauges) == [
        ("cspm_cloudtrail_last_event_timestamp_seconds", (("account", me), ("region", "eu-west-1")))
    ]
    assert abs(next(iter(gauges.values())) - time.time()) < 60
    assert values[("cspm_cloudtrail_records_outside_scope_total", (("reason", "account"),))] == 1.0
    assert values[("cspm_cloudtrail_records_outside_scope_total", (("reason", "region"),))] == 1.0
