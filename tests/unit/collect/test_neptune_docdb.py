"""Neptune on the wire (moto serves it through its RDS backend) and DocumentDB on recorded responses (moto's RDS
backend refuses the docdb engine): engine-filtered clusters next to an Aurora decoy, snapshots kept by engine, public
and shared snapshot attributes, paging, an unreadable detail as ERROR."""

from __future__ import annotations

import pytest

from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from tests.unit.collect.breadth_util import Estate, collect_fixture, collect_moto
from tests.unit.collect.conftest import reset

NEPTUNE_CLUSTER = [
    "neptune_cluster_backup_enabled",
    "neptune_cluster_copy_tags_to_snapshots",
    "neptune_cluster_deletion_protection",
    "neptune_cluster_iam_authentication_enabled",
    "neptune_cluster_integration_cloudwatch_logs",
    "neptune_cluster_multi_az",
    "neptune_cluster_storage_encrypted",
]
NEPTUNE_SNAPSHOT = ["neptune_cluster_public_snapshot", "neptune_cluster_snapshot_encrypted"]


@pytest.fixture(scope="module")
def neptune(moto_server: MotoServer) -> Estate:
    reset(moto_server)
    ne = moto_server.boto3_client("neptune")
    ne.create_db_cluster(
        DBClusterIdentifier="graph-good",
        Engine="neptune",
        StorageEncrypted=True,
        DeletionProtection=True,
        BackupRetentionPeriod=7,
        CopyTagsToSnapshot=True,
        EnableCloudwatchLogsExports=["audit", "slowquery"],
        Tags=[{"Key": "team", "Value": "graph"}],
    )
    # every default: 1-day backups, no protection, no logs, unencrypted
    ne.create_db_cluster(DBClusterIdentifier="graph-bad", Engine="neptune", BackupRetentionPeriod=6)
    ne.create_db_cluster_snapshot(DBClusterIdentifier="graph-good", DBClusterSnapshotIdentifier="graph-shared")
    ne.modify_db_cluster_snapshot_attribute(
        DBClusterSnapshotIdentifier="graph-shared", AttributeName="restore", ValuesToAdd=["210987654321"]
    )
    ne.create_db_cluster_snapshot(DBClusterIdentifier="graph-bad", DBClusterSnapshotIdentifier="graph-public")
    ne.modify_db_cluster_snapshot_attribute(
        DBClusterSnapshotIdentifier="graph-public", AttributeName="restore", ValuesToAdd=["all"]
    )
    # decoys: an Aurora cluster and its public snapshot are RDS's, not Neptune's
    rds = moto_server.boto3_client("rds")
    rds.create_db_cluster(
        DBClusterIdentifier="orders", Engine="aurora-postgresql", MasterUsername="app", MasterUserPassword="Passw0rd!x1"
    )
    rds.create_db_cluster_snapshot(DBClusterIdentifier="orders", DBClusterSnapshotIdentifier="orders-public")
    rds.modify_db_cluster_snapshot_attribute(
        DBClusterSnapshotIdentifier="orders-public", AttributeName="restore", ValuesToAdd=["all"]
    )
    return collect_moto(moto_server, ["neptune", "docdb"])


@pytest.mark.moto
def test_neptune_snapshots(neptune: Estate) -> None:
    assert neptune.ids("aws.neptune.cluster") == {"graph-good", "graph-bad"}
    snaps = neptune.ids("aws.neptune.cluster_snapshot")
    assert {"graph-shared", "graph-public"} <= snaps and "orders-public" not in snaps
    assert all(not s.startswith("rds:orders") for s in snaps)
    good = neptune.one("aws.neptune.cluster", "graph-good")
    assert good.arn == f"arn:aws:rds:us-east-1:{ACCOUNT_ID}:cluster:graph-good"
    assert good.tags == {"team": "graph"}
    public = neptune.one("aws.neptune.cluster_snapshot", "graph-public")
    assert public.attributes["Attributes"] == [{"AttributeName": "restore", "AttributeValues": ["all"]}]
    assert neptune.ids("aws.docdb.cluster") == set()  # the Aurora and Neptune clusters are not DocumentDB's
    assert neptune.errors() == set()


@pytest.mark.moto
def test_neptune_verdicts(neptune: Estate) -> None:
    v = neptune.verdicts(NEPTUNE_CLUSTER + NEPTUNE_SNAPSHOT)
    for pid in NEPTUNE_CLUSTER:
        want = (
            ("fail", "fail")
            if pid in ("neptune_cluster_multi_az", "neptune_cluster_iam_authentication_enabled")
            else ("pass", "fail")
        )
        assert (v[(pid, "graph-good")], v[(pid, "graph-bad")]) == want, pid
    assert v[("neptune_cluster_public_snapshot", "graph-shared")] == "pass"
    assert v[("neptune_cluster_public_snapshot", "graph-public")] == "fail"
    assert v[("neptune_cluster_snapshot_encrypted", "graph-shared")] == "pass"
    assert v[("neptune_cluster_snapshot_encrypted", "graph-public")] == "fail"


def test_docdb_recorded() -> None:
    e, aws = collect_fixture("docdb", "docdb")
    assert aws.unanswered == []
    assert e.ids("aws.docdb.cluster") == {"docs-prod", "docs-legacy"}  # second page read
    assert e.ids("aws.docdb.cluster_snapshot") == {"rds:docs-prod-2025-03-01-03-00", "docs-legacy-export"}
    prod = e.one("aws.docdb.cluster", "docs-prod")
    assert prod.tags == {"team": "docs"} and prod.errors == []
    legacy = e.one("aws.docdb.cluster", "docs-legacy")
    assert [f.attribute for f in legacy.errors] == ["Tags"]
    cluster_policies = [
        "documentdb_cluster_backup_enabled",
        "documentdb_cluster_cloudwatch_log_export",
        "documentdb_cluster_audit_logs",
        "documentdb_cluster_deletion_protection",
        "documentdb_cluster_multi_az_enabled",
        "documentdb_cluster_storage_encrypted",
    ]
    v = e.verdicts([*cluster_policies, "documentdb_cluster_public_snapshot"])
    for pid in cluster_policies:
        want = ("pass", "pass") if pid == "documentdb_cluster_audit_logs" else ("pass", "fail")
        assert (v[(pid, "docs-prod")], v[(pid, "docs-legacy")]) == want, pid
    assert v[("documentdb_cluster_public_snapshot", "rds:docs-prod-2025-03-01-03-00")] == "pass"
    assert v[("documentdb_cluster_public_snapshot", "docs-legacy-export")] == "fail"


@pytest.mark.moto
def test_rds_clusters_leave_neptune_to_its_own_type(moto_server: MotoServer, neptune: Estate) -> None:
    rds = collect_moto(moto_server, ["rds"])
    assert "orders" in rds.ids("aws.rds.cluster")
    assert not rds.ids("aws.rds.cluster") & {"graph-good", "graph-bad"}
