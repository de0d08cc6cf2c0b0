"""Modify methods (the principal rewrites its own permissions) and their blocked twins."""

from __future__ import annotations

from cspm_stream.iamgraph.model import ADMINISTRATOR_ACCESS
from cspm_stream.iamgraph.results import ADMIN, ESCALATES, NONE
from cspm_stream.iamgraph.synthetic import allow, arn, deny, doc, group, policy, role, user

from .conftest import Analyse

ALICE = arn("user", "alice")
S3_ONLY = arn("policy", "s3-only")
BOUNDARY_S3 = policy("s3-only", doc(allow("s3:*")))


def test_admin_is_admin_not_escalating(analyse: Analyse) -> None:
    r = analyse(user("alice", attached=[ADMINISTRATOR_ACCESS]))[ALICE]
    assert r.status == ADMIN and not r.path


def test_plain_user_has_no_path(analyse: Analyse) -> None:
    r = analyse(user("alice", inline=[doc(allow(["s3:*", "ec2:Describe*"]))]))[ALICE]
    assert r.status == NONE


# ---------------------------------------------------------------- create-policy-version
def _cpv(*extra: dict[str, object], boundary: str | None = None, scope: str | None = None) -> list[object]:
    pol = arn("policy", "alice-pol")
    return [
        user(
            "alice",
            attached=[pol],
            inline=[doc(allow("iam:CreatePolicyVersion", scope or pol), *extra)],
            boundary=boundary,
        ),
        policy("alice-pol", doc(allow("s3:GetObject"))),
        policy("other", doc(allow("s3:GetObject"))),
        BOUNDARY_S3,
    ]


def test_create_policy_version_escalates(analyse: Analyse) -> None:
    r = analyse(*_cpv())[ALICE]
    assert r.status == ESCALATES
    (hop,) = r.path
    assert hop.method == "create-policy-version" and hop.via == arn("policy", "alice-pol")
    assert any("iam:CreatePolicyVersion" in p for p in hop.permissions)
    assert "create-policy-version" in r.detail() and ALICE in r.detail()


def test_create_policy_version_blocked_by_deny(analyse: Analyse) -> None:
    r = analyse(*_cpv(deny("iam:CreatePolicyVersion")))[ALICE]
    assert r.status == NONE
    assert any("explicit Deny" in b for b in r.blocked)


def test_create_policy_version_blocked_by_boundary(analyse: Analyse) -> None:
    r = analyse(*_cpv(boundary=S3_ONLY))[ALICE]
    assert r.status == NONE
    assert any("permission boundary" in b for b in r.blocked)


def test_create_policy_version_scoped_to_an_unattached_policy(analyse: Analyse) -> None:
    assert analyse(*_cpv(scope=arn("policy", "other")))[ALICE].status == NONE


def test_create_policy_version_on_aws_managed_policy_is_impossible(analyse: Analyse) -> None:
    ro = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    r = analyse(user("alice", attached=[ro], inline=[doc(allow("iam:CreatePolicyVersion", ro))]))[ALICE]
    assert r.status == NONE


# ---------------------------------------------------------------- set-default-policy-version
def _sdpv(admin_version: bool, *extra: dict[str, object]) -> list[object]:
    pol = arn("policy", "alice-pol")
    old = doc(allow("*")) if admin_version else doc(allow("s3:*"))
    return [
        user("alice", attached=[pol], inline=[doc(allow("iam:SetDefaultPolicyVersion", pol), *extra)]),
        policy("alice-pol", doc(allow("s3:GetObject")), others=[("v1", old)]),
    ]


def test_set_default_policy_version_to_an_admin_version(analyse: Analyse) -> None:
    r = analyse(*_sdpv(True))[ALICE]
    assert r.status == ESCALATES and r.path[0].method == "set-default-policy-version"
    assert "version v1" in r.path[0].permissions[0]


def test_set_default_policy_version_without_an_admin_version(analyse: Analyse) -> None:
    assert analyse(*_sdpv(False))[ALICE].status == NONE


def test_set_default_policy_version_denied(analyse: Analyse) -> None:
    assert analyse(*_sdpv(True, deny("iam:SetDefaultPolicyVersion")))[ALICE].status == NONE


# ---------------------------------------------------------------- user policies
def test_put_user_policy_on_itself_through_a_policy_variable(analyse: Analyse) -> None:
    r = analyse(user("alice", inline=[doc(allow("iam:PutUserPolicy", "arn:aws:iam::*:user/${aws:username}"))]))[ALICE]
    assert r.status == ESCALATES and r.path[0].method == "put-user-policy"


def test_put_user_policy_scoped_to_another_user(analyse: Analyse) -> None:
    r = analyse(user("alice", inline=[doc(allow("iam:PutUserPolicy", arn("user", "bob")))]), user("bob"))[ALICE]
    assert r.status == NONE


def test_attach_user_policy_escalates_and_its_twins(analyse: Analyse) -> None:
    base = allow("iam:AttachUserPolicy", ALICE)
    assert analyse(user("alice", inline=[doc(base)]))[ALICE].path[0].method == "attach-user-policy"
    denied = analyse(user("alice", inline=[doc(base, deny("iam:Attach*"))]))[ALICE]
    assert denied.status == NONE
    capped = analyse(user("alice", inline=[doc(base)], boundary=S3_ONLY), BOUNDARY_S3)[ALICE]
    assert capped.status == NONE and any("boundary" in b for b in capped.blocked)


def test_attach_user_policy_limited_by_policy_arn_condition(analyse: Analyse) -> None:
    only_ro = allow(
        "iam:AttachUserPolicy",
        ALICE,
        Condition={"ArnEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/ReadOnlyAccess"}},
    )
    assert analyse(user("alice", inline=[doc(only_ro)]))[ALICE].status == NONE


def test_boundary_that_the_user_can_remove_does_not_protect(analyse: Analyse) -> None:
    grants = doc(allow(["iam:AttachUserPolicy", "iam:DeleteUserPermissionsBoundary"], ALICE))
    boundary = policy("cap", doc(allow(["iam:AttachUserPolicy", "iam:DeleteUserPermissionsBoundary", "s3:*"])))
    r = analyse(user("alice", inline=[grants], boundary=arn("policy", "cap")), boundary)[ALICE]
    assert r.status == ESCALATES
    assert any("DeleteUserPermissionsBoundary" in p for p in r.path[0].permissions)


# ---------------------------------------------------------------- groups
def test_put_group_policy_on_own_group(analyse: Analyse) -> None:
    g = arn("group", "devs")
    r = analyse(
        user("alice", groups=["devs"], inline=[doc(allow("iam:PutGroupPolicy", g))]), group("devs", users=["alice"])
    )
    assert r[ALICE].status == ESCALATES and r[ALICE].path[0].method == "put-group-policy"


def test_attach_group_policy_on_a_group_the_user_is_not_in(analyse: Analyse) -> None:
    g = arn("group", "ops")
    r = analyse(user("alice", inline=[doc(allow("iam:AttachGroupPolicy", g))]), group("ops"))[ALICE]
    assert r.status == NONE


def test_group_membership_known_from_the_group_side_only(analyse: Analyse) -> None:
    g = arn("group", "devs")
    r = analyse(user("alice"), group("devs", users=["alice"], inline=[doc(allow("iam:AttachGroupPolicy", g))]))
    assert r[ALICE].status == ESCALATES and r[ALICE].path[0].method == "attach-group-policy"


def test_add_user_to_admin_group(analyse: Analyse) -> None:
    admins = group("admins", attached=[ADMINISTRATOR_ACCESS])
    ok = analyse(user("alice", inline=[doc(allow("iam:AddUserToGroup", arn("group", "admins")))]), admins)[ALICE]
    assert ok.status == ESCALATES and ok.path[0].method == "add-user-to-group"
    scoped = analyse(
        user("alice", inline=[doc(allow("iam:AddUserToGroup", arn("group", "readers")))]), admins, group("readers")
    )
    assert scoped[ALICE].status == NONE
    denied = analyse(
        user("alice", inline=[doc(allow("iam:AddUserToGroup"), deny("iam:AddUserToGroup", arn("group", "admins")))]),
        admins,
    )
    assert denied[ALICE].status == NONE


# ---------------------------------------------------------------- roles
def test_role_that_can_rewrite_itself(analyse: Analyse) -> None:
    me = arn("role", "app")
    for action, method in (("iam:PutRolePolicy", "put-role-policy"), ("iam:AttachRolePolicy", "attach-role-policy")):
        r = analyse(role("app", inline=[doc(allow(action, me))]))[me]
        assert r.status == ESCALATES and r.path[0].method == method
        assert analyse(role("app", inline=[doc(allow(action, me), deny(action, me))]))[me].status == NONE
        assert analyse(role("app", inline=[doc(allow(action, arn("role", "other")))]), role("other"))[me].status == NONE


def test_delegated_admin_pattern_with_required_boundary_is_not_escalation(analyse: Analyse) -> None:
    """A role may attach policies only to roles carrying the team boundary (IAM's delegation pattern):
    the roles it can touch stay capped, so it is not an escalation."""
    cap = arn("policy", "team-boundary")
    me = arn("role", "team-admin")
    delegate = allow(
        ["iam:AttachRolePolicy", "iam:PutRolePolicy"],
        "arn:aws:iam::*:role/team-*",
        Condition={"StringEquals": {"iam:PermissionsBoundary": cap}},
    )
    r = analyse(
        role("team-admin", inline=[doc(delegate, allow("sts:AssumeRole", "arn:aws:iam::*:role/team-*"))], boundary=cap),
        role("team-app", boundary=cap),
        policy("team-boundary", doc(allow(["s3:*", "iam:AttachRolePolicy", "iam:PutRolePolicy", "sts:AssumeRole"]))),
    )
    assert r[me].status == NONE
