"""Amazon EventBridge (regional): event buses and global endpoints.

``aws.events.event_bus``: the ListEventBuses item (``Name``, ``Arn``) plus ``Bus`` (DescribeEventBus: ``Policy``
parsed — absent when the bus has no resource policy —, ``KmsKeyIdentifier``, ``DeadLetterConfig.Arn``, and
``ForeignPrincipals``: the principals of the policy's Allow statements outside the scanned account — ``*``, another
account id, or an ARN of another account; service principals are not counted, nor statements whose condition
``StringEquals`` pins ``aws:PrincipalAccount`` to the scanned account) and
``Archives`` (ListArchives with ``EventSourceArn`` = the bus: ``ArchiveName``, ``State``, ``RetentionDays``).

``aws.events.endpoint`` (global endpoints): the ListEndpoints item plus ``Endpoint`` (DescribeEndpoint:
``ReplicationConfig.State`` ENABLED/DISABLED, ``RoutingConfig``, ``EventBuses``, ``State``).
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.normalize import parse_policy
from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, key


def _principals(statement: dict[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    if isinstance(principal, str):
        return [principal]
    if isinstance(principal, dict):
        aws = principal.get("AWS")
        values = aws if isinstance(aws, list) else [aws]
        return [str(v) for v in values if isinstance(v, str | int)]
    return []


def _pinned_to(statement: dict[str, Any], account: str) -> bool:
    """Whether the statement's condition admits callers of ``account`` only: ``StringEquals`` on
    ``aws:PrincipalAccount`` with this account as its only value (condition keys are case-insensitive;
    ``IfExists`` and set operators let other callers through and do not count)."""
    cond = statement.get("Condition")
    if not isinstance(cond, dict):
        return False
    for op, keys in cond.items():
        if op != "StringEquals" or not isinstance(keys, dict):
            continue
        for k, v in keys.items():
            values = v if isinstance(v, list) else [v]
            if str(k).lower() == "aws:principalaccount" and values and all(str(x) == account for x in values):
                return True
    return False


def foreign_principals(policy: Any, account: str) -> list[str]:
    """Principals of the Allow statements of ``policy`` that are not ``account`` (``*`` counts as foreign,
    unless the statement's condition pins ``aws:PrincipalAccount`` to ``account``)."""
    if not isinstance(policy, dict):
        return []
    statements = policy.get("Statement")
    statements = statements if isinstance(statements, list) else [statements]
    out: list[str] = []
    for st in statements:
        if not isinstance(st, dict) or st.get("Effect") != "Allow" or _pinned_to(st, account):
            continue
        for p in _principals(st):
            owner = p if p.isdigit() else (p.split(":")[4] if p.startswith("arn:") and p.count(":") >= 5 else p)
            if owner != account and p not in out:
                out.append(p)
    return out


async def _bus(calls: Calls, item: Item) -> Any:
    resp = await calls.call("events", "describe_event_bus", Name=item["Name"])
    body = {k: v for k, v in resp.items() if k != "ResponseMetadata"}
    if "Policy" in body:
        body["Policy"] = parse_policy(body["Policy"])
    body["ForeignPrincipals"] = foreign_principals(body.get("Policy"), calls.scope.account_id)
    return body


SPECS = [
    ResourceSpec(
        resource_type="aws.events.event_bus",
        service="events",
        list_op="list_event_buses",
        items="EventBuses[].{Name: Name, Arn: Arn}",
        id=key("Name"),
        arn=key("Arn"),
        details=(
            Detail("Bus", fn=_bus),
            Detail(
                "Archives",
                "list_archives",
                lambda i: {"EventSourceArn": i["Arn"]},
                lambda r: [
                    {k: a.get(k) for k in ("ArchiveName", "State", "RetentionDays", "EventSourceArn") if k in a}
                    for a in r.get("Archives") or []
                    if isinstance(a, dict)
                ],
            ),
        ),
        one_params=lambda rid: {"NamePrefix": rid},
    ),
    ResourceSpec(
        resource_type="aws.events.endpoint",
        service="events",
        list_op="list_endpoints",
        items="Endpoints[].{Name: Name, Arn: Arn}",
        id=key("Name"),
        arn=key("Arn"),
        details=(
            Detail(
                "Endpoint",
                "describe_endpoint",
                lambda i: {"Name": i["Name"]},
                lambda r: {k: v for k, v in r.items() if k != "ResponseMetadata"},
            ),
        ),
    ),
]
