"""ElastiCache on the wire: moto for clusters, subnet groups (public/private via route tables) and replication
groups; recorded responses for node ports and member engine versions (moto reports neither)."""

from __future__ import annotations

import pytest

from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from tests.unit.collect.breadth_util import Estate, collect_fixture, collect_moto
from tests.unit.collect.conftest import reset

pytestmark = pytest.mark.moto


def _subnets(moto: MotoServer) -> tuple[str, str]:
    ec2 = moto.boto3_client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    public = ec2.create_subnet(VpcId=vpc, CidrBlock="10.7.1.0/24")["Subnet"]["SubnetId"]
    private = ec2.create_subnet(VpcId=vpc, CidrBlock="10.7.2.0/24")["Subnet"]["SubnetId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.associate_route_table(RouteTableId=rt, SubnetId=public)
    # the private subnet uses the VPC's main route table (local route only)
    return public, private


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> Estate:
    reset(moto_server)
    public, private = _subnets(moto_server)
    ec = moto_server.boto3_client("elasticache")
    ec.create_cache_subnet_group(
        CacheSubnetGroupName="cache-public", CacheSubnetGroupDescription="p", SubnetIds=[public]
    )
    ec.create_cache_subnet_group(
        CacheSubnetGroupName="cache-private", CacheSubnetGroupDescription="p", SubnetIds=[private]
    )
    common = {"Engine": "memcached", "CacheNodeType": "cache.t3.micro", "NumCacheNodes": 1}
    ec.create_cache_cluster(
        CacheClusterId="mem-private", CacheSubnetGroupName="cache-private", AutoMinorVersionUpgrade=True, **common
    )
    ec.create_cache_cluster(
        CacheClusterId="mem-public", CacheSubnetGroupName="cache-public", AutoMinorVersionUpgrade=False, **common
    )
    ec.add_tags_to_resource(
        ResourceName=f"arn:aws:elasticache:us-east-1:{ACCOUNT_ID}:cluster:mem-private",
        Tags=[{"Key": "app", "Value": "s"}],
    )
    rg = {
        "ReplicationGroupDescription": "d",
        "Engine": "redis",
        "CacheNodeType": "cache.t3.micro",
        "NumCacheClusters": 2,
    }
    ec.create_replication_group(
        ReplicationGroupId="rg-good",
        AtRestEncryptionEnabled=True,
        TransitEncryptionEnabled=True,
        AutomaticFailoverEnabled=True,
        MultiAZEnabled=True,
        SnapshotRetentionLimit=7,
        AuthToken="a-long-enough-token-0123",
        **rg,
    )
    ec.create_replication_group(ReplicationGroupId="rg-bad", SnapshotRetentionLimit=1, **rg)
    return collect_moto(moto_server, ["elasticache"])


def test_cluster_snapshots(estate: Estate) -> None:
    priv = estate.one("aws.elasticache.cluster", "mem-private")
    assert priv.arn == f"arn:aws:elasticache:us-east-1:{ACCOUNT_ID}:cluster:mem-private"
    assert priv.tags == {"app": "s"}
    assert [s["Public"] for s in priv.attributes["SubnetGroup"]["Subnets"]] == [False]
    pub = estate.one("aws.elasticache.cluster", "mem-public")
    assert [s["Public"] for s in pub.attributes["SubnetGroup"]["Subnets"]] == [True]


def test_cluster_verdicts(estate: Estate) -> None:
    v = estate.verdicts(["elasticache_cluster_uses_public_subnet", "elasticache_cluster_auto_minor_version_upgrade"])
    assert v[("elasticache_cluster_uses_public_subnet", "mem-private")] == "pass"
    assert v[("elasticache_cluster_uses_public_subnet", "mem-public")] == "fail"
    assert v[("elasticache_cluster_auto_minor_version_upgrade", "mem-private")] == "pass"
    assert v[("elasticache_cluster_auto_minor_version_upgrade", "mem-public")] == "fail"


def test_replication_group_verdicts(estate: Estate) -> None:
    pols = [
        "elasticache_redis_cluster_automatic_failover_enabled",
        "elasticache_redis_cluster_backup_enabled",
        "elasticache_redis_cluster_in_transit_encryption_enabled",
        "elasticache_redis_cluster_multi_az_enabled",
        "elasticache_redis_cluster_rest_encryption_enabled",
    ]
    v = estate.verdicts(pols)
    for p in pols:
        assert (v[(p, "rg-good")], v[(p, "rg-bad")]) == ("pass", "fail"), p
    # moto lists no member clusters of a replication group: the engine version is an error, never a guess
    assert ("aws.elasticache.replication_group", "EngineVersion") in estate.errors()
    auth = estate.verdicts(["elasticache_redis_replication_group_auth_enabled"])
    assert auth[("elasticache_redis_replication_group_auth_enabled", "rg-bad")] == "error"


def test_recorded_ports_versions_and_public_subnets() -> None:
    e, aws = collect_fixture("elasticache", "elasticache")
    assert aws.unanswered == []
    v = e.verdicts(
        [
            "elasticache_cluster_default_port",
            "elasticache_replication_group_default_port",
            "elasticache_redis_replication_group_auth_enabled",
            "elasticache_cluster_uses_public_subnet",
        ]
    )
    assert v[("elasticache_cluster_default_port", "sessions-001")] == "pass"  # memcached on 11311
    assert v[("elasticache_cluster_default_port", "legacy-001")] == "fail"  # redis node on 6379
    assert v[("elasticache_replication_group_default_port", "legacy")] == "fail"
    assert v[("elasticache_redis_replication_group_auth_enabled", "legacy")] == "fail"  # 5.0.6, no AUTH
    assert v[("elasticache_redis_replication_group_auth_enabled", "modern")] == "pass"  # 7.1: RBAC era
    # legacy-001 has no explicit route table association: its VPC's main table has an IGW route
    assert v[("elasticache_cluster_uses_public_subnet", "legacy-001")] == "fail"
    assert v[("elasticache_cluster_uses_public_subnet", "sessions-001")] == "pass"
    assert e.one("aws.elasticache.replication_group", "modern").attributes["EngineVersion"] == "7.1"
