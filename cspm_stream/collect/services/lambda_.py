"""Lambda functions: the ListFunctions item (``Runtime``, ``VpcConfig`` ...) plus ``Policy`` (parsed resource
policy, null = none), ``FunctionUrlConfigs`` (``AuthType``, ``Cors.AllowOrigins``), ``Tags`` and ``Settings``.

``Settings`` is read from the ListFunctions item itself (no call): ``Variables`` — the environment variables
without their values (``{name, type, valueLength, valueKind, holdsSecret}``, see ``_redact``) —, ``KMSKeyArn``,
``DeadLetterTargetArn``, ``TracingMode`` (Active/PassThrough), ``Layers`` (ARNs) and ``CrossAccountLayers`` (the
layers published by another account than the scanned one).

Environment variable values never stay in the snapshot: the item's ``Environment.Variables`` is replaced by the
same value-less list.
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.services import _redact
from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, key, policy_member, tags_from_dict


async def _settings(calls: Calls, item: Item) -> Any:
    env = (item.get("Environment") or {}).get("Variables")
    layers = [str(x.get("Arn")) for x in item.get("Layers") or [] if isinstance(x, dict) and x.get("Arn")]

    def account_of(arn: str) -> str:
        parts = arn.split(":")
        return parts[4] if len(parts) > 4 else ""

    return {
        "Variables": _redact.env_map(env),
        "KMSKeyArn": item.get("KMSKeyArn"),
        "DeadLetterTargetArn": (item.get("DeadLetterConfig") or {}).get("TargetArn"),
        "TracingMode": (item.get("TracingConfig") or {}).get("Mode"),
        "Layers": layers,
        "CrossAccountLayers": [a for a in layers if account_of(a) != calls.scope.account_id],
    }


def _redacted(item: Item) -> Item:
    env = item.get("Environment")
    if isinstance(env, dict) and "Variables" in env:
        item = dict(item)
        item["Environment"] = {**env, "Variables": _redact.env_map(env.get("Variables"))}
    return item


SPECS = [
    ResourceSpec(
        resource_type="aws.lambda.function",
        service="lambda",
        list_op="list_functions",
        items="Functions",
        id=key("FunctionName"),
        arn=key("FunctionArn"),
        tags=tags_from_dict("Tags"),
        details=(
            Detail(
                "Policy",
                "get_policy",
                lambda i: {"FunctionName": i["FunctionName"]},
                policy_member("Policy"),
                frozenset({"ResourceNotFoundException"}),
            ),
            Detail(
                "FunctionUrlConfigs",
                "list_function_url_configs",
                lambda i: {"FunctionName": i["FunctionName"]},
                paginate_items="FunctionUrlConfigs",
            ),
            Detail("Tags", "list_tags", lambda i: {"Resource": i["FunctionArn"]}, lambda r: r.get("Tags", {})),
            Detail("Settings", fn=_settings),
        ),
        post=_redacted,
    ),
]
