"""Failures are data: injected AccessDenied, throttling, list failures, pagination, not-implemented."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cspm_stream.collect import Collector, ScanOutcome
from cspm_stream.models import ResourceSnapshot, ScanJob
from cspm_stream.settings import Settings
from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from tests.unit.collect.conftest import counter, failing, reset

pytestmark = pytest.mark.moto


def job(service: str, region: str = "us-east-1", types: list[str] | None = None) -> ScanJob:
    return ScanJob(
        job_id=f"j-{service}-{region}",
        scan_id="scan-t",
        account_id=ACCOUNT_ID,
        region=region,
        service=service,
        requested_at="2026-11-28T00:00:00.000Z",
        resource_types=types or [],
    )


async def run(c: Collector, j: ScanJob) -> tuple[list[ResourceSnapshot], ScanOutcome]:
    outcome = ScanOutcome()
    snaps = [s async for s in c.collect(j, outcome)]
    return snaps, outcome


@pytest.fixture(scope="module")
def buckets(moto_server: MotoServer) -> list[str]:
    """One reset per module (moto's reset is slow): 3 buckets and 7 roles."""
    reset(moto_server)
    s3 = moto_server.boto3_client("s3")
    names = ["bucket-a", "bucket-b", "bucket-c"]
    for n in names:
        s3.create_bucket(Bucket=n)
    iam = moto_server.boto3_client("iam")
    for i in range(7):
        iam.create_role(RoleName=f"r{i}", AssumeRolePolicyDocument="{}")
    for i in range(3):
        iam.create_user(UserName=f"user{i}")
    return names


async def test_access_denied_on_one_call_is_an_error_record(
    buckets: list[str], settings_for: Callable[..., Settings]
) -> None:
    hook = failing("AccessDenied", status=403)
    async with Collector(settings_for().aws, event_hooks=[("before-call.s3.GetBucketPolicy", hook)]) as c:
        snaps, outcome = await run(c, job("s3", "global", ["aws.s3.bucket"]))
    assert sorted(s.resource_id for s in snaps) == buckets  # the scan went on
    assert outcome.complete
    for s in snaps:
        assert "Policy" not in s.attributes  # absent, never null
        assert [(e.attribute, e.code) for e in s.errors] == [("Policy", "AccessDenied")]
        assert s.attributes["Encryption"] is None  # other details still read


async def test_list_failure_gives_collection_error_and_incomplete_type(
    buckets: list[str], settings_for: Callable[..., Settings]
) -> None:
    hook = failing("AccessDenied", status=403)
    async with Collector(settings_for().aws, event_hooks=[("before-call.s3.ListBuckets", hook)]) as c:
        snaps, outcome = await run(c, job("s3", "global"))
    errs = [s for s in snaps if s.resource_type == "aws.s3.bucket"]
    assert len(errs) == 1 and errs[0].resource_id == "*"
    assert errs[0].arn == f"arn:aws:s3:global:{ACCOUNT_ID}:collection-error/aws.s3.bucket"
    assert errs[0].errors[0].attribute == "*" and errs[0].errors[0].code == "AccessDenied"
    assert not outcome.complete and "aws.s3.bucket" in outcome.failed_types
    assert "aws.s3.account" in outcome.complete_types  # the other type is unaffected


async def test_throttling_is_retried_until_success(buckets: list[str], settings_for: Callable[..., Settings]) -> None:
    hook = failing("ThrottlingException", times=4)
    async with Collector(
        settings_for().aws, event_hooks=[("before-call.s3.GetBucketAcl", hook)], backoff_base_s=0.01
    ) as c:
        snaps, outcome = await run(c, job("s3", "global", ["aws.s3.bucket"]))
        assert c.throttle_retries_done == 4
    assert outcome.complete and len(snaps) == 3
    assert all("Acl" in s.attributes and not s.errors for s in snaps)


async def test_throttling_beyond_budget_is_an_error_not_a_pass(
    buckets: list[str], settings_for: Callable[..., Settings]
) -> None:
    hook = failing("Throttling")
    async with Collector(
        settings_for().aws,
        event_hooks=[("before-call.s3.GetBucketAcl", hook)],
        backoff_base_s=0.001,
        throttle_retries=2,
    ) as c:
        snaps, _ = await run(c, job("s3", "global", ["aws.s3.bucket"]))
    assert all("Acl" not in s.attributes and s.errors[0].code == "Throttling" for s in snaps)


async def test_pagination_reads_every_page(buckets: list[str], settings_for: Callable[..., Settings]) -> None:
    pages = counter()
    async with Collector(settings_for().aws, page_size=2, event_hooks=[("before-call.iam.ListRoles", pages)]) as c:
        snaps, outcome = await run(c, job("iam", "global", ["aws.iam.role"]))
    assert sorted(s.resource_id for s in snaps) == [f"r{i}" for i in range(7)]
    assert pages.calls["n"] == 4  # type: ignore[attr-defined]  # 2+2+2+1
    assert outcome.complete


async def test_not_implemented_is_not_retried_per_resource(settings_for: Callable[..., Settings]) -> None:
    calls = counter()
    async with Collector(
        settings_for(max_attempts=5).aws, event_hooks=[("before-send.ec2.GetEbsDefaultKmsKeyId", calls)]
    ) as c:
        for _ in range(3):
            snaps, _ = await run(c, job("ec2", types=["aws.ec2.region"]))
            assert snaps[0].errors[0].attribute == "EbsDefaultKmsKeyId"
            assert snaps[0].errors[0].code == "NotImplemented"
    # one botocore call (the HTML 500 is not retried), then short-circuited for the collector's life
    assert calls.calls["n"] == 1  # type: ignore[attr-defined]


async def test_rescan_one_resource(buckets: list[str], settings_for: Callable[..., Settings]) -> None:
    acl = counter()
    async with Collector(settings_for().aws, event_hooks=[("before-call.s3.GetBucketAcl", acl)]) as c:
        found, complete = await c.collect_one(job("s3", "global", ["aws.s3.bucket"]), arn="arn:aws:s3:::bucket-b")
        missing, complete2 = await c.collect_one(job("s3", "global", ["aws.s3.bucket"]), arn="arn:aws:s3:::nope")
    assert [s.resource_id for s in found] == ["bucket-b"] and complete
    assert acl.calls["n"] == 1  # type: ignore[attr-defined]  # details only for the wanted one
    assert missing == [] and complete2


async def test_credential_report_shared_within_a_job_fresh_per_job(
    buckets: list[str], settings_for: Callable[..., Settings]
) -> None:
    reads = counter()
    async with Collector(settings_for().aws, event_hooks=[("before-call.iam.GetCredentialReport", reads)]) as c:
        for n in (1, 2):
            snaps, _ = await run(c, job("iam", "global", ["aws.iam.user", "aws.iam.account"]))
            users = [s for s in snaps if s.resource_type == "aws.iam.user"]
            assert len(users) == 3 and all(u.attributes["CredentialReport"]["user"] == u.resource_id for u in users)
            assert reads.calls["n"] == n  # type: ignore[attr-defined]  # once per job, 4 readers


async def test_throttled_listing_is_retried(buckets: list[str], settings_for: Callable[..., Settings]) -> None:
    hook = failing("SlowDown", times=2, status=503)
    async with Collector(
        settings_for().aws, event_hooks=[("before-call.s3.ListBuckets", hook)], backoff_base_s=0.01
    ) as c:
        snaps, outcome = await run(c, job("s3", "global", ["aws.s3.bucket"]))
    assert outcome.complete and sorted(s.resource_id for s in snaps) == buckets


@pytest.mark.parametrize(("times", "readable"), [(1, True), (None, False)])
async def test_5xx_retried_briefly_then_an_error(
    buckets: list[str], settings_for: Callable[..., Settings], times: int | None, readable: bool
) -> None:
    hook = failing("InternalError", times=times, status=500)
    async with Collector(
        settings_for().aws, event_hooks=[("before-call.s3.GetBucketVersioning", hook)], backoff_base_s=0.01
    ) as c:
        snaps, outcome = await run(c, job("s3", "global", ["aws.s3.bucket"]))
    assert outcome.complete  # the listing is fine either way
    for s in snaps:
        assert ("Versioning" in s.attributes) is readable
        assert [e.code for e in s.errors] == ([] if readable else ["InternalError"])


async def test_rescan_by_id_of_a_deleted_instance_is_complete_and_empty(
    buckets: list[str], settings_for: Callable[..., Settings], moto_server: MotoServer
) -> None:
    ec2 = moto_server.boto3_client("ec2")
    iid = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    j = job("ec2", types=["aws.ec2.instance"])
    async with Collector(settings_for().aws) as c:
        found, complete = await c.collect_one(j, resource_id=iid)
        assert [s.resource_id for s in found] == [iid] and complete
        gone, complete = await c.collect_one(j, resource_id="i-0123456789abcdef0")
        assert gone == [] and complete  # NotFound for the one id: deleted, not an error
        arn_id, complete = await c.collect_one(
            j, arn=f"arn:aws:ec2:us-east-1:{ACCOUNT_ID}:instance/{iid}", resource_id=f"arn:aws:ec2:::{iid}"
        )
        assert [s.resource_id for s in arn_id] == [iid] and complete  # an ARN-shaped id is not sent as an id
