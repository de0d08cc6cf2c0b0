"""Deeper collection of Lambda, EKS, ECR and CloudFront on the wire (moto): Lambda settings (environment values
never kept, cross-account layers, dead-letter queues, tracing), the ECR registry's scanning configuration, EKS
endpoint settings and CloudFront S3 origins whose bucket exists or is gone — each beside a compliant twin."""

from __future__ import annotations

import io
import zipfile

import pytest

from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from tests.unit.collect.breadth_util import Estate, collect_fixture, collect_moto
from tests.unit.collect.conftest import reset

pytestmark = pytest.mark.moto

SECRET = "AKIAIOSFODNN7EXAMPLE"


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "def handler(e, c):\n    return 1\n")
    return buf.getvalue()


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> tuple[Estate, dict[str, str]]:
    reset(moto_server)
    iam = moto_server.boto3_client("iam")
    role = iam.create_role(
        RoleName="fn",
        AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}',
    )["Role"]["Arn"]
    lam = moto_server.boto3_client("lambda")
    layer = lam.publish_layer_version(LayerName="utils", Content={"ZipFile": _zip()})["LayerVersionArn"]
    moto_server.boto3_client("sqs").create_queue(QueueName="fn-dlq")
    dlq = f"arn:aws:sqs:us-east-1:{ACCOUNT_ID}:fn-dlq"
    common = {"Runtime": "python3.12", "Role": role, "Handler": "app.handler", "Code": {"ZipFile": _zip()}}
    lam.create_function(
        FunctionName="tidy",
        Environment={"Variables": {"TABLE": "orders"}},
        KMSKeyArn=f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        TracingConfig={"Mode": "Active"},
        DeadLetterConfig={"TargetArn": dlq},
        Layers=[layer],
        **common,
    )
    lam.create_function(
        FunctionName="messy",
        Environment={"Variables": {"UPSTREAM_KEY": SECRET, "DB_PASSWORD": "hunter2-hunter2"}},
        **common,
    )
    ecr = moto_server.boto3_client("ecr")
    ecr.create_repository(repositoryName="app")
    return collect_moto(moto_server, ["lambda", "ecr"]), {}


def test_lambda_settings_and_no_secret_kept(estate: tuple[Estate, dict[str, str]]) -> None:
    e, _ = estate
    messy = e.one("aws.lambda.function", "messy")
    assert SECRET not in repr(e.snaps) and "hunter2" not in repr(e.snaps)
    assert messy.attributes["Environment"]["Variables"] == messy.attributes["Settings"]["Variables"]
    assert {v["name"]: v["valueKind"] for v in messy.attributes["Settings"]["Variables"]} == {
        "UPSTREAM_KEY": "aws-access-key-id",
        "DB_PASSWORD": None,
    }
    assert e.one("aws.lambda.function", "tidy").attributes["Settings"]["CrossAccountLayers"] == []
    pols = [
        "awslambda_function_env_vars_not_encrypted_with_cmk",
        "lambda_function_env_no_plaintext_secrets",
        "lambda_function_xray_tracing_active",
    ]
    v = e.verdicts(pols)
    assert {p: (v[(p, "tidy")], v[(p, "messy")]) for p in pols} == {p: ("pass", "fail") for p in pols}


def test_cross_account_layers_are_judged_by_the_layer_account() -> None:
    import asyncio

    from cspm_stream.collect.services.lambda_ import _settings
    from cspm_stream.collect.spec import Scope

    class Calls:
        scope = Scope(account_id=ACCOUNT_ID, region="us-east-1")

    item = {
        "Layers": [
            {"Arn": f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:layer:own:3"},
            {"Arn": "arn:aws:lambda:us-east-1:580247275435:layer:LambdaInsightsExtension:49"},
        ]
    }
    settings = asyncio.run(_settings(Calls(), item))  # type: ignore[arg-type]
    assert settings["CrossAccountLayers"] == ["arn:aws:lambda:us-east-1:580247275435:layer:LambdaInsightsExtension:49"]
    assert settings["Variables"] == []


def test_ecr_registry(estate: tuple[Estate, dict[str, str]]) -> None:
    e, _ = estate
    registry = e.one("aws.ecr.registry", "us-east-1")
    assert registry.attributes["HasRepositories"] is True
    v = e.verdicts(["ecr_registry_enhanced_scanning_enabled", "ecr_registry_scan_images_on_push_enabled"])
    assert v[("ecr_registry_enhanced_scanning_enabled", "us-east-1")] == "fail"  # moto: BASIC, no rules
    assert v[("ecr_registry_scan_images_on_push_enabled", "us-east-1")] == "fail"


def test_recorded_cloudfront_s3_origin_buckets() -> None:
    e, aws = collect_fixture("cloudfront", "cloudfront")
    assert aws.unanswered == []
    assert e.one("aws.cloudfront.distribution", "E2GONE0000000").attributes["S3OriginBuckets"] == [
        {"OriginId": "s3", "Bucket": "assets-deleted", "Exists": False}
    ]
    present = e.one("aws.cloudfront.distribution", "E1PRESENT00000").attributes["S3OriginBuckets"]
    assert [b["Exists"] for b in present] == [True, True]  # 403: the bucket exists, the scanner may not read it
    # one GetDistributionConfig per distribution, shared by DistributionConfig and S3OriginBuckets
    assert [c[1] for c in aws.calls].count("GetDistributionConfig") == 2
    p = "cloudfront_distributions_s3_origin_non_existent_bucket"
    g = "cloudfront_distributions_geo_restrictions_enabled"
    v = e.verdicts([p, g])
    assert (v[(p, "E1PRESENT00000")], v[(p, "E2GONE0000000")]) == ("pass", "fail")
    assert (v[(g, "E1PRESENT00000")], v[(g, "E2GONE0000000")]) == ("pass", "fail")


def test_registry_scanning_rules(moto_server: MotoServer, estate: tuple[Estate, dict[str, str]]) -> None:
    ecr = moto_server.boto3_client("ecr")
    ecr.put_registry_scanning_configuration(
        scanType="ENHANCED",
        rules=[{"scanFrequency": "CONTINUOUS_SCAN", "repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}]}],
    )
    e = collect_moto(moto_server, ["ecr"])
    v = e.verdicts(["ecr_registry_enhanced_scanning_enabled", "ecr_registry_scan_images_on_push_enabled"])
    assert v[("ecr_registry_enhanced_scanning_enabled", "us-east-1")] == "pass"
    assert v[("ecr_registry_scan_images_on_push_enabled", "us-east-1")] == "pass"


def test_eks_endpoint_settings(moto_server: MotoServer) -> None:
    reset(moto_server)
    eks = moto_server.boto3_client("eks")
    vpc = {"subnetIds": ["subnet-0a1b2c3d4e5f60718", "subnet-0b1c2d3e4f5a60718"]}
    role = f"arn:aws:iam::{ACCOUNT_ID}:role/eks"
    eks.create_cluster(
        name="private",
        roleArn=role,
        resourcesVpcConfig={**vpc, "endpointPrivateAccess": True, "endpointPublicAccess": False},
    )
    eks.create_cluster(
        name="public",
        roleArn=role,
        resourcesVpcConfig={**vpc, "endpointPrivateAccess": False, "endpointPublicAccess": True},
    )
    e = collect_moto(moto_server, ["eks"])
    p = "eks_cluster_private_nodes_enabled"
    v = e.verdicts([p, "eks_cluster_deletion_protection_enabled"])
    assert (v[(p, "private")], v[(p, "public")]) == ("pass", "fail")
    assert v[("eks_cluster_deletion_protection_enabled", "public")] == "pass"  # not reported by moto: Prowler passes it


def test_ecr_repository_policy_cross_account(moto_server: MotoServer) -> None:
    import json

    reset(moto_server)
    ecr = moto_server.boto3_client("ecr")

    def policy(principal: str) -> str:
        return json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Sid": "pull", "Effect": "Allow", "Principal": {"AWS": principal}, "Action": ["ecr:BatchGetImage"]}
                ],
            }
        )

    for name, principal in (
        ("own", f"arn:aws:iam::{ACCOUNT_ID}:role/ci"),
        ("shared", "arn:aws:iam::210987654321:root"),
    ):
        ecr.create_repository(repositoryName=name)
        ecr.set_repository_policy(repositoryName=name, policyText=policy(principal))
    ecr.create_repository(repositoryName="no-policy")
    e = collect_moto(moto_server, ["ecr"])
    assert e.one("aws.ecr.repository", "shared").attributes["PolicyForeignPrincipals"] == [
        "arn:aws:iam::210987654321:root"
    ]
    assert e.one("aws.ecr.repository", "no-policy").attributes["RepositoryPolicy"] is None
    p = "ecr_repository_policy_no_cross_account"
    v = e.verdicts([p])
    assert (v[(p, "own")], v[(p, "shared")], v[(p, "no-policy")]) == ("pass", "fail", "pass")
