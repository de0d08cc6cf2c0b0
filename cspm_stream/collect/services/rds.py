"""RDS: DB instances, clusters and snapshots (public, encryption, backups, deletion protection).

Everything policies need is in the describe items; snapshots add ``DBSnapshotAttributes``
(the ``restore`` attribute lists ``all`` when the snapshot is public).

DescribeDBClusters also answers Neptune and DocumentDB clusters (the same API serves those engines): they are
left to their own types (``aws.neptune.cluster``, ``aws.docdb.cluster``), as Prowler's RDS checks leave them.
"""

from __future__ import annotations

from cspm_stream.collect.spec import Detail, Item, ResourceSpec, Scope, key, tags_from_list

#: engines served by the RDS API that have their own collectors
OTHER_SERVICE_ENGINES = frozenset({"neptune", "docdb"})


def _rds_cluster(item: Item, scope: Scope) -> bool:
    return item.get("Engine") not in OTHER_SERVICE_ENGINES


SPECS = [
    ResourceSpec(
        resource_type="aws.rds.instance",
        service="rds",
        list_op="describe_db_instances",
        items="DBInstances",
        id=key("DBInstanceIdentifier"),
        arn=key("DBInstanceArn"),
        tags=tags_from_list("TagList"),
        one_params=lambda rid: {"DBInstanceIdentifier": rid},
    ),
    ResourceSpec(
        resource_type="aws.rds.cluster",
        service="rds",
        list_op="describe_db_clusters",
        items="DBClusters",
        id=key("DBClusterIdentifier"),
        arn=key("DBClusterArn"),
        item_filter=_rds_cluster,
        tags=tags_from_list("TagList"),
        one_params=lambda rid: {"DBClusterIdentifier": rid},
    ),
    ResourceSpec(
        resource_type="aws.rds.snapshot",
        service="rds",
        list_op="describe_db_snapshots",
        items="DBSnapshots",
        id=key("DBSnapshotIdentifier"),
        arn=key("DBSnapshotArn"),
        tags=tags_from_list("TagList"),
        details=(
            Detail(
                "DBSnapshotAttributes",
                "describe_db_snapshot_attributes",
                lambda i: {"DBSnapshotIdentifier": i["DBSnapshotIdentifier"]},
                lambda r: (r.get("DBSnapshotAttributesResult") or {}).get("DBSnapshotAttributes", []),
            ),
        ),
        one_params=lambda rid: {"DBSnapshotIdentifier": rid},
    ),
]
