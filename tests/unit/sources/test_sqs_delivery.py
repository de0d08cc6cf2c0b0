"""Delete-after-ack rules of the SQS sources, with an in-memory SQS stand-in and producer (no AWS, no Kafka)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
import pytest

from cspm_stream.models.activity import ActivityRecord
from cspm_stream.models.codec import decode
from cspm_stream.models.dlq import DeadLetter
from cspm_stream.sources.eventbridge import EventBridgeSqsSource
from cspm_stream.sources.sqs import SqsSourceOptions
from cspm_stream.stages.base import Emit
from cspm_stream.testing import cloudtrail_record

pytestmark = pytest.mark.timeout(20)


class FakeSqs:
    def __init__(self, bodies: list[str]) -> None:
        self.messages = [{"MessageId": f"m{i}", "ReceiptHandle": f"rh{i}", "Body": b} for i, b in enumerate(bodies)]
        self.deleted: list[str] = []
        self.extended: list[str] = []

    async def receive_message(self, **kw: Any) -> dict[str, Any]:
        live = [m for m in self.messages if m["ReceiptHandle"] not in self.deleted]
        return {"Messages": live[: kw["MaxNumberOfMessages"]]} if live else {}

    async def change_message_visibility(self, **kw: Any) -> dict[str, Any]:
        self.extended.append(kw["ReceiptHandle"])
        return {}

    async def delete_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        self.deleted.extend(e["ReceiptHandle"] for e in Entries)
        return {"Successful": [{"Id": e["Id"]} for e in Entries]}


class FakeProducer:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.sent: list[Emit] = []

    async def send_many(self, emits: Iterable[Emit]) -> None:
        emits = list(emits)
        if self.fail:
            raise RuntimeError("broker unavailable")
        self.sent.extend(emits)


def envelope(rec: dict[str, Any]) -> str:
    return orjson.dumps({"detail-type": "AWS API Call via CloudTrail", "source": "aws.iam", "detail": rec}).decode()


async def test_records_produced_then_deleted_and_garbage_dead_lettered() -> None:
    recs = [cloudtrail_record("CreateUser", event_id=f"e{i}") for i in range(3)]
    sqs = FakeSqs([*(envelope(r) for r in recs), "garbage"])
    prod = FakeProducer()
    src = EventBridgeSqsSource(sqs, "q", prod, clock=lambda: "2026-01-01T00:00:00.000Z")
    assert await src.poll_once(wait_time_s=0) == 4
    assert sorted(sqs.deleted) == ["rh0", "rh1", "rh2", "rh3"]
    acts = [decode(e.value, ActivityRecord) for e in prod.sent if e.topic == "activity"]
    assert [a.event_id for a in acts] == ["e0", "e1", "e2"]
    assert all(e.key == a.principal for e, a in zip([e for e in prod.sent if e.topic == "activity"], acts, strict=True))
    (dead,) = [decode(e.value, DeadLetter) for e in prod.sent if e.topic == "dlq"]
    assert dead.original() == b"garbage" and "not valid JSON" in dead.reason and dead.stage == "source.eventbridge"
    assert src.stats.records == 3 and src.stats.dead_letters == 1 and src.stats.deleted == 4


async def test_nothing_deleted_when_kafka_does_not_acknowledge() -> None:
    sqs = FakeSqs([envelope(cloudtrail_record("CreateUser", event_id="e1"))])
    src = EventBridgeSqsSource(sqs, "q", FakeProducer(fail=True))
    assert await src.poll_once(wait_time_s=0) == 0
    assert sqs.deleted == [] and src.stats.failed == 1


async def test_run_loop_survives_failures_and_stops() -> None:
    import asyncio

    sqs = FakeSqs([envelope(cloudtrail_record("CreateUser", event_id="e1"))])
    prod = FakeProducer()
    src = EventBridgeSqsSource(sqs, "q", prod, SqsSourceOptions(wait_time_s=0, idle_sleep_s=0.05))
    await src.start()
    for _ in range(100):
        if sqs.deleted:
            break
        await asyncio.sleep(0.01)
    await src.stop(timeout_s=2)
    assert sqs.deleted == ["rh0"] and len(prod.sent) == 1


async def test_metrics_count_produced_records_dead_letters_and_calls() -> None:
    from cspm_stream.observability.metrics import create_metrics

    m = create_metrics()
    sqs = FakeSqs([envelope(cloudtrail_record("CreateUser", event_id="e1")), "garbage"])
    src = EventBridgeSqsSource(sqs, "q", FakeProducer(), metrics=m)
    await src.poll_once(wait_time_s=0)
    val = m.registry.get_sample_value
    assert val("cspm_events_out_total", {"topic": "activity"}) == 1
    assert val("cspm_events_out_total", {"topic": "dlq"}) == 1
    assert val("cspm_dlq_records_total", {"stage": "source.eventbridge", "topic": "q"}) == 1
    assert val("cspm_aws_api_calls_total", {"service": "sqs", "operation": "ReceiveMessage"}) == 1
    assert val("cspm_aws_api_calls_total", {"service": "sqs", "operation": "DeleteMessageBatch"}) == 1


def test_oversized_record_is_dead_lettered() -> None:
    from cspm_stream.models.enums import ActivitySource
    from cspm_stream.sources.emits import MAX_ACTIVITY_BYTES, emits_for_items

    big = cloudtrail_record(
        "PutBucketPolicy", "s3.amazonaws.com", event_id="big", request_parameters={"x": "a" * MAX_ACTIVITY_BYTES}
    )
    small = cloudtrail_record("PutBucketPolicy", "s3.amazonaws.com", event_id="small")
    out = emits_for_items([big, small], source=ActivitySource.FILE, stage="t", received_at="2026-01-01T00:00:00.000Z")
    assert [e.topic for e in out] == ["dlq", "activity"]
    dead = decode(out[0].value, DeadLetter)
    assert (
        "big" in dead.reason
        and dead.error_type == "RecordTooLarge"
        and orjson.loads(dead.original())["eventID"] == "big"
    )


async def test_visibility_extended_while_a_slow_message_is_in_work() -> None:
    import asyncio

    class SlowProducer(FakeProducer):
        async def send_many(self, emits: Iterable[Emit]) -> None:
            await asyncio.sleep(0.35)
            await super().send_many(emits)

    sqs = FakeSqs([envelope(cloudtrail_record("CreateUser", event_id="e1"))])
    src = EventBridgeSqsSource(sqs, "q", SlowProducer(), SqsSourceOptions(visibility_timeout_s=0))
    src.options.visibility_timeout_s = 0.2  # type: ignore[assignment]  # sub-second for the test
    assert await src.poll_once(wait_time_s=0) == 1
    assert sqs.extended.count("rh0") >= 2 and sqs.deleted == ["rh0"]
