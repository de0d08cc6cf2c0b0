"""CloudFront distributions (global): the list summary plus ``DistributionConfig`` and ``Tags``."""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.spec import Detail, ResourceSpec, key, member, tags_from_list


def _tags(resp: dict[str, Any]) -> Any:
    return (resp.get("Tags") or {}).get("Items", [])


SPECS = [
    ResourceSpec(
        resource_type="aws.cloudfront.distribution",
        service="cloudfront",
        list_op="list_distributions",
        items="DistributionList.Items",
        id=key("Id"),
        arn=key("ARN"),
        global_=True,
        tags=tags_from_list(),
        details=(
            Detail(
                "DistributionConfig", "get_distribution_config", lambda i: {"Id": i["Id"]}, member("DistributionConfig")
            ),
            Detail("Tags", "list_tags_for_resource", lambda i: {"Resource": i["ARN"]}, _tags),
        ),
    ),
]
