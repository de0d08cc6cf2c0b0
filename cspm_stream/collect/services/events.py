"""Amazon EventBridge (regional): event buses and global endpoints.

``aws.events.event_bus``: the ListEventBuses item (``Name``, ``Arn``) plus ``Bus`` (DescribeEventBus: ``Policy``
parsed — absent when the bus has no resource policy —, ``KmsKeyIdentifier``, ``DeadLetterConfig.Arn``) and
``Archives`` (ListArchives with ``EventSourceArn`` = the bus: ``ArchiveName``, ``State``, ``RetentionDays``).

``aws.events.endpoint`` (global endpoints): the ListEndpoints item plus ``Endpoint`` (DescribeEndpoint:
``ReplicationConfig.State`` ENABLED/DISABLED, ``RoutingConfig``, ``EventBuses``, ``State``).
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.normalize import parse_policy
from cspm_stream.collect.spec import Detail, ResourceSpec, key


def _bus(resp: dict[str, Any]) -> Any:
    body = {k: v for k, v in resp.items() if k != "ResponseMetadata"}
    if "Policy" in body:
        body["Policy"] = parse_policy(body["Policy"])
    return body


SPECS = [
    ResourceSpec(
        resource_type="aws.events.event_bus",
        service="events",
        list_op="list_event_buses",
        items="EventBuses[].{Name: Name, Arn: Arn}",
        id=key("Name"),
        arn=key("Arn"),
        details=(
            Detail("Bus", "describe_event_bus", lambda i: {"Name": i["Name"]}, _bus),
            Detail(
                "Archives",
                "list_archives",
                lambda i: {"EventSourceArn": i["Arn"]},
                lambda r: [
                    {k: a.get(k) for k in ("ArchiveName", "State", "RetentionDays", "EventSourceArn") if k in a}
                    for a in r.get("Archives") or []
                    if isinstance(a, dict)
                ],
            ),
        ),
        one_params=lambda rid: {"NamePrefix": rid},
    ),
    ResourceSpec(
        resource_type="aws.events.endpoint",
        service="events",
        list_op="list_endpoints",
        items="Endpoints[].{Name: Name, Arn: Arn}",
        id=key("Name"),
        arn=key("Arn"),
        details=(
            Detail(
                "Endpoint",
                "describe_endpoint",
                lambda i: {"Name": i["Name"]},
                lambda r: {k: v for k, v in r.items() if k != "ResponseMetadata"},
            ),
        ),
    ),
]
