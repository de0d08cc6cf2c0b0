"""IAM Access Analyzer per region: ``Analyzers`` (empty list = none)."""

from __future__ import annotations

from cspm_stream.collect.spec import Detail, ResourceSpec, region_arn, region_id

SPECS = [
    ResourceSpec(
        resource_type="aws.accessanalyzer.region",
        service="accessanalyzer",
        list_op=None,
        id=region_id,
        arn=region_arn("access-analyzer"),
        details=(Detail("Analyzers", "list_analyzers", paginate_items="analyzers"),),
    ),
]
