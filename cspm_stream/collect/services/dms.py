"""AWS Database Migration Service (regional): replication instances, endpoints and replication tasks.

``aws.dms.replication_instance``: ``{ReplicationInstanceIdentifier, ReplicationInstanceArn}`` plus ``Instance`` —
the DescribeReplicationInstances record (read once per job): ``PubliclyAccessible``, ``AutoMinorVersionUpgrade``,
``MultiAZ``, ``VpcSecurityGroups`` (``VpcSecurityGroupId``, ``Status``), ``KmsKeyId``, ``EngineVersion`` — and
``SecurityGroups``: the instance's *active* VPC security groups (EC2 DescribeSecurityGroups: ``GroupId``,
``IpPermissions``), as Prowler reads them to decide whether a publicly accessible instance is reachable.

``aws.dms.endpoint``: ``{EndpointIdentifier, EndpointArn}`` plus ``Endpoint`` (the DescribeEndpoints record:
``EndpointType``, ``EngineName``, ``SslMode``, ``RedisSettings.SslSecurityProtocol``, ``MongoDbSettings.AuthType``,
``NeptuneSettings.IamAuthEnabled``; every ``*Password*`` member removed).

``aws.dms.replication_task``: ``{ReplicationTaskIdentifier, ReplicationTaskArn}`` plus ``Task`` (the
DescribeReplicationTasks record: ``Status``, ``MigrationType``, endpoint ARNs, and ``ReplicationTaskSettings``
parsed from its JSON text, keeping ``Logging`` — ``EnableLogging``, ``LogComponents`` with ``Id``/``Severity``;
table mappings are not kept).
"""

from __future__ import annotations

import json
from typing import Any

from cspm_stream.collect.services._listed import listed
from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, key


def _no_passwords(value: Any, depth: int = 0) -> Any:
    if depth > 8:
        return None
    if isinstance(value, dict):
        return {k: _no_passwords(v, depth + 1) for k, v in value.items() if "password" not in str(k).lower()}
    if isinstance(value, list):
        return [_no_passwords(v, depth + 1) for v in value]
    return value


def _task(record: dict[str, Any]) -> Any:
    task = {k: v for k, v in record.items() if k not in ("TableMappings", "ReplicationTaskSettings", "TaskData")}
    text = record.get("ReplicationTaskSettings")
    settings: Any = None
    if isinstance(text, str) and text.strip():
        try:
            settings = json.loads(text)
        except ValueError:
            settings = None
    logging = settings.get("Logging") if isinstance(settings, dict) else None
    task["ReplicationTaskSettings"] = {"Logging": logging} if isinstance(logging, dict) else {}
    return task


_instances, _instance = listed(
    "dms",
    "describe_replication_instances",
    "ReplicationInstances",
    "ReplicationInstanceArn",
    ("ReplicationInstanceIdentifier", "ReplicationInstanceArn"),
)
_endpoints, _endpoint = listed(
    "dms",
    "describe_endpoints",
    "Endpoints",
    "EndpointArn",
    ("EndpointIdentifier", "EndpointArn"),
    transform=_no_passwords,
)
_tasks, _task_detail = listed(
    "dms",
    "describe_replication_tasks",
    "ReplicationTasks",
    "ReplicationTaskArn",
    ("ReplicationTaskIdentifier", "ReplicationTaskArn"),
    params={"WithoutSettings": False},
    transform=_task,
)


async def _security_groups(calls: Calls, item: Item) -> Any:
    instance = await _instance(calls, item)
    ids = [
        g.get("VpcSecurityGroupId")
        for g in instance.get("VpcSecurityGroups") or []
        if isinstance(g, dict) and g.get("Status") == "active" and g.get("VpcSecurityGroupId")
    ]
    if not ids:
        return []
    groups = await calls.paginate("ec2", "describe_security_groups", "SecurityGroups", GroupIds=ids)
    return [{"GroupId": g.get("GroupId"), "IpPermissions": g.get("IpPermissions") or []} for g in groups]


SPECS = [
    ResourceSpec(
        resource_type="aws.dms.replication_instance",
        service="dms",
        list_op="describe_replication_instances",
        list_fn=_instances,
        id=key("ReplicationInstanceIdentifier"),
        arn=key("ReplicationInstanceArn"),
        details=(Detail("Instance", fn=_instance), Detail("SecurityGroups", fn=_security_groups)),
    ),
    ResourceSpec(
        resource_type="aws.dms.endpoint",
        service="dms",
        list_op="describe_endpoints",
        list_fn=_endpoints,
        id=key("EndpointIdentifier"),
        arn=key("EndpointArn"),
        details=(Detail("Endpoint", fn=_endpoint),),
    ),
    ResourceSpec(
        resource_type="aws.dms.replication_task",
        service="dms",
        list_op="describe_replication_tasks",
        list_fn=_tasks,
        id=key("ReplicationTaskIdentifier"),
        arn=key("ReplicationTaskArn"),
        details=(Detail("Task", fn=_task_detail),),
    ),
]
