"""CloudWatch Logs log groups (regional; collected with the ``logs`` service).

``aws.logs.log_group``: the DescribeLogGroups item (``logGroupName``, ``logGroupArn``, ``kmsKeyId``,
``retentionInDays`` — absent means never expire —, ``dataProtectionStatus``, ``logGroupClass``, ``storedBytes``) plus
``ResourcePolicies``: the Region's CloudWatch Logs resource policies (DescribeResourcePolicies, read once per job,
documents parsed) whose statements name this group (``Resource`` covering its ARN, or ``*``). No per-group call:
accounts hold thousands of log groups. The ARN is the group's ARN without the ``:*`` suffix.
"""

from __future__ import annotations

import functools
from typing import Any

from cspm_stream import safe_regex
from cspm_stream.collect.normalize import parse_policy
from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, Scope


def _arn(item: Item, scope: Scope) -> str:
    arn = item.get("logGroupArn") or str(item.get("arn") or "").removesuffix(":*")
    if not arn:
        arn = f"arn:{scope.partition}:logs:{scope.region}:{scope.account_id}:log-group:{item['logGroupName']}"
    return str(arn)


def _covers(pattern: Any, arn: str) -> bool:
    if not isinstance(pattern, str):
        return False
    if pattern == "*":
        return True
    # statement resources name the group with or without ':*' and may use wildcards (RE2: linear time)
    rx = _glob(pattern[:2048])
    return rx.fullmatch(arn) or rx.fullmatch(arn + ":*")


@functools.lru_cache(maxsize=1024)
def _glob(pattern: str) -> safe_regex.LinearRegex:
    return safe_regex.glob(pattern, ignorecase=False)


async def _policies(calls: Calls, item: Item) -> Any:
    async def read() -> list[dict[str, Any]]:
        raw = await calls.paginate("logs", "describe_resource_policies", "resourcePolicies")
        return [
            {"policyName": p.get("policyName"), "policyDocument": parse_policy(p.get("policyDocument"))}
            for p in raw
            if isinstance(p, dict)
        ]

    policies: list[dict[str, Any]] = await calls.cached("logs-resource-policies", read)
    arn = _arn(item, calls.scope)
    out = []
    for p in policies:
        doc = p["policyDocument"]
        statements = doc.get("Statement") if isinstance(doc, dict) else None
        if isinstance(statements, dict):
            statements = [statements]
        for st in statements or []:
            resources = st.get("Resource") if isinstance(st, dict) else None
            resources = resources if isinstance(resources, list) else [resources]
            if any(_covers(r, arn) for r in resources):
                out.append(p)
                break
    return out


SPECS = [
    ResourceSpec(
        resource_type="aws.logs.log_group",
        service="logs",
        list_op="describe_log_groups",
        items="logGroups",
        id=lambda item, scope: str(item["logGroupName"]),
        arn=_arn,
        details=(Detail("ResourcePolicies", fn=_policies),),
        one_params=lambda rid: {"logGroupNamePrefix": rid},
    ),
]
