"""Redshift provisioned clusters (regional).

``aws.redshift.cluster``: the DescribeClusters item (``ClusterIdentifier``, ``PubliclyAccessible``, ``Endpoint``,
``Encrypted``, ``KmsKeyId``, ``EnhancedVpcRouting``, ``AllowVersionUpgrade``, ``MultiAZ``, ``DBName``,
``MasterUsername``, ``AutomatedSnapshotRetentionPeriod``, ``ClusterParameterGroups``, ``VpcSecurityGroups``,
``ClusterSubnetGroupName``, ``Tags``) plus

* ``LoggingStatus``: DescribeLoggingStatus (``LoggingEnabled``, ``BucketName``, ``LogDestinationType``);
* ``Snapshots``: up to 20 of its snapshots, manual or automated (``[]`` = none),
  ``[{SnapshotIdentifier, SnapshotType, SnapshotCreateTime}]``;
* ``Parameters``: ``require_ssl``, ``use_fips_ssl`` and ``enable_user_activity_logging`` of its first parameter
  group (DescribeClusterParameters), ``[{ParameterName, ParameterValue}]``.
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, Scope, tags_from_list

WATCHED_PARAMETERS = frozenset({"require_ssl", "use_fips_ssl", "enable_user_activity_logging"})


def _arn(item: Item, scope: Scope) -> str:
    return f"arn:{scope.partition}:redshift:{scope.region}:{scope.account_id}:cluster:{item['ClusterIdentifier']}"


def _snapshots(resp: dict[str, Any]) -> Any:
    keep = ("SnapshotIdentifier", "SnapshotType", "SnapshotCreateTime", "Status")
    return [{k: s.get(k) for k in keep if k in s} for s in resp.get("Snapshots") or []]


async def _parameters(calls: Calls, item: Item) -> Any:
    groups = item.get("ClusterParameterGroups") or []
    name = groups[0].get("ParameterGroupName") if groups else None
    if not name:
        return []
    params = await calls.paginate("redshift", "describe_cluster_parameters", "Parameters", ParameterGroupName=name)
    return [
        {"ParameterName": p.get("ParameterName"), "ParameterValue": p.get("ParameterValue")}
        for p in params
        if str(p.get("ParameterName", "")).lower() in WATCHED_PARAMETERS
    ]


SPECS = [
    ResourceSpec(
        resource_type="aws.redshift.cluster",
        service="redshift",
        list_op="describe_clusters",
        items="Clusters",
        id=lambda item, scope: str(item["ClusterIdentifier"]),
        arn=_arn,
        tags=tags_from_list(),
        details=(
            Detail(
                "LoggingStatus",
                "describe_logging_status",
                lambda i: {"ClusterIdentifier": i["ClusterIdentifier"]},
            ),
            Detail(
                "Snapshots",
                "describe_cluster_snapshots",
                lambda i: {"ClusterIdentifier": i["ClusterIdentifier"], "MaxRecords": 20},
                _snapshots,
            ),
            Detail("Parameters", fn=_parameters),
        ),
        one_params=lambda rid: {"ClusterIdentifier": rid},
    ),
]
