"""Gain methods (obtaining another principal), PassRole with new compute, existing compute."""

from __future__ import annotations

import pytest

from cspm_stream.iamgraph.methods import PASSROLE_METHODS, PassRoleMethod
from cspm_stream.iamgraph.model import ADMINISTRATOR_ACCESS
from cspm_stream.iamgraph.results import ESCALATES, NONE
from cspm_stream.iamgraph.synthetic import (
    allow,
    arn,
    deny,
    doc,
    function,
    glue_dev_endpoint,
    policy,
    role,
    trust_principals,
    trust_service,
    user,
)

from .conftest import Analyse

ALICE = arn("user", "alice")
ADMIN_ROLE = arn("role", "admin")
ADMIN_USER = arn("user", "root-ops")


def alice(*statements: dict[str, object], **kw: object) -> object:
    return user("alice", inline=[doc(*statements)], **kw)  # type: ignore[arg-type]


# ---------------------------------------------------------------- sts:AssumeRole
def test_assume_admin_role_trusting_the_account(analyse: Analyse) -> None:
    r = analyse(alice(allow("sts:AssumeRole", ADMIN_ROLE)), role("admin", attached=[ADMINISTRATOR_ACCESS]))[ALICE]
    assert r.status == ESCALATES
    (hop,) = r.path
    assert (hop.method, hop.target) == ("assume-role", ADMIN_ROLE)
    assert hop.permissions == (f"sts:AssumeRole on {ADMIN_ROLE}",)


def test_trust_naming_someone_else(analyse: Analyse) -> None:
    r = analyse(
        alice(allow("sts:AssumeRole", "*")),
        role("admin", trust_principals(arn("user", "bob")), attached=[ADMINISTRATOR_ACCESS]),
        user("bob"),
    )
    assert r[ALICE].status == NONE


def test_trust_naming_the_user_but_no_permission_to_call(analyse: Analyse) -> None:
    """Same account, the trust names her ARN: the trust policy (a resource-based policy) grants the
    call by itself (STS AssumeRole reference); a Deny or a boundary without sts:AssumeRole still stops it."""
    admin = role("admin", trust_principals(ALICE), attached=[ADMINISTRATOR_ACCESS])
    r = analyse(alice(allow("s3:*")), admin)[ALICE]
    assert r.status == ESCALATES and r.path[0].method == "assume-role"
    assert "granted by its trust policy" in r.path[0].permissions[0]
    assert analyse(alice(allow("s3:*"), deny("sts:AssumeRole")), admin)[ALICE].status == NONE
    capped = analyse(alice(allow("s3:*"), boundary=arn("policy", "cap")), admin, policy("cap", doc(allow("s3:*"))))
    assert capped[ALICE].status == NONE


def test_assume_role_denied_or_scoped_or_capped(analyse: Analyse) -> None:
    admin = role("admin", attached=[ADMINISTRATOR_ACCESS])
    assert analyse(alice(allow("sts:AssumeRole"), deny("sts:AssumeRole", ADMIN_ROLE)), admin)[ALICE].status == NONE
    assert analyse(alice(allow("sts:AssumeRole", arn("role", "reader"))), admin, role("reader"))[ALICE].status == NONE
    capped = analyse(
        alice(allow("sts:AssumeRole")),
        role("admin", attached=[ADMINISTRATOR_ACCESS], boundary=arn("policy", "cap")),
        policy("cap", doc(allow("s3:*"))),
    )
    assert capped[ALICE].status == NONE  # the role is not admin: its boundary caps it


def test_trust_deny_blocks(analyse: Analyse) -> None:
    trust = doc(
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole"},
        {"Effect": "Deny", "Principal": {"AWS": ALICE}, "Action": "sts:AssumeRole"},
    )
    assert (
        analyse(alice(allow("sts:AssumeRole")), role("admin", trust, attached=[ADMINISTRATOR_ACCESS]))[ALICE].status
        == NONE
    )


def test_update_assume_role_policy_then_assume(analyse: Analyse) -> None:
    admin = role("admin", trust_service("ec2.amazonaws.com"), attached=[ADMINISTRATOR_ACCESS])
    r = analyse(alice(allow(["iam:UpdateAssumeRolePolicy", "sts:AssumeRole"], ADMIN_ROLE)), admin)[ALICE]
    assert r.status == ESCALATES and r.path[0].method == "update-assume-role-policy"
    # the trust she writes names her ARN: no identity Allow of sts:AssumeRole is needed (same account)
    alone = analyse(alice(allow("iam:UpdateAssumeRolePolicy", ADMIN_ROLE)), admin)[ALICE]
    assert alone.status == ESCALATES and alone.path[0].method == "update-assume-role-policy"
    denied = analyse(alice(allow("iam:UpdateAssumeRolePolicy", ADMIN_ROLE), deny("sts:AssumeRole")), admin)
    assert denied[ALICE].status == NONE
    blocked = analyse(
        alice(allow(["iam:UpdateAssumeRolePolicy", "sts:AssumeRole"]), deny("iam:UpdateAssumeRolePolicy")), admin
    )
    assert blocked[ALICE].status == NONE


# ---------------------------------------------------------------- other users' credentials
def test_create_access_key_for_an_admin_user(analyse: Analyse) -> None:
    target = user("root-ops", attached=[ADMINISTRATOR_ACCESS])
    r = analyse(alice(allow("iam:CreateAccessKey", ADMIN_USER)), target)[ALICE]
    assert r.status == ESCALATES and r.path[0].method == "create-access-key"
    assert (
        analyse(alice(allow("iam:CreateAccessKey", "arn:aws:iam::*:user/${aws:username}")), target)[ALICE].status
        == NONE
    )
    assert (
        analyse(alice(allow("iam:CreateAccessKey"), deny("iam:CreateAccessKey", ADMIN_USER)), target)[ALICE].status
        == NONE
    )


def test_create_access_key_needs_delete_when_the_user_has_two(analyse: Analyse) -> None:
    full = user("root-ops", attached=[ADMINISTRATOR_ACCESS], keys=2)
    assert analyse(alice(allow("iam:CreateAccessKey", ADMIN_USER)), full)[ALICE].status == NONE
    r = analyse(alice(allow(["iam:CreateAccessKey", "iam:DeleteAccessKey"], ADMIN_USER)), full)[ALICE]
    assert r.status == ESCALATES and len(r.path[0].permissions) == 2


def test_login_profiles(analyse: Analyse) -> None:
    no_console = user("root-ops", attached=[ADMINISTRATOR_ACCESS])
    console = user("root-ops", attached=[ADMINISTRATOR_ACCESS], login=True)
    r = analyse(alice(allow("iam:CreateLoginProfile", ADMIN_USER)), no_console)[ALICE]
    assert r.path[0].method == "create-login-profile"
    # CreateLoginProfile fails on a user that already has a password
    assert analyse(alice(allow("iam:CreateLoginProfile", ADMIN_USER)), console)[ALICE].status == NONE
    r = analyse(alice(allow("iam:UpdateLoginProfile", ADMIN_USER)), console)[ALICE]
    assert r.path[0].method == "update-login-profile"
    assert analyse(alice(allow("iam:UpdateLoginProfile", arn("user", "x"))), console)[ALICE].status == NONE


# ---------------------------------------------------------------- PassRole with new compute
def _grant(m: PassRoleMethod) -> list[str]:
    return ["iam:PassRole", *m.create, *(m.run[0] if m.run else ())]


@pytest.mark.parametrize("m", PASSROLE_METHODS, ids=lambda m: m.id)
def test_passrole_method_escalates(analyse: Analyse, m: PassRoleMethod) -> None:
    admin = role("admin", trust_service(m.service), attached=[ADMINISTRATOR_ACCESS], profiles=["admin-profile"])
    r = analyse(alice(allow(_grant(m))), admin)[ALICE]
    assert r.status == ESCALATES
    (hop,) = r.path
    assert (hop.method, hop.target) == (m.id, ADMIN_ROLE)
    assert hop.permissions[0] == f"iam:PassRole on {ADMIN_ROLE} to {m.service}"
    assert set(m.create) <= set(hop.permissions)


@pytest.mark.parametrize("m", PASSROLE_METHODS, ids=lambda m: m.id)
def test_passrole_method_blocked_twins(analyse: Analyse, m: PassRoleMethod) -> None:
    admin = role("admin", trust_service(m.service), attached=[ADMINISTRATOR_ACCESS], profiles=["p"])
    # explicit deny of PassRole on the admin role
    assert analyse(alice(allow(_grant(m)), deny("iam:PassRole", ADMIN_ROLE)), admin)[ALICE].status == NONE
    # PassRole scoped to another role
    scoped = [allow([a for a in _grant(m) if a != "iam:PassRole"]), allow("iam:PassRole", arn("role", "worker"))]
    assert (
        analyse(alice(*scoped), admin, role("worker", trust_service(m.service), profiles=["w"]))[ALICE].status == NONE
    )
    # boundary without PassRole
    capped = analyse(alice(allow(_grant(m)), boundary=arn("policy", "cap")), admin, policy("cap", doc(allow(m.create))))
    assert capped[ALICE].status == NONE
    # the role does not trust that service
    other = role("admin", trust_service("states.amazonaws.com"), attached=[ADMINISTRATOR_ACCESS], profiles=["p"])
    assert analyse(alice(allow(_grant(m))), other)[ALICE].status == NONE
    # PassRole limited to another service
    cond = {"StringEquals": {"iam:PassedToService": "states.amazonaws.com"}}
    only = [allow([a for a in _grant(m) if a != "iam:PassRole"]), allow("iam:PassRole", Condition=cond)]
    assert analyse(alice(*only), admin)[ALICE].status == NONE
    if m.run:  # created but never run
        assert analyse(alice(allow(["iam:PassRole", *m.create])), admin)[ALICE].status == NONE


def test_passrole_to_the_right_service_condition_is_decided(analyse: Analyse) -> None:
    cond = {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}
    grants = [allow(["lambda:CreateFunction", "lambda:InvokeFunction"]), allow("iam:PassRole", Condition=cond)]
    r = analyse(alice(*grants), role("admin", trust_service("lambda.amazonaws.com"), attached=[ADMINISTRATOR_ACCESS]))
    assert r[ALICE].status == ESCALATES and not r[ALICE].conditional


def test_ec2_needs_an_instance_profile_or_the_right_to_make_one(analyse: Analyse) -> None:
    bare = role("admin", trust_service("ec2.amazonaws.com"), attached=[ADMINISTRATOR_ACCESS])
    assert analyse(alice(allow(["iam:PassRole", "ec2:RunInstances"])), bare)[ALICE].status == NONE
    r = analyse(
        alice(allow(["iam:PassRole", "ec2:RunInstances", "iam:CreateInstanceProfile", "iam:AddRoleToInstanceProfile"])),
        bare,
    )[ALICE]
    assert r.status == ESCALATES and any("AddRoleToInstanceProfile" in p for p in r.path[0].permissions)


def test_service_linked_roles_are_neither_sources_nor_targets(analyse: Analyse) -> None:
    slr = role(
        "AWSServiceRoleForX",
        trust_service("lambda.amazonaws.com"),
        attached=[ADMINISTRATOR_ACCESS],
        path="/aws-service-role/x.amazonaws.com/",
    )
    r = analyse(alice(allow(["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"])), slr)
    assert r[ALICE].status == NONE
    assert r[slr.arn].status == "excluded"


# ---------------------------------------------------------------- existing compute
def test_update_code_of_a_function_running_as_admin(analyse: Analyse) -> None:
    admin = role("admin", trust_service("lambda.amazonaws.com"), attached=[ADMINISTRATOR_ACCESS])
    fn = function("billing", ADMIN_ROLE)
    r = analyse(alice(allow("lambda:UpdateFunctionCode", fn.arn)), admin, fn)[ALICE]
    assert r.status == ESCALATES and (r.path[0].method, r.path[0].via) == ("update-lambda-code", fn.arn)
    cfg = analyse(alice(allow("lambda:UpdateFunctionConfiguration", fn.arn)), admin, fn)[ALICE]
    assert cfg.path[0].method == "update-lambda-configuration"
    other = function("reports", arn("role", "reader"))
    scoped = analyse(alice(allow("lambda:UpdateFunctionCode", other.arn)), admin, fn, other, role("reader"))
    assert scoped[ALICE].status == NONE
    denied = analyse(alice(allow("lambda:UpdateFunctionCode"), deny("lambda:Update*", fn.arn)), admin, fn)
    assert denied[ALICE].status == NONE


def test_update_glue_dev_endpoint(analyse: Analyse) -> None:
    admin = role("admin", trust_service("glue.amazonaws.com"), attached=[ADMINISTRATOR_ACCESS])
    ep = glue_dev_endpoint("dev", ADMIN_ROLE)
    r = analyse(alice(allow("glue:UpdateDevEndpoint", ep.arn)), admin, ep)[ALICE]
    assert r.status == ESCALATES and r.path[0].method == "update-glue-dev-endpoint"
