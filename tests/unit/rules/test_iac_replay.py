"""Quiet on automation, loud on attackers: recorded Terraform sessions through the whole built-in pack.

``tests/data/iac/terraform_{apply,refresh,destroy}.jsonl`` are the CloudTrail records of a CI
pipeline running Terraform on a small stack (written by ``tests/data/iac/generate.py`` from the
calls terraform-provider-aws makes). Replayed in order through every built-in rule:

- the benign sessions raise no alert at all (no mass deletion on destroy, no SecureString or
  secret burst on refresh, no teardown correlation);
- the same calls made by a person with the AWS CLI do raise the volume alerts, so the quiet
  above comes from recognising the deployer, not from a session too small to matter;
- one malicious action inserted into a session raises exactly that action's alert.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from cspm_stream.detect.catalog import builtin_rules_dir, vocabulary
from cspm_stream.detect.engine import DetectionEngine, EngineConfig
from cspm_stream.detect.loader import load_paths
from cspm_stream.detect.rules import RuleSet
from cspm_stream.settings import DetectionSettings

DATA = Path(__file__).resolve().parents[2] / "data" / "iac"
PHASES = ("apply", "refresh", "destroy")
ACCT = "123456789012"


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    settings = DetectionSettings()
    rs = load_paths([builtin_rules_dir()], settings.placeholders, vocab=vocabulary(settings))
    assert rs.errors == []
    return rs


def session(phase: str) -> list[dict[str, Any]]:
    with (DATA / f"terraform_{phase}.jsonl").open() as f:
        return [json.loads(line) for line in f if line.strip()]


def alerts(rules: RuleSet, records: list[dict[str, Any]]) -> Counter[str]:
    """Rule names of the detections the records raise (in record order, one engine, one state)."""
    names = {i.id: i.name for i in rules.infos()}
    engine = DetectionEngine(rules, EngineConfig.from_settings(DetectionSettings()))
    state: dict[str, Any] = {}
    out: Counter[str] = Counter()
    for rec in records:
        for finding in engine.process(copy.deepcopy(rec), state).findings:
            out[names[finding["unmapped"]["rule_id"]]] += 1
    return out


def _at(records: list[dict[str, Any]], index: int, seconds: float = 0.5) -> str:
    t = dt.datetime.fromisoformat(records[index]["eventTime"].replace("Z", "+00:00")) + dt.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def as_person(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same calls made by an IAM user from a laptop with the AWS CLI (no deployer signal)."""
    out = []
    for rec in records:
        r = copy.deepcopy(rec)
        r["userIdentity"] = {
            "type": "IAMUser",
            "principalId": "AIDA2JXQH7EXAMPLEOPSX",
            "arn": f"arn:aws:iam::{ACCT}:user/ops-admin",
            "accountId": ACCT,
            "accessKeyId": "AKIA2JXQH7EXAMPLEOPSX",
            "userName": "ops-admin",
        }
        r["userAgent"] = (
            "aws-cli/2.17.4 md/awscrt#0.20.11 ua/2.0 os/macos#23.5.0 md/arch#arm64 lang/python#3.11.9 prompt/off"
        )
        r["sourceIPAddress"] = "203.0.113.24"
        out.append(r)
    return out


# ---------------------------------------------------------------------- benign


def test_sessions_are_realistic_and_large_enough() -> None:
    apply, refresh, destroy = (session(p) for p in PHASES)
    for records in (apply, refresh, destroy):
        assert all(r["userAgent"].startswith("APN/1.0 HashiCorp/1.0 Terraform/") for r in records)
        assert all(r["userIdentity"]["type"] == "AssumedRole" for r in records)
        assert [r["eventTime"] for r in records] == sorted(r["eventTime"] for r in records)
    deletes = [r for r in destroy if r["eventName"].startswith(("Delete", "Terminate")) and not r.get("errorCode")]
    assert len(deletes) >= 25  # the mass-deletion threshold
    decrypts = [r for r in refresh if r["eventName"] == "GetParameter" and r["requestParameters"].get("withDecryption")]
    assert len(decrypts) >= 10  # the SecureString burst threshold
    secrets = {r["requestParameters"]["secretId"] for r in refresh if r["eventName"] == "GetSecretValue"}
    assert len(secrets) >= 10  # the bulk-secret threshold


@pytest.mark.parametrize("phase", PHASES)
def test_benign_terraform_session_raises_nothing(rules: RuleSet, phase: str) -> None:
    assert alerts(rules, session(phase)) == Counter()


def test_the_whole_lifecycle_in_one_stream_raises_nothing(rules: RuleSet) -> None:
    assert alerts(rules, [r for p in PHASES for r in session(p)]) == Counter()


def test_same_calls_by_a_person_raise_the_volume_alerts(rules: RuleSet) -> None:
    refresh = alerts(rules, as_person(session("refresh")))
    assert refresh["cspm_ssm_securestring_mass_retrieval"] >= 1
    assert refresh["cspm_secretsmanager_mass_secret_retrieval"] >= 1
    destroy = alerts(rules, as_person(session("destroy")))
    assert destroy["cspm_mass_resource_deletion"] >= 1
    assert destroy["cspm_kms_key_deletion_scheduled"] == 1


# ---------------------------------------------------------------------- one malicious action inserted


def _pipeline(rec: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(rec["userIdentity"])


def bucket_made_public(records: list[dict[str, Any]], i: int) -> list[dict[str, Any]]:
    """The pipeline's own credentials put a bucket policy granting everyone read."""
    rec = copy.deepcopy(records[i])
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "x",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::acme-app-artifacts-prod/*",
            }
        ],
    }
    rec.update(
        eventSource="s3.amazonaws.com",
        eventName="PutBucketPolicy",
        eventID="inserted-0001",
        eventTime=_at(records, i),
        readOnly=False,
        requestParameters={
            "bucketName": "acme-app-artifacts-prod",
            "Host": "acme-app-artifacts-prod.s3.us-east-1.amazonaws.com",
            "policy": "",
            "bucketPolicy": policy,
        },
        responseElements=None,
    )
    rec.pop("errorCode", None)
    rec.pop("errorMessage", None)
    return [rec]


def key_for_another_user(records: list[dict[str, Any]], i: int) -> list[dict[str, Any]]:
    """The pipeline's credentials create an access key for an existing admin user (keys for another user)."""
    rec = copy.deepcopy(records[i])
    rec.update(
        eventSource="iam.amazonaws.com",
        eventName="CreateAccessKey",
        eventID="inserted-0002",
        eventTime=_at(records, i),
        readOnly=False,
        requestParameters={"userName": "break-glass-admin"},
        responseElements={
            "accessKey": {
                "userName": "break-glass-admin",
                "accessKeyId": "AKIA2JXQH7EXAMPLEBGA1",
                "status": "Active",
                "createDate": "Mar 11, 2026, 9:15:10 AM",
            }
        },
    )
    rec.pop("errorCode", None)
    rec.pop("errorMessage", None)
    return [rec]


def trail_stopped(records: list[dict[str, Any]], i: int) -> list[dict[str, Any]]:
    """The pipeline's credentials stop the organization trail."""
    rec = copy.deepcopy(records[i])
    rec.update(
        eventSource="cloudtrail.amazonaws.com",
        eventName="StopLogging",
        eventID="inserted-0003",
        eventTime=_at(records, i),
        readOnly=False,
        requestParameters={"name": f"arn:aws:cloudtrail:us-east-1:{ACCT}:trail/org-trail"},
        responseElements=None,
    )
    rec.pop("errorCode", None)
    rec.pop("errorMessage", None)
    return [rec]


def securestring_batch_theft(records: list[dict[str, Any]], i: int) -> list[dict[str, Any]]:
    """A developer's leaked key decrypts every parameter in three GetParameters calls."""
    names = [r["requestParameters"]["name"] for r in records if r["eventName"] == "GetParameter"] or [
        f"/app/prod/p{n}" for n in range(12)
    ]
    names = (names * 3)[:30]
    out = []
    for n in range(3):
        out.append(
            {
                "eventVersion": "1.09",
                "userIdentity": {
                    "type": "IAMUser",
                    "principalId": "AIDA2JXQH7EXAMPLEDEV1",
                    "arn": f"arn:aws:iam::{ACCT}:user/dev-laptop",
                    "accountId": ACCT,
                    "accessKeyId": "AKIA2JXQH7EXAMPLEDEV1",
                    "userName": "dev-laptop",
                },
                "eventTime": _at(records, i, 2.0 * n),
                "eventSource": "ssm.amazonaws.com",
                "eventName": "GetParameters",
                "awsRegion": "us-east-1",
                "sourceIPAddress": "203.0.113.99",
                "userAgent": "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.79 exe/x86_64.ubuntu.22 prompt/off command/ssm.get-parameters",
                "requestParameters": {"names": names[n * 10 : (n + 1) * 10], "withDecryption": True},
                "responseElements": None,
                "requestID": f"inserted-req-{n}",
                "eventID": f"inserted-ssm-{n}",
                "readOnly": True,
                "eventType": "AwsApiCall",
                "managementEvent": True,
                "recipientAccountId": ACCT,
                "eventCategory": "Management",
            }
        )
    return out


INSERTIONS = [
    ("apply", bucket_made_public, "cspm_s3_bucket_made_public"),
    ("refresh", key_for_another_user, "cspm_iam_access_key_created_for_another_user"),
    ("destroy", trail_stopped, "cspm_cloudtrail_logging_stopped"),
    ("refresh", securestring_batch_theft, "cspm_ssm_securestring_batch_retrieval"),
]


@pytest.mark.parametrize(("phase", "make", "expected"), INSERTIONS, ids=[m.__name__ for _, m, _ in INSERTIONS])
def test_one_malicious_action_raises_exactly_its_alert(rules: RuleSet, phase: str, make: Any, expected: str) -> None:
    records = session(phase)
    i = len(records) // 2
    malicious = make(records, i)
    replay = records[: i + 1] + malicious + records[i + 1 :]
    assert alerts(rules, replay) == Counter({expected: 1})
