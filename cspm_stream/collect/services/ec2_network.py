"""EC2 network resources and the region-wide lists other EC2 types' details read (regional).

Region-wide lists are read once per job (:meth:`Calls.cached`) and shared by every spec of the job: the
subnets and VPC endpoints listed here are the same answers the VPC details below summarise.

Types:

* ``aws.ec2.subnet``: the DescribeSubnets item (``MapPublicIpOnLaunch``, ``AvailabilityZone``, ``VpcId``,
  ``DefaultForAz``, ``CidrBlock``, ``AssignIpv6AddressOnCreation``). No detail call.
* ``aws.ec2.vpc_endpoint``: the DescribeVpcEndpoints item (``VpcEndpointType``, ``ServiceName``, ``SubnetIds``,
  ``State``, ``VpcId``, ``PolicyDocument`` parsed). No detail call.
* ``aws.ec2.elastic_ip``: the DescribeAddresses item (``AllocationId``, ``PublicIp``, ``AssociationId`` — absent
  when the address is not associated —, ``InstanceId``, ``NetworkInterfaceId``, ``Domain``). No detail call;
  ``Domain: standard`` (EC2-Classic) addresses have no allocation id and are identified by their address.
* ``aws.ec2.transit_gateway``: the DescribeTransitGateways item (``Options.AutoAcceptSharedAttachments``,
  ``Options.DefaultRouteTableAssociation``, ``State``, ``OwnerId``). No detail call.
* ``aws.ec2.vpn_connection``: the DescribeVpnConnections item (``VgwTelemetry[].Status`` — one entry per tunnel —,
  ``State``, ``Type``, ``VpnGatewayId``, ``TransitGatewayId``, ``CustomerGatewayId``); deleted connections are
  left out. No detail call.

Details of other EC2 types (their keys, in :mod:`cspm_stream.collect.services.ec2`):

* instance ``SecurityGroupRules`` (:func:`instance_security_group_rules`):
  ``[{GroupId, GroupName, IpPermissions}]`` for each group in the instance's ``SecurityGroups``;
* VPC ``Subnets`` (:func:`vpc_subnets`): ``[{SubnetId, AvailabilityZone, MapPublicIpOnLaunch}]`` plus
  ``AvailabilityZones``, the distinct zones of those subnets (sorted);
* VPC ``Endpoints`` (:func:`vpc_endpoints`): ``[{VpcEndpointId, ServiceName, VpcEndpointType, State}]``;
* volume ``Snapshots`` (:func:`volume_snapshots`): ids of the account's own snapshots taken of the volume
  (``[]`` = none; at most 20 listed).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from cspm_stream.collect.spec import Calls, Item, ResourceSpec, Scope, arn_fmt, key, tags_from_list

MAX_SNAPSHOT_IDS = 20


async def _all(calls: Calls, cache_key: str, operation: str, items: str, **params: Any) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        return [i for i in await calls.paginate("ec2", operation, items, **params) if isinstance(i, dict)]

    found: list[dict[str, Any]] = await calls.cached(cache_key, read)
    return found


async def all_security_groups(calls: Calls) -> dict[str, dict[str, Any]]:
    groups = await _all(calls, "ec2-security-groups", "describe_security_groups", "SecurityGroups")
    return {str(g["GroupId"]): g for g in groups if g.get("GroupId")}


async def all_subnets(calls: Calls) -> list[dict[str, Any]]:
    return await _all(calls, "ec2-subnets", "describe_subnets", "Subnets")


async def all_vpc_endpoints(calls: Calls) -> list[dict[str, Any]]:
    return await _all(calls, "ec2-vpc-endpoints", "describe_vpc_endpoints", "VpcEndpoints")


async def all_own_snapshots(calls: Calls) -> list[dict[str, Any]]:
    snaps = await _all(calls, "ec2-own-snapshots", "describe_snapshots", "Snapshots", OwnerIds=["self"])
    return [s for s in snaps if str(s.get("OwnerId", calls.scope.account_id)) == calls.scope.account_id]


# ---------------------------------------------------------------- details of other EC2 types


async def instance_security_group_rules(calls: Calls, item: Item) -> Any:
    groups = await all_security_groups(calls)
    out = []
    for ref in item.get("SecurityGroups") or []:
        gid = ref.get("GroupId") if isinstance(ref, dict) else None
        if not gid:
            continue
        group = groups.get(str(gid))
        if group is None:  # listed a moment ago by the instance: unreadable, not "no rules"
            raise LookupError(f"security group {gid} of {item.get('InstanceId')} not found")
        out.append(
            {
                "GroupId": gid,
                "GroupName": group.get("GroupName"),
                "IpPermissions": group.get("IpPermissions") or [],
            }
        )
    return out


async def vpc_subnets(calls: Calls, item: Item) -> Any:
    vpc = item.get("VpcId")
    keep = ("SubnetId", "AvailabilityZone", "MapPublicIpOnLaunch")
    return [{k: s.get(k) for k in keep} for s in await all_subnets(calls) if s.get("VpcId") == vpc]


def vpc_zones(item: Item) -> Item:
    """``post`` step of VPCs: ``AvailabilityZones`` from the ``Subnets`` detail (absent when it is)."""
    subnets = item.get("Subnets")
    if isinstance(subnets, list):
        item["AvailabilityZones"] = sorted(
            {str(s["AvailabilityZone"]) for s in subnets if isinstance(s, dict) and s.get("AvailabilityZone")}
        )
    return item


async def vpc_endpoints(calls: Calls, item: Item) -> Any:
    vpc = item.get("VpcId")
    keep = ("VpcEndpointId", "ServiceName", "VpcEndpointType", "State")
    return [{k: e.get(k) for k in keep} for e in await all_vpc_endpoints(calls) if e.get("VpcId") == vpc]


async def volume_snapshots(calls: Calls, item: Item) -> Any:
    vol = item.get("VolumeId")
    ids = [str(s.get("SnapshotId")) for s in await all_own_snapshots(calls) if s.get("VolumeId") == vol]
    return sorted(ids)[:MAX_SNAPSHOT_IDS]


# ---------------------------------------------------------------- types


async def _subnets(calls: Calls) -> AsyncIterator[Item]:
    for s in await all_subnets(calls):
        yield s


async def _endpoints(calls: Calls) -> AsyncIterator[Item]:
    for e in await all_vpc_endpoints(calls):
        yield e


def _endpoint_post(item: Item) -> Item:
    from cspm_stream.collect.normalize import parse_policy

    if "PolicyDocument" in item:
        item["PolicyDocument"] = parse_policy(item["PolicyDocument"])
    return item


def _eip_id(item: Item, scope: Scope) -> str:
    return str(item.get("AllocationId") or item["PublicIp"])


def _eip_arn(item: Item, scope: Scope) -> str:
    return f"arn:{scope.partition}:ec2:{scope.region}:{scope.account_id}:eip-allocation/{_eip_id(item, scope)}"


def _live_vpn(item: Item, scope: Scope) -> bool:
    return item.get("State") != "deleted"


SPECS = [
    ResourceSpec(
        resource_type="aws.ec2.subnet",
        service="ec2",
        list_op="describe_subnets",
        list_fn=_subnets,
        id=key("SubnetId"),
        arn=arn_fmt("arn:{partition}:ec2:{region}:{account}:subnet/{id}", "SubnetId"),
        tags=tags_from_list(),
    ),
    ResourceSpec(
        resource_type="aws.ec2.vpc_endpoint",
        service="ec2",
        list_op="describe_vpc_endpoints",
        list_fn=_endpoints,
        id=key("VpcEndpointId"),
        arn=arn_fmt("arn:{partition}:ec2:{region}:{account}:vpc-endpoint/{id}", "VpcEndpointId"),
        tags=tags_from_list(),
        post=_endpoint_post,
    ),
    ResourceSpec(
        resource_type="aws.ec2.elastic_ip",
        service="ec2",
        list_op="describe_addresses",
        paginated=False,
        items="Addresses",
        id=_eip_id,
        arn=_eip_arn,
        tags=tags_from_list(),
    ),
    ResourceSpec(
        resource_type="aws.ec2.transit_gateway",
        service="ec2",
        list_op="describe_transit_gateways",
        items="TransitGateways",
        id=key("TransitGatewayId"),
        arn=key("TransitGatewayArn"),
        tags=tags_from_list(),
        one_params=lambda rid: {"TransitGatewayIds": [rid]},
    ),
    ResourceSpec(
        resource_type="aws.ec2.vpn_connection",
        service="ec2",
        list_op="describe_vpn_connections",
        paginated=False,
        items="VpnConnections",
        item_filter=_live_vpn,
        id=key("VpnConnectionId"),
        arn=arn_fmt("arn:{partition}:ec2:{region}:{account}:vpn-connection/{id}", "VpnConnectionId"),
        tags=tags_from_list(),
        one_params=lambda rid: {"VpnConnectionIds": [rid]},
    ),
]
