"""Seed a moto server with one (or a few) resources of every collected type."""

from __future__ import annotations

import io
import json
import zipfile
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer

PUBLIC_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::pub-bucket/*"}
    ],
}
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(e, c):\n    return 1\n")
    return buf.getvalue()


def seed_all(m: MotoServer, region: str = "us-east-1") -> dict[str, Any]:
    """Create one resource of each type (service groups in parallel threads); returns ids."""
    out: dict[str, Any] = {}
    groups = [_seed_s3, _seed_network_and_compute, _seed_data, _seed_monitoring, _seed_misc]
    with ThreadPoolExecutor(len(groups)) as pool:
        for part in pool.map(lambda f: f(m, region), groups):
            out.update(part)
    return out


def _seed_s3(m: MotoServer, region: str) -> dict[str, Any]:
    s3 = m.boto3_client("s3", region)
    s3.create_bucket(Bucket="pub-bucket")
    s3.put_bucket_policy(Bucket="pub-bucket", Policy=json.dumps(PUBLIC_POLICY))
    s3.put_bucket_tagging(Bucket="pub-bucket", Tagging={"TagSet": [{"Key": "env", "Value": "prod"}]})
    s3.create_bucket(Bucket="enc-bucket")
    s3.put_bucket_encryption(
        Bucket="enc-bucket",
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_bucket_versioning(Bucket="enc-bucket", VersioningConfiguration={"Status": "Enabled"})
    s3.put_public_access_block(
        Bucket="enc-bucket",
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    m.boto3_client("s3control", region).put_public_access_block(
        AccountId=ACCOUNT_ID, PublicAccessBlockConfiguration={"BlockPublicAcls": True, "IgnorePublicAcls": False}
    )
    return {}


def _role(m: MotoServer, region: str) -> str:
    iam = m.boto3_client("iam", region)
    try:
        return str(iam.create_role(RoleName="app", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"])
    except iam.exceptions.EntityAlreadyExistsException:
        return str(iam.get_role(RoleName="app")["Role"]["Arn"])


def _seed_network_and_compute(m: MotoServer, region: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    ec2 = m.boto3_client("ec2", region)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    sg = ec2.create_security_group(GroupName="open", Description="open", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=sg,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    inst = ec2.run_instances(
        ImageId="ami-12c6146b", MinCount=1, MaxCount=1, MetadataOptions={"HttpTokens": "required"}
    )["Instances"][0]["InstanceId"]
    vol = ec2.create_volume(AvailabilityZone=f"{region}a", Size=1, Encrypted=False)["VolumeId"]
    snap = ec2.create_snapshot(VolumeId=vol)["SnapshotId"]
    ec2.modify_snapshot_attribute(
        SnapshotId=snap, Attribute="createVolumePermission", OperationType="add", GroupNames=["all"]
    )
    ami = ec2.create_image(InstanceId=inst, Name="my-ami")["ImageId"]
    ec2.enable_ebs_encryption_by_default()
    out.update(vpc=vpc, sg=sg, instance=inst, volume=vol, snapshot=snap, ami=ami)
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{region}{z}")["Subnet"]["SubnetId"]
        for i, z in ((1, "a"), (2, "b"))
    ]
    elb = m.boto3_client("elbv2", region)
    lb = elb.create_load_balancer(Name="lb1", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elb.create_target_group(Name="tg1", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]["TargetGroupArn"]
    elb.create_listener(
        LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}]
    )
    m.boto3_client("eks", region).create_cluster(
        name="k8s", roleArn=_role(m, region), resourcesVpcConfig={"subnetIds": subnets, "endpointPublicAccess": True}
    )
    return out


def _seed_data(m: MotoServer, region: str) -> dict[str, Any]:
    rds = m.boto3_client("rds", region)
    rds.create_db_instance(
        DBInstanceIdentifier="db1",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="u",
        MasterUserPassword="password123",
        AllocatedStorage=20,
        PubliclyAccessible=True,
    )
    rds.create_db_cluster(
        DBClusterIdentifier="cl1", Engine="aurora-postgresql", MasterUsername="u", MasterUserPassword="password123"
    )
    rds.create_db_snapshot(DBInstanceIdentifier="db1", DBSnapshotIdentifier="snap1")
    rds.modify_db_snapshot_attribute(DBSnapshotIdentifier="snap1", AttributeName="restore", ValuesToAdd=["all"])
    kms = m.boto3_client("kms", region)
    key = kms.create_key(Description="k")["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=key)
    m.boto3_client("dynamodb", region).create_table(
        TableName="t1",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    m.boto3_client("efs", region).create_file_system(CreationToken="fs1", Encrypted=True)
    m.boto3_client("secretsmanager", region).create_secret(Name="db-pass", SecretString="x")
    return {"key": key}


def _seed_monitoring(m: MotoServer, region: str) -> dict[str, Any]:
    logs = m.boto3_client("logs", region)
    logs.create_log_group(logGroupName="trail-logs")
    logs.put_metric_filter(
        logGroupName="trail-logs",
        filterName="root",
        filterPattern='{ $.userIdentity.type = "Root" }',
        metricTransformations=[{"metricName": "RootUsage", "metricNamespace": "CIS", "metricValue": "1"}],
    )
    sns = m.boto3_client("sns", region)
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="sec@example.com")
    m.boto3_client("cloudwatch", region).put_metric_alarm(
        AlarmName="root",
        MetricName="RootUsage",
        Namespace="CIS",
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        AlarmActions=[topic],
    )
    m.boto3_client("s3", region).create_bucket(Bucket="trail-bucket")
    ct = m.boto3_client("cloudtrail", region)
    ct.create_trail(
        Name="main",
        S3BucketName="trail-bucket",
        IsMultiRegionTrail=True,
        EnableLogFileValidation=True,
        CloudWatchLogsLogGroupArn=f"arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:trail-logs:*",
        CloudWatchLogsRoleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/app",
    )
    ct.start_logging(Name="main")
    m.boto3_client("config", region).put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": f"arn:aws:iam::{ACCOUNT_ID}:role/app",
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
        }
    )
    m.boto3_client("guardduty", region).create_detector(Enable=True)
    return {}


def _seed_misc(m: MotoServer, region: str) -> dict[str, Any]:
    iam = m.boto3_client("iam", region)
    iam.create_user(UserName="alice", Tags=[{"Key": "team", "Value": "sec"}])
    iam.create_login_profile(UserName="alice", Password="Very-long-pass-123!")
    iam.create_access_key(UserName="alice")
    iam.attach_user_policy(UserName="alice", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    iam.put_user_policy(
        UserName="alice",
        PolicyName="inline",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ),
    )
    iam.create_group(GroupName="admins")
    iam.add_user_to_group(GroupName="admins", UserName="alice")
    role_arn = _role(m, region)
    pol = iam.create_policy(
        PolicyName="custom",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        ),
    )["Policy"]["Arn"]
    iam.update_account_password_policy(MinimumPasswordLength=14, RequireSymbols=True)
    lam = m.boto3_client("lambda", region)
    lam.create_function(
        FunctionName="fn", Runtime="python3.12", Role=role_arn, Handler="index.handler", Code={"ZipFile": _zip()}
    )
    lam.add_permission(FunctionName="fn", StatementId="pub", Action="lambda:InvokeFunction", Principal="*")
    m.boto3_client("sqs", region).create_queue(QueueName="q1", Attributes={"SqsManagedSseEnabled": "true"})
    m.boto3_client("ecr", region).create_repository(
        repositoryName="repo", imageScanningConfiguration={"scanOnPush": True}
    )
    m.boto3_client("cloudfront", region).create_distribution(
        DistributionConfig={
            "CallerReference": "ref1",
            "Comment": "",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "o1",
                        "DomainName": "pub-bucket.s3.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "o1",
                "ViewerProtocolPolicy": "allow-all",
                "MinTTL": 0,
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                "TrustedSigners": {"Enabled": False, "Quantity": 0},
            },
        }
    )
    return {"policy_arn": pol}
