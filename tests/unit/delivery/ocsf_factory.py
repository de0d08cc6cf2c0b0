"""OCSF findings shaped like the posture and detection stages produce them (test data)."""

from __future__ import annotations

from typing import Any

from cspm_stream.models import Severity, dumps, ocsf

ACCOUNT = "123456789012"


def compliance_finding(
    *,
    policy_id: str = "s3_bucket_public_access_block",
    arn: str = "arn:aws:s3:::bucket-1",
    resource_type: str = "aws.s3.bucket",
    state: str = "new",
    severity: Severity = Severity.HIGH,
    account: str = ACCOUNT,
    region: str = "us-east-1",
    time_ms: int = 1_767_225_600_000,
    frameworks: tuple[str, ...] = ("cis-aws-3.0.0",),
    labels: tuple[str, ...] = (),
    action: str | None = "s3_block_public_access",
    first_seen: int | None = None,
) -> dict[str, Any]:
    uid = ocsf.finding_uid(policy_id, arn)
    status = {"new": 1, "failing": 1, "resolved": 4, "suppressed": 3, "error": 99}[state]
    f = ocsf.envelope(
        class_uid=ocsf.COMPLIANCE_FINDING,
        activity_id=3 if state == "resolved" else 1,
        severity=severity,
        time_ms=time_ms,
        uid=uid,
        title=f"{policy_id} failed",
        desc="test finding",
        status_id=status,
        account_id=account,
        region=region,
    )
    f["compliance"] = {
        "standards": list(frameworks),
        "requirements": [f"{fw}:1.1" for fw in frameworks],
        "control": policy_id,
        "status_id": 1 if state == "resolved" else 3,
        "status": "Pass" if state == "resolved" else "Fail",
    }
    f["resources"] = [
        {"uid": arn, "type": resource_type, "region": region, "account_uid": account, "labels": list(labels)}
    ]
    f["finding_info"].update(first_seen_time=first_seen or time_ms, last_seen_time=time_ms, types=[resource_type])
    f["remediation"] = {"desc": "Enable Block Public Access", "references": ["https://docs.aws.amazon.com/"]}
    f["unmapped"] = {
        "policy_id": policy_id,
        "state": state,
        "remediation_action": action,
        "service": resource_type.split(".")[1],
    }
    return f


def detection_finding(
    *,
    rule_id: str = "aws_iam_create_access_key_root",
    group_key: str = f"arn:aws:iam::{ACCOUNT}:root",
    window: str = "2026-01-01T00:00:00Z",
    activity_id: int = 1,
    severity: Severity = Severity.CRITICAL,
    account: str = ACCOUNT,
    time_ms: int = 1_767_225_600_000,
) -> dict[str, Any]:
    uid = ocsf.finding_uid(rule_id, group_key, window)
    f = ocsf.envelope(
        class_uid=ocsf.DETECTION_FINDING,
        activity_id=activity_id,
        severity=severity,
        time_ms=time_ms,
        uid=uid,
        title="Root created an access key",
        desc="test detection",
        status_id=1,
        account_id=account,
        region="us-east-1",
    )
    f["finding_info"]["analytic"] = {"uid": rule_id, "name": "root key", "type_id": 1, "type": "Rule"}
    f["resources"] = [{"uid": group_key, "type": "aws.iam.user"}]
    f["unmapped"] = {"rule_id": rule_id, "event_ids": ["e1"], "group_key": group_key, "runbook": "rb"}
    return f


def raw(f: dict[str, Any]) -> bytes:
    return dumps(f)
