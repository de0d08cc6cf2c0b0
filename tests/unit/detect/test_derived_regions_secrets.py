"""Derived fields cspm.unused_region and cspm.plaintext_secrets: semantics, hostile shapes, use from Sigma."""

from __future__ import annotations

from typing import Any

import pytest

from cspm_stream import settings
from cspm_stream.detect.derived import OPT_IN_REGIONS, DerivedConfig, Deriver
from cspm_stream.detect.fields import Vocabulary
from cspm_stream.errors import ConfigError
from tests.unit.detect.helpers import ev, matches, rule


def val(rec: dict[str, Any], name: str, config: DerivedConfig | None = None) -> Any:
    return Deriver(config).value(rec, name)


# ---------------------------------------------------------------------------- unused_region


@pytest.mark.parametrize(
    ("region", "expected"),
    [("af-south-1", True), ("me-central-1", True), ("us-east-1", False), ("eu-west-1", False)],
)
def test_without_configuration_opt_in_regions_are_unused(region: str, expected: bool) -> None:
    assert val(ev("CreateTrail", "cloudtrail.amazonaws.com", region=region), "unused_region") is expected


def test_configured_regions_replace_the_opt_in_default() -> None:
    cfg = DerivedConfig(approved_regions=frozenset({"eu-west-1", "af-south-1"}))
    assert val(ev("CreateTrail", "cloudtrail.amazonaws.com", region="us-east-1"), "unused_region", cfg) is True
    assert val(ev("CreateTrail", "cloudtrail.amazonaws.com", region="eu-west-1"), "unused_region", cfg) is False
    assert val(ev("CreateTrail", "cloudtrail.amazonaws.com", region="af-south-1"), "unused_region", cfg) is False


@pytest.mark.parametrize("region", [None, 42, ["af-south-1"], {"r": 1}, ""])
def test_region_of_any_type_is_never_an_error(region: Any) -> None:
    rec = ev("CreateTrail", "cloudtrail.amazonaws.com")
    rec["awsRegion"] = region
    assert val(rec, "unused_region") is False


def test_opt_in_list_holds_no_default_region() -> None:
    assert not OPT_IN_REGIONS & {"us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "ap-northeast-1"}


def test_approved_regions_setting_reaches_the_deriver_and_is_validated() -> None:
    d = settings.DetectionSettings(approved_regions=["eu-west-1"])
    assert DerivedConfig.from_settings(d).approved_regions == frozenset({"eu-west-1"})
    with pytest.raises(ConfigError) as exc:
        settings.DetectionSettings(approved_regions=["Europe"]).validate("detection")
    assert "detection.approved_regions[0]" in str(exc.value)


def test_unused_region_from_sigma() -> None:
    rs = rule(
        """
        selection:
          eventName: CreateTrail
          cspm.unused_region: true
        condition: selection
        """,
        vocab=Vocabulary(),
    )
    assert matches(rs, ev("CreateTrail", "cloudtrail.amazonaws.com", region="ap-southeast-7"))
    assert not matches(rs, ev("CreateTrail", "cloudtrail.amazonaws.com", region="us-west-2"))


# ---------------------------------------------------------------------------- plaintext_secrets


def codebuild(*env: dict[str, Any]) -> dict[str, Any]:
    return ev(
        "CreateProject",
        "codebuild.amazonaws.com",
        request_parameters={
            "name": "build",
            "environment": {"image": "aws/codebuild/standard:7.0", "environmentVariables": list(env)},
        },
    )


def test_secret_named_plaintext_variable_is_reported() -> None:
    rec = codebuild(
        {"name": "DB_PASSWORD", "value": "hunter2", "type": "PLAINTEXT"}, {"name": "REGION", "value": "eu-west-1"}
    )
    assert val(rec, "plaintext_secrets") == ["DB_PASSWORD"]


def test_type_absent_is_plaintext_by_default() -> None:
    assert val(codebuild({"name": "GITHUB_TOKEN", "value": "abc123def"}), "plaintext_secrets") == ["GITHUB_TOKEN"]


def test_credential_shaped_value_counts_whatever_the_name() -> None:
    rec = codebuild(
        {"name": "CONFIG_A", "value": "AKIAIOSFODNN7EXAMPLE"},
        {"name": "CONFIG_B", "value": "ghp_" + "a" * 36},
        {"name": "CONFIG_C", "value": "-----BEGIN RSA PRIVATE KEY-----\nMIIE..."},
    )
    assert val(rec, "plaintext_secrets") == ["CONFIG_A", "CONFIG_B", "CONFIG_C"]


@pytest.mark.parametrize(
    "entry",
    [
        {"name": "DB_PASSWORD", "value": "/prod/db/password", "type": "PARAMETER_STORE"},
        {"name": "API_KEY", "value": "prod/api:key", "type": "SECRETS_MANAGER"},
        {"name": "DB_SECRET_ARN", "value": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db"},
        {"name": "TOKEN_URL", "value": "https://auth.example.com/token"},
        {"name": "PASSWORD", "value": ""},
        {"name": "SECRET", "value": "{{resolve:secretsmanager:db:SecretString:password}}"},
        {"name": "ACCESS_KEY_ID", "value": "not-a-key"},
        {"name": "LOG_LEVEL", "value": "debug"},
        {"name": "AWS_ACCESS_KEY_ID", "value": "AKIAIOSFODNN7EXAMPLE", "type": "PARAMETER_STORE"},
    ],
)
def test_references_pointers_and_ordinary_values_are_not_secrets(entry: dict[str, Any]) -> None:
    assert val(codebuild(entry), "plaintext_secrets") is None


def test_hidden_value_counts_by_name() -> None:
    rec = codebuild({"name": "SLACK_TOKEN", "value": "HIDDEN_DUE_TO_SECURITY_REASONS"})
    assert val(rec, "plaintext_secrets") == ["SLACK_TOKEN"]


def test_map_shapes_and_ecs_task_definitions() -> None:
    lam = ev(
        "UpdateFunctionConfiguration20150331v2",
        "lambda.amazonaws.com",
        request_parameters={"functionName": "f", "environment": {"variables": {"STRIPE_KEY": "sk_live_" + "x" * 24}}},
    )
    assert val(lam, "plaintext_secrets") == ["STRIPE_KEY"]
    ecs = ev(
        "RegisterTaskDefinition",
        "ecs.amazonaws.com",
        request_parameters={
            "family": "web",
            "containerDefinitions": [
                {"name": "web", "environment": [{"name": "DJANGO_SECRET_KEY", "value": "s3cr3t-value"}]},
            ],
        },
    )
    assert val(ecs, "plaintext_secrets") == ["DJANGO_SECRET_KEY"]


@pytest.mark.parametrize(
    "rp",
    [
        None,
        "text",
        7,
        [],
        {"environmentVariables": "x"},
        {"x": [{"name": 5, "value": "AKIAIOSFODNN7EXAMPLE"}]},
        {"x": [{"name": "TOKEN", "value": {"nested": True}}]},
        {"variables": {"TOKEN": None}},
    ],
)
def test_any_json_shape_is_accepted(rp: Any) -> None:
    rec = ev("CreateProject", "codebuild.amazonaws.com")
    rec["requestParameters"] = rp
    assert val(rec, "plaintext_secrets") is None


def test_report_is_bounded() -> None:
    rec = codebuild(*({"name": f"TOKEN_{i}", "value": "v"} for i in range(500)))
    assert len(val(rec, "plaintext_secrets")) == 32


def test_plaintext_secrets_from_sigma() -> None:
    rs = rule(
        """
        selection:
          eventName: CreateProject
          cspm.plaintext_secrets|exists: true
        condition: selection
        """,
        vocab=Vocabulary(),
    )
    assert matches(rs, codebuild({"name": "NPM_TOKEN", "value": "npm_" + "b" * 36}))
    assert not matches(rs, codebuild({"name": "NODE_ENV", "value": "production"}))
