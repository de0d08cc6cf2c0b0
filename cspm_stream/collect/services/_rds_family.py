"""Engines served through the RDS API (Neptune, DocumentDB): their clusters and cluster snapshots.

Each engine has its own botocore client (``neptune``, ``docdb``) talking to the RDS endpoint, so a
DescribeDBClusters answers every engine's clusters: the listing filters on ``engine`` and the
snapshots (whose listing has no engine filter) are kept by their ``Engine``.

``aws.<svc>.cluster``: the DescribeDBClusters item (``StorageEncrypted``, ``KmsKeyId``, ``BackupRetentionPeriod``,
``DeletionProtection``, ``MultiAZ``, ``IAMDatabaseAuthenticationEnabled``, ``CopyTagsToSnapshot``,
``EnabledCloudwatchLogsExports``, ``DBSubnetGroup``, ``DBClusterParameterGroup``, ``Engine``) plus

* ``Tags``: ListTagsForResource (``TagList``; these APIs' cluster items carry no tags).

``aws.<svc>.cluster_snapshot``: the DescribeDBClusterSnapshots item (automated and manual snapshots the account
owns: ``SnapshotType``, ``StorageEncrypted``, ``KmsKeyId``, ``DBClusterIdentifier``, ``Engine``) plus

* ``Attributes``: DescribeDBClusterSnapshotAttributes' ``DBClusterSnapshotAttributes``
  (``[{AttributeName: restore, AttributeValues: [account ids | all]}]``; ``all`` = public).
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.spec import Detail, Item, ResourceSpec, Scope, key, member, tags_from_list


def _snapshot_attributes(resp: dict[str, Any]) -> Any:
    result = resp.get("DBClusterSnapshotAttributesResult") or {}
    return result.get("DBClusterSnapshotAttributes") or []


def _of_engine(engine: str) -> Any:
    def keep(item: Item, scope: Scope) -> bool:
        return item.get("Engine") == engine

    return keep


def cluster_specs(service: str, engine: str) -> list[ResourceSpec]:
    """Cluster and cluster-snapshot specs of ``engine`` read through the ``service`` client."""
    engine_filter = [{"Name": "engine", "Values": [engine]}]
    return [
        ResourceSpec(
            resource_type=f"aws.{service}.cluster",
            service=service,
            list_op="describe_db_clusters",
            list_params={"Filters": engine_filter},
            items="DBClusters",
            id=key("DBClusterIdentifier"),
            arn=key("DBClusterArn"),
            # a rescan may name an RDS cluster of another engine: its id matches, its engine does not
            item_filter=_of_engine(engine),
            tags=tags_from_list(),
            details=(
                Detail(
                    "Tags",
                    "list_tags_for_resource",
                    lambda i: {"ResourceName": i["DBClusterArn"]},
                    member("TagList"),
                ),
            ),
            one_params=lambda rid: {"DBClusterIdentifier": rid, "Filters": engine_filter},
        ),
        ResourceSpec(
            resource_type=f"aws.{service}.cluster_snapshot",
            service=service,
            list_op="describe_db_cluster_snapshots",
            items="DBClusterSnapshots",
            id=key("DBClusterSnapshotIdentifier"),
            arn=key("DBClusterSnapshotArn"),
            item_filter=_of_engine(engine),
            details=(
                Detail(
                    "Attributes",
                    "describe_db_cluster_snapshot_attributes",
                    lambda i: {"DBClusterSnapshotIdentifier": i["DBClusterSnapshotIdentifier"]},
                    _snapshot_attributes,
                ),
            ),
            one_params=lambda rid: {"DBClusterSnapshotIdentifier": rid},
        ),
    ]
