"""A scripted attack: Stratus-Red-Team-style steps as CloudTrail records (plus the real API calls).

Each step is (title, records). Records carry the attacker's identity and IP so the
detections group by principal; event times are spaced a few seconds apart from ``t0``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

ACCOUNT = "123456789012"
ATTACKER = f"arn:aws:iam::{ACCOUNT}:user/demo-intruder"
IP = "203.0.113.66"
UA = "aws-cli/2.15.0 Python/3.11 Linux/6.1"
DELETES = 120


def _rec(
    t: dt.datetime,
    name: str,
    source: str,
    params: dict[str, Any] | None = None,
    response: dict[str, Any] | None = None,
    error: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDADEMOINTRUDER",
            "arn": ATTACKER,
            "accountId": ACCOUNT,
            "userName": "demo-intruder",
            "accessKeyId": "AKIADEMOINTRUDER01",
        },
        "eventTime": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": IP,
        "userAgent": UA,
        "requestParameters": params,
        "responseElements": response,
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
    }
    if error:
        rec["errorCode"] = error
        rec["errorMessage"] = f"User: {ATTACKER} is not authorized to perform: {name}"
        rec["readOnly"] = True
    rec.update(extra)
    return rec


def steps(t0: dt.datetime, *, open_sg: str, snapshot_id: str) -> list[tuple[str, list[dict[str, Any]]]]:
    t = t0
    sec = dt.timedelta(seconds=2)
    out: list[tuple[str, list[dict[str, Any]]]] = []

    login = _rec(
        t,
        "ConsoleLogin",
        "signin.amazonaws.com",
        None,
        {"ConsoleLogin": "Success"},
        additionalEventData={"MFAUsed": "No", "LoginTo": "https://console.aws.amazon.com/"},
    )
    login["eventType"] = "AwsConsoleSignIn"
    out.append(("initial access: console login without MFA", [login]))

    recon = []
    for i, (name, src) in enumerate(
        [
            ("ListBuckets", "s3.amazonaws.com"),
            ("GetBucketPolicy", "s3.amazonaws.com"),
            ("ListUsers", "iam.amazonaws.com"),
            ("ListRoles", "iam.amazonaws.com"),
            ("DescribeInstances", "ec2.amazonaws.com"),
            ("GetSecretValue", "secretsmanager.amazonaws.com"),
            ("ListKeys", "kms.amazonaws.com"),
            ("DescribeDBInstances", "rds.amazonaws.com"),
            ("ListFunctions20150331", "lambda.amazonaws.com"),
            ("GetParameters", "ssm.amazonaws.com"),
            ("ListAccessKeys", "iam.amazonaws.com"),
            ("DescribeTrails", "cloudtrail.amazonaws.com"),
        ]
    ):
        for j in range(2):  # probing tools try each call more than once
            recon.append(_rec(t + sec + dt.timedelta(seconds=2 * i + j), name, src, error="AccessDenied"))
    out.append(("discovery: burst of AccessDenied (recon)", recon))
    t += dt.timedelta(seconds=30)

    out.append(
        (
            "persistence: access key created for another user",
            [
                _rec(
                    t,
                    "CreateAccessKey",
                    "iam.amazonaws.com",
                    {"userName": "demo-admin"},
                    {"accessKey": {"userName": "demo-admin", "accessKeyId": "AKIADEMOBACKDOOR01", "status": "Active"}},
                ),
            ],
        )
    )
    t += sec
    out.append(
        (
            "persistence: backdoor admin user",
            [
                _rec(
                    t,
                    "CreateUser",
                    "iam.amazonaws.com",
                    {"userName": "svc-backup"},
                    {"user": {"userName": "svc-backup", "arn": f"arn:aws:iam::{ACCOUNT}:user/svc-backup"}},
                ),
                _rec(
                    t + sec,
                    "AttachUserPolicy",
                    "iam.amazonaws.com",
                    {"userName": "svc-backup", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
                ),
                _rec(
                    t + 2 * sec,
                    "CreateLoginProfile",
                    "iam.amazonaws.com",
                    {"userName": "svc-backup", "passwordResetRequired": False},
                ),
            ],
        )
    )
    t += 4 * sec
    out.append(
        (
            "defense evasion: CloudTrail logging stopped",
            [
                _rec(
                    t,
                    "StopLogging",
                    "cloudtrail.amazonaws.com",
                    {"name": f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/demo-trail"},
                ),
            ],
        )
    )
    t += sec
    out.append(
        (
            "exfiltration: security group opened to the internet on 22",
            [
                _rec(
                    t,
                    "AuthorizeSecurityGroupIngress",
                    "ec2.amazonaws.com",
                    {
                        "groupId": open_sg,
                        "ipPermissions": {
                            "items": [
                                {
                                    "ipProtocol": "tcp",
                                    "fromPort": 22,
                                    "toPort": 22,
                                    "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]},
                                }
                            ]
                        },
                    },
                    {"_return": True},
                ),
            ],
        )
    )
    t += sec
    out.append(
        (
            "exfiltration: EBS snapshot shared publicly",
            [
                _rec(
                    t,
                    "ModifySnapshotAttribute",
                    "ec2.amazonaws.com",
                    {
                        "snapshotId": snapshot_id,
                        "attributeType": "CREATE_VOLUME_PERMISSION",
                        "createVolumePermission": {"add": {"items": [{"group": "all"}]}},
                    },
                ),
            ],
        )
    )
    t += sec
    out.append(
        (
            "exfiltration: bucket policy opened to everyone",
            [
                _rec(
                    t,
                    "PutBucketPolicy",
                    "s3.amazonaws.com",
                    {
                        "bucketName": "demo-private-data",
                        "bucketPolicy": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Principal": "*",
                                    "Action": "s3:GetObject",
                                    "Resource": "arn:aws:s3:::demo-private-data/*",
                                }
                            ],
                        },
                    },
                ),
            ],
        )
    )
    t += sec
    deletes = [
        _rec(
            t + dt.timedelta(milliseconds=200 * i),
            "DeleteObject",
            "s3.amazonaws.com",
            {"bucketName": "demo-private-data", "key": f"records/part-{i:04d}.csv"},
            managementEvent=False,
            eventCategory="Data",
        )
        for i in range(DELETES)
    ]
    out.append(("impact: mass deletion of objects (ransomware-style)", deletes))
    return out
