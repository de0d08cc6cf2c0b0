"""EC2 Auto Scaling groups (regional).

``aws.autoscaling.group``: the DescribeAutoScalingGroups item (``AutoScalingGroupName``, ``AvailabilityZones``,
``HealthCheckType``, ``LoadBalancerNames``, ``TargetGroupARNs``, ``CapacityRebalance``, ``LaunchTemplate``,
``MixedInstancesPolicy``, ``LaunchConfigurationName``, ``Instances``, ``Tags``) plus

* ``InstanceTypesByAz``: ``[{AvailabilityZone, InstanceTypes}]`` — the distinct instance types of the group's
  running instances per zone (derived from ``Instances``; ``[]`` when the group has none);
* ``LaunchConfiguration``: DescribeLaunchConfigurations of the group's launch configuration
  (``AssociatePublicIpAddress``, ``MetadataOptions``; ``UserData`` dropped — it often holds secrets); null when the
  group uses a launch template or the named configuration no longer exists.

``aws.autoscaling.launch_configuration``: the DescribeLaunchConfigurations item (``AssociatePublicIpAddress``,
``MetadataOptions``, ``ImageId``, ``InstanceType``; ``UserData`` dropped).
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, key, tags_from_list


def _types_by_az(item: Item) -> Item:
    zones: dict[str, set[str]] = {}
    for inst in item.get("Instances") or []:
        if isinstance(inst, dict) and inst.get("AvailabilityZone") and inst.get("InstanceType"):
            zones.setdefault(str(inst["AvailabilityZone"]), set()).add(str(inst["InstanceType"]))
    item["InstanceTypesByAz"] = [{"AvailabilityZone": z, "InstanceTypes": sorted(t)} for z, t in sorted(zones.items())]
    return item


def _drop_user_data(item: Item) -> Item:
    item.pop("UserData", None)
    return item


def _launch_configuration(resp: dict[str, Any]) -> Any:
    found = resp.get("LaunchConfigurations") or []
    if not found:
        return None
    lc = dict(found[0])
    lc.pop("UserData", None)
    return lc


async def _group_launch_configuration(calls: Calls, item: Item) -> Any:
    name = item.get("LaunchConfigurationName")
    if not name:
        return None
    resp = await calls.call("autoscaling", "describe_launch_configurations", LaunchConfigurationNames=[name])
    return _launch_configuration(resp)


SPECS = [
    ResourceSpec(
        resource_type="aws.autoscaling.group",
        service="autoscaling",
        list_op="describe_auto_scaling_groups",
        items="AutoScalingGroups",
        id=key("AutoScalingGroupName"),
        arn=key("AutoScalingGroupARN"),
        tags=tags_from_list(),
        post=_types_by_az,
        details=(Detail("LaunchConfiguration", fn=_group_launch_configuration),),
        one_params=lambda rid: {"AutoScalingGroupNames": [rid]},
    ),
    ResourceSpec(
        resource_type="aws.autoscaling.launch_configuration",
        service="autoscaling",
        list_op="describe_launch_configurations",
        items="LaunchConfigurations",
        id=key("LaunchConfigurationName"),
        arn=key("LaunchConfigurationARN"),
        post=_drop_user_data,
        one_params=lambda rid: {"LaunchConfigurationNames": [rid]},
    ),
]
