"""SQS queues: item ``{QueueUrl}``, ``QueueAttributes`` (all; ``Policy``/``RedrivePolicy`` parsed), ``Tags``."""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.normalize import parse_policy
from cspm_stream.collect.spec import Detail, Item, ResourceSpec, Scope, tags_from_dict


def _parts(url: str) -> tuple[str, str]:
    # https://sqs.<region>.amazonaws.com/<account>/<name>  (moto: http://127.0.0.1:<port>/<account>/<name>)
    path = url.rstrip("/").split("/")
    return path[-2], path[-1]


def _arn(item: Item, scope: Scope) -> str:
    acct, name = _parts(item["QueueUrl"])
    return f"arn:{scope.partition}:sqs:{scope.region}:{acct}:{name}"


def _attributes(resp: dict[str, Any]) -> Any:
    attrs = dict(resp.get("Attributes") or {})
    for name in ("Policy", "RedrivePolicy", "RedriveAllowPolicy"):
        if name in attrs:
            attrs[name] = parse_policy(attrs[name])
    return attrs


SPECS = [
    ResourceSpec(
        resource_type="aws.sqs.queue",
        service="sqs",
        list_op="list_queues",
        items="QueueUrls[].{QueueUrl: @}",
        id=lambda item, scope: _parts(item["QueueUrl"])[1],
        arn=_arn,
        tags=tags_from_dict("Tags"),
        details=(
            Detail(
                "QueueAttributes",
                "get_queue_attributes",
                lambda i: {"QueueUrl": i["QueueUrl"], "AttributeNames": ["All"]},
                _attributes,
            ),
            Detail("Tags", "list_queue_tags", lambda i: {"QueueUrl": i["QueueUrl"]}, lambda r: r.get("Tags", {})),
        ),
    ),
]
