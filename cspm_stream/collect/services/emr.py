"""Amazon EMR (regional): active clusters and the account's Block Public Access setting.

``aws.emr.cluster``: the ListClusters item of every cluster not yet terminated (``Id``, ``Name``, ``Status``,
``ClusterArn``) plus ``Cluster`` (DescribeCluster ``Cluster``: ``MasterPublicDnsName``, ``Ec2InstanceAttributes``
— subnet and security groups —, ``SecurityConfiguration``, ``KerberosAttributes`` (realm only, no passwords),
``Tags``) and ``SecurityConfigurationDetail`` (the named security configuration's JSON document, parsed:
``EncryptionConfiguration.EnableAtRestEncryption``/``EnableInTransitEncryption``, ``AuthenticationConfiguration``;
null when the cluster names none).

``aws.emr.region`` (one per account and region): ``BlockPublicAccessConfiguration`` (GetBlockPublicAccessConfiguration:
``BlockPublicSecurityGroupRules``, ``PermittedPublicSecurityGroupRuleRanges``).
"""

from __future__ import annotations

import json
from typing import Any

from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, key, member, region_arn, region_id

ACTIVE = ["STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING", "TERMINATING"]
KERBEROS_SECRETS = ("KdcAdminPassword", "CrossRealmTrustPrincipalPassword", "ADDomainJoinPassword")


async def _describe(calls: Calls, item: Item) -> dict[str, Any]:
    """DescribeCluster once per cluster and job (both details read it); Kerberos secrets dropped."""
    cid = item["Id"]

    async def read() -> dict[str, Any]:
        cluster = dict((await calls.call("emr", "describe_cluster", ClusterId=cid)).get("Cluster") or {})
        kerberos = cluster.get("KerberosAttributes")
        if isinstance(kerberos, dict):
            cluster["KerberosAttributes"] = {k: v for k, v in kerberos.items() if k not in KERBEROS_SECRETS}
        return cluster

    cluster: dict[str, Any] = await calls.cached(f"emr-describe:{cid}", read)
    return cluster


async def _cluster(calls: Calls, item: Item) -> Any:
    return await _describe(calls, item)


async def _security_configuration(calls: Calls, item: Item) -> Any:
    name = (await _describe(calls, item)).get("SecurityConfiguration")
    if not name:
        return None

    async def read() -> Any:
        conf = await calls.call("emr", "describe_security_configuration", Name=name)
        text = conf.get("SecurityConfiguration")
        return json.loads(text) if isinstance(text, str) and text.strip() else None

    return await calls.cached(f"emr-security-configuration:{name}", read)


def _tags(item: Item) -> dict[str, str]:
    raw = (item.get("Cluster") or {}).get("Tags") or []
    return {str(t.get("Key")): str(t.get("Value", "")) for t in raw if isinstance(t, dict) and t.get("Key") is not None}


SPECS = [
    ResourceSpec(
        resource_type="aws.emr.cluster",
        service="emr",
        list_op="list_clusters",
        list_params={"ClusterStates": ACTIVE},
        items="Clusters",
        id=key("Id"),
        arn=key("ClusterArn"),
        tags=_tags,
        details=(
            Detail("Cluster", fn=_cluster),
            Detail("SecurityConfigurationDetail", fn=_security_configuration),
        ),
    ),
    ResourceSpec(
        resource_type="aws.emr.region",
        service="emr",
        list_op=None,
        id=region_id,
        arn=region_arn("elasticmapreduce"),
        details=(
            Detail(
                "BlockPublicAccessConfiguration",
                "get_block_public_access_configuration",
                extract=member("BlockPublicAccessConfiguration"),
            ),
        ),
    ),
]
