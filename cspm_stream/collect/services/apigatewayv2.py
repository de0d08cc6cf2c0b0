"""API Gateway HTTP and WebSocket APIs (apigatewayv2) and their stages (regional).

``aws.apigatewayv2.api``: the GetApis item (``ApiId``, ``Name``, ``ProtocolType``, ``ApiEndpoint``,
``DisableExecuteApiEndpoint``, ``Tags``) plus ``Authorizers`` (GetAuthorizers items, ``[]`` = none)
and ``Routes`` (GetRoutes items: ``RouteKey``, ``AuthorizationType``, ``AuthorizerId``).

``aws.apigatewayv2.stage``: the GetStages item (``StageName``, ``AccessLogSettings`` — absent when
access logging is off —, ``DefaultRouteSettings``, ``AutoDeploy``, ``Tags``) plus ``ApiId``,
``ApiName`` and ``ProtocolType`` of its API. Id ``<ApiId>/<StageName>``.
"""

from __future__ import annotations

from cspm_stream.collect.services._lists import children
from cspm_stream.collect.spec import Detail, Item, ResourceSpec, Scope, tags_from_dict


def _api_arn(item: Item, scope: Scope) -> str:
    return f"arn:{scope.partition}:apigateway:{scope.region}::/apis/{item['ApiId']}"


def _stage_arn(item: Item, scope: Scope) -> str:
    return f"arn:{scope.partition}:apigateway:{scope.region}::/apis/{item['ApiId']}/stages/{item['StageName']}"


SPECS = [
    ResourceSpec(
        resource_type="aws.apigatewayv2.api",
        service="apigatewayv2",
        list_op="get_apis",
        items="Items",
        id=lambda item, scope: str(item["ApiId"]),
        arn=_api_arn,
        tags=tags_from_dict("Tags"),
        details=(
            Detail("Authorizers", "get_authorizers", lambda i: {"ApiId": i["ApiId"]}, paginate_items="Items"),
            Detail("Routes", "get_routes", lambda i: {"ApiId": i["ApiId"]}, paginate_items="Items"),
        ),
    ),
    ResourceSpec(
        resource_type="aws.apigatewayv2.stage",
        service="apigatewayv2",
        list_op="get_stages",
        list_fn=children(
            "apigatewayv2",
            "get_apis",
            "Items",
            "get_stages",
            "Items",
            lambda api: {"ApiId": api["ApiId"]},
            lambda api: {
                "ApiId": api["ApiId"],
                "ApiName": api.get("Name", ""),
                "ProtocolType": api.get("ProtocolType"),
            },
        ),
        id=lambda item, scope: f"{item['ApiId']}/{item['StageName']}",
        parent_id=lambda item: str(item["ApiId"]),
        arn=_stage_arn,
        tags=tags_from_dict("Tags"),
    ),
]
