"""Amazon MSK, MSK Connect and Amazon MQ on the wire: moto for clusters (provisioned and serverless) and brokers,
each beside a non-compliant twin; recorded responses for cluster encryption and key ownership (moto drops the
encryption settings it is given) and for MSK Connect (moto does not serve it)."""

from __future__ import annotations

import pytest

from cspm_stream.testing.moto import MotoServer
from tests.unit.collect.breadth_util import Estate, collect_fixture, collect_moto
from tests.unit.collect.conftest import reset

pytestmark = pytest.mark.moto

SUBNETS = ["subnet-0a1b2c3d4e5f60718", "subnet-0b1c2d3e4f5a60718"]


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> Estate:
    reset(moto_server)
    k = moto_server.boto3_client("kafka")
    k.create_cluster_v2(
        ClusterName="watched",
        Provisioned={
            "BrokerNodeGroupInfo": {"InstanceType": "kafka.m5.large", "ClientSubnets": SUBNETS},
            "KafkaVersion": "3.6.0",
            "NumberOfBrokerNodes": 2,
            "EnhancedMonitoring": "PER_BROKER",
        },
    )
    k.create_cluster_v2(
        ClusterName="default-monitoring",
        Provisioned={
            "BrokerNodeGroupInfo": {"InstanceType": "kafka.m5.large", "ClientSubnets": SUBNETS},
            "KafkaVersion": "3.6.0",
            "NumberOfBrokerNodes": 2,
        },
    )
    k.create_cluster_v2(ClusterName="serverless", Serverless={"VpcConfigs": [{"SubnetIds": SUBNETS}]})
    mq = moto_server.boto3_client("mq")
    common = {"EngineVersion": "5.18", "HostInstanceType": "mq.m5.large", "EngineType": "ACTIVEMQ"}
    users = [{"Username": "app", "Password": "Passw0rd-not-kept-1"}]
    mq.create_broker(
        BrokerName="hardened",
        DeploymentMode="ACTIVE_STANDBY_MULTI_AZ",
        PubliclyAccessible=False,
        AutoMinorVersionUpgrade=True,
        Logs={"General": True, "Audit": True},
        Users=users,
        **common,
    )
    mq.create_broker(
        BrokerName="exposed",
        DeploymentMode="SINGLE_INSTANCE",
        PubliclyAccessible=True,
        AutoMinorVersionUpgrade=False,
        Logs={"General": True, "Audit": False},
        Users=users,
        **common,
    )
    return collect_moto(moto_server, ["kafka", "mq"])


def test_clusters(estate: Estate) -> None:
    assert estate.ids("aws.kafka.cluster") == {"watched", "default-monitoring", "serverless"}
    serverless = estate.one("aws.kafka.cluster", "serverless")
    assert serverless.attributes["DataVolumeKeyManager"] is None
    pols = [
        "kafka_cluster_enhanced_monitoring_enabled",
        "kafka_cluster_is_public",
        "kafka_cluster_in_transit_encryption_enabled",
        "kafka_cluster_encryption_at_rest_uses_cmk",
    ]
    v = estate.verdicts(pols)
    # moto keeps none of the settings it is given: unreported settings fail, never pass; serverless always passes
    assert {p: (v[(p, "watched")], v[(p, "serverless")]) for p in pols} == {p: ("fail", "pass") for p in pols}


def test_brokers(estate: Estate) -> None:
    ids = {s.attributes["BrokerName"]: s.resource_id for s in estate.by_type["aws.mq.broker"]}
    assert "Passw0rd-not-kept-1" not in repr(estate.snaps)
    pols = [
        "mq_broker_active_deployment_mode",
        "mq_broker_auto_minor_version_upgrades",
        "mq_broker_logging_enabled",
        "mq_broker_activemq_audit_logging",
        "mq_broker_not_publicly_accessible",
    ]
    v = estate.verdicts(pols)
    assert {p: (v[(p, ids["hardened"])], v[(p, ids["exposed"])]) for p in pols} == {p: ("pass", "fail") for p in pols}
    v = estate.verdicts(["mq_broker_cluster_deployment_mode"])
    assert v[("mq_broker_cluster_deployment_mode", ids["exposed"])] == "pass"  # ActiveMQ: RabbitMQ-only policy


def test_recorded_encryption_and_key_ownership() -> None:
    e, aws = collect_fixture("kafka", "kafka")
    assert aws.unanswered == []
    assert e.one("aws.kafka.cluster", "borrowed-key").attributes["DataVolumeKeyManager"] == "EXTERNAL"
    assert ("kms", "DescribeKey") in {(c[0], c[1]) for c in aws.calls}
    pols = {
        "kafka_cluster_in_transit_encryption_enabled": ("pass", "fail", "fail"),
        "kafka_cluster_in_cluster_encryption": ("pass", "fail", "fail"),
        "kafka_cluster_is_public": ("pass", "fail", "fail"),
        "kafka_cluster_mutual_tls_authentication_enabled": ("pass", "fail", "fail"),
        "kafka_cluster_unrestricted_access_disabled": ("pass", "fail", "pass"),
        "kafka_cluster_encryption_at_rest_uses_cmk": ("pass", "fail", "fail"),
        "kafka_cluster_broker_logging_enabled": ("pass", "fail", "fail"),
    }
    v = e.verdicts(list(pols))
    order = ("secure", "legacy", "borrowed-key")
    assert {p: tuple(v[(p, c)] for c in order) for p in pols} == pols


def test_recorded_connectors() -> None:
    e, aws = collect_fixture("kafkaconnect", "kafka")
    assert aws.unanswered == []
    assert "connectorConfiguration" not in e.one("aws.kafkaconnect.connector", "orders-sink").attributes["Connector"]
    pols = ["kafka_connector_in_transit_encryption_enabled", "kafka_connector_logging_enabled"]
    v = e.verdicts(pols)
    assert {p: (v[(p, "orders-sink")], v[(p, "legacy-source")]) for p in pols} == {p: ("pass", "fail") for p in pols}
