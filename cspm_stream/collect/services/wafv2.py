"""AWS WAF (wafv2) web ACLs: REGIONAL ones in every region, CLOUDFRONT ones from us-east-1 (where the API
serves them), both as ``aws.wafv2.web_acl`` with the region of their ARN.

Attributes: the ListWebACLs summary (``Name``, ``Id``, ``ARN``) plus ``Scope`` (REGIONAL | CLOUDFRONT) and

* ``WebACL``: GetWebACL's ``WebACL`` (``Rules`` with ``Statement`` and ``VisibilityConfig``, ``DefaultAction``,
  ``PreProcessFirewallManagerRuleGroups``, ``PostProcessFirewallManagerRuleGroups``, ``VisibilityConfig``);
* ``LoggingConfiguration``: GetLoggingConfiguration (null when logging is not configured);
* ``AssociatedResources``: ARNs of what the ACL protects — ListResourcesForWebACL per resource type for a
  regional ACL, ListDistributionsByWebACLId for a CloudFront one;
* ``Tags``: ListTagsForResource ``TagInfoForResource.TagList``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, key, member, tags_from_list

REGIONAL_TYPES = (
    "APPLICATION_LOAD_BALANCER",
    "API_GATEWAY",
    "APPSYNC",
    "COGNITO_USER_POOL",
    "APP_RUNNER_SERVICE",
    "VERIFIED_ACCESS_INSTANCE",
)


def _cloudfront_home(calls: Calls) -> bool:
    return calls.scope.partition == "aws" and calls.scope.region == "us-east-1"


async def _web_acls(calls: Calls) -> AsyncIterator[Item]:
    scopes = ["REGIONAL", "CLOUDFRONT"] if _cloudfront_home(calls) else ["REGIONAL"]
    for scope in scopes:
        for acl in await calls.paginate("wafv2", "list_web_acls", "WebACLs", Scope=scope):
            yield {**acl, "Scope": scope}


async def _associated(calls: Calls, item: Item) -> Any:
    if item["Scope"] == "CLOUDFRONT":
        resp = await calls.call("cloudfront", "list_distributions_by_web_acl_id", WebACLId=item["ARN"])
        return [d.get("ARN") for d in (resp.get("DistributionList") or {}).get("Items") or []]
    out: list[Any] = []
    for rtype in REGIONAL_TYPES:
        resp = await calls.call("wafv2", "list_resources_for_web_acl", WebACLArn=item["ARN"], ResourceType=rtype)
        out.extend(resp.get("ResourceArns") or [])
    return out


SPECS = [
    ResourceSpec(
        resource_type="aws.wafv2.web_acl",
        service="wafv2",
        list_op="list_web_acls",
        list_fn=_web_acls,
        id=lambda item, scope: str(item["Id"]),
        arn=key("ARN"),
        tags=tags_from_list(),
        details=(
            Detail(
                "WebACL",
                "get_web_acl",
                lambda i: {"Name": i["Name"], "Id": i["Id"], "Scope": i["Scope"]},
                member("WebACL"),
            ),
            Detail(
                "LoggingConfiguration",
                "get_logging_configuration",
                lambda i: {"ResourceArn": i["ARN"]},
                member("LoggingConfiguration"),
                frozenset({"WAFNonexistentItemException"}),
            ),
            Detail("AssociatedResources", fn=_associated),
            Detail(
                "Tags",
                "list_tags_for_resource",
                lambda i: {"ResourceARN": i["ARN"]},
                lambda r: (r.get("TagInfoForResource") or {}).get("TagList") or [],
            ),
        ),
    ),
]
