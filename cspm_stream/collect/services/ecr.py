"""ECR repositories and the Region's private registry.

``aws.ecr.repository``: the DescribeRepositories item (imageScanningConfiguration, imageTagMutability,
encryptionConfiguration) plus ``RepositoryPolicy`` and ``LifecyclePolicy`` (parsed, null = none), ``Tags`` and
``PolicyForeignPrincipals``: the principals the repository policy's Allow statements name outside the scanned
account (``*``, another account id or an ARN of another account; service principals not counted), from the same
GetRepositoryPolicy answer.

``aws.ecr.registry`` (one per account and Region): ``ScanningConfiguration`` (GetRegistryScanningConfiguration
``scanningConfiguration``: ``scanType`` BASIC/ENHANCED, ``rules`` with ``scanFrequency`` SCAN_ON_PUSH/
CONTINUOUS_SCAN/MANUAL and ``repositoryFilters``; ``{scanType: BASIC, rules: []}`` where the API answers that the
feature is disabled) and ``HasRepositories`` (DescribeRepositories returns one: the registry is in use).
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.faults import CallFailed
from cspm_stream.collect.services.events import foreign_principals
from cspm_stream.collect.spec import (
    Calls,
    Detail,
    Item,
    ResourceSpec,
    key,
    policy_member,
    region_arn,
    region_id,
    tags_from_list,
)


def _repo(item: Item) -> dict[str, Any]:
    return {"repositoryName": item["repositoryName"]}


async def _policy_raw(calls: Calls, item: Item) -> Any:
    """GetRepositoryPolicy once per repository and job (two details read it); None when there is none."""

    async def read() -> Any:
        try:
            resp = await calls.call("ecr", "get_repository_policy", **_repo(item))
        except CallFailed as exc:
            if exc.fault.code == "RepositoryPolicyNotFoundException":
                return None
            raise
        return policy_member("policyText")(resp)

    return await calls.cached(f"ecr-policy:{item['repositoryName']}", read)


async def _repository_policy(calls: Calls, item: Item) -> Any:
    return await _policy_raw(calls, item)


async def _foreign_principals(calls: Calls, item: Item) -> Any:
    return foreign_principals(await _policy_raw(calls, item), calls.scope.account_id)


async def _scanning(calls: Calls, item: Item) -> Any:
    try:
        resp = await calls.call("ecr", "get_registry_scanning_configuration")
    except CallFailed as exc:
        if exc.fault.code == "ValidationException" and "feature is disabled" in exc.fault.message:
            return {"scanType": "BASIC", "rules": []}
        raise
    return resp.get("scanningConfiguration") or {"scanType": "BASIC", "rules": []}


async def _has_repositories(calls: Calls, item: Item) -> Any:
    return bool((await calls.call("ecr", "describe_repositories", maxResults=1)).get("repositories"))


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
            Detail("RepositoryPolicy", fn=_repository_policy),
            Detail("PolicyForeignPrincipals", fn=_foreign_principals),
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
    ResourceSpec(
        resource_type="aws.ecr.registry",
        service="ecr",
        list_op=None,
        id=region_id,
        arn=region_arn("ecr", "registry"),
        details=(
            Detail("ScanningConfiguration", fn=_scanning),
            Detail("HasRepositories", fn=_has_repositories),
        ),
    ),
]
