"""Amazon MemoryDB clusters (regional).

``aws.memorydb.cluster``: the DescribeClusters item (``TLSEnabled``, ``AutoMinorVersionUpgrade``, ``AvailabilityMode``,
``NumberOfShards``, ``Engine``, ``EngineVersion``, ``SnapshotRetentionLimit``, ``SecurityGroups``, ``ACLName``) plus

* ``Tags``: ListTags (``TagList``).
"""

from __future__ import annotations

from cspm_stream.collect.spec import Detail, ResourceSpec, key, member, tags_from_list

SPECS = [
    ResourceSpec(
        resource_type="aws.memorydb.cluster",
        service="memorydb",
        list_op="describe_clusters",
        items="Clusters",
        id=key("Name"),
        arn=key("ARN"),
        tags=tags_from_list(),
        details=(Detail("Tags", "list_tags", lambda i: {"ResourceArn": i["ARN"]}, member("TagList")),),
        one_params=lambda rid: {"ClusterName": rid},
    ),
]
