"""AWS WAF Classic: global (``waf``, CloudFront; the API lives in us-east-1) and regional (``waf-regional``)
web ACLs, rules and rule groups.

``aws.waf.web_acl`` / ``aws.wafregional.web_acl``: the ListWebACLs item (``WebACLId``, ``Name``) plus ``WebACL``
(GetWebACL: ``Rules`` — ``[{RuleId, Type (REGULAR | RATE_BASED | GROUP), Priority, Action}]`` —, ``DefaultAction``,
``WebACLArn``) and ``LoggingConfiguration`` (GetLoggingConfiguration on the ACL's ARN; null when not configured).

``aws.waf.rule`` / ``aws.wafregional.rule``: the ListRules item plus ``Rule`` (GetRule: ``Predicates``).

``aws.waf.rule_group`` / ``aws.wafregional.rule_group``: the ListRuleGroups item plus ``ActivatedRules``
(ListActivatedRulesInRuleGroup).

Listings page by ``NextMarker`` (waf-regional has no botocore paginators).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from cspm_stream.collect.faults import CallFailed
from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, Scope, member

MAX_PAGES = 10_000
NOT_FOUND = frozenset({"WAFNonexistentItemException"})


async def _marker_pages(calls: Calls, service: str, op: str, items: str, **params: Any) -> list[Any]:
    out: list[Any] = []
    marker: str | None = None
    for _ in range(MAX_PAGES):
        resp = await calls.call(service, op, **params, **({"NextMarker": marker} if marker else {}))
        out.extend(resp.get(items) or [])
        nxt = resp.get("NextMarker")
        if not nxt or nxt == marker:
            break
        marker = str(nxt)
    return out


def _lister(service: str, op: str, items: str) -> Callable[[Calls], AsyncIterator[Item]]:
    async def list_items(calls: Calls) -> AsyncIterator[Item]:
        for item in await _marker_pages(calls, service, op, items):
            if isinstance(item, dict):
                yield item

    return list_items


def _arn(namespace: str, kind: str, key: str, regional: bool) -> Callable[[Item, Scope], str]:
    def get(item: Item, scope: Scope) -> str:
        region = scope.region if regional else ""
        return f"arn:{scope.partition}:{namespace}:{region}:{scope.account_id}:{kind}/{item[key]}"

    return get


def _specs(client: str, namespace: str, type_service: str, regional: bool) -> list[ResourceSpec]:
    acl_arn = _arn(namespace, "webacl", "WebACLId", regional)

    async def logging(calls: Calls, item: Item) -> Any:
        try:
            resp = await calls.call(client, "get_logging_configuration", ResourceArn=acl_arn(item, calls.scope))
        except CallFailed as exc:
            if exc.fault.code in NOT_FOUND:
                return None
            raise
        return resp.get("LoggingConfiguration")

    async def activated(calls: Calls, item: Item) -> Any:
        return await _marker_pages(
            calls, client, "list_activated_rules_in_rule_group", "ActivatedRules", RuleGroupId=item["RuleGroupId"]
        )

    return [
        ResourceSpec(
            resource_type=f"aws.{type_service}.web_acl",
            service=client,
            list_op="list_web_acls",
            list_fn=_lister(client, "list_web_acls", "WebACLs"),
            id=lambda item, scope: str(item["WebACLId"]),
            arn=acl_arn,
            global_=not regional,
            details=(
                Detail("WebACL", "get_web_acl", lambda i: {"WebACLId": i["WebACLId"]}, member("WebACL")),
                Detail("LoggingConfiguration", fn=logging),
            ),
        ),
        ResourceSpec(
            resource_type=f"aws.{type_service}.rule",
            service=client,
            list_op="list_rules",
            list_fn=_lister(client, "list_rules", "Rules"),
            id=lambda item, scope: str(item["RuleId"]),
            arn=_arn(namespace, "rule", "RuleId", regional),
            global_=not regional,
            details=(Detail("Rule", "get_rule", lambda i: {"RuleId": i["RuleId"]}, member("Rule")),),
        ),
        ResourceSpec(
            resource_type=f"aws.{type_service}.rule_group",
            service=client,
            list_op="list_rule_groups",
            list_fn=_lister(client, "list_rule_groups", "RuleGroups"),
            id=lambda item, scope: str(item["RuleGroupId"]),
            arn=_arn(namespace, "rulegroup", "RuleGroupId", regional),
            global_=not regional,
            details=(Detail("ActivatedRules", fn=activated),),
        ),
    ]


GLOBAL_SPECS = _specs("waf", "waf", "waf", regional=False)
REGIONAL_SPECS = _specs("waf-regional", "waf-regional", "wafregional", regional=True)
