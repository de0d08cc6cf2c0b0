"""WAFv2 web ACLs on the wire: moto for regional and CloudFront ACLs, rules and logging; recorded responses for
associations (moto answers ListResourcesForWebACL with HTTP 500 and lacks ListDistributionsByWebACLId)."""

from __future__ import annotations

import pytest

from cspm_stream.testing.moto import MotoServer
from tests.unit.collect.breadth_util import Estate, collect_fixture, collect_moto
from tests.unit.collect.conftest import reset

pytestmark = pytest.mark.moto


def _vis(name: str, metrics: bool = True) -> dict[str, object]:
    return {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": metrics, "MetricName": name}


def _rule(name: str, priority: int, metrics: bool = True) -> dict[str, object]:
    return {
        "Name": name,
        "Priority": priority,
        "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet"}},
        "OverrideAction": {"None": {}},
        "VisibilityConfig": _vis(name, metrics),
    }


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> tuple[Estate, dict[str, str]]:
    reset(moto_server)
    waf = moto_server.boto3_client("wafv2")
    ids: dict[str, str] = {}

    def acl(name: str, scope: str, rules: list[dict[str, object]]) -> str:
        s = waf.create_web_acl(
            Name=name, Scope=scope, DefaultAction={"Allow": {}}, VisibilityConfig=_vis(name), Rules=rules
        )["Summary"]
        ids[name] = s["Id"]
        return str(s["ARN"])

    good = acl("good", "REGIONAL", [_rule("common", 0)])
    acl("quiet-rules", "REGIONAL", [_rule("common", 0, metrics=False)])
    acl("empty", "REGIONAL", [])
    acl("cdn", "CLOUDFRONT", [_rule("common", 0)])
    moto_server.boto3_client("logs").create_log_group(logGroupName="aws-waf-logs-good")
    waf.put_logging_configuration(
        LoggingConfiguration={
            "ResourceArn": good,
            "LogDestinationConfigs": ["arn:aws:logs:us-east-1:123456789012:log-group:aws-waf-logs-good"],
        }
    )
    return collect_moto(moto_server, ["wafv2"]), ids


def test_both_scopes_are_collected(estate: tuple[Estate, dict[str, str]]) -> None:
    e, ids = estate
    assert e.ids("aws.wafv2.web_acl") == set(ids.values())
    cdn = e.one("aws.wafv2.web_acl", ids["cdn"])
    assert cdn.attributes["Scope"] == "CLOUDFRONT" and ":global/webacl/cdn/" in cdn.arn
    assert e.one("aws.wafv2.web_acl", ids["good"]).attributes["LoggingConfiguration"]["LogDestinationConfigs"]
    assert e.one("aws.wafv2.web_acl", ids["empty"]).attributes["LoggingConfiguration"] is None  # not configured
    # moto gaps: association listings are errors, never "protects nothing"
    assert e.errors() == {("aws.wafv2.web_acl", "AssociatedResources")}


def test_verdicts(estate: tuple[Estate, dict[str, str]]) -> None:
    e, ids = estate
    pols = {
        # policy: (good, quiet-rules, empty, cdn)
        "wafv2_webacl_logging_enabled": ("pass", "fail", "fail", "fail"),
        "wafv2_webacl_with_rules": ("pass", "pass", "fail", "pass"),
        "wafv2_webacl_rule_logging_enabled": ("pass", "fail", "pass", "pass"),
        "wafv2_webacl_associated": ("error", "error", "error", "error"),
        "wafv2_webacl_managed_rule_groups_enabled": ("pass", "pass", "fail", "pass"),
    }
    v = e.verdicts(list(pols))
    order = ("good", "quiet-rules", "empty", "cdn")
    assert {p: tuple(v[(p, ids[n])] for n in order) for p in pols} == pols


def test_associations_recorded() -> None:
    e, aws = collect_fixture("wafv2", "wafv2")
    assert aws.unanswered == []
    v = e.verdicts(["wafv2_webacl_associated"])
    assert v[("wafv2_webacl_associated", "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111")] == "pass"  # an ALB
    assert v[("wafv2_webacl_associated", "c3d4e5f6-7890-12ab-cdef-EXAMPLE33333")] == "fail"  # nothing
    assert v[("wafv2_webacl_associated", "d4e5f6a7-8901-23ab-cdef-EXAMPLE44444")] == "pass"  # a distribution
