"""Multi-hop chains, SCPs, conditions and hostile documents."""

from __future__ import annotations

from typing import Any

import pytest

from cspm_stream.iamgraph.build import Resource, build_account
from cspm_stream.iamgraph.model import ADMINISTRATOR_ACCESS
from cspm_stream.iamgraph.paths import Analysis
from cspm_stream.iamgraph.results import ADMIN, ESCALATES, NONE
from cspm_stream.iamgraph.synthetic import (
    ACCOUNT,
    FULL_AWS_ACCESS,
    allow,
    arn,
    deny,
    doc,
    policy,
    role,
    scp_account,
    trust_principals,
    trust_service,
    user,
)

from .conftest import Analyse

ALICE = arn("user", "alice")
OPS = arn("role", "ops")
DEPLOY = arn("role", "deploy")
ADMIN_ROLE = arn("role", "admin")


def _two_hops() -> list[Resource]:
    return [
        user("alice", inline=[doc(allow("sts:AssumeRole", OPS))]),
        role("ops", trust_principals(ALICE), inline=[doc(allow("sts:AssumeRole", DEPLOY))]),
        role(
            "deploy",
            trust_principals(OPS),
            inline=[doc(allow(["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"]))],
        ),
        role("admin", trust_service("lambda.amazonaws.com"), attached=[ADMINISTRATOR_ACCESS]),
    ]


def test_chain_through_assumed_roles(analyse: Analyse) -> None:
    r = analyse(*_two_hops())
    a = r[ALICE]
    assert a.status == ESCALATES
    assert [h.method for h in a.path] == ["assume-role", "assume-role", "passrole-lambda"]
    assert [h.target for h in a.path] == [OPS, DEPLOY, ADMIN_ROLE]
    assert a.path[1].actor == OPS and a.path[1].permissions == (f"sts:AssumeRole on {DEPLOY}",)
    detail = a.detail()
    for needle in (ALICE, "role/ops", "role/deploy", "role/admin", "iam:PassRole", "lambda:CreateFunction"):
        assert needle in detail
    assert r[OPS].status == ESCALATES and len(r[OPS].path) == 2
    assert r[DEPLOY].status == ESCALATES and len(r[DEPLOY].path) == 1


def test_chain_broken_in_the_middle(analyse: Analyse) -> None:
    res = _two_hops()
    res[1] = role(
        "ops", trust_principals(ALICE), inline=[doc(allow("sts:AssumeRole", DEPLOY), deny("sts:AssumeRole", DEPLOY))]
    )
    assert analyse(*res)[ALICE].status == NONE


def test_shortest_path_is_chosen(analyse: Analyse) -> None:
    res = [*_two_hops(), user("alice", inline=[doc(allow("sts:AssumeRole", [OPS, ADMIN_ROLE]))])]
    res = res[1:]
    res.append(role("admin", attached=[ADMINISTRATOR_ACCESS]))  # now also trusts the account
    r = analyse(*res)[ALICE]
    assert [h.target for h in r.path] == [ADMIN_ROLE]


def test_modify_a_role_then_assume_it(analyse: Analyse) -> None:
    app = arn("role", "app")
    r = analyse(user("alice", inline=[doc(allow(["iam:AttachRolePolicy", "sts:AssumeRole"], app))]), role("app"))[ALICE]
    assert r.status == ESCALATES
    assert [h.method for h in r.path] == ["attach-role-policy", "assume-role"]


# ---------------------------------------------------------------- SCPs
def _cpv_user() -> list[Resource]:
    pol = arn("policy", "alice-pol")
    return [
        user("alice", attached=[pol], inline=[doc(allow("iam:CreatePolicyVersion", pol))]),
        policy("alice-pol", doc(allow("s3:*"))),
    ]


def test_scp_deny_blocks_the_method(analyse: Analyse) -> None:
    ok = analyse(*_cpv_user(), scp_account([[FULL_AWS_ACCESS]]))[ALICE]
    assert ok.status == ESCALATES
    blocked = analyse(*_cpv_user(), scp_account([[FULL_AWS_ACCESS], [doc(deny("iam:CreatePolicyVersion"))]]))[ALICE]
    assert blocked.status == NONE
    assert any("SCP" in b for b in blocked.blocked)


def test_scp_level_without_allow_blocks(analyse: Analyse) -> None:
    only_s3 = doc(allow("s3:*"))
    assert analyse(*_cpv_user(), scp_account([[FULL_AWS_ACCESS], [only_s3]]))[ALICE].status == NONE


def test_scp_denying_iam_administration_means_no_admin(analyse: Analyse) -> None:
    scp = scp_account([[FULL_AWS_ACCESS, doc(deny("iam:*"))]])
    r = analyse(user("boss", attached=[ADMINISTRATOR_ACCESS]), scp)[arn("user", "boss")]
    assert r.status == NONE


def test_scp_denying_something_else_leaves_admin(analyse: Analyse) -> None:
    scp = scp_account([[FULL_AWS_ACCESS, doc(deny(["cloudtrail:StopLogging", "organizations:LeaveOrganization"]))]])
    assert analyse(user("boss", attached=[ADMINISTRATOR_ACCESS]), scp)[arn("user", "boss")].status == ADMIN


def test_scps_do_not_apply_to_the_management_account(analyse: Analyse) -> None:
    scp = scp_account([[FULL_AWS_ACCESS], [doc(deny("iam:CreatePolicyVersion"))]], management=True)
    assert analyse(*_cpv_user(), scp)[ALICE].status == ESCALATES


def test_scps_of_another_account_are_ignored(analyse: Analyse) -> None:
    scp = scp_account([[doc(deny("*"))]], account="444455556666")
    assert analyse(*_cpv_user(), scp)[ALICE].status == ESCALATES


# ---------------------------------------------------------------- conditions
def test_unknown_condition_on_allow_is_conditional_and_named(analyse: Analyse) -> None:
    mfa = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    r = analyse(user("alice", inline=[doc(allow("iam:PutUserPolicy", ALICE, Condition=mfa))]))[ALICE]
    assert r.status == ESCALATES and r.conditional
    assert "aws:multifactorauthpresent" in r.detail()


def test_unknown_condition_on_deny_does_not_block_but_is_named(analyse: Analyse) -> None:
    ip = {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}
    r = analyse(user("alice", inline=[doc(allow("iam:PutUserPolicy", ALICE), deny("*", Condition=ip))]))[ALICE]
    assert r.status == ESCALATES and r.conditional
    assert "unless" in r.detail() and "aws:sourceip" in r.detail()


def test_condition_on_a_known_key_is_decided(analyse: Analyse) -> None:
    tagged = {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}
    grants = [allow("sts:AssumeRole", Condition=tagged)]
    admin = role("admin", attached=[ADMINISTRATOR_ACCESS], tags={"team": "platform"})
    same = analyse(user("alice", inline=[doc(*grants)], tags={"team": "platform"}), admin)[ALICE]
    assert same.status == ESCALATES and not same.conditional
    other = analyse(user("alice", inline=[doc(*grants)], tags={"team": "web"}), admin)[ALICE]
    assert other.status == NONE
    untagged = analyse(user("alice", inline=[doc(*grants)]), admin)[ALICE]
    assert untagged.status == NONE


def test_principal_arn_condition_in_deny(analyse: Analyse) -> None:
    guard = {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/break-glass"}}
    r = analyse(user("alice", inline=[doc(allow("iam:PutUserPolicy", ALICE), deny("iam:*", Condition=guard))]))[ALICE]
    assert r.status == NONE  # alice is not break-glass: the deny applies for sure


def test_external_id_in_trust_is_a_named_condition(analyse: Analyse) -> None:
    trust = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "s3cr3t-id"}},
        }
    )
    r = analyse(
        user("alice", inline=[doc(allow("sts:AssumeRole"))]), role("admin", trust, attached=[ADMINISTRATOR_ACCESS])
    )
    assert r[ALICE].status == ESCALATES and r[ALICE].conditional
    assert "sts:externalid" in r[ALICE].detail()


def test_unconditional_path_preferred_over_a_conditional_one(analyse: Analyse) -> None:
    mfa = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    r = analyse(
        user(
            "alice",
            inline=[
                doc(
                    allow("iam:PutUserPolicy", ALICE, Condition=mfa),
                    allow("sts:AssumeRole", OPS),
                )
            ],
        ),
        role("ops", inline=[doc(allow("iam:PutRolePolicy", OPS))]),
    )[ALICE]
    assert r.status == ESCALATES and not r.conditional and len(r.path) == 2


# ---------------------------------------------------------------- hostile input
GARBAGE: list[Any] = [
    None,
    1,
    "x",
    [],
    {},
    {"Statement": 5},
    {"Statement": [1, "a", None]},
    "{not json",
    {"Statement": {"Effect": ["Allow"], "Action": {"a": 1}}},
]


@pytest.mark.parametrize("bad", GARBAGE, ids=repr)
def test_any_json_anywhere(bad: Any) -> None:
    resources = [
        Resource(
            "aws.iam.user",
            ALICE,
            {"UserName": bad, "AttachedPolicies": bad, "UserPolicies": [{"PolicyDocument": bad}], "Groups": bad},
        ),
        Resource(
            "aws.iam.role",
            OPS,
            {"AssumeRolePolicyDocument": bad, "RolePolicies": bad, "InstanceProfiles": bad, "Path": bad},
        ),
        Resource("aws.iam.policy", arn("policy", "p"), {"PolicyVersion": bad, "PolicyVersions": bad}),
        Resource("aws.iam.group", arn("group", "g"), {"Users": bad, "GroupPolicies": bad}),
        Resource("aws.organizations.account", "arn:x", {"Id": ACCOUNT, "ServiceControlPolicies": bad}),
        Resource("aws.lambda.function", "arn:f", {"Role": bad}),
    ]
    out = Analysis(build_account(ACCOUNT, resources)).run()
    assert out[ALICE].status == NONE and out[OPS].status == NONE


def test_a_policy_that_was_not_collected_is_named() -> None:
    out = Analysis(build_account(ACCOUNT, [user("alice", attached=["arn:aws:iam::aws:policy/PowerUserAccess"])])).run()
    assert any("PowerUserAccess not collected" in n for n in out[ALICE].notes)


def test_hostile_wildcards_are_linear() -> None:
    pattern = "arn:aws:iam::*" + "*a" * 200 + ":role/x"
    res = [
        user("alice", inline=[doc(allow("sts:AssumeRole", pattern))]),
        role("admin", attached=[ADMINISTRATOR_ACCESS]),
    ]
    assert Analysis(build_account(ACCOUNT, res)).run()[ALICE].status == NONE
