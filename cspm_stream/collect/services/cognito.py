"""Amazon Cognito (regional): user pools, their app clients, and identity pools.

``aws.cognito.user_pool``: the ListUserPools item (``Id``, ``Name``) plus

* ``UserPool`` — DescribeUserPool ``UserPool``: ``Policies.PasswordPolicy`` (``MinimumLength``, ``Require*``,
  ``TemporaryPasswordValidityDays``), ``DeletionProtection``, ``MfaConfiguration``, ``UserPoolAddOns.AdvancedSecurityMode``,
  ``AdminCreateUserConfig.AllowAdminCreateUserOnly``, ``AccountRecoverySetting.RecoveryMechanisms``, ``UserPoolTags``;
* ``MfaConfig`` — GetUserPoolMfaConfig (``MfaConfiguration`` OFF/ON/OPTIONAL, ``SoftwareTokenMfaConfiguration``);
* ``RiskConfiguration`` — DescribeRiskConfiguration ``RiskConfiguration`` (``CompromisedCredentialsRiskConfiguration``
  with ``EventFilter``/``Actions.EventAction``, ``AccountTakeoverRiskConfiguration.Actions.{Low,Medium,High}Action
  .EventAction``); null when none is set;
* ``WebAcl`` — WAFv2 GetWebACLForResource ``WebACL`` (``Name``, ``ARN``); null when no web ACL protects the pool.

``aws.cognito.user_pool_client``: each app client of each pool (ListUserPoolClients: ``ClientId``, ``UserPoolId``,
``ClientName``) plus ``Client`` (DescribeUserPoolClient ``UserPoolClient``: ``PreventUserExistenceErrors``,
``EnableTokenRevocation``, ``AllowedOAuthFlows``, token validities; the client secret is never kept).

``aws.cognito.identity_pool``: the ListIdentityPools item plus ``IdentityPool`` (DescribeIdentityPool:
``AllowUnauthenticatedIdentities``, ``AllowClassicFlow``, ``CognitoIdentityProviders``) and ``Roles``
(GetIdentityPoolRoles ``Roles``: ``authenticated``/``unauthenticated`` role ARNs).
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.services._lists import children
from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, Scope, member, tags_from_dict


def _pool_arn(item: Item, scope: Scope) -> str:
    return f"arn:{scope.partition}:cognito-idp:{scope.region}:{scope.account_id}:userpool/{item['Id']}"


def _client_arn(item: Item, scope: Scope) -> str:
    return (
        f"arn:{scope.partition}:cognito-idp:{scope.region}:{scope.account_id}:userpool/{item['UserPoolId']}"
        f"/client/{item['ClientId']}"
    )


def _client(resp: dict[str, Any]) -> Any:
    c = dict(resp.get("UserPoolClient") or {})
    c.pop("ClientSecret", None)
    return c


async def _web_acl(calls: Calls, item: Item) -> Any:
    resp = await calls.call("wafv2", "get_web_acl_for_resource", ResourceArn=_pool_arn(item, calls.scope))
    acl = resp.get("WebACL")
    return {"Name": acl.get("Name"), "ARN": acl.get("ARN"), "Id": acl.get("Id")} if isinstance(acl, dict) else None


def _pool_tags(item: Item) -> dict[str, str]:
    return tags_from_dict("UserPoolTags")(item.get("UserPool") or {})


SPECS = [
    ResourceSpec(
        resource_type="aws.cognito.user_pool",
        service="cognito-idp",
        list_op="list_user_pools",
        list_params={"MaxResults": 60},
        items="UserPools",
        id=lambda item, scope: str(item["Id"]),
        arn=_pool_arn,
        tags=_pool_tags,
        details=(
            Detail("UserPool", "describe_user_pool", lambda i: {"UserPoolId": i["Id"]}, member("UserPool")),
            Detail("MfaConfig", "get_user_pool_mfa_config", lambda i: {"UserPoolId": i["Id"]}),
            Detail(
                "RiskConfiguration",
                "describe_risk_configuration",
                lambda i: {"UserPoolId": i["Id"]},
                lambda r: r.get("RiskConfiguration") or None,
            ),
            Detail("WebAcl", fn=_web_acl),
        ),
    ),
    ResourceSpec(
        resource_type="aws.cognito.user_pool_client",
        service="cognito-idp",
        list_op="list_user_pool_clients",
        list_fn=children(
            "cognito-idp",
            "list_user_pools",
            "UserPools",
            "list_user_pool_clients",
            "UserPoolClients",
            lambda pool: {"UserPoolId": pool["Id"], "MaxResults": 60},
            lambda pool: {"UserPoolId": pool["Id"], "UserPoolName": pool.get("Name")},
            parent_params={"MaxResults": 60},
        ),
        id=lambda item, scope: f"{item['UserPoolId']}/{item['ClientId']}",
        arn=_client_arn,
        parent_id=lambda item: str(item["UserPoolId"]),
        details=(
            Detail(
                "Client",
                "describe_user_pool_client",
                lambda i: {"UserPoolId": i["UserPoolId"], "ClientId": i["ClientId"]},
                _client,
            ),
        ),
    ),
    ResourceSpec(
        resource_type="aws.cognito.identity_pool",
        service="cognito-identity",
        list_op="list_identity_pools",
        list_params={"MaxResults": 60},
        items="IdentityPools",
        id=lambda item, scope: str(item["IdentityPoolId"]),
        arn=lambda item, scope: (
            f"arn:{scope.partition}:cognito-identity:{scope.region}:{scope.account_id}:identitypool/{item['IdentityPoolId']}"
        ),
        tags=lambda item: tags_from_dict("IdentityPoolTags")(item.get("IdentityPool") or {}),
        details=(
            Detail(
                "IdentityPool",
                "describe_identity_pool",
                lambda i: {"IdentityPoolId": i["IdentityPoolId"]},
                lambda r: {k: v for k, v in r.items() if k != "ResponseMetadata"},
            ),
            Detail(
                "Roles",
                "get_identity_pool_roles",
                lambda i: {"IdentityPoolId": i["IdentityPoolId"]},
                lambda r: r.get("Roles") or {},
            ),
        ),
    ),
]
