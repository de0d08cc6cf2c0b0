"""API Gateway REST and HTTP APIs on the wire: moto for REST APIs, stages, methods and v2 routes/stages;
recorded responses for apigatewayv2 GetAuthorizers (moto answers it with HTTP 500)."""

from __future__ import annotations

import json

import pytest

from cspm_stream.testing.moto import MotoServer
from tests.unit.collect.breadth_util import Estate, collect_fixture, collect_moto
from tests.unit.collect.conftest import reset

pytestmark = pytest.mark.moto

VPCE_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "execute-api:Invoke",
            "Resource": "execute-api:/*",
            "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d4e5f67890"}},
        }
    ],
}
ANYONE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}],
}
LAMBDA_URI = (
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
    "arn:aws:lambda:us-east-1:123456789012:function:auth/invocations"
)


def _api(c: object, name: str, types: list[str], policy: dict[str, object], auth: str) -> str:
    api = c.create_rest_api(name=name, endpointConfiguration={"types": types}, policy=json.dumps(policy))  # type: ignore[attr-defined]
    aid = str(api["id"])
    root = c.get_resources(restApiId=aid)["items"][0]["id"]  # type: ignore[attr-defined]
    res = c.create_resource(restApiId=aid, parentId=root, pathPart="items")  # type: ignore[attr-defined]
    c.put_method(restApiId=aid, resourceId=res["id"], httpMethod="GET", authorizationType=auth)  # type: ignore[attr-defined]
    # OPTIONS (CORS pre-flight) is open on every API and never counts
    c.put_method(restApiId=aid, resourceId=res["id"], httpMethod="OPTIONS", authorizationType="NONE")  # type: ignore[attr-defined]
    c.put_integration(restApiId=aid, resourceId=res["id"], httpMethod="GET", type="MOCK")  # type: ignore[attr-defined]
    c.create_deployment(restApiId=aid, stageName="prod")  # type: ignore[attr-defined]
    return aid


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> tuple[Estate, dict[str, str]]:
    reset(moto_server)
    c = moto_server.boto3_client("apigateway")
    ids = {
        "secure": _api(c, "secure", ["PRIVATE"], VPCE_ONLY, "AWS_IAM"),
        "open": _api(c, "open", ["REGIONAL"], ANYONE, "NONE"),
        "iam-only": _api(c, "iam-only", ["EDGE"], VPCE_ONLY, "AWS_IAM"),
    }
    c.create_authorizer(
        restApiId=ids["secure"],
        name="token",
        type="TOKEN",
        authorizerUri=LAMBDA_URI,
        identitySource="method.request.header.Authorization",
    )
    waf = moto_server.boto3_client("wafv2")
    acl = waf.create_web_acl(
        Name="api-acl",
        Scope="REGIONAL",
        DefaultAction={"Allow": {}},
        VisibilityConfig={"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": "api"},
    )["Summary"]["ARN"]
    for aid in (ids["secure"], ids["iam-only"]):
        c.update_stage(
            restApiId=aid,
            stageName="prod",
            patchOperations=[
                {"op": "replace", "path": "/*/*/logging/loglevel", "value": "INFO"},
                {"op": "replace", "path": "/tracingEnabled", "value": "true"},
                {"op": "replace", "path": "/*/*/caching/enabled", "value": "true"},
                {"op": "replace", "path": "/*/*/caching/dataEncrypted", "value": "true"},
            ],
        )
        waf.associate_web_acl(WebACLArn=acl, ResourceArn=f"arn:aws:apigateway:us-east-1::/restapis/{aid}/stages/prod")
    # the open API's stage: caching on, encryption off, no logging, tracing or WAF
    c.update_stage(
        restApiId=ids["open"],
        stageName="prod",
        patchOperations=[
            {"op": "replace", "path": "/*/*/caching/enabled", "value": "true"},
            {"op": "replace", "path": "/*/*/caching/dataEncrypted", "value": "false"},
        ],
    )
    for name, policy in (("pq.example.com", "SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09"), ("old.example.com", "TLS_1_0")):
        c.create_domain_name(
            domainName=name,
            regionalCertificateArn="arn:aws:acm:us-east-1:123456789012:certificate/8f2b1c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
            endpointConfiguration={"types": ["REGIONAL"]},
            securityPolicy=policy,
        )
    v2 = moto_server.boto3_client("apigatewayv2")
    for name, auth in (("chat", "AWS_IAM"), ("webhook", "NONE")):
        api = v2.create_api(Name=name, ProtocolType="HTTP")
        ids[name] = api["ApiId"]
        v2.create_route(ApiId=api["ApiId"], RouteKey="POST /hook", AuthorizationType=auth)
        logs = {
            "DestinationArn": f"arn:aws:logs:us-east-1:123456789012:log-group:{name}",
            "Format": "$context.requestId",
        }
        v2.create_stage(ApiId=api["ApiId"], StageName="prod", **({"AccessLogSettings": logs} if name == "chat" else {}))
    return collect_moto(moto_server, ["apigateway", "apigatewayv2"]), ids


def test_rest_api_snapshots(estate: tuple[Estate, dict[str, str]]) -> None:
    e, ids = estate
    api = e.one("aws.apigateway.rest_api", ids["secure"])
    assert api.arn == f"arn:aws:apigateway:us-east-1::/restapis/{ids['secure']}"
    assert api.attributes["policy"] == VPCE_ONLY  # parsed
    assert api.attributes["Authorizers"][0]["name"] == "token"
    assert api.attributes["Methods"] == [
        {"Path": "/items", "HttpMethod": "GET", "AuthorizationType": "AWS_IAM", "ApiKeyRequired": False}
    ]
    stage = e.one("aws.apigateway.stage", f"{ids['secure']}/prod")
    assert stage.arn == f"arn:aws:apigateway:us-east-1::/restapis/{ids['secure']}/stages/prod"
    assert stage.attributes["restApiName"] == "secure"
    assert stage.attributes["MethodSettingsList"][0]["Key"] == "*/*"
    assert stage.attributes["webAclArn"].startswith("arn:aws:wafv2:")
    assert e.ids("aws.apigateway.stage") == {f"{ids[n]}/prod" for n in ("secure", "open", "iam-only")}


def test_rest_api_verdicts_with_decoys(estate: tuple[Estate, dict[str, str]]) -> None:
    e, ids = estate
    v = e.verdicts(
        [
            "apigateway_restapi_public",
            "apigateway_restapi_public_with_authorizer",
            "apigateway_restapi_authorizers_enabled",
            "apigateway_restapi_resource_policy_public",
        ]
    )
    s, o, i = ids["secure"], ids["open"], ids["iam-only"]
    assert v[("apigateway_restapi_public", s)] == "pass"
    assert v[("apigateway_restapi_public", o)] == v[("apigateway_restapi_public", i)] == "fail"
    assert v[("apigateway_restapi_public_with_authorizer", s)] == "pass"  # private
    assert v[("apigateway_restapi_public_with_authorizer", i)] == "fail"  # public, IAM methods, no authorizer
    assert v[("apigateway_restapi_authorizers_enabled", s)] == "pass"
    assert v[("apigateway_restapi_authorizers_enabled", i)] == "pass"  # every method IAM-authorized
    assert v[("apigateway_restapi_authorizers_enabled", o)] == "fail"  # GET open (OPTIONS ignored)
    assert v[("apigateway_restapi_resource_policy_public", o)] == "fail"
    assert v[("apigateway_restapi_resource_policy_public", s)] == "pass"


def test_stage_verdicts_with_decoys(estate: tuple[Estate, dict[str, str]]) -> None:
    e, ids = estate
    pols = [
        "apigateway_restapi_logging_enabled",
        "apigateway_stage_execution_logging_all_methods",
        "apigateway_restapi_tracing_enabled",
        "apigateway_restapi_waf_acl_attached",
        "apigateway_restapi_cache_encrypted",
        "apigateway_restapi_client_certificate_enabled",
        "apigateway_stage_access_logging_enabled",
    ]
    v = e.verdicts(pols)
    good, bad = f"{ids['secure']}/prod", f"{ids['open']}/prod"
    for p in pols[:5]:
        assert (v[(p, good)], v[(p, bad)]) == ("pass", "fail"), p
    # moto cannot set a client certificate or access logs on a REST stage: both stages fail
    assert v[("apigateway_restapi_client_certificate_enabled", good)] == "fail"
    assert v[("apigateway_stage_access_logging_enabled", bad)] == "fail"


def test_http_api_routes_stages_and_moto_gap(estate: tuple[Estate, dict[str, str]]) -> None:
    e, ids = estate
    v = e.verdicts(["apigatewayv2_route_authorization_type", "apigatewayv2_api_access_logging_enabled"])
    assert v[("apigatewayv2_route_authorization_type", ids["chat"])] == "pass"
    assert v[("apigatewayv2_route_authorization_type", ids["webhook"])] == "fail"
    assert v[("apigatewayv2_api_access_logging_enabled", f"{ids['chat']}/prod")] == "pass"
    assert v[("apigatewayv2_api_access_logging_enabled", f"{ids['webhook']}/prod")] == "fail"
    api = e.one("aws.apigatewayv2.api", ids["chat"])
    assert api.arn == f"arn:aws:apigateway:us-east-1::/apis/{ids['chat']}"
    # moto does not implement GetAuthorizers for v2: absent and an error, never "no authorizer"
    assert "Authorizers" not in api.attributes
    assert e.errors() == {("aws.apigatewayv2.api", "Authorizers")}
    assert e.verdicts(["apigatewayv2_api_authorizers_enabled"])[
        ("apigatewayv2_api_authorizers_enabled", ids["chat"])
    ] == ("error")


def test_http_api_authorizers_recorded() -> None:
    e, aws = collect_fixture("apigatewayv2", "apigatewayv2")
    assert aws.unanswered == []
    v = e.verdicts(["apigatewayv2_api_authorizers_enabled", "apigatewayv2_route_authorization_type"])
    assert v[("apigatewayv2_api_authorizers_enabled", "a1jwt00001")] == "pass"
    assert v[("apigatewayv2_api_authorizers_enabled", "b2open0002")] == "fail"
    assert v[("apigatewayv2_route_authorization_type", "b2open0002")] == "fail"
    assert e.one("aws.apigatewayv2.stage", "a1jwt00001/$default").attributes["ApiName"] == "orders"


def test_rescan_by_api_id_collects_its_stages(estate: tuple[Estate, dict[str, str]], moto_server: MotoServer) -> None:
    """A stage event (UpdateStage) names the API id only: the rescan collects every stage of that API."""
    import asyncio

    from cspm_stream.collect import Collector
    from cspm_stream.models import ScanJob
    from tests.unit.collect.conftest import moto_settings

    _, ids = estate

    async def run() -> tuple[list[str], bool]:
        async with Collector(moto_settings(moto_server).aws) as c:
            job = ScanJob(
                "j", "s", "123456789012", "us-east-1", "apigateway", "2025-01-01T00:00:00Z", ["aws.apigateway.stage"]
            )
            snaps, complete = await c.collect_one(job, resource_id=ids["open"])
            return [s.resource_id for s in snaps], complete

    got, complete = asyncio.run(run())
    assert got == [f"{ids['open']}/prod"] and complete


def test_domain_names(estate: tuple[Estate, dict[str, str]]) -> None:
    e, _ = estate
    pq = e.one("aws.apigateway.domain_name", "pq.example.com")
    assert pq.arn == "arn:aws:apigateway:us-east-1::/domainnames/pq.example.com"
    v = e.verdicts(["apigateway_domain_name_pqc_tls_enabled", "apigateway_domain_name_tls_1_2"])
    assert v[("apigateway_domain_name_pqc_tls_enabled", "pq.example.com")] == "pass"
    assert v[("apigateway_domain_name_pqc_tls_enabled", "old.example.com")] == "fail"
    assert v[("apigateway_domain_name_tls_1_2", "pq.example.com")] == "pass"
    assert v[("apigateway_domain_name_tls_1_2", "old.example.com")] == "fail"
