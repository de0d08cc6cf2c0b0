"""Sigma compiler: modifiers, values, condition grammar, vocabulary, placeholders, load errors."""

from __future__ import annotations

import pytest

from tests.unit.detect.helpers import ev, matches, rule, rules


def test_plain_value_is_case_insensitive_and_lists_are_or() -> None:
    rs = rule("""
        sel:
            eventName: [stoplogging, DeleteTrail]
        condition: sel
    """)
    assert matches(rs, ev("StopLogging"))
    assert matches(rs, ev("DeleteTrail"))
    assert not matches(rs, ev("StartLogging"))


@pytest.mark.parametrize(
    ("modifier", "value", "ua", "expected"),
    [
        ("contains", "boto3", "Boto3/1.34 Python/3.11", True),
        ("contains", "boto3", "aws-cli/2.15", False),
        ("startswith", "aws-cli/", "AWS-CLI/2.15.0", True),
        ("startswith", "aws-cli/", "x aws-cli/2", False),
        ("endswith", "python/3.11", "Boto3/1.34 Python/3.11", True),
        ("endswith", "python/3.11", "Python/3.11 x", False),
        ("re", "^aws-cli/2\\.[0-9]+", "aws-cli/2.15.0", True),
        ("re", "^AWS-cli", "aws-cli/2.15.0", False),  # |re is case-sensitive
        ("re|i", "^AWS-cli", "aws-cli/2.15.0", True),
        ("cased", "aws-cli/2.15.0", "AWS-CLI/2.15.0", False),
        ("cased", "aws-cli/2.15.0", "aws-cli/2.15.0", True),
    ],
)
def test_string_modifiers(modifier: str, value: str, ua: str, expected: bool) -> None:
    rs = rule(f"""
        sel:
            userAgent|{modifier}: '{value}'
        condition: sel
    """)
    assert matches(rs, ev("GetCallerIdentity", user_agent=ua)) is expected


def test_wildcards_star_and_question_mark() -> None:
    rs = rule("""
        sel:
            userAgent: 'aws-cli/2.?5*'
        condition: sel
    """)
    assert matches(rs, ev("X", user_agent="aws-cli/2.15.0 Python"))
    assert not matches(rs, ev("X", user_agent="aws-cli/2.105.0"))


def test_all_modifier_requires_every_value() -> None:
    rs = rule("""
        sel:
            userAgent|contains|all: [boto3, linux]
        condition: sel
    """)
    assert matches(rs, ev("X", user_agent="Boto3/1 Linux/6"))
    assert not matches(rs, ev("X", user_agent="Boto3/1 Darwin"))


def test_cidr_matches_ipv4_and_ipv6_and_ignores_service_names() -> None:
    rs = rule("""
        sel:
            sourceIPAddress|cidr: [10.0.0.0/8, '2001:db8::/32']
        condition: sel
    """)
    assert matches(rs, ev("X", source_ip="10.1.2.3"))
    assert matches(rs, ev("X", source_ip="2001:db8::1"))
    assert not matches(rs, ev("X", source_ip="11.0.0.1"))
    assert not matches(rs, ev("X", source_ip="AWS Internal"))


def test_exists_and_null() -> None:
    rs = rule("""
        sel:
            errorCode|exists: true
        condition: sel
    """)
    assert matches(rs, ev("X", error_code="AccessDenied"))
    assert not matches(rs, ev("X"))
    rs = rule("""
        sel:
            errorCode: null
        condition: sel
    """)
    assert matches(rs, ev("X"))
    assert not matches(rs, ev("X", error_code="AccessDenied"))


def test_numeric_comparisons() -> None:
    rs = rule("""
        sel:
            requestParameters.durationSeconds|gte: 43200
        condition: sel
    """)
    assert matches(rs, ev("AssumeRole", request_parameters={"durationSeconds": 43200}))
    assert matches(rs, ev("AssumeRole", request_parameters={"durationSeconds": "50000"}))
    assert not matches(rs, ev("AssumeRole", request_parameters={"durationSeconds": 3600}))
    assert not matches(rs, ev("AssumeRole", request_parameters={}))


def test_booleans_and_numbers_compare_with_json_values() -> None:
    rs = rule("""
        sel:
            responseElements.publiclyAccessible: 'true'
            requestParameters.port: 22
        condition: sel
    """)
    assert matches(rs, ev("X", response_elements={"publiclyAccessible": True}, request_parameters={"port": 22}))
    assert not matches(rs, ev("X", response_elements={"publiclyAccessible": False}, request_parameters={"port": 22}))
    assert not matches(rs, ev("X", response_elements={"publiclyAccessible": True}, request_parameters={"port": 23}))


def test_lists_are_flattened_along_the_path() -> None:
    rs = rule("""
        sel:
            requestParameters.ipPermissions.items.ipRanges.items.cidrIp: 0.0.0.0/0
        condition: sel
    """)
    open_world = {
        "ipPermissions": {
            "items": [
                {"ipRanges": {"items": [{"cidrIp": "10.0.0.0/8"}]}},
                {"ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}},
            ]
        }
    }
    assert matches(rs, ev("AuthorizeSecurityGroupIngress", request_parameters=open_world))
    closed = {"ipPermissions": {"items": [{"ipRanges": {"items": [{"cidrIp": "10.0.0.0/8"}]}}]}}
    assert not matches(rs, ev("AuthorizeSecurityGroupIngress", request_parameters=closed))


def test_object_values_match_through_json_text_and_nested_strings() -> None:
    rs = rule("""
        sel:
            requestParameters|contains|all: ['"s3:GetObject"', 'Suspended']
        condition: sel
    """)
    params = {"policyDocument": '{"Action": "s3:GetObject"}', "VersioningConfiguration": {"Status": "Suspended"}}
    assert matches(rs, ev("X", request_parameters=params))
    assert not matches(rs, ev("X", request_parameters={"policyDocument": '{"Action": "s3:PutObject"}'}))


def test_fieldref_compares_two_fields() -> None:
    rs = rule("""
        sel:
            eventName: CreateAccessKey
        filter:
            userIdentity.userName|fieldref: requestParameters.userName
        condition: sel and not filter
    """)
    assert matches(rs, ev("CreateAccessKey", request_parameters={"userName": "bob"}))  # alice creates for bob
    assert not matches(rs, ev("CreateAccessKey", request_parameters={"userName": "ALICE"}))


def test_base64_and_keywords() -> None:
    rs = rule("""
        sel:
            requestParameters.userData|base64: 'curl http://x'
        condition: sel
    """)
    import base64

    enc = base64.b64encode(b"curl http://x").decode()
    assert matches(rs, ev("RunInstances", request_parameters={"userData": enc}))
    assert not matches(rs, ev("RunInstances", request_parameters={"userData": "plain"}))
    rs = rule("""
        keywords:
            - 'xmrig'
        condition: keywords
    """)
    assert matches(rs, ev("RunInstances", request_parameters={"userData": "run XMRig now"}))
    assert not matches(rs, ev("RunInstances"))


def test_condition_grammar_selectors_parentheses_and_not() -> None:
    body = """
        sel_a:
            eventName: A
        sel_b:
            eventName: B
        flt_x:
            userAgent|contains: trusted
        flt_y:
            sourceIPAddress: 10.0.0.1
        condition: {cond}
    """
    any_sel = rule(body.format(cond="1 of sel_* and not 1 of flt_*"))
    assert matches(any_sel, ev("A"))
    assert matches(any_sel, ev("B"))
    assert not matches(any_sel, ev("A", user_agent="trusted-tool"))
    assert not matches(any_sel, ev("C"))
    all_flt = rule(body.format(cond="(sel_a or sel_b) and not all of flt_*"))
    assert matches(all_flt, ev("A", user_agent="trusted-tool"))  # only one filter holds
    assert not matches(all_flt, ev("A", user_agent="trusted-tool", source_ip="10.0.0.1"))
    them = rule(body.format(cond="1 of them"))
    assert matches(them, ev("Z", source_ip="10.0.0.1"))
    all_them = rule(body.format(cond="all of them"))
    assert not matches(all_them, ev("A"))


def test_placeholders_take_values_from_settings() -> None:
    body = """
        sel:
            eventName: ConsoleLogin
        filter:
            sourceIPAddress|expand: '%Legitimate_IP_Ranges%'
        condition: sel and not filter
    """
    rs = rule(body, placeholders={"Legitimate_IP_Ranges": ["cidr:10.0.0.0/8", "192.0.2.7"]})
    assert not matches(rs, ev("ConsoleLogin", source_ip="10.9.9.9"))
    assert not matches(rs, ev("ConsoleLogin", source_ip="192.0.2.7"))
    assert matches(rs, ev("ConsoleLogin", source_ip="203.0.113.5"))
    missing = rule(body)
    assert not missing.rules
    (err,) = missing.errors
    assert "Legitimate_IP_Ranges" in err.reason and "detection.placeholders" in err.reason


def test_unknown_field_fails_with_reason_and_nested_paths_are_free() -> None:
    bad = rule("""
        sel:
            eventname: StopLogging
        condition: sel
    """)
    assert "unknown CloudTrail field 'eventname'" in bad.errors[0].reason
    assert "did you mean 'eventName'" in bad.errors[0].reason
    scalar = rule("""
        sel:
            eventName.x: StopLogging
        condition: sel
    """)
    assert "scalar" in scalar.errors[0].reason
    free = rule("""
        sel:
            requestParameters.anything.at.all: x
        condition: sel
    """)
    assert not free.errors
    enriched = rule(
        """
        sel:
            status: success
        condition: sel
    """,
        extra=frozenset({"status"}),
    )
    assert not enriched.errors


def test_one_bad_rule_does_not_break_the_others() -> None:
    good = """
        title: Good
        id: 00000000-0000-4000-8000-00000000000a
        logsource: {product: aws, service: cloudtrail}
        detection: {sel: {eventName: X}, condition: sel}
    """
    rs = rules(
        good,
        "title: Bad modifier\nlogsource: {product: aws}\ndetection: {sel: {eventName|nosuch: X}, condition: sel}",
        "title: Windows\nlogsource: {product: windows}\ndetection: {sel: {EventID: 1}, condition: sel}",
        "title: Broken condition\nlogsource: {product: aws}\ndetection: {sel: {eventName: X}, condition: sel and}",
        "- just a list",
        good,  # same id again
    )
    assert [r.info.id for r in rs.rules] == ["00000000-0000-4000-8000-00000000000a"]
    reasons = " | ".join(str(e) for e in rs.errors)
    assert len(rs.errors) == 5, reasons
    assert "nosuch" in reasons
    assert "not AWS CloudTrail" in reasons
    assert "must be a YAML mapping" in reasons
    assert "duplicate rule id 00000000-0000-4000-8000-00000000000a" in reasons


def test_index_pins_event_name_and_source() -> None:
    rs = rule("""
        sel:
            eventSource: iam.amazonaws.com
            eventName: [CreateUser, CreateAccessKey]
        condition: sel
    """)
    c = rs.rules[0].compiled
    assert c.event_names == frozenset({"createuser", "createaccesskey"})
    assert c.event_sources == frozenset({"iam.amazonaws.com"})
    unpinned = rule("""
        a:
            eventName: CreateUser
        b:
            userAgent|contains: x
        condition: a or b
    """)
    assert unpinned.rules[0].compiled.event_names is None


def test_metadata_severity_mitre_runbook() -> None:
    rs = rules("""
        title: Meta
        id: 00000000-0000-4000-8000-00000000000b
        level: critical
        runbook: Disable the key first, then ask the owner.
        tags: [attack.credential-access, attack.t1552.005, attack.stealth]
        logsource: {product: aws, service: cloudtrail}
        detection: {sel: {eventName: X}, condition: sel}
    """)
    info = rs.rules[0].info
    assert info.severity.name == "CRITICAL"
    assert info.runbook.startswith("Disable the key")
    attacks = info.attacks()
    assert {a["tactic"]["uid"] for a in attacks} == {"TA0006", "TA0005"}
    assert {a["technique"]["uid"] for a in attacks if "technique" in a} == {"T1552.005"}
    # the technique goes under the tactic it belongs to; the other tactic stands alone
    assert {(a["tactic"]["uid"], "technique" in a) for a in attacks} == {("TA0006", True), ("TA0005", False)}
