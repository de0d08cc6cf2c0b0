"""Secrets Manager: the ListSecrets item (RotationEnabled, RotationRules, LastRotatedDate ...)
plus ``ResourcePolicy`` (parsed, null = none)."""

from __future__ import annotations

from cspm_stream.collect.spec import Detail, ResourceSpec, key, policy_member, tags_from_list

SPECS = [
    ResourceSpec(
        resource_type="aws.secretsmanager.secret",
        service="secretsmanager",
        list_op="list_secrets",
        items="SecretList",
        id=key("Name"),
        arn=key("ARN"),
        tags=tags_from_list(),
        details=(
            Detail(
                "ResourcePolicy",
                "get_resource_policy",
                lambda i: {"SecretId": i["ARN"]},
                policy_member("ResourcePolicy"),
                frozenset({"ResourceNotFoundException"}),
            ),
        ),
    ),
]
