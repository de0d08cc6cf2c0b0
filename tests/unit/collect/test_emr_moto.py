"""Amazon EMR on the wire: moto for clusters, security configurations and Block Public Access; recorded
responses for a private primary node and a Kerberos cluster (moto always reports a public DNS name)."""

from __future__ import annotations

import json

import pytest

from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from tests.unit.collect.breadth_util import Estate, collect_fixture, collect_moto
from tests.unit.collect.conftest import reset

pytestmark = pytest.mark.moto

SECURE = {
    "EncryptionConfiguration": {
        "EnableAtRestEncryption": True,
        "EnableInTransitEncryption": True,
        "AtRestEncryptionConfiguration": {"S3EncryptionConfiguration": {"EncryptionMode": "SSE-S3"}},
        "InTransitEncryptionConfiguration": {
            "TLSCertificateConfiguration": {"CertificateProviderType": "PEM", "S3Object": "s3://certs/certs.zip"}
        },
    }
}


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> tuple[Estate, dict[str, str]]:
    reset(moto_server)
    emr = moto_server.boto3_client("emr")
    emr.create_security_configuration(Name="secure", SecurityConfiguration=json.dumps(SECURE))
    ids = {}
    for name, conf in (("encrypted", "secure"), ("plain", None)):
        ids[name] = emr.run_job_flow(
            Name=name,
            ReleaseLabel="emr-6.15.0",
            Instances={
                "MasterInstanceType": "m5.xlarge",
                "SlaveInstanceType": "m5.xlarge",
                "InstanceCount": 3,
                "KeepJobFlowAliveWhenNoSteps": True,
            },
            JobFlowRole="EMR_EC2_DefaultRole",
            ServiceRole="EMR_DefaultRole",
            Tags=[{"Key": "team", "Value": "data"}],
            **({"SecurityConfiguration": conf} if conf else {}),
        )["JobFlowId"]
    done = emr.run_job_flow(
        Name="finished",
        ReleaseLabel="emr-6.15.0",
        Instances={"MasterInstanceType": "m5.xlarge", "InstanceCount": 1, "KeepJobFlowAliveWhenNoSteps": True},
        JobFlowRole="EMR_EC2_DefaultRole",
        ServiceRole="EMR_DefaultRole",
    )["JobFlowId"]
    emr.terminate_job_flows(JobFlowIds=[done])
    ids["finished"] = done
    return collect_moto(moto_server, ["emr"]), ids


def test_clusters(estate: tuple[Estate, dict[str, str]]) -> None:
    e, ids = estate
    assert e.ids("aws.emr.cluster") == {ids["encrypted"], ids["plain"]}  # terminated clusters are not resources
    enc = e.one("aws.emr.cluster", ids["encrypted"])
    assert enc.arn == f"arn:aws:elasticmapreduce:us-east-1:{ACCOUNT_ID}:cluster/{ids['encrypted']}"
    assert enc.tags == {"team": "data"}
    assert enc.attributes["SecurityConfigurationDetail"] == SECURE
    assert e.one("aws.emr.cluster", ids["plain"]).attributes["SecurityConfigurationDetail"] is None
    v = e.verdicts(
        ["emr_cluster_encryption_at_rest", "emr_cluster_encryption_in_transit", "emr_cluster_master_nodes_no_public_ip"]
    )
    for p in ("emr_cluster_encryption_at_rest", "emr_cluster_encryption_in_transit"):
        assert (v[(p, ids["encrypted"])], v[(p, ids["plain"])]) == ("pass", "fail"), p
    assert v[("emr_cluster_master_nodes_no_public_ip", ids["plain"])] == "fail"  # moto: ec2-...amazonaws.com


def test_block_public_access(estate: tuple[Estate, dict[str, str]]) -> None:
    e, _ = estate
    v = e.verdicts(["emr_cluster_account_public_block_enabled"])
    assert v[("emr_cluster_account_public_block_enabled", "us-east-1")] == "fail"  # moto: nothing configured


def test_recorded_private_kerberos_cluster() -> None:
    e, aws = collect_fixture("emr", "emr")
    assert aws.unanswered == []
    c = e.one("aws.emr.cluster", "j-2AXXXXXXGAPLF")
    assert "KdcAdminPassword" not in c.attributes["Cluster"]["KerberosAttributes"]
    v = e.verdicts(
        [
            "emr_cluster_master_nodes_no_public_ip",
            "emr_cluster_kerberos_enabled",
            "emr_cluster_account_public_block_enabled",
            "emr_block_public_access_no_port_exceptions",
        ]
    )
    assert v[("emr_cluster_master_nodes_no_public_ip", "j-2AXXXXXXGAPLF")] == "pass"
    assert v[("emr_cluster_kerberos_enabled", "j-2AXXXXXXGAPLF")] == "pass"
    assert v[("emr_cluster_account_public_block_enabled", "us-east-1")] == "pass"
    assert v[("emr_block_public_access_no_port_exceptions", "us-east-1")] == "pass"
