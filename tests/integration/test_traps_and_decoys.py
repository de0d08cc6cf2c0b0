"""An account seeded with traps and decoys, scanned with the built-in policies on moto.

A *decoy* looks non-compliant but is not as AWS evaluates it (Principal ``*`` narrowed to a VPC endpoint, a
public policy that Block Public Access restricts, a NotAction that excludes every IAM write...); a *trap* looks
compliant but is not (``ForAllValues:`` on a single-valued key, ``aws:PrincipalArn`` of any account, SSH open on
``::/0`` only, a NotAction that excludes only ``iam:PassRole``...). Each row of ``EXPECTED`` is one verdict as AWS
means it; a failing row is a product bug, not a test to adjust.
"""

from __future__ import annotations

import io
import json
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import orjson
import pytest

from cspm_stream.cli import main
from cspm_stream.testing import MotoServer

pytestmark = pytest.mark.moto

REGION = "us-east-1"
ACCT = "123456789012"  # moto's account
OTHER = "210987654321"
ORG = "o-abc123def4"
VPCE = "vpce-1a2b3c4d"
PASS, FAIL = 1, 3
SERVICES = "s3,ec2,iam,kms,cloudtrail,rds,lambda,sns,sqs,ecr,efs,secretsmanager,logs"


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _get(bucket: str, principal: Any = "*", condition: dict[str, Any] | None = None) -> dict[str, Any]:
    st: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": principal,
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }
    if condition:
        st["Condition"] = condition
    return st


def _bucket_policies() -> dict[str, list[dict[str, Any]]]:
    deny_all = {"Effect": "Deny", "Principal": "*", "Action": "s3:*"}
    return {
        # decoys: Principal "*" narrowed to a network, an organisation, an account
        "tnd-vpce": [_get("tnd-vpce", condition={"StringEquals": {"aws:SourceVpce": VPCE}})],
        "tnd-orgid": [_get("tnd-orgid", {"AWS": "*"}, {"StringEquals": {"aws:PrincipalOrgID": ORG}})],
        "tnd-srcacct": [_get("tnd-srcacct", condition={"StringEquals": {"aws:SourceAccount": ACCT}})],
        "tnd-srcip-office": [_get("tnd-srcip-office", condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})],
        "tnd-principalarn-acct": [
            _get("tnd-principalarn-acct", condition={"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCT}:role/*"}})
        ],
        "tnd-forany-vpce": [
            _get("tnd-forany-vpce", condition={"ForAnyValue:StringEquals": {"aws:SourceVpce": [VPCE]}})
        ],
        "tnd-account-principal": [_get("tnd-account-principal", {"AWS": f"arn:aws:iam::{OTHER}:root"})],
        "tnd-service-principal": [_get("tnd-service-principal", {"Service": "logging.s3.amazonaws.com"})],
        # decoys: only Deny statements with Principal "*", or a public allow every outsider is denied
        "tnd-deny-only": [
            {
                **deny_all,
                "Resource": ["arn:aws:s3:::tnd-deny-only", "arn:aws:s3:::tnd-deny-only/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
        "tnd-deny-outside-org": [
            _get("tnd-deny-outside-org"),
            {
                **deny_all,
                "Resource": "arn:aws:s3:::tnd-deny-outside-org/*",
                "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": ORG}},
            },
        ],
        "tnd-deny-outside-vpce-ifexists": [
            _get("tnd-deny-outside-vpce-ifexists"),
            {
                **deny_all,
                "Resource": "arn:aws:s3:::tnd-deny-outside-vpce-ifexists/*",
                "Condition": {"StringNotEqualsIfExists": {"aws:SourceVpce": VPCE}},
            },
        ],
        # traps: public although a condition is present
        "tnd-securetransport": [_get("tnd-securetransport", {"AWS": "*"}, {"Bool": {"aws:SecureTransport": "true"}})],
        "tnd-vpce-ifexists": [_get("tnd-vpce-ifexists", condition={"StringEqualsIfExists": {"aws:SourceVpce": VPCE}})],
        "tnd-vpce-wildcard": [_get("tnd-vpce-wildcard", condition={"StringLike": {"aws:SourceVpce": "*"}})],
        "tnd-forall-vpce": [
            _get("tnd-forall-vpce", condition={"ForAllValues:StringEquals": {"aws:SourceVpce": [VPCE]}})
        ],
        "tnd-principalarn-any": [
            _get("tnd-principalarn-any", condition={"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}})
        ],
        "tnd-orgid-wildcard": [_get("tnd-orgid-wildcard", condition={"StringLike": {"aws:PrincipalOrgID": "o-*"}})],
        "tnd-srcip-world": [_get("tnd-srcip-world", condition={"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}})],
        "tnd-allow-negated-vpce": [
            _get("tnd-allow-negated-vpce", condition={"StringNotEquals": {"aws:SourceVpce": VPCE}})
        ],
        "tnd-notprincipal": [
            {
                "Effect": "Allow",
                "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCT}:root"},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::tnd-notprincipal/*",
            }
        ],
        "tnd-star-root": [_get("tnd-star-root", {"AWS": "arn:aws:iam::*:root"})],
        "tnd-deny-outside-org-foranyvalue": [
            _get("tnd-deny-outside-org-foranyvalue"),
            {
                **deny_all,
                "Resource": "arn:aws:s3:::tnd-deny-outside-org-foranyvalue/*",
                "Condition": {"ForAnyValue:StringNotEquals": {"aws:SourceVpce": [VPCE]}},
            },
        ],
    }


def _acl(s3: Any, bucket: str, uri: str, *permissions: str) -> None:
    """Explicit grants (moto's canned public-read-write grants READ only)."""
    owner = s3.get_bucket_acl(Bucket=bucket)["Owner"]
    grants = [{"Grantee": {"Type": "Group", "URI": uri}, "Permission": p} for p in permissions]
    s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={"Owner": owner, "Grants": grants})


ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
BPA_ALL = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}


def seed_s3(m: MotoServer) -> None:
    s3 = m.boto3_client("s3", REGION)
    for bucket, statements in _bucket_policies().items():
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_policy(Bucket=bucket, Policy=_doc(*statements))
    for bucket, uri, perm in (
        ("tnd-acl-readacp", ALL_USERS, "READ_ACP"),  # any AllUsers grant is public as S3 defines it
        ("tnd-acl-write", ALL_USERS, "WRITE"),
        ("tnd-acl-logdelivery", "http://acs.amazonaws.com/groups/s3/LogDelivery", "WRITE"),
    ):
        s3.create_bucket(Bucket=bucket)
        _acl(s3, bucket, uri, perm)
    # public policy and ACL, both made ineffective by the bucket's own Block Public Access
    s3.create_bucket(Bucket="tnd-public-but-blocked")
    s3.put_bucket_policy(Bucket="tnd-public-but-blocked", Policy=_doc(_get("tnd-public-but-blocked")))
    _acl(s3, "tnd-public-but-blocked", ALL_USERS, "READ", "WRITE")
    s3.put_public_access_block(Bucket="tnd-public-but-blocked", PublicAccessBlockConfiguration=BPA_ALL)
    # BlockPublicPolicy/BlockPublicAcls only refuse new public settings: existing ones stay effective
    s3.create_bucket(Bucket="tnd-public-block-new-only")
    s3.put_bucket_policy(Bucket="tnd-public-block-new-only", Policy=_doc(_get("tnd-public-block-new-only")))
    s3.put_bucket_acl(Bucket="tnd-public-block-new-only", ACL="public-read")
    s3.put_public_access_block(
        Bucket="tnd-public-block-new-only",
        PublicAccessBlockConfiguration={**BPA_ALL, "IgnorePublicAcls": False, "RestrictPublicBuckets": False},
    )


def seed_ec2(m: MotoServer, ids: dict[str, str]) -> None:
    ec2 = m.boto3_client("ec2", REGION)
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"][0]["SubnetId"]
    world4, world6 = [{"CidrIp": "0.0.0.0/0"}], [{"CidrIpv6": "::/0"}]
    groups: dict[str, list[dict[str, Any]]] = {
        "tnd-sg-https-world": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": world4}],
        "tnd-sg-ssh-ipv6": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "Ipv6Ranges": world6}],
        "tnd-sg-all-tcp-range": [{"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "IpRanges": world4}],
        "tnd-sg-range-3000-4000": [{"IpProtocol": "tcp", "FromPort": 3000, "ToPort": 4000, "IpRanges": world4}],
        "tnd-sg-proto-all": [{"IpProtocol": "-1", "IpRanges": world4}],
        "tnd-sg-ssh-private": [
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}
        ],
        "tnd-sg-udp-53": [{"IpProtocol": "udp", "FromPort": 53, "ToPort": 53, "IpRanges": world4}],
        "tnd-sg-ssh-sgref": [],
    }
    for name, perms in groups.items():
        gid = ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"]
        ids[name] = gid
        if name == "tnd-sg-ssh-sgref":  # SSH from another group, not from an address range
            perms = [
                {
                    "IpProtocol": "tcp",
                    "FromPort": 22,
                    "ToPort": 22,
                    "UserIdGroupPairs": [{"GroupId": ids["tnd-sg-https-world"]}],
                }
            ]
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=perms)
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    inst = ec2.run_instances(
        ImageId=ami,
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        SubnetId=subnet,
        SecurityGroupIds=[ids["tnd-sg-ssh-ipv6"]],
        MetadataOptions={"HttpTokens": "required", "HttpEndpoint": "enabled"},
    )["Instances"][0]["InstanceId"]
    ids["tnd-instance-ssh-ipv6"] = inst
    ids["tnd-instance-imds-off"] = ec2.run_instances(  # IMDS disabled: no IMDSv1 to exploit
        ImageId=ami,
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        SubnetId=subnet,
        MetadataOptions={"HttpTokens": "optional", "HttpEndpoint": "disabled"},
    )["Instances"][0]["InstanceId"]
    ids["tnd-instance-https"] = ec2.run_instances(
        ImageId=ami,
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        SubnetId=subnet,
        SecurityGroupIds=[ids["tnd-sg-https-world"]],
    )["Instances"][0]["InstanceId"]
    kms = m.boto3_client("kms", REGION)
    key = kms.create_key(Description="tnd-ebs")["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=key)
    ids["tnd-vol-plain"] = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=1)["VolumeId"]
    ids["tnd-vol-enc"] = vol = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=1, Encrypted=True, KmsKeyId=key)[
        "VolumeId"
    ]
    for name, share in (("tnd-snap-all", {"GroupNames": ["all"]}), ("tnd-snap-acct", {"UserIds": [OTHER]})):
        sid = ec2.create_snapshot(VolumeId=vol, Description=name)["SnapshotId"]
        ec2.modify_snapshot_attribute(SnapshotId=sid, Attribute="createVolumePermission", OperationType="add", **share)
        ids[name] = sid
    for name, perm in (("tnd-ami-public", {"Group": "all"}), ("tnd-ami-shared", {"UserId": OTHER})):
        img = ec2.create_image(InstanceId=inst, Name=name)["ImageId"]
        ec2.modify_image_attribute(ImageId=img, LaunchPermission={"Add": [perm]})
        ids[name] = img


def seed_iam(m: MotoServer) -> None:
    iam = m.boto3_client("iam", REGION)
    allow_all = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    policies: dict[str, list[dict[str, Any]]] = {
        "tnd-admin-star": [allow_all],
        "tnd-admin-star-colon-star": [{"Effect": "Allow", "Action": "*:*", "Resource": "*"}],
        "tnd-admin-in-action-list": [{"Effect": "Allow", "Action": ["s3:GetObject", "*"], "Resource": ["*"]}],
        "tnd-admin-conditional-mfa": [{**allow_all, "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}],
        "tnd-admin-deny-all-but-one": [allow_all, {"Effect": "Deny", "NotAction": ["s3:GetObject"], "Resource": "*"}],
        "tnd-admin-deny-passrole-only": [allow_all, {"Effect": "Deny", "Action": "iam:PassRole", "Resource": "*"}],
        "tnd-notaction-passrole": [{"Effect": "Allow", "NotAction": "iam:PassRole", "Resource": "*"}],
        "tnd-notaction-iam": [
            {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"}
        ],
        "tnd-iam-star": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}],
        "tnd-star-one-bucket": [{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::tnd-vpce/*"}],
        "tnd-star-any-arn": [{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:*:*:*:*"}],
    }
    holder = "tnd-user-holder"
    iam.create_user(UserName=holder)
    for name, statements in policies.items():
        arn = iam.create_policy(PolicyName=name, PolicyDocument=_doc(*statements))["Policy"]["Arn"]
        iam.attach_user_policy(UserName=holder, PolicyArn=arn)
    # admin only in an old, non-default version: the default version is what applies
    old = iam.create_policy(PolicyName="tnd-admin-old-version", PolicyDocument=_doc(allow_all))["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=old, PolicyDocument=_doc(*policies["tnd-iam-star"]), SetAsDefault=True)
    for group, statement in (
        ("tnd-group-inline-admin", allow_all),
        ("tnd-group-inline-scoped", {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}),
    ):
        iam.create_group(GroupName=group)
        iam.put_group_policy(GroupName=group, PolicyName="inline", PolicyDocument=_doc(statement))
    for group, managed in (("tnd-group-awsadmin", "AdministratorAccess"), ("tnd-group-readonly", "ReadOnlyAccess")):
        iam.create_group(GroupName=group)
        iam.attach_group_policy(GroupName=group, PolicyArn=f"arn:aws:iam::aws:policy/{managed}")
    assume = {"Effect": "Allow", "Action": "sts:AssumeRole"}
    trusts = {
        "tnd-role-trust-public": {**assume, "Principal": {"AWS": "*"}},
        "tnd-role-trust-org": {
            **assume,
            "Principal": {"AWS": "*"},
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}},
        },
        "tnd-role-trust-service": {**assume, "Principal": {"Service": "lambda.amazonaws.com"}},
        "tnd-role-trust-other-account": {**assume, "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"}},
    }
    for role, trust in trusts.items():
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=_doc(trust))
    iam.put_role_policy(
        RoleName="tnd-role-trust-service",
        PolicyName="almost-admin",
        PolicyDocument=_doc({"Effect": "Allow", "NotAction": "iam:PassRole", "Resource": "*"}),
    )
    iam.put_role_policy(
        RoleName="tnd-role-trust-other-account",
        PolicyName="power-user",
        PolicyDocument=_doc(*policies["tnd-notaction-iam"]),
    )
    for user in ("tnd-user-console-nomfa", "tnd-user-console-mfa"):
        iam.create_user(UserName=user)
        iam.create_login_profile(UserName=user, Password="Not-a-secret-123!")
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="tnd-mfa")["VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(
        UserName="tnd-user-console-mfa", SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321"
    )
    iam.create_user(UserName="tnd-user-keys-only")  # programmatic: no console password
    iam.create_access_key(UserName="tnd-user-keys-only")
    for user in ("tnd-user-two-active-keys", "tnd-user-one-active-key"):
        iam.create_user(UserName=user)
        iam.create_access_key(UserName=user)
        second = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    iam.update_access_key(UserName="tnd-user-one-active-key", AccessKeyId=second, Status="Inactive")


def seed_kms(m: MotoServer, ids: dict[str, str]) -> str:
    kms = m.boto3_client("kms", REGION)
    root = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"}, "Action": "kms:*", "Resource": "*"}
    everyone = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"}
    ids["tnd-key-rotated"] = rotated = kms.create_key(Description="rotated")["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=rotated)
    ids["tnd-key-static"] = kms.create_key(Description="static")["KeyMetadata"]["KeyId"]
    ids["tnd-key-disabled"] = disabled = kms.create_key(Description="disabled")["KeyMetadata"]["KeyId"]
    kms.disable_key(KeyId=disabled)
    ids["tnd-key-asymmetric"] = kms.create_key(Description="sign", KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")[
        "KeyMetadata"
    ]["KeyId"]
    ids["tnd-key-pending"] = pending = kms.create_key(Description="pending")["KeyMetadata"]["KeyId"]
    kms.schedule_key_deletion(KeyId=pending, PendingWindowInDays=7)
    for name, statement in (
        ("tnd-key-public", everyone),
        ("tnd-key-caller-account", {**everyone, "Condition": {"StringEquals": {"kms:CallerAccount": ACCT}}}),
        (
            "tnd-key-via-service-only",
            {**everyone, "Condition": {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}}},
        ),
    ):
        ids[name] = kms.create_key(Description=name, Policy=_doc(root, statement))["KeyMetadata"]["KeyId"]
    return str(rotated)


def seed_cloudtrail(m: MotoServer, key: str) -> None:
    m.boto3_client("s3", REGION).create_bucket(Bucket="tnd-trail-logs")
    ct = m.boto3_client("cloudtrail", REGION)
    common = {"S3BucketName": "tnd-trail-logs", "IsMultiRegionTrail": True, "EnableLogFileValidation": True}
    ct.create_trail(Name="tnd-trail-stopped", **common, KmsKeyId=key)  # encrypted, validated, never started
    ct.create_trail(Name="tnd-trail-logging", **common)
    ct.start_logging(Name="tnd-trail-logging")


def seed_rds(m: MotoServer) -> None:
    rds = m.boto3_client("rds", REGION)
    for name, public in (("tnd-db-public", True), ("tnd-db-private", False)):
        rds.create_db_instance(
            DBInstanceIdentifier=name,
            DBInstanceClass="db.t3.micro",
            Engine="postgres",
            MasterUsername="dbowner",
            MasterUserPassword="not-a-secret-123",
            AllocatedStorage=20,
            PubliclyAccessible=public,
            StorageEncrypted=not public,
        )
    for snap, who in (("tnd-dbsnap-public", "all"), ("tnd-dbsnap-shared", OTHER)):
        rds.create_db_snapshot(DBInstanceIdentifier="tnd-db-private", DBSnapshotIdentifier=snap)
        rds.modify_db_snapshot_attribute(DBSnapshotIdentifier=snap, AttributeName="restore", ValuesToAdd=[who])


def seed_lambda(m: MotoServer) -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return 1\n")
    iam = m.boto3_client("iam", REGION)
    role = iam.create_role(
        RoleName="tnd-fn-role",
        AssumeRolePolicyDocument=_doc(
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ),
    )["Role"]["Arn"]
    lam = m.boto3_client("lambda", REGION)
    for fn in ("tnd-fn-public", "tnd-fn-star-sourcearn", "tnd-fn-star-sourceaccount", "tnd-fn-xacct", "tnd-fn-none"):
        lam.create_function(
            FunctionName=fn,
            Runtime="python3.12",
            Role=role,
            Handler="index.handler",
            Code={"ZipFile": buf.getvalue()},
        )
    invoke = {"StatementId": "s1", "Action": "lambda:InvokeFunction"}
    lam.add_permission(FunctionName="tnd-fn-public", Principal="*", **invoke)
    lam.add_permission(
        FunctionName="tnd-fn-star-sourcearn", Principal="*", SourceArn="arn:aws:s3:::tnd-trail-logs", **invoke
    )
    lam.add_permission(FunctionName="tnd-fn-star-sourceaccount", Principal="*", SourceAccount=ACCT, **invoke)
    lam.add_permission(FunctionName="tnd-fn-xacct", Principal=OTHER, **invoke)
    return str(lam.get_function(FunctionName="tnd-fn-none")["Configuration"]["FunctionArn"])


def seed_messaging(m: MotoServer) -> None:
    sns = m.boto3_client("sns", REGION)
    topics: dict[str, dict[str, Any]] = {
        "tnd-topic-public": {"Principal": {"AWS": "*"}},
        "tnd-topic-sourceowner": {"Principal": {"AWS": "*"}, "Condition": {"StringEquals": {"AWS:SourceOwner": ACCT}}},
        "tnd-topic-org": {"Principal": "*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}}},
        "tnd-topic-securetransport": {"Principal": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
    }
    for name, st in topics.items():
        arn = sns.create_topic(Name=name)["TopicArn"]
        statement = {"Effect": "Allow", "Action": "SNS:Publish", "Resource": arn, **st}
        sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=_doc(statement))
    sqs = m.boto3_client("sqs", REGION)
    queues: dict[str, dict[str, Any]] = {
        "tnd-queue-public": {"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage"},
        "tnd-queue-sourcearn": {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "sqs:SendMessage",
            "Condition": {"ArnEquals": {"aws:SourceArn": f"arn:aws:sns:{REGION}:{ACCT}:tnd-topic-public"}},
        },
        "tnd-queue-sourcearn-any-account": {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "sqs:SendMessage",
            "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:sns:{REGION}:*:tnd-topic-public"}},
        },
        "tnd-queue-deny-only": {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sqs:*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    }
    for name, statement in queues.items():
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = f"arn:aws:sqs:{REGION}:{ACCT}:{name}"
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": _doc({**statement, "Resource": arn})})


def seed_ecr_efs_secrets_logs(m: MotoServer, ids: dict[str, str], rotation_fn: str) -> None:
    ecr = m.boto3_client("ecr", REGION)
    pull = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    repos: dict[str, dict[str, Any]] = {
        "tnd-repo-public": {"Principal": "*"},
        "tnd-repo-org": {"Principal": "*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}}},
        "tnd-repo-other-account": {"Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"}},
    }
    for repo, st in repos.items():
        ecr.create_repository(repositoryName=repo)
        ecr.set_repository_policy(
            repositoryName=repo, policyText=_doc({"Sid": "pull", "Effect": "Allow", "Action": pull, **st})
        )
    efs = m.boto3_client("efs", REGION)
    mount = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "elasticfilesystem:ClientMount", "Resource": "*"}
    for name, statement in (
        ("tnd-efs-public", mount),
        # the console's "prevent anonymous access": NFS clients of the mount targets only
        (
            "tnd-efs-mount-target-only",
            {**mount, "Condition": {"Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"}}},
        ),
    ):
        fs = efs.create_file_system(CreationToken=name, Encrypted=True)["FileSystemId"]
        efs.put_file_system_policy(FileSystemId=fs, Policy=_doc(statement))
        ids[name] = fs
    sm = m.boto3_client("secretsmanager", REGION)
    for name in ("tnd-secret-no-rotation", "tnd-secret-rotated", "tnd-secret-public", "tnd-secret-org"):
        sm.create_secret(Name=name, SecretString="not-a-secret")
    sm.rotate_secret(
        SecretId="tnd-secret-rotated", RotationLambdaARN=rotation_fn, RotationRules={"AutomaticallyAfterDays": 30}
    )
    read = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "secretsmanager:GetSecretValue", "Resource": "*"}
    sm.put_resource_policy(SecretId="tnd-secret-public", ResourcePolicy=_doc(read))
    sm.put_resource_policy(
        SecretId="tnd-secret-org",
        ResourcePolicy=_doc({**read, "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}}}),
    )
    logs = m.boto3_client("logs", REGION)
    for name, days in (("tnd-lg-never-expire", None), ("tnd-lg-400-days", 400), ("tnd-lg-7-days", 7)):
        logs.create_log_group(logGroupName=name)
        if days:
            logs.put_retention_policy(logGroupName=name, retentionInDays=days)


def seed(m: MotoServer) -> dict[str, str]:
    """Returns name → resource id for the resources whose ARN does not carry the name."""
    ids: dict[str, str] = {}
    seed_s3(m)
    seed_ec2(m, ids)
    seed_iam(m)
    key = seed_kms(m, ids)
    seed_cloudtrail(m, key)
    seed_rds(m)
    fn = seed_lambda(m)
    seed_messaging(m)
    seed_ecr_efs_secrets_logs(m, ids, fn)
    return ids


#: (policy, resource name, expected status, what AWS means)
EXPECTED: list[tuple[str, str, int, str]] = [
    # --- S3 bucket policies: decoys
    ("s3_bucket_policy_public", "tnd-vpce", PASS, "Principal * only through one VPC endpoint"),
    ("s3_bucket_policy_public", "tnd-orgid", PASS, "AWS:* restricted to one organisation"),
    ("s3_bucket_policy_public", "tnd-srcacct", PASS, "aws:SourceAccount: only requests on behalf of the account"),
    ("s3_bucket_policy_public", "tnd-srcip-office", PASS, "one office CIDR"),
    ("s3_bucket_policy_public", "tnd-principalarn-acct", PASS, "roles of one account"),
    ("s3_bucket_policy_public", "tnd-forany-vpce", PASS, "ForAnyValue is false when the key is absent"),
    ("s3_bucket_policy_public", "tnd-account-principal", PASS, "one named account is cross-account, not public"),
    ("s3_bucket_policy_public", "tnd-service-principal", PASS, "a service principal is not everyone"),
    ("s3_bucket_policy_public", "tnd-deny-only", PASS, "Deny with Principal * grants nothing"),
    ("s3_bucket_policy_public", "tnd-deny-outside-org", PASS, "everyone outside the organisation is denied"),
    (
        "s3_bucket_policy_public",
        "tnd-deny-outside-vpce-ifexists",
        PASS,
        "IfExists deny also hits callers without a VPCE",
    ),
    ("s3_bucket_policy_public", "tnd-public-but-blocked", PASS, "bucket RestrictPublicBuckets neutralises the policy"),
    # --- S3 bucket policies: traps
    ("s3_bucket_policy_public", "tnd-securetransport", FAIL, "aws:SecureTransport restricts no caller"),
    ("s3_bucket_policy_public", "tnd-vpce-ifexists", FAIL, "IfExists: callers without a VPCE pass"),
    ("s3_bucket_policy_public", "tnd-vpce-wildcard", FAIL, "any VPC endpoint of any account"),
    ("s3_bucket_policy_public", "tnd-forall-vpce", FAIL, "ForAllValues is true when the key is absent"),
    ("s3_bucket_policy_public", "tnd-principalarn-any", FAIL, "roles of any account"),
    ("s3_bucket_policy_public", "tnd-orgid-wildcard", FAIL, "any organisation"),
    ("s3_bucket_policy_public", "tnd-srcip-world", FAIL, "0.0.0.0/0 is everyone"),
    ("s3_bucket_policy_public", "tnd-allow-negated-vpce", FAIL, "everyone except one endpoint"),
    ("s3_bucket_policy_public", "tnd-notprincipal", FAIL, "Allow + NotPrincipal is everyone else"),
    ("s3_bucket_policy_public", "tnd-star-root", FAIL, "arn:aws:iam::*:root is every account"),
    (
        "s3_bucket_policy_public",
        "tnd-deny-outside-org-foranyvalue",
        FAIL,
        "ForAnyValue deny skips callers without a VPCE",
    ),
    (
        "s3_bucket_policy_public",
        "tnd-public-block-new-only",
        FAIL,
        "BlockPublicPolicy does not restrict an existing policy",
    ),
    # --- S3 ACLs
    ("s3_bucket_acl_public_read", "tnd-acl-readacp", FAIL, "any AllUsers grant is public as S3 defines it"),
    ("s3_bucket_acl_public_write", "tnd-acl-readacp", PASS, "READ_ACP is not write"),
    ("s3_bucket_acl_public_write", "tnd-acl-write", FAIL, "AllUsers WRITE"),
    ("s3_bucket_acl_public_read", "tnd-acl-logdelivery", PASS, "the log delivery group is not the public"),
    ("s3_bucket_acl_public_write", "tnd-acl-logdelivery", PASS, "the log delivery group is not the public"),
    ("s3_bucket_acl_public_read", "tnd-public-but-blocked", PASS, "IgnorePublicAcls"),
    ("s3_bucket_acl_public_write", "tnd-public-but-blocked", PASS, "IgnorePublicAcls"),
    ("s3_bucket_acl_public_read", "tnd-public-block-new-only", FAIL, "BlockPublicAcls does not ignore existing grants"),
    # --- security groups
    ("ec2_sg_ingress_ssh_world", "tnd-sg-ssh-ipv6", FAIL, "::/0 is the whole IPv6 internet"),
    ("ec2_sg_ingress_admin_ports_ipv6_world", "tnd-sg-ssh-ipv6", FAIL, "::/0 on 22"),
    ("ec2_sg_ingress_admin_ports_ipv4_world", "tnd-sg-ssh-ipv6", PASS, "no IPv4 range"),
    ("ec2_sg_ingress_ssh_world", "tnd-sg-https-world", PASS, "443 only"),
    ("ec2_sg_ingress_unauthorized_ports_world", "tnd-sg-https-world", PASS, "443 is authorised"),
    ("ec2_sg_ingress_all_ports_world", "tnd-sg-https-world", PASS, "443 only"),
    ("ec2_sg_ingress_rdp_world", "tnd-sg-all-tcp-range", FAIL, "0-65535 includes 3389"),
    ("ec2_sg_ingress_all_ports_world", "tnd-sg-all-tcp-range", FAIL, "every TCP port"),
    ("ec2_sg_ingress_rdp_world", "tnd-sg-range-3000-4000", FAIL, "3000-4000 includes 3389"),
    ("ec2_sg_ingress_ssh_world", "tnd-sg-range-3000-4000", PASS, "22 is outside 3000-4000"),
    ("ec2_sg_ingress_all_ports_world", "tnd-sg-range-3000-4000", PASS, "not every port"),
    ("ec2_sg_ingress_ssh_world", "tnd-sg-proto-all", FAIL, "protocol -1 is every port"),
    ("ec2_sg_ingress_rdp_world", "tnd-sg-proto-all", FAIL, "protocol -1 is every port"),
    (
        "ec2_sg_ingress_all_ports_world",
        "tnd-sg-proto-all",
        FAIL,
        "protocol -1; attached to nothing, still a rule EC2.19 fails",
    ),
    ("ec2_sg_ingress_ssh_world", "tnd-sg-ssh-private", PASS, "10.0.0.0/8 is not the internet"),
    ("ec2_sg_ingress_ssh_world", "tnd-sg-ssh-sgref", PASS, "source is a security group"),
    ("ec2_sg_ingress_ssh_world", "tnd-sg-udp-53", PASS, "UDP 53, not SSH"),
    ("ec2_sg_ingress_unauthorized_ports_world", "tnd-sg-udp-53", FAIL, "UDP 53 open to the world"),
    ("ec2_instance_port_ssh_exposed_to_internet", "tnd-instance-ssh-ipv6", FAIL, "public IP, SSH on ::/0"),
    ("ec2_instance_port_ssh_exposed_to_internet", "tnd-instance-https", PASS, "443 only"),
    ("ec2_instance_imdsv2_required", "tnd-instance-imds-off", PASS, "metadata endpoint disabled"),
    ("ec2_instance_imdsv2_required", "tnd-instance-https", FAIL, "IMDSv1 allowed (HttpTokens optional)"),
    ("ec2_instance_imdsv2_required", "tnd-instance-ssh-ipv6", PASS, "tokens required"),
    # --- EBS, snapshots, AMIs
    ("ec2_ebs_volume_encrypted", "tnd-vol-plain", FAIL, "unencrypted"),
    ("ec2_ebs_volume_encrypted", "tnd-vol-enc", PASS, "encrypted with a CMK"),
    ("ec2_ebs_snapshot_not_public", "tnd-snap-all", FAIL, "createVolumePermission group all"),
    ("ec2_ebs_snapshot_not_public", "tnd-snap-acct", PASS, "shared with one account only"),
    ("ec2_ami_not_public", "tnd-ami-public", FAIL, "launch permission group all"),
    ("ec2_ami_not_public", "tnd-ami-shared", PASS, "shared with one account only"),
    # --- IAM customer managed policies
    ("iam_policy_no_full_admin", "tnd-admin-star", FAIL, "* on *"),
    ("iam_policy_no_full_admin", "tnd-admin-star-colon-star", FAIL, "*:* is every action"),
    ("iam_policy_no_statement_allows_star", "tnd-admin-star-colon-star", FAIL, "*:* is the same grant as *"),
    ("iam_policy_no_full_admin", "tnd-admin-in-action-list", FAIL, "* hidden in a list"),
    ("iam_policy_no_full_admin", "tnd-admin-conditional-mfa", FAIL, "MFA condition still grants admin"),
    ("iam_policy_no_full_admin", "tnd-admin-deny-all-but-one", PASS, "the Deny leaves s3:GetObject only"),
    ("iam_policy_no_full_admin", "tnd-admin-deny-passrole-only", FAIL, "everything but iam:PassRole"),
    ("iam_policy_no_full_admin", "tnd-notaction-passrole", FAIL, "keeps iam:AttachUserPolicy: self-grant to admin"),
    ("iam_policy_no_full_admin", "tnd-notaction-iam", PASS, "PowerUserAccess-like: no IAM writes"),
    ("iam_policy_no_full_admin", "tnd-iam-star", PASS, "iam:* is not *"),
    ("iam_policy_no_service_wildcard", "tnd-iam-star", FAIL, "iam:* on *"),
    ("iam_policy_no_full_admin", "tnd-star-one-bucket", PASS, "* on one bucket only"),
    ("iam_policy_no_full_admin", "tnd-admin-old-version", PASS, "admin only in a non-default version"),
    ("iam_policy_no_full_admin", "tnd-star-any-arn", FAIL, "arn:aws:*:*:*:* matches every resource"),
    ("iam_policy_no_statement_allows_star", "tnd-admin-old-version", PASS, "admin only in a non-default version"),
    ("iam_policy_no_statement_allows_star", "tnd-star-one-bucket", PASS, "Resource is not *"),
    ("iam_group_inline_policy_no_admin", "tnd-group-inline-admin", FAIL, "inline * on * on a group"),
    ("iam_group_inline_policy_no_admin", "tnd-group-inline-scoped", PASS, "scoped inline policy"),
    ("iam_group_administrator_access_policy", "tnd-group-awsadmin", FAIL, "AWS managed AdministratorAccess"),
    ("iam_group_administrator_access_policy", "tnd-group-readonly", PASS, "ReadOnlyAccess"),
    ("iam_role_inline_policy_no_admin", "tnd-role-trust-service", FAIL, "NotAction iam:PassRole inline"),
    ("iam_role_inline_policy_no_admin", "tnd-role-trust-other-account", PASS, "PowerUser-like inline"),
    ("iam_role_trust_not_public", "tnd-role-trust-public", FAIL, "anyone can assume"),
    ("iam_role_trust_not_public", "tnd-role-trust-org", PASS, "organisation only"),
    ("iam_role_trust_not_public", "tnd-role-trust-service", PASS, "a service principal"),
    ("iam_role_trust_not_public", "tnd-role-trust-other-account", PASS, "one named account"),
    # --- IAM users
    ("iam_user_mfa_console", "tnd-user-console-nomfa", FAIL, "console password without MFA"),
    ("iam_user_mfa_console", "tnd-user-console-mfa", PASS, "console password with MFA"),
    ("iam_user_mfa_console", "tnd-user-keys-only", PASS, "no console password"),
    ("iam_user_single_active_access_key", "tnd-user-two-active-keys", FAIL, "two active keys"),
    ("iam_user_single_active_access_key", "tnd-user-one-active-key", PASS, "second key inactive"),
    ("iam_user_access_key_unused_90", "tnd-user-keys-only", PASS, "key created today"),
    # --- KMS
    ("kms_cmk_rotation_enabled", "tnd-key-static", FAIL, "enabled symmetric CMK without rotation"),
    ("kms_cmk_rotation_enabled", "tnd-key-rotated", PASS, "rotation on"),
    ("kms_cmk_rotation_enabled", "tnd-key-disabled", PASS, "disabled key: rotation not applicable"),
    ("kms_cmk_rotation_enabled", "tnd-key-asymmetric", PASS, "asymmetric keys cannot rotate"),
    ("kms_cmk_rotation_enabled", "tnd-key-pending", PASS, "pending deletion: not applicable"),
    ("kms_cmk_not_pending_deletion", "tnd-key-pending", FAIL, "scheduled for deletion"),
    ("kms_key_not_public", "tnd-key-public", FAIL, "Principal AWS:* without condition"),
    ("kms_key_not_public", "tnd-key-caller-account", PASS, "kms:CallerAccount is this account"),
    ("kms_key_not_public", "tnd-key-via-service-only", FAIL, "any account's callers through S3"),
    # --- CloudTrail (the region has one logging multi-region trail)
    ("cloudtrail_trail_logging", "tnd-trail-stopped", FAIL, "multi-region but never started"),
    ("cloudtrail_trail_logging", "tnd-trail-logging", PASS, "logging"),
    ("cloudtrail_kms_encryption_enabled", "tnd-trail-stopped", PASS, "SSE-KMS"),
    ("cloudtrail_kms_encryption_enabled", "tnd-trail-logging", FAIL, "no KMS key"),
    # --- RDS
    ("rds_instance_no_public_access", "tnd-db-public", FAIL, "PubliclyAccessible (RDS.2)"),
    ("rds_instance_no_public_access", "tnd-db-private", PASS, "not publicly accessible"),
    ("rds_instance_storage_encrypted", "tnd-db-public", FAIL, "unencrypted"),
    ("rds_snapshot_not_public", "tnd-dbsnap-public", FAIL, "restore attribute all"),
    ("rds_snapshot_not_public", "tnd-dbsnap-shared", PASS, "one account"),
    # --- Lambda
    ("lambda_function_not_public", "tnd-fn-public", FAIL, "Principal * without condition"),
    ("lambda_function_not_public", "tnd-fn-star-sourcearn", PASS, "AWS:SourceArn of one bucket"),
    ("lambda_function_not_public", "tnd-fn-star-sourceaccount", PASS, "AWS:SourceAccount of this account"),
    ("lambda_function_not_public", "tnd-fn-xacct", PASS, "one named account"),
    ("lambda_function_not_public", "tnd-fn-none", PASS, "no resource policy"),
    # --- SNS / SQS
    ("sns_topic_not_public", "tnd-topic-public", FAIL, "AWS:* publish"),
    ("sns_topic_not_public", "tnd-topic-sourceowner", PASS, "AWS:SourceOwner this account"),
    ("sns_topic_not_public", "tnd-topic-org", PASS, "organisation only"),
    ("sns_topic_not_public", "tnd-topic-securetransport", FAIL, "SecureTransport restricts no caller"),
    ("sqs_queue_not_public", "tnd-queue-public", FAIL, "Principal * send"),
    ("sqs_queue_not_public", "tnd-queue-sourcearn", PASS, "one topic of this account"),
    ("sqs_queue_not_public", "tnd-queue-sourcearn-any-account", FAIL, "a topic name in any account"),
    ("sqs_queue_not_public", "tnd-queue-deny-only", PASS, "Deny only"),
    ("sqs_queue_secure_transport", "tnd-queue-deny-only", PASS, "denies insecure transport"),
    # --- ECR, EFS, Secrets Manager, CloudWatch Logs
    ("ecr_repository_not_public", "tnd-repo-public", FAIL, "Principal * pull"),
    ("ecr_repository_not_public", "tnd-repo-org", PASS, "organisation only"),
    ("ecr_repository_not_public", "tnd-repo-other-account", PASS, "one named account"),
    ("ecr_repository_policy_no_cross_account", "tnd-repo-other-account", FAIL, "another account can pull"),
    ("efs_policy_not_public", "tnd-efs-public", FAIL, "AWS:* mount"),
    ("efs_policy_not_public", "tnd-efs-mount-target-only", PASS, "mount targets only (prevent anonymous access)"),
    ("secretsmanager_rotation_enabled", "tnd-secret-no-rotation", FAIL, "no rotation"),
    ("secretsmanager_rotation_enabled", "tnd-secret-rotated", PASS, "rotation every 30 days"),
    ("secretsmanager_not_public", "tnd-secret-public", FAIL, "AWS:* read"),
    ("secretsmanager_not_public", "tnd-secret-org", PASS, "organisation only"),
    ("cloudwatch_log_group_retention_policy_specific_days_enabled", "tnd-lg-never-expire", PASS, "never expires"),
    ("cloudwatch_log_group_retention_policy_specific_days_enabled", "tnd-lg-400-days", PASS, ">= 365 days"),
    ("cloudwatch_log_group_retention_policy_specific_days_enabled", "tnd-lg-7-days", FAIL, "7 days"),
]


def _scan(m: MotoServer, out: Path, services: str) -> dict[str, dict[str, int]]:
    main(
        [
            "scan",
            "--endpoint-url",
            m.endpoint_url,
            "--regions",
            REGION,
            "--services",
            services,
            "--include-passed",
            "--output",
            str(out),
        ]
    )
    by_policy: dict[str, dict[str, int]] = {}
    for line in out.read_bytes().splitlines():
        f = orjson.loads(line)
        by_policy.setdefault(f["unmapped"]["policy_id"], {})[f["resources"][0]["uid"]] = f["compliance"]["status_id"]
    return by_policy


def _status(by_policy: dict[str, dict[str, int]], ids: dict[str, str], pid: str, name: str) -> int | None:
    token = ids.get(name, name)
    hits = []
    for uid, status in by_policy.get(pid, {}).items():
        last = uid.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
        if last == "*":  # log group ARNs end with :*
            last = uid.rsplit(":", 2)[-2]
        if last == token or (last.startswith(f"{token}-") and len(last) == len(token) + 7):  # secret suffix
            hits.append(status)
    assert len(hits) <= 1, (pid, name, hits)
    return hits[0] if hits else None


def _check(by_policy: dict[str, dict[str, int]], ids: dict[str, str], rows: list[tuple[str, str, int, str]]) -> None:
    label = {PASS: "PASS", FAIL: "FAIL", None: "no finding"}
    wrong = [
        f"{pid} on {name}: expected {label[want]}, got {label.get(got, got)} ({why})"
        for pid, name, want, why in rows
        if (got := _status(by_policy, ids, pid, name)) != want
    ]
    assert not wrong, "wrong verdicts:\n" + "\n".join(wrong)


def _reset(m: MotoServer) -> None:
    """moto's reset, with time for a loaded machine (the seeded account is large)."""
    req = urllib.request.Request(m.endpoint_url + "/moto-api/reset", method="POST")
    with urllib.request.urlopen(req, timeout=120) as resp:
        resp.read()


@pytest.mark.timeout(900)  # ~30 s idle; a loaded 2-CPU CI box took 160 s to seed and scan
def test_traps_and_decoys(moto_server: MotoServer, tmp_path: Path) -> None:
    _reset(moto_server)
    ids = seed(moto_server)
    _check(_scan(moto_server, tmp_path / "findings.jsonl", SERVICES), ids, EXPECTED)


#: the account-wide settings, on an account of their own
ACCOUNT_EXPECTED: list[tuple[str, str, int, str]] = [
    ("s3_bucket_policy_public", "tnd-acct-public-policy", PASS, "account RestrictPublicBuckets"),
    ("s3_bucket_acl_public_read", "tnd-acct-public-acl", PASS, "account IgnorePublicAcls"),
    ("s3_bucket_acl_public_write", "tnd-acct-public-acl", PASS, "account IgnorePublicAcls"),
    ("s3_bucket_public_access_block", "tnd-acct-public-acl", FAIL, "S3.8 reads the bucket's own block"),
    ("cloudtrail_multi_region_enabled", "region-settings", FAIL, "the only multi-region trail is not logging"),
    ("cloudtrail_enabled_in_region", "region-settings", FAIL, "no trail is logging"),
    ("cloudtrail_trail_logging", "tnd-acct-trail-stopped", FAIL, "stopped"),
    ("iam_password_policy_min_length_14", "account-settings", PASS, "14 characters"),
    ("iam_password_policy_expires_90", "account-settings", FAIL, "passwords never expire (moto: MaxPasswordAge 0)"),
]


def test_account_wide_block_public_access_and_stopped_trail(moto_server: MotoServer, tmp_path: Path) -> None:
    _reset(moto_server)
    s3 = moto_server.boto3_client("s3", REGION)
    s3.create_bucket(Bucket="tnd-acct-public-policy")
    s3.put_bucket_policy(Bucket="tnd-acct-public-policy", Policy=_doc(_get("tnd-acct-public-policy")))
    s3.create_bucket(Bucket="tnd-acct-public-acl")
    _acl(s3, "tnd-acct-public-acl", ALL_USERS, "READ", "WRITE")
    s3.create_bucket(Bucket="tnd-acct-trail-logs")
    moto_server.boto3_client("s3control", REGION).put_public_access_block(
        AccountId=ACCT, PublicAccessBlockConfiguration=BPA_ALL
    )
    moto_server.boto3_client("cloudtrail", REGION).create_trail(
        Name="tnd-acct-trail-stopped", S3BucketName="tnd-acct-trail-logs", IsMultiRegionTrail=True
    )
    moto_server.boto3_client("iam", REGION).update_account_password_policy(
        MinimumPasswordLength=14, RequireSymbols=True, RequireNumbers=True, PasswordReusePrevention=24
    )
    _check(_scan(moto_server, tmp_path / "account.jsonl", "s3,cloudtrail,iam"), {}, ACCOUNT_EXPECTED)
