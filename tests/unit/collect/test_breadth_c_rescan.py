"""Rescan entries of the part-C breadth services: every type has one, and the ARN a CloudTrail record yields is the
ARN the collector gives the resource (a rescan that misses it would report the resource deleted)."""

from __future__ import annotations

from typing import Any

import pytest

from cspm_stream.collect.services import SPECS, ec2_network, spec_for
from cspm_stream.collect.spec import Scope
from cspm_stream.detect.rescan import load_map

ACCOUNT, REGION = "123456789012", "eu-west-1"
SERVICES = "neptune docdb memorydb dax cloudformation appsync datasync ses elasticbeanstalk appstream lightsail storagegateway ds glacier dlm directconnect".split()


def _record(source: str, name: str, request: dict[str, Any], response: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "eventSource": source,
        "eventName": name,
        "awsRegion": REGION,
        "recipientAccountId": ACCOUNT,
        "requestParameters": request,
        "responseElements": response,
    }


def test_every_part_c_type_has_a_rescan_entry() -> None:
    m = load_map()
    covered = {spec.type for specs in m.entries.values() for spec in specs}
    types = {s.resource_type for svc in SERVICES for s in SPECS[svc]} | {s.resource_type for s in ec2_network.SPECS}
    assert types - covered == set()


CLUSTER_ARN = f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:graph"
STACK_ARN = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/app/4f1c2b30-1a2b-11ef-9c1d-0a1b2c3d4e5f"
SHARE_ARN = f"arn:aws:storagegateway:{REGION}:{ACCOUNT}:share/share-1A2B3C4D"
TASK_ARN = f"arn:aws:datasync:{REGION}:{ACCOUNT}:task/task-0a1b2c3d4e5f60718"

# (record, type, the collected item the event is about)
CASES = [
    (
        _record("rds.amazonaws.com", "ModifyDBCluster", {"dBClusterIdentifier": "graph"}),
        "aws.neptune.cluster",
        {"DBClusterIdentifier": "graph", "DBClusterArn": CLUSTER_ARN},
    ),
    (
        _record("rds.amazonaws.com", "ModifyDBCluster", {"dBClusterIdentifier": "graph"}),
        "aws.docdb.cluster",
        {"DBClusterIdentifier": "graph", "DBClusterArn": CLUSTER_ARN},
    ),
    (
        _record("rds.amazonaws.com", "ModifyDBClusterSnapshotAttribute", {"dBClusterSnapshotIdentifier": "snap"}),
        "aws.neptune.cluster_snapshot",
        {
            "DBClusterSnapshotIdentifier": "snap",
            "DBClusterSnapshotArn": f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster-snapshot:snap",
        },
    ),
    (
        _record("rds.amazonaws.com", "CopyDBClusterSnapshot", {"targetDBClusterSnapshotIdentifier": "copy"}),
        "aws.docdb.cluster_snapshot",
        {
            "DBClusterSnapshotIdentifier": "copy",
            "DBClusterSnapshotArn": f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster-snapshot:copy",
        },
    ),
    (
        _record("memorydb.amazonaws.com", "UpdateCluster", {"clusterName": "sessions"}),
        "aws.memorydb.cluster",
        {"Name": "sessions", "ARN": f"arn:aws:memorydb:{REGION}:{ACCOUNT}:cluster/sessions"},
    ),
    (
        _record("dax.amazonaws.com", "DecreaseReplicationFactor", {"clusterName": "orders"}),
        "aws.dax.cluster",
        {"ClusterName": "orders", "ClusterArn": f"arn:aws:dax:{REGION}:{ACCOUNT}:cache/orders"},
    ),
    (
        _record("cloudformation.amazonaws.com", "UpdateTerminationProtection", {"stackName": STACK_ARN}),
        "aws.cloudformation.stack",
        {"StackName": "app", "StackId": STACK_ARN},
    ),
    (
        _record("cloudformation.amazonaws.com", "CreateStack", {"stackName": "app"}, {"stackId": STACK_ARN}),
        "aws.cloudformation.stack",
        {"StackName": "app", "StackId": STACK_ARN},
    ),
    (
        _record("appsync.amazonaws.com", "UpdateGraphqlApi", {"apiId": "abc123"}),
        "aws.appsync.graphql_api",
        {"apiId": "abc123", "arn": f"arn:aws:appsync:{REGION}:{ACCOUNT}:apis/abc123"},
    ),
    (
        _record("datasync.amazonaws.com", "UpdateTask", {"taskArn": TASK_ARN}),
        "aws.datasync.task",
        {"TaskArn": TASK_ARN},
    ),
    (
        _record("ses.amazonaws.com", "PutEmailIdentityDkimSigningAttributes", {"emailIdentity": "mail.example.com"}),
        "aws.ses.identity",
        {"IdentityName": "mail.example.com"},
    ),
    (
        _record("ses.amazonaws.com", "SetIdentityDkimEnabled", {"identity": "mail.example.com", "dkimEnabled": False}),
        "aws.ses.identity",
        {"IdentityName": "mail.example.com"},
    ),
]


CASES += [
    (
        _record("ec2.amazonaws.com", "ModifySubnetAttribute", {"subnetId": "subnet-0abc"}),
        "aws.ec2.subnet",
        {"SubnetId": "subnet-0abc"},
    ),
    (
        _record(
            "ec2.amazonaws.com",
            "CreateVpcEndpoint",
            {"CreateVpcEndpointRequest": {"VpcId": "vpc-0abc"}},
            {"CreateVpcEndpointResponse": {"vpcEndpoint": {"vpcEndpointId": "vpce-0abc"}}},
        ),
        "aws.ec2.vpc_endpoint",
        {"VpcEndpointId": "vpce-0abc"},
    ),
    (
        _record(
            "ec2.amazonaws.com",
            "CreateVpcEndpoint",
            {"CreateVpcEndpointRequest": {"VpcId": "vpc-0abc"}},
            {"CreateVpcEndpointResponse": {"vpcEndpoint": {"vpcEndpointId": "vpce-0abc"}}},
        ),
        "aws.ec2.vpc",
        {"VpcId": "vpc-0abc"},
    ),
    (
        _record("ec2.amazonaws.com", "AssociateAddress", {"allocationId": "eipalloc-0abc", "instanceId": "i-0abc"}),
        "aws.ec2.elastic_ip",
        {"AllocationId": "eipalloc-0abc", "PublicIp": "198.51.100.7"},
    ),
    (
        _record(
            "ec2.amazonaws.com",
            "ModifyTransitGateway",
            {"ModifyTransitGatewayRequest": {"TransitGatewayId": "tgw-0abc"}},
        ),
        "aws.ec2.transit_gateway",
        {
            "TransitGatewayId": "tgw-0abc",
            "TransitGatewayArn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:transit-gateway/tgw-0abc",
        },
    ),
    (
        _record("ec2.amazonaws.com", "DeleteVpnConnection", {"vpnConnectionId": "vpn-0abc"}),
        "aws.ec2.vpn_connection",
        {"VpnConnectionId": "vpn-0abc"},
    ),
    (
        _record("ec2.amazonaws.com", "CreateSnapshot", {"volumeId": "vol-0abc"}),
        "aws.ec2.volume",
        {"VolumeId": "vol-0abc"},
    ),
]

CASES += [
    (
        _record("appstream.amazonaws.com", "UpdateFleet", {"name": "analysts"}),
        "aws.appstream.fleet",
        {"Name": "analysts", "Arn": f"arn:aws:appstream:{REGION}:{ACCOUNT}:fleet/analysts"},
    ),
    (
        _record("storagegateway.amazonaws.com", "UpdateNFSFileShare", {"fileShareARN": SHARE_ARN}),
        "aws.storagegateway.file_share",
        {"FileShareId": "share-1A2B3C4D", "FileShareARN": SHARE_ARN},
    ),
]

CASES += [
    (
        _record("ds.amazonaws.com", "EnableRadius", {"directoryId": "d-1234567890"}),
        "aws.ds.directory",
        {"DirectoryId": "d-1234567890"},
    ),
    (
        _record("glacier.amazonaws.com", "SetVaultAccessPolicy", {"vaultName": "archive"}),
        "aws.glacier.vault",
        {"VaultName": "archive", "VaultARN": f"arn:aws:glacier:{REGION}:{ACCOUNT}:vaults/archive"},
    ),
    (_record("dlm.amazonaws.com", "DeleteLifecyclePolicy", {"policyId": "policy-0abc"}), "aws.dlm.region", {}),
    (_record("directconnect.amazonaws.com", "CreateConnection", {"location": "EqDC2"}), "aws.directconnect.region", {}),
]


@pytest.mark.parametrize(("record", "rtype", "item"), CASES, ids=[f"{c[0]['eventName']}->{c[1]}" for c in CASES])
def test_rescan_arn_is_the_collected_arn(record: dict[str, Any], rtype: str, item: dict[str, Any]) -> None:
    targets = [t for t in load_map().targets(record) if t.resource_type == rtype]
    assert targets, f"{record['eventName']} requests no rescan of {rtype}"
    _, spec = spec_for(rtype)
    region = "us-east-1" if spec.global_ else REGION
    assert targets[0].arn == spec.arn(item, Scope(account_id=ACCOUNT, region=region))


def test_a_stack_named_by_name_is_rescanned_by_id_without_inferring_a_deletion() -> None:
    rec = _record("cloudformation.amazonaws.com", "UpdateStack", {"stackName": "app"})
    (t,) = [t for t in load_map().targets(rec) if t.resource_type == "aws.cloudformation.stack"]
    assert (t.resource_id, t.arn) == ("app", None)


def test_names_without_an_arn_rescan_by_id() -> None:
    m = load_map()
    for record, rtype, rid in [
        (
            _record("lightsail.amazonaws.com", "DisableAddOn", {"resourceName": "blog"}),
            "aws.lightsail.instance",
            "blog",
        ),
        (
            _record("elasticbeanstalk.amazonaws.com", "UpdateEnvironment", {"environmentName": "orders-prod"}),
            "aws.elasticbeanstalk.environment",
            "orders-prod",
        ),
        (
            _record("lightsail.amazonaws.com", "DetachStaticIp", {"staticIpName": "ip1"}),
            "aws.lightsail.static_ip",
            "ip1",
        ),
    ]:
        (t,) = [t for t in m.targets(record) if t.resource_type == rtype]
        assert (t.resource_id, t.arn) == (rid, None)


def test_certificate_events_rescan_the_directory_certificates() -> None:
    rec = _record("ds.amazonaws.com", "RegisterCertificate", {"directoryId": "d-1234567890"})
    (t,) = load_map().targets(rec)
    assert (t.resource_type, t.resource_id, t.arn) == ("aws.ds.certificate", "d-1234567890", None)
    _, spec = spec_for("aws.ds.certificate")
    assert (
        spec.parent_id is not None
        and spec.parent_id({"CertificateId": "c-1", "DirectoryId": "d-1234567890"}) == "d-1234567890"
    )
