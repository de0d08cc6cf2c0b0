"""Posture-like external findings joined with our checks in the posture stage: one record per problem."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from cspm_stream import settings as settings_mod
from cspm_stream.delivery.model import alert_from_bytes
from cspm_stream.delivery.router import is_duplicate
from cspm_stream.errors import DecodeError
from cspm_stream.external.asff import from_asff
from cspm_stream.external.mapping import Equivalents
from cspm_stream.external.ocsf import external_uid
from cspm_stream.models import dumps
from cspm_stream.policy.catalog import catalog_from_settings
from cspm_stream.policy.ocsf import finding_uid
from cspm_stream.stages.base import RecordMeta
from cspm_stream.stages.posture import PostureHandler
from cspm_stream.testing.factories import snapshot
from cspm_stream.testing.ocsf_models import ocsf_errors
from tests.unit.external import samples as s

BUCKET = "arn:aws:s3:::reports"
POLICY = "s3_bucket_public_access_block"
UID = finding_uid(POLICY, BUCKET)
T_S = 1_795_883_460.0  # 2026-11-28T16:31:00Z
OPEN = {"BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False, "RestrictPublicBuckets": False}
CLOSED = dict.fromkeys(OPEN, True)


@pytest.fixture(scope="module")
def catalog() -> Any:
    return catalog_from_settings(settings_mod.load(data={}, environ={}).policy)


@pytest.fixture
def posture(catalog: Any) -> PostureHandler:
    return PostureHandler(catalog, None, clock=lambda: T_S)


def bucket(pab: dict[str, bool], observed: str = "2026-11-28T16:00:00.000Z") -> bytes:
    snap = snapshot("aws.s3.bucket", {"Name": "reports", "PublicAccessBlock": pab}, arn=BUCKET, observed_at=observed)
    return dumps(snap)


async def feed(h: PostureHandler, value: bytes, state: dict[str, Any]) -> list[dict[str, Any]]:
    emits = await h.handle(None, value, RecordMeta("x", 0, 0), state)
    out = []
    for e in emits:
        assert e.topic == "findings" and e.value is not None
        f = orjson.loads(e.value)
        assert ocsf_errors(f) == [], ocsf_errors(f)
        assert e.key == f["finding_info"]["uid"]
        out.append(f)
    return out


def hub(eq: Equivalents, status: str = "FAILED", updated: str = "2026-11-28T16:30:00.000Z", **kw: Any) -> bytes:
    return dumps(from_asff(s.control("S3.8", BUCKET, "AwsS3Bucket", status, updated=updated, **kw), eq=eq))


def of(found: list[dict[str, Any]], uid: str) -> dict[str, Any]:
    (f,) = [f for f in found if f["finding_info"]["uid"] == uid]
    return f


async def test_ours_first_then_security_hub_restates_our_check_with_both_sources(
    posture: PostureHandler, eq: Equivalents
) -> None:
    state: dict[str, Any] = {}
    mine = of(await feed(posture, bucket(OPEN), state), UID)
    assert mine["unmapped"]["state"] == "new" and "sources" not in mine["unmapped"]
    (again,) = await feed(posture, hub(eq), state)
    assert again["finding_info"]["uid"] == UID
    assert again["unmapped"]["state"] == "failing"  # restated, never a second "new"
    assert again["activity_id"] == 2
    assert [(x["product"], x["verdict"]) for x in again["unmapped"]["sources"]] == [
        ("cspm_stream", "fail"),
        ("AWS Security Hub", "fail"),
    ]
    assert again["finding_info"]["related_events"] == [
        {"uid": again["unmapped"]["sources"][1]["uid"], "type": "AWS Security Hub finding"}
    ]
    assert again["metadata"]["product"]["name"] == "cspm_stream"
    # the same version again (another path, a replay): nothing
    assert await feed(posture, hub(eq), state) == []
    # our next transition lists the source too
    fixed = of(await feed(posture, bucket(CLOSED, "2026-11-28T17:00:00.000Z"), state), UID)
    assert fixed["unmapped"]["state"] == "resolved"
    assert [x["product"] for x in fixed["unmapped"]["sources"]] == ["cspm_stream", "AWS Security Hub"]


async def test_security_hub_first_then_ours_is_one_alert(posture: PostureHandler, eq: Equivalents) -> None:
    state: dict[str, Any] = {}
    (first,) = await feed(posture, hub(eq), state)
    assert first["finding_info"]["uid"] == UID
    assert first["unmapped"]["state"] == "new"
    assert first["finding_info"]["title"] == posture.engine.policies[POLICY].title
    assert [x["product"] for x in first["unmapped"]["sources"]] == ["AWS Security Hub"]
    mine = of(await feed(posture, bucket(OPEN), state), UID)
    assert mine["unmapped"]["state"] == "new"
    assert [x["product"] for x in mine["unmapped"]["sources"]] == ["cspm_stream", "AWS Security Hub"]
    seen: dict[str, Any] = {}
    alerts = [
        a for a in (alert_from_bytes(dumps(f)) for f in (first, mine)) if not is_duplicate(a, seen, 86400, a.time_ms)
    ]
    assert len(alerts) == 1  # one problem, one alert


async def test_our_verdict_stays_ours_when_the_sources_disagree(posture: PostureHandler, eq: Equivalents) -> None:
    state: dict[str, Any] = {}
    await feed(posture, bucket(CLOSED), state)
    (restated,) = await feed(posture, hub(eq), state)
    assert restated["unmapped"]["state"] == "passed"
    assert [x["verdict"] for x in restated["unmapped"]["sources"]] == ["pass", "fail"]
    assert alert_from_bytes(dumps(restated)).state == "passed"  # routes never page on passed


async def test_external_only_lifecycle_without_a_check_of_ours(posture: PostureHandler, eq: Equivalents) -> None:
    state: dict[str, Any] = {}
    (new,) = await feed(posture, dumps(from_asff(s.inspector_cve(), eq=eq)), state)
    ext = from_asff(s.inspector_cve(), eq=eq)
    assert new["finding_info"]["uid"] == external_uid(ext)
    assert new["unmapped"]["state"] == "new"
    assert new["unmapped"]["policy_id"] == "inspector:Software and Configuration Checks/Vulnerabilities/CVE"
    assert new["metadata"]["product"]["name"] == "Amazon Inspector"
    assert new["severity_id"] == 5
    archived = s.inspector_cve()
    archived["RecordState"], archived["UpdatedAt"] = "ARCHIVED", "2026-11-29T03:00:00.000Z"
    (gone,) = await feed(posture, dumps(from_asff(archived, eq=eq)), state)
    assert gone["unmapped"]["state"] == "resolved" and gone["finding_info"]["uid"] == new["finding_info"]["uid"]
    still = dict(archived, UpdatedAt="2026-11-30T03:00:00.000Z")
    assert await feed(posture, dumps(from_asff(still, eq=eq)), state) == []  # no transition, no record


async def test_suppressed_in_the_product_is_suppressed(posture: PostureHandler, eq: Equivalents) -> None:
    f = s.inspector_cve()
    f["Workflow"]["Status"] = "SUPPRESSED"
    (rec,) = await feed(posture, dumps(from_asff(f, eq=eq)), {})
    assert rec["unmapped"]["state"] == "suppressed"
    assert rec["unmapped"]["mute_reason"] == "suppressed in Amazon Inspector"


async def test_no_merge_across_resource_types(posture: PostureHandler, eq: Equivalents) -> None:
    state: dict[str, Any] = {}
    arn = "arn:aws:ec2:us-east-1:123456789012:security-group/sg-1"
    sg = snapshot("aws.ec2.security_group", {"GroupId": "sg-1", "IpPermissions": []}, arn=arn)
    await feed(posture, dumps(sg), state)
    # a (wrong) control mapping naming a bucket policy for a security group's ARN
    ext = from_asff(s.control("S3.8", arn, "AwsEc2SecurityGroup"), eq=eq)
    assert ext.policy_id == POLICY
    (own,) = await feed(posture, dumps(ext), state)
    assert own["finding_info"]["uid"] == external_uid(ext)
    assert own["unmapped"]["policy_id"] == "securityhub:S3.8"


async def test_deletion_records_list_the_sources(posture: PostureHandler, eq: Equivalents) -> None:
    state: dict[str, Any] = {}
    await feed(posture, bucket(OPEN), state)
    await feed(posture, hub(eq), state)
    emits = await posture.handle(BUCKET.encode(), None, RecordMeta("x", 0, 1, timestamp_ms=int(T_S * 1000)), state)
    last = [orjson.loads(e.value) for e in emits if e.key == UID and e.value is not None]
    assert last and last[0]["unmapped"]["resource_deleted"] is True
    assert [x["product"] for x in last[0]["unmapped"]["sources"]] == ["cspm_stream", "AWS Security Hub"]


async def test_a_threat_finding_on_the_posture_topic_is_refused(posture: PostureHandler) -> None:
    ext = from_asff(s.guardduty_via_hub())
    with pytest.raises(DecodeError, match="not a posture-like finding"):
        await posture.handle(None, dumps(ext), RecordMeta("x", 0, 0), {})


async def test_oversized_fields_from_the_topic_are_bounded_in_state(posture: PostureHandler, eq: Equivalents) -> None:
    ext = from_asff(s.inspector_cve(), eq=eq)
    ext.status = "X" * 500_000
    ext.uid = "u" * 200_000
    ext.description = "d" * 1_000_000
    state: dict[str, Any] = {}
    (rec,) = await feed(posture, dumps(ext), state)
    assert len(orjson.dumps(state)) < 20_000
    assert len(rec["finding_info"]["desc"]) <= 4096
