"""Classic Load Balancers (elb, regional).

``aws.elb.load_balancer``: the DescribeLoadBalancers item (``LoadBalancerName``, ``Scheme``,
``AvailabilityZones``, ``Subnets``, ``SecurityGroups``, ``ListenerDescriptions`` —
``[{Listener: {Protocol, LoadBalancerPort, InstanceProtocol, InstancePort, SSLCertificateId}, PolicyNames}]``)
plus

* ``LoadBalancerAttributes``: DescribeLoadBalancerAttributes (``AccessLog.Enabled``,
  ``CrossZoneLoadBalancing.Enabled``, ``ConnectionDraining.Enabled``, ``AdditionalAttributes``
  ``[{Key, Value}]`` — ``elb.http.desyncmitigationmode`` among them);
* ``ListenerCertificates``: one entry per HTTPS/SSL listener with a certificate,
  ``{LoadBalancerPort, Protocol, SSLCertificateId, Type}`` where ``Type`` is the ACM certificate
  type (``AMAZON_ISSUED``, ``IMPORTED``, ``PRIVATE``), ``IAM`` for an IAM server certificate, or
  null when ACM does not know the ARN (deleted);
* ``ShieldProtection``: null without a Shield Advanced subscription, else ``{Protected, ProtectionId}``;
* ``Tags``: DescribeTags.
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.faults import CallFailed
from cspm_stream.collect.services._shield import protection
from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, Scope, member, tags_from_list

SECURE = ("HTTPS", "SSL")


def _arn(item: Item, scope: Scope) -> str:
    return f"arn:{scope.partition}:elasticloadbalancing:{scope.region}:{scope.account_id}:loadbalancer/{item['LoadBalancerName']}"


def _tags(resp: dict[str, Any]) -> Any:
    desc = resp.get("TagDescriptions") or []
    return desc[0].get("Tags", []) if desc else []


async def _certificate_type(calls: Calls, arn: str) -> Any:
    if ":iam::" in arn:
        return "IAM"

    async def describe() -> Any:
        try:
            resp = await calls.call("acm", "describe_certificate", CertificateArn=arn)
        except CallFailed as exc:
            if exc.fault.code == "ResourceNotFoundException":
                return None
            raise
        return (resp.get("Certificate") or {}).get("Type")

    return await calls.cached(f"acm-type:{arn}", describe)


async def _listener_certificates(calls: Calls, item: Item) -> Any:
    out = []
    for desc in item.get("ListenerDescriptions") or []:
        listener = desc.get("Listener") or {}
        cert = listener.get("SSLCertificateId")
        if not cert or listener.get("Protocol") not in SECURE:
            continue
        out.append(
            {
                "LoadBalancerPort": listener.get("LoadBalancerPort"),
                "Protocol": listener.get("Protocol"),
                "SSLCertificateId": cert,
                "Type": await _certificate_type(calls, str(cert)),
            }
        )
    return out


async def _shield(calls: Calls, item: Item) -> Any:
    return await protection(calls, _arn(item, calls.scope))


SPECS = [
    ResourceSpec(
        resource_type="aws.elb.load_balancer",
        service="elb",
        list_op="describe_load_balancers",
        items="LoadBalancerDescriptions",
        id=lambda item, scope: str(item["LoadBalancerName"]),
        arn=_arn,
        tags=tags_from_list(),
        details=(
            Detail(
                "LoadBalancerAttributes",
                "describe_load_balancer_attributes",
                lambda i: {"LoadBalancerName": i["LoadBalancerName"]},
                member("LoadBalancerAttributes"),
            ),
            Detail("ListenerCertificates", fn=_listener_certificates),
            Detail("ShieldProtection", fn=_shield),
            Detail("Tags", "describe_tags", lambda i: {"LoadBalancerNames": [i["LoadBalancerName"]]}, _tags),
        ),
        one_params=lambda rid: {"LoadBalancerNames": [rid]},
    ),
]
