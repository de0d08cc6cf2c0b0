"""ASFF findings as Security Hub returns them (shapes checked against botocore's model in the tests)."""

from __future__ import annotations

from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
SH = f"arn:aws:securityhub:{REGION}::product/aws/securityhub"


def control(
    control_id: str,
    resource_id: str,
    resource_type: str,
    status: str = "FAILED",
    *,
    record: str = "ACTIVE",
    workflow: str = "NEW",
    updated: str = "2026-11-28T16:30:00.000Z",
    region: str = REGION,
) -> dict[str, Any]:
    """A consolidated control finding (Security Hub's own check)."""
    return {
        "SchemaVersion": "2018-10-08",
        "Id": f"arn:aws:securityhub:{region}:{ACCOUNT}:security-control/{control_id}/finding/"
        + f"{abs(hash((control_id, resource_id))) % 10**12:012d}-aaaa-bbbb-cccc-000000000000",
        "ProductArn": f"arn:aws:securityhub:{region}::product/aws/securityhub",
        "ProductName": "Security Hub",
        "CompanyName": "AWS",
        "Region": region,
        "GeneratorId": f"security-control/{control_id}",
        "AwsAccountId": ACCOUNT,
        "Types": ["Software and Configuration Checks/Industry and Regulatory Standards"],
        "FirstObservedAt": "2026-11-27T10:00:00.000Z",
        "LastObservedAt": updated,
        "CreatedAt": "2026-11-27T10:00:00.000Z",
        "UpdatedAt": updated,
        "Severity": {"Label": "HIGH", "Normalized": 70, "Original": "HIGH"},
        "Title": f"{control_id} check",
        "Description": f"This control checks {control_id}.",
        "Remediation": {
            "Recommendation": {
                "Text": "For information on how to correct this issue, consult the documentation.",
                "Url": f"https://docs.aws.amazon.com/console/securityhub/{control_id}/remediation",
            }
        },
        "ProductFields": {"aws/securityhub/ProductName": "Security Hub", "aws/securityhub/CompanyName": "AWS"},
        "Resources": [{"Type": resource_type, "Id": resource_id, "Partition": "aws", "Region": region}],
        "Compliance": {"Status": status, "SecurityControlId": control_id},
        "WorkflowState": workflow,
        "Workflow": {"Status": workflow},
        "RecordState": record,
    }


def inspector_cve(instance_id: str = "i-0abc1234def567890") -> dict[str, Any]:
    return {
        "SchemaVersion": "2018-10-08",
        "Id": f"arn:aws:inspector2:{REGION}:{ACCOUNT}:finding/0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "ProductArn": f"arn:aws:securityhub:{REGION}::product/aws/inspector",
        "ProductName": "Inspector",
        "CompanyName": "Amazon",
        "Region": REGION,
        "GeneratorId": "AWSInspector",
        "AwsAccountId": ACCOUNT,
        "Types": ["Software and Configuration Checks/Vulnerabilities/CVE"],
        "FirstObservedAt": "2026-11-26T03:00:00.000Z",
        "LastObservedAt": "2026-11-28T03:00:00.000Z",
        "CreatedAt": "2026-11-26T03:00:00.000Z",
        "UpdatedAt": "2026-11-28T03:00:00.000Z",
        "Severity": {"Label": "CRITICAL", "Normalized": 90},
        "Title": "CVE-2024-3094 - xz",
        "Description": "Malicious code was discovered in the upstream tarballs of xz.",
        "Resources": [
            {
                "Type": "AwsEc2Instance",
                "Id": f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{instance_id}",
                "Partition": "aws",
                "Region": REGION,
            }
        ],
        "WorkflowState": "NEW",
        "Workflow": {"Status": "NEW"},
        "RecordState": "ACTIVE",
    }


def guardduty_via_hub(user: str = "mallory") -> dict[str, Any]:
    arn = (
        f"arn:aws:guardduty:{REGION}:{ACCOUNT}:detector/12abc34d567e8fa901bc2d34e56789f0/finding/"
        "a2c6f6e1d5e4b3a2c1d0e9f8a7b6c5d4"
    )
    return {
        "SchemaVersion": "2018-10-08",
        "Id": arn,
        "ProductArn": f"arn:aws:securityhub:{REGION}::product/aws/guardduty",
        "ProductName": "GuardDuty",
        "CompanyName": "Amazon",
        "Region": REGION,
        "GeneratorId": "arn:aws:guardduty:us-east-1:123456789012:detector/12abc34d567e8fa901bc2d34e56789f0",
        "AwsAccountId": ACCOUNT,
        "Types": ["TTPs/Defense Evasion/Stealth:IAMUser-CloudTrailLoggingDisabled"],
        "FirstObservedAt": "2026-11-28T16:21:00.000Z",
        "LastObservedAt": "2026-11-28T16:21:00.000Z",
        "CreatedAt": "2026-11-28T16:25:03.511Z",
        "UpdatedAt": "2026-11-28T16:25:03.511Z",
        "Severity": {"Label": "LOW", "Normalized": 20, "Product": 2},
        "Title": "AWS CloudTrail trail arn:aws:cloudtrail:us-east-1:123456789012:trail/org-trail was disabled.",
        "Description": "AWS CloudTrail trail was disabled.",
        "Resources": [
            {
                "Type": "AwsIamAccessKey",
                "Id": "AWS::IAM::AccessKey:AKIAEXAMPLEEXAMPLE01",
                "Partition": "aws",
                "Region": REGION,
                "Details": {
                    "AwsIamAccessKey": {
                        "PrincipalId": "AIDAEXAMPLEEXAMPLE01",
                        "PrincipalName": user,
                        "PrincipalType": "IAMUser",
                    }
                },
            }
        ],
        "Action": {
            "ActionType": "AWS_API_CALL",
            "AwsApiCallAction": {
                "Api": "StopLogging",
                "CallerType": "Remote IP",
                "ServiceName": "cloudtrail.amazonaws.com",
                "RemoteIpDetails": {"IpAddressV4": "198.51.100.7"},
            },
        },
        "WorkflowState": "NEW",
        "Workflow": {"Status": "NEW"},
        "RecordState": "ACTIVE",
    }
