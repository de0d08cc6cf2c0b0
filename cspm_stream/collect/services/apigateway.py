"""API Gateway REST APIs and their stages (regional).

``aws.apigateway.rest_api``: the GetRestApis item (``id``, ``name``, ``endpointConfiguration.types``,
``policy`` parsed into a dict, ``tags``) plus

* ``Authorizers``: GetAuthorizers items (``[]`` = none);
* ``Methods``: every method of every resource except OPTIONS, ``[{Path, HttpMethod,
  AuthorizationType, ApiKeyRequired}]`` (GetResources with ``embed=methods``; GetMethod for a
  method the embed did not describe).

``aws.apigateway.domain_name``: the GetDomainNames item (``domainName``, ``securityPolicy`` — TLS_1_0, TLS_1_2 or
a ``SecurityPolicy_*`` enhanced policy —, ``endpointConfiguration``, ``certificateArn``/``regionalCertificateArn``,
``domainNameStatus``, ``tags``).

``aws.apigateway.stage``: the GetStages item (``stageName``, ``methodSettings``, ``tracingEnabled``,
``clientCertificateId``, ``webAclArn``, ``variables``, ``accessLogSettings``, ``tags``) plus
``restApiId``/``restApiName`` of its API and ``MethodSettingsList`` — ``methodSettings`` as a list
``[{Key: "<resource path>/<method>", loggingLevel, cachingEnabled, cacheDataEncrypted, ...}]`` so
policies can quantify over it. Id ``<restApiId>/<stageName>``.
"""

from __future__ import annotations

import json
from typing import Any

from cspm_stream.collect.normalize import parse_policy
from cspm_stream.collect.services._lists import children, map_as_list
from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, Scope, tags_from_dict


def _api_arn(item: Item, scope: Scope) -> str:
    return f"arn:{scope.partition}:apigateway:{scope.region}::/restapis/{item['id']}"


def _stage_arn(item: Item, scope: Scope) -> str:
    return f"arn:{scope.partition}:apigateway:{scope.region}::/restapis/{item['restApiId']}/stages/{item['stageName']}"


def _policy(text: Any) -> Any:
    """API Gateway returns the resource policy as JSON with its quotes backslash-escaped."""
    doc = parse_policy(text)
    if isinstance(doc, str):
        try:
            return json.loads(doc.replace('\\"', '"').replace("\\\\", "\\"))
        except ValueError:
            return doc
    return doc


def _post_api(item: Item) -> Item:
    if "policy" in item:
        item["policy"] = _policy(item["policy"])
    return item


def _post_stage(item: Item) -> Item:
    item["MethodSettingsList"] = map_as_list(item.get("methodSettings"))
    return item


async def _methods(calls: Calls, item: Item) -> Any:
    api = item["id"]
    resources = await calls.paginate("apigateway", "get_resources", "items", restApiId=api, embed=["methods"])
    out = []
    for res in resources:
        for verb, method in sorted((res.get("resourceMethods") or {}).items()):
            if verb == "OPTIONS":
                continue
            if not isinstance(method, dict) or "authorizationType" not in method:
                method = await calls.call(
                    "apigateway", "get_method", restApiId=api, resourceId=res["id"], httpMethod=verb
                )
            out.append(
                {
                    "Path": res.get("path"),
                    "HttpMethod": verb,
                    "AuthorizationType": method.get("authorizationType"),
                    "ApiKeyRequired": bool(method.get("apiKeyRequired")),
                }
            )
    return out


SPECS = [
    ResourceSpec(
        resource_type="aws.apigateway.rest_api",
        service="apigateway",
        list_op="get_rest_apis",
        items="items",
        id=lambda item, scope: str(item["id"]),
        arn=_api_arn,
        tags=tags_from_dict("tags"),
        post=_post_api,
        details=(
            Detail("Authorizers", "get_authorizers", lambda i: {"restApiId": i["id"]}, paginate_items="items"),
            Detail("Methods", fn=_methods),
        ),
    ),
    ResourceSpec(
        resource_type="aws.apigateway.domain_name",
        service="apigateway",
        list_op="get_domain_names",
        items="items",
        id=lambda item, scope: str(item["domainName"]),
        arn=lambda item, scope: f"arn:{scope.partition}:apigateway:{scope.region}::/domainnames/{item['domainName']}",
        tags=tags_from_dict("tags"),
    ),
    ResourceSpec(
        resource_type="aws.apigateway.stage",
        service="apigateway",
        list_op="get_stages",
        list_fn=children(
            "apigateway",
            "get_rest_apis",
            "items",
            "get_stages",
            "item",
            lambda api: {"restApiId": api["id"]},
            lambda api: {"restApiId": api["id"], "restApiName": api.get("name", "")},
        ),
        id=lambda item, scope: f"{item['restApiId']}/{item['stageName']}",
        parent_id=lambda item: str(item["restApiId"]),
        arn=_stage_arn,
        tags=tags_from_dict("tags"),
        post=_post_stage,
    ),
]
