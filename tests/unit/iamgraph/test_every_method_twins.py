"""Every escalation method, table-driven: the path exists, and its three blocked twins do not —
an explicit Deny of the key permission, a permission boundary without it, and the permission
scoped to a decoy resource. A contract test checks that the table covers every method id."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from cspm_stream.iamgraph.build import Resource, build_account
from cspm_stream.iamgraph.methods import ALL_METHOD_IDS, PASSROLE_METHODS
from cspm_stream.iamgraph.model import ADMINISTRATOR_ACCESS
from cspm_stream.iamgraph.paths import Analysis
from cspm_stream.iamgraph.results import ESCALATES, NONE
from cspm_stream.iamgraph.synthetic import (
    ACCOUNT,
    allow,
    arn,
    deny,
    doc,
    function,
    glue_dev_endpoint,
    group,
    policy,
    role,
    trust_service,
    user,
)

ME = arn("user", "mallory")
ME_ROLE = arn("role", "mallory")
DECOY = arn("role", "decoy")


@dataclass
class Case:
    """The actor ``mallory`` holds ``key`` on ``target`` (plus ``extra`` grants); ``world`` is the rest."""

    method: str
    key: str
    target: str
    extra: list[dict[str, Any]] = field(default_factory=list)
    world: list[Resource] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    attached: list[str] = field(default_factory=list)
    decoy: str = DECOY
    as_role: bool = False  # the actor is the role ``mallory`` (the role methods on itself)

    @property
    def me(self) -> str:
        return ME_ROLE if self.as_role else ME

    def actor(self, stmts: list[dict[str, Any]], boundary: str | None = None) -> Resource:
        if self.as_role:
            return role("mallory", inline=[doc(*stmts)], attached=self.attached, boundary=boundary)
        return user("mallory", inline=[doc(*stmts)], groups=self.groups, attached=self.attached, boundary=boundary)


def _admin_role(name: str = "admin", *services: str) -> Resource:
    trust = trust_service(*services) if services else None
    return role(name, trust, attached=[ADMINISTRATOR_ACCESS], profiles=["admin-profile"])


def _cases() -> list[Case]:
    mine = arn("policy", "mallory-pol")
    cases = [
        Case("put-user-policy", "iam:PutUserPolicy", ME),
        Case("put-role-policy", "iam:PutRolePolicy", ME_ROLE, as_role=True),
        Case("attach-role-policy", "iam:AttachRolePolicy", ME_ROLE, as_role=True),
        Case("attach-user-policy", "iam:AttachUserPolicy", ME),
        Case("put-group-policy", "iam:PutGroupPolicy", arn("group", "devs"), world=[group("devs")], groups=["devs"]),
        Case(
            "attach-group-policy", "iam:AttachGroupPolicy", arn("group", "devs"), world=[group("devs")], groups=["devs"]
        ),
        Case(
            "add-user-to-group",
            "iam:AddUserToGroup",
            arn("group", "admins"),
            world=[group("admins", attached=[ADMINISTRATOR_ACCESS]), group("readers")],
            decoy=arn("group", "readers"),
        ),
        Case(
            "create-policy-version",
            "iam:CreatePolicyVersion",
            mine,
            world=[policy("mallory-pol", doc(allow("s3:GetObject")))],
            attached=[mine],
        ),
        Case(
            "set-default-policy-version",
            "iam:SetDefaultPolicyVersion",
            mine,
            world=[policy("mallory-pol", doc(allow("s3:GetObject")), others=[("v1", doc(allow("*")))])],
            attached=[mine],
        ),
        Case("assume-role", "sts:AssumeRole", arn("role", "admin"), world=[_admin_role(), role("decoy")]),
        Case(
            "update-assume-role-policy",
            "iam:UpdateAssumeRolePolicy",
            arn("role", "admin"),
            extra=[allow("sts:AssumeRole")],
            world=[_admin_role("admin", "ec2.amazonaws.com"), role("decoy")],
        ),
        Case(
            "create-access-key",
            "iam:CreateAccessKey",
            arn("user", "root-ops"),
            world=[user("root-ops", attached=[ADMINISTRATOR_ACCESS])],
            decoy=arn("user", "intern"),
        ),
        Case(
            "create-login-profile",
            "iam:CreateLoginProfile",
            arn("user", "root-ops"),
            world=[user("root-ops", attached=[ADMINISTRATOR_ACCESS])],
            decoy=arn("user", "intern"),
        ),
        Case(
            "update-login-profile",
            "iam:UpdateLoginProfile",
            arn("user", "root-ops"),
            world=[user("root-ops", attached=[ADMINISTRATOR_ACCESS], login=True)],
            decoy=arn("user", "intern"),
        ),
    ]
    for m in PASSROLE_METHODS:
        run = list(m.run[0]) if m.run else []
        cases.append(
            Case(
                m.id,
                "iam:PassRole",
                arn("role", "admin"),
                extra=[allow([*m.create, *run])],
                world=[_admin_role("admin", m.service)],
            )
        )
    fn = function("billing", arn("role", "admin"))
    ep = glue_dev_endpoint("dev", arn("role", "admin"))
    decoy_fn = "arn:aws:lambda:us-east-1:111122223333:function:other"
    cases += [
        Case(
            "update-lambda-code",
            "lambda:UpdateFunctionCode",
            fn.arn,
            world=[_admin_role("admin", "lambda.amazonaws.com"), fn],
            decoy=decoy_fn,
        ),
        Case(
            "update-lambda-configuration",
            "lambda:UpdateFunctionConfiguration",
            fn.arn,
            world=[_admin_role("admin", "lambda.amazonaws.com"), fn],
            decoy=decoy_fn,
        ),
        Case(
            "update-glue-dev-endpoint",
            "glue:UpdateDevEndpoint",
            ep.arn,
            world=[_admin_role("admin", "glue.amazonaws.com"), ep],
            decoy="arn:aws:glue:us-east-1:111122223333:devEndpoint/other",
        ),
    ]
    return cases


CASES = _cases()
CAP = arn("policy", "cap")


def _run(c: Case, twist: Callable[[Case], tuple[list[dict[str, Any]], str | None, list[Resource]]]) -> str:
    stmts, boundary, more = twist(c)
    out = Analysis(build_account(ACCOUNT, [c.actor(stmts, boundary), *c.world, *more])).run()
    return out[c.me].status


def _plain(c: Case) -> tuple[list[dict[str, Any]], str | None, list[Resource]]:
    return [allow(c.key, c.target), *c.extra], None, []


def _denied(c: Case) -> tuple[list[dict[str, Any]], str | None, list[Resource]]:
    return [allow(c.key, c.target), *c.extra, deny(c.key, c.target)], None, []


def _capped(c: Case) -> tuple[list[dict[str, Any]], str | None, list[Resource]]:
    cap = policy("cap", doc({"Effect": "Allow", "NotAction": c.key, "Resource": "*"}))
    return [allow(c.key, c.target), *c.extra], CAP, [cap]


def _scoped(c: Case) -> tuple[list[dict[str, Any]], str | None, list[Resource]]:
    return [allow(c.key, c.decoy), *c.extra], None, []


def test_the_table_covers_every_method() -> None:
    assert {c.method for c in CASES} == set(ALL_METHOD_IDS)


@pytest.mark.parametrize("c", CASES, ids=lambda c: c.method)
def test_method_escalates_by_that_method(c: Case) -> None:
    stmts, _, _ = _plain(c)
    out = Analysis(build_account(ACCOUNT, [c.actor(stmts), *c.world])).run()[c.me]
    assert out.status == ESCALATES
    assert out.path[0].method == c.method, out.detail()


@pytest.mark.parametrize("twist", [_denied, _capped, _scoped], ids=["deny", "boundary", "scoped"])
@pytest.mark.parametrize("c", CASES, ids=lambda c: c.method)
def test_blocked_twin(c: Case, twist: Callable[[Case], Any]) -> None:
    assert _run(c, twist) == NONE
