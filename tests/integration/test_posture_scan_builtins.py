"""``cspm-stream scan`` with the built-in policies on moto: every seeded misconfiguration is
reported by its policy, and its safe variant passes the same policy (no false positive)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from cspm_stream.cli import main
from cspm_stream.testing import MotoServer

pytestmark = pytest.mark.moto

REGION = "us-east-1"


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def seed(m: MotoServer) -> dict[str, str]:
    """Returns name → resource id for resources whose ARN does not carry the name."""
    ids: dict[str, str] = {}
    s3 = m.boto3_client("s3", REGION)
    for b in ("e2e-acl-public", "e2e-policy-public", "e2e-private", "e2e-trail-logs"):
        s3.create_bucket(Bucket=b)
    s3.put_bucket_acl(Bucket="e2e-acl-public", ACL="public-read")
    s3.put_bucket_policy(
        Bucket="e2e-policy-public",
        Policy=_doc(
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::e2e-policy-public/*",
            }
        ),
    )
    s3.put_bucket_policy(
        Bucket="e2e-private",
        Policy=_doc(
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::e2e-private/*",
                "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c"}},
            }
        ),
    )
    ec2 = m.boto3_client("ec2", REGION)
    rules = {
        "e2e-ssh-world": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
        "e2e-rdp-world": [
            {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
        "e2e-all-world": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
        "e2e-ssh-office": [
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "203.0.113.0/24"}]}
        ],
        "e2e-https-world": [
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
    }
    for name, perms in rules.items():
        gid = ec2.create_security_group(GroupName=name, Description=name)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=perms)
        ids[name] = gid
    kms = m.boto3_client("kms", REGION)
    ebs_key = kms.create_key(Description="ebs")["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=ebs_key)
    ids["e2e-key-rotated"] = ebs_key
    ids["e2e-key-static"] = kms.create_key(Description="static")["KeyMetadata"]["KeyId"]
    ids["e2e-vol-plain"] = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=1)["VolumeId"]
    ids["e2e-vol-encrypted"] = ec2.create_volume(
        AvailabilityZone=f"{REGION}a", Size=1, Encrypted=True, KmsKeyId=ebs_key
    )["VolumeId"]
    rds = m.boto3_client("rds", REGION)
    for name, public in (("e2e-db-public", True), ("e2e-db-private", False)):
        rds.create_db_instance(
            DBInstanceIdentifier=name,
            DBInstanceClass="db.t3.micro",
            Engine="postgres",
            MasterUsername="dbowner",
            MasterUserPassword="not-a-secret-123",
            AllocatedStorage=20,
            PubliclyAccessible=public,
        )
    ct = m.boto3_client("cloudtrail", REGION)
    ct.create_trail(Name="e2e-trail-novalidation", S3BucketName="e2e-trail-logs", EnableLogFileValidation=False)
    ct.create_trail(Name="e2e-trail-validated", S3BucketName="e2e-trail-logs", EnableLogFileValidation=True)
    iam = m.boto3_client("iam", REGION)
    admin = iam.create_policy(
        PolicyName="e2e-admin-all", PolicyDocument=_doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
    )
    scoped = iam.create_policy(
        PolicyName="e2e-scoped", PolicyDocument=_doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    )
    iam.create_user(UserName="e2e-holder")
    iam.attach_user_policy(UserName="e2e-holder", PolicyArn=admin["Policy"]["Arn"])
    iam.attach_user_policy(UserName="e2e-holder", PolicyArn=scoped["Policy"]["Arn"])
    iam.update_account_password_policy(MinimumPasswordLength=8)
    iam.create_user(UserName="e2e-console-nomfa")
    iam.create_login_profile(UserName="e2e-console-nomfa", Password="Not-a-secret-123!")
    iam.create_user(UserName="e2e-console-mfa")
    iam.create_login_profile(UserName="e2e-console-mfa", Password="Not-a-secret-123!")
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="e2e-mfa")["VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(
        UserName="e2e-console-mfa", SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321"
    )
    return ids


#: (policy id, seeded resource that must FAIL it, seeded safe resource that must PASS it or None)
EXPECTED = [
    ("s3_bucket_acl_public_read", "e2e-acl-public", "e2e-private"),
    ("s3_bucket_policy_public", "e2e-policy-public", "e2e-private"),
    ("ec2_sg_ingress_ssh_world", "e2e-ssh-world", "e2e-ssh-office"),
    ("ec2_sg_ingress_rdp_world", "e2e-rdp-world", "e2e-https-world"),
    ("ec2_sg_ingress_all_ports_world", "e2e-all-world", "e2e-https-world"),
    ("ec2_ebs_volume_encrypted", "e2e-vol-plain", "e2e-vol-encrypted"),
    ("kms_cmk_rotation_enabled", "e2e-key-static", "e2e-key-rotated"),
    ("rds_instance_no_public_access", "e2e-db-public", "e2e-db-private"),
    ("cloudtrail_log_file_validation_enabled", "e2e-trail-novalidation", "e2e-trail-validated"),
    ("iam_policy_attached_no_full_admin", "e2e-admin-all", "e2e-scoped"),
    ("iam_user_mfa_console", "e2e-console-nomfa", "e2e-console-mfa"),
    ("iam_password_policy_min_length_14", "account", None),
]


def test_scan_builtins_report_exactly_the_seeded(moto_server: MotoServer, tmp_path: Path) -> None:
    moto_server.reset()
    ids = seed(moto_server)
    out = tmp_path / "findings.jsonl"
    code = main(
        [
            "scan",
            "--endpoint-url",
            moto_server.endpoint_url,
            "--regions",
            REGION,
            "--services",
            "s3,ec2,kms,rds,cloudtrail,iam",
            "--include-passed",
            "--output",
            str(out),
            "--fail-on",
            "critical",
        ]
    )
    findings = [orjson.loads(x) for x in out.read_bytes().splitlines()]
    by_policy: dict[str, dict[str, int]] = {}
    for f in findings:
        by_policy.setdefault(f["unmapped"]["policy_id"], {})[f["resources"][0]["uid"]] = f["compliance"]["status_id"]

    def status(pid: str, name: str) -> int | None:
        token = ids.get(name, name)
        hits = [
            s
            for uid, s in by_policy.get(pid, {}).items()
            if uid.endswith((f"/{token}", f":{token}")) or (name == "account" and pid.startswith("iam_password"))
        ]
        assert len(hits) <= 1, (pid, name, hits)
        return hits[0] if hits else None

    problems = []
    for pid, bad, good in EXPECTED:
        if status(pid, bad) != 3:
            problems.append(f"{pid}: {bad} expected FAIL, got {status(pid, bad)}")
        if good is not None and status(pid, good) != 1:
            problems.append(f"{pid}: {good} expected PASS, got {status(pid, good)}")
    assert not problems, "\n".join(problems)
    assert code == 1  # public buckets are critical
