"""EC2 launch templates (regional; collected with the ``ec2`` service).

``aws.ec2.launch_template``: the DescribeLaunchTemplates item (``LaunchTemplateId``, ``LaunchTemplateName``,
``DefaultVersionNumber``, ``LatestVersionNumber``, ``Tags``) plus ``Versions``: every version
(DescribeLaunchTemplateVersions) as ``{VersionNumber, DefaultVersion, MetadataOptions, NetworkInterfaces}`` —
each network interface with ``AssociatePublicIpAddress`` and, for an existing interface the template names
(``NetworkInterfaceId``), ``ExistingInterfacePublicIps``: that interface's public IPv4/IPv6 addresses.
``UserData`` is never kept.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, Scope, tags_from_list


def _arn(item: Item, scope: Scope) -> str:
    return f"arn:{scope.partition}:ec2:{scope.region}:{scope.account_id}:launch-template/{item['LaunchTemplateId']}"


def _global(addr: Any) -> bool:
    try:
        return bool(ipaddress.ip_address(str(addr)).is_global)
    except ValueError:
        return False


async def _eni_public_ips(calls: Calls, eni_id: str) -> list[str]:
    async def read() -> list[str]:
        resp = await calls.call("ec2", "describe_network_interfaces", NetworkInterfaceIds=[eni_id])
        out: list[str] = []
        for eni in resp.get("NetworkInterfaces") or []:
            for p in eni.get("PrivateIpAddresses") or []:
                ip = (p.get("Association") or {}).get("PublicIp")
                if ip and _global(ip):
                    out.append(str(ip))
            out.extend(str(a["Ipv6Address"]) for a in eni.get("Ipv6Addresses") or [] if _global(a.get("Ipv6Address")))
        return out

    ips: list[str] = await calls.cached(f"ec2-eni-public-ips:{eni_id}", read)
    return ips


async def _versions(calls: Calls, item: Item) -> Any:
    versions = await calls.paginate(
        "ec2", "describe_launch_template_versions", "LaunchTemplateVersions", LaunchTemplateId=item["LaunchTemplateId"]
    )
    out = []
    for v in versions:
        data = v.get("LaunchTemplateData") or {}
        nics = []
        for nic in data.get("NetworkInterfaces") or []:
            entry = {
                k: nic.get(k)
                for k in ("DeviceIndex", "NetworkInterfaceId", "AssociatePublicIpAddress", "SubnetId")
                if k in nic
            }
            if nic.get("NetworkInterfaceId"):
                entry["ExistingInterfacePublicIps"] = await _eni_public_ips(calls, str(nic["NetworkInterfaceId"]))
            nics.append(entry)
        out.append(
            {
                "VersionNumber": v.get("VersionNumber"),
                "DefaultVersion": v.get("DefaultVersion"),
                "MetadataOptions": data.get("MetadataOptions"),
                "NetworkInterfaces": nics,
            }
        )
    return out


SPECS = [
    ResourceSpec(
        resource_type="aws.ec2.launch_template",
        service="ec2",
        list_op="describe_launch_templates",
        items="LaunchTemplates",
        id=lambda item, scope: str(item["LaunchTemplateId"]),
        arn=_arn,
        tags=tags_from_list(),
        details=(Detail("Versions", fn=_versions),),
        one_params=lambda rid: {"LaunchTemplateIds": [rid]},
    ),
]
