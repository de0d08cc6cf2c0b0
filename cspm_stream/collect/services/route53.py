"""Route 53 (global): hosted zones and registered domains.

``aws.route53.hosted_zone``: the ListHostedZones item (``Id`` — ``/hostedzone/<id>``, ``Name``,
``Config.PrivateZone``, ``ResourceRecordSetCount``) plus ``QueryLoggingConfigs`` (the account's
ListQueryLoggingConfigs entries for this zone, ``[{Id, HostedZoneId, CloudWatchLogsLogGroupArn}]``; ``[]`` = no
query logging), ``ShieldProtection`` (null without a Shield Advanced subscription, else ``{Protected,
ProtectionId}``) and ``Tags`` (ListTagsForResource ``ResourceTagSet.Tags``). Id: the bare zone id.

``aws.route53.domain`` (Route 53 Domains, us-east-1): the ListDomains item (``DomainName``, ``AutoRenew``,
``TransferLock``, ``Expiry``) plus ``DomainDetail`` (GetDomainDetail: ``AdminPrivacy``, ``RegistrantPrivacy``,
``TechPrivacy``, ``StatusList``, ``AutoRenew``, ``ExpirationDate``, ``Nameservers``; the contact details are dropped)
and ``Tags`` (ListTagsForDomain ``TagList``).
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.services._shield import protection
from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, Scope, tags_from_list

CONTACTS = ("AdminContact", "RegistrantContact", "TechContact", "BillingContact")


def _zone_id(item: Item) -> str:
    return str(item["Id"]).rsplit("/", 1)[-1]


def _zone_arn(item: Item, scope: Scope) -> str:
    return f"arn:{scope.partition}:route53:::hostedzone/{_zone_id(item)}"


def _domain_arn(item: Item, scope: Scope) -> str:
    return f"arn:{scope.partition}:route53:::domain/{item['DomainName']}"


async def _query_logging(calls: Calls, item: Item) -> Any:
    async def read() -> Any:
        return await calls.paginate("route53", "list_query_logging_configs", "QueryLoggingConfigs")

    configs = await calls.cached("route53-query-logging", read)
    zid = _zone_id(item)
    return [c for c in configs if str(c.get("HostedZoneId", "")).rsplit("/", 1)[-1] == zid]


async def _zone_tags(calls: Calls, item: Item) -> Any:
    resp = await calls.call("route53", "list_tags_for_resource", ResourceType="hostedzone", ResourceId=_zone_id(item))
    return (resp.get("ResourceTagSet") or {}).get("Tags") or []


async def _zone_shield(calls: Calls, item: Item) -> Any:
    return await protection(calls, _zone_arn(item, calls.scope))


def _domain_detail(resp: dict[str, Any]) -> Any:
    # contact details are personal data the policies never need
    return {k: v for k, v in resp.items() if k not in CONTACTS and k != "ResponseMetadata"}


SPECS = [
    ResourceSpec(
        resource_type="aws.route53.hosted_zone",
        service="route53",
        list_op="list_hosted_zones",
        items="HostedZones",
        id=lambda item, scope: _zone_id(item),
        arn=_zone_arn,
        global_=True,
        tags=tags_from_list(),
        details=(
            Detail("QueryLoggingConfigs", fn=_query_logging),
            Detail("ShieldProtection", fn=_zone_shield),
            Detail("Tags", fn=_zone_tags),
        ),
    ),
    ResourceSpec(
        resource_type="aws.route53.domain",
        service="route53domains",
        list_op="list_domains",
        items="Domains",
        id=lambda item, scope: str(item["DomainName"]),
        arn=_domain_arn,
        global_=True,
        tags=tags_from_list("Tags"),
        details=(
            Detail("DomainDetail", "get_domain_detail", lambda i: {"DomainName": i["DomainName"]}, _domain_detail),
            Detail(
                "Tags",
                "list_tags_for_domain",
                lambda i: {"DomainName": i["DomainName"]},
                lambda r: r.get("TagList") or [],
            ),
        ),
    ),
]
