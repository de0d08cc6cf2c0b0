"""S3+SQS and EventBridge→SQS sources on moto server, producing to the REAL Kafka broker."""

from __future__ import annotations

import asyncio
import gzip
import uuid
from collections.abc import AsyncIterator, Iterable
from typing import Any

import orjson
import pytest
from aiobotocore.session import get_session
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from cspm_stream.models.activity import ActivityRecord
from cspm_stream.models.codec import decode
from cspm_stream.models.dlq import DeadLetter
from cspm_stream.sources.eventbridge import EventBridgeSqsSource
from cspm_stream.sources.s3_sqs import S3SqsSource
from cspm_stream.sources.sqs import SqsSourceOptions
from cspm_stream.stages.base import Emit
from cspm_stream.testing import MotoServer, cloudtrail_record

pytestmark = [pytest.mark.integration, pytest.mark.moto, pytest.mark.timeout(60)]


class KafkaOut:
    """A real idempotent producer (acks=all) with the sources' send_many contract."""

    def __init__(self, bootstrap: str, prefix: str) -> None:
        self.prefix = prefix
        self.p = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)

    async def send_many(self, emits: Iterable[Emit]) -> None:
        futs = [
            await self.p.send(
                self.prefix + e.topic,
                value=e.value,
                key=e.key.encode() if e.key is not None else None,
                headers=[(k, v.encode()) for k, v in e.headers.items()],
            )
            for e in emits
        ]
        for f in futs:
            await f


@pytest.fixture
async def kafka_out(kafka_bootstrap: str, topic_prefix: str) -> AsyncIterator[KafkaOut]:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(topic_prefix + t, num_partitions=3, replication_factor=1) for t in ("activity", "dlq")]
        )
    finally:
        await admin.close()
    out = KafkaOut(kafka_bootstrap, topic_prefix)
    await out.p.start()
    yield out
    await out.p.stop()


async def read_topic(bootstrap: str, topic: str, want: int, timeout: float = 15.0) -> list[Any]:
    """Every record of ``topic`` (at least ``want``; then a short grace for extra ones)."""
    c = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False)
    await c.start()
    got: list[Any] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        grace_until: float | None = None
        while loop.time() < deadline:
            batch = await c.getmany(timeout_ms=300)
            for msgs in batch.values():
                got.extend(msgs)
            if len(got) >= want:
                grace_until = grace_until or loop.time() + 1.0
                if loop.time() >= grace_until:
                    break
    finally:
        await c.stop()
    return got


@pytest.fixture
async def aws(moto_server: MotoServer) -> AsyncIterator[dict[str, Any]]:
    session = get_session()
    kw = {"region_name": "us-east-1", "endpoint_url": moto_server.endpoint_url}
    async with session.create_client("sqs", **kw) as sqs, session.create_client("s3", **kw) as s3:
        yield {"sqs": sqs, "s3": s3, "moto": moto_server}


def _queue(moto: MotoServer) -> tuple[str, str]:
    sqs = moto.boto3_client("sqs")
    url = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def _trail_bucket(moto: MotoServer, queue_arn: str) -> str:
    s3 = moto.boto3_client("s3")
    bucket = f"trail-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={"QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}]},
    )
    return bucket


def _records(n: int, tag: str) -> list[dict[str, Any]]:
    users = ["alice", "bob", "carol"]
    return [
        cloudtrail_record(
            "CreateAccessKey",
            event_id=f"{tag}-{i}",
            user_arn=f"arn:aws:iam::123456789012:user/{users[i % 3]}",
        )
        for i in range(n)
    ]


def _log_key(name: str) -> str:
    day = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/01/01"
    return f"{day}/123456789012_CloudTrail_us-east-1_{name}.json.gz"


async def _drain(src: Any, rounds: int = 10) -> None:
    for _ in range(rounds):
        if await src.poll_once(wait_time_s=1) == 0 and src.stats.received > 0:
            return


async def test_s3_log_files_end_up_on_activity(aws: dict[str, Any], kafka_out: KafkaOut, kafka_bootstrap: str) -> None:
    moto = aws["moto"]
    url, arn = _queue(moto)
    bucket = _trail_bucket(moto, arn)
    s3 = moto.boto3_client("s3")
    good = _records(7, "s3")
    s3.put_object(Bucket=bucket, Key=_log_key("a b"), Body=gzip.compress(orjson.dumps({"Records": good[:5]})))
    # second object: plain JSON (not gz) with one record lacking an eventID → one dead letter
    s3.put_object(Bucket=bucket, Key=_log_key("c"), Body=orjson.dumps({"Records": [*good[5:], {"eventName": "X"}]}))
    # a digest file is announced too and must be ignored
    s3.put_object(Bucket=bucket, Key="AWSLogs/123456789012/CloudTrail-Digest/us-east-1/d.json.gz", Body=b"{}")
    # CloudTrail's own SNS notification, SNS-enveloped, for an object in a bucket without S3 notifications
    extra = _records(2, "sns")
    quiet = f"quiet-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=quiet)
    s3.put_object(Bucket=quiet, Key=_log_key("sns"), Body=gzip.compress(orjson.dumps({"Records": extra})))
    sns_body = {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:trail",
        "Message": orjson.dumps({"s3Bucket": quiet, "s3ObjectKey": [_log_key("sns")]}).decode(),
    }
    moto.boto3_client("sqs").send_message(QueueUrl=url, MessageBody=orjson.dumps(sns_body).decode())
    # and one garbage message → dead letter, then deleted
    moto.boto3_client("sqs").send_message(QueueUrl=url, MessageBody="hello")

    src = S3SqsSource(aws["sqs"], aws["s3"], url, kafka_out, SqsSourceOptions(visibility_timeout_s=30))
    await _drain(src)

    expected = {r["eventID"] for r in good + extra}
    msgs = await read_topic(kafka_bootstrap, kafka_out.prefix + "activity", len(expected))
    recs = [decode(m.value, ActivityRecord) for m in msgs]
    assert {r.event_id for r in recs} == expected
    assert len(recs) == len(expected)
    for m, r in zip(msgs, recs, strict=True):
        assert m.key.decode() == r.principal == r.record["userIdentity"]["arn"]
        assert dict(m.headers)["schema"] == b"activity.v1"
        assert r.source.value == "s3-sqs"
    dead = [decode(m.value, DeadLetter) for m in await read_topic(kafka_bootstrap, kafka_out.prefix + "dlq", 2)]
    reasons = sorted(d.reason for d in dead)
    assert len(dead) == 2
    assert any("record has no eventID" in r and "[Records][2]" in r for r in reasons)
    assert any("not a CloudTrail log notification" in r for r in reasons)
    assert b"hello" in {d.original() for d in dead}
    # every message was deleted: nothing left in the queue
    left = moto.boto3_client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    assert left == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}


async def test_eventbridge_to_sqs_to_activity(aws: dict[str, Any], kafka_out: KafkaOut, kafka_bootstrap: str) -> None:
    moto = aws["moto"]
    url, arn = _queue(moto)
    ev = moto.boto3_client("events")
    rule = f"ct-{uuid.uuid4().hex[:8]}"
    ev.put_rule(Name=rule, EventPattern=orjson.dumps({"detail-type": ["AWS API Call via CloudTrail"]}).decode())
    ev.put_targets(Rule=rule, Targets=[{"Id": "sqs", "Arn": arn}])
    recs = _records(4, f"eb{uuid.uuid4().hex[:4]}")
    ev.put_events(
        Entries=[
            {
                "Source": "aws.iam",
                "DetailType": "AWS API Call via CloudTrail",
                "Detail": orjson.dumps(r).decode(),
            }
            for r in recs
        ]
    )
    src = EventBridgeSqsSource(aws["sqs"], url, kafka_out)
    await _drain(src)
    msgs = await read_topic(kafka_bootstrap, kafka_out.prefix + "activity", len(recs))
    got = [decode(m.value, ActivityRecord) for m in msgs]
    assert sorted(r.event_id for r in got) == sorted(r["eventID"] for r in recs)
    assert {r.source.value for r in got} == {"eventbridge"}
    assert all(r.record == next(x for x in recs if x["eventID"] == r.event_id) for r in got)
    assert src.stats.deleted == len(recs)


class Crash(Exception):
    pass


async def test_crash_between_produce_and_delete_loses_nothing(
    aws: dict[str, Any], kafka_out: KafkaOut, kafka_bootstrap: str
) -> None:
    moto = aws["moto"]
    url, arn = _queue(moto)
    bucket = _trail_bucket(moto, arn)
    s3 = moto.boto3_client("s3")
    recs = _records(6, "crash")
    s3.put_object(Bucket=bucket, Key=_log_key("1"), Body=gzip.compress(orjson.dumps({"Records": recs[:3]})))
    s3.put_object(Bucket=bucket, Key=_log_key("2"), Body=gzip.compress(orjson.dumps({"Records": recs[3:]})))

    async def crash(_: dict[str, Any]) -> None:
        raise Crash("process died after produce, before delete")

    opts = SqsSourceOptions(visibility_timeout_s=1)
    first = S3SqsSource(aws["sqs"], aws["s3"], url, kafka_out, opts, before_delete=crash)
    with pytest.raises(Crash):
        for _ in range(5):
            await first.poll_once(wait_time_s=1)
    assert first.stats.deleted == 0

    await asyncio.sleep(1.5)  # visibility timeout expires: SQS redelivers
    second = S3SqsSource(aws["sqs"], aws["s3"], url, kafka_out, opts)
    await _drain(second)
    assert second.stats.deleted >= 1

    msgs = await read_topic(kafka_bootstrap, kafka_out.prefix + "activity", len(recs) + first.stats.records)
    ids = [decode(m.value, ActivityRecord).event_id for m in msgs]
    # complete: every record arrived; duplicates are allowed (at-least-once) ...
    assert set(ids) == {r["eventID"] for r in recs}
    assert len(ids) > len(recs)
    # ... and the detector's eventID dedup leaves exactly one of each
    assert len(dict.fromkeys(ids)) == len(recs)
