"""AWS Direct Connect, per region (``aws.directconnect.region``, one pseudo resource per account and region).

* ``Connections``: DescribeConnections (``[{connectionId, connectionName, location, connectionState, bandwidth}]``,
  every state; ``[]`` = none);
* ``Locations``: the distinct ``location`` codes of those connections (sorted; derived, absent when the
  connections could not be read).
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.spec import Detail, Item, ResourceSpec, region_arn, region_id

KEEP = ("connectionId", "connectionName", "location", "connectionState", "bandwidth", "lagId")


def _connections(resp: dict[str, Any]) -> Any:
    return [{k: c[k] for k in KEEP if k in c} for c in resp.get("connections") or [] if isinstance(c, dict)]


def _locations(item: Item) -> Item:
    conns = item.get("Connections")
    if isinstance(conns, list):
        item["Locations"] = sorted({str(c["location"]) for c in conns if isinstance(c, dict) and c.get("location")})
    return item


SPECS = [
    ResourceSpec(
        resource_type="aws.directconnect.region",
        service="directconnect",
        list_op=None,
        id=region_id,
        arn=region_arn("directconnect"),
        details=(Detail("Connections", "describe_connections", extract=_connections),),
        post=_locations,
    ),
]
