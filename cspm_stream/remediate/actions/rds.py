"""RDS actions: make an instance private, deletion protection, public snapshot sharing."""

from __future__ import annotations

from typing import Any

from cspm_stream.models import RemediationCommand
from cspm_stream.remediate.base import Action, ApiCall, Clients, aws, region_of, register, tag_list


class _Rds(Action):
    tag_permissions = ("rds:ListTagsForResource",)

    async def tags(self, cx: Clients, cmd: RemediationCommand) -> dict[str, str]:
        r = await aws(cx, "rds", region_of(cmd), "list_tags_for_resource", ResourceName=cmd.resource_arn)
        return tag_list(r.get("TagList"))


async def _instance(cx: Clients, cmd: RemediationCommand) -> dict[str, Any]:
    r = await aws(cx, "rds", region_of(cmd), "describe_db_instances", DBInstanceIdentifier=cmd.resource_id)
    dbs = r.get("DBInstances", [])
    return dbs[0] if dbs else {}


@register
class RdsMakePrivate(_Rds):
    name = "rds_make_private"
    summary = "Set PubliclyAccessible=false on the DB instance (applied immediately)."
    resource_types = ("aws.rds.instance",)
    read_permissions = ("rds:DescribeDBInstances",)
    write_permissions = ("rds:ModifyDBInstance",)

    async def check(self, cx: Clients, cmd: RemediationCommand) -> dict[str, Any]:
        return {"PubliclyAccessible": bool((await _instance(cx, cmd)).get("PubliclyAccessible"))}

    def compliant(self, state: dict[str, Any]) -> bool:
        return not state["PubliclyAccessible"]

    def plan(self, cmd: RemediationCommand, state: dict[str, Any]) -> list[ApiCall]:
        params = {"DBInstanceIdentifier": cmd.resource_id, "PubliclyAccessible": False, "ApplyImmediately": True}
        return [ApiCall("rds", "modify_db_instance", region_of(cmd), params)]


@register
class RdsEnableDeletionProtection(_Rds):
    name = "rds_enable_deletion_protection"
    summary = "Enable deletion protection on the DB instance or Aurora cluster."
    resource_types = ("aws.rds.instance", "aws.rds.cluster")
    read_permissions = ("rds:DescribeDBInstances", "rds:DescribeDBClusters")
    write_permissions = ("rds:ModifyDBInstance", "rds:ModifyDBCluster")

    def _cluster(self, cmd: RemediationCommand) -> bool:
        return cmd.resource_type == "aws.rds.cluster"

    async def check(self, cx: Clients, cmd: RemediationCommand) -> dict[str, Any]:
        if self._cluster(cmd):
            r = await aws(cx, "rds", region_of(cmd), "describe_db_clusters", DBClusterIdentifier=cmd.resource_id)
            item = (r.get("DBClusters") or [{}])[0]
        else:
            item = await _instance(cx, cmd)
        return {"DeletionProtection": bool(item.get("DeletionProtection"))}

    def compliant(self, state: dict[str, Any]) -> bool:
        return bool(state["DeletionProtection"])

    def plan(self, cmd: RemediationCommand, state: dict[str, Any]) -> list[ApiCall]:
        if self._cluster(cmd):
            params = {"DBClusterIdentifier": cmd.resource_id, "DeletionProtection": True, "ApplyImmediately": True}
            return [ApiCall("rds", "modify_db_cluster", region_of(cmd), params)]
        params = {"DBInstanceIdentifier": cmd.resource_id, "DeletionProtection": True, "ApplyImmediately": True}
        return [ApiCall("rds", "modify_db_instance", region_of(cmd), params)]


@register
class RdsRemovePublicSnapshotSharing(_Rds):
    name = "rds_remove_public_snapshot_sharing"
    summary = "Remove 'all' from the restore attribute of the DB snapshot (other shared accounts kept)."
    resource_types = ("aws.rds.snapshot",)
    read_permissions = ("rds:DescribeDBSnapshotAttributes",)
    write_permissions = ("rds:ModifyDBSnapshotAttribute",)

    async def check(self, cx: Clients, cmd: RemediationCommand) -> dict[str, Any]:
        r = await aws(
            cx, "rds", region_of(cmd), "describe_db_snapshot_attributes", DBSnapshotIdentifier=cmd.resource_id
        )
        attrs = r.get("DBSnapshotAttributesResult", {}).get("DBSnapshotAttributes", [])
        restore = [v for a in attrs if a.get("AttributeName") == "restore" for v in a.get("AttributeValues", [])]
        return {"RestoreShares": restore}

    def compliant(self, state: dict[str, Any]) -> bool:
        return "all" not in state["RestoreShares"]

    def plan(self, cmd: RemediationCommand, state: dict[str, Any]) -> list[ApiCall]:
        params = {"DBSnapshotIdentifier": cmd.resource_id, "AttributeName": "restore", "ValuesToRemove": ["all"]}
        return [ApiCall("rds", "modify_db_snapshot_attribute", region_of(cmd), params)]
