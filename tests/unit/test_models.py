"""Contracts: every model round-trips; malformed bytes become dead letters, never exceptions."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import orjson
import pytest

from cspm_stream.errors import DecodeError
from cspm_stream.external.model import ExternalFinding, OurDetection
from cspm_stream.models import (
    ActivityRecord,
    ActivitySource,
    Approval,
    AttributeFailure,
    DeadLetter,
    RemediationCommand,
    RemediationMode,
    RemediationResult,
    RemediationStatus,
    RescanRequest,
    ResourceDeleted,
    ResourceSnapshot,
    ScanJob,
    ScanStatus,
    decode,
    decode_any,
    dumps,
    ocsf,
    principal_key,
    registry,
)
from cspm_stream.models.change import Change
from cspm_stream.models.enums import Severity
from cspm_stream.stages.context_input import ContextInput
from cspm_stream.testing import cloudtrail_record, snapshot

T0 = "2026-01-01T00:00:00.000Z"

EXAMPLES: list[Any] = [
    ScanJob("j1", "s1", "123456789012", "us-east-1", "s3", T0, ["aws.s3.bucket"], None, True),
    snapshot("aws.s3.bucket", {"Name": "b", "Acl": {"Grants": []}}, tags={"env": "prod"}),
    ResourceSnapshot(
        "arn:aws:s3:::b",
        "aws.s3.bucket",
        "b",
        "1",
        "us-east-1",
        T0,
        "s1",
        {"Name": "b"},
        errors=[AttributeFailure("Policy", "AccessDenied", "denied")],
    ),
    ResourceDeleted("arn:aws:s3:::b", "aws.s3.bucket", "1", "us-east-1", T0, "s1"),
    ScanStatus("j1", "s1", "1", "us-east-1", "s3", T0, T0, 10, 1, True),
    RescanRequest("r1", "1", "us-east-1", "aws.s3.bucket", T0, "PutBucketAcl", arn="arn:aws:s3:::b"),
    ActivityRecord.from_cloudtrail(cloudtrail_record("CreateUser"), ActivitySource.S3_SQS, T0),
    RemediationCommand(
        "c1",
        "s3_block_public_access",
        RemediationMode.DRY_RUN,
        "1",
        "us-east-1",
        "arn:aws:s3:::b",
        "aws.s3.bucket",
        "b",
        "f1",
        T0,
        params={"x": 1},
    ),
    Approval("c1", "alice", T0, True, "sig"),
    RemediationResult(
        "c1",
        "s3_block_public_access",
        RemediationMode.AUTO,
        RemediationStatus.SUCCEEDED,
        "1",
        "us-east-1",
        "arn:aws:s3:::b",
        T0,
        calls=[{"api": "PutPublicAccessBlock"}],
        before={"a": 1},
        after={"a": 2},
    ),
    DeadLetter.build(stage="s", reason="r", error_type="DecodeError", at=T0, original=b"\xff\x00", key=b"\xff"),
    ContextInput("finding", "123456789012", "arn:aws:s3:::b", policy_id="s3_bucket_policy_public", failing=True),
    RescanRequest(
        "r2",
        "1",
        "us-east-1",
        "aws.s3.bucket",
        T0,
        "cloudtrail:PutBucketAcl",
        arn="arn:aws:s3:::b",
        actor=Change("e1", "PutBucketAcl", "s3.amazonaws.com", T0, "arn:aws:iam::1:user/a", "IAMUser", "a"),
        attempt=2,
    ),
    ExternalFinding(
        "arn:aws:securityhub:us-east-1:1:security-control/S3.8/finding/x",
        "securityhub",
        "AWS Security Hub",
        "securityhub",
        "compliance",
        "123456789012",
        "us-east-1",
        "arn:aws:s3:::b",
        "AwsS3Bucket",
        "S3.8",
        "",
        3,
        "fail",
        "ACTIVE NEW FAILED",
        T0,
        T0,
        T0,
        control="S3.8",
        policy_id="s3_bucket_public_access_block",
    ),
    OurDetection("u1", "rule-1", "123456789012|user/a", 1, 1, "t", 4, "123456789012", "us-east-1"),
]


def test_every_registered_model_has_an_example() -> None:
    assert {type(e).SCHEMA for e in EXAMPLES} == set(registry())


@pytest.mark.parametrize("msg", EXAMPLES, ids=lambda m: type(m).SCHEMA)
def test_round_trip(msg: Any) -> None:
    data = dumps(msg)
    assert orjson.loads(data)["schema"] == type(msg).SCHEMA
    assert decode(data, type(msg)) == msg


def test_snapshot_hash_is_stable_and_content_sensitive() -> None:
    a = snapshot("aws.s3.bucket", {"x": 1, "y": [1, 2]})
    b = snapshot("aws.s3.bucket", {"y": [1, 2], "x": 1}, observed_at="2027-01-01T00:00:00.000Z")
    c = snapshot("aws.s3.bucket", {"x": 2, "y": [1, 2]})
    assert a.content_hash == b.content_hash != c.content_hash


MALFORMED = {
    "truncated JSON": (b'{"schema": "inventory.v1", "arn": "x', "not valid JSON"),
    "wrong schema": (orjson.dumps({"schema": "activity.v1"}), "wrong schema"),
    "no schema": (b'{"arn": "x"}', "wrong schema"),
    "not an object": (b"[1, 2, 3]", "expected an object"),
    "non-UTF-8": (b'{"schema": "inventory.v1", "arn": "\xff\xfe"}', "not valid JSON"),
    "10 MB blob": (b'{"schema": "inventory.v1", "pad": "' + b"a" * 10_000_000 + b'"}', "too large"),
    "empty": (b"", "empty value"),
    "null": (None, "empty value"),
    "missing field": (orjson.dumps({"schema": "inventory.v1", "arn": "x"}), "missing required field"),
    "wrong type": (
        orjson.dumps(
            {
                "schema": "inventory.v1",
                "arn": 5,
                "resource_type": "t",
                "resource_id": "i",
                "account_id": "a",
                "region": "r",
                "observed_at": "t",
                "scan_id": "s",
                "attributes": {},
            }
        ),
        "arn: expected a string",
    ),
    "nested wrong type": (
        orjson.dumps(
            {
                "schema": "inventory.v1",
                "arn": "a",
                "resource_type": "t",
                "resource_id": "i",
                "account_id": "a",
                "region": "r",
                "observed_at": "t",
                "scan_id": "s",
                "attributes": {},
                "errors": [{"attribute": 1}],
            }
        ),
        "errors[0]",
    ),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_bytes_raise_decode_error_with_reason(name: str) -> None:
    raw, why = MALFORMED[name]
    with pytest.raises(DecodeError) as info:
        decode(raw, ResourceSnapshot)
    assert why in info.value.reason
    # ... and become a dead letter that keeps the exact original bytes
    letter = DeadLetter.build(
        stage="posture",
        reason=info.value.reason,
        error_type="DecodeError",
        at=T0,
        original=raw,
        source_topic="cspm.inventory",
        partition=0,
        offset=7,
    )
    back = decode(dumps(letter), DeadLetter)
    assert back.original() == (raw or b"")
    assert back.original_size == len(raw or b"")
    assert why in back.reason


def test_bad_enum_value_is_a_decode_error() -> None:
    bad = orjson.loads(dumps(EXAMPLES[7]))
    bad["mode"] = "yolo"
    with pytest.raises(DecodeError, match="mode: 'yolo' is not one of"):
        decode(orjson.dumps(bad), RemediationCommand)


def test_decode_any_dispatches_on_schema() -> None:
    msg = decode_any(dumps(EXAMPLES[3]), (ResourceSnapshot, ResourceDeleted))
    assert isinstance(msg, ResourceDeleted)
    with pytest.raises(DecodeError, match="not accepted here"):
        decode_any(dumps(EXAMPLES[0]), (ResourceSnapshot, ResourceDeleted))


def test_principal_key_groups_role_sessions_by_role() -> None:
    rec = cloudtrail_record("ListUsers", user_type="AssumedRole", user_arn="arn:aws:sts::1:assumed-role/R/s1")
    rec["userIdentity"]["sessionContext"] = {"sessionIssuer": {"arn": "arn:aws:iam::1:role/R"}}
    assert principal_key(rec) == "arn:aws:iam::1:role/R"
    root = cloudtrail_record("ConsoleLogin", user_type="Root", user_arn="")
    root["userIdentity"].pop("arn")
    assert principal_key(root) == "arn:aws:iam::123456789012:root"


def test_ocsf_envelope_validates_and_rejects() -> None:
    f = ocsf.envelope(
        class_uid=ocsf.COMPLIANCE_FINDING,
        activity_id=1,
        severity=Severity.HIGH,
        time_ms=1,
        uid="u",
        title="t",
        desc="d",
        status_id=1,
        account_id="1",
        region="us-east-1",
    )
    assert ocsf.validate(f) is f and f["type_uid"] == 200301
    broken = dict(f, class_uid=9)
    with pytest.raises(DecodeError, match="class_uid"):
        ocsf.validate(broken)
    with pytest.raises(DecodeError, match="missing"):
        ocsf.validate({"schema": "x"})
    assert ocsf.finding_uid("p", "arn") == ocsf.finding_uid("p", "arn") != ocsf.finding_uid("p", "arn2")


def test_models_are_dataclasses_with_resolvable_hints() -> None:
    for cls in registry().values():
        assert dataclasses.is_dataclass(cls)
        typing.get_type_hints(cls)
