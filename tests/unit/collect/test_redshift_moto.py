"""Redshift on the wire: moto for clusters, logging status, snapshots and parameters; recorded responses for
require_ssl=true and a cluster without snapshots (moto can neither modify parameters nor drop automated snapshots)."""

from __future__ import annotations

import pytest

from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from tests.unit.collect.breadth_util import Estate, collect_fixture, collect_moto
from tests.unit.collect.conftest import reset

pytestmark = pytest.mark.moto


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> Estate:
    reset(moto_server)
    rs = moto_server.boto3_client("redshift")
    rs.create_cluster_parameter_group(
        ParameterGroupName="bi-params", ParameterGroupFamily="redshift-1.0", Description="bi"
    )
    common = {"NodeType": "ra3.xlplus", "MasterUserPassword": "Passw0rd!x1"}
    rs.create_cluster(
        ClusterIdentifier="good",
        MasterUsername="dwadmin",
        DBName="sales",
        Encrypted=True,
        EnhancedVpcRouting=True,
        PubliclyAccessible=False,
        ClusterParameterGroupName="bi-params",
        Port=5440,
        Tags=[{"Key": "team", "Value": "bi"}],
        **common,
    )
    rs.enable_logging(ClusterIdentifier="good", BucketName="redshift-audit")
    # the twin keeps every default: awsuser, dev, 5439, public, no encryption, no upgrades, no logging
    rs.create_cluster(
        ClusterIdentifier="bad", MasterUsername="awsuser", PubliclyAccessible=True, AllowVersionUpgrade=False, **common
    )
    return collect_moto(moto_server, ["redshift"])


def test_snapshots(estate: Estate) -> None:
    good = estate.one("aws.redshift.cluster", "good")
    assert good.arn == f"arn:aws:redshift:us-east-1:{ACCOUNT_ID}:cluster:good"
    assert good.tags == {"team": "bi"}
    assert good.attributes["LoggingStatus"]["LoggingEnabled"] is True
    assert good.attributes["Snapshots"][0]["SnapshotType"] == "automated"
    params = {p["ParameterName"]: p["ParameterValue"] for p in good.attributes["Parameters"]}
    assert params == {"enable_user_activity_logging": "false", "require_ssl": "false", "use_fips_ssl": "false"}
    assert estate.errors() == set()


def test_verdicts(estate: Estate) -> None:
    pols = {
        "redshift_cluster_audit_logging": ("pass", "fail"),
        "redshift_cluster_automated_snapshot": ("pass", "pass"),  # moto snapshots every cluster
        "redshift_cluster_automatic_upgrades": ("pass", "fail"),
        "redshift_cluster_encrypted_at_rest": ("pass", "fail"),
        "redshift_cluster_enhanced_vpc_routing": ("pass", "fail"),
        "redshift_cluster_non_default_database_name": ("pass", "fail"),
        "redshift_cluster_non_default_username": ("pass", "fail"),
        "redshift_cluster_public_access": ("pass", "fail"),
        "redshift_cluster_default_port": ("pass", "fail"),
        "redshift_cluster_in_transit_encryption_enabled": ("fail", "fail"),  # require_ssl false in moto's groups
        "redshift_cluster_multi_az_enabled": ("fail", "fail"),
    }
    v = estate.verdicts(list(pols))
    assert {p: (v[(p, "good")], v[(p, "bad")]) for p in pols} == pols


def test_recorded_tls_and_missing_snapshots() -> None:
    e, aws = collect_fixture("redshift", "redshift")
    assert aws.unanswered == []
    v = e.verdicts(
        [
            "redshift_cluster_in_transit_encryption_enabled",
            "redshift_cluster_automated_snapshot",
            "redshift_cluster_user_activity_logging",
            "redshift_cluster_multi_az_enabled",
        ]
    )
    assert v[("redshift_cluster_in_transit_encryption_enabled", "warehouse")] == "pass"
    assert v[("redshift_cluster_user_activity_logging", "warehouse")] == "pass"
    assert v[("redshift_cluster_multi_az_enabled", "warehouse")] == "pass"
    assert v[("redshift_cluster_automated_snapshot", "warehouse")] == "fail"
