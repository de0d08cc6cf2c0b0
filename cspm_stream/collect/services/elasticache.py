"""ElastiCache cache clusters (Memcached clusters and Redis/Valkey nodes) and replication groups (regional).

``aws.elasticache.cluster``: the DescribeCacheClusters item (``ShowCacheNodeInfo``: ``CacheNodes[].Endpoint.Port``;
``Engine``, ``EngineVersion``, ``AutoMinorVersionUpgrade``, ``CacheSubnetGroupName``, ``TransitEncryptionEnabled``,
``AtRestEncryptionEnabled``, ``ReplicationGroupId``, ``SnapshotRetentionLimit``) plus

* ``SubnetGroup``: DescribeCacheSubnetGroups of its subnet group with each subnet marked ``Public`` (its route
  table sends 0.0.0.0/0 to an internet gateway), null when the cluster has no subnet group (EC2-Classic);
* ``Tags``: ListTagsForResource.

``aws.elasticache.replication_group``: the DescribeReplicationGroups item (``AutomaticFailover``, ``MultiAZ``,
``SnapshotRetentionLimit``, ``AtRestEncryptionEnabled``, ``TransitEncryptionEnabled``, ``TransitEncryptionMode``,
``AuthTokenEnabled``, ``AutoMinorVersionUpgrade``,
``MemberClusters``, ``NodeGroups``, ``ConfigurationEndpoint``, ``Engine``) plus
``EngineVersion`` (the first member cluster's; null when the group has no members) and ``Tags``.
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.services._network import subnets_public
from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, key, member, tags_from_list


async def _subnet_group(calls: Calls, item: Item) -> Any:
    name = item.get("CacheSubnetGroupName")
    if not name:
        return None
    resp = await calls.call("elasticache", "describe_cache_subnet_groups", CacheSubnetGroupName=name)
    groups = resp.get("CacheSubnetGroups") or []
    if not groups:
        return None
    group = groups[0]
    ids = [str(s.get("SubnetIdentifier")) for s in group.get("Subnets") or [] if s.get("SubnetIdentifier")]
    return {
        "CacheSubnetGroupName": group.get("CacheSubnetGroupName"),
        "VpcId": group.get("VpcId"),
        "Subnets": await subnets_public(calls, ids, group.get("VpcId")),
    }


async def _engine_version(calls: Calls, item: Item) -> Any:
    members = item.get("MemberClusters") or []
    if not members:
        return None

    async def versions() -> dict[str, Any]:
        clusters = await calls.paginate("elasticache", "describe_cache_clusters", "CacheClusters")
        return {c["CacheClusterId"]: c.get("EngineVersion") for c in clusters if "CacheClusterId" in c}

    known: dict[str, Any] = await calls.cached("elasticache-engine-versions", versions)
    if members[0] not in known:
        raise LookupError(f"member cluster {members[0]} of {item.get('ReplicationGroupId')} not found")
    return known[members[0]]


def _tags(i: Item) -> dict[str, Any]:
    return {"ResourceName": i["ARN"]}


SPECS = [
    ResourceSpec(
        resource_type="aws.elasticache.cluster",
        service="elasticache",
        list_op="describe_cache_clusters",
        list_params={"ShowCacheNodeInfo": True},
        items="CacheClusters",
        id=key("CacheClusterId"),
        arn=key("ARN"),
        tags=tags_from_list(),
        details=(
            Detail("SubnetGroup", fn=_subnet_group),
            Detail("Tags", "list_tags_for_resource", _tags, member("TagList")),
        ),
        one_params=lambda rid: {"CacheClusterId": rid, "ShowCacheNodeInfo": True},
    ),
    ResourceSpec(
        resource_type="aws.elasticache.replication_group",
        service="elasticache",
        list_op="describe_replication_groups",
        items="ReplicationGroups",
        id=key("ReplicationGroupId"),
        arn=key("ARN"),
        tags=tags_from_list(),
        details=(
            Detail("EngineVersion", fn=_engine_version),
            Detail("Tags", "list_tags_for_resource", _tags, member("TagList")),
        ),
        one_params=lambda rid: {"ReplicationGroupId": rid},
    ),
]
