"""Traps and decoys for storage, data and logging services (see crossref_seed.py)."""

from __future__ import annotations

import json
import zipfile
from functools import partial
from io import BytesIO
from typing import Any

from bench.scan.crossref_seed import TRUST_EC2, Seeder
from cspm_stream.testing.moto import fix_s3control_host

DENY_HTTP = {
    "Sid": "DenyHttp",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def _bucket_policy(name: str, st: dict[str, Any]) -> str:
    st = dict(st, Resource=[f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"])
    return json.dumps({"Version": "2012-10-17", "Statement": [st]})


def _s3control(s: Seeder) -> Any:
    c = s.client("s3control")
    fix_s3control_host(c)  # moto serves s3control without the account-id host prefix
    return c


def seed_s3(s: Seeder) -> None:
    s3 = s.client("s3")
    names = [
        "xr-plain",
        "xr-hardened",
        "xr-deny-put-only",
        "xr-public-read-acl",
        "xr-bpa-partial",
        "xr-lifecycle-off",
        "xr-locked",
    ]
    for n in names:
        kw = {"ObjectLockEnabledForBucket": True} if n == "xr-locked" else {}
        s.do(f"bucket:{n}", partial(s3.create_bucket, Bucket=n, **kw))
    h = "xr-hardened"
    s.do("s3:versioning", lambda: s3.put_bucket_versioning(Bucket=h, VersioningConfiguration={"Status": "Enabled"}))
    s.do(
        "s3:kms",
        lambda: s3.put_bucket_encryption(
            Bucket=h,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
            },
        ),
    )
    s.do("s3:log-target-acl", lambda: s3.put_bucket_acl(Bucket="xr-plain", ACL="log-delivery-write"))
    s.do(
        "s3:logging",
        lambda: s3.put_bucket_logging(
            Bucket=h, BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": "xr-plain", "TargetPrefix": "h/"}}
        ),
    )
    s.do(
        "s3:lifecycle",
        lambda: s3.put_bucket_lifecycle_configuration(
            Bucket=h,
            LifecycleConfiguration={
                "Rules": [{"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 365}}]
            },
        ),
    )
    s.do(
        "s3:lifecycle-disabled",
        lambda: s3.put_bucket_lifecycle_configuration(
            Bucket="xr-lifecycle-off",
            LifecycleConfiguration={
                "Rules": [{"ID": "off", "Status": "Disabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 30}}]
            },
        ),
    )
    s.do(
        "s3:ownership-enforced",
        lambda: s3.put_bucket_ownership_controls(
            Bucket=h, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        ),
    )
    s.do(
        "s3:bpa-all",
        lambda: s3.put_public_access_block(
            Bucket=h,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        ),
    )
    s.do(
        "s3:bpa-partial",
        lambda: s3.put_public_access_block(
            Bucket="xr-bpa-partial",
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": False,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": False,
                "RestrictPublicBuckets": True,
            },
        ),
    )
    s.do("s3:policy-deny-http", lambda: s3.put_bucket_policy(Bucket=h, Policy=_bucket_policy(h, DENY_HTTP)))
    s.do(
        "s3:policy-deny-put-only",
        lambda: s3.put_bucket_policy(
            Bucket="xr-deny-put-only",
            Policy=_bucket_policy(
                "xr-deny-put-only",
                dict(DENY_HTTP, Principal={"AWS": "arn:aws:iam::123456789012:root"}, Action="s3:PutObject"),
            ),
        ),
    )
    s.do("s3:acl-public-read", lambda: s3.put_bucket_acl(Bucket="xr-public-read-acl", ACL="public-read"))
    s.do(
        "s3:account-bpa-partial",
        lambda: _s3control(s).put_public_access_block(
            AccountId="123456789012",
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": False,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": False,
                "RestrictPublicBuckets": True,
            },
        ),
    )


def seed_messaging(s: Seeder) -> None:
    kms = s.client("kms")
    rot = s.do("kms:rotating", lambda: kms.create_key(Description="rotating")["KeyMetadata"]["KeyId"])
    if rot:
        s.do("kms:enable-rotation", lambda: kms.enable_key_rotation(KeyId=rot))
    s.do("kms:not-rotating", lambda: kms.create_key(Description="static"))
    dis = s.do("kms:disabled", lambda: kms.create_key(Description="disabled")["KeyMetadata"]["KeyId"])
    if dis:
        s.do("kms:disable", lambda: kms.disable_key(KeyId=dis))
    pend = s.do("kms:pending-deletion", lambda: kms.create_key(Description="doomed")["KeyMetadata"]["KeyId"])
    if pend:
        s.do("kms:schedule-deletion", lambda: kms.schedule_key_deletion(KeyId=pend, PendingWindowInDays=7))
    s.do("kms:asymmetric", lambda: kms.create_key(Description="signing", KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY"))
    sqs = s.client("sqs")
    s.do("sqs:kms", lambda: sqs.create_queue(QueueName="xr-kms", Attributes={"KmsMasterKeyId": "alias/aws/sqs"}))
    s.do("sqs:sse-sqs", lambda: sqs.create_queue(QueueName="xr-sse-sqs", Attributes={"SqsManagedSseEnabled": "true"}))
    s.do("sqs:plain", lambda: sqs.create_queue(QueueName="xr-plain"))
    sns = s.client("sns")
    s.do("sns:kms", lambda: sns.create_topic(Name="xr-kms", Attributes={"KmsMasterKeyId": "alias/aws/sns"}))
    s.do("sns:plain", lambda: sns.create_topic(Name="xr-plain"))
    ddb = s.client("dynamodb")
    base = {
        "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    s.do(
        "ddb:hardened",
        lambda: ddb.create_table(
            TableName="xr-hardened",
            DeletionProtectionEnabled=True,
            SSESpecification={"Enabled": True, "SSEType": "KMS"},
            **base,
        ),
    )
    s.do(
        "ddb:pitr",
        lambda: ddb.update_continuous_backups(
            TableName="xr-hardened", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        ),
    )
    s.do("ddb:plain", lambda: ddb.create_table(TableName="xr-plain", **base))
    sm = s.client("secretsmanager")
    s.do(
        "secret:cmk",
        lambda: sm.create_secret(Name="xr-cmk", SecretString="x", KmsKeyId=rot or "alias/aws/secretsmanager"),
    )
    s.do("secret:default", lambda: sm.create_secret(Name="xr-default", SecretString="y"))


def seed_logging(s: Seeder) -> None:
    s3, logs = s.client("s3"), s.client("logs")
    s.do("bucket:trail", lambda: s3.create_bucket(Bucket="xr-trail-logs"))
    lg = s.do("logs:trail-group", lambda: logs.create_log_group(logGroupName="xr-trail"))
    ct = s.client("cloudtrail")
    kw = (
        {
            "CloudWatchLogsLogGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:xr-trail:*",
            "CloudWatchLogsRoleArn": "arn:aws:iam::123456789012:role/trail",
        }
        if lg is not None
        else {}
    )
    t = s.do(
        "trail:multi-region",
        lambda: ct.create_trail(
            Name="xr-org",
            S3BucketName="xr-trail-logs",
            IsMultiRegionTrail=True,
            EnableLogFileValidation=True,
            KmsKeyId="alias/aws/s3",
            **kw,
        ),
    )
    if t:
        s.do("trail:logging", lambda: ct.start_logging(Name="xr-org"))
    ct_eu = s.client("cloudtrail", "eu-west-1")
    s.do(
        "bucket:trail-eu",
        lambda: s.client("s3", "eu-west-1").create_bucket(
            Bucket="xr-trail-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        ),
    )
    s.do("trail:single-region-stopped", lambda: ct_eu.create_trail(Name="xr-local", S3BucketName="xr-trail-eu"))
    cfg = s.client("config")
    s.do(
        "config:recorder",
        lambda: cfg.put_configuration_recorder(
            ConfigurationRecorder={
                "name": "default",
                "roleARN": "arn:aws:iam::123456789012:role/config",
                "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
            }
        ),
    )
    s.do(
        "config:channel",
        lambda: cfg.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "xr-trail-logs"}),
    )
    s.do("config:start", lambda: cfg.start_configuration_recorder(ConfigurationRecorderName="default"))
    gd = s.client("guardduty")
    s.do(
        "guardduty:detector-partial",
        lambda: gd.create_detector(
            Enable=True, DataSources={"S3Logs": {"Enable": False}, "Kubernetes": {"AuditLogs": {"Enable": True}}}
        ),
    )


def _zip() -> bytes:
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


def seed_compute(s: Seeder) -> None:
    iam = s.client("iam")
    role = s.do(
        "role:lambda",
        lambda: iam.create_role(
            RoleName="xr-lambda",
            AssumeRolePolicyDocument=json.dumps(
                {
                    **TRUST_EC2,
                    "Statement": [dict(TRUST_EC2["Statement"][0], Principal={"Service": "lambda.amazonaws.com"})],
                }
            ),
        )["Role"]["Arn"],
    )
    lam = s.client("lambda")
    for name, rt in (("xr-old", "python3.8"), ("xr-new", "python3.12"), ("xr-py39", "python3.9")):
        s.do(
            f"lambda:{name}",
            partial(
                lam.create_function,
                FunctionName=name,
                Runtime=rt,
                Role=role or "arn:aws:iam::123456789012:role/x",
                Handler="handler.handler",
                Code={"ZipFile": _zip()},
            ),
        )
    s.do("lambda:url-public", lambda: lam.create_function_url_config(FunctionName="xr-new", AuthType="NONE"))
    rds = s.client("rds")
    s.do(
        "rds:postgres-default",
        lambda: rds.create_db_instance(
            DBInstanceIdentifier="xr-pg",
            Engine="postgres",
            DBInstanceClass="db.t3.micro",
            MasterUsername="postgres",
            MasterUserPassword="secret-password-1",
            AllocatedStorage=20,
            PubliclyAccessible=True,
            BackupRetentionPeriod=0,
            Port=5432,
        ),
    )
    s.do(
        "rds:mysql-hardened",
        lambda: rds.create_db_instance(
            DBInstanceIdentifier="xr-mysql",
            Engine="mysql",
            DBInstanceClass="db.t3.micro",
            MasterUsername="orders_admin",
            MasterUserPassword="secret-password-1",
            AllocatedStorage=20,
            StorageEncrypted=True,
            MultiAZ=True,
            BackupRetentionPeriod=14,
            Port=3307,
            DeletionProtection=True,
            AutoMinorVersionUpgrade=True,
            CopyTagsToSnapshot=True,
            EnableIAMDatabaseAuthentication=True,
            EnableCloudwatchLogsExports=["error"],
        ),
    )
    s.do(
        "rds:aurora-cluster",
        lambda: rds.create_db_cluster(
            DBClusterIdentifier="xr-aurora",
            Engine="aurora-postgresql",
            MasterUsername="admin",
            MasterUserPassword="secret-password-1",
            StorageEncrypted=False,
        ),
    )
    s.do(
        "rds:multi-az-cluster",
        lambda: rds.create_db_cluster(
            DBClusterIdentifier="xr-maz",
            Engine="mysql",
            DBClusterInstanceClass="db.m6gd.large",
            AllocatedStorage=100,
            StorageType="io1",
            Iops=1000,
            MasterUsername="orders_admin",
            MasterUserPassword="secret-password-1",
            AutoMinorVersionUpgrade=False,
        ),
    )
    efs = s.client("efs")
    fs = s.do("efs:encrypted", lambda: efs.create_file_system(CreationToken="xr-enc", Encrypted=True)["FileSystemId"])
    if fs:
        s.do("efs:backup-on", lambda: efs.put_backup_policy(FileSystemId=fs, BackupPolicy={"Status": "ENABLED"}))
    s.do("efs:plain", lambda: efs.create_file_system(CreationToken="xr-plain"))
    ecr = s.client("ecr")
    s.do(
        "ecr:hardened",
        lambda: ecr.create_repository(
            repositoryName="xr-hardened",
            imageTagMutability="IMMUTABLE",
            imageScanningConfiguration={"scanOnPush": True},
        ),
    )
    s.do("ecr:plain", lambda: ecr.create_repository(repositoryName="xr-plain"))
