"""Inputs for the resilience tests: a valid value per input topic and records with observable outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from cspm_stream.external.model import ExternalFinding
from cspm_stream.models import (
    ActivityRecord,
    ActivitySource,
    Approval,
    RemediationCommand,
    RemediationMode,
    RescanRequest,
    ScanJob,
    ScanStatus,
    dumps,
    ocsf,
)
from cspm_stream.models.enums import Severity
from cspm_stream.stages.context_input import ContextInput
from cspm_stream.testing import cloudtrail_record, snapshot
from cspm_stream.testing.findings import detection_finding, raw

ROOT = Path(__file__).resolve().parents[2]
T0 = "2026-01-01T00:00:00.000Z"


def failing_bucket(name: str) -> bytes:
    """A bucket snapshot that fails s3_bucket_acl_public_read (its own failing example)."""
    pol = yaml.safe_load((ROOT / "cspm_stream/catalog/policies/s3/s3_bucket_acl_public_read.yaml").read_text())
    attrs = next(t for t in pol["tests"] if t["expect"] == "fail")["attributes"]
    return dumps(snapshot("aws.s3.bucket", dict(attrs, Name=name), resource_id=name, arn=f"arn:aws:s3:::{name}"))


def stop_logging(principal: str, event_id: str) -> bytes:
    rec = cloudtrail_record(
        "StopLogging",
        "cloudtrail.amazonaws.com",
        user_arn=principal,
        event_id=event_id,
        request_parameters={"name": "arn:aws:cloudtrail:us-east-1:123456789012:trail/main"},
    )
    return dumps(ActivityRecord.from_cloudtrail(rec, ActivitySource.FILE, T0))


def benign(event_id: str) -> bytes:
    rec = cloudtrail_record("ListBuckets", "s3.amazonaws.com", event_id=event_id)
    return dumps(ActivityRecord.from_cloudtrail(rec, ActivitySource.FILE, T0))


def compliance_finding(uid_seed: str) -> bytes:
    f = ocsf.envelope(
        class_uid=ocsf.COMPLIANCE_FINDING,
        activity_id=1,
        severity=Severity.HIGH,
        time_ms=1_767_225_600_000,
        uid=ocsf.finding_uid("p", uid_seed),
        title="t",
        desc="d",
        status_id=1,
        account_id="123456789012",
        region="us-east-1",
    )
    f["compliance"] = {"standards": [], "requirements": [], "control": "p", "status_id": 3, "status": "Fail"}
    f["resources"] = [{"uid": uid_seed, "type": "aws.s3.bucket", "region": "us-east-1", "account_uid": "123456789012"}]
    f["unmapped"] = {"policy_id": "p", "state": "new", "service": "s3"}
    f["finding_info"].update(first_seen_time=1, last_seen_time=1, types=["aws.s3.bucket"])
    return ocsf_bytes(f)


def ocsf_bytes(obj: dict[str, Any]) -> bytes:
    return dumps(obj)


def valid_examples() -> dict[str, bytes]:
    """One valid value per input topic of every stage (the garbage generator mutates these)."""
    return {
        "scan-jobs": dumps(ScanJob("j", "s", "123456789012", "us-east-1", "s3", T0)),
        "rescan": dumps(
            RescanRequest("r", "123456789012", "us-east-1", "aws.s3.bucket", T0, "x", arn="arn:aws:s3:::b")
        ),
        "inventory": failing_bucket("valid-example"),
        "activity": stop_logging("arn:aws:iam::123456789012:user/x", "e"),
        "findings": compliance_finding("arn:aws:s3:::b"),
        "detections": raw(detection_finding()),
        "scan-status": dumps(ScanStatus("j", "s", "123456789012", "us-east-1", "iam", T0, T0, 3, 0, True)),
        "context": dumps(
            ContextInput(
                kind="resource",
                account_id="123456789012",
                arn="arn:aws:iam::123456789012:user/a",
                resource_type="aws.iam.user",
            )
        ),
        "remediation": dumps(
            RemediationCommand(
                "c",
                "s3_block_public_access",
                RemediationMode.DRY_RUN,
                "123456789012",
                "us-east-1",
                "arn:aws:s3:::b",
                "aws.s3.bucket",
                "b",
                "f",
                T0,
            )
        ),
        "approvals": dumps(Approval("c", "alice", T0, True, "sig")),
        "external-findings": dumps(external("compliance", "arn:aws:s3:::b")),
        "external-threats": dumps(external("detection", "")),
    }


def external(kind: str, arn: str) -> ExternalFinding:
    """A normalised external finding (posture-like on a bucket, or a GuardDuty threat finding)."""
    return ExternalFinding(
        uid=f"arn:aws:securityhub:us-east-1:123456789012:finding/{kind}",
        product="securityhub" if kind == "compliance" else "guardduty",
        product_name="AWS Security Hub" if kind == "compliance" else "Amazon GuardDuty",
        via="securityhub",
        kind=kind,
        account_id="123456789012",
        region="us-east-1",
        resource_arn=arn,
        resource_type="AwsS3Bucket",
        title="t",
        description="d",
        severity=3,
        verdict="fail",
        status="ACTIVE",
        first_seen=T0,
        last_seen=T0,
        updated_at=T0,
        control="S3.8" if kind == "compliance" else "",
        finding_type="" if kind == "compliance" else "Recon:EC2/PortProbeUnprotectedPort",
        subject="123456789012|user/x" if kind == "detection" else "",
    )
