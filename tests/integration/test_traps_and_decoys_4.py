"""A fourth account seeded with traps and decoys, data and compute side: Glue (catalog and connection-password
encryption, security configurations), SageMaker notebooks and endpoint configurations, ElastiCache, DMS, AWS
Backup plans, EFS access points and backup policies, Athena workgroups, EMR (block public access, security
configurations), Data Firehose, DocumentDB, Neptune, Amazon MQ, CodeBuild, Transfer Family and MemoryDB.

Same rule as ``test_traps_and_decoys.py``: each row of ``EXPECTED`` is one verdict as AWS means it (the comment
names the AWS meaning or the Security Hub control); a failing row is a product bug, never a row to adjust. Rows
moto cannot express are left out rather than faked (see the notes above ``EXPECTED``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cspm_stream.testing import MotoServer
from tests.integration.test_traps_and_decoys_2 import _reset, _scan
from tests.integration.test_traps_and_decoys_3 import _check, _subnets

pytestmark = pytest.mark.moto

REGION = "us-east-1"
ACCT = "123456789012"  # moto's account
PASS, FAIL = 1, 3
SERVICES = (
    "glue,sagemaker,elasticache,dms,backup,efs,athena,emr,firehose,kinesis,docdb,neptune,mq,codebuild,transfer,memorydb"
)
ROLE = f"arn:aws:iam::{ACCT}:role/tnd4"


def _key(m: MotoServer, alias: str) -> str:
    kms = m.boto3_client("kms", REGION)
    arn: str = kms.create_key(Description=alias)["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName=f"alias/{alias}", TargetKeyId=arn)
    return arn


# ------------------------------------------------------------------------------------------------- Glue


def seed_glue(m: MotoServer, ids: dict[str, str]) -> None:
    glue = m.boto3_client("glue", REGION)
    # a catalog in use (one table), its metadata encrypted with a key named by alias, passwords returned in clear
    glue.create_database(DatabaseInput={"Name": "tnd4db"})
    glue.create_table(DatabaseName="tnd4db", TableInput={"Name": "t", "StorageDescriptor": {"Columns": []}})
    glue.put_data_catalog_encryption_settings(
        DataCatalogEncryptionSettings={
            "EncryptionAtRest": {"CatalogEncryptionMode": "SSE-KMS", "SseAwsKmsKeyId": "alias/tnd4-glue"},
            "ConnectionPasswordEncryption": {"ReturnConnectionPasswordEncrypted": False},
        }
    )
    _key(m, "tnd4-glue")
    jdbc = {"JDBC_CONNECTION_URL": "jdbc:postgresql://db.internal:5432/app", "USERNAME": "app", "PASSWORD": "x"}
    for name, extra in (
        ("tnd4-conn-ssl", {"JDBC_ENFORCE_SSL": "true"}),
        ("tnd4-conn-ssl-false", {"JDBC_ENFORCE_SSL": "false"}),
        ("tnd4-conn-default", {}),  # JDBC_ENFORCE_SSL omitted: SSL is not enforced
    ):
        glue.create_connection(
            ConnectionInput={"Name": name, "ConnectionType": "JDBC", "ConnectionProperties": {**jdbc, **extra}}
        )
        ids[name] = name
    key = _key(m, "tnd4-glue-sc")
    configs = {
        "tnd4-sc-all": {
            "S3Encryption": [{"S3EncryptionMode": "SSE-S3"}],
            "CloudWatchEncryption": {"CloudWatchEncryptionMode": "SSE-KMS", "KmsKeyArn": key},
            "JobBookmarksEncryption": {"JobBookmarksEncryptionMode": "CSE-KMS", "KmsKeyArn": key},
        },
        # a security configuration that encrypts S3 only: logs and bookmarks stay in clear
        "tnd4-sc-s3-only": {
            "S3Encryption": [{"S3EncryptionMode": "SSE-KMS", "KmsKeyArn": key}],
            "CloudWatchEncryption": {"CloudWatchEncryptionMode": "DISABLED"},
            "JobBookmarksEncryption": {"JobBookmarksEncryptionMode": "DISABLED"},
        },
    }
    for name, cfg in configs.items():
        glue.create_security_configuration(Name=name, EncryptionConfiguration=cfg)
    command = {"Name": "glueetl", "ScriptLocation": "s3://tnd4-scripts/job.py"}
    jobs: dict[str, dict[str, Any]] = {
        "tnd4-job-sc-all": {
            "SecurityConfiguration": "tnd4-sc-all",
            "DefaultArguments": {"--enable-continuous-cloudwatch-log": "true"},
        },
        "tnd4-job-sc-s3-only": {"SecurityConfiguration": "tnd4-sc-s3-only"},
        # no security configuration, but the job argument asks for SSE-S3 on the data it writes
        "tnd4-job-arg-sse-s3": {"DefaultArguments": {"--encryption-type": "sse-s3"}},
        "tnd4-job-plain": {"DefaultArguments": {"--enable-continuous-cloudwatch-log": "false"}},
    }
    for name, kw in jobs.items():
        glue.create_job(Name=name, Role=ROLE, Command=command, GlueVersion="4.0", **kw)
        ids[name] = name


# -------------------------------------------------------------------------------------------- SageMaker


def seed_sagemaker(m: MotoServer, ids: dict[str, str]) -> None:
    sm = m.boto3_client("sagemaker", REGION)
    ec2 = m.boto3_client("ec2", REGION)
    vpc, subs = _subnets(ec2)
    sg = ec2.create_security_group(GroupName="tnd4-nb", Description="tnd4", VpcId=vpc)["GroupId"]
    _key(m, "tnd4-sm")
    net = {"SubnetId": subs[0], "SecurityGroupIds": [sg]}
    notebooks: dict[str, dict[str, Any]] = {
        "tnd4-nb-defaults": {},  # DirectInternetAccess and RootAccess default to Enabled
        # in a VPC subnet, yet with SageMaker's own internet access still on
        "tnd4-nb-vpc-internet": {**net, "DirectInternetAccess": "Enabled", "RootAccess": "Disabled"},
        "tnd4-nb-locked": {
            **net,
            "DirectInternetAccess": "Disabled",
            "RootAccess": "Disabled",
            "KmsKeyId": "alias/tnd4-sm",
        },
    }
    for name, kw in notebooks.items():
        sm.create_notebook_instance(NotebookInstanceName=name, InstanceType="ml.t3.medium", RoleArn=ROLE, **kw)
        ids[name] = name
    sm.create_model(
        ModelName="tnd4-model",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": f"{ACCT}.dkr.ecr.{REGION}.amazonaws.com/m:1"},
    )
    variant = {"VariantName": "v", "ModelName": "tnd4-model", "InitialInstanceCount": 2, "InstanceType": "ml.m5.large"}
    for name, kw in (("tnd4-epc-alias-key", {"KmsKeyId": "alias/tnd4-sm"}), ("tnd4-epc-no-key", {})):
        sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[variant], **kw)
        ids[name] = name


# ------------------------------------------------------------------------------------------- ElastiCache


def seed_elasticache(m: MotoServer, ids: dict[str, str]) -> None:
    ec = m.boto3_client("elasticache", REGION)
    groups: dict[str, dict[str, Any]] = {
        # Redis OSS 5: AUTH is the only access control, and none is set
        "tnd4-rg-redis5-noauth": {"EngineVersion": "5.0.6"},
        # Redis OSS 7 without an AUTH token: ElastiCache.6 covers versions below 6 (RBAC from 6 on)
        "tnd4-rg-redis7-noauth": {"EngineVersion": "7.1", "SnapshotRetentionLimit": 7},
        # TLS on, but in "preferred" mode: plaintext connections are still accepted
        "tnd4-rg-tls-preferred": {
            "EngineVersion": "7.1",
            "TransitEncryptionEnabled": True,
            "TransitEncryptionMode": "preferred",
            "AtRestEncryptionEnabled": True,
        },
        "tnd4-rg-tls-required": {
            "EngineVersion": "7.1",
            "TransitEncryptionEnabled": True,
            "TransitEncryptionMode": "required",
            "AtRestEncryptionEnabled": True,
            "AuthToken": "a-long-auth-token-0123456789",
        },
    }
    for name, kw in groups.items():
        ec.create_replication_group(
            ReplicationGroupId=name,
            ReplicationGroupDescription=name,
            Engine="redis",
            CacheNodeType="cache.t3.micro",
            NumCacheClusters=2,
            **kw,
        )
        ids[name] = name
    # no subnet group named: the cluster lands in the "default" subnet group
    ec.create_cache_cluster(CacheClusterId="tnd4-mc-default-sng", Engine="memcached", CacheNodeType="cache.t3.micro")
    ids["tnd4-mc-default-sng"] = "tnd4-mc-default-sng"
    ec2 = m.boto3_client("ec2", REGION)
    _, subs = _subnets(ec2)
    ec.create_cache_subnet_group(CacheSubnetGroupName="tnd4-sng", CacheSubnetGroupDescription="x", SubnetIds=subs[:2])
    ec.create_cache_cluster(
        CacheClusterId="tnd4-mc-own-sng",
        Engine="memcached",
        CacheNodeType="cache.t3.micro",
        CacheSubnetGroupName="tnd4-sng",
        AutoMinorVersionUpgrade=False,
    )
    ids["tnd4-mc-own-sng"] = "tnd4-mc-own-sng"


# --------------------------------------------------------------------------------------------------- DMS


def seed_dms(m: MotoServer, ids: dict[str, str]) -> None:
    dms = m.boto3_client("dms", REGION)
    instances: dict[str, dict[str, Any]] = {
        "tnd4-dms-defaults": {},  # PubliclyAccessible defaults to true, MultiAZ to false
        "tnd4-dms-private": {"PubliclyAccessible": False, "MultiAZ": True, "AutoMinorVersionUpgrade": False},
    }
    for name, kw in instances.items():
        arn = dms.create_replication_instance(
            ReplicationInstanceIdentifier=name, ReplicationInstanceClass="dms.t3.micro", **kw
        )["ReplicationInstance"]["ReplicationInstanceArn"]
        ids[name] = arn.rsplit(":", 1)[-1]
    base = {"EngineName": "postgres", "ServerName": "db.internal", "Port": 5432, "DatabaseName": "app"}
    for name, kw in (
        ("tnd4-ep-ssl-none", {"SslMode": "none"}),
        ("tnd4-ep-ssl-require", {"SslMode": "require"}),
    ):
        arn = dms.create_endpoint(
            EndpointIdentifier=name, EndpointType="source", Username="u", Password="p", **base, **kw
        )["Endpoint"]["EndpointArn"]
        ids[name] = arn.rsplit(":", 1)[-1]


# ------------------------------------------------------------------------------------------ AWS Backup


def seed_backup(m: MotoServer, ids: dict[str, str]) -> None:
    b = m.boto3_client("backup", REGION)
    b.create_backup_vault(BackupVaultName="tnd4-vault")

    def rule(name: str, lifecycle: dict[str, int] | None) -> dict[str, Any]:
        r: dict[str, Any] = {"RuleName": name, "TargetBackupVaultName": "tnd4-vault"}
        if lifecycle is not None:
            r["Lifecycle"] = lifecycle
        return r

    plans = {
        "tnd4-plan-keep-forever": [rule("r", None)],  # no lifecycle: recovery points are kept indefinitely
        "tnd4-plan-cold-120": [rule("r", {"MoveToColdStorageAfterDays": 30, "DeleteAfterDays": 120})],
        "tnd4-plan-7-days": [rule("r", {"DeleteAfterDays": 7})],
        # the daily rule keeps 14 days, beside a monthly rule that keeps a year
        "tnd4-plan-one-short-rule": [rule("monthly", {"DeleteAfterDays": 365}), rule("daily", {"DeleteAfterDays": 14})],
    }
    for name, rules in plans.items():
        pid = b.create_backup_plan(BackupPlan={"BackupPlanName": name, "Rules": rules})["BackupPlanId"]
        ids[name] = pid


# --------------------------------------------------------------------------------------------------- EFS


def seed_efs(m: MotoServer, ids: dict[str, str]) -> None:
    efs = m.boto3_client("efs", REGION)

    def fs(name: str, **kw: Any) -> str:
        fid: str = efs.create_file_system(
            CreationToken=name, Encrypted=True, Tags=[{"Key": "Name", "Value": name}], **kw
        )["FileSystemId"]
        ids[name] = fid
        return fid

    posix = {"Uid": 1000, "Gid": 1000}
    scoped = {"Path": "/app", "CreationInfo": {"OwnerUid": 1000, "OwnerGid": 1000, "Permissions": "750"}}
    # an access point without RootDirectory exposes the file system's root "/"
    fid = fs("tnd4-efs-ap-no-root", Backup=True)
    efs.create_access_point(ClientToken="a", FileSystemId=fid, PosixUser=posix)
    fid = fs("tnd4-efs-ap-scoped")
    efs.create_access_point(ClientToken="b", FileSystemId=fid, PosixUser=posix, RootDirectory=scoped)
    # a scoped access point beside one that leaves the user identity to the client
    fid = fs("tnd4-efs-ap-one-no-user")
    efs.create_access_point(ClientToken="c", FileSystemId=fid, PosixUser=posix, RootDirectory=scoped)
    efs.create_access_point(ClientToken="d", FileSystemId=fid, RootDirectory={**scoped, "Path": "/other"})


# ------------------------------------------------------------------------------------------------ Athena


def seed_athena(m: MotoServer, ids: dict[str, str]) -> None:
    ath = m.boto3_client("athena", REGION)
    out = "s3://tnd4-athena-results/"
    groups: dict[str, dict[str, Any]] = {
        "tnd4-wg-enforced-kms": {
            "EnforceWorkGroupConfiguration": True,
            "PublishCloudWatchMetricsEnabled": True,
            "ResultConfiguration": {
                "OutputLocation": out,
                "EncryptionConfiguration": {"EncryptionOption": "SSE_KMS", "KmsKey": "alias/tnd4-athena"},
            },
        },
        # results encrypted by the workgroup, but clients may override the workgroup's settings
        "tnd4-wg-encrypted-not-enforced": {
            "EnforceWorkGroupConfiguration": False,
            "ResultConfiguration": {"OutputLocation": out, "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"}},
        },
        "tnd4-wg-enforced-plain": {
            "EnforceWorkGroupConfiguration": True,
            "ResultConfiguration": {"OutputLocation": out},
        },
    }
    for name, cfg in groups.items():
        ath.create_work_group(Name=name, Configuration=cfg)
        ath.start_query_execution(QueryString="SELECT 1", WorkGroup=name)
        ids[name] = name


# --------------------------------------------------------------------------------------------------- EMR

EMR_REGION = "region-settings"  # the aws.emr.region resource of us-east-1


def seed_emr(m: MotoServer, ids: dict[str, str]) -> None:
    emr = m.boto3_client("emr", REGION)
    # AWS's own default: public rules blocked, port 22 excepted
    emr.put_block_public_access_configuration(
        BlockPublicAccessConfiguration={
            "BlockPublicSecurityGroupRules": True,
            "PermittedPublicSecurityGroupRuleRanges": [{"MinRange": 22, "MaxRange": 22}],
        }
    )
    at_rest_only = {
        "EncryptionConfiguration": {
            "EnableAtRestEncryption": True,
            "EnableInTransitEncryption": False,
            "AtRestEncryptionConfiguration": {"S3EncryptionConfiguration": {"EncryptionMode": "SSE-S3"}},
        }
    }
    emr.create_security_configuration(Name="tnd4-emr-at-rest-only", SecurityConfiguration=json.dumps(at_rest_only))
    instances = {
        "MasterInstanceType": "m5.xlarge",
        "SlaveInstanceType": "m5.xlarge",
        "InstanceCount": 1,
        "KeepJobFlowAliveWhenNoSteps": True,
    }
    for name, kw in (
        ("tnd4-emr-sc-at-rest", {"SecurityConfiguration": "tnd4-emr-at-rest-only"}),
        ("tnd4-emr-no-sc", {}),
    ):
        cid = emr.run_job_flow(
            Name=name,
            ReleaseLabel="emr-7.1.0",
            Instances=instances,
            JobFlowRole="EMR_EC2_DefaultRole",
            ServiceRole="EMR_DefaultRole",
            **kw,
        )["JobFlowId"]
        ids[name] = cid


# ------------------------------------------------------------------------------------- Firehose, Kinesis


def seed_firehose(m: MotoServer, ids: dict[str, str]) -> None:
    fh = m.boto3_client("firehose", REGION)
    k = m.boto3_client("kinesis", REGION)
    s3dest = {"RoleARN": ROLE, "BucketARN": "arn:aws:s3:::tnd4-firehose"}
    for name in ("tnd4-src-encrypted", "tnd4-src-plain"):
        k.create_stream(StreamName=name, ShardCount=1)
    k.start_stream_encryption(StreamName="tnd4-src-encrypted", EncryptionType="KMS", KeyId="alias/aws/kinesis")
    for name, src in (
        ("tnd4-fh-from-encrypted-stream", "tnd4-src-encrypted"),
        ("tnd4-fh-from-plain-stream", "tnd4-src-plain"),
    ):
        fh.create_delivery_stream(
            DeliveryStreamName=name,
            DeliveryStreamType="KinesisStreamAsSource",
            KinesisStreamSourceConfiguration={
                "KinesisStreamARN": f"arn:aws:kinesis:{REGION}:{ACCT}:stream/{src}",
                "RoleARN": ROLE,
            },
            ExtendedS3DestinationConfiguration=s3dest,
        )
        ids[name] = name
    for name in ("tnd4-fh-direct-sse", "tnd4-fh-direct-plain"):
        fh.create_delivery_stream(
            DeliveryStreamName=name, DeliveryStreamType="DirectPut", ExtendedS3DestinationConfiguration=s3dest
        )
        ids[name] = name
    fh.start_delivery_stream_encryption(
        DeliveryStreamName="tnd4-fh-direct-sse",
        DeliveryStreamEncryptionConfigurationInput={"KeyType": "AWS_OWNED_CMK"},
    )


# ----------------------------------------------------------------------------------- DocumentDB, Neptune


def seed_docdb_neptune(m: MotoServer, ids: dict[str, str]) -> None:
    key = _key(m, "tnd4-db")
    nep = m.boto3_client("neptune", REGION)
    # slow-query logs exported, audit logs not
    nep.create_db_cluster(
        DBClusterIdentifier="tnd4-neptune-slowquery", Engine="neptune", EnableCloudwatchLogsExports=["slowquery"]
    )
    nep.create_db_cluster(
        DBClusterIdentifier="tnd4-neptune-hardened",
        Engine="neptune",
        EnableCloudwatchLogsExports=["audit"],
        BackupRetentionPeriod=7,
        DeletionProtection=True,
        StorageEncrypted=True,
        KmsKeyId=key,
    )
    for name in ("tnd4-neptune-slowquery", "tnd4-neptune-hardened"):
        ids[name] = name


# ------------------------------------------------------------------------------------- MQ, CodeBuild, ...


def seed_mq(m: MotoServer, ids: dict[str, str]) -> None:
    mq = m.boto3_client("mq", REGION)
    users = [{"Username": "admin", "Password": "Not-a-secret-1234"}]
    brokers: dict[str, dict[str, Any]] = {
        # general logs on, audit logs off
        "tnd4-mq-activemq-public": {
            "EngineType": "ACTIVEMQ",
            "EngineVersion": "5.18",
            "PubliclyAccessible": True,
            "AutoMinorVersionUpgrade": False,
            "Logs": {"General": True, "Audit": False},
        },
        # RabbitMQ has no audit log: MQ.2 is about ActiveMQ brokers
        "tnd4-mq-rabbit-private": {
            "EngineType": "RABBITMQ",
            "EngineVersion": "3.13",
            "PubliclyAccessible": False,
            "AutoMinorVersionUpgrade": True,
            "Logs": {"General": True},
        },
    }
    for name, kw in brokers.items():
        bid = mq.create_broker(
            BrokerName=name, DeploymentMode="SINGLE_INSTANCE", HostInstanceType="mq.t3.micro", Users=users, **kw
        )["BrokerId"]
        ids[name] = bid


def seed_codebuild(m: MotoServer, ids: dict[str, str]) -> None:
    cb = m.boto3_client("codebuild", REGION)
    src = {"type": "GITHUB", "location": "https://github.com/tnd4/app.git"}
    arts = {"type": "NO_ARTIFACTS"}
    cw_on = {"cloudWatchLogs": {"status": "ENABLED"}}

    def env(**kw: Any) -> dict[str, Any]:
        return {
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/standard:7.0",
            "computeType": "BUILD_GENERAL1_SMALL",
            **kw,
        }

    projects: dict[str, dict[str, Any]] = {
        "tnd4-cb-privileged": {"environment": env(privilegedMode=True), "logsConfig": cw_on},
        "tnd4-cb-secret-plaintext": {
            "environment": env(
                environmentVariables=[
                    {
                        "name": "AWS_SECRET_ACCESS_KEY",
                        "value": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                        "type": "PLAINTEXT",
                    }
                ]
            ),
            "logsConfig": cw_on,
        },
        # the value is the name of an SSM parameter, resolved at build time
        "tnd4-cb-secret-ssm-ref": {
            "environment": env(
                environmentVariables=[{"name": "DB_PASSWORD", "value": "/prod/db/password", "type": "PARAMETER_STORE"}]
            ),
            "logsConfig": cw_on,
        },
        # logs to S3 only, with encryption switched off
        "tnd4-cb-s3-logs-unencrypted": {
            "environment": env(),
            "logsConfig": {
                "cloudWatchLogs": {"status": "DISABLED"},
                "s3Logs": {"status": "ENABLED", "location": "tnd4-cb-logs/p", "encryptionDisabled": True},
            },
        },
        "tnd4-cb-logs-off": {
            "environment": env(),
            "logsConfig": {"cloudWatchLogs": {"status": "DISABLED"}, "s3Logs": {"status": "DISABLED"}},
        },
        # a personal access token in the clone URL
        "tnd4-cb-url-token": {
            "environment": env(),
            "logsConfig": cw_on,
            "source": {"type": "GITHUB", "location": "https://tnd4:ghp_0123456789abcdef@github.com/tnd4/app.git"},
        },
    }
    for name, kw in projects.items():
        cb.create_project(name=name, source=kw.pop("source", src), artifacts=arts, serviceRole=ROLE, **kw)
        ids[name] = name


def seed_transfer(m: MotoServer, ids: dict[str, str]) -> None:
    tr = m.boto3_client("transfer", REGION)
    ec2 = m.boto3_client("ec2", REGION)
    vpc, subs = _subnets(ec2)
    vpc_ep = {"EndpointType": "VPC", "EndpointDetails": {"VpcId": vpc, "SubnetIds": subs[:1]}}
    cert = f"arn:aws:acm:{REGION}:{ACCT}:certificate/tnd4"
    servers: dict[str, dict[str, Any]] = {
        "tnd4-tr-sftp-public": {"Protocols": ["SFTP"], "EndpointType": "PUBLIC"},
        "tnd4-tr-ftp-in-vpc": {"Protocols": ["SFTP", "FTP"], **vpc_ep},
        # FTPS is FTP over TLS
        "tnd4-tr-ftps": {"Protocols": ["FTPS"], "Certificate": cert, **vpc_ep},
    }
    for name, kw in servers.items():
        sid = tr.create_server(Tags=[{"Key": "Name", "Value": name}], **kw)["ServerId"]
        ids[name] = sid


def seed_memorydb(m: MotoServer, ids: dict[str, str]) -> None:
    mdb = m.boto3_client("memorydb", REGION)
    for name, tls in (("tnd4-mdb-tls-default", None), ("tnd4-mdb-tls-off", False)):
        kw = {} if tls is None else {"TLSEnabled": tls}
        mdb.create_cluster(ClusterName=name, NodeType="db.t4g.small", ACLName="open-access", **kw)
        ids[name] = name


def seed(m: MotoServer) -> dict[str, str]:
    ids: dict[str, str] = {}
    for fn in (
        seed_glue,
        seed_sagemaker,
        seed_elasticache,
        seed_dms,
        seed_backup,
        seed_efs,
        seed_athena,
        seed_emr,
        seed_firehose,
        seed_docdb_neptune,
        seed_mq,
        seed_codebuild,
        seed_transfer,
        seed_memorydb,
    ):
        fn(m, ids)
    return ids


#: Left out, moto cannot express them: the Glue Data Catalog rows (SearchTables is not implemented, so "catalog in
#: use" is unreadable), ElastiCache.6 AUTH (moto creates no member clusters, so a group's engine version is
#: unreadable), ElastiCache.7 default subnet group and the unspecified defaults of DMS and SageMaker (moto returns
#: no CacheSubnetGroupName / PubliclyAccessible / AutoMinorVersionUpgrade / RootAccess where AWS returns "default",
#: true, true, "Enabled"), the AWS Backup vault's default key (AWS encrypts every vault, with aws/backup when none is
#: given; moto returns no EncryptionKeyArn), vault access policies (GetBackupVaultAccessPolicy answers 404), DocumentDB
#: (moto's DocDB refuses Engine "docdb"), Neptune IAM auth (refused by moto) and CodeBuild report groups (500).
EXPECTED: list[tuple[str, str, int, str]] = [
    # --- Glue: connections and security configurations
    ("glue_database_connections_ssl_enabled", "tnd4-conn-ssl", PASS, "JDBC_ENFORCE_SSL true"),
    ("glue_database_connections_ssl_enabled", "tnd4-conn-ssl-false", FAIL, "the string 'false' is off"),
    ("glue_database_connections_ssl_enabled", "tnd4-conn-default", FAIL, "omitted: SSL not enforced (Glue docs)"),
    (
        "glue_etl_jobs_amazon_s3_encryption_enabled",
        "tnd4-job-sc-s3-only",
        PASS,
        "SSE-KMS in the security configuration",
    ),
    (
        "glue_etl_jobs_amazon_s3_encryption_enabled",
        "tnd4-job-arg-sse-s3",
        PASS,
        "--encryption-type sse-s3 job argument",
    ),
    ("glue_etl_jobs_amazon_s3_encryption_enabled", "tnd4-job-plain", FAIL, "neither"),
    ("glue_etl_jobs_cloudwatch_logs_encryption_enabled", "tnd4-job-sc-s3-only", FAIL, "a security config, CW DISABLED"),
    ("glue_etl_jobs_cloudwatch_logs_encryption_enabled", "tnd4-job-sc-all", PASS, "SSE-KMS for logs"),
    ("glue_etl_jobs_cloudwatch_logs_encryption_enabled", "tnd4-job-arg-sse-s3", FAIL, "the S3 argument covers S3 only"),
    ("glue_etl_jobs_job_bookmark_encryption_enabled", "tnd4-job-sc-s3-only", FAIL, "bookmarks DISABLED"),
    ("glue_etl_jobs_job_bookmark_encryption_enabled", "tnd4-job-sc-all", PASS, "CSE-KMS bookmarks"),
    ("glue_etl_jobs_logging_enabled", "tnd4-job-sc-all", PASS, "continuous logging 'true'"),
    ("glue_etl_jobs_logging_enabled", "tnd4-job-plain", FAIL, "the string 'false'"),
    # --- SageMaker notebooks and endpoint configurations
    (
        "sagemaker_notebook_instance_without_direct_internet_access_configured",
        "tnd4-nb-defaults",
        FAIL,
        "SageMaker.1: default Enabled",
    ),
    (
        "sagemaker_notebook_instance_without_direct_internet_access_configured",
        "tnd4-nb-vpc-internet",
        FAIL,
        "SageMaker.1: in a VPC, still direct",
    ),
    ("sagemaker_notebook_instance_without_direct_internet_access_configured", "tnd4-nb-locked", PASS, "SageMaker.1"),
    ("sagemaker_notebook_instance_vpc_settings_configured", "tnd4-nb-vpc-internet", PASS, "SageMaker.2: in a subnet"),
    ("sagemaker_notebook_instance_vpc_settings_configured", "tnd4-nb-defaults", FAIL, "SageMaker.2"),
    ("sagemaker_notebook_instance_root_access_disabled", "tnd4-nb-locked", PASS, "SageMaker.3: Disabled"),
    ("sagemaker_notebook_instance_encryption_enabled", "tnd4-nb-locked", PASS, "a KMS key named by alias is a key"),
    ("sagemaker_notebook_instance_encryption_enabled", "tnd4-nb-defaults", FAIL, "no KmsKeyId"),
    ("sagemaker_endpoint_config_kms_encryption_enabled", "tnd4-epc-alias-key", PASS, "KmsKeyId as an alias"),
    ("sagemaker_endpoint_config_kms_encryption_enabled", "tnd4-epc-no-key", FAIL, "no KmsKeyId"),
    # --- ElastiCache
    (
        "elasticache_redis_cluster_in_transit_encryption_enabled",
        "tnd4-rg-tls-preferred",
        PASS,
        "ElastiCache.5 reads the flag",
    ),
    ("elasticache_redis_cluster_in_transit_encryption_enabled", "tnd4-rg-redis5-noauth", FAIL, "ElastiCache.5"),
    (
        "elasticache_redis_cluster_in_transit_encryption_required",
        "tnd4-rg-tls-preferred",
        FAIL,
        "preferred accepts plaintext",
    ),
    (
        "elasticache_redis_cluster_in_transit_encryption_required",
        "tnd4-rg-tls-required",
        PASS,
        "required drops plaintext",
    ),
    ("elasticache_redis_cluster_in_transit_encryption_required", "tnd4-rg-redis7-noauth", FAIL, "TLS off"),
    ("elasticache_redis_cluster_rest_encryption_enabled", "tnd4-rg-tls-required", PASS, "ElastiCache.4"),
    (
        "elasticache_redis_cluster_rest_encryption_enabled",
        "tnd4-rg-redis7-noauth",
        FAIL,
        "ElastiCache.4: off by default",
    ),
    ("elasticache_redis_cluster_backup_enabled", "tnd4-rg-redis7-noauth", PASS, "7 days of snapshots"),
    ("elasticache_redis_cluster_backup_enabled", "tnd4-rg-tls-required", FAIL, "SnapshotRetentionLimit 0: no backups"),
    ("elasticache_cluster_auto_minor_version_upgrade", "tnd4-mc-own-sng", FAIL, "ElastiCache.2: false"),
    # --- DMS
    ("dms_replication_instance_not_publicly_accessible", "tnd4-dms-private", PASS, "DMS.1"),
    ("dms_instance_multi_az_enabled", "tnd4-dms-private", PASS, "DMS.13"),
    ("dms_instance_multi_az_enabled", "tnd4-dms-defaults", FAIL, "DMS.13: single-AZ by default"),
    ("dms_instance_minor_version_upgrade_enabled", "tnd4-dms-private", FAIL, "DMS.6: false"),
    ("dms_endpoint_ssl_enabled", "tnd4-ep-ssl-none", FAIL, "DMS.9: SslMode none"),
    ("dms_endpoint_ssl_enabled", "tnd4-ep-ssl-require", PASS, "DMS.9: require"),
    # --- AWS Backup plans
    ("backup_plan_min_retention_35_days", "tnd4-plan-keep-forever", PASS, "no lifecycle: kept indefinitely"),
    ("backup_plan_min_retention_35_days", "tnd4-plan-cold-120", PASS, "deleted after 120 days"),
    ("backup_plan_min_retention_35_days", "tnd4-plan-7-days", FAIL, "7 days"),
    ("backup_plan_min_retention_35_days", "tnd4-plan-one-short-rule", FAIL, "the daily rule keeps 14 days"),
    # --- EFS access points and backups
    ("efs_access_point_enforce_root_directory", "tnd4-efs-ap-no-root", FAIL, "no RootDirectory: the root '/'"),
    ("efs_access_point_enforce_root_directory", "tnd4-efs-ap-scoped", PASS, "/app"),
    ("efs_access_point_enforce_root_directory", "tnd4-efs-ap-one-no-user", PASS, "/app and /other"),
    ("efs_access_point_enforce_user_identity", "tnd4-efs-ap-one-no-user", FAIL, "one access point without PosixUser"),
    ("efs_access_point_enforce_user_identity", "tnd4-efs-ap-no-root", PASS, "PosixUser set"),
    ("efs_backup_enabled", "tnd4-efs-ap-no-root", PASS, "Backup=true: backup policy ENABLED"),
    ("efs_backup_enabled", "tnd4-efs-ap-scoped", FAIL, "API default: automatic backups off"),
    # --- Athena
    ("athena_workgroup_encryption", "tnd4-wg-enforced-kms", PASS, "SSE_KMS"),
    ("athena_workgroup_encryption", "tnd4-wg-encrypted-not-enforced", PASS, "SSE_S3"),
    ("athena_workgroup_encryption", "tnd4-wg-enforced-plain", FAIL, "enforced, but no encryption"),
    ("athena_workgroup_enforce_configuration", "tnd4-wg-encrypted-not-enforced", FAIL, "clients may override"),
    ("athena_workgroup_enforce_configuration", "tnd4-wg-enforced-plain", PASS, "enforced"),
    # --- EMR
    ("emr_cluster_account_public_block_enabled", EMR_REGION, PASS, "EMR.2: blocked, port 22 excepted"),
    ("emr_block_public_access_no_port_exceptions", EMR_REGION, FAIL, "port 22 is a public exception"),
    ("emr_cluster_encryption_at_rest", "tnd4-emr-sc-at-rest", PASS, "EMR.3"),
    ("emr_cluster_encryption_at_rest", "tnd4-emr-no-sc", FAIL, "EMR.3: no security configuration"),
    ("emr_cluster_encryption_in_transit", "tnd4-emr-sc-at-rest", FAIL, "EMR.4: at rest only"),
    # --- Data Firehose
    ("firehose_stream_encrypted_at_rest", "tnd4-fh-from-encrypted-stream", PASS, "DataFirehose.1: source encrypts"),
    ("firehose_stream_encrypted_at_rest", "tnd4-fh-from-plain-stream", FAIL, "plain source stream"),
    ("firehose_stream_encrypted_at_rest", "tnd4-fh-direct-sse", PASS, "SSE with an AWS owned key"),
    ("firehose_stream_encrypted_at_rest", "tnd4-fh-direct-plain", FAIL, "DataFirehose.1"),
    # --- Neptune
    ("neptune_cluster_integration_cloudwatch_logs", "tnd4-neptune-slowquery", FAIL, "Neptune.2: slowquery, no audit"),
    ("neptune_cluster_integration_cloudwatch_logs", "tnd4-neptune-hardened", PASS, "Neptune.2"),
    ("neptune_cluster_backup_enabled", "tnd4-neptune-slowquery", FAIL, "Neptune.5: 1-day default"),
    ("neptune_cluster_backup_enabled", "tnd4-neptune-hardened", PASS, "Neptune.5: 7 days"),
    ("neptune_cluster_deletion_protection", "tnd4-neptune-slowquery", FAIL, "Neptune.4"),
    ("neptune_cluster_storage_encrypted", "tnd4-neptune-hardened", PASS, "Neptune.1"),
    ("neptune_cluster_storage_encrypted", "tnd4-neptune-slowquery", FAIL, "Neptune.1"),
    # --- Amazon MQ
    ("mq_broker_activemq_audit_logging", "tnd4-mq-activemq-public", FAIL, "MQ.2: general logs only"),
    ("mq_broker_activemq_audit_logging", "tnd4-mq-rabbit-private", PASS, "MQ.2: ActiveMQ only"),
    ("mq_broker_auto_minor_version_upgrades", "tnd4-mq-activemq-public", FAIL, "MQ.3"),
    ("mq_broker_auto_minor_version_upgrades", "tnd4-mq-rabbit-private", PASS, "MQ.3"),
    ("mq_broker_not_publicly_accessible", "tnd4-mq-activemq-public", FAIL, "public broker"),
    ("mq_broker_not_publicly_accessible", "tnd4-mq-rabbit-private", PASS, "private broker"),
    # --- CodeBuild
    ("codebuild_project_privileged_mode_disabled", "tnd4-cb-privileged", FAIL, "privileged mode"),
    ("codebuild_project_privileged_mode_disabled", "tnd4-cb-logs-off", PASS, "not privileged"),
    ("codebuild_project_env_no_plaintext_credentials", "tnd4-cb-secret-plaintext", FAIL, "AWS key in PLAINTEXT"),
    ("codebuild_project_env_no_plaintext_credentials", "tnd4-cb-secret-ssm-ref", PASS, "a PARAMETER_STORE name"),
    ("codebuild_project_logging_enabled", "tnd4-cb-s3-logs-unencrypted", PASS, "CodeBuild.4: S3 logs"),
    ("codebuild_project_logging_enabled", "tnd4-cb-logs-off", FAIL, "CodeBuild.4: both off"),
    ("codebuild_project_s3_logs_encrypted", "tnd4-cb-s3-logs-unencrypted", FAIL, "CodeBuild.3"),
    ("codebuild_project_s3_logs_encrypted", "tnd4-cb-logs-off", PASS, "no S3 logs to encrypt"),
    ("codebuild_project_source_url_no_credentials", "tnd4-cb-url-token", FAIL, "a token in the clone URL"),
    ("codebuild_project_source_url_no_credentials", "tnd4-cb-privileged", PASS, "plain URL"),
    # --- Transfer Family
    ("transfer_server_in_transit_encryption_enabled", "tnd4-tr-ftp-in-vpc", FAIL, "Transfer.2: FTP beside SFTP"),
    ("transfer_server_in_transit_encryption_enabled", "tnd4-tr-ftps", PASS, "FTPS is FTP over TLS"),
    ("transfer_server_in_transit_encryption_enabled", "tnd4-tr-sftp-public", PASS, "SFTP"),
    ("transfer_server_not_public", "tnd4-tr-sftp-public", FAIL, "PUBLIC endpoint"),
    ("transfer_server_not_public", "tnd4-tr-ftps", PASS, "VPC endpoint"),
    # --- MemoryDB
    ("memorydb_cluster_in_transit_encryption_enabled", "tnd4-mdb-tls-default", PASS, "TLS on by default"),
    ("memorydb_cluster_in_transit_encryption_enabled", "tnd4-mdb-tls-off", FAIL, "TLSEnabled false"),
]


@pytest.mark.timeout(300)
def test_traps_and_decoys_4(moto_server: MotoServer, tmp_path: Path) -> None:
    _reset(moto_server)
    ids = seed(moto_server)
    _check(_scan(moto_server, tmp_path / "findings.jsonl", SERVICES), ids, EXPECTED)
