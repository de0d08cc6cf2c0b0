"""A realistic synthetic CloudTrail mix: mostly benign automation, a little attack activity.

Benign: read-heavy service roles (Describe*/List*/Get*), S3 object traffic, STS,
KMS Decrypt, CloudWatch, console users, a few ordinary admin writes (tagging,
security-group rules inside the VPC, bucket creation). Malicious (~2%): trail
stopped, GuardDuty deleted, bucket made public, 0.0.0.0/0 ingress, access keys
for other users, console login failure bursts, root usage, snapshot sharing,
KMS key deletion, AccessDenied bursts (recon), TruffleHog user agent.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

from cspm_stream.timeutil import ms_to_iso

ACCOUNT = "123456789012"
REGIONS = ["us-east-1", "us-east-1", "us-east-1", "eu-west-1", "us-west-2"]


def _role(i: int) -> dict[str, Any]:
    role = f"svc-role-{i}"
    return {
        "type": "AssumedRole",
        "principalId": f"AROA{i:012d}:session",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/session-{i}",
        "accountId": ACCOUNT,
        "accessKeyId": f"ASIA{i:016d}",
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": f"AROA{i:012d}",
                "accountId": ACCOUNT,
                "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
                "userName": role,
            },
            "attributes": {"creationDate": "2026-01-01T00:00:00Z", "mfaAuthenticated": "false"},
        },
    }


def _user(i: int) -> dict[str, Any]:
    return {
        "type": "IAMUser",
        "principalId": f"AIDA{i:012d}",
        "arn": f"arn:aws:iam::{ACCOUNT}:user/user{i}",
        "accountId": ACCOUNT,
        "accessKeyId": f"AKIA{i:016d}",
        "userName": f"user{i}",
    }


ROOT = {"type": "Root", "principalId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root", "accountId": ACCOUNT}

BENIGN: list[tuple[str, str, float]] = [
    ("DescribeInstances", "ec2.amazonaws.com", 8),
    ("DescribeSecurityGroups", "ec2.amazonaws.com", 4),
    ("DescribeVolumes", "ec2.amazonaws.com", 3),
    ("GetObject", "s3.amazonaws.com", 12),
    ("PutObject", "s3.amazonaws.com", 6),
    ("HeadObject", "s3.amazonaws.com", 4),
    ("ListObjects", "s3.amazonaws.com", 3),
    ("AssumeRole", "sts.amazonaws.com", 6),
    ("GetCallerIdentity", "sts.amazonaws.com", 3),
    ("Decrypt", "kms.amazonaws.com", 8),
    ("GenerateDataKey", "kms.amazonaws.com", 3),
    ("PutMetricData", "monitoring.amazonaws.com", 4),
    ("GetMetricStatistics", "monitoring.amazonaws.com", 2),
    ("DescribeLogStreams", "logs.amazonaws.com", 2),
    ("PutLogEvents", "logs.amazonaws.com", 4),
    ("ListFunctions20150331", "lambda.amazonaws.com", 1),
    ("Invoke", "lambda.amazonaws.com", 3),
    ("GetItem", "dynamodb.amazonaws.com", 2),
    ("DescribeTable", "dynamodb.amazonaws.com", 1),
    ("ListRoles", "iam.amazonaws.com", 1),
    ("GetRole", "iam.amazonaws.com", 1),
    ("ListUsers", "iam.amazonaws.com", 1),
    ("DescribeDBInstances", "rds.amazonaws.com", 1),
    ("GetSecretValue", "secretsmanager.amazonaws.com", 2),
    ("SendMessage", "sqs.amazonaws.com", 3),
    ("ReceiveMessage", "sqs.amazonaws.com", 3),
    ("Publish", "sns.amazonaws.com", 1),
    ("DescribeTrails", "cloudtrail.amazonaws.com", 0.3),
    ("CreateTags", "ec2.amazonaws.com", 0.5),
    ("CreateBucket", "s3.amazonaws.com", 0.1),
    ("ListBuckets", "s3.amazonaws.com", 0.3),
    ("GetBucketAcl", "s3.amazonaws.com", 0.5),
    ("ConsoleLogin", "signin.amazonaws.com", 0.2),
    ("RunInstances", "ec2.amazonaws.com", 0.2),
]


def _benign(rng: random.Random, name: str, source: str) -> dict[str, Any]:
    rp: dict[str, Any] | None = None
    re_: dict[str, Any] | None = None
    ident = _role(rng.randrange(150))
    extra: dict[str, Any] = {}
    if source == "s3.amazonaws.com":
        rp = {"bucketName": f"data-{rng.randrange(40)}", "key": f"obj/{rng.randrange(10**6)}", "Host": "s3"}
    elif name == "AssumeRole":
        rp = {
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role/svc-role-{rng.randrange(150)}",
            "roleSessionName": "s",
            "durationSeconds": 3600,
        }
    elif name == "Decrypt":
        rp = {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}
    elif name == "ConsoleLogin":
        ident = _user(rng.randrange(60))
        extra["additionalEventData"] = {"MFAUsed": "Yes", "LoginTo": "https://console.aws.amazon.com"}
        re_ = {"ConsoleLogin": "Success"}
    elif name == "RunInstances":
        rp = {"instanceType": "t3.micro", "minCount": 1, "maxCount": 1}
        re_ = {"instancesSet": {"items": [{"instanceId": f"i-{rng.randrange(16**8):08x}"}]}}
    elif name == "CreateTags":
        rp = {"resourcesSet": {"items": [{"resourceId": "i-1"}]}, "tagSet": {"items": [{"key": "k", "value": "v"}]}}
    return _rec(rng, name, source, ident, rp, re_, **extra)


def _rec(
    rng: random.Random,
    name: str,
    source: str,
    ident: dict[str, Any],
    rp: dict[str, Any] | None,
    re_: dict[str, Any] | None = None,
    ua: str | None = None,
    ip: str | None = None,
    error: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": ident,
        "eventTime": "",
        "eventSource": source,
        "eventName": name,
        "awsRegion": rng.choice(REGIONS),
        "sourceIPAddress": ip
        or (
            f"10.0.{rng.randrange(256)}.{rng.randrange(256)}"
            if ident["type"] == "AssumedRole"
            else f"198.51.100.{rng.randrange(256)}"
        ),
        "userAgent": ua
        or rng.choice(
            ["aws-sdk-go/1.44.0", "Boto3/1.34.10 Python/3.11.7", "aws-cli/2.15.0", "aws-internal/3 aws-sdk-java/1.12"]
        ),
        "requestParameters": rp,
        "responseElements": re_,
        "requestID": str(uuid.UUID(int=rng.getrandbits(128))),
        "eventID": str(uuid.UUID(int=rng.getrandbits(128))),
        "readOnly": name.startswith(("Describe", "Get", "List", "Head")),
        "eventType": "AwsApiCall",
        "managementEvent": source != "s3.amazonaws.com",
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    if error:
        rec["errorCode"] = error
        rec["errorMessage"] = f"User is not authorized to perform {name}"
    rec.update(extra)
    return rec


def _malicious(rng: random.Random) -> list[dict[str, Any]]:
    attacker = _user(900 + rng.randrange(5))
    kind = rng.randrange(11)
    ip = f"203.0.113.{rng.randrange(256)}"
    if kind == 0:
        return [_rec(rng, "StopLogging", "cloudtrail.amazonaws.com", attacker, {"name": "main-trail"}, ip=ip)]
    if kind == 1:
        return [_rec(rng, "DeleteDetector", "guardduty.amazonaws.com", attacker, {"detectorId": "d1"}, ip=ip)]
    if kind == 2:
        grant = {
            "Grantee": {"xsi:type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
            "Permission": "READ",
        }
        return [
            _rec(
                rng,
                "PutBucketAcl",
                "s3.amazonaws.com",
                attacker,
                {"bucketName": "data-1", "AccessControlPolicy": {"AccessControlList": {"Grant": [grant]}}},
                ip=ip,
            )
        ]
    if kind == 3:
        perm = {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}
        return [
            _rec(
                rng,
                "AuthorizeSecurityGroupIngress",
                "ec2.amazonaws.com",
                attacker,
                {"groupId": "sg-123", "ipPermissions": {"items": [perm]}},
                ip=ip,
            )
        ]
    if kind == 4:
        return [
            _rec(
                rng,
                "CreateAccessKey",
                "iam.amazonaws.com",
                attacker,
                {"userName": "admin"},
                {"accessKey": {"userName": "admin", "accessKeyId": "AKIAEXAMPLE", "status": "Active"}},
                ip=ip,
            )
        ]
    if kind == 5:
        return [
            _rec(
                rng,
                "ConsoleLogin",
                "signin.amazonaws.com",
                _user(rng.randrange(3)),
                None,
                {"ConsoleLogin": "Failure"},
                ip=ip,
                error="Failed authentication",
                additionalEventData={"MFAUsed": "No"},
            )
            for _ in range(8)
        ]
    if kind == 6:
        return [_rec(rng, "ListUsers", "iam.amazonaws.com", ROOT, None, ip=ip)]
    if kind == 7:
        return [
            _rec(
                rng,
                "ModifySnapshotAttribute",
                "ec2.amazonaws.com",
                attacker,
                {
                    "snapshotId": "snap-1",
                    "attributeType": "CREATE_VOLUME_PERMISSION",
                    "createVolumePermission": {"add": {"items": [{"userId": "999999999999"}]}},
                },
                ip=ip,
            )
        ]
    if kind == 8:
        return [
            _rec(
                rng,
                "ScheduleKeyDeletion",
                "kms.amazonaws.com",
                attacker,
                {"keyId": "k1", "pendingWindowInDays": 7},
                {"keyId": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k1"},
                ip=ip,
            )
        ]
    if kind == 9:
        names = [
            "ListUsers",
            "ListRoles",
            "GetAccountAuthorizationDetails",
            "ListBuckets",
            "DescribeInstances",
            "ListSecrets",
            "DescribeDBInstances",
            "ListKeys",
            "GetSecretValue",
            "ListFunctions20150331",
            "DescribeTrails",
            "ListAttachedUserPolicies",
        ]
        return [_rec(rng, n, "iam.amazonaws.com", attacker, None, ip=ip, error="AccessDenied") for n in names]
    return [_rec(rng, "GetCallerIdentity", "sts.amazonaws.com", attacker, None, ua="TruffleHog", ip=ip)]


def generate(
    n: int, *, seed: int = 7, start_ms: int = 1767225600000, rate_per_s: float = 1000.0, malicious_share: float = 0.02
) -> list[dict[str, Any]]:
    """``n`` records in event-time order at ``rate_per_s``, with a few seconds of jitter (out of order)."""
    rng = random.Random(seed)
    names = [b[:2] for b in BENIGN]
    weights = [b[2] for b in BENIGN]
    out: list[dict[str, Any]] = []
    while len(out) < n:
        if rng.random() < malicious_share / 5:  # attack scenarios come in bursts of several records
            out.extend(_malicious(rng))
        else:
            name, source = rng.choices(names, weights)[0]
            out.append(_benign(rng, name, source))
    out = out[:n]
    step = 1000.0 / rate_per_s
    for i, rec in enumerate(out):
        jitter = rng.uniform(-3000, 0) if rng.random() < 0.05 else 0.0  # 5% arrive up to 3 s late
        rec["eventTime"] = ms_to_iso(int(start_ms + i * step + jitter))[:19] + "Z"  # CloudTrail: whole seconds
    return out
