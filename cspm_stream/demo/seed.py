"""Seed a moto account with a realistic mix of good and bad resources (demo, bench, e2e tests)."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"


@dataclass
class Seeded:
    """What was created, by intent: ``bad`` should produce findings, ``good`` should not."""

    bad: dict[str, str] = field(default_factory=dict)  # label -> resource id/ARN
    good: dict[str, str] = field(default_factory=dict)
    trail_queue_url: str = ""
    trail_bucket: str = ""


def _client(endpoint: str, service: str, region: str = REGION) -> Any:
    import boto3

    return boto3.client(service, region_name=region, endpoint_url=endpoint)


def seed(endpoint: str, region: str = REGION) -> Seeded:
    out = Seeded()
    s3 = _client(endpoint, "s3", region)
    ec2 = _client(endpoint, "ec2", region)
    iam = _client(endpoint, "iam", region)
    kms = _client(endpoint, "kms", region)
    ct = _client(endpoint, "cloudtrail", region)
    sqs = _client(endpoint, "sqs", region)

    # --- S3: a public-ACL bucket, a public-policy bucket, and a locked-down one
    s3.create_bucket(Bucket="demo-public-assets")
    s3.put_bucket_acl(Bucket="demo-public-assets", ACL="public-read")
    out.bad["bucket with public ACL"] = "arn:aws:s3:::demo-public-assets"
    s3.create_bucket(Bucket="demo-open-policy")
    s3.put_bucket_policy(
        Bucket="demo-open-policy",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::demo-open-policy/*",
                    }
                ],
            }
        ),
    )
    out.bad["bucket with public policy"] = "arn:aws:s3:::demo-open-policy"
    s3.create_bucket(Bucket="demo-private-data")
    s3.put_public_access_block(
        Bucket="demo-private-data",
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket="demo-private-data",
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
        },
    )
    s3.put_bucket_versioning(Bucket="demo-private-data", VersioningConfiguration={"Status": "Enabled"})
    out.good["private encrypted bucket"] = "arn:aws:s3:::demo-private-data"

    # --- EC2: open SSH/RDP security group, a tight one, volumes
    vpc_id = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    open_sg = ec2.create_security_group(GroupName="demo-open-admin", Description="open", VpcId=vpc_id)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=open_sg,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
            {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        ],
    )
    out.bad["security group open to the world on 22/3389"] = open_sg
    web_sg = ec2.create_security_group(GroupName="demo-internal-https", Description="tight", VpcId=vpc_id)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=web_sg,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}],
    )
    out.good["security group internal https"] = web_sg
    vol = ec2.create_volume(AvailabilityZone=f"{region}a", Size=8, Encrypted=False)["VolumeId"]
    out.bad["unencrypted EBS volume"] = vol
    snap = ec2.create_snapshot(VolumeId=vol, Description="demo public snapshot")["SnapshotId"]
    ec2.modify_snapshot_attribute(
        SnapshotId=snap, Attribute="createVolumePermission", OperationType="add", GroupNames=["all"]
    )
    out.bad["publicly shared EBS snapshot"] = snap

    # --- IAM: an admin user without MFA and a console password; a strong password policy is absent
    iam.create_user(UserName="demo-admin")
    iam.attach_user_policy(UserName="demo-admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    iam.create_login_profile(UserName="demo-admin", Password="Demo-Passw0rd!")  # noqa: S106 - fake account
    iam.create_access_key(UserName="demo-admin")
    out.bad["admin user without MFA"] = f"arn:aws:iam::{ACCOUNT}:user/demo-admin"
    iam.update_account_password_policy(MinimumPasswordLength=6)
    out.bad["weak password policy"] = "password policy"

    # --- KMS: one key without rotation, one with
    k1 = kms.create_key(Description="demo no rotation")["KeyMetadata"]["KeyId"]
    out.bad["KMS key without rotation"] = k1
    k2 = kms.create_key(Description="demo rotated")["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=k2)
    out.good["KMS key with rotation"] = k2

    # --- CloudTrail: a trail without log-file validation, delivering to a bucket announced on SQS
    s3.create_bucket(Bucket="demo-cloudtrail-logs")
    q = sqs.create_queue(QueueName="demo-cloudtrail-events")["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket="demo-cloudtrail-logs",
        NotificationConfiguration={"QueueConfigurations": [{"QueueArn": qarn, "Events": ["s3:ObjectCreated:*"]}]},
    )
    ct.create_trail(Name="demo-trail", S3BucketName="demo-cloudtrail-logs", IsMultiRegionTrail=True)
    ct.start_logging(Name="demo-trail")
    out.bad["trail without log file validation"] = f"arn:aws:cloudtrail:{region}:{ACCOUNT}:trail/demo-trail"
    out.trail_queue_url = q
    out.trail_bucket = "demo-cloudtrail-logs"
    return out


def deliver_cloudtrail(
    endpoint: str, bucket: str, records: list[dict[str, Any]], key: str, region: str = REGION
) -> None:
    """Write a CloudTrail log file (gzip JSON) the way CloudTrail does; S3 notifies SQS."""
    body = gzip.compress(json.dumps({"Records": records}).encode())
    _client(endpoint, "s3", region).put_object(Bucket=bucket, Key=key, Body=body)
