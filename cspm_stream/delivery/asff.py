"""OCSF finding → AWS Security Finding Format (ASFF 2018-10-08), for Security Hub users.

A pure mapping: the OCSF dict in, the ASFF dict out.
"""

from __future__ import annotations

from typing import Any

from cspm_stream.delivery.model import Alert
from cspm_stream.models import FindingStatus, Severity, ocsf
from cspm_stream.timeutil import ms_to_iso

_LABEL = {
    Severity.UNKNOWN: "INFORMATIONAL",
    Severity.INFORMATIONAL: "INFORMATIONAL",
    Severity.LOW: "LOW",
    Severity.MEDIUM: "MEDIUM",
    Severity.HIGH: "HIGH",
    Severity.CRITICAL: "CRITICAL",
}

_ASFF_TYPE = {
    "aws.s3.bucket": "AwsS3Bucket",
    "aws.ec2.security_group": "AwsEc2SecurityGroup",
    "aws.ec2.instance": "AwsEc2Instance",
    "aws.ec2.volume": "AwsEc2Volume",
    "aws.ec2.vpc": "AwsEc2Vpc",
    "aws.iam.user": "AwsIamUser",
    "aws.iam.role": "AwsIamRole",
    "aws.iam.policy": "AwsIamPolicy",
    "aws.rds.instance": "AwsRdsDbInstance",
    "aws.rds.cluster": "AwsRdsDbCluster",
    "aws.kms.key": "AwsKmsKey",
    "aws.cloudtrail.trail": "AwsCloudTrailTrail",
    "aws.lambda.function": "AwsLambdaFunction",
    "aws.sns.topic": "AwsSnsTopic",
    "aws.sqs.queue": "AwsSqsQueue",
    "aws.ecr.repository": "AwsEcrRepository",
    "aws.eks.cluster": "AwsEksCluster",
    "aws.dynamodb.table": "AwsDynamoDbTable",
}


def to_asff(a: Alert) -> dict[str, Any]:
    """The ASFF document of one alert (ProductArn is the account's own custom product)."""
    f = a.finding
    fi = f.get("finding_info") if isinstance(f.get("finding_info"), dict) else {}
    assert isinstance(fi, dict)
    # a time a datetime cannot hold (a year past 9999) reads as absent: it raised ValueError at delivery
    first, last = ocsf.epoch_ms(fi.get("first_seen_time")), ocsf.epoch_ms(fi.get("last_seen_time"))
    first = a.time_ms if first is None else first
    last = a.time_ms if last is None else last
    region = a.region or "us-east-1"
    resources = [
        {"Type": _ASFF_TYPE.get(t, "Other"), "Id": uid, "Region": region}
        for uid, t in zip(a.resources, a.resource_types or ("",) * len(a.resources), strict=False)
    ] or [{"Type": "AwsAccount", "Id": f"AWS::::Account:{a.account_id}", "Region": region}]
    doc: dict[str, Any] = {
        "SchemaVersion": "2018-10-08",
        "Id": a.uid,
        "ProductArn": f"arn:aws:securityhub:{region}:{a.account_id}:product/{a.account_id}/default",
        "GeneratorId": a.control or "cspm_stream",
        "AwsAccountId": a.account_id,
        "Types": (
            ["Software and Configuration Checks/Industry and Regulatory Standards"] if a.is_compliance else ["TTPs"]
        ),
        "CreatedAt": ms_to_iso(first),
        "UpdatedAt": ms_to_iso(max(last, a.time_ms)),
        "Severity": {"Label": _LABEL[a.severity]},
        "Title": a.title[:256] or a.control,
        "Description": str(fi.get("desc") or a.title)[:1024],
        "Resources": resources,
        "RecordState": "ARCHIVED" if a.state == FindingStatus.RESOLVED.value else "ACTIVE",
        "Workflow": {
            "Status": {
                FindingStatus.RESOLVED.value: "RESOLVED",
                FindingStatus.PASSED.value: "RESOLVED",  # Security Hub resolves passed controls
                FindingStatus.SUPPRESSED.value: "SUPPRESSED",
            }.get(a.state, "NEW")
        },
    }
    if a.is_compliance:
        comp = f.get("compliance") if isinstance(f.get("compliance"), dict) else {}
        assert isinstance(comp, dict)
        cid = comp.get("status_id")
        status = "FAILED" if cid == 3 else "PASSED" if cid == 1 else "NOT_AVAILABLE"  # 2 Warning: no result
        if a.state == FindingStatus.ERROR.value:
            status = "NOT_AVAILABLE"
        doc["Compliance"] = {
            "Status": status,
            "RelatedRequirements": _texts(comp.get("requirements"))[:32],
        }
        rem = f.get("remediation") if isinstance(f.get("remediation"), dict) else {}
        assert isinstance(rem, dict)
        if rem.get("desc"):
            rec: dict[str, str] = {"Text": str(rem["desc"])[:512]}
            refs = _texts(rem.get("references"))
            if refs:
                rec["Url"] = refs[0][:1024]
            doc["Remediation"] = {"Recommendation": rec}
    return doc


def _texts(v: Any) -> list[str]:
    """The strings of a JSON list (anything else: none): a finding is read, never trusted, for its shape."""
    return [x for x in v if isinstance(x, str)] if isinstance(v, list) else []
