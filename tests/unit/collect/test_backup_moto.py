"""AWS Backup on the wire: moto for vaults (encryption, lock) and plans; recorded responses for vault access
policies and recovery points (moto implements neither call)."""

from __future__ import annotations

import pytest

from cspm_stream.testing.moto import MotoServer
from tests.unit.collect.breadth_util import Estate, collect_fixture, collect_moto
from tests.unit.collect.conftest import reset

pytestmark = pytest.mark.moto


def _rule(name: str, days: int, copy: bool) -> dict[str, object]:
    rule: dict[str, object] = {
        "RuleName": name,
        "TargetBackupVaultName": "locked",
        "ScheduleExpression": "cron(0 5 ? * * *)",
        "Lifecycle": {"DeleteAfterDays": days},
    }
    if copy:
        rule["CopyActions"] = [
            {
                "DestinationBackupVaultArn": "arn:aws:backup:us-west-2:123456789012:backup-vault:dr",
                "Lifecycle": {"DeleteAfterDays": days},
            }
        ]
    return rule


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> tuple[Estate, dict[str, str]]:
    reset(moto_server)
    b = moto_server.boto3_client("backup")
    key = moto_server.boto3_client("kms").create_key()["KeyMetadata"]["Arn"]
    b.create_backup_vault(BackupVaultName="locked", BackupVaultTags={"env": "prod"}, EncryptionKeyArn=key)
    b.put_backup_vault_lock_configuration(BackupVaultName="locked", MinRetentionDays=7, MaxRetentionDays=365)
    b.create_backup_vault(BackupVaultName="unlocked")
    ids = {
        name: b.create_backup_plan(BackupPlan={"BackupPlanName": name, "Rules": [_rule("daily", days, copy)]})[
            "BackupPlanId"
        ]
        for name, days, copy in (("keeps-35d-copies", 35, True), ("keeps-7d", 7, False))
    }
    return collect_moto(moto_server, ["backup"]), ids


def test_vaults_and_plans(estate: tuple[Estate, dict[str, str]]) -> None:
    e, ids = estate
    locked = e.one("aws.backup.vault", "locked")
    assert locked.arn.endswith(":backup-vault:locked") and locked.tags == {"env": "prod"}
    plan = e.one("aws.backup.plan", ids["keeps-7d"])
    assert plan.attributes["BackupPlan"]["Rules"][0]["Lifecycle"]["DeleteAfterDays"] == 7
    v = e.verdicts(
        [
            "backup_vault_locked",
            "backup_vaults_encrypted",
            "backup_plan_min_retention_35_days",
            "backup_plan_cross_region_copy",
        ]
    )
    assert (v[("backup_vault_locked", "locked")], v[("backup_vault_locked", "unlocked")]) == ("pass", "fail")
    assert (v[("backup_vaults_encrypted", "locked")], v[("backup_vaults_encrypted", "unlocked")]) == ("pass", "fail")
    p35, p7 = ids["keeps-35d-copies"], ids["keeps-7d"]
    assert (v[("backup_plan_min_retention_35_days", p35)], v[("backup_plan_min_retention_35_days", p7)]) == (
        "pass",
        "fail",
    )
    assert (v[("backup_plan_cross_region_copy", p35)], v[("backup_plan_cross_region_copy", p7)]) == ("pass", "fail")


def test_moto_gaps_are_errors(estate: tuple[Estate, dict[str, str]]) -> None:
    e, _ = estate
    # no access policy call in moto: absent + error, never "no policy"
    assert ("aws.backup.vault", "AccessPolicy") in e.errors()
    # no recovery point listing in moto: the type's listing failed, one collection-error record
    (rp,) = e.by_type["aws.backup.recovery_point"]
    assert rp.resource_id == "*" and rp.errors[0].attribute == "*"
    assert e.verdicts(["backup_recovery_point_encrypted"])[("backup_recovery_point_encrypted", "*")] == "error"


def test_recorded_policies_and_recovery_points() -> None:
    e, aws = collect_fixture("backup", "backup")
    assert aws.unanswered == []
    assert e.one("aws.backup.vault", "prod-vault").attributes["AccessPolicy"] is None
    v = e.verdicts(["backup_vault_access_policy_public", "backup_recovery_point_encrypted"])
    assert v[("backup_vault_access_policy_public", "prod-vault")] == "pass"
    assert v[("backup_vault_access_policy_public", "shared-vault")] == "fail"
    assert v[("backup_recovery_point_encrypted", "snapshot/snap-0a1b2c3d4e5f67890")] == "pass"
    assert v[("backup_recovery_point_encrypted", "1EB3B5E7-9EB0-435A-A80B-108B488B0D45")] == "fail"
