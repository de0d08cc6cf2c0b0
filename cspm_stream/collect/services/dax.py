"""DynamoDB Accelerator (DAX) clusters (regional).

``aws.dax.cluster``: the DescribeClusters item (``SSEDescription.Status``, ``ClusterEndpointEncryptionType``,
``Nodes[].AvailabilityZone``, ``TotalNodes``, ``SubnetGroup``, ``SecurityGroups``, ``IamRoleArn``) plus

* ``Tags``: ListTags on the cluster ARN (``Tags``).
"""

from __future__ import annotations

from cspm_stream.collect.spec import Detail, ResourceSpec, key, member, tags_from_list

SPECS = [
    ResourceSpec(
        resource_type="aws.dax.cluster",
        service="dax",
        list_op="describe_clusters",
        items="Clusters",
        id=key("ClusterName"),
        arn=key("ClusterArn"),
        tags=tags_from_list(),
        details=(Detail("Tags", "list_tags", lambda i: {"ResourceName": i["ClusterArn"]}, member("Tags")),),
        one_params=lambda rid: {"ClusterNames": [rid]},
    ),
]
