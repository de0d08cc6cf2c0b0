"""Security Hub per region: ``Hub`` = DescribeHub (null = not enabled in the region)."""

from __future__ import annotations

from cspm_stream.collect.spec import Detail, ResourceSpec, region_arn, region_id

SPECS = [
    ResourceSpec(
        resource_type="aws.securityhub.region",
        service="securityhub",
        list_op=None,
        id=region_id,
        arn=region_arn("securityhub"),
        details=(
            Detail(
                "Hub",
                "describe_hub",
                not_configured=frozenset({"InvalidAccessException", "ResourceNotFoundException"}),
            ),
        ),
    ),
]
