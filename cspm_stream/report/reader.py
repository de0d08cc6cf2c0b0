"""Read a (compacted) topic from its beginning to its current end: the last value per key.

This is how the report reads the current posture from Kafka, the system of
record: it snapshots each partition's end offset first, reads every record up
to it, keeps the last value per key and drops keys whose last record is a
tombstone. Records produced after the snapshot are not waited for. No consumer
group is joined and nothing is committed, so a report never disturbs the
daemon's consumers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition

from cspm_stream.errors import KafkaUnavailable, TopicError
from cspm_stream.kafka import client_options
from cspm_stream.settings import KafkaSettings


@dataclass(slots=True)
class TopicSnapshot:
    topic: str
    values: dict[bytes, bytes] = field(default_factory=dict)  # key -> last value (tombstones removed)
    records: int = 0
    tombstones: int = 0


async def read_latest(
    kafka: KafkaSettings,
    logical: str,
    *,
    timeout_s: float = 120.0,
    max_records: int = 10_000,
) -> TopicSnapshot:
    """Every key's last value on ``logical`` (prefix applied) up to the end offsets seen at start.

    A record without a key cannot be compacted; it is kept under a key made of
    its partition and offset. Raises TopicError if the topic does not exist (it is
    never auto-created: :func:`cspm_stream.kafka.client_options` turns that off),
    KafkaUnavailable if the broker cannot be reached or the read does not finish
    within ``timeout_s``.
    """
    topic = kafka.topic(logical)
    parts = await partitions(kafka, topic)
    consumer = AIOKafkaConsumer(
        **client_options(kafka),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        request_timeout_ms=int(kafka.request_timeout_s * 1000),
    )
    try:
        await consumer.start()
    except Exception as exc:  # aiokafka raises several connection error types here
        await consumer.stop()
        raise KafkaUnavailable(f"cannot reach Kafka at {kafka.bootstrap}: {type(exc).__name__}") from None
    snap = TopicSnapshot(topic)
    try:
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        end = await consumer.end_offsets(tps)
        begin = await consumer.beginning_offsets(tps)
        remaining = {tp for tp in tps if end[tp] > begin[tp]}
        await consumer.seek_to_beginning(*tps)
        deadline = time.monotonic() + timeout_s
        while remaining:
            if time.monotonic() > deadline:
                raise KafkaUnavailable(f"timed out after {timeout_s}s reading {topic} to its end")
            batch = await consumer.getmany(*remaining, timeout_ms=500, max_records=max_records)
            for tp, msgs in batch.items():
                for m in msgs:
                    if m.offset >= end[tp]:
                        continue
                    snap.records += 1
                    key = m.key if m.key is not None else f"{tp.partition}@{m.offset}".encode()
                    if m.value is None:
                        snap.tombstones += 1
                        snap.values.pop(key, None)
                    else:
                        snap.values[key] = m.value
            # compaction and transaction markers leave offset gaps: compare positions, not counts
            for tp in list(remaining):
                if await consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    return snap


async def partitions(kafka: KafkaSettings, topic: str) -> list[int]:
    """The partition ids of ``topic`` (full name); TopicError if it does not exist."""
    from cspm_stream.topic_admin import admin_client

    admin = await admin_client(kafka)
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    for t in described:
        if t.get("topic") == topic and t.get("error_code") == 0 and t.get("partitions"):
            return sorted(int(p["partition"]) for p in t["partitions"])
    raise TopicError(f"topic {topic} does not exist: create the topics with 'cspm-stream topics create'")
