"""Ingest on the real broker: two ingestor instances share scan jobs (one consumer group),
every resource lands exactly once per scan, deletions become tombstones, rescans are answered."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from dataclasses import replace
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from cspm_stream import settings as settings_mod
from cspm_stream.collect.accounts import AccountRef
from cspm_stream.collect.schedule import job_key, plan_scan
from cspm_stream.kafka import Producer, consumer
from cspm_stream.models import RescanRequest
from cspm_stream.models.codec import dumps, loads_object
from cspm_stream.settings import Settings
from cspm_stream.stages.base import Emit, RecordMeta, headers_for
from cspm_stream.stages.ingest import IngestHandler
from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from cspm_stream.topic_admin import ensure_topics
from tests.unit.collect.conftest import reset

pytestmark = [pytest.mark.integration, pytest.mark.moto]

REGIONS = ["us-east-1", "eu-west-1"]
SERVICES = ["s3", "sqs", "sns", "ec2", "kms"]


class Ingestor:
    """One ingestor replica: an aiokafka consumer in the shared group driving the handler."""

    def __init__(self, settings: Settings, name: str) -> None:
        self.name = name
        self.handler = IngestHandler(settings)
        self.state: dict[str, Any] = {}
        self.consumer = consumer(
            settings.kafka,
            "scan-jobs",
            "rescan",
            group_id=f"{settings.app.id}-ingest",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=10000,
            heartbeat_interval_ms=500,
        )
        self.producer = Producer(settings.kafka)
        self.jobs: list[str] = []
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.producer.start()
        await self.consumer.start()

    async def run(self) -> None:
        while True:
            batch = await self.consumer.getmany(timeout_ms=200)
            for tp, records in batch.items():
                for rec in records:
                    meta = RecordMeta(topic=rec.topic, partition=rec.partition, offset=rec.offset)
                    emits = await self.handler.handle(rec.key, rec.value, meta, self.state)
                    await self.producer.send_many(emits)  # acknowledged before the commit
                    self.jobs.append(rec.key.decode() if rec.key else "")
                    await self.consumer.commit({tp: rec.offset + 1})

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        await self.consumer.stop()
        await self.producer.stop()
        await self.handler.stop()


async def read_all(settings: Settings, topic: str, until: Any = None, timeout: float = 40) -> list[Any]:
    """Read ``topic`` from the beginning until ``until(records)`` holds (None: up to the end offsets)."""
    c = AIOKafkaConsumer(bootstrap_servers=settings.kafka.bootstrap, enable_auto_commit=False)
    await c.start()
    try:
        name = settings.kafka.topic(topic)
        parts = c.partitions_for_topic(name) or set()
        for _ in range(50):
            if parts:
                break
            await asyncio.sleep(0.1)
            await c._client.force_metadata_update()
            parts = c.partitions_for_topic(name) or set()
        tps = [TopicPartition(name, p) for p in parts]
        c.assign(tps)
        await c.seek_to_beginning(*tps)
        out: list[Any] = []
        if until is None:
            ends = await c.end_offsets(tps)

            async def caught_up() -> bool:
                for tp in tps:
                    if await c.position(tp) < ends[tp]:
                        return False
                return True

            while not await caught_up():
                batch = await c.getmany(timeout_ms=300)
                for recs in batch.values():
                    out.extend(recs)
            return out
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not until(out):
            if loop.time() > deadline:
                raise AssertionError(f"timed out reading {topic}: {len(out)} records")
            batch = await c.getmany(timeout_ms=300)
            for recs in batch.values():
                out.extend(recs)
        return out
    finally:
        await c.stop()


@pytest.fixture
def ingest_settings(kafka_settings: Settings, moto_server: MotoServer) -> Settings:
    aws = settings_mod.load(
        data={
            "aws": {
                "endpoint_url": moto_server.endpoint_url,
                "regions": REGIONS,
                "rate_per_second": 1000.0,
                "max_attempts": 2,
            }
        },
        environ={},
    ).aws
    return replace(kafka_settings, aws=aws)


async def test_two_ingestors_share_jobs_tombstones_and_rescan(
    ingest_settings: Settings, moto_server: MotoServer
) -> None:
    s = ingest_settings
    reset(moto_server)
    for region in REGIONS:
        moto_server.boto3_client("sqs", region).create_queue(QueueName=f"q-{region}")
        moto_server.boto3_client("sns", region).create_topic(Name=f"t-{region}")
    s3 = moto_server.boto3_client("s3")
    for n in ("keep-bucket", "doomed-bucket"):
        s3.create_bucket(Bucket=n)
    await ensure_topics(s.kafka)

    a, b = Ingestor(s, "a"), Ingestor(s, "b")
    await a.start()
    await b.start()
    try:
        # wait for a stable group with both members before any job exists (no rebalance mid-job)
        for _ in range(100):
            if a.consumer.assignment() and b.consumer.assignment():
                break
            await asyncio.gather(a.consumer.getmany(timeout_ms=100), b.consumer.getmany(timeout_ms=100))
        assert a.consumer.assignment() and b.consumer.assignment()
        a.task, b.task = asyncio.create_task(a.run()), asyncio.create_task(b.run())

        async with Producer(s.kafka) as prod:
            jobs1 = plan_scan(s, [AccountRef(ACCOUNT_ID)], REGIONS, "2026-11-28T10:00:00.000Z", services=SERVICES)
            await prod.send_many(Emit("scan-jobs", job_key(j), dumps(j), headers_for("scan-job.v1")) for j in jobs1)
            status = await read_all(s, "scan-status", lambda rs: len(rs) >= len(jobs1))
            assert {r.key.decode() for r in status} == {job_key(j) for j in jobs1}
            assert all(loads_object(r.value)["complete"] for r in status)

            inv = await read_all(s, "inventory")
            scan1 = [loads_object(r.value) for r in inv if r.value is not None]
            scan1 = [v for v in scan1 if v.get("scan_id") == jobs1[0].scan_id]
            per_arn = Counter(v["arn"] for v in scan1)
            assert max(per_arn.values()) == 1  # no duplicates
            expected = (
                {f"arn:aws:sqs:{r}:{ACCOUNT_ID}:q-{r}" for r in REGIONS}
                | {f"arn:aws:sns:{r}:{ACCOUNT_ID}:t-{r}" for r in REGIONS}
                | {"arn:aws:s3:::keep-bucket", "arn:aws:s3:::doomed-bucket"}
            )
            assert expected <= set(per_arn)  # nothing missed
            assert a.jobs and b.jobs and len(a.jobs) + len(b.jobs) == len(jobs1)  # shared, each once

            # second scan after a deletion: deletion event + tombstone for exactly that ARN
            s3.delete_bucket(Bucket="doomed-bucket")
            jobs2 = plan_scan(s, [AccountRef(ACCOUNT_ID)], REGIONS, "2026-11-28T11:00:00.000Z", services=["s3"])
            await prod.send_many(Emit("scan-jobs", job_key(j), dumps(j), headers_for("scan-job.v1")) for j in jobs2)
            inv2 = await read_all(
                s,
                "inventory",
                lambda rs: any(r.value is None and r.key == b"arn:aws:s3:::doomed-bucket" for r in rs),
            )
            doomed = [r for r in inv2 if r.key == b"arn:aws:s3:::doomed-bucket"]
            assert doomed[-1].value is None
            assert loads_object(doomed[-2].value)["schema"] == "inventory-deleted.v1"
            assert not [r for r in inv2 if r.value is None and r.key != b"arn:aws:s3:::doomed-bucket"]

            # rescan: a changed bucket is answered with a fresh snapshot within seconds
            s3.put_bucket_versioning(Bucket="keep-bucket", VersioningConfiguration={"Status": "Enabled"})
            rid = uuid.uuid4().hex
            req = RescanRequest(
                request_id=rid,
                account_id=ACCOUNT_ID,
                region="us-east-1",
                resource_type="aws.s3.bucket",
                requested_at="2026-11-28T11:05:00.000Z",
                reason="PutBucketVersioning",
                arn="arn:aws:s3:::keep-bucket",
            )
            await prod.send(Emit("rescan", req.arn, dumps(req), headers_for("rescan.v1")))
            fresh = await read_all(
                s,
                "inventory",
                lambda rs: any(r.value and loads_object(r.value).get("scan_id") == f"rescan-{rid}" for r in rs),
                timeout=15,
            )
            snap = next(
                loads_object(r.value)
                for r in fresh
                if r.value and loads_object(r.value).get("scan_id") == f"rescan-{rid}"
            )
            assert snap["arn"] == "arn:aws:s3:::keep-bucket"
            assert snap["attributes"]["Versioning"]["Status"] == "Enabled"
    finally:
        await a.stop()
        await b.stop()
