"""ECR repositories: item (imageScanningConfiguration, imageTagMutability, encryptionConfiguration)
plus ``RepositoryPolicy`` and ``LifecyclePolicy`` (parsed, null = none) and ``Tags``."""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.spec import Detail, Item, ResourceSpec, key, policy_member, tags_from_list


def _repo(item: Item) -> dict[str, Any]:
    return {"repositoryName": item["repositoryName"]}


SPECS = [
    ResourceSpec(
        resource_type="aws.ecr.repository",
        service="ecr",
        list_op="describe_repositories",
        items="repositories",
        id=key("repositoryName"),
        arn=key("repositoryArn"),
        tags=tags_from_list("Tags"),
        details=(
            Detail(
                "RepositoryPolicy",
                "get_repository_policy",
                _repo,
                policy_member("policyText"),
                frozenset({"RepositoryPolicyNotFoundException"}),
            ),
            Detail(
                "LifecyclePolicy",
                "get_lifecycle_policy",
                _repo,
                policy_member("lifecyclePolicyText"),
                frozenset({"LifecyclePolicyNotFoundException"}),
            ),
            Detail(
                "Tags",
                "list_tags_for_resource",
                lambda i: {"resourceArn": i["repositoryArn"]},
                lambda r: r.get("tags", []),
            ),
        ),
        one_params=lambda rid: {"repositoryNames": [rid]},
    ),
]
