"""AWS Backup (regional): vaults, recovery points and backup plans.

``aws.backup.vault``: the ListBackupVaults item (``BackupVaultName``, ``BackupVaultArn``, ``EncryptionKeyArn``,
``Locked``, ``MinRetentionDays``, ``MaxRetentionDays``, ``NumberOfRecoveryPoints``, ``VaultType``) plus
``AccessPolicy`` (GetBackupVaultAccessPolicy, parsed; null when the vault has none) and ``Tags`` (ListTags).

``aws.backup.recovery_point``: every ListRecoveryPointsByBackupVault item of every vault (``RecoveryPointArn``,
``BackupVaultName``, ``ResourceArn``, ``ResourceType``, ``IsEncrypted``, ``EncryptionKeyArn``, ``Status``,
``Lifecycle``, ``CreationDate``). Id: the recovery point ARN's last segment.

``aws.backup.plan``: the ListBackupPlans item (``BackupPlanId``, ``BackupPlanName``, ``BackupPlanArn``,
``LastExecutionDate``) plus ``BackupPlan`` (GetBackupPlan ``BackupPlan``: ``Rules`` with ``Lifecycle``,
``ScheduleExpression``, ``CopyActions``) and ``Tags``.
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.services._lists import children
from cspm_stream.collect.spec import Detail, ResourceSpec, key, member, policy_member, tags_from_dict


def _tags(resp: dict[str, Any]) -> Any:
    return resp.get("Tags") or {}


SPECS = [
    ResourceSpec(
        resource_type="aws.backup.vault",
        service="backup",
        list_op="list_backup_vaults",
        items="BackupVaultList",
        id=key("BackupVaultName"),
        arn=key("BackupVaultArn"),
        tags=tags_from_dict("Tags"),
        details=(
            Detail(
                "AccessPolicy",
                "get_backup_vault_access_policy",
                lambda i: {"BackupVaultName": i["BackupVaultName"]},
                policy_member("Policy"),
                frozenset({"ResourceNotFoundException"}),
            ),
            Detail("Tags", "list_tags", lambda i: {"ResourceArn": i["BackupVaultArn"]}, _tags),
        ),
    ),
    ResourceSpec(
        resource_type="aws.backup.recovery_point",
        service="backup",
        list_op="list_recovery_points_by_backup_vault",
        list_fn=children(
            "backup",
            "list_backup_vaults",
            "BackupVaultList",
            "list_recovery_points_by_backup_vault",
            "RecoveryPoints",
            lambda vault: {"BackupVaultName": vault["BackupVaultName"]},
            lambda vault: {"BackupVaultName": vault["BackupVaultName"]},
        ),
        id=lambda item, scope: str(item["RecoveryPointArn"]).rsplit(":", 1)[-1],
        arn=key("RecoveryPointArn"),
        parent_id=lambda item: str(item["BackupVaultName"]),
    ),
    ResourceSpec(
        resource_type="aws.backup.plan",
        service="backup",
        list_op="list_backup_plans",
        items="BackupPlansList",
        id=key("BackupPlanId"),
        arn=key("BackupPlanArn"),
        tags=tags_from_dict("Tags"),
        details=(
            Detail(
                "BackupPlan", "get_backup_plan", lambda i: {"BackupPlanId": i["BackupPlanId"]}, member("BackupPlan")
            ),
            Detail("Tags", "list_tags", lambda i: {"ResourceArn": i["BackupPlanArn"]}, _tags),
        ),
    ),
]
