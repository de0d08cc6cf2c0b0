"""The rule index: sound (never drops a rule that matches) and selective (prefixes, negations, error codes)."""

from __future__ import annotations

import random

import pytest

from bench.detect.mix import generate
from cspm_stream.detect.agent_tools import tool_names
from cspm_stream.detect.catalog import builtin_rules_dir
from cspm_stream.detect.engine import DetectionEngine
from cspm_stream.detect.loader import load_paths
from cspm_stream.detect.records import RecordRejected, normalize, normalize_keys
from cspm_stream.detect.rescan import load_map
from tests.unit.detect.helpers import ev, rules
from tests.unit.detect.test_sigmahq import RULES as SIGMAHQ


def _rule(n: int, detection: str) -> str:
    return f"""
title: R{n}
id: 90000000-0000-4000-8000-{n:012d}
logsource: {{product: aws, service: cloudtrail}}
detection:
{detection}
"""


INDEXED = rules(
    _rule(1, "  sel: {eventName|startswith: [Delete, Terminate]}\n  condition: sel"),
    _rule(2, "  sel: {userAgent|contains: sqlmap}\n  s3: {eventSource: s3.amazonaws.com}\n  condition: sel and not s3"),
    _rule(3, "  sel: {eventName: GetObject}\n  err: {errorCode|exists: true}\n  condition: sel and not err"),
    _rule(4, "  a: {eventName|endswith: Policy}\n  b: {userAgent|contains: x}\n  condition: a or b"),
    _rule(
        5,
        "  sel: {eventName: PutObject}\n  f: {eventSource: ec2.amazonaws.com, userAgent: y}\n  condition: sel and not f",
    ),
)


def _titles(engine: DetectionEngine, rec: dict) -> set[str]:
    return {r.info.title for r in engine._candidates(normalize(rec))[0]}


def test_projection_keeps_only_rules_whose_index_fields_can_match() -> None:
    eng = DetectionEngine(INDEXED)
    assert _titles(eng, ev("DeleteBucket", "s3.amazonaws.com")) == {"R1", "R4"}
    assert _titles(eng, ev("TerminateInstances", "ec2.amazonaws.com")) == {"R1", "R2", "R4"}
    assert _titles(eng, ev("GetObject", "s3.amazonaws.com")) == {"R3", "R4"}
    assert _titles(eng, ev("GetObject", "s3.amazonaws.com", error_code="AccessDenied")) == {"R4"}
    assert _titles(eng, ev("PutObject", "s3.amazonaws.com")) == {"R4", "R5"}  # R5's not-filter mixes fields: kept
    assert _titles(eng, ev("ListUsers")) == {"R2", "R4"}


def test_index_never_drops_a_matching_rule_and_residuals_agree() -> None:
    rs = load_paths([builtin_rules_dir(), SIGMAHQ])
    eng = DetectionEngine(rs)
    live = [r for r in rs.rules if eng._generate[r.info.id] or r.feeds]
    recs = generate(4000, seed=7)
    rng = random.Random(3)
    for rec in recs[:300]:  # hostile spellings of the index fields too
        bent = dict(rec, eventName=rng.choice(["", "delete", "DELETEBUCKET", rec["eventName"].upper(), "x" * 300]))
        recs.append(bent)
    checked = 0
    for raw in recs:
        rec = normalize(raw)
        selected = eng._candidates(rec)[0]
        cands = set(id(r) for r in selected)
        for r in live:
            if r.compiled.predicate(rec):
                assert id(r) in cands, (r.info.title, rec["eventName"], rec["eventSource"])
                checked += 1
        for r in selected:  # what the engine evaluates on a selected record decides exactly the same
            assert r.residual(rec) == r.compiled.predicate(rec), (r.info.title, rec["eventName"])
    assert checked > 1000
    assert sum(len(eng._candidates(normalize(r))[0]) for r in recs) / len(recs) < 0.1 * len(live)


def test_combined_wildcard_lists_decide_like_the_values_one_by_one() -> None:
    from sigma.types import SigmaCasedString, SigmaString

    from cspm_stream.detect.matchers import string_matcher, strings_matcher

    rng = random.Random(5)
    alphabet = "abAB.-/ *?É"
    texts = ["".join(rng.choice("abAB.-/ xÉé") for _ in range(rng.randrange(0, 8))) for _ in range(300)]
    texts += [None, 7, True, {"k": "aB"}]  # type: ignore[list-item]
    for _ in range(200):
        raw = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 5))) for _ in range(rng.randrange(2, 5))]
        cased = rng.random() < 0.3
        strings = [SigmaCasedString(r) if cased else SigmaString(r) for r in raw]
        strings = [s for s in strings if s.contains_special() and any(isinstance(p, str) and p for p in s.s)]
        if len(strings) < 2:
            continue
        combined = strings_matcher(strings, cased)
        singles = [string_matcher(s) for s in strings]
        for t in texts:
            assert combined(t) == any(m(t) for m in singles), (raw, cased, t)


TOOLS = rules(
    _rule(6, "  sel: {cspm.tools: [kali, pacu]}\n  condition: sel"),
    _rule(7, "  sel: {eventName: GetCallerIdentity, cspm.tools: trufflehog}\n  condition: sel"),
    _rule(8, "  sel: {eventName: ListUsers}\n  t: {cspm.tools: prowler}\n  condition: sel and not t"),
    _rule(9, "  sel: {cspm.tools|exists: true}\n  u: {userAgent|contains: Boto3}\n  condition: sel and u"),
)
AGENTS = [
    "aws-cli/2.15.0 Python/3.11.6 Linux/6.5.0-kali3-amd64 exe/x86_64.kali.2023",
    "aws-cli/2.15.0 Python/3.11.6 Linux/6.5.0-21-generic",
    "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.6.9-amd64-kali1",
    "pacu/1.5.2 Boto3/1.34.0",
    "pacuaviation/1.0",
    "TruffleHog",
    "prowler/4.0.0 APN_1826889",
    "Boto3/1.34.0 os/linux",
    "",
    None,
    7,
    ["kali"],
    {"agent": "kali"},
    "kali " + "x" * 70_000,
]


def test_rules_on_cspm_tools_are_candidates_only_where_the_agent_names_a_tool() -> None:
    """cspm.tools is a function of userAgent alone: the candidate cache keys on it (sound and exact)."""
    eng = DetectionEngine(TOOLS)
    plain = ev("ListBuckets", "s3.amazonaws.com", user_agent="Boto3/1.34.0 os/linux")
    assert _titles(eng, plain) == set()  # no rule without an eventName runs on an ordinary record
    assert _titles(eng, ev("ListUsers", user_agent="Boto3/1.34.0")) == {"R8"}
    assert _titles(eng, ev("ListUsers", user_agent="prowler/4.0.0")) == {"R9"}  # R9's Boto3 part is its residual
    assert _titles(eng, ev("GetCallerIdentity", "sts.amazonaws.com", user_agent="TruffleHog")) == {"R7", "R9"}
    assert _titles(eng, ev("ListBuckets", "s3.amazonaws.com", user_agent=AGENTS[0])) == {"R6", "R9"}
    for agent in AGENTS:
        for name, source in (("ListUsers", "iam.amazonaws.com"), ("GetCallerIdentity", "sts.amazonaws.com")):
            rec = normalize_keys(ev(name, source, user_agent=agent))  # type: ignore[arg-type]
            selected = eng._candidates(rec)[0]
            for r in TOOLS.rules:
                if r.compiled.predicate(rec):
                    assert r in selected, (r.info.title, agent)
            for r in selected:
                assert r.residual(rec) == r.compiled.predicate(rec), (r.info.title, agent)


def test_the_builtin_tool_rules_cost_nothing_on_ordinary_traffic() -> None:
    rs = load_paths([builtin_rules_dir()])
    eng = DetectionEngine(rs)
    tool_rules = {r.info.id for r in rs.rules if r.compiled.key_derived == ("tools",)}
    assert len(tool_rules) >= 4
    announced = 0
    for rec in generate(4000, seed=11):
        if tool_names(rec):  # the mix has some scanners (TruffleHog) and attack tools
            announced += 1
            continue
        assert not tool_rules & {r.info.id for r in eng._candidates(normalize(rec))[0]}, rec.get("userAgent")
    assert 0 < announced < 400
    kali = normalize(ev("ListBuckets", "s3.amazonaws.com", user_agent=AGENTS[0]))
    assert {r.info.name for r in eng._candidates(kali)[0]} >= {"cspm_api_call_from_penetration_testing_distribution"}


def test_rescan_specs_remembered_per_key_are_the_records_own() -> None:
    rm = load_map()
    eng = DetectionEngine(load_paths([builtin_rules_dir()]), rescan_map=rm)
    recs = generate(3000, seed=13)
    recs += [dict(r, errorCode="AccessDenied") for r in recs[:200]]
    recs += [dict(r, eventName="PutBucketPolicy", eventSource="s3.amazonaws.com") for r in recs[:200]]
    for raw in recs:
        rec = normalize(raw)
        assert eng._candidates(rec)[1] == rm.specs(rec), (rec["eventName"], rec.get("errorCode"))
    assert any(eng._candidates(normalize(r))[1] for r in recs)


def test_junk_key_values_are_evaluated_but_not_remembered() -> None:
    eng = DetectionEngine(INDEXED)
    eng._candidates(normalize(ev("Delete" + "x" * 600, "s3.amazonaws.com")))
    eng._candidates(normalize(ev("DeleteBucket", "s3.amazonaws.com")))
    assert [k[0] for k in eng._cache] == ["DeleteBucket"]
    assert _titles(eng, ev("Delete" + "y" * 600, "s3.amazonaws.com")) == {"R1", "R4"}


def test_instance_credential_rules_cost_nothing_on_other_principals() -> None:
    """The built-in rules on EC2 instance credentials select ``cspm.ec2_credentials`` (a key field):
    they are candidates only for records made with instance credentials, and there they match."""
    rs = load_paths([builtin_rules_dir()])
    eng = DetectionEngine(rs)
    ec2_rules = {r.info.id for r in rs.rules if "ec2_credentials" in r.compiled.key_derived}
    assert len(ec2_rules) >= 3
    for rec in generate(4000, seed=17):  # service roles, users, root: no instance sessions
        assert not ec2_rules & {r.info.id for r in eng._candidates(normalize(rec))[0]}, rec["userIdentity"]
    ident = {
        "type": "AssumedRole",
        "arn": "arn:aws:sts::123456789012:assumed-role/web-app/i-0a1b2c3d4e5f60718",
        "accountId": "123456789012",
        "sessionContext": {"sessionIssuer": {"type": "Role", "userName": "web-app"}, "ec2RoleDelivery": "2.0"},
    }
    stolen = normalize(ev("DescribeInstances", "ec2.amazonaws.com", userIdentity=ident, sourceIPAddress="203.0.113.9"))
    names = {r.info.name for r in eng._candidates(stolen)[0]}
    assert {"cspm_ec2_instance_role_session_call", "cspm_instance_role_discovery_call"} <= names
    assert {r.info.name for r in eng._match(stolen, eng._candidates(stolen)[0])} >= {
        "cspm_ec2_instance_role_session_call",
        "cspm_instance_role_discovery_call",
    }


def test_rules_pinned_only_by_event_type_are_candidates_only_for_that_type() -> None:
    """``eventType`` is an index field: a rule on VPC endpoint network-activity events (no eventName,
    eventSource or identity type to pin) costs nothing on API calls."""
    rs = rules(
        _rule(7, "  sel: {eventType: AwsVpceEvent, vpcEndpointId|exists: true}\n  condition: sel"),
        _rule(8, "  sel: {eventType: AwsConsoleSignIn}\n  f: {errorCode|exists: true}\n  condition: sel and not f"),
    )
    eng = DetectionEngine(rs)
    assert not eng._generic
    api = normalize(ev("GetObject", "s3.amazonaws.com", vpcEndpointId="vpce-0a1b2c3d"))
    vpce = normalize(ev("GetObject", "s3.amazonaws.com", eventType="AwsVpceEvent", vpcEndpointId="vpce-0a1b2c3d"))
    sign_in = normalize(ev("ConsoleLogin", "signin.amazonaws.com", eventType="AwsConsoleSignIn"))
    assert _titles(eng, api) == set()
    assert _titles(eng, vpce) == {"R7"}
    assert _titles(eng, sign_in) == {"R8"}
    assert [f["finding_info"]["title"] for f in eng.process(vpce, {}).findings] == ["R7"]


def test_an_event_type_that_is_not_text_is_rejected_naming_the_field() -> None:
    eng = DetectionEngine(INDEXED)
    with pytest.raises(RecordRejected, match="eventType"):
        eng.process(ev("GetObject", "s3.amazonaws.com", eventType=["AwsApiCall"]), {})
    assert eng.process(ev("GetObject", "s3.amazonaws.com", eventType=7), {}).duplicate is False  # a number: its text


def test_rules_on_console_calls_are_candidates_only_for_console_records() -> None:
    rs = rules(
        _rule(9, "  sel: {cspm.console: true, eventSource: s3.amazonaws.com}\n  condition: sel"),
        _rule(10, "  sel: {cspm.console: true}\n  f: {errorCode|exists: true}\n  condition: sel and not f"),
    )
    eng = DetectionEngine(rs)
    api = normalize(ev("ListBuckets", "s3.amazonaws.com"))
    console = normalize(ev("ListBuckets", "s3.amazonaws.com", sessionCredentialFromConsole="true"))
    sign_in = normalize(ev("ConsoleLogin", "signin.amazonaws.com"))
    assert _titles(eng, api) == set()
    assert _titles(eng, console) == {"R9", "R10"}
    assert _titles(eng, sign_in) == {"R10"}
    assert {f["finding_info"]["title"] for f in eng.process(console, {}).findings} == {"R9", "R10"}
