"""Amazon ECS (regional): task definitions, clusters, services and task sets.

``aws.ecs.task_definition`` (every ACTIVE revision): ``{taskDefinitionArn}`` plus ``TaskDefinition``
(DescribeTaskDefinition: ``family``, ``revision``, ``networkMode`` — ``bridge`` when absent —, ``pidMode``,
``ipcMode``, ``requiresCompatibilities``, ``containerDefinitions`` with ``name``, ``privileged``,
``readonlyRootFilesystem``, ``user``, ``logConfiguration``, ``secrets`` (names and ARNs only) and ``environment``
**without values**: each variable is ``{name, valueLength, valueKind}`` where ``valueKind`` names what the value
looks like — ``aws-access-key-id``, ``aws-secret-key``, ``private-key``, ``jwt``, ``url-with-password``,
``connection-string`` — or is null) and ``Tags``. Values are never stored: a snapshot must not carry a secret.

``aws.ecs.cluster``: the DescribeClusters item (``clusterName``, ``settings`` — ``containerInsights`` —,
``configuration``, ``tags``).

``aws.ecs.service``: the DescribeServices item of every service of every cluster (``serviceName``, ``clusterArn``,
``launchType``, ``platformVersion``, ``platformFamily``, ``networkConfiguration.awsvpcConfiguration.assignPublicIp``,
``taskDefinition``, ``tags``; ``taskSets`` reduced to their ids). Id ``<cluster name>/<service name>``.

``aws.ecs.task_set``: each task set of those services (``id``, ``taskSetArn``, ``serviceArn``, ``clusterArn``,
``launchType``, ``networkConfiguration``).
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import Any

from cspm_stream import safe_regex
from cspm_stream.collect.services._lists import describe_in_batches
from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, key
from cspm_stream.safe_regex import LinearRegex

# what a secret value looks like: RE2 patterns (linear time), compiled on first use
MAX_VALUE = 4096
VALUE_PATTERNS: tuple[tuple[str, str], ...] = (
    ("aws-access-key-id", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    ("private-key", r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----"),
    ("jwt", r"\beyJ[0-9A-Za-z_-]{8,}\.[0-9A-Za-z_-]{8,}\.[0-9A-Za-z_-]{8,}"),
    ("url-with-password", r"[a-z][a-z0-9+.-]{0,20}://[^/\s:@]{1,256}:[^/\s@]{1,256}@"),
    ("connection-string", r"(?i)(?:^|;)\s*(?:password|pwd)\s*=\s*[^;\s]"),
)
_BASE64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+=")


@functools.cache
def _patterns() -> tuple[tuple[str, LinearRegex], ...]:
    return tuple((kind, safe_regex.compile(p)) for kind, p in VALUE_PATTERNS)


def value_kind(value: Any) -> str | None:
    """The kind of secret ``value`` looks like, or None. Never returns the value."""
    if not isinstance(value, str) or not value:
        return None
    text = value[:MAX_VALUE]
    for kind, rx in _patterns():
        if rx.search(text):
            return kind
    return "aws-secret-key" if any(_secret_key_like(t) for t in _base64_tokens(text)) else None


def _base64_tokens(text: str) -> list[str]:
    tokens, current = [], []
    for c in text:
        if c in _BASE64:
            current.append(c)
        else:
            tokens.append("".join(current))
            current = []
    tokens.append("".join(current))
    return tokens


def _secret_key_like(token: str) -> bool:
    """A 40-character base64 token with upper, lower case and digits (a hex digest has no upper case)."""
    return (
        len(token) == 40
        and any(c.isupper() for c in token)
        and any(c.islower() for c in token)
        and any(c.isdigit() for c in token)
    )


def _redacted(container: dict[str, Any]) -> dict[str, Any]:
    out = dict(container)
    env = container.get("environment")
    if isinstance(env, list):
        out["environment"] = [
            {
                "name": e.get("name"),
                "valueLength": len(e["value"]) if isinstance(e.get("value"), str) else 0,
                "valueKind": value_kind(e.get("value")),
            }
            for e in env
            if isinstance(e, dict)
        ]
    for field in ("command", "entryPoint"):
        out.pop(field, None)  # command lines carry credentials as often as environments do
    return out


async def _task_definition(calls: Calls, item: Item) -> Any:
    resp = await calls.call(
        "ecs", "describe_task_definition", taskDefinition=item["taskDefinitionArn"], include=["TAGS"]
    )
    td = dict(resp.get("taskDefinition") or {})
    td.setdefault("networkMode", "bridge")
    td["containerDefinitions"] = [_redacted(c) for c in td.get("containerDefinitions") or [] if isinstance(c, dict)]
    td["Tags"] = resp.get("tags") or []
    return td


def _td_tags(item: Item) -> dict[str, str]:
    raw = (item.get("TaskDefinition") or {}).get("Tags") or []
    return {str(t.get("key")): str(t.get("value", "")) for t in raw if isinstance(t, dict) and t.get("key") is not None}


async def _clusters(calls: Calls) -> AsyncIterator[Item]:
    arns = await calls.paginate("ecs", "list_clusters", "clusterArns")
    for c in await describe_in_batches(
        calls,
        "ecs",
        "describe_clusters",
        arns,
        "clusters",
        "clusters",
        100,
        include=["SETTINGS", "TAGS", "CONFIGURATIONS"],
    ):
        yield c


async def _services(calls: Calls) -> list[Item]:
    async def read() -> list[Item]:
        out: list[Item] = []
        for cluster in await calls.paginate("ecs", "list_clusters", "clusterArns"):
            arns = await calls.paginate("ecs", "list_services", "serviceArns", cluster=cluster)
            out.extend(
                await describe_in_batches(
                    calls,
                    "ecs",
                    "describe_services",
                    arns,
                    "services",
                    "services",
                    10,
                    cluster=cluster,
                    include=["TAGS"],
                )
            )
        return out

    services: list[Item] = await calls.cached("ecs-services", read)
    return services


async def _service_items(calls: Calls) -> AsyncIterator[Item]:
    for s in await _services(calls):
        item = dict(s)
        item["taskSets"] = [{"id": t.get("id"), "taskSetArn": t.get("taskSetArn")} for t in s.get("taskSets") or []]
        item.pop("events", None)  # the last 100 service events: noise that changes every deployment
        yield item


async def _task_set_items(calls: Calls) -> AsyncIterator[Item]:
    for s in await _services(calls):
        for t in s.get("taskSets") or []:
            yield dict(t)


def _cluster_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _dict_tags(key_name: str = "tags") -> Any:
    def get(item: Item) -> dict[str, str]:
        raw = item.get(key_name) or []
        return {
            str(t.get("key")): str(t.get("value", "")) for t in raw if isinstance(t, dict) and t.get("key") is not None
        }

    return get


SPECS = [
    ResourceSpec(
        resource_type="aws.ecs.task_definition",
        service="ecs",
        list_op="list_task_definitions",
        list_params={"status": "ACTIVE"},
        items="taskDefinitionArns[].{taskDefinitionArn: @}",
        id=lambda item, scope: str(item["taskDefinitionArn"]).rsplit("/", 1)[-1],
        arn=key("taskDefinitionArn"),
        tags=_td_tags,
        details=(Detail("TaskDefinition", fn=_task_definition),),
    ),
    ResourceSpec(
        resource_type="aws.ecs.cluster",
        service="ecs",
        list_op="list_clusters",
        list_fn=_clusters,
        id=lambda item, scope: str(item["clusterName"]),
        arn=key("clusterArn"),
        tags=_dict_tags(),
    ),
    ResourceSpec(
        resource_type="aws.ecs.service",
        service="ecs",
        list_op="list_services",
        list_fn=_service_items,
        id=lambda item, scope: f"{_cluster_name(str(item['clusterArn']))}/{item['serviceName']}",
        arn=key("serviceArn"),
        tags=_dict_tags(),
    ),
    ResourceSpec(
        resource_type="aws.ecs.task_set",
        service="ecs",
        list_op="describe_services",
        list_fn=_task_set_items,
        id=lambda item, scope: str(item["id"]),
        arn=key("taskSetArn"),
        tags=_dict_tags(),
    ),
]
