"""Every collector against a seeded moto server: attributes, null vs error conventions."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cspm_stream.collect import ScanOutcome, collect_all
from cspm_stream.models import ResourceSnapshot
from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from tests.unit.collect.conftest import moto_settings, reset
from tests.unit.collect.seed import seed_all

pytestmark = pytest.mark.moto

SEEDED = (
    "s3 ec2 iam rds kms cloudtrail logs config guardduty lambda sns sqs secretsmanager ecr eks elbv2 cloudfront "
    "dynamodb efs organizations accessanalyzer securityhub"
).split()


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> dict[str, Any]:
    reset(moto_server)
    ids = seed_all(moto_server)
    s = moto_settings(moto_server)
    by_type: dict[str, list[ResourceSnapshot]] = {}
    outcomes: dict[str, ScanOutcome] = {}

    async def run() -> None:
        # the services seeded here; each breadth service has its own wire test (tests/unit/collect/test_<service>_*.py)
        async for snap in collect_all(s, services=SEEDED, progress=lambda job, o: outcomes.__setitem__(job.job_id, o)):
            by_type.setdefault(snap.resource_type, []).append(snap)

    asyncio.run(run())
    return {"ids": ids, "by_type": by_type, "outcomes": outcomes}


def one(estate: dict[str, Any], rtype: str, rid: str | None = None) -> ResourceSnapshot:
    snaps = estate["by_type"][rtype]
    if rid is not None:
        snaps = [s for s in snaps if s.resource_id == rid]
    assert snaps, f"no {rtype} {rid or ''}"
    return snaps[0]


def test_every_job_ran_and_only_known_gaps_error(estate: dict[str, Any]) -> None:
    outcomes = estate["outcomes"]
    assert len(outcomes) == 22  # one job per service (global or us-east-1)
    assert all(o.complete for o in outcomes.values())
    failed = {(s.resource_type, e.attribute) for snaps in estate["by_type"].values() for s in snaps for e in s.errors}
    # moto gaps only: each is an error record, never a silent value
    assert failed <= {
        ("aws.ec2.region", "EbsDefaultKmsKeyId"),
        ("aws.lambda.function", "FunctionUrlConfigs"),
        ("aws.accessanalyzer.region", "Analyzers"),
    }


def test_s3(estate: dict[str, Any]) -> None:
    pub = one(estate, "aws.s3.bucket", "pub-bucket")
    assert pub.arn == "arn:aws:s3:::pub-bucket" and pub.region == "us-east-1"
    assert pub.attributes["Policy"]["Statement"][0]["Principal"] == "*"
    assert pub.attributes["PolicyStatus"] == {"IsPublic": True}
    assert pub.attributes["PublicAccessBlock"] is None and "PublicAccessBlock" in pub.attributes
    assert pub.attributes["Encryption"] is None
    assert pub.tags == {"env": "prod"}
    assert pub.attributes["Acl"]["Grants"][0]["Permission"] == "FULL_CONTROL"
    enc = one(estate, "aws.s3.bucket", "enc-bucket")
    assert enc.attributes["Policy"] is None
    assert enc.attributes["Encryption"]["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert enc.attributes["Versioning"]["Status"] == "Enabled"
    assert enc.attributes["PublicAccessBlock"]["RestrictPublicBuckets"] is True
    for k in ("Logging", "OwnershipControls", "LifecycleConfiguration", "Replication", "ObjectLockConfiguration"):
        assert k in enc.attributes
    acct = one(estate, "aws.s3.account")
    assert acct.arn == f"arn:aws:s3::{ACCOUNT_ID}:account-settings"
    assert acct.attributes["PublicAccessBlock"]["BlockPublicAcls"] is True
    assert acct.attributes["PublicAccessBlock"]["IgnorePublicAcls"] is False


def test_ec2(estate: dict[str, Any]) -> None:
    ids = estate["ids"]
    sg = one(estate, "aws.ec2.security_group", ids["sg"])
    assert sg.attributes["IpPermissions"][0]["IpRanges"][0]["CidrIp"] == "0.0.0.0/0"
    inst = one(estate, "aws.ec2.instance", ids["instance"])
    assert inst.attributes["MetadataOptions"]["HttpTokens"] == "required"
    assert inst.arn == f"arn:aws:ec2:us-east-1:{ACCOUNT_ID}:instance/{ids['instance']}"
    assert one(estate, "aws.ec2.volume", ids["volume"]).attributes["Encrypted"] is False
    snap = one(estate, "aws.ec2.snapshot", ids["snapshot"])
    assert snap.attributes["CreateVolumePermissions"] == [{"Group": "all"}]
    owners = {s.attributes["OwnerId"] for s in estate["by_type"]["aws.ec2.snapshot"]}
    assert owners == {ACCOUNT_ID}  # moto's stock public snapshots are not ours
    assert {s.resource_id for s in estate["by_type"]["aws.ec2.image"]} == {ids["ami"]}
    assert one(estate, "aws.ec2.image", ids["ami"]).attributes["LaunchPermissions"] == []
    assert one(estate, "aws.ec2.vpc", ids["vpc"]).attributes["FlowLogs"] == []
    assert estate["by_type"]["aws.ec2.network_acl"]
    region = one(estate, "aws.ec2.region", "us-east-1")
    assert region.attributes["EbsEncryptionByDefault"] is True
    assert region.arn == f"arn:aws:ec2:us-east-1:{ACCOUNT_ID}:region-settings"
    # not implemented by moto: absent + an error, never a value
    assert "EbsDefaultKmsKeyId" not in region.attributes
    assert [e.attribute for e in region.errors] == ["EbsDefaultKmsKeyId"]


def test_iam(estate: dict[str, Any]) -> None:
    alice = one(estate, "aws.iam.user", "alice")
    a = alice.attributes
    assert a["LoginProfile"]["UserName"] == "alice"
    assert a["MFADevices"] == []
    assert a["AccessKeys"][0]["Status"] == "Active" and "AccessKeyLastUsed" in a["AccessKeys"][0]
    assert a["AttachedPolicies"][0]["PolicyName"] == "AdministratorAccess"
    assert a["UserPolicies"][0]["PolicyDocument"]["Statement"][0]["Action"] == "*"
    assert a["Groups"][0]["GroupName"] == "admins"
    assert a["CredentialReport"]["user"] == "alice"
    assert alice.tags == {"team": "sec"}
    role = one(estate, "aws.iam.role", "app")
    assert role.attributes["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    assert one(estate, "aws.iam.group", "admins").attributes["Users"][0]["UserName"] == "alice"
    pol = one(estate, "aws.iam.policy", "custom")
    assert pol.attributes["PolicyVersion"]["Document"]["Statement"][0]["Action"] == "s3:*"
    acct = one(estate, "aws.iam.account").attributes
    assert acct["PasswordPolicy"]["MinimumPasswordLength"] == 14
    assert "MaxPasswordAge" not in acct["PasswordPolicy"]
    assert "AccountMFAEnabled" in acct["AccountSummary"]
    # moto's report has no root row (AWS always has one); only root rows are kept here
    assert isinstance(acct["CredentialReport"], list)
    assert all(r["user"] == "<root_account>" for r in acct["CredentialReport"])


def test_data_services(estate: dict[str, Any]) -> None:
    db = one(estate, "aws.rds.instance", "db1").attributes
    assert db["PubliclyAccessible"] is True and "StorageEncrypted" in db and "DeletionProtection" in db
    assert one(estate, "aws.rds.cluster", "cl1").attributes["Engine"] == "aurora-postgresql"
    snap = one(estate, "aws.rds.snapshot", "snap1").attributes
    restore = [x for x in snap["DBSnapshotAttributes"] if x["AttributeName"] == "restore"]
    assert restore[0]["AttributeValues"] == ["all"]
    key = one(estate, "aws.kms.key", estate["ids"]["key"]).attributes
    assert key["Key"]["KeyManager"] == "CUSTOMER"
    assert key["KeyRotationStatus"]["KeyRotationEnabled"] is True
    assert key["KeyPolicy"]["Statement"]
    table = one(estate, "aws.dynamodb.table", "t1").attributes
    assert table["ContinuousBackups"]["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED"
    assert table["Table"]["TableName"] == "t1"
    fs = estate["by_type"]["aws.efs.file_system"][0].attributes
    assert fs["Encrypted"] is True and fs["FileSystemPolicy"] is None
    assert one(estate, "aws.secretsmanager.secret", "db-pass").attributes["ResourcePolicy"] is None


def test_logging_and_detection_services(estate: dict[str, Any]) -> None:
    trail = one(estate, "aws.cloudtrail.trail", "main").attributes
    assert trail["IsMultiRegionTrail"] is True and trail["TrailStatus"]["IsLogging"] is True
    assert "EventSelectors" in trail["EventSelectors"]
    region_trails = one(estate, "aws.cloudtrail.region", "us-east-1").attributes["Trails"]
    assert region_trails[0]["Status"]["IsLogging"] is True
    mon = one(estate, "aws.logs.monitoring", "us-east-1").attributes
    assert mon["MetricFilters"][0]["filterName"] == "root"
    assert mon["Alarms"][0]["MetricName"] == "RootUsage"
    assert mon["MultiRegionTrails"] == [
        {"TrailARN": trail["TrailARN"], "LogGroupName": "trail-logs", "IsLogging": True}
    ]
    assert mon["SubscriptionsByTopic"][0]["Subscriptions"] == 1
    cfg = one(estate, "aws.config.region", "us-east-1").attributes
    assert cfg["ConfigurationRecorders"][0]["name"] == "default"
    assert cfg["ConfigurationRecorderStatus"][0]["recording"] is False
    assert one(estate, "aws.guardduty.region", "us-east-1").attributes["Detectors"][0]["Status"] == "ENABLED"
    assert one(estate, "aws.securityhub.region", "us-east-1").attributes == {"Hub": None}
    analyzer = one(estate, "aws.accessanalyzer.region", "us-east-1")
    assert "Analyzers" not in analyzer.attributes and analyzer.errors


def test_compute_and_edge_services(estate: dict[str, Any]) -> None:
    fn = one(estate, "aws.lambda.function", "fn").attributes
    assert fn["Runtime"] == "python3.12" and fn["Policy"]["Statement"][0]["Principal"] == "*"
    topic = one(estate, "aws.sns.topic", "alerts").attributes
    assert topic["TopicAttributes"]["Policy"]["Statement"]
    q = one(estate, "aws.sqs.queue", "q1")
    assert q.arn == f"arn:aws:sqs:us-east-1:{ACCOUNT_ID}:q1"
    assert q.attributes["QueueAttributes"]["SqsManagedSseEnabled"] == "true"
    repo = one(estate, "aws.ecr.repository", "repo").attributes
    assert repo["imageScanningConfiguration"]["scanOnPush"] is True and repo["RepositoryPolicy"] is None
    eks = one(estate, "aws.eks.cluster", "k8s").attributes
    assert eks["Cluster"]["resourcesVpcConfig"]["endpointPublicAccess"] is True
    lb = one(estate, "aws.elbv2.load_balancer", "lb1").attributes
    assert lb["Listeners"][0]["Protocol"] == "HTTP" and isinstance(lb["LoadBalancerAttributes"], list)
    dist = estate["by_type"]["aws.cloudfront.distribution"][0]
    assert dist.region == "global"
    assert dist.attributes["DistributionConfig"]["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "allow-all"
    assert "aws.organizations.account" not in estate["by_type"]  # not in an Organization: nothing, no error


def test_snapshots_are_well_formed(estate: dict[str, Any]) -> None:
    for snaps in estate["by_type"].values():
        for s in snaps:
            assert s.arn.startswith("arn:aws:") and s.account_id == ACCOUNT_ID
            assert s.content_hash and s.observed_at.endswith("Z")
            assert s.scan_id.startswith("scan-")
