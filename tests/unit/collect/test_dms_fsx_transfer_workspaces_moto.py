"""DMS, FSx, Transfer Family and WorkSpaces on the wire: moto for each (compliant resource beside a non-compliant
twin, endpoint passwords never kept); recorded responses for a DMS instance's security groups (moto reports none),
which decide whether a publicly accessible instance is reachable."""

from __future__ import annotations

import json

import pytest

from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from tests.unit.collect.breadth_util import Estate, collect_fixture, collect_moto
from tests.unit.collect.conftest import reset

pytestmark = pytest.mark.moto

SUBNET_A = "subnet-0a1b2c3d4e5f60718"
SUBNET_B = "subnet-0b1c2d3e4f5a60718"


def _logging(*components: str) -> str:
    return json.dumps(
        {
            "Logging": {
                "EnableLogging": True,
                "LogComponents": [{"Id": c, "Severity": "LOGGER_SEVERITY_DEFAULT"} for c in components],
            }
        }
    )


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> Estate:
    reset(moto_server)
    dms = moto_server.boto3_client("dms")
    dms.create_replication_instance(
        ReplicationInstanceIdentifier="sturdy",
        ReplicationInstanceClass="dms.r5.large",
        MultiAZ=True,
        AutoMinorVersionUpgrade=True,
        PubliclyAccessible=False,
    )
    dms.create_replication_instance(
        ReplicationInstanceIdentifier="fragile",
        ReplicationInstanceClass="dms.r5.large",
        MultiAZ=False,
        AutoMinorVersionUpgrade=False,
        PubliclyAccessible=True,
    )
    conn = {"ServerName": "db.internal", "Port": 3306, "Username": "dms", "Password": "db-pass-not-kept"}
    src = dms.create_endpoint(
        EndpointIdentifier="tls", EndpointType="source", EngineName="mysql", SslMode="verify-full", **conn
    )
    dst = dms.create_endpoint(
        EndpointIdentifier="clear", EndpointType="target", EngineName="mysql", SslMode="none", **conn
    )
    ri = dms.describe_replication_instances()["ReplicationInstances"][0]["ReplicationInstanceArn"]
    task = {
        "SourceEndpointArn": src["Endpoint"]["EndpointArn"],
        "TargetEndpointArn": dst["Endpoint"]["EndpointArn"],
        "ReplicationInstanceArn": ri,
        "MigrationType": "full-load",
        "TableMappings": json.dumps({"rules": []}),
    }
    dms.create_replication_task(
        ReplicationTaskIdentifier="logged",
        ReplicationTaskSettings=_logging("SOURCE_CAPTURE", "SOURCE_UNLOAD", "TARGET_APPLY", "TARGET_LOAD"),
        **task,
    )
    dms.create_replication_task(
        ReplicationTaskIdentifier="quiet", ReplicationTaskSettings=_logging("SOURCE_CAPTURE"), **task
    )
    fsx = moto_server.boto3_client("fsx")
    fsx.create_file_system(
        FileSystemType="LUSTRE",
        StorageCapacity=1200,
        SubnetIds=[SUBNET_A],
        LustreConfiguration={
            "DeploymentType": "PERSISTENT_2",
            "CopyTagsToBackups": True,
            "AutomaticBackupRetentionDays": 7,
        },
        Tags=[{"Key": "name", "Value": "tagged-lustre"}],
    )
    fsx.create_file_system(
        FileSystemType="LUSTRE",
        StorageCapacity=1200,
        SubnetIds=[SUBNET_A],
        LustreConfiguration={
            "DeploymentType": "PERSISTENT_2",
            "CopyTagsToBackups": False,
            "AutomaticBackupRetentionDays": 7,
        },
        Tags=[{"Key": "name", "Value": "untagged-lustre"}],
    )
    tr = moto_server.boto3_client("transfer")
    tr.create_server(
        Protocols=["SFTP"],
        EndpointType="VPC",
        SecurityPolicyName="TransferSecurityPolicy-FIPS-2025-03",
        Tags=[{"Key": "name", "Value": "sftp"}],
    )
    tr.create_server(Protocols=["FTP"], EndpointType="PUBLIC", Tags=[{"Key": "name", "Value": "ftp"}])
    return collect_moto(moto_server, ["dms", "fsx", "transfer"])


def _by_tag(estate: Estate, rtype: str) -> dict[str, str]:
    return {s.tags.get("name", ""): s.resource_id for s in estate.by_type[rtype]}


def test_dms(estate: Estate) -> None:
    assert "db-pass-not-kept" not in repr(estate.snaps)
    sturdy = estate.one("aws.dms.replication_instance", "sturdy")
    assert sturdy.arn.startswith(f"arn:aws:dms:us-east-1:{ACCOUNT_ID}:rep:")
    pols = {
        "dms_instance_minor_version_upgrade_enabled": ("sturdy", "fragile"),
        "dms_instance_multi_az_enabled": ("sturdy", "fragile"),
        "dms_replication_instance_not_publicly_accessible": ("sturdy", "fragile"),
        "dms_endpoint_ssl_enabled": ("tls", "clear"),
        "dms_replication_task_source_logging_enabled": ("logged", "quiet"),
        "dms_replication_task_target_logging_enabled": ("logged", "quiet"),
    }
    v = estate.verdicts(list(pols))
    assert {p: (v[(p, a)], v[(p, b)]) for p, (a, b) in pols.items()} == {p: ("pass", "fail") for p in pols}
    # public, but moto reports no security group: nothing admits the internet (Prowler's reading)
    assert estate.verdicts(["dms_instance_no_public_access"])[("dms_instance_no_public_access", "fragile")] == "pass"


def test_fsx_and_transfer(estate: Estate) -> None:
    fs = _by_tag(estate, "aws.fsx.file_system")
    p = "fsx_file_system_copy_tags_to_backups_enabled"
    v = estate.verdicts([p, "fsx_lustre_copy_tags_to_backups"])
    assert (v[(p, fs["tagged-lustre"])], v[(p, fs["untagged-lustre"])]) == ("pass", "fail")
    assert v[("fsx_lustre_copy_tags_to_backups", fs["untagged-lustre"])] == "fail"
    servers = _by_tag(estate, "aws.transfer.server")
    pols = [
        "transfer_server_in_transit_encryption_enabled",
        "transfer_server_not_public",
        "transfer_server_fips_security_policy_enabled",
    ]
    v = estate.verdicts(pols)
    assert {p: (v[(p, servers["sftp"])], v[(p, servers["ftp"])]) for p in pols} == {p: ("pass", "fail") for p in pols}


def test_recorded_public_instance_reachability() -> None:
    e, aws = collect_fixture("dms", "dms", resource_types=["aws.dms.replication_instance"])
    assert aws.unanswered == []
    p = "dms_instance_no_public_access"
    v = e.verdicts([p, "dms_replication_instance_not_publicly_accessible"])
    assert {
        i: v[(p, i)] for i in ("public-closed", "public-open", "private-open-group", "public-inactive-open-group")
    } == {
        "public-closed": "pass",
        "public-open": "fail",  # IPv6 all traffic from ::/0
        "private-open-group": "pass",
        "public-inactive-open-group": "pass",  # the open group is being removed: only active groups count
    }
    assert v[("dms_replication_instance_not_publicly_accessible", "public-closed")] == "fail"


def test_workspaces(moto_server: MotoServer) -> None:
    reset(moto_server)
    ec2 = moto_server.boto3_client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    s1 = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    s2 = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24", AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    directory = moto_server.boto3_client("ds").create_directory(
        Name="corp.example.com", Password="Passw0rd!x", Size="Small", VpcSettings={"VpcId": vpc, "SubnetIds": [s1, s2]}
    )["DirectoryId"]
    ws = moto_server.boto3_client("workspaces")
    ws.register_workspace_directory(DirectoryId=directory)
    made = ws.create_workspaces(
        Workspaces=[
            {
                "DirectoryId": directory,
                "UserName": "alice",
                "BundleId": "wsb-1",
                "UserVolumeEncryptionEnabled": True,
                "RootVolumeEncryptionEnabled": True,
                "VolumeEncryptionKey": "alias/ws",
            },
            {"DirectoryId": directory, "UserName": "bob", "BundleId": "wsb-1"},
        ]
    )["PendingRequests"]
    ids = {w["UserName"]: w["WorkspaceId"] for w in made}
    e = collect_moto(moto_server, ["workspaces"])
    pols = [
        "workspaces_volume_encryption_enabled",
        "workspaces_user_volume_encrypted",
        "workspaces_root_volume_encrypted",
    ]
    v = e.verdicts(pols)
    assert {p: (v[(p, ids["alice"])], v[(p, ids["bob"])]) for p in pols} == {p: ("pass", "fail") for p in pols}
