"""Traps and decoys: one principal's verdict per row, as AWS's policy evaluation logic means it.

Each row is an account (``world``), the principal asked about (``who``, by default the user
``mallory``), its expected status and, when it escalates, the methods of its path in order.
The ``why`` of each row is the AWS reasoning (IAM User Guide, policy evaluation logic; STS
AssumeRole API reference), written the way PMapper, Pacu and Rhino's iam-vulnerable think:
decoys look dangerous and are not, traps look harmless and are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from cspm_stream.iamgraph.build import Resource
from cspm_stream.iamgraph.model import ADMINISTRATOR_ACCESS
from cspm_stream.iamgraph.results import ADMIN, ESCALATES, EXCLUDED, NONE
from cspm_stream.iamgraph.synthetic import (
    ACCOUNT,
    FULL_AWS_ACCESS,
    allow,
    arn,
    deny,
    doc,
    function,
    group,
    policy,
    role,
    scp_account,
    trust_principals,
    trust_service,
    user,
)

from .conftest import Analyse

ME = arn("user", "mallory")
ME_ROLE = arn("role", "mallory")
BOB = arn("user", "bob")
ADMIN_ROLE = arn("role", "admin")
ADMIN_USER = arn("user", "root-ops")
OPS = arn("role", "ops")
APP = arn("role", "app")
POL = arn("policy", "mallory-pol")
CAP = arn("policy", "cap")
OTHER_ACCOUNT = "444455556666"
LAMBDA = "lambda.amazonaws.com"
LAMBDA_RUN = ["lambda:CreateFunction", "lambda:InvokeFunction"]
MFA = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


def me(*statements: dict[str, Any], **kw: Any) -> Resource:
    """The user ``mallory`` with one inline policy of ``statements``."""
    return user("mallory", inline=[doc(*statements)] if statements else [], **kw)


def me_role(*statements: dict[str, Any], **kw: Any) -> Resource:
    """The role ``mallory`` (trusting the account) with one inline policy of ``statements``."""
    return role("mallory", inline=[doc(*statements)] if statements else [], **kw)


def admin_role(trust: dict[str, Any] | None = None, **kw: Any) -> Resource:
    """``role/admin`` with AdministratorAccess (trusting the account unless ``trust``)."""
    return role("admin", trust, attached=[ADMINISTRATOR_ACCESS], **kw)


def admin_user(**kw: Any) -> Resource:
    return user("root-ops", attached=[ADMINISTRATOR_ACCESS], **kw)


def cap(*statements: dict[str, Any]) -> Resource:
    """The managed policy ``cap`` (used as a permission boundary)."""
    return policy("cap", doc(*statements))


def trust_stmt(principal: Any, action: Any = "sts:AssumeRole", effect: str = "Allow", **extra: Any) -> dict[str, Any]:
    return {"Effect": effect, "Principal": principal, "Action": action, **extra}


ROOT = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}


@dataclass(frozen=True)
class Row:
    id: str
    world: tuple[Resource, ...]
    status: str
    methods: tuple[str, ...] = ()  # the path's methods, in order (ESCALATES)
    why: str = ""
    who: str = ME
    conditional: bool | None = None  # None: not asserted
    named: str = ""  # a text the result's detail must carry (a named condition, a blocking reason)


def _rows() -> list[Row]:
    rows: list[Row] = []

    def r(id: str, status: str, methods: tuple[str, ...] | str, *world: Resource, why: str, **kw: Any) -> None:
        ms = (methods,) if isinstance(methods, str) else methods
        rows.append(Row(id, tuple(world), status, ms, why, **kw))

    # one row per call, kept as a table (id, verdict, methods, world, why)
    # fmt: off
    # ============================================================ create/set policy versions
    r("cpv-policy-attached-to-nobody", NONE, (),
      me(allow("iam:CreatePolicyVersion", POL)), policy("mallory-pol", doc(allow("s3:GetObject"))),
      why="a new version of a policy attached to no one grants no one anything")
    r("cpv-policy-of-a-user-mallory-cannot-become", NONE, (),
      me(allow("iam:CreatePolicyVersion", POL)), user("bob", attached=[POL]),
      policy("mallory-pol", doc(allow("s3:GetObject"))),
      why="it makes bob admin, not mallory: she holds no way to act as bob")
    r("cpv-policy-of-a-role-mallory-can-assume", ESCALATES, ("create-policy-version", "assume-role"),
      me(allow("iam:CreatePolicyVersion", POL), allow("sts:AssumeRole", APP)), role("app", attached=[POL]),
      policy("mallory-pol", doc(allow("s3:GetObject"))),
      why="rewrite the policy of app (trusting the account), then assume app")
    r("cpv-policy-attached-through-her-group", ESCALATES, "create-policy-version",
      me(allow("iam:CreatePolicyVersion", POL), groups=["devs"]), group("devs", attached=[POL]),
      policy("mallory-pol", doc(allow("s3:GetObject"))),
      why="a group's managed policy is hers too: its new default version applies to her")
    r("cpv-five-versions-no-delete", NONE, (),
      me(allow("iam:CreatePolicyVersion", POL), attached=[POL]),
      policy("mallory-pol", doc(allow("s3:GetObject")),
             others=[(f"v{i}", doc(allow("s3:ListBucket"))) for i in range(1, 5)]),
      why="IAM keeps at most 5 versions: CreatePolicyVersion fails (LimitExceeded) without DeletePolicyVersion")
    r("cpv-five-versions-with-delete", ESCALATES, "create-policy-version",
      me(allow(["iam:CreatePolicyVersion", "iam:DeletePolicyVersion"], POL), attached=[POL]),
      policy("mallory-pol", doc(allow("s3:GetObject")),
             others=[(f"v{i}", doc(allow("s3:ListBucket"))) for i in range(1, 5)]),
      why="delete an old version first, then create the admin one")
    r("set-default-to-admin-version", ESCALATES, "set-default-policy-version",
      me(allow("iam:SetDefaultPolicyVersion", POL), attached=[POL]),
      policy("mallory-pol", doc(allow("s3:GetObject")), others=[("v1", doc(allow("*")))]),
      why="an older version allows * on *: making it the default makes her admin")
    r("set-default-without-an-admin-version", NONE, (),
      me(allow("iam:SetDefaultPolicyVersion", POL), attached=[POL]),
      policy("mallory-pol", doc(allow("s3:GetObject")), others=[("v1", doc(allow("s3:*")))]),
      why="every version is harmless: switching between them grants nothing more")
    r("admin-only-in-a-non-default-version", NONE, (),
      me(attached=[POL]), policy("mallory-pol", doc(allow("s3:GetObject")), others=[("v1", doc(allow("*")))]),
      why="only the default version is in force, and she cannot change which one it is")
    r("default-version-dangerous-other-harmless", ESCALATES, "put-user-policy",
      me(attached=[POL]),
      policy("mallory-pol", doc(allow("iam:PutUserPolicy", ME)), others=[("v1", doc(allow("s3:GetObject")))]),
      why="the default version is the one in force: it lets her write an admin inline policy into herself")
    r("cpv-on-aws-managed-policy", NONE, (),
      me(allow("iam:CreatePolicyVersion"), attached=["arn:aws:iam::aws:policy/ReadOnlyAccess"]),
      Resource("aws.iam.aws_managed_policy", "arn:aws:iam::aws:policy/ReadOnlyAccess",
               {"PolicyName": "ReadOnlyAccess", "PolicyVersion": {"VersionId": "v1", "Document": doc(allow("s3:Get*"))}}),
      why="AWS managed policies cannot be versioned by customers")

    # ============================================================ put/attach policies
    r("notaction-allow-grants-iam", ESCALATES, "put-user-policy",
      me({"Effect": "Allow", "NotAction": ["s3:*", "ec2:*"], "Resource": "*"}),
      why="Allow NotAction s3/ec2 allows every other action, iam:PutUserPolicy on herself included")
    r("iam-put-star-pattern", ESCALATES, "put-user-policy",
      me(allow("iam:Put*", ME)),
      why="iam:Put* covers iam:PutUserPolicy")
    r("question-mark-action-pattern", ESCALATES, "put-user-policy",
      me(allow("iam:?utUserPolicy", ME)),
      why="? matches one character in an action pattern")
    r("upper-case-action", ESCALATES, "put-user-policy",
      me(allow("IAM:PUTUSERPOLICY", ME)),
      why="action names are case-insensitive")
    r("self-by-policy-variable", ESCALATES, "put-user-policy",
      me(allow("iam:PutUserPolicy", "arn:aws:iam::*:user/${aws:username}")),
      why="${aws:username} is mallory for her own requests: the pattern names her")
    r("policy-variable-for-a-role-matches-nothing", NONE, (),
      me_role(allow(["iam:PutRolePolicy", "iam:PutUserPolicy"], "arn:aws:iam::*:*/${aws:username}")),
      who=ME_ROLE,
      why="aws:username is absent in a role session: a Resource built on it matches nothing")
    r("put-user-policy-on-another-user-only", NONE, (),
      me(allow("iam:PutUserPolicy", BOB)), user("bob"),
      why="makes bob admin; she cannot act as bob")
    r("attach-user-policy-on-bob-and-create-his-key", ESCALATES, ("attach-user-policy", "create-access-key"),
      me(allow(["iam:AttachUserPolicy", "iam:CreateAccessKey"], BOB)), user("bob"),
      why="attach AdministratorAccess to bob, then mint an access key for bob")
    r("attach-user-policy-on-bob-without-his-key", NONE, (),
      me(allow("iam:AttachUserPolicy", BOB)), user("bob"),
      why="bob becomes admin but she never gets bob's credentials")
    r("attach-role-policy-on-assumable-role", ESCALATES, ("attach-role-policy", "assume-role"),
      me(allow(["iam:AttachRolePolicy", "sts:AssumeRole"], APP)), role("app"),
      why="attach an admin policy to app, then assume app (its trust names the account)")
    r("attach-role-policy-on-a-role-trusting-someone-else", NONE, (),
      me(allow(["iam:AttachRolePolicy", "sts:AssumeRole"], APP)), role("app", trust_principals(BOB)), user("bob"),
      why="app becomes admin but its trust policy names only bob")
    r("attach-limited-by-policyarn-to-a-harmless-policy", NONE, (),
      me(allow("iam:AttachUserPolicy", ME, Condition={"ArnEquals": {"iam:PolicyARN": POL}})),
      policy("mallory-pol", doc(allow("s3:GetObject"))),
      why="iam:PolicyARN only lets her attach a harmless policy she cannot rewrite")
    r("attach-limited-to-a-policy-she-can-rewrite", ESCALATES, "attach-user-policy",
      me(allow("iam:AttachUserPolicy", ME, Condition={"ArnEquals": {"iam:PolicyARN": POL}}),
         allow("iam:CreatePolicyVersion", POL)),
      policy("mallory-pol", doc(allow("s3:GetObject"))),
      why="rewrite the one policy she may attach into Allow * on *, then attach it to herself")
    r("role-attaches-to-itself", ESCALATES, "attach-role-policy",
      me_role(allow("iam:AttachRolePolicy", ME_ROLE)), who=ME_ROLE,
      why="a role that may attach policies to itself becomes admin")
    r("allow-star-with-notresource", ESCALATES, "put-user-policy",
      me({"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::payroll/*"}),
      why="everything except one bucket: iam:PutUserPolicy on herself included")
    r("resource-in-another-account", NONE, (),
      me(allow("iam:PutUserPolicy", f"arn:aws:iam::{OTHER_ACCOUNT}:user/*")),
      why="the pattern names users of another account only")
    r("put-role-policy-on-roles-no-way-in", NONE, (),
      me(allow("iam:Put*", f"arn:aws:iam::{ACCOUNT}:role/*")), role("app"),
      why="she can make app admin but cannot assume it (no sts:AssumeRole)")

    # ============================================================ groups
    r("permission-through-group", ESCALATES, "put-user-policy",
      me(groups=["devs"]), group("devs", inline=[doc(allow("iam:PutUserPolicy", "arn:aws:iam::*:user/${aws:username}"))]),
      why="a group's inline policy is part of its members' identity policies")
    r("membership-known-from-the-group-only", ESCALATES, "put-user-policy",
      me(), group("devs", inline=[doc(allow("iam:PutUserPolicy", ME))], users=["mallory"]),
      why="membership listed on the group side counts the same")
    r("put-group-policy-on-her-group", ESCALATES, "put-group-policy",
      me(allow("iam:PutGroupPolicy", arn("group", "devs")), groups=["devs"]), group("devs"),
      why="an admin inline policy on her own group applies to her")
    r("put-group-policy-on-a-group-she-is-not-in", NONE, (),
      me(allow("iam:PutGroupPolicy", arn("group", "ops"))), group("ops"),
      why="the group she can rewrite has other members, not her")
    r("add-self-to-admin-group", ESCALATES, "add-user-to-group",
      me(allow("iam:AddUserToGroup", arn("group", "admins"))), group("admins", attached=[ADMINISTRATOR_ACCESS]),
      why="joining a group with AdministratorAccess makes her admin")
    r("add-self-to-a-harmless-group", NONE, (),
      me(allow("iam:AddUserToGroup", arn("group", "readers"))), group("readers", attached=[POL]),
      group("admins", attached=[ADMINISTRATOR_ACCESS]), policy("mallory-pol", doc(allow("s3:Get*"))),
      why="the only group she may join grants read-only access")
    r("role-cannot-join-groups", NONE, (),
      me_role(allow("iam:AddUserToGroup")), group("admins", attached=[ADMINISTRATOR_ACCESS]), who=ME_ROLE,
      why="roles are never group members; with no user's credentials it gains nothing")
    r("role-adds-bob-to-admins-then-mints-his-key", ESCALATES, ("add-user-to-group", "create-access-key"),
      me_role(allow("iam:AddUserToGroup"), allow("iam:CreateAccessKey", BOB)), user("bob"),
      group("admins", attached=[ADMINISTRATOR_ACCESS]), who=ME_ROLE,
      why="put bob in the admin group, then create an access key for bob")

    # ============================================================ credentials of others
    r("create-access-key-for-admin-user", ESCALATES, "create-access-key",
      me(allow("IAM:CreateAccessKey", ADMIN_USER)), admin_user(),
      why="case-insensitive action; a new key of an admin user is admin")
    r("access-key-action-pattern", ESCALATES, "create-access-key",
      me(allow("iam:*AccessKey*", "arn:aws:iam::*:user/*")), admin_user(),
      why="iam:*AccessKey* covers iam:CreateAccessKey; user/* covers the admin user")
    r("create-access-key-for-self-only", NONE, (),
      me(allow("iam:CreateAccessKey", "arn:aws:iam::*:user/${aws:username}")), admin_user(),
      why="a key of her own grants her nothing new")
    r("create-access-key-admin-has-two-keys", NONE, (),
      me(allow("iam:CreateAccessKey", ADMIN_USER)), admin_user(keys=2),
      why="IAM allows two access keys per user: the call fails without DeleteAccessKey")
    r("create-login-profile-already-has-one", NONE, (),
      me(allow("iam:CreateLoginProfile", ADMIN_USER)), admin_user(login=True),
      why="CreateLoginProfile fails on a user that already has a password")
    r("update-login-profile-of-admin", ESCALATES, "update-login-profile",
      me(allow("iam:UpdateLoginProfile", "arn:aws:iam::*:user/*")), admin_user(login=True),
      why="resetting the admin's console password lets her sign in as the admin")
    r("key-of-a-user-whose-admin-is-denied", NONE, (),
      me(allow("iam:CreateAccessKey", ADMIN_USER)),
      user("root-ops", attached=[ADMINISTRATOR_ACCESS], inline=[doc(deny("iam:*"))]),
      why="the target's own Deny iam:* means it controls no identity: it is not admin")

    # ============================================================ sts:AssumeRole and trust
    r("trust-account-root-with-permission", ESCALATES, "assume-role",
      me(allow("sts:AssumeRole", ADMIN_ROLE)), admin_role(),
      why="a trust naming the account root delegates to the account: her sts:AssumeRole Allow suffices")
    r("trust-account-root-without-permission", NONE, (),
      me(allow("s3:*")), admin_role(),
      why="trusting the account root is not trusting everyone in it: an identity Allow is still needed")
    r("trust-names-someone-else", NONE, (),
      me(allow("sts:AssumeRole", "*")), admin_role(trust_principals(BOB)), user("bob"),
      why="her policy allows the call but the role's trust policy does not name her")
    r("trust-names-her-directly-no-identity-allow", ESCALATES, "assume-role",
      me(allow("s3:*")), admin_role(trust_principals(ME)),
      why="same account, trust names her ARN: the trust policy alone grants it (STS AssumeRole reference)")
    r("trust-names-her-directly-but-boundary-omits-sts", NONE, (),
      me(allow("s3:*"), boundary=CAP), cap(allow("s3:*")), admin_role(trust_principals(ME)),
      why="a permission boundary must allow sts:AssumeRole even when the trust names her (IAM user guide)")
    r("trust-names-her-directly-but-identity-denies", NONE, (),
      me(allow("s3:*"), deny("sts:AssumeRole")), admin_role(trust_principals(ME)),
      why="an explicit Deny in her identity policy wins over the trust policy's Allow")
    r("trust-names-her-directly-scp-denies", NONE, (),
      me(allow("s3:*")), admin_role(trust_principals(ME)),
      scp_account([[FULL_AWS_ACCESS, doc(deny("sts:AssumeRole"))]]),
      why="an SCP Deny applies whatever grants the call")
    r("trust-other-account-root", NONE, (),
      me(allow("sts:AssumeRole")), admin_role(trust_principals(f"arn:aws:iam::{OTHER_ACCOUNT}:root")),
      why="the role trusts another account only")
    r("trust-deny-names-her", NONE, (),
      me(allow("sts:AssumeRole")),
      admin_role(doc(trust_stmt(ROOT), trust_stmt({"AWS": ME}, effect="Deny"))),
      why="a Deny in the trust policy wins over its Allow of the account")
    r("trust-principal-arn-condition-names-bob", NONE, (),
      me(allow("sts:AssumeRole")),
      admin_role(doc(trust_stmt(ROOT, Condition={"ArnEquals": {"aws:PrincipalArn": BOB}}))), user("bob"),
      why="aws:PrincipalArn is known at rest: the trust condition is false for her")
    r("trust-everyone-principal-star", ESCALATES, "assume-role",
      me(allow("sts:AssumeRole")), admin_role(doc(trust_stmt("*"))),
      why="Principal * trusts every principal; her own Allow makes the call")
    r("trust-sts-star-action", ESCALATES, "assume-role",
      me(allow("sts:Assume*")), admin_role(doc(trust_stmt(ROOT, "sts:*"))),
      why="sts:* in the trust and sts:Assume* in her policy both cover sts:AssumeRole")
    r("trust-federated-saml-only", NONE, (),
      me(allow("sts:*")),
      admin_role(doc(trust_stmt({"Federated": f"arn:aws:iam::{ACCOUNT}:saml-provider/okta"},
                                "sts:AssumeRoleWithSAML"))),
      why="the trust allows a SAML provider's AssumeRoleWithSAML, not her AssumeRole")
    r("trust-external-id-is-named", ESCALATES, "assume-role",
      me(allow("sts:AssumeRole")),
      admin_role(doc(trust_stmt(ROOT, Condition={"StringEquals": {"sts:ExternalId": "x"}}))),
      conditional=True, named="sts:externalid",
      why="an external id is a shared value, not a control: flagged, the condition named")
    r("two-hop-chain", ESCALATES, ("assume-role", "assume-role"),
      me(allow("sts:AssumeRole", OPS)), role("ops", trust_principals(ME), inline=[doc(allow("sts:AssumeRole", ADMIN_ROLE))]),
      admin_role(trust_principals(OPS)),
      why="mallory -> ops -> admin: each trust names the previous hop and each hop may call AssumeRole")
    r("two-hop-chain-second-trust-names-ops-directly", ESCALATES, ("assume-role", "assume-role"),
      me(allow("sts:AssumeRole", OPS)), role("ops", trust_principals(ME)), admin_role(trust_principals(OPS)),
      why="admin's trust names ops by ARN: ops needs no sts:AssumeRole Allow of its own")
    r("two-hop-chain-broken-trust", NONE, (),
      me(allow("sts:AssumeRole", OPS)), role("ops", trust_principals(ME), inline=[doc(allow("sts:AssumeRole"))]),
      admin_role(trust_principals(APP)), role("app", trust_principals(BOB)), user("bob"),
      why="ops may call AssumeRole on anything, but admin trusts only app, which only bob can assume")
    r("assumed-role-capped-by-boundary", NONE, (),
      me(allow("sts:AssumeRole")), admin_role(boundary=CAP), cap(allow("s3:*")),
      why="the role she can assume is capped by its boundary: it is not admin")
    r("her-boundary-does-not-cap-the-role-she-assumes", ESCALATES, "assume-role",
      me(allow("sts:AssumeRole", ADMIN_ROLE), boundary=CAP), cap(allow("sts:AssumeRole")), admin_role(),
      why="her boundary allows the AssumeRole call; the role's own permissions are not limited by it")
    r("update-trust-then-assume", ESCALATES, "update-assume-role-policy",
      me(allow(["iam:UpdateAssumeRolePolicy", "sts:AssumeRole"], ADMIN_ROLE)), admin_role(trust_service("ec2.amazonaws.com")),
      why="rewrite the admin role's trust to name her, then assume it")
    r("update-trust-without-sts-permission", ESCALATES, "update-assume-role-policy",
      me(allow("iam:UpdateAssumeRolePolicy", ADMIN_ROLE)), admin_role(trust_service("ec2.amazonaws.com")),
      why="the trust she writes names her ARN directly: same account, no identity Allow needed to assume")
    r("update-trust-but-sts-denied", NONE, (),
      me(allow("iam:UpdateAssumeRolePolicy", ADMIN_ROLE), deny("sts:AssumeRole")),
      admin_role(trust_service("ec2.amazonaws.com")),
      why="whatever the trust says, her explicit Deny of sts:AssumeRole wins")

    r("trust-names-a-role-directly", ESCALATES, "assume-role",
      me_role(allow("s3:*")), admin_role(trust_principals(ME_ROLE)), who=ME_ROLE,
      why="a role named by ARN in the trust needs no sts:AssumeRole Allow either (same account)")
    r("trust-names-a-deleted-principal-id", NONE, (),
      me(allow("sts:AssumeRole")), admin_role(trust_principals("AIDADELETEDMALLORY0")),
      why="IAM shows a deleted principal's unique id in the trust: a new user named mallory is not it")
    r("trust-everyone-limited-to-her-account", ESCALATES, "assume-role",
      me(allow("sts:AssumeRole")),
      admin_role(doc(trust_stmt("*", Condition={"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}))),
      conditional=False,
      why="aws:PrincipalAccount is known at rest: the condition holds for her, nothing left to name")

    # ============================================================ explicit deny, boundary, SCP
    r("deny-notaction-blocks-iam", NONE, (),
      me(allow("iam:*"), {"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"}),
      why="Deny NotAction s3:* denies every non-S3 action, iam:* included")
    r("deny-iam-with-condition-always-true-account", NONE, (),
      me(allow("iam:*"), deny("iam:*", Condition={"StringEquals": {"aws:PrincipalAccount": ACCOUNT}})),
      why="aws:PrincipalAccount is her account: the Deny always applies")
    r("deny-iam-with-condition-always-true-untagged", NONE, (),
      me(allow("iam:*"), deny("iam:*", Condition={"StringNotEquals": {"aws:PrincipalTag/breakglass": "yes"}})),
      why="she has no breakglass tag: StringNotEquals on a missing key is true, so the Deny applies")
    r("deny-iam-with-arnlike-every-user", NONE, (),
      me(allow("iam:*"), deny("iam:*", Condition={"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/*"}})),
      why="she is a user: the Deny's condition is true")
    r("deny-iam-null-username-false", NONE, (),
      me(allow("iam:*"), deny("iam:*", Condition={"Null": {"aws:username": "false"}})),
      why="aws:username is present for a user: Null false is true, the Deny applies")
    r("deny-on-herself-by-policy-variable", NONE, (),
      me(allow("iam:*"), deny("iam:*", "arn:aws:iam::*:user/${aws:username}")),
      why="${aws:username} resolves to mallory: the Deny covers every iam action on herself")
    r("deny-by-username-variable-does-not-cover-a-role", ESCALATES, "put-role-policy",
      me_role(allow("iam:PutRolePolicy", ME_ROLE), deny("iam:*", "arn:aws:iam::*:role/${aws:username}")),
      who=ME_ROLE,
      why="aws:username is absent in a role session: the Deny's Resource matches nothing")
    r("deny-one-method-another-remains", ESCALATES, "attach-user-policy",
      me(allow(["iam:PutUserPolicy", "iam:AttachUserPolicy"], ME), deny("iam:PutUserPolicy")),
      why="only PutUserPolicy is denied: AttachUserPolicy of AdministratorAccess still works")
    r("deny-that-names-someone-else", ESCALATES, "put-user-policy",
      me(allow("iam:PutUserPolicy", ME), deny("iam:*", Condition={"ArnEquals": {"aws:PrincipalArn": BOB}})),
      why="the Deny is only for bob: it does not apply to her")
    r("deny-on-other-resources-only", ESCALATES, "put-user-policy",
      me(allow("iam:PutUserPolicy"), deny("iam:*", f"arn:aws:iam::{ACCOUNT}:user/admin-*")),
      why="the Deny covers admin-* users, not herself")
    r("deny-unless-mfa-is-named", ESCALATES, "put-user-policy",
      me(allow("iam:PutUserPolicy", ME),
         deny("*", Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})),
      conditional=True, named="aws:multifactorauthpresent",
      why="MFA is not known at rest: she escalates with MFA; flagged conservatively, the condition named")
    r("allow-with-mfa-is-named", ESCALATES, "put-user-policy",
      me(allow("iam:PutUserPolicy", ME, Condition=MFA)), conditional=True, named="aws:multifactorauthpresent",
      why="MFA does not constrain the attacker holding her session: flagged, named")
    r("allow-condition-on-her-tag-false", NONE, (),
      me(allow("iam:PutUserPolicy", ME, Condition={"StringEquals": {"aws:PrincipalTag/team": "platform"}}),
         tags={"team": "web"}),
      why="her tag is known at rest and does not match")
    r("deny-in-group-policy", NONE, (),
      me(allow("iam:PutUserPolicy", ME), groups=["guard"]), group("guard", inline=[doc(deny("iam:Put*"))]),
      why="a Deny from a group policy applies to every member")
    r("boundary-lacks-iam", NONE, (),
      me(allow("iam:*", ME), boundary=CAP), cap(allow(["s3:*", "sts:*"])),
      why="effective permissions are the intersection: the boundary allows no iam action")
    r("boundary-allows-the-action-but-caps-the-result", NONE, (),
      me(allow("iam:PutUserPolicy", ME), boundary=CAP), cap(allow("iam:PutUserPolicy")),
      why="she can write the policy, but the boundary still caps her at iam:PutUserPolicy: never admin")
    r("boundary-allowing-everything", ESCALATES, "put-user-policy",
      me(allow("iam:PutUserPolicy", ME), boundary=CAP), cap(allow("*")),
      why="a boundary of Allow * limits nothing")
    r("boundary-she-can-delete", ESCALATES, "put-user-policy",
      me(allow(["iam:PutUserPolicy", "iam:DeleteUserPermissionsBoundary"], ME), boundary=CAP),
      cap(allow(["iam:PutUserPolicy", "iam:DeleteUserPermissionsBoundary"])),
      why="her boundary lets her remove it: she does, then writes Allow * on *")
    r("boundary-she-may-delete-but-it-forbids", NONE, (),
      me(allow(["iam:PutUserPolicy", "iam:DeleteUserPermissionsBoundary"], ME), boundary=CAP),
      cap(allow("iam:PutUserPolicy")),
      why="her identity allows removing the boundary but the boundary itself does not: it stays")
    r("deny-inside-the-boundary", NONE, (),
      me(allow("iam:*", ME), boundary=CAP), cap(allow("*"), deny("iam:*")),
      why="an explicit Deny of iam:* in the boundary wins over every iam Allow")
    r("boundary-denies-inline-policies-only", ESCALATES, "attach-user-policy",
      me(allow("iam:*", ME), boundary=CAP), cap(allow("*"), deny(["iam:Put*Policy"])),
      why="inline policies are denied, attaching AdministratorAccess is not: she is then admin")
    r("scp-denies-inline-policies-admin-stays-admin", ADMIN, (),
      me(attached=[ADMINISTRATOR_ACCESS]),
      scp_account([[FULL_AWS_ACCESS, doc(deny(["iam:PutUserPolicy", "iam:PutRolePolicy"]))]]),
      why="a guardrail against inline policies leaves attaching policies: AdministratorAccess is still admin")
    r("boundary-not-collected-is-not-limiting", ESCALATES, "put-user-policy",
      me(allow("iam:PutUserPolicy", ME), boundary=arn("policy", "missing")),
      why="a boundary whose document was not collected is not assumed to protect (named in notes)")
    r("scp-deny", NONE, (),
      me(allow("iam:PutUserPolicy", ME)), scp_account([[FULL_AWS_ACCESS, doc(deny("iam:PutUserPolicy"))]]),
      why="an SCP Deny wins over any identity Allow")
    r("scp-deny-except-breakglass", NONE, (),
      me(allow("iam:PutUserPolicy", ME)),
      scp_account([[FULL_AWS_ACCESS, doc(deny("iam:*", Condition={"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/breakglass"}}))]]),
      why="she is not the break-glass role: the SCP Deny applies to her")
    r("scp-ou-without-iam", NONE, (),
      me(allow("iam:PutUserPolicy", ME)), scp_account([[FULL_AWS_ACCESS], [doc(allow(["s3:*", "ec2:*"]))]]),
      why="every SCP level must allow the action: the OU's SCP allows no iam action")
    r("scp-deny-in-management-account-ignored", ESCALATES, "put-user-policy",
      me(allow("iam:PutUserPolicy", ME)), scp_account([[doc(deny("*"))]], management=True),
      why="SCPs do not apply to the management account")

    # ============================================================ PassRole and new compute
    r("passrole-lambda-create-invoke", ESCALATES, "passrole-lambda",
      me(allow(["iam:PassRole", *LAMBDA_RUN])), admin_role(trust_service(LAMBDA)),
      why="a new function with the admin role, invoked: her code runs as admin")
    r("passrole-lambda-no-invoke", NONE, (),
      me(allow(["iam:PassRole", "lambda:CreateFunction"])), admin_role(trust_service(LAMBDA)),
      why="documented decision (methods.PassRoleMethod.run), kept: a new function runs only when invoked or wired to a source")
    r("passrole-lambda-event-source", ESCALATES, "passrole-lambda",
      me(allow(["iam:PassRole", "lambda:CreateFunction", "lambda:CreateEventSourceMapping"])),
      admin_role(trust_service(LAMBDA)),
      why="an event source mapping runs the function without an Invoke permission")
    r("passrole-to-a-service-she-cannot-use", NONE, (),
      me(allow(LAMBDA_RUN), allow("iam:PassRole", Condition={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}})),
      admin_role(trust_service(LAMBDA, "ec2.amazonaws.com"), profiles=["p"]),
      why="PassRole only to EC2, and she cannot launch instances; Lambda may not receive the role")
    r("passrole-passedtoservice-lambda", ESCALATES, "passrole-lambda",
      me(allow(LAMBDA_RUN), allow("iam:PassRole", Condition={"StringLike": {"iam:PassedToService": "lambda.*"}})),
      admin_role(trust_service(LAMBDA)),
      why="iam:PassedToService is decided at rest: lambda.amazonaws.com matches lambda.*")
    r("passrole-on-a-role-with-no-permissions", NONE, (),
      me(allow(["iam:PassRole", *LAMBDA_RUN])), role("empty", trust_service(LAMBDA)),
      why="the only role she can pass holds no permissions")
    r("passrole-role-does-not-trust-the-service", NONE, (),
      me(allow(["iam:PassRole", *LAMBDA_RUN])), admin_role(trust_service("ec2.amazonaws.com")),
      why="Lambda cannot assume a role whose trust names only EC2")
    r("passrole-path-scoped-elsewhere", NONE, (),
      me(allow(LAMBDA_RUN), allow("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/service-role/*")),
      admin_role(trust_service(LAMBDA)),
      why="PassRole only on roles under /service-role/; the admin role's path is /")
    r("passrole-ec2-with-profile", ESCALATES, "passrole-ec2",
      me(allow(["iam:PassRole", "ec2:RunInstances"])), admin_role(trust_service("ec2.amazonaws.com"), profiles=["ip"]),
      why="launch an instance with the admin role's instance profile; user data runs as admin")
    r("passrole-ec2-no-profile", NONE, (),
      me(allow(["iam:PassRole", "ec2:RunInstances"])), admin_role(trust_service("ec2.amazonaws.com")),
      why="EC2 takes roles through instance profiles: none exists and she cannot make one")
    r("passrole-cloudformation", ESCALATES, "passrole-cloudformation",
      me(allow(["iam:Pass*", "cloudformation:CreateStack"])),
      admin_role(trust_service("cloudformation.amazonaws.com")),
      why="a stack created with the admin service role creates whatever she templates")
    r("passrole-glue-job-never-started", NONE, (),
      me(allow(["iam:PassRole", "glue:CreateJob"])), admin_role(trust_service("glue.amazonaws.com")),
      why="a Glue job that she can neither start nor trigger never runs")
    r("passrole-ecs", ESCALATES, "passrole-ecs",
      me(allow(["iam:PassRole", "ecs:RegisterTaskDefinition", "ecs:RunTask"])),
      admin_role(trust_service("ecs-tasks.amazonaws.com")),
      why="a task definition with the admin task role, run: the container gets its credentials")
    r("passrole-codebuild", ESCALATES, "passrole-codebuild",
      me(allow(["iam:PassRole", "codebuild:CreateProject", "codebuild:StartBuild"])),
      admin_role(trust_service("codebuild.amazonaws.com")),
      why="a build project with the admin service role, started: the buildspec runs as admin")
    r("passrole-sagemaker-notebook-no-url", NONE, (),
      me(allow(["iam:PassRole", "sagemaker:CreateNotebookInstance"])),
      admin_role(trust_service("sagemaker.amazonaws.com")),
      why="she cannot open the notebook (no presigned URL): the role's credentials stay inside")

    # ============================================================ existing compute
    fn = function("billing", ADMIN_ROLE)
    r("update-code-of-admin-function", ESCALATES, "update-lambda-code",
      me(allow("lambda:Update*", fn.arn)), admin_role(trust_service(LAMBDA)), fn,
      why="replacing code that runs as the admin role runs her code as admin")
    r("update-code-of-a-harmless-function", NONE, (),
      me(allow("lambda:UpdateFunctionCode")), role("reader", trust_service(LAMBDA)),
      function("reports", arn("role", "reader")),
      why="the only function runs as a role without permissions")

    # ============================================================ admin / excluded
    r("already-admin", ADMIN, (), me(attached=[ADMINISTRATOR_ACCESS]),
      why="AdministratorAccess: admin, not an escalation")
    r("admin-with-deny-iam-is-not-admin", NONE, (), me(deny("iam:*"), attached=[ADMINISTRATOR_ACCESS]),
      why="Allow * but Deny iam:*: she controls no identity; nothing else to escalate through")
    r("service-linked-role", EXCLUDED, (),
      role("AWSServiceRoleForX", trust_service(LAMBDA), attached=[ADMINISTRATOR_ACCESS],
           path="/aws-service-role/x.amazonaws.com/"),
      who=f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/x.amazonaws.com/AWSServiceRoleForX",
      why="service-linked roles are AWS's: neither flagged nor used")
    # fmt: on
    return rows


ROWS = _rows()


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.id)
def test_trap_or_decoy(analyse: Analyse, row: Row) -> None:
    out = analyse(*row.world)[row.who]
    assert out.status == row.status, f"{row.why}: {out.detail()}"
    if row.status == ESCALATES:
        assert tuple(h.method for h in out.path) == row.methods, f"{row.why}: {out.detail()}"
        assert out.path[0].actor == row.who
        assert all(h.permissions for h in out.path)
    if row.conditional is not None:
        assert out.conditional == row.conditional, out.detail()
    if row.named:
        assert row.named in out.detail(), out.detail()


def test_row_ids_are_unique() -> None:
    assert len({r.id for r in ROWS}) == len(ROWS)
