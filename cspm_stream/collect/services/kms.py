"""KMS keys: ``Key`` (DescribeKey's KeyMetadata; ``MultiRegion`` may be missing on moto),
``KeyRotationStatus`` (``{KeyRotationEnabled, ...}``; null for key types without
rotation), ``KeyPolicy`` (parsed), ``Tags``."""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.spec import Detail, Item, ResourceSpec, key, member, policy_member


def _key(item: Item) -> dict[str, Any]:
    return {"KeyId": item["KeyId"]}


def _tags(item: Item) -> dict[str, str]:
    return {str(t["TagKey"]): str(t.get("TagValue", "")) for t in item.get("Tags") or [] if "TagKey" in t}


SPECS = [
    ResourceSpec(
        resource_type="aws.kms.key",
        service="kms",
        list_op="list_keys",
        items="Keys",
        id=key("KeyId"),
        arn=key("KeyArn"),
        tags=_tags,
        details=(
            Detail("Key", "describe_key", _key, member("KeyMetadata")),
            Detail(
                "KeyRotationStatus",
                "get_key_rotation_status",
                _key,
                not_configured=frozenset({"UnsupportedOperationException"}),
            ),
            Detail(
                "KeyPolicy",
                "get_key_policy",
                lambda i: {"KeyId": i["KeyId"], "PolicyName": "default"},
                policy_member("Policy"),
            ),
            Detail("Tags", "list_resource_tags", _key, paginate_items="Tags"),
        ),
    ),
]
