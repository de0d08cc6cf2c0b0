"""Amazon MSK (regional): clusters (provisioned and serverless) and MSK Connect connectors.

``aws.kafka.cluster``: ``{ClusterName, ClusterArn, ClusterType}`` plus ``Cluster`` — the ListClustersV2 record
(read once per job): ``State``, ``ClusterType`` PROVISIONED/SERVERLESS and, for provisioned clusters,
``Provisioned.EncryptionInfo`` (``EncryptionInTransit.ClientBroker``/``InCluster``,
``EncryptionAtRest.DataVolumeKMSKeyId``), ``Provisioned.ClientAuthentication`` (``Tls.Enabled``,
``Sasl.Scram/Iam.Enabled``, ``Unauthenticated.Enabled``), ``Provisioned.BrokerNodeGroupInfo.ConnectivityInfo
.PublicAccess.Type``, ``Provisioned.EnhancedMonitoring``, ``Provisioned.LoggingInfo.BrokerLogs``,
``Provisioned.CurrentBrokerSoftwareInfo.KafkaVersion``; ``Tags`` — and ``DataVolumeKeyManager``: the KeyManager
(CUSTOMER/AWS) of the provisioned cluster's data-volume key (KMS DescribeKey), ``EXTERNAL`` for a key of another
account or Region (Prowler matches keys of the scanned account and Region only), null for serverless clusters.

``aws.kafkaconnect.connector``: the ListConnectors item plus ``Connector`` (DescribeConnector:
``kafkaClusterEncryptionInTransit.encryptionType`` PLAINTEXT/TLS, ``kafkaClusterClientAuthentication``,
``logDelivery.workerLogDelivery``, ``connectorState``; the connector configuration — properties that may hold
credentials — is not kept).
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.services._listed import listed
from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, key, tags_from_dict

_clusters, _cluster = listed(
    "kafka", "list_clusters_v2", "ClusterInfoList", "ClusterArn", ("ClusterArn", "ClusterName", "ClusterType")
)


async def _key_manager(calls: Calls, item: Item) -> Any:
    cluster = await _cluster(calls, item)
    if cluster.get("ClusterType") != "PROVISIONED":
        return None
    key_id = (((cluster.get("Provisioned") or {}).get("EncryptionInfo") or {}).get("EncryptionAtRest") or {}).get(
        "DataVolumeKMSKeyId"
    )
    if not key_id:
        return None
    parts = str(key_id).split(":")
    if len(parts) >= 5 and (parts[3] != calls.scope.region or parts[4] != calls.scope.account_id):
        return "EXTERNAL"
    meta = (await calls.call("kms", "describe_key", KeyId=key_id)).get("KeyMetadata") or {}
    return meta.get("KeyManager")


def _connector(resp: dict[str, Any]) -> Any:
    return {k: v for k, v in resp.items() if k not in ("ResponseMetadata", "connectorConfiguration")}


SPECS = [
    ResourceSpec(
        resource_type="aws.kafka.cluster",
        service="kafka",
        list_op="list_clusters_v2",
        list_fn=_clusters,
        id=key("ClusterName"),
        arn=key("ClusterArn"),
        tags=lambda item: tags_from_dict("Tags")(item.get("Cluster") or {}),
        details=(Detail("Cluster", fn=_cluster), Detail("DataVolumeKeyManager", fn=_key_manager)),
    ),
]

CONNECT_SPECS = [
    ResourceSpec(
        resource_type="aws.kafkaconnect.connector",
        service="kafkaconnect",
        list_op="list_connectors",
        items="connectors[].{connectorName: connectorName, connectorArn: connectorArn}",
        id=key("connectorName"),
        arn=key("connectorArn"),
        details=(Detail("Connector", "describe_connector", lambda i: {"connectorArn": i["connectorArn"]}, _connector),),
    ),
]
