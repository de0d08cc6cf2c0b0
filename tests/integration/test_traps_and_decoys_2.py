"""A second account seeded with traps and decoys: network ACLs, security-group edge cases, flow logs,
password-policy edge values, credential ages, federated role trusts, CloudTrail event selectors, RDS,
DynamoDB, SNS/SQS encryption, S3 TLS-only policies, Lambda, KMS key kinds.

Same rule as ``test_traps_and_decoys.py``: each row of an ``EXPECTED`` table is one verdict as AWS means it
(the comment names the AWS meaning); a failing row is a product bug, never a row to adjust. Rows moto cannot
express (function URLs, root credentials, MFA delete, AWS managed keys) are left out rather than faked.
"""

from __future__ import annotations

import io
import json
import urllib.request
import zipfile
from datetime import UTC, datetime, timedelta
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
PASS, FAIL = 1, 3
SERVICES = "s3,ec2,iam,kms,cloudtrail,rds,lambda,sns,sqs,dynamodb,logs"
WORLD4, WORLD6 = [{"CidrIp": "0.0.0.0/0"}], [{"CidrIpv6": "::/0"}]


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _tcp(lo: int, hi: int, **src: Any) -> dict[str, Any]:
    return {"IpProtocol": "tcp", "FromPort": lo, "ToPort": hi, **src}


# --------------------------------------------------------------------------------------------- EC2 / VPC


def seed_security_groups(ec2: Any, vpc: str, ids: dict[str, str]) -> None:
    pl = ec2.create_managed_prefix_list(
        PrefixListName="tnd2-office", MaxEntries=2, AddressFamily="IPv4", Entries=[{"Cidr": "10.20.0.0/16"}]
    )["PrefixList"]["PrefixListId"]
    groups: dict[str, list[dict[str, Any]]] = {
        "tnd2-sg-range-20-25": [_tcp(20, 25, IpRanges=WORLD4)],
        "tnd2-sg-icmp-all": [{"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "IpRanges": WORLD4}],
        "tnd2-sg-udp-22": [{"IpProtocol": "udp", "FromPort": 22, "ToPort": 22, "IpRanges": WORLD4}],
        "tnd2-sg-slash1-pair": [_tcp(22, 22, IpRanges=[{"CidrIp": "0.0.0.0/1"}, {"CidrIp": "128.0.0.0/1"}])],
        "tnd2-sg-slash1-half": [_tcp(22, 22, IpRanges=[{"CidrIp": "10.0.0.0/8"}, {"CidrIp": "128.0.0.0/1"}])],
        "tnd2-sg-prefix-list": [_tcp(22, 22, PrefixListIds=[{"PrefixListId": pl}])],
        "tnd2-sg-all-ipv6": [{"IpProtocol": "-1", "Ipv6Ranges": WORLD6}],
        "tnd2-sg-no-ingress": [],  # only the default egress 0.0.0.0/0 rule
        "tnd2-sg-3389-private": [_tcp(3389, 3389, IpRanges=[{"CidrIp": "192.168.0.0/16"}])],
    }
    for name, perms in groups.items():
        gid = ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"]
        ids[name] = gid
        if perms:
            ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=perms)
    gid = ec2.create_security_group(GroupName="tnd2-sg-all-from-sg", Description="x", VpcId=vpc)["GroupId"]
    ids["tnd2-sg-all-from-sg"] = gid
    ec2.authorize_security_group_ingress(
        GroupId=gid, IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": ids["tnd2-sg-udp-22"]}]}]
    )


def seed_vpcs(ec2: Any, ids: dict[str, str]) -> None:
    logs = "arn:aws:logs:us-east-1:123456789012:log-group:tnd2-flow"
    role = f"arn:aws:iam::{ACCT}:role/tnd2-flow"
    for name, cidr in (
        ("tnd2-vpc-flow", "10.1.0.0/16"),
        ("tnd2-vpc-noflow", "10.2.0.0/16"),
        ("tnd2-vpc-flow-reject", "10.3.0.0/16"),
        ("tnd2-vpc-subnet-flow", "10.4.0.0/16"),
    ):
        ids[name] = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    common = {"LogDestinationType": "cloud-watch-logs", "LogDestination": logs, "DeliverLogsPermissionArn": role}
    ec2.create_flow_logs(ResourceType="VPC", ResourceIds=[ids["tnd2-vpc-flow"]], TrafficType="ALL", **common)
    ec2.create_flow_logs(ResourceType="VPC", ResourceIds=[ids["tnd2-vpc-flow-reject"]], TrafficType="REJECT", **common)
    sub = ec2.create_subnet(VpcId=ids["tnd2-vpc-subnet-flow"], CidrBlock="10.4.1.0/24")["Subnet"]["SubnetId"]
    ec2.create_flow_logs(ResourceType="Subnet", ResourceIds=[sub], TrafficType="ALL", **common)
    # the default security group of a new VPC: all egress, ingress from itself (EC2.2 fails it) ...
    for vpc_name, sg_name in (("tnd2-vpc-noflow", "tnd2-default-sg-stock"), ("tnd2-vpc-flow", "tnd2-default-sg-empty")):
        sg = ec2.describe_security_groups(
            Filters=[{"Name": "vpc-id", "Values": [ids[vpc_name]]}, {"Name": "group-name", "Values": ["default"]}]
        )["SecurityGroups"][0]
        ids[sg_name] = sg["GroupId"]
    # ... and one emptied of every rule (EC2.2 passes it)
    sg = ec2.describe_security_groups(GroupIds=[ids["tnd2-default-sg-empty"]])["SecurityGroups"][0]
    if sg["IpPermissions"]:
        ec2.revoke_security_group_ingress(GroupId=sg["GroupId"], IpPermissions=sg["IpPermissions"])
    if sg["IpPermissionsEgress"]:
        ec2.revoke_security_group_egress(GroupId=sg["GroupId"], IpPermissions=sg["IpPermissionsEgress"])


def seed_nacls(ec2: Any, ids: dict[str, str]) -> None:
    vpc = ids["tnd2-vpc-noflow"]
    ids["tnd2-nacl-default"] = ec2.describe_network_acls(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "default", "Values": ["true"]}]
    )["NetworkAcls"][0]["NetworkAclId"]

    def entry(n: int, action: str, proto: str = "-1", ports: tuple[int, int] | None = None, ipv6: bool = False):
        e: dict[str, Any] = {"RuleNumber": n, "RuleAction": action, "Protocol": proto, "Egress": False}
        e["Ipv6CidrBlock" if ipv6 else "CidrBlock"] = "::/0" if ipv6 else "0.0.0.0/0"
        if ports:
            e["PortRange"] = {"From": ports[0], "To": ports[1]}
        return e

    nacls: dict[str, list[dict[str, Any]]] = {
        # the lowest-numbered matching rule decides: a deny of everything before an allow of everything
        "tnd2-nacl-deny-all-first": [entry(100, "deny"), entry(200, "allow")],
        # ... but here the allow comes first
        "tnd2-nacl-allow-all-first": [entry(100, "allow"), entry(200, "deny")],
        # 22 denied first, 3389 still reaches the allow-all-TCP rule
        "tnd2-nacl-deny-22-only": [entry(100, "deny", "6", (22, 22)), entry(200, "allow", "6", (0, 65535))],
        # both admin ports denied first, ephemeral ports allowed (the usual return-traffic rule)
        "tnd2-nacl-deny-admin": [
            entry(90, "deny", "6", (22, 22)),
            entry(91, "deny", "6", (3389, 3389)),
            entry(100, "allow", "6", (1024, 65535)),
        ],
        "tnd2-nacl-range-20-25": [entry(100, "allow", "6", (20, 25))],
        "tnd2-nacl-ssh-ipv6": [entry(100, "allow", "6", (22, 22), ipv6=True)],
        "tnd2-nacl-https-only": [entry(100, "allow", "6", (443, 443))],
        # an IPv6 deny does not match IPv4 packets: IPv4 SSH reaches the allow
        "tnd2-nacl-deny-v6-allow-v4": [entry(100, "deny", ipv6=True), entry(110, "allow", "6", (22, 22))],
        # an allow numbered after a deny of the same port: never reached
        "tnd2-nacl-allow-22-late": [entry(100, "deny", "6", (0, 65535)), entry(200, "allow", "6", (22, 22))],
    }
    for name, entries in nacls.items():
        nacl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
        ids[name] = nacl
        for e in entries:
            ec2.create_network_acl_entry(NetworkAclId=nacl, **e)


def seed_ec2(m: MotoServer, ids: dict[str, str]) -> None:
    ec2 = m.boto3_client("ec2", REGION)
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    seed_security_groups(ec2, vpc, ids)
    seed_vpcs(ec2, ids)
    seed_nacls(ec2, ids)
    ids["tnd2-vol"] = vol = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=1)["VolumeId"]
    ids["tnd2-snap-plain"] = ec2.create_snapshot(VolumeId=vol, Description="plain")["SnapshotId"]
    kms = m.boto3_client("kms", REGION)
    key = kms.create_key(Description="tnd2-ebs")["KeyMetadata"]["KeyId"]
    enc = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=1, Encrypted=True, KmsKeyId=key)["VolumeId"]
    ids["tnd2-snap-enc"] = ec2.create_snapshot(VolumeId=enc, Description="enc")["SnapshotId"]


# --------------------------------------------------------------------------------------------------- IAM


def _backdate_iam(user: str, *, key_days: list[int] | None = None, password_days: int | None = None) -> None:
    """moto cannot create an old credential: age the in-process backend's objects (the server is threaded)."""
    from moto.iam.models import iam_backends

    u = iam_backends[ACCT]["global"].users[user]
    now = datetime.now(UTC).replace(tzinfo=None)
    for key, days in zip(u.access_keys, key_days or [], strict=False):
        key.create_date = now - timedelta(days=days)
    if password_days is not None:  # moto dates the login profile with the user
        u.create_date = now - timedelta(days=password_days)


def seed_iam(m: MotoServer) -> None:
    iam = m.boto3_client("iam", REGION)
    read = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    iam.create_group(GroupName="tnd2-readers")
    iam.attach_group_policy(GroupName="tnd2-readers", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    for user in ("tnd2-user-inline", "tnd2-user-attached", "tnd2-user-group-only"):
        iam.create_user(UserName=user)
    iam.put_user_policy(UserName="tnd2-user-inline", PolicyName="read", PolicyDocument=_doc(read))
    iam.attach_user_policy(UserName="tnd2-user-attached", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam.add_user_to_group(GroupName="tnd2-readers", UserName="tnd2-user-group-only")
    # access key ages (IAM.3: rotated within 90 days; unused credentials: 45 days)
    for user, days in (("tnd2-key-92-days", 92), ("tnd2-key-89-days", 89), ("tnd2-key-40-days", 40)):
        iam.create_user(UserName=user)
        iam.create_access_key(UserName=user)
        _backdate_iam(user, key_days=[days])
    iam.create_user(UserName="tnd2-key-old-inactive")
    kid = iam.create_access_key(UserName="tnd2-key-old-inactive")["AccessKey"]["AccessKeyId"]
    iam.update_access_key(UserName="tnd2-key-old-inactive", AccessKeyId=kid, Status="Inactive")
    _backdate_iam("tnd2-key-old-inactive", key_days=[200])
    iam.create_user(UserName="tnd2-key-old-and-new")  # one stale active key beside a fresh one
    iam.create_access_key(UserName="tnd2-key-old-and-new")
    iam.create_access_key(UserName="tnd2-key-old-and-new")
    _backdate_iam("tnd2-key-old-and-new", key_days=[120, 1])
    for user, days in (("tnd2-console-100-days", 100), ("tnd2-console-new", 0)):
        iam.create_user(UserName=user)
        iam.create_login_profile(UserName=user, Password="Not-a-secret-123!")
        _backdate_iam(user, password_days=days)
    seed_role_trusts(iam)


def seed_role_trusts(iam: Any) -> None:
    gh = "token.actions.githubusercontent.com"
    gh_arn = iam.create_open_id_connect_provider(
        Url=f"https://{gh}", ClientIDList=["sts.amazonaws.com"], ThumbprintList=["a" * 40]
    )["OpenIDConnectProviderArn"]
    saml_arn = iam.create_saml_provider(
        Name="tnd2-idp",
        SAMLMetadataDocument="<EntityDescriptor xmlns='urn:oasis:names:tc:SAML:2.0:metadata'/>" + "x" * 1000,
    )["SAMLProviderArn"]
    assume = {"Effect": "Allow", "Action": "sts:AssumeRole"}
    web = {"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity", "Principal": {"Federated": gh_arn}}
    aud = {f"{gh}:aud": "sts.amazonaws.com"}
    trusts: dict[str, dict[str, Any]] = {
        # sts:ExternalId is a shared string, not an identity: anyone who knows it can assume
        "tnd2-role-star-externalid": {
            **assume,
            "Principal": {"AWS": "*"},
            "Condition": {"StringEquals": {"sts:ExternalId": "not-a-secret"}},
        },
        "tnd2-role-star-principalaccount": {
            **assume,
            "Principal": {"AWS": "*"},
            "Condition": {"StringEquals": {"aws:PrincipalAccount": ACCT}},
        },
        "tnd2-role-own-account": {**assume, "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"}},
        # GitHub's OIDC provider without a sub condition: a workflow of any repository can assume
        "tnd2-role-github-no-sub": {**web, "Condition": {"StringEquals": aud}},
        "tnd2-role-github-sub-any": {
            **web,
            "Condition": {"StringEquals": aud, "StringLike": {f"{gh}:sub": "repo:*"}},
        },
        "tnd2-role-github-sub-repo": {
            **web,
            "Condition": {
                "StringEquals": aud,
                "StringLike": {f"{gh}:sub": "repo:tnd-org/tnd-repo:ref:refs/heads/main"},
            },
        },
        "tnd2-role-saml": {
            "Effect": "Allow",
            "Action": "sts:AssumeRoleWithSAML",
            "Principal": {"Federated": saml_arn},
            "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}},
        },
        # Cognito identity pools of any account, unless cognito-identity.amazonaws.com:aud names one
        "tnd2-role-cognito-no-aud": {
            **web,
            "Principal": {"Federated": "cognito-identity.amazonaws.com"},
            "Condition": {"ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"}},
        },
        "tnd2-role-cognito-aud": {
            **web,
            "Principal": {"Federated": "cognito-identity.amazonaws.com"},
            "Condition": {
                "StringEquals": {
                    "cognito-identity.amazonaws.com:aud": "us-east-1:12345678-1234-1234-1234-123456789012"
                },
                "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"},
            },
        },
    }
    for role, trust in trusts.items():
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=_doc(trust))


# ------------------------------------------------------------------------------------- CloudTrail, S3


def _tls_deny(bucket: str, **over: Any) -> dict[str, Any]:
    st: dict[str, Any] = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    st.update(over)
    return st


def seed_s3(m: MotoServer) -> None:
    s3 = m.boto3_client("s3", REGION)
    policies: dict[str, list[dict[str, Any]]] = {
        "tnd2-tls-ok": [_tls_deny("tnd2-tls-ok")],
        # condition key names are case-insensitive in IAM policy evaluation
        "tnd2-tls-lowercase-key": [
            _tls_deny("tnd2-tls-lowercase-key", Condition={"Bool": {"aws:securetransport": "false"}})
        ],
        "tnd2-tls-principal-aws-star": [_tls_deny("tnd2-tls-principal-aws-star", Principal={"AWS": "*"})],
        # the Deny names the bucket only: object requests (GetObject/PutObject) over HTTP are not denied
        "tnd2-tls-bucket-arn-only": [
            _tls_deny("tnd2-tls-bucket-arn-only", Resource="arn:aws:s3:::tnd2-tls-bucket-arn-only")
        ],
        # an Allow on HTTPS does not deny HTTP
        "tnd2-tls-allow-https": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"},
                "Action": "s3:*",
                "Resource": "arn:aws:s3:::tnd2-tls-allow-https/*",
                "Condition": {"Bool": {"aws:SecureTransport": "true"}},
            }
        ],
        # a TLS-version floor is not a transport requirement
        "tnd2-tls-version-only": [
            _tls_deny("tnd2-tls-version-only", Condition={"NumericLessThan": {"s3:TlsVersion": "1.2"}})
        ],
        # deny only reads over HTTP: writes over HTTP stay allowed
        "tnd2-tls-getobject-only": [_tls_deny("tnd2-tls-getobject-only", Action="s3:GetObject")],
    }
    for bucket, statements in policies.items():
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_policy(Bucket=bucket, Policy=_doc(*statements))
    for bucket, algo in (("tnd2-sse-s3", "AES256"), ("tnd2-sse-kms", "aws:kms"), ("tnd2-sse-dsse", "aws:kms:dsse")):
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": algo}}]
            },
        )
    for bucket, status in (("tnd2-ver-enabled", "Enabled"), ("tnd2-ver-suspended", "Suspended")):
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": status})
    s3.create_bucket(Bucket="tnd2-ver-never")
    for bucket, status in (("tnd2-lc-enabled", "Enabled"), ("tnd2-lc-disabled", "Disabled")):
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket,
            LifecycleConfiguration={
                "Rules": [{"ID": "r", "Status": status, "Filter": {"Prefix": ""}, "Expiration": {"Days": 365}}]
            },
        )


def _trail_bucket_policy(bucket: str, *extra: dict[str, Any]) -> str:
    return _doc(
        {
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/{ACCT}/*",
            "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
        },
        *extra,
    )


def seed_cloudtrail(m: MotoServer) -> None:
    s3 = m.boto3_client("s3", REGION)
    for b in ("tnd2-ct-private", "tnd2-ct-public", "tnd2-access-logs"):
        s3.create_bucket(Bucket=b)
    s3.put_bucket_policy(Bucket="tnd2-ct-private", Policy=_trail_bucket_policy("tnd2-ct-private"))
    log_delivery = {
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::tnd2-access-logs/*",
    }
    s3.put_bucket_policy(Bucket="tnd2-access-logs", Policy=_doc(log_delivery))
    s3.put_bucket_logging(
        Bucket="tnd2-ct-private",
        BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": "tnd2-access-logs", "TargetPrefix": "ct/"}},
    )
    public_read = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::tnd2-ct-public/*",
    }
    s3.put_bucket_policy(Bucket="tnd2-ct-public", Policy=_trail_bucket_policy("tnd2-ct-public", public_read))
    logs = m.boto3_client("logs", REGION)
    logs.create_log_group(logGroupName="tnd2-ct-group")
    group_arn = f"arn:aws:logs:{REGION}:{ACCT}:log-group:tnd2-ct-group:*"
    ct = m.boto3_client("cloudtrail", REGION)
    ct.create_trail(
        Name="tnd2-trail-full",
        S3BucketName="tnd2-ct-private",
        IsMultiRegionTrail=True,
        EnableLogFileValidation=True,
        CloudWatchLogsLogGroupArn=group_arn,
        CloudWatchLogsRoleArn=f"arn:aws:iam::{ACCT}:role/tnd2-ct",
    )
    ct.create_trail(Name="tnd2-trail-bare", S3BucketName="tnd2-ct-public")
    for t in ("tnd2-trail-full", "tnd2-trail-bare"):
        ct.start_logging(Name=t)


# ------------------------------------------------------------------------------ RDS, DynamoDB, SNS/SQS


def seed_rds(m: MotoServer) -> None:
    rds = m.boto3_client("rds", REGION)
    ec2 = m.boto3_client("ec2", REGION)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]  # no internet gateway: private subnets
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=f"{REGION}{az}")["Subnet"]["SubnetId"]
        for i, az in ((1, "a"), (2, "b"))
    ]
    rds.create_db_subnet_group(DBSubnetGroupName="tnd2-private", DBSubnetGroupDescription="x", SubnetIds=subnets)
    base = {
        "DBInstanceClass": "db.t3.micro",
        "Engine": "postgres",
        "MasterUsername": "dbowner",
        "MasterUserPassword": "not-a-secret-123",
        "AllocatedStorage": 20,
        "StorageEncrypted": True,
        "PubliclyAccessible": False,
    }
    instances: dict[str, dict[str, Any]] = {
        "tnd2-db-backup-0": {"BackupRetentionPeriod": 0},
        "tnd2-db-backup-1": {"BackupRetentionPeriod": 1},
        "tnd2-db-hardened": {
            "BackupRetentionPeriod": 7,
            "MultiAZ": True,
            "DeletionProtection": True,
            "AutoMinorVersionUpgrade": True,
            "EnableIAMDatabaseAuthentication": True,
        },
        "tnd2-db-loose": {
            "BackupRetentionPeriod": 7,
            "MultiAZ": False,
            "DeletionProtection": False,
            "AutoMinorVersionUpgrade": False,
            "EnableIAMDatabaseAuthentication": False,
        },
        # PubliclyAccessible in subnets without an internet route: RDS.2 reads the flag
        "tnd2-db-public-private-subnets": {"PubliclyAccessible": True, "DBSubnetGroupName": "tnd2-private"},
        # IAM database authentication does not exist for SQL Server: not applicable
        "tnd2-db-sqlserver": {
            "Engine": "sqlserver-ex",
            "LicenseModel": "license-included",
            "MasterUsername": "dbadmin",
        },
    }
    for name, over in instances.items():
        rds.create_db_instance(DBInstanceIdentifier=name, **{**base, **over})


def seed_dynamodb(m: MotoServer) -> None:
    ddb = m.boto3_client("dynamodb", REGION)
    common = {
        "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    ddb.create_table(TableName="tnd2-ddb-default", **common)  # AWS owned key, no PITR
    ddb.create_table(
        TableName="tnd2-ddb-kms",
        SSESpecification={"Enabled": True, "SSEType": "KMS"},
        DeletionProtectionEnabled=True,
        **common,
    )  # AWS managed key aws/dynamodb
    ddb.update_continuous_backups(
        TableName="tnd2-ddb-kms", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )


def seed_messaging(m: MotoServer) -> None:
    sns = m.boto3_client("sns", REGION)
    sns.create_topic(Name="tnd2-topic-aws-managed-key", Attributes={"KmsMasterKeyId": "alias/aws/sns"})
    sns.create_topic(Name="tnd2-topic-plain")
    sqs = m.boto3_client("sqs", REGION)
    key = m.boto3_client("kms", REGION).create_key(Description="tnd2-sqs")["KeyMetadata"]["KeyId"]
    sqs.create_queue(QueueName="tnd2-queue-sse-sqs", Attributes={"SqsManagedSseEnabled": "true"})
    sqs.create_queue(QueueName="tnd2-queue-kms", Attributes={"KmsMasterKeyId": key})
    sqs.create_queue(QueueName="tnd2-queue-plain", Attributes={"SqsManagedSseEnabled": "false"})
    for name, key_name in (
        ("tnd2-queue-tls-lowercase", "aws:securetransport"),
        ("tnd2-queue-tls-ok", "aws:SecureTransport"),
    ):
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        deny = {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sqs:*",
            "Resource": f"arn:aws:sqs:{REGION}:{ACCT}:{name}",
            "Condition": {"Bool": {key_name: "false"}},
        }
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": _doc(deny)})


# ------------------------------------------------------------------------------------------ Lambda, KMS


def seed_lambda(m: MotoServer) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return 1\n")
    role = m.boto3_client("iam", REGION).create_role(
        RoleName="tnd2-fn-role",
        AssumeRolePolicyDocument=_doc(
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ),
    )["Role"]["Arn"]
    lam = m.boto3_client("lambda", REGION)
    functions: dict[str, tuple[str, dict[str, str]]] = {
        "tnd2-fn-password-env": ("python3.12", {"DB_PASSWORD": "hunter2-not-a-secret"}),
        "tnd2-fn-key-in-plain-name": ("python3.12", {"CONFIG_A": "AKIAIOSFODNN7EXAMPLE"}),
        "tnd2-fn-secret-arn-env": (
            "python3.12",
            {"DB_PASSWORD_SECRET_ARN": f"arn:aws:secretsmanager:{REGION}:{ACCT}:secret:db-AbCdEf"},
        ),
        "tnd2-fn-plain-env": ("python3.12", {"LOG_LEVEL": "debug"}),
        "tnd2-fn-python38": ("python3.8", {}),
        "tnd2-fn-nodejs16": ("nodejs16.x", {}),
        "tnd2-fn-python313": ("python3.13", {}),
    }
    for fn, (runtime, env) in functions.items():
        lam.create_function(
            FunctionName=fn,
            Runtime=runtime,
            Role=role,
            Handler="index.handler",
            Code={"ZipFile": buf.getvalue()},
            Environment={"Variables": env},
        )


def seed_kms(m: MotoServer, ids: dict[str, str]) -> None:
    kms = m.boto3_client("kms", REGION)
    ids["tnd2-key-hmac"] = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
    ids["tnd2-key-ecc"] = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    ids["tnd2-key-symmetric"] = kms.create_key(Description="plain symmetric")["KeyMetadata"]["KeyId"]
    ids["tnd2-key-external"] = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]


def seed(m: MotoServer) -> dict[str, str]:
    """Returns name → resource id for the resources whose ARN does not carry the name."""
    ids: dict[str, str] = {}
    seed_ec2(m, ids)
    seed_iam(m)
    seed_s3(m)
    seed_cloudtrail(m)
    seed_rds(m)
    seed_dynamodb(m)
    seed_messaging(m)
    seed_lambda(m)
    seed_kms(m, ids)
    return ids


#: (policy, resource name, expected status, what AWS means)
SPLIT = "ec2_sg_ingress_admin_ports_internet_split_ranges"
EXPECTED: list[tuple[str, str, int, str]] = [
    # --- security groups: ranges, protocols, sources
    ("ec2_sg_ingress_ssh_world", "tnd2-sg-range-20-25", FAIL, "20-25 includes 22"),
    ("ec2_sg_ingress_rdp_world", "tnd2-sg-range-20-25", PASS, "3389 outside 20-25"),
    ("ec2_sg_ingress_all_ports_world", "tnd2-sg-range-20-25", PASS, "six ports, not all"),
    ("ec2_sg_ingress_ssh_world", "tnd2-sg-icmp-all", PASS, "ICMP carries no TCP port"),
    ("ec2_sg_ingress_all_ports_world", "tnd2-sg-icmp-all", PASS, "ICMP -1/-1 is every ICMP type, not every port"),
    ("ec2_sg_ingress_any_port_world", "tnd2-sg-icmp-all", FAIL, "ICMP from the internet is ingress from 0.0.0.0/0"),
    ("ec2_sg_ingress_ssh_world", "tnd2-sg-udp-22", PASS, "SSH is TCP 22; UDP 22 is not SSH"),
    ("ec2_sg_ingress_ssh_world", "tnd2-sg-slash1-half", PASS, "half of the IPv4 space is not the internet"),
    # EC2.13's twin compares with 0.0.0.0/0 literally (as AWS Config's restricted-ssh and Prowler do); the split
    # internet is reported by the split-ranges policy, which leaves literal /0 rules to the world policies
    ("ec2_sg_ingress_ssh_world", "tnd2-sg-slash1-pair", PASS, "EC2.13 looks for the literal 0.0.0.0/0"),
    (SPLIT, "tnd2-sg-slash1-pair", FAIL, "0.0.0.0/1 + 128.0.0.0/1 is every IPv4 address"),
    (SPLIT, "tnd2-sg-slash1-half", PASS, "10.0.0.0/8 + 128.0.0.0/1 leaves most of the internet out"),
    (SPLIT, "tnd2-sg-range-20-25", PASS, "a literal 0.0.0.0/0 is the world policies' finding"),
    ("ec2_sg_ingress_ssh_world", "tnd2-sg-prefix-list", PASS, "prefix list of a private range"),
    ("ec2_sg_ingress_ssh_world", "tnd2-sg-all-ipv6", FAIL, "protocol -1 from ::/0 includes 22"),
    ("ec2_sg_ingress_rdp_world", "tnd2-sg-all-ipv6", FAIL, "protocol -1 from ::/0 includes 3389"),
    ("ec2_sg_ingress_admin_ports_ipv4_world", "tnd2-sg-all-ipv6", PASS, "EC2.53 is the IPv4 control"),
    ("ec2_sg_ingress_admin_ports_ipv6_world", "tnd2-sg-all-ipv6", FAIL, "EC2.54: ::/0 to admin ports"),
    ("ec2_sg_ingress_all_ports_world", "tnd2-sg-all-ipv6", FAIL, "every protocol and port from ::/0"),
    ("ec2_sg_ingress_any_port_world", "tnd2-sg-no-ingress", PASS, "egress 0.0.0.0/0 is not ingress"),
    ("ec2_sg_ingress_rdp_world", "tnd2-sg-3389-private", PASS, "192.168.0.0/16 is private"),
    ("ec2_sg_ingress_all_ports_world", "tnd2-sg-all-from-sg", PASS, "all traffic from a security group only"),
    ("ec2_sg_ingress_any_port_world", "tnd2-sg-all-from-sg", PASS, "no address range at all"),
    ("ec2_sg_default_restricts_all", "tnd2-default-sg-stock", FAIL, "EC2.2: the stock default group has rules"),
    ("ec2_sg_default_restricts_all", "tnd2-default-sg-empty", PASS, "EC2.2: default group without any rule"),
    ("ec2_sg_default_restricts_all", "tnd2-sg-all-ipv6", PASS, "not a default group"),
    # --- network ACLs: the lowest-numbered matching rule decides (then the * rule denies)
    ("ec2_nacl_ingress_admin_ports_world", "tnd2-nacl-default", FAIL, "a new VPC's default NACL allows all"),
    ("ec2_nacl_ingress_admin_ports_world", "tnd2-nacl-deny-all-first", PASS, "rule 100 denies everything first"),
    ("ec2_nacl_ingress_all_ports_world", "tnd2-nacl-deny-all-first", PASS, "the allow-all rule is never reached"),
    ("ec2_nacl_ingress_admin_ports_world", "tnd2-nacl-allow-all-first", FAIL, "rule 100 allows everything"),
    ("ec2_nacl_ingress_all_ports_world", "tnd2-nacl-allow-all-first", FAIL, "rule 100 allows everything"),
    ("ec2_nacl_ingress_admin_ports_world", "tnd2-nacl-deny-22-only", FAIL, "3389 reaches the TCP allow"),
    ("ec2_nacl_ingress_admin_ports_world", "tnd2-nacl-deny-admin", PASS, "22 and 3389 denied before the allow"),
    ("ec2_nacl_ingress_admin_ports_world", "tnd2-nacl-range-20-25", FAIL, "20-25 includes 22"),
    ("ec2_nacl_ingress_admin_ports_world", "tnd2-nacl-ssh-ipv6", FAIL, "::/0 on 22"),
    ("ec2_nacl_ingress_admin_ports_world", "tnd2-nacl-https-only", PASS, "443 only"),
    ("ec2_nacl_ingress_all_ports_world", "tnd2-nacl-https-only", PASS, "443 only"),
    ("ec2_nacl_ingress_admin_ports_world", "tnd2-nacl-allow-22-late", PASS, "rule 100 denies all TCP first"),
    ("ec2_nacl_ingress_admin_ports_world", "tnd2-nacl-deny-v6-allow-v4", FAIL, "IPv6 rules never match IPv4"),
    # --- VPC flow logs, EBS snapshots
    ("vpc_flow_logs_enabled", "tnd2-vpc-flow", PASS, "active flow log on the VPC"),
    ("vpc_flow_logs_enabled", "tnd2-vpc-noflow", FAIL, "no flow log"),
    ("vpc_flow_logs_enabled", "tnd2-vpc-flow-reject", PASS, "REJECT flow log is a flow log (Prowler)"),
    ("vpc_flow_logs_enabled", "tnd2-vpc-subnet-flow", FAIL, "a subnet's flow log does not log the VPC"),
    ("ec2_ebs_snapshot_encrypted", "tnd2-snap-plain", FAIL, "snapshot of an unencrypted volume"),
    ("ec2_ebs_snapshot_encrypted", "tnd2-snap-enc", PASS, "snapshot of an encrypted volume"),
    # --- IAM users: where policies attach, credential ages
    ("iam_user_no_attached_policies", "tnd2-user-inline", FAIL, "IAM.2: inline policy on a user"),
    ("iam_user_no_attached_policies", "tnd2-user-attached", FAIL, "IAM.2: managed policy on a user"),
    ("iam_user_no_attached_policies", "tnd2-user-group-only", PASS, "permissions through a group only"),
    ("iam_user_access_key_rotated_90", "tnd2-key-92-days", FAIL, "IAM.3: active key older than 90 days"),
    ("iam_user_access_key_rotated_90", "tnd2-key-89-days", PASS, "key 89 days old"),
    ("iam_user_access_key_rotated_90", "tnd2-key-old-inactive", PASS, "an inactive key authenticates nothing"),
    ("iam_user_access_key_rotated_90", "tnd2-key-old-and-new", FAIL, "the old active key is still valid"),
    ("iam_user_access_key_unused_45", "tnd2-key-40-days", PASS, "never used, created 40 days ago"),
    ("iam_user_access_key_unused_45", "tnd2-key-89-days", FAIL, "IAM.22: never used in 89 days"),
    ("iam_user_access_key_unused_45", "tnd2-key-old-inactive", PASS, "inactive: not a usable credential"),
    ("iam_user_access_key_unused_90", "tnd2-key-92-days", FAIL, "IAM.8: not used for 92 days"),
    ("iam_user_access_key_unused_90", "tnd2-key-89-days", PASS, "89 days"),
    ("iam_user_console_password_unused_90", "tnd2-console-100-days", FAIL, "password never used in 100 days"),
    ("iam_user_console_password_unused_90", "tnd2-console-new", PASS, "password set today"),
    ("iam_user_console_password_unused_45", "tnd2-console-100-days", FAIL, "IAM.22: 45 days"),
    ("iam_user_console_password_unused_90", "tnd2-key-92-days", PASS, "no console password"),
    # --- IAM role trusts: federation and conditions
    ("iam_role_trust_not_public", "tnd2-role-star-externalid", FAIL, "ExternalId does not name the caller"),
    ("iam_role_trust_not_public", "tnd2-role-star-principalaccount", PASS, "aws:PrincipalAccount is this account"),
    ("iam_role_trust_not_public", "tnd2-role-own-account", PASS, "this account's principals"),
    ("iam_role_trust_not_public", "tnd2-role-github-no-sub", FAIL, "any GitHub repository's workflow"),
    ("iam_role_trust_not_public", "tnd2-role-github-sub-any", FAIL, "sub repo:* is any repository"),
    ("iam_role_trust_not_public", "tnd2-role-github-sub-repo", PASS, "one repository's main branch"),
    ("iam_role_trust_not_public", "tnd2-role-saml", PASS, "this account's SAML provider"),
    ("iam_role_trust_not_public", "tnd2-role-cognito-no-aud", FAIL, "identities of any Cognito pool"),
    ("iam_role_trust_not_public", "tnd2-role-cognito-aud", PASS, "one identity pool"),
    # --- S3: TLS-only policies (S3.5), encryption, versioning, lifecycle
    ("s3_bucket_secure_transport_policy", "tnd2-tls-ok", PASS, "Deny s3:* when aws:SecureTransport false"),
    ("s3_bucket_secure_transport_policy", "tnd2-tls-lowercase-key", PASS, "condition keys are case-insensitive"),
    ("s3_bucket_secure_transport_policy", "tnd2-tls-principal-aws-star", PASS, "AWS:* is everyone"),
    ("s3_bucket_secure_transport_policy", "tnd2-tls-bucket-arn-only", FAIL, "objects over HTTP not denied"),
    ("s3_bucket_secure_transport_policy", "tnd2-tls-allow-https", FAIL, "an Allow denies nothing"),
    ("s3_bucket_secure_transport_policy", "tnd2-tls-version-only", FAIL, "TLS version floor, HTTP not denied"),
    ("s3_bucket_secure_transport_policy", "tnd2-tls-getobject-only", FAIL, "PutObject over HTTP allowed"),
    ("s3_bucket_secure_transport_policy", "tnd2-sse-s3", FAIL, "no bucket policy"),
    ("s3_bucket_default_encryption", "tnd2-sse-s3", PASS, "SSE-S3 default encryption"),
    ("s3_bucket_kms_encryption", "tnd2-sse-s3", FAIL, "S3.17: SSE-S3 is not KMS"),
    ("s3_bucket_kms_encryption", "tnd2-sse-kms", PASS, "SSE-KMS"),
    ("s3_bucket_kms_encryption", "tnd2-sse-dsse", PASS, "DSSE-KMS is KMS"),
    ("s3_bucket_versioning_enabled", "tnd2-ver-enabled", PASS, "Enabled"),
    ("s3_bucket_versioning_enabled", "tnd2-ver-suspended", FAIL, "Suspended keeps no new versions"),
    ("s3_bucket_versioning_enabled", "tnd2-ver-never", FAIL, "never enabled"),
    ("s3_bucket_versioned_lifecycle", "tnd2-ver-suspended", PASS, "S3.10 applies to versioning-enabled buckets"),
    ("s3_bucket_versioned_lifecycle", "tnd2-ver-enabled", FAIL, "versioned without a lifecycle rule"),
    ("s3_bucket_lifecycle_configured", "tnd2-lc-enabled", PASS, "an enabled rule"),
    ("s3_bucket_lifecycle_configured", "tnd2-lc-disabled", FAIL, "a disabled rule applies to nothing"),
    # --- CloudTrail trails and their buckets
    ("cloudtrail_log_file_validation_enabled", "tnd2-trail-full", PASS, "digest files on"),
    ("cloudtrail_log_file_validation_enabled", "tnd2-trail-bare", FAIL, "CloudTrail.4"),
    ("cloudtrail_cloudwatch_logs_enabled", "tnd2-trail-full", PASS, "delivers to a log group"),
    ("cloudtrail_cloudwatch_logs_enabled", "tnd2-trail-bare", FAIL, "CloudTrail.5"),
    ("cloudtrail_trail_logging", "tnd2-trail-bare", PASS, "single-region trail, logging"),
    ("cloudtrail_bucket_not_public", "tnd2-ct-public", FAIL, "CloudTrail.6: trail bucket readable by everyone"),
    ("cloudtrail_bucket_not_public", "tnd2-ct-private", PASS, "only CloudTrail may write"),
    ("cloudtrail_bucket_access_logging", "tnd2-ct-private", PASS, "CloudTrail.7: access logging on"),
    ("cloudtrail_bucket_access_logging", "tnd2-ct-public", FAIL, "CloudTrail.7: no access logging"),
    ("cloudtrail_bucket_access_logging", "tnd2-access-logs", PASS, "not a trail bucket"),
    # --- RDS
    ("rds_instance_automated_backups_on", "tnd2-db-backup-0", FAIL, "retention 0 disables automated backups"),
    ("rds_instance_automated_backups_on", "tnd2-db-backup-1", PASS, "retention 1 day is backups on"),
    ("rds_instance_backup_enabled", "tnd2-db-backup-1", FAIL, "RDS.11 asks for 7 days"),
    ("rds_instance_backup_enabled", "tnd2-db-hardened", PASS, "7 days"),
    ("rds_instance_multi_az", "tnd2-db-hardened", PASS, "Multi-AZ"),
    ("rds_instance_multi_az", "tnd2-db-loose", FAIL, "RDS.5"),
    ("rds_instance_deletion_protection", "tnd2-db-hardened", PASS, "deletion protection"),
    ("rds_instance_deletion_protection", "tnd2-db-loose", FAIL, "RDS.8"),
    ("rds_instance_auto_minor_version_upgrade", "tnd2-db-hardened", PASS, "auto minor upgrades"),
    ("rds_instance_auto_minor_version_upgrade", "tnd2-db-loose", FAIL, "RDS.13"),
    ("rds_instance_iam_authentication", "tnd2-db-hardened", PASS, "IAM DB auth"),
    ("rds_instance_iam_authentication", "tnd2-db-loose", FAIL, "RDS.10"),
    ("rds_instance_iam_authentication", "tnd2-db-sqlserver", PASS, "SQL Server has no IAM DB auth"),
    ("rds_instance_no_public_access", "tnd2-db-public-private-subnets", FAIL, "RDS.2 reads PubliclyAccessible"),
    ("rds_instance_no_public_access", "tnd2-db-hardened", PASS, "not publicly accessible"),
    # --- DynamoDB
    ("dynamodb_table_pitr_enabled", "tnd2-ddb-default", FAIL, "DynamoDB.2"),
    ("dynamodb_table_pitr_enabled", "tnd2-ddb-kms", PASS, "PITR on"),
    ("dynamodb_table_kms_cmk", "tnd2-ddb-default", FAIL, "AWS owned key"),
    ("dynamodb_table_kms_cmk", "tnd2-ddb-kms", PASS, "SSEType KMS"),
    ("dynamodb_table_deletion_protection", "tnd2-ddb-kms", PASS, "DynamoDB.6"),
    ("dynamodb_table_deletion_protection", "tnd2-ddb-default", FAIL, "DynamoDB.6"),
    # --- SNS / SQS
    ("sns_topic_encrypted", "tnd2-topic-aws-managed-key", PASS, "SNS.1: alias/aws/sns is KMS encryption"),
    ("sns_topic_encrypted", "tnd2-topic-plain", FAIL, "SNS.1"),
    ("sqs_queue_encrypted", "tnd2-queue-sse-sqs", PASS, "SQS.1: SSE-SQS counts"),
    ("sqs_queue_encrypted", "tnd2-queue-kms", PASS, "SSE-KMS"),
    ("sqs_queue_encrypted", "tnd2-queue-plain", FAIL, "SSE off"),
    ("sqs_queue_secure_transport", "tnd2-queue-tls-ok", PASS, "denies aws:SecureTransport false"),
    ("sqs_queue_secure_transport", "tnd2-queue-tls-lowercase", PASS, "condition keys are case-insensitive"),
    ("sqs_queue_secure_transport", "tnd2-queue-plain", FAIL, "no policy"),
    # --- Lambda
    ("lambda_function_env_no_plaintext_secrets", "tnd2-fn-password-env", FAIL, "a password in plain text"),
    ("lambda_function_env_no_plaintext_secrets", "tnd2-fn-key-in-plain-name", FAIL, "an access key id by shape"),
    ("lambda_function_env_no_plaintext_secrets", "tnd2-fn-secret-arn-env", PASS, "a reference, not a secret"),
    ("lambda_function_env_no_plaintext_secrets", "tnd2-fn-plain-env", PASS, "no secret"),
    ("lambda_function_supported_runtime", "tnd2-fn-python38", FAIL, "python3.8 deprecated 2024"),
    ("lambda_function_supported_runtime", "tnd2-fn-nodejs16", FAIL, "nodejs16.x deprecated 2024"),
    ("lambda_function_supported_runtime", "tnd2-fn-python313", PASS, "supported"),
    ("lambda_function_runtime_not_obsolete", "tnd2-fn-python38", FAIL, "obsolete"),
    # --- KMS key kinds: automatic rotation exists for symmetric AWS_KMS keys only
    ("kms_cmk_rotation_enabled", "tnd2-key-symmetric", FAIL, "KMS.4"),
    ("kms_cmk_rotation_enabled", "tnd2-key-hmac", PASS, "HMAC keys cannot rotate"),
    ("kms_cmk_rotation_enabled", "tnd2-key-ecc", PASS, "asymmetric keys cannot rotate"),
    ("kms_cmk_rotation_enabled", "tnd2-key-external", PASS, "imported key material: no automatic rotation"),
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
        if last == token:
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
    assert not wrong, f"{len(wrong)} wrong verdicts of {len(rows)}:\n" + "\n".join(wrong)


def _reset(m: MotoServer) -> None:
    req = urllib.request.Request(m.endpoint_url + "/moto-api/reset", method="POST")
    with urllib.request.urlopen(req, timeout=120) as resp:
        resp.read()


@pytest.mark.timeout(900)
def test_traps_and_decoys_2(moto_server: MotoServer, tmp_path: Path) -> None:
    _reset(moto_server)
    ids = seed(moto_server)
    by_policy = _scan(moto_server, tmp_path / "findings.jsonl", SERVICES)
    _check(by_policy, ids, EXPECTED)


# ---------------------------------------------------------------- account- and region-wide settings
# One account each (moto reset between them): a region has one verdict, drawn from all its trails.

MGMT, MULTI = "cloudtrail_management_events_logged_in_region", "cloudtrail_multi_region_enabled"
S3_READ, S3_WRITE = "cloudtrail_s3_data_events_read", "cloudtrail_s3_data_events_write"
_S3_DATA = [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]
_ADV_S3_DATA = [
    {"Field": "eventCategory", "Equals": ["Data"]},
    {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
]

#: scenario → (multi-region trail?, event selectors (None: the default), rows on region-settings)
TRAIL_SCENARIOS: dict[str, tuple[bool, dict[str, Any] | None, list[tuple[str, int, str]]]] = {
    "default-selectors": (
        True,
        None,
        [
            (MGMT, PASS, "a new trail logs all management events"),
            (MULTI, PASS, "CloudTrail.1"),
            (S3_READ, FAIL, "no data events by default"),
        ],
    ),
    "single-region": (
        False,
        None,
        [
            (MULTI, FAIL, "CloudTrail.1 asks for a multi-region trail"),
            (MGMT, PASS, "the region's own trail logs its management events"),
            ("cloudtrail_enabled_in_region", PASS, "a trail logs in the region"),
        ],
    ),
    # 'logging' but recording no management event: only S3 data events
    "classic-data-only": (
        True,
        {"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": False, "DataResources": _S3_DATA}]},
        [
            (MGMT, FAIL, "IncludeManagementEvents false"),
            (MULTI, FAIL, "CloudTrail.1 needs management events"),
            (S3_READ, PASS, "S3 object reads logged"),
            (S3_WRITE, PASS, "S3 object writes logged"),
        ],
    ),
    "classic-write-only": (
        True,
        {
            "EventSelectors": [
                {"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True, "DataResources": _S3_DATA}
            ]
        },
        [
            (MGMT, FAIL, "read management events not logged"),
            (MULTI, FAIL, "CloudTrail.1 needs ReadWriteType All"),
            (S3_READ, FAIL, "S3 object reads not logged (S3.23)"),
            (S3_WRITE, PASS, "S3 object writes logged (S3.22)"),
        ],
    ),
    # an advanced selector's Name is a free label: this one records data events only
    "advanced-named-management-but-data": (
        True,
        {"AdvancedEventSelectors": [{"Name": "Management events selector", "FieldSelectors": _ADV_S3_DATA}]},
        [
            (MGMT, FAIL, "eventCategory Data: no management event recorded"),
            (MULTI, FAIL, "no management events"),
            (S3_READ, PASS, "S3 data events, read and write"),
        ],
    ),
    "advanced-management-any-name": (
        True,
        {
            "AdvancedEventSelectors": [
                {"Name": "audit", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}
            ]
        },
        [
            (MGMT, PASS, "eventCategory Management, read and write"),
            (MULTI, PASS, "CloudTrail.1"),
            (S3_READ, FAIL, "no data events"),
        ],
    ),
}


_STRONG = {
    "MinimumPasswordLength": 14,
    "RequireSymbols": True,
    "RequireNumbers": True,
    "RequireUppercaseCharacters": True,
    "RequireLowercaseCharacters": True,
    "PasswordReusePrevention": 24,
    "MaxPasswordAge": 90,
}
#: scenario → (password policy or None, rows on account-settings)
PASSWORD_SCENARIOS: dict[str, tuple[dict[str, Any] | None, list[tuple[str, int, str]]]] = {
    "at-the-limits": (
        _STRONG,
        [
            ("iam_password_policy_min_length_14", PASS, "IAM.15: 14 is at least 14"),
            ("iam_password_policy_reuse_24", PASS, "IAM.16: 24 remembered"),
            ("iam_password_policy_expires_90", PASS, "IAM.17: 90 days or less"),
            ("iam_password_policy_symbol", PASS, "IAM.13"),
            ("iam_password_policy_fsbp", PASS, "IAM.7"),
            ("iam_password_policy_strong", PASS, "IAM.10"),
        ],
    ),
    "one-past-the-limits": (
        {
            **_STRONG,
            "MinimumPasswordLength": 13,
            "PasswordReusePrevention": 23,
            "MaxPasswordAge": 91,
            "RequireSymbols": False,
        },
        [
            ("iam_password_policy_min_length_14", FAIL, "13 characters"),
            ("iam_password_policy_reuse_24", FAIL, "23 remembered"),
            ("iam_password_policy_expires_90", FAIL, "91 days"),
            ("iam_password_policy_symbol", FAIL, "no symbol required"),
            ("iam_password_policy_uppercase", PASS, "uppercase still required"),
            ("iam_password_policy_fsbp", FAIL, "IAM.7 requires symbols"),
            ("iam_password_policy_strong", FAIL, "IAM.10: 91 days"),
        ],
    ),
    "no-policy": (
        None,
        [
            ("iam_password_policy_min_length_14", FAIL, "the default policy: 8 characters"),
            ("iam_password_policy_reuse_24", FAIL, "no reuse prevention"),
            ("iam_password_policy_expires_90", FAIL, "passwords never expire"),
        ],
    ),
}


#: each trail scenario's account also carries one password policy (one scan for both: the catalogue loads per scan)
_PASSWORD_IN = {
    "default-selectors": "at-the-limits",
    "classic-data-only": "one-past-the-limits",
    "single-region": "no-policy",
}


@pytest.mark.parametrize("scenario", list(TRAIL_SCENARIOS))
def test_account_settings(moto_server: MotoServer, tmp_path: Path, scenario: str) -> None:
    multi, selectors, rows = TRAIL_SCENARIOS[scenario]
    _reset(moto_server)
    moto_server.boto3_client("s3", REGION).create_bucket(Bucket="tnd2-sel-logs")
    ct = moto_server.boto3_client("cloudtrail", REGION)
    ct.create_trail(Name="tnd2-sel", S3BucketName="tnd2-sel-logs", IsMultiRegionTrail=multi)
    ct.start_logging(Name="tnd2-sel")
    if selectors is not None:
        ct.put_event_selectors(TrailName="tnd2-sel", **selectors)
    expected = [(pid, "region-settings", want, why) for pid, want, why in rows]
    expected.append(("cloudtrail_trail_logging", "tnd2-sel", PASS, "logging"))
    services = "cloudtrail"
    if scenario in _PASSWORD_IN:
        services += ",iam"
        policy, password_rows = PASSWORD_SCENARIOS[_PASSWORD_IN[scenario]]
        if policy is not None:
            moto_server.boto3_client("iam", REGION).update_account_password_policy(**policy)
        expected += [(pid, "account-settings", want, why) for pid, want, why in password_rows]
    _check(_scan(moto_server, tmp_path / "settings.jsonl", services), {}, expected)
