"""The eventName → resource table: validation at load and the targets it yields."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cspm_stream.collect.services import resource_types
from cspm_stream.detect.rescan import EVERY, default_map_path, load_map, parse_map
from cspm_stream.errors import DefinitionError
from tests.unit.detect.helpers import ev

REQUIRED = {
    ("s3.amazonaws.com", "PutBucketAcl"),
    ("s3.amazonaws.com", "PutBucketPolicy"),
    ("s3.amazonaws.com", "DeleteBucketPolicy"),
    ("s3.amazonaws.com", "PutPublicAccessBlock"),
    ("s3.amazonaws.com", "DeletePublicAccessBlock"),
    ("s3.amazonaws.com", "PutBucketEncryption"),
    ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress"),
    ("ec2.amazonaws.com", "RevokeSecurityGroupIngress"),
    ("iam.amazonaws.com", "CreateAccessKey"),
    ("iam.amazonaws.com", "UpdateAccessKey"),
    ("iam.amazonaws.com", "AttachUserPolicy"),
    ("iam.amazonaws.com", "CreateLoginProfile"),
    ("ec2.amazonaws.com", "ModifySnapshotAttribute"),
    ("ec2.amazonaws.com", "ModifyImageAttribute"),
    ("rds.amazonaws.com", "ModifyDBInstance"),
    ("cloudtrail.amazonaws.com", "StopLogging"),
    ("cloudtrail.amazonaws.com", "UpdateTrail"),
    ("kms.amazonaws.com", "DisableKeyRotation"),
    ("guardduty.amazonaws.com", "DeleteDetector"),
}


def test_builtin_map_loads_and_covers_the_required_events() -> None:
    m = load_map()
    assert REQUIRED <= set(m.entries)
    assert {s.type for specs in m.entries.values() for s in specs} <= resource_types()


def test_bucket_and_security_group_targets() -> None:
    m = load_map()
    (t,) = m.targets(ev("PutBucketAcl", "s3.amazonaws.com", request_parameters={"bucketName": "data"}))
    assert (t.resource_type, t.resource_id, t.arn) == ("aws.s3.bucket", "data", "arn:aws:s3:::data")
    (sg,) = m.targets(
        ev(
            "AuthorizeSecurityGroupIngress",
            "ec2.amazonaws.com",
            region="eu-west-1",
            request_parameters={"groupId": "sg-1"},
        )
    )
    assert sg.arn == "arn:aws:ec2:eu-west-1:123456789012:security-group/sg-1"
    assert sg.account_id == "123456789012" and sg.region == "eu-west-1"


def test_failed_calls_and_reads_request_nothing() -> None:
    m = load_map()
    assert (
        m.targets(
            ev("PutBucketAcl", "s3.amazonaws.com", request_parameters={"bucketName": "b"}, error_code="AccessDenied")
        )
        == []
    )
    assert m.targets(ev("GetBucketAcl", "s3.amazonaws.com", request_parameters={"bucketName": "b"})) == []


def test_multiple_ids_account_level_and_versioned_names() -> None:
    m = load_map()
    run = ev(
        "RunInstances",
        "ec2.amazonaws.com",
        response_elements={"instancesSet": {"items": [{"instanceId": "i-1"}, {"instanceId": "i-2"}]}},
    )
    assert [t.resource_id for t in m.targets(run)] == ["i-1", "i-2"]
    acct, every = m.targets(ev("PutPublicAccessBlock", "s3.amazonaws.com", request_parameters={}))
    assert acct.resource_type == "aws.s3.account" and acct.arn == "arn:aws:s3::123456789012:account-settings"
    # the account's block changes every bucket's public verdicts: all its buckets are looked at again
    assert (every.resource_type, every.resource_id, every.arn) == ("aws.s3.bucket", EVERY, None)
    (bucket,) = m.targets(ev("PutPublicAccessBlock", "s3.amazonaws.com", request_parameters={"bucketName": "b"}))
    assert bucket.resource_type == "aws.s3.bucket"
    (fn,) = m.targets(ev("AddPermission20150331v2", "lambda.amazonaws.com", request_parameters={"functionName": "f"}))
    assert fn.resource_type == "aws.lambda.function"
    (key,) = m.targets(
        ev(
            "ScheduleKeyDeletion",
            "kms.amazonaws.com",
            response_elements={"keyId": "arn:aws:kms:us-east-1:123456789012:key/k1"},
        )
    )
    assert key.arn == "arn:aws:kms:us-east-1:123456789012:key/k1"
    trail = m.targets(ev("StopLogging", "cloudtrail.amazonaws.com", request_parameters={"name": "main"}))
    assert {t.resource_type for t in trail} == {"aws.cloudtrail.trail", "aws.cloudtrail.region"}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ({"PutBucketAcl": [{"type": "aws.s3.bucket", "id": ["requestParameters.bucketName"]}]}, "key must be"),
        ({"s3.amazonaws.com PutBucketAcl": [{"type": "aws.s3.bukket", "id": ["x"]}]}, "not a contract resource"),
        (
            {"s3.amazonaws.com PutBucketAcl": [{"type": "aws.s3.bucket", "id": ["requestParams.x"]}]},
            "unknown CloudTrail field",
        ),
        (
            {
                "s3.amazonaws.com PutBucketAcl": [
                    {"type": "aws.s3.bucket", "id": ["requestParameters.b"], "arn": "arn:{nope}"}
                ]
            },
            "arn template",
        ),
        ({"s3.amazonaws.com PutBucketAcl": []}, "non-empty list"),
    ],
)
def test_invalid_entries_fail_at_load_naming_the_entry(raw: object, reason: str) -> None:
    with pytest.raises(DefinitionError) as exc:
        parse_map(raw, "map.yaml")
    assert reason in str(exc.value) and "map.yaml" in str(exc.value)


def test_the_builtin_map_loads_without_importing_the_collectors() -> None:
    """Its types are held to the collectors' by the test above; a one-shot ``detect`` skips ~0.4 s of imports."""
    probe = "import sys; from cspm_stream.detect.rescan import load_map; load_map(); print('cspm_stream.collect' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_an_operators_map_is_checked_against_the_collectors_types(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(default_map_path().read_text(encoding="utf-8"), encoding="utf-8")
    assert len(load_map(good)) == len(load_map())
    bad = tmp_path / "bad.yaml"
    bad.write_text("s3.amazonaws.com PutBucketAcl:\n- type: aws.s3.bukket\n  id: requestParameters.bucketName\n")
    with pytest.raises(DefinitionError) as exc:
        load_map(bad)
    assert "not a contract resource type" in str(exc.value) and "bad.yaml" in str(exc.value)


@pytest.mark.parametrize("name", ["PutAccountPublicAccessBlock", "DeleteAccountPublicAccessBlock"])
def test_the_accounts_block_rescans_the_account_and_every_bucket(name: str) -> None:
    from cspm_stream.stages.detect import rescan_request

    targets = load_map().targets(ev(name, "s3.amazonaws.com", request_parameters={"accountId": "123456789012"}))
    assert [(t.resource_type, t.resource_id) for t in targets] == [
        ("aws.s3.account", "123456789012"),
        ("aws.s3.bucket", EVERY),
    ]
    req = rescan_request(targets[1], "2026-12-05T09:00:00Z")
    assert req.resource_type == "aws.s3.bucket" and req.arn is None and req.resource_id is None  # every bucket
