"""Amazon Lightsail instances, managed databases and static IPs (regional). No detail calls.

* ``aws.lightsail.instance``: the GetInstances item (``publicIpAddress``, ``networking.ports[]`` with ``fromPort``,
  ``toPort``, ``protocol``, ``accessFrom``, ``accessType`` — ``public`` or ``private`` —, ``addOns[]`` with
  ``{name: AutoSnapshot, status: Enabled}`` when automatic snapshots are on, ``blueprintId``, ``isStaticIp``);
* ``aws.lightsail.database``: the GetRelationalDatabases item (``publiclyAccessible``, ``engine``,
  ``engineVersion``, ``backupRetentionEnabled``, ``masterUsername``; the password is never returned);
* ``aws.lightsail.static_ip``: the GetStaticIps item (``isAttached``, ``attachedTo``, ``ipAddress``).
"""

from __future__ import annotations

from cspm_stream.collect.spec import ResourceSpec, key, tags_from_list

SPECS = [
    ResourceSpec(
        resource_type="aws.lightsail.instance",
        service="lightsail",
        list_op="get_instances",
        items="instances",
        id=key("name"),
        arn=key("arn"),
        tags=tags_from_list("tags", "key", "value"),
    ),
    ResourceSpec(
        resource_type="aws.lightsail.database",
        service="lightsail",
        list_op="get_relational_databases",
        items="relationalDatabases",
        id=key("name"),
        arn=key("arn"),
        tags=tags_from_list("tags", "key", "value"),
    ),
    ResourceSpec(
        resource_type="aws.lightsail.static_ip",
        service="lightsail",
        list_op="get_static_ips",
        items="staticIps",
        id=key("name"),
        arn=key("arn"),
    ),
]
