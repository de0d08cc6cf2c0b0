"""Amazon MQ (regional): brokers.

``aws.mq.broker``: the ListBrokers item (``BrokerId``, ``BrokerArn``, ``BrokerName``, ``EngineType``,
``DeploymentMode``) plus ``Broker`` (DescribeBroker: ``EngineType`` ActiveMQ/RabbitMQ, ``DeploymentMode``
SINGLE_INSTANCE/ACTIVE_STANDBY_MULTI_AZ/CLUSTER_MULTI_AZ, ``AutoMinorVersionUpgrade``, ``PubliclyAccessible``,
``Logs.General``/``Logs.Audit``, ``EncryptionOptions``, ``AuthenticationStrategy``, ``Tags``; user names only).
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.spec import Detail, ResourceSpec, key, tags_from_dict


def _broker(resp: dict[str, Any]) -> Any:
    return {k: v for k, v in resp.items() if k not in ("ResponseMetadata", "PendingSecurityGroups")}


SPECS = [
    ResourceSpec(
        resource_type="aws.mq.broker",
        service="mq",
        list_op="list_brokers",
        items="BrokerSummaries",
        id=key("BrokerId"),
        arn=key("BrokerArn"),
        tags=lambda item: tags_from_dict("Tags")(item.get("Broker") or {}),
        details=(Detail("Broker", "describe_broker", lambda i: {"BrokerId": i["BrokerId"]}, _broker),),
    ),
]
