"""The ingest handler with plain calls (state is a dict): snapshots, status, deletions, rescans."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from cspm_stream.collect import Collector
from cspm_stream.models import RescanRequest, ScanJob
from cspm_stream.models.codec import decode, dumps, loads_object
from cspm_stream.settings import Settings
from cspm_stream.stages.base import Emit, RecordMeta
from cspm_stream.stages.ingest import IngestHandler, reconcile, seen_key
from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from tests.unit.collect.conftest import failing, reset

pytestmark = pytest.mark.moto
META = RecordMeta(topic="t.scan-jobs", partition=0, offset=0)


def job(n: int, full: bool = True) -> ScanJob:
    return ScanJob(
        job_id=f"j{n}",
        scan_id=f"scan-{n}",
        account_id=ACCOUNT_ID,
        region="global",
        service="s3",
        requested_at="2026-11-28T00:00:00.000Z",
        full=full,
    )


def by_topic(emits: list[Emit], topic: str) -> list[Emit]:
    return [e for e in emits if e.topic == topic]


class Clock:
    def __init__(self) -> None:
        self.t = dt.datetime(2026, 11, 28, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.t


@pytest.fixture(scope="module")
def s3_only(moto_server: MotoServer) -> MotoServer:
    """One reset per module (moto's reset is slow); each test deletes its own bucket."""
    reset(moto_server)
    s3 = moto_server.boto3_client("s3")
    for n in ("keep-bucket", "gone-bucket", "gone2-bucket"):
        s3.create_bucket(Bucket=n)
    return moto_server


async def test_scan_emits_snapshots_status_and_deletions(
    s3_only: MotoServer, settings_for: Callable[..., Settings]
) -> None:
    clock = Clock()
    h = IngestHandler(settings_for(), clock=clock)
    state: dict[str, Any] = {}
    try:
        first = await h.handle(None, dumps(job(1)), META, state)
        inv = by_topic(first, "inventory")
        assert {e.key for e in inv} == {
            "arn:aws:s3:::keep-bucket",
            "arn:aws:s3:::gone-bucket",
            "arn:aws:s3:::gone2-bucket",
            f"arn:aws:s3::{ACCOUNT_ID}:account-settings",
        }
        status = loads_object(by_topic(first, "scan-status")[0].value)
        assert status["complete"] is True and status["resources"] == 4
        assert by_topic(first, "scan-status")[0].key == f"{ACCOUNT_ID}|global|s3"
        hashes = {e.key: loads_object(e.value)["content_hash"] for e in inv}

        s3_only.boto3_client("s3").delete_bucket(Bucket="gone-bucket")
        second = await h.handle(None, dumps(job(2)), META, state)
        inv2 = by_topic(second, "inventory")
        gone = [e for e in inv2 if e.key == "arn:aws:s3:::gone-bucket"]
        assert loads_object(gone[0].value)["schema"] == "inventory-deleted.v1"
        assert gone[1].value is None  # the tombstone follows the deletion event
        keep = next(loads_object(e.value) for e in inv2 if e.key == "arn:aws:s3:::keep-bucket")
        assert keep["content_hash"] == hashes["arn:aws:s3:::keep-bucket"]  # unchanged: same hash
        assert "arn:aws:s3:::gone-bucket" not in state[seen_key(ACCOUNT_ID, "global", "aws.s3.bucket")]
        assert not [e for e in inv2 if e.value is None and e.key != "arn:aws:s3:::gone-bucket"]
    finally:
        await h.stop()


async def test_incomplete_scan_never_deletes(s3_only: MotoServer, settings_for: Callable[..., Settings]) -> None:
    state: dict[str, Any] = {}
    h = IngestHandler(settings_for())
    try:
        await h.handle(None, dumps(job(1)), META, state)
    finally:
        await h.stop()
    before = list(state[seen_key(ACCOUNT_ID, "global", "aws.s3.bucket")])
    s3_only.boto3_client("s3").delete_bucket(Bucket="gone2-bucket")
    broken = Collector(
        settings_for().aws, event_hooks=[("before-call.s3.ListBuckets", failing("AccessDenied", status=403))]
    )
    h2 = IngestHandler(settings_for(), collector=broken)
    try:
        emits = await h2.handle(None, dumps(job(2)), META, state)
    finally:
        await broken.stop()
    assert not [e for e in emits if e.value is None]
    assert loads_object(by_topic(emits, "scan-status")[0].value)["complete"] is False
    assert state[seen_key(ACCOUNT_ID, "global", "aws.s3.bucket")] == before  # previous set kept


async def test_rescan_fresh_snapshot_dedup_and_deletion(
    s3_only: MotoServer, settings_for: Callable[..., Settings]
) -> None:
    clock = Clock()
    h = IngestHandler(settings_for(), clock=clock)
    state: dict[str, Any] = {}

    def req(arn: str, rid: str, at: str = "2026-11-28T00:00:00.000Z", reason: str = "PutBucketPolicy") -> bytes:
        return dumps(
            RescanRequest(
                request_id=rid,
                account_id=ACCOUNT_ID,
                region="us-east-1",
                resource_type="aws.s3.bucket",
                requested_at=at,
                reason=reason,
                arn=arn,
            )
        )

    try:
        s3_only.boto3_client("s3").put_bucket_versioning(
            Bucket="keep-bucket", VersioningConfiguration={"Status": "Enabled"}
        )
        got = await h.handle(None, req("arn:aws:s3:::keep-bucket", "r1"), META, state)
        assert len(got) == 1 and got[0].key == "arn:aws:s3:::keep-bucket"
        from cspm_stream.models import ResourceSnapshot

        snap = decode(got[0].value, ResourceSnapshot)
        assert snap.attributes["Versioning"]["Status"] == "Enabled"
        assert await h.handle(None, req("arn:aws:s3:::keep-bucket", "r2"), META, state) == []  # deduplicated
        # asked for after the last rescan ran (e.g. by the remediator after its fix): always served
        clock.t += dt.timedelta(seconds=2)
        later = await h.handle(None, req("arn:aws:s3:::keep-bucket", "r2b", "2026-11-28T00:00:01.000Z"), META, state)
        assert len(later) == 1
        clock.t += dt.timedelta(seconds=60)
        assert len(await h.handle(None, req("arn:aws:s3:::keep-bucket", "r3"), META, state)) == 1
        # a deletion event's rescan concludes at once (others look again first: test_rescan_retry)
        gone = await h.handle(
            None, req("arn:aws:s3:::no-such-bucket", "r4", reason="cloudtrail:DeleteBucket"), META, state
        )
        assert [e.value is None for e in gone] == [False, True]
    finally:
        await h.stop()


async def test_a_rescan_of_every_bucket_snapshots_them_all_and_deletes_nothing(
    s3_only: MotoServer, settings_for: Callable[..., Settings]
) -> None:
    """The account's Block Public Access changed (rescan map id "{every}"): no id, no ARN."""
    h = IngestHandler(settings_for(), clock=Clock())
    request = RescanRequest(
        request_id="every-1",
        account_id=ACCOUNT_ID,
        region="us-east-1",
        resource_type="aws.s3.bucket",
        requested_at="2026-11-28T00:00:00.000Z",
        reason="cloudtrail:PutAccountPublicAccessBlock",
    )
    try:
        got = await h.handle(None, dumps(request), META, {})
        listed = {b["Name"] for b in s3_only.boto3_client("s3").list_buckets()["Buckets"]}
        assert listed and {e.key for e in got} == {f"arn:aws:s3:::{n}" for n in listed}
        assert all(e.value is not None for e in got)  # snapshots only: nothing concluded deleted
    finally:
        await h.stop()


def test_reconcile_is_pure_and_partial_jobs_delete_nothing() -> None:
    from cspm_stream.collect import ScanOutcome

    state: dict[str, Any] = {seen_key(ACCOUNT_ID, "global", "aws.s3.bucket"): ["a", "b"]}
    out = ScanOutcome(complete_types={"aws.s3.bucket"}, seen={"aws.s3.bucket": {"a"}})
    assert reconcile(job(1, full=False), out, state, "t") == []
    emits = reconcile(job(1), out, state, "t")
    assert [(e.key, e.value is None) for e in emits] == [("b", False), ("b", True)]


def test_factory(settings_for: Callable[..., Settings]) -> None:
    from cspm_stream.app import role_context
    from cspm_stream.stages.ingest import Scheduler, build_stage

    parts = build_stage(role_context(settings_for(), environ={}))
    h = parts.handler
    assert isinstance(h, IngestHandler) and h.name == "ingest" and set(h.inputs) == {"scan-jobs", "rescan"}
    assert [(name, type(svc)) for name, svc in parts.services] == [("scheduler", Scheduler)]  # no source configured


async def test_scheduler_tick_produces_jobs(settings_for: Callable[..., Settings]) -> None:
    from dataclasses import replace

    from cspm_stream.stages.ingest import build_scheduler

    sent: list[Emit] = []

    async def send(emits: list[Emit]) -> None:
        sent.extend(emits)

    base = settings_for(regions=["us-east-1", "eu-west-1"])
    s = replace(base, scan=replace(base.scan, services=["s3", "ec2"]))
    sched = build_scheduler(s, send)
    assert await sched.tick() == 3
    keys = sorted(e.key or "" for e in sent)
    assert keys == [f"{ACCOUNT_ID}|eu-west-1|ec2", f"{ACCOUNT_ID}|global|s3", f"{ACCOUNT_ID}|us-east-1|ec2"]
    assert all(e.topic == "scan-jobs" and decode(e.value, ScanJob).full for e in sent)


def test_oversized_snapshot_drops_largest_attributes_as_errors() -> None:
    from cspm_stream.models import ResourceSnapshot
    from cspm_stream.stages.ingest import fit
    from cspm_stream.testing import snapshot

    snap = snapshot("aws.logs.monitoring", {"MetricFilters": ["x" * 2000] * 50, "Alarms": [1, 2], "Small": True})
    small = decode(fit(snap, max_bytes=5000), ResourceSnapshot)
    assert "MetricFilters" not in small.attributes and small.attributes["Alarms"] == [1, 2]
    assert [(e.attribute, e.code) for e in small.errors] == [("MetricFilters", "TooLarge")]
    assert decode(fit(snap), ResourceSnapshot).attributes == snap.attributes  # under the limit: untouched
