"""AWS WAF Classic (global and regional) on recorded responses — moto does not serve WAF Classic. Paging by
NextMarker, rate-based rules counted, logging read on each ACL's own ARN, empty rules and rule groups."""

from __future__ import annotations

from tests.unit.collect.breadth_util import collect_fixture

CDN, EMPTY = "d4e5f6a7-8901-23ab-cdef-EXAMPLE44444", "f6a7b8c9-0123-45ab-cdef-EXAMPLE66666"
IP_RULE, PLACEHOLDER = "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111", "b2c3d4e5-6789-01ab-cdef-EXAMPLE22222"
GROUP = "c3d4e5f6-7890-12ab-cdef-EXAMPLE33333"


def test_global() -> None:
    e, aws = collect_fixture("waf", "waf")
    assert aws.unanswered == []
    assert e.ids("aws.waf.web_acl") == {CDN, EMPTY}  # second page read
    cdn = e.one("aws.waf.web_acl", CDN)
    assert cdn.arn == f"arn:aws:waf::123456789012:webacl/{CDN}" and cdn.region == "global"
    v = e.verdicts(
        [
            "waf_global_webacl_with_rules",
            "waf_global_webacl_logging_enabled",
            "waf_global_rule_with_conditions",
            "waf_global_rulegroup_not_empty",
        ]
    )
    assert (v[("waf_global_webacl_with_rules", CDN)], v[("waf_global_webacl_with_rules", EMPTY)]) == ("pass", "fail")
    assert (v[("waf_global_webacl_logging_enabled", CDN)], v[("waf_global_webacl_logging_enabled", EMPTY)]) == (
        "pass",
        "fail",
    )
    assert (v[("waf_global_rule_with_conditions", IP_RULE)], v[("waf_global_rule_with_conditions", PLACEHOLDER)]) == (
        "pass",
        "fail",
    )
    assert v[("waf_global_rulegroup_not_empty", GROUP)] == "fail"


def test_regional() -> None:
    e, aws = collect_fixture("wafregional", "waf")
    assert aws.unanswered == []
    acl = e.one("aws.wafregional.web_acl", "a7b8c9d0-1234-56ab-cdef-EXAMPLE77777")
    assert acl.arn == "arn:aws:waf-regional:us-east-1:123456789012:webacl/a7b8c9d0-1234-56ab-cdef-EXAMPLE77777"
    v = e.verdicts(
        ["waf_regional_webacl_with_rules", "waf_regional_webacl_logging_enabled", "waf_regional_rulegroup_not_empty"]
    )
    assert v[("waf_regional_webacl_with_rules", acl.resource_id)] == "pass"  # a rule group counts
    assert v[("waf_regional_webacl_logging_enabled", acl.resource_id)] == "fail"
    assert v[("waf_regional_rulegroup_not_empty", GROUP)] == "pass"
    assert e.ids("aws.wafregional.rule") == set()
