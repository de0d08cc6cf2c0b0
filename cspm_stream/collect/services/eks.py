"""EKS clusters: item ``{name}`` plus ``Cluster`` (DescribeCluster: resourcesVpcConfig endpoint
access, logging, encryptionConfig, version, tags)."""

from __future__ import annotations

from cspm_stream.collect.spec import Detail, Item, ResourceSpec, Scope, member


def _arn(item: Item, scope: Scope) -> str:
    return f"arn:{scope.partition}:eks:{scope.region}:{scope.account_id}:cluster/{item['name']}"


def _tags(item: Item) -> dict[str, str]:
    raw = (item.get("Cluster") or {}).get("tags") or {}
    return {str(k): str(v) for k, v in raw.items()}


SPECS = [
    ResourceSpec(
        resource_type="aws.eks.cluster",
        service="eks",
        list_op="list_clusters",
        items="clusters[].{name: @}",
        id=lambda item, scope: str(item["name"]),
        arn=_arn,
        tags=_tags,
        details=(Detail("Cluster", "describe_cluster", lambda i: {"name": i["name"]}, member("cluster")),),
    ),
]
