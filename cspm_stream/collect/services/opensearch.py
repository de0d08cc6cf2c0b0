"""OpenSearch Service domains, including legacy Elasticsearch domains (regional).

``aws.opensearch.domain``: the ListDomainNames item (``DomainName``, ``EngineType``) plus

* ``DomainStatus``: DescribeDomain's ``DomainStatus`` (``EncryptionAtRestOptions``, ``NodeToNodeEncryptionOptions``,
  ``DomainEndpointOptions`` (EnforceHTTPS, TLSSecurityPolicy), ``AdvancedSecurityOptions`` (Enabled,
  InternalUserDatabaseEnabled, SAMLOptions), ``CognitoOptions``, ``VPCOptions``, ``ClusterConfig``,
  ``LogPublishingOptions``, ``ServiceSoftwareOptions``, ``EngineVersion``) with ``AccessPolicies`` parsed into a dict;
* ``Tags``: ListTags.
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.normalize import parse_policy
from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, Scope, tags_from_list


def _arn(item: Item, scope: Scope) -> str:
    return f"arn:{scope.partition}:es:{scope.region}:{scope.account_id}:domain/{item['DomainName']}"


def _status(resp: dict[str, Any]) -> Any:
    status = dict(resp.get("DomainStatus") or {})
    if "AccessPolicies" in status:
        status["AccessPolicies"] = parse_policy(status["AccessPolicies"]) or None
    return status


async def _tags(calls: Calls, item: Item) -> Any:
    resp = await calls.call("opensearch", "list_tags", ARN=_arn(item, calls.scope))
    return resp.get("TagList") or []


SPECS = [
    ResourceSpec(
        resource_type="aws.opensearch.domain",
        service="opensearch",
        list_op="list_domain_names",
        items="DomainNames",
        paginated=False,
        id=lambda item, scope: str(item["DomainName"]),
        arn=_arn,
        tags=tags_from_list(),
        details=(
            Detail("DomainStatus", "describe_domain", lambda i: {"DomainName": i["DomainName"]}, _status),
            Detail("Tags", fn=_tags),
        ),
    ),
]
