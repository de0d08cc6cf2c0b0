"""SNS topics: ``TopicAttributes`` (with ``Policy`` and ``EffectiveDeliveryPolicy`` parsed), ``Tags``."""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.normalize import parse_policy
from cspm_stream.collect.spec import Detail, Item, ResourceSpec, key, tags_from_list


def _attributes(resp: dict[str, Any]) -> Any:
    attrs = dict(resp.get("Attributes") or {})
    for name in ("Policy", "EffectiveDeliveryPolicy", "DeliveryPolicy"):
        if name in attrs:
            attrs[name] = parse_policy(attrs[name])
    return attrs


def _name(item: Item, scope: Any) -> str:
    return str(item["TopicArn"]).rsplit(":", 1)[-1]


SPECS = [
    ResourceSpec(
        resource_type="aws.sns.topic",
        service="sns",
        list_op="list_topics",
        items="Topics",
        id=_name,
        arn=key("TopicArn"),
        tags=tags_from_list(),
        details=(
            Detail("TopicAttributes", "get_topic_attributes", lambda i: {"TopicArn": i["TopicArn"]}, _attributes),
            Detail(
                "Tags", "list_tags_for_resource", lambda i: {"ResourceArn": i["TopicArn"]}, lambda r: r.get("Tags", [])
            ),
        ),
    ),
]
