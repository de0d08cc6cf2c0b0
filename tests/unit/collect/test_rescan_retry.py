"""Eventually-consistent rescans: a first look that finds the resource missing or unchanged looks again."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from cspm_stream.collect import Collector
from cspm_stream.models import ResourceDeleted, ResourceSnapshot, ScanJob, decode, dumps
from cspm_stream.models.change import Change
from cspm_stream.models.inventory import RescanRequest
from cspm_stream.observability.metrics import create_metrics
from cspm_stream.settings import Settings
from cspm_stream.stages.base import Emit, RecordMeta
from cspm_stream.stages.ingest import IngestHandler
from cspm_stream.stages.rescan_retry import PREFIX
from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from tests.unit.collect.conftest import failing

pytestmark = pytest.mark.moto
META = RecordMeta(topic="t.rescan", partition=0, offset=0)
SCHEDULE = [5.0, 30.0, 120.0]


class Clock:
    def __init__(self) -> None:
        self.t = dt.datetime(2026, 11, 28, 16, 21, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.t

    def advance(self, s: float) -> None:
        self.t += dt.timedelta(seconds=s)


def actor(event: str) -> Change:
    return Change(
        event_id=str(uuid.uuid4()),
        event_name=event,
        event_source="s3.amazonaws.com",
        event_time="2026-11-28T16:20:58Z",
        principal_arn=f"arn:aws:iam::{ACCOUNT_ID}:user/mallory",
        principal_type="IAMUser",
        principal_name="mallory",
        account_id=ACCOUNT_ID,
        source_ip="198.51.100.7",
        user_agent="aws-cli/2.15.0",
    )


def request(bucket: str, event: str) -> bytes:
    return dumps(
        RescanRequest(
            request_id=uuid.uuid4().hex,
            account_id=ACCOUNT_ID,
            region="us-east-1",
            resource_type="aws.s3.bucket",
            requested_at="2026-11-28T16:21:00.000Z",
            reason=f"cloudtrail:{event}",
            arn=f"arn:aws:s3:::{bucket}",
            actor=actor(event),
        )
    )


def metric(reg: CollectorRegistry, name: str, **labels: str) -> float:
    return reg.get_sample_value(name, labels) or 0.0


async def settle(h: IngestHandler, state: dict[str, Any], clock: Clock, seconds: float) -> list[Emit]:
    """Advance the clock, let the timer start due looks, wait for them, apply their outcomes."""
    clock.advance(seconds)
    out = h.tick(state)
    for _ in range(400):
        if not h.retries._running:
            break
        await asyncio.sleep(0.025)
    return out + h.tick(state)


@pytest.fixture
def handler(settings_for: Callable[..., Settings]) -> tuple[IngestHandler, Clock, CollectorRegistry]:
    clock, reg = Clock(), create_metrics()
    s = settings_for()
    assert s.scan.rescan_retry_s == SCHEDULE  # the defaults are what these tests exercise
    return IngestHandler(s, clock=clock, metrics=reg), clock, reg.registry


async def test_a_bucket_created_after_the_event_is_found_by_a_retry(
    moto_server: MotoServer, handler: tuple[IngestHandler, Clock, CollectorRegistry]
) -> None:
    h, clock, reg = handler
    bucket = f"late-{uuid.uuid4().hex[:8]}"
    state: dict[str, Any] = {}
    try:
        assert await h.handle(None, request(bucket, "CreateBucket"), META, state) == []  # not visible yet: no deletion
        assert f"{PREFIX}arn:aws:s3:::{bucket}" in state
        assert await settle(h, state, clock, 4) == []  # not due yet
        moto_server.boto3_client("s3").create_bucket(Bucket=bucket)
        (emit,) = await settle(h, state, clock, 1)
        snap = decode(emit.value, ResourceSnapshot)
        assert snap.resource_id == bucket
        assert snap.change is not None and snap.change.principal_name == "mallory"
        assert snap.change.event_name == "CreateBucket"
        assert state == {k: v for k, v in state.items() if not k.startswith(PREFIX)}  # done
        assert metric(reg, "cspm_rescan_late_changes_total", kind="appeared") == 1
        assert metric(reg, "cspm_rescan_retries_total", outcome="appeared") == 1
        assert await settle(h, state, clock, 300) == []
    finally:
        await h.stop()


async def test_missing_after_every_look_is_concluded_deleted_naming_the_actor(
    handler: tuple[IngestHandler, Clock, CollectorRegistry],
) -> None:
    h, clock, reg = handler
    state: dict[str, Any] = {}
    bucket = f"never-{uuid.uuid4().hex[:8]}"
    try:
        assert await h.handle(None, request(bucket, "PutBucketPolicy"), META, state) == []
        assert await settle(h, state, clock, 5) == []
        assert await settle(h, state, clock, 25) == []
        gone = await settle(h, state, clock, 90)
        assert [e.value is None for e in gone] == [False, True]
        deleted = decode(gone[0].value, ResourceDeleted)
        assert deleted.change is not None and deleted.change.event_name == "PutBucketPolicy"
        assert metric(reg, "cspm_rescan_retries_total", outcome="missing") == 2
        assert metric(reg, "cspm_rescan_retries_total", outcome="deleted") == 1
        assert not any(k.startswith(PREFIX) for k in state)
    finally:
        await h.stop()


async def test_a_deletion_event_concludes_at_once(handler: tuple[IngestHandler, Clock, CollectorRegistry]) -> None:
    h, _, reg = handler
    state: dict[str, Any] = {}
    try:
        gone = await h.handle(None, request(f"del-{uuid.uuid4().hex[:8]}", "DeleteBucket"), META, state)
        assert [e.value is None for e in gone] == [False, True]
        assert not any(k.startswith(PREFIX) for k in state)
        assert metric(reg, "cspm_rescan_retries_total", outcome="missing") == 0
    finally:
        await h.stop()


async def test_unchanged_at_first_then_changed_late(
    moto_server: MotoServer, handler: tuple[IngestHandler, Clock, CollectorRegistry]
) -> None:
    h, clock, reg = handler
    s3 = moto_server.boto3_client("s3")
    bucket = f"slow-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    state: dict[str, Any] = {}
    try:
        job = ScanJob("j", "s", ACCOUNT_ID, "global", "s3", "2026-11-28T16:00:00.000Z", ["aws.s3.bucket"], None, False)
        await h.handle(None, dumps(job), META, state)  # the scheduled scan: the baseline hash
        first = await h.handle(None, request(bucket, "PutBucketVersioning"), META, state)
        assert len(first) == 1  # the first look (unchanged: the write is not visible yet)
        assert f"{PREFIX}arn:aws:s3:::{bucket}" in state
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        (late,) = await settle(h, state, clock, 5)
        snap = decode(late.value, ResourceSnapshot)
        assert snap.attributes["Versioning"]["Status"] == "Enabled"
        assert snap.change is not None and snap.change.event_name == "PutBucketVersioning"
        assert metric(reg, "cspm_rescan_late_changes_total", kind="changed") == 1
    finally:
        await h.stop()


async def test_a_first_look_that_sees_the_change_needs_no_retry(
    moto_server: MotoServer, handler: tuple[IngestHandler, Clock, CollectorRegistry]
) -> None:
    h, _, _ = handler
    s3 = moto_server.boto3_client("s3")
    bucket = f"fast-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    state: dict[str, Any] = {}
    try:
        job = ScanJob("j", "s", ACCOUNT_ID, "global", "s3", "2026-11-28T16:00:00.000Z", ["aws.s3.bucket"], None, False)
        await h.handle(None, dumps(job), META, state)
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "team", "Value": "x"}]})
        assert len(await h.handle(None, request(bucket, "PutBucketTagging"), META, state)) == 1
        assert not any(k.startswith(PREFIX) for k in state)
    finally:
        await h.stop()


async def test_unknown_baseline_unchanged_after_every_look_emits_nothing_more(
    moto_server: MotoServer, handler: tuple[IngestHandler, Clock, CollectorRegistry]
) -> None:
    h, clock, reg = handler
    bucket = f"same-{uuid.uuid4().hex[:8]}"
    moto_server.boto3_client("s3").create_bucket(Bucket=bucket)
    state: dict[str, Any] = {}
    try:
        assert len(await h.handle(None, request(bucket, "PutBucketAcl"), META, state)) == 1
        for step in (5, 25, 90):
            assert await settle(h, state, clock, step) == []
        assert metric(reg, "cspm_rescan_retries_total", outcome="unchanged") == 3
        assert not any(k.startswith(PREFIX) for k in state)
    finally:
        await h.stop()


async def test_failing_looks_are_retried_then_given_up(
    moto_server: MotoServer, settings_for: Callable[..., Settings]
) -> None:
    clock, metrics = Clock(), create_metrics()
    reg = metrics.registry
    bucket = f"flaky-{uuid.uuid4().hex[:8]}"
    moto_server.boto3_client("s3").create_bucket(Bucket=bucket)
    broken = {"on": False}
    denied = failing("AccessDenied", status=403)

    def hook(**kw: Any) -> None:
        if broken["on"]:
            denied(**kw)

    # the listing fails: nothing can be concluded from such a look
    collector = Collector(settings_for().aws, event_hooks=[("before-call.s3.ListBuckets", hook)])
    h = IngestHandler(settings_for(), clock=clock, metrics=metrics, collector=collector)
    state: dict[str, Any] = {}
    try:
        await h.handle(None, request(bucket, "PutBucketAcl"), META, state)
        broken["on"] = True
        for step in (5, 25, 90):
            assert await settle(h, state, clock, step) == []
        assert metric(reg, "cspm_rescan_retries_total", outcome="failed") == 3
        assert not any(k.startswith(PREFIX) for k in state)
        # a first look that fails is retried too: the next look that works emits the snapshot
        await h.handle(None, request(bucket, "PutBucketPolicy"), META, state)
        assert f"{PREFIX}arn:aws:s3:::{bucket}" in state
        broken["on"] = False
        (found,) = await settle(h, state, clock, 5)
        assert decode(found.value, ResourceSnapshot).resource_id == bucket
        assert metric(reg, "cspm_rescan_retries_total", outcome="found") == 1
        assert metric(reg, "cspm_rescan_late_changes_total", kind="changed") == 0
    finally:
        await h.stop()
        await collector.stop()


async def test_pending_retries_survive_a_restart(
    moto_server: MotoServer, settings_for: Callable[..., Settings]
) -> None:
    clock = Clock()
    bucket = f"restart-{uuid.uuid4().hex[:8]}"
    state: dict[str, Any] = {}
    first = IngestHandler(settings_for(), clock=clock)
    try:
        await first.handle(None, request(bucket, "CreateBucket"), META, state)
    finally:
        await first.stop()
    moto_server.boto3_client("s3").create_bucket(Bucket=bucket)
    again = IngestHandler(settings_for(), clock=clock)  # state restored from the changelog
    try:
        (emit,) = await settle(again, state, clock, 5)
        assert decode(emit.value, ResourceSnapshot).resource_id == bucket
    finally:
        await again.stop()


async def test_no_schedule_no_retries(moto_server: MotoServer) -> None:
    from cspm_stream import settings as settings_mod

    s = settings_mod.load(
        data={
            "aws": {"endpoint_url": moto_server.endpoint_url, "regions": ["us-east-1"]},
            "scan": {"rescan_retry_s": []},
        },
        environ={},
    )
    h = IngestHandler(s, clock=Clock())
    try:
        assert h.tick_interval_s == 0
        gone = await h.handle(None, request(f"none-{uuid.uuid4().hex[:8]}", "PutBucketAcl"), META, {})
        assert [e.value is None for e in gone] == [False, True]
    finally:
        await h.stop()
