from __future__ import annotations

from typing import Any

import pytest

from cspm_stream.policy.checks.iam import document_allows, document_allows_admin
from cspm_stream.policy.checks.network import (
    is_public,
    is_world,
    nacl_allows_all_traffic,
    nacl_open_to_world,
    range_includes,
)
from cspm_stream.policy.checks.resource_policy import denies_insecure_transport, policy_is_public
from cspm_stream.policy.compiler import compile_condition
from cspm_stream.policy.model import EvalContext


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


ALLOW_ALL = {"Effect": "Allow", "Action": "*", "Resource": "*"}


@pytest.mark.parametrize(
    ("document", "admin"),
    [
        (doc(ALLOW_ALL), True),
        (doc({"Effect": "Allow", "Action": ["*:*"], "Resource": ["*"]}), True),
        ({"Statement": ALLOW_ALL}, True),  # single statement object
        ('{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}', True),  # JSON text
        (
            "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D",
            True,
        ),
        (doc({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b"}), False),
        (doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}), False),
        (doc({"Effect": "Deny", "Action": "*", "Resource": "*"}), False),
        # PowerUserAccess: NotAction excludes IAM -> not admin
        (doc({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"}), False),
        # NotAction that keeps IAM -> effectively admin
        (doc({"Effect": "Allow", "NotAction": ["s3:DeleteBucket"], "Resource": "*"}), True),
        # unconditional deny of everything but a few actions cancels the allow
        (doc(ALLOW_ALL, {"Effect": "Deny", "NotAction": ["s3:GetObject"], "Resource": "*"}), False),
        # deny of IAM cancels admin; a conditional deny does not
        (doc(ALLOW_ALL, {"Effect": "Deny", "Action": "iam:*", "Resource": "*"}), False),
        (
            doc(
                ALLOW_ALL,
                {
                    "Effect": "Deny",
                    "Action": "iam:*",
                    "Resource": "*",
                    "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}},
                },
            ),
            True,
        ),
        (None, False),
        ({"Statement": "nonsense"}, False),
    ],
)
def test_iam_admin(document: Any, admin: bool) -> None:
    assert document_allows_admin(document) is admin


def test_iam_admin_conditional_switch() -> None:
    d = doc({**ALLOW_ALL, "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}})
    assert document_allows_admin(d)
    assert not document_allows_admin(d, include_conditional=False)


def test_iam_allows_actions() -> None:
    d = doc({"Effect": "Allow", "Action": "kms:*", "Resource": "*"})
    assert document_allows(d, ["kms:Decrypt"], "*")
    assert not document_allows(d, ["s3:GetObject"], "*")
    scoped = doc({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:us-east-1:1:key/k"})
    assert not document_allows(scoped, ["kms:Decrypt"], "*")
    denied = doc(d["Statement"][0], {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"})
    assert not document_allows(denied, ["kms:Decrypt"], "*")
    assert document_allows(denied, ["kms:Encrypt"], "*")


PUB = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}


@pytest.mark.parametrize(
    ("document", "public"),
    [
        (doc(PUB), True),
        (doc({**PUB, "Principal": {"AWS": "*"}}), True),
        (doc({**PUB, "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "*"]}}), True),
        (doc({**PUB, "Principal": {"AWS": "arn:aws:iam::111122223333:root"}}), False),
        (doc({**PUB, "Principal": {"Service": "cloudtrail.amazonaws.com"}}), False),
        (doc({**PUB, "Effect": "Deny"}), False),
        (doc({**PUB, "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}}}), False),
        (doc({**PUB, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}}), False),
        (doc({**PUB, "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:cloudfront::1:distribution/X"}}}), False),
        (doc({**PUB, "Condition": {"StringEquals": {"AWS:SourceAccount": "111122223333"}}}), False),
        (doc({**PUB, "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}), False),
        (doc({**PUB, "Condition": {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}}), True),
        (doc({**PUB, "Condition": {"StringLike": {"aws:PrincipalOrgID": "*"}}}), True),
        (doc({**PUB, "Condition": {"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}}}), True),
        (doc({**PUB, "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}}), True),
        (doc({**PUB, "Condition": {"Bool": {"aws:SecureTransport": "true"}}}), True),
        (doc({**PUB, "Condition": {"ForAnyValue:StringEquals": {"aws:PrincipalOrgPaths": "o-a/r-b/"}}}), False),
        # a public deny outside the VPC endpoint neutralises the public allow
        (
            doc(
                PUB,
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": "arn:aws:s3:::b/*",
                    "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}},
                },
            ),
            False,
        ),
        (None, False),
    ],
)
def test_resource_policy_public(document: Any, public: bool) -> None:
    assert policy_is_public(document) is public


def test_resource_policy_actions_filter() -> None:
    d = doc(PUB)
    assert policy_is_public(d, ["s3:GetObject"])
    assert not policy_is_public(d, ["s3:PutObject"])


@pytest.mark.parametrize(
    ("proto", "lo", "hi", "ports", "expected"),
    [
        ("tcp", 22, 22, [22], True),
        ("tcp", 0, 1024, [22, 3389], True),
        ("tcp", 23, 1024, [22], False),
        ("-1", None, None, [22], True),
        ("6", 3389, 3389, [3389], True),
        ("udp", 3389, 3389, [3389], True),
        ("icmp", -1, -1, [22], False),
        ("icmp", -1, -1, [], True),
        ("tcp", None, None, [22], True),
    ],
)
def test_range_includes(proto: str, lo: Any, hi: Any, ports: list[int], expected: bool) -> None:
    assert range_includes(proto, lo, hi, ports) is expected


def test_cidr_helpers() -> None:
    assert is_world("0.0.0.0/0") and is_world("::/0") and not is_world("10.0.0.0/8")
    assert is_public("8.8.8.0/24") and is_public("0.0.0.0/0") and not is_public("10.1.0.0/16")
    assert not is_world(None)


SG = {
    "IpPermissions": [
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
        {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
    ]
}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"ports": [22]}, False),
        ({"ports": [443]}, True),
        ({"ports": [3389]}, True),
        ({"ports": [3389], "ipv6": False}, False),
        ({}, True),
        ({"all_ports": True}, False),
    ],
)
def test_sg_open_to_world(args: dict[str, Any], expected: bool) -> None:
    c = compile_condition({"check": "sg_open_to_world", "args": args})
    assert c.predicate(SG, EvalContext(now_ts=0)) is expected
    assert c.reads == frozenset({"IpPermissions"})


def test_sg_all_ports() -> None:
    c = compile_condition({"check": "sg_open_to_world", "args": {"all_ports": True}})
    sg = {"IpPermissions": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}
    assert c.predicate(sg, EvalContext(now_ts=0))


def test_nacl_rule_order() -> None:
    allow_all = {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": False, "CidrBlock": "0.0.0.0/0"}
    deny_ssh = {
        "RuleNumber": 50,
        "Protocol": "6",
        "RuleAction": "deny",
        "Egress": False,
        "CidrBlock": "0.0.0.0/0",
        "PortRange": {"From": 22, "To": 22},
    }
    egress = {**allow_all, "Egress": True}
    assert nacl_open_to_world([allow_all], [22])
    assert not nacl_open_to_world([deny_ssh, allow_all], [22])
    assert nacl_open_to_world([deny_ssh, allow_all], [22, 3389])
    assert not nacl_open_to_world([egress], [22])
    assert not nacl_open_to_world(None, [22])


def test_protocols_argument() -> None:
    udp22 = {
        "IpPermissions": [{"IpProtocol": "udp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    }
    tcp_only = compile_condition({"check": "sg_open_to_world", "args": {"ports": [22], "protocols": ["tcp"]}})
    both = compile_condition({"check": "sg_open_to_world", "args": {"ports": [22]}})
    ctx = EvalContext(now_ts=0)
    assert not tcp_only.predicate(udp22, ctx) and both.predicate(udp22, ctx)
    everything = {"IpPermissions": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}
    assert tcp_only.predicate(everything, ctx)
    rule = compile_condition({"check": "port_range_includes", "args": {"ports": [53], "protocols": ["udp"]}})
    assert rule.predicate({"IpProtocol": "17", "FromPort": 53, "ToPort": 53}, ctx)
    assert not rule.predicate({"IpProtocol": "tcp", "FromPort": 53, "ToPort": 53}, ctx)


def _nacl(*entries: tuple[int, str, str, str]) -> list[dict[str, Any]]:
    out = []
    for n, action, proto, cidr in entries:
        e: dict[str, Any] = {"RuleNumber": n, "RuleAction": action, "Protocol": proto, "Egress": False}
        e["Ipv6CidrBlock" if ":" in cidr else "CidrBlock"] = cidr
        if proto == "6":
            e["PortRange"] = {"From": 22, "To": 22}
        out.append(e)
    return out


def test_nacl_order_per_address_family() -> None:
    # an IPv6 deny numbered first never matches an IPv4 packet
    assert nacl_open_to_world(_nacl((100, "deny", "-1", "::/0"), (110, "allow", "6", "0.0.0.0/0")), [22])
    assert not nacl_open_to_world(_nacl((100, "deny", "-1", "0.0.0.0/0"), (110, "allow", "6", "0.0.0.0/0")), [22])
    assert not nacl_allows_all_traffic(_nacl((100, "deny", "-1", "0.0.0.0/0"), (200, "allow", "-1", "0.0.0.0/0")))
    assert nacl_allows_all_traffic(_nacl((100, "deny", "-1", "::/0"), (200, "allow", "-1", "0.0.0.0/0")))
    assert nacl_allows_all_traffic(_nacl((100, "deny", "6", "0.0.0.0/0"), (200, "allow", "-1", "0.0.0.0/0")))


def _tls(**over: Any) -> dict[str, Any]:
    st: dict[str, Any] = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    return {**st, **over}


@pytest.mark.parametrize(
    ("statement", "denies"),
    [
        (_tls(), True),
        (_tls(Condition={"Bool": {"AWS:securetransport": ["FALSE"]}}), True),  # key names case-insensitive
        (_tls(Condition={"BoolIfExists": {"aws:SecureTransport": False}}), True),
        (_tls(Resource="arn:aws-cn:s3:::b*"), True),
        (_tls(Principal={"AWS": "*"}, Action=["s3:GetObject", "S3:*"]), True),
        (_tls(Resource="arn:aws:s3:::b"), False),  # objects not covered
        (_tls(Action="s3:GetObject"), False),
        (_tls(Principal={"AWS": "arn:aws:iam::123456789012:root"}), False),
        (_tls(Effect="Allow"), False),
        (_tls(Condition={"Bool": {"aws:SecureTransport": "true"}}), False),
        (
            _tls(Condition={"Bool": {"aws:SecureTransport": "false"}, "StringEquals": {"aws:PrincipalAccount": "1"}}),
            False,
        ),
        (_tls(Condition={"NumericLessThan": {"s3:TlsVersion": "1.2"}}), False),
        (_tls(NotAction="s3:GetObject", Action=None), False),
    ],
)
def test_denies_insecure_transport(statement: dict[str, Any], denies: bool) -> None:
    assert denies_insecure_transport(doc(statement), "s3", ["arn:aws:s3:::b/object"]) is denies


GITHUB = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"


@pytest.mark.parametrize(
    ("principal", "condition", "public"),
    [
        (GITHUB, {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}, True),
        (GITHUB, {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:*"}}, True),
        (GITHUB, {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:org*/app:*"}}, True),
        (GITHUB, {"StringLikeIfExists": {"token.actions.githubusercontent.com:sub": "repo:org/app:*"}}, True),
        (GITHUB, {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:org/*"}}, False),
        (
            GITHUB,
            {"StringEquals": {"token.actions.githubusercontent.com:sub": "repo:org/app:ref:refs/heads/main"}},
            False,
        ),
        ("cognito-identity.amazonaws.com", {}, True),
        (
            "cognito-identity.amazonaws.com",
            {"StringEquals": {"cognito-identity.amazonaws.com:aud": "us-east-1:x"}},
            False,
        ),
        ("accounts.google.com", {"StringEquals": {"accounts.google.com:aud": "123.apps.googleusercontent.com"}}, False),
        ("arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC", {}, False),
        ("arn:aws:iam::123456789012:saml-provider/idp", {}, False),
    ],
)
def test_trust_in_shared_web_identity_providers(principal: str, condition: dict[str, Any], public: bool) -> None:
    st: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Federated": principal},
        "Action": "sts:AssumeRoleWithWebIdentity",
    }
    if condition:
        st["Condition"] = condition
    assert policy_is_public(doc(st)) is public
