"""Builders of IAM inventory resources (tests, examples and ``bench/iam_paths``).

Each builder returns a :class:`~cspm_stream.iamgraph.build.Resource` shaped like the
collected snapshot of that type (the attribute names of :mod:`cspm_stream.collect.services.iam`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from cspm_stream.iamgraph.build import Resource

ACCOUNT = "111122223333"


def stmt(
    effect: str, actions: str | Sequence[str], resources: str | Sequence[str] = "*", **extra: Any
) -> dict[str, Any]:
    """One statement; ``extra``: Condition=..., NotAction=..., Principal=... as IAM spells them."""
    s: dict[str, Any] = {"Effect": effect}
    if actions:
        s["Action"] = actions if isinstance(actions, str) else list(actions)
    if resources:
        s["Resource"] = resources if isinstance(resources, str) else list(resources)
    s.update(extra)
    return s


def allow(actions: str | Sequence[str], resources: str | Sequence[str] = "*", **extra: Any) -> dict[str, Any]:
    return stmt("Allow", actions, resources, **extra)


def deny(actions: str | Sequence[str], resources: str | Sequence[str] = "*", **extra: Any) -> dict[str, Any]:
    return stmt("Deny", actions, resources, **extra)


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def arn(kind: str, name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:iam::{account}:{kind}/{name}"


def trust_account(account: str = ACCOUNT) -> dict[str, Any]:
    return doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole"})


def trust_service(*services: str) -> dict[str, Any]:
    return doc({"Effect": "Allow", "Principal": {"Service": list(services)}, "Action": "sts:AssumeRole"})


def trust_principals(*arns: str) -> dict[str, Any]:
    return doc({"Effect": "Allow", "Principal": {"AWS": list(arns)}, "Action": "sts:AssumeRole"})


def _inline(docs: Iterable[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    return [{"PolicyName": f"{prefix}{i}", "PolicyDocument": d} for i, d in enumerate(docs)]


def _attached(arns: Iterable[str]) -> list[dict[str, str]]:
    return [{"PolicyName": a.rsplit("/", 1)[-1], "PolicyArn": a} for a in arns]


def user(
    name: str,
    *,
    inline: Iterable[dict[str, Any]] = (),
    attached: Iterable[str] = (),
    groups: Iterable[str] = (),
    boundary: str | None = None,
    keys: int = 0,
    login: bool = False,
    tags: dict[str, str] | None = None,
    account: str = ACCOUNT,
) -> Resource:
    a = arn("user", name, account)
    attrs: dict[str, Any] = {
        "UserName": name,
        "Arn": a,
        "UserId": f"AIDA{name.upper()[:16]}",
        "Path": "/",
        "AttachedPolicies": _attached(attached),
        "UserPolicies": _inline(inline, f"{name}-inline-"),
        "Groups": [{"GroupName": g, "Arn": arn("group", g, account)} for g in groups],
        "AccessKeys": [{"AccessKeyId": f"AKIA{i}", "Status": "Active"} for i in range(keys)],
        "LoginProfile": {"UserName": name} if login else None,
    }
    if boundary:
        attrs["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
    return Resource("aws.iam.user", a, attrs, dict(tags or {}))


def role(
    name: str,
    trust: dict[str, Any] | None = None,
    *,
    inline: Iterable[dict[str, Any]] = (),
    attached: Iterable[str] = (),
    boundary: str | None = None,
    profiles: Iterable[str] = (),
    path: str = "/",
    tags: dict[str, str] | None = None,
    account: str = ACCOUNT,
) -> Resource:
    a = f"arn:aws:iam::{account}:role{path}{name}"
    attrs: dict[str, Any] = {
        "RoleName": name,
        "Arn": a,
        "RoleId": f"AROA{name.upper()[:16]}",
        "Path": path,
        "AssumeRolePolicyDocument": trust if trust is not None else trust_account(account),
        "AttachedPolicies": _attached(attached),
        "RolePolicies": _inline(inline, f"{name}-inline-"),
        "InstanceProfiles": [
            {"InstanceProfileName": p, "Arn": f"arn:aws:iam::{account}:instance-profile/{p}"} for p in profiles
        ],
    }
    if boundary:
        attrs["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
    return Resource("aws.iam.role", a, attrs, dict(tags or {}))


def group(
    name: str,
    *,
    inline: Iterable[dict[str, Any]] = (),
    attached: Iterable[str] = (),
    users: Iterable[str] = (),
    account: str = ACCOUNT,
) -> Resource:
    a = arn("group", name, account)
    attrs = {
        "GroupName": name,
        "Arn": a,
        "AttachedPolicies": _attached(attached),
        "GroupPolicies": _inline(inline, f"{name}-inline-"),
        "Users": [{"UserName": u, "Arn": arn("user", u, account)} for u in users],
    }
    return Resource("aws.iam.group", a, attrs)


def policy(
    name: str,
    document: dict[str, Any],
    *,
    others: Iterable[tuple[str, dict[str, Any]]] = (),
    account: str = ACCOUNT,
) -> Resource:
    a = arn("policy", name, account)
    versions = [{"VersionId": "v9", "IsDefaultVersion": True}]
    versions += [{"VersionId": vid, "IsDefaultVersion": False, "Document": d} for vid, d in others]
    attrs = {
        "PolicyName": name,
        "Arn": a,
        "DefaultVersionId": "v9",
        "PolicyVersion": {"VersionId": "v9", "IsDefaultVersion": True, "Document": document},
        "PolicyVersions": versions,
    }
    return Resource("aws.iam.policy", a, attrs)


def function(name: str, role_arn: str, *, region: str = "us-east-1", account: str = ACCOUNT) -> Resource:
    a = f"arn:aws:lambda:{region}:{account}:function:{name}"
    return Resource("aws.lambda.function", a, {"FunctionName": name, "FunctionArn": a, "Role": role_arn})


def glue_dev_endpoint(name: str, role_arn: str, *, region: str = "us-east-1", account: str = ACCOUNT) -> Resource:
    a = f"arn:aws:glue:{region}:{account}:devEndpoint/{name}"
    return Resource("aws.glue.dev_endpoint", a, {"EndpointName": name, "RoleArn": role_arn})


def scp_account(
    levels: Sequence[Sequence[dict[str, Any]]],
    *,
    account: str = ACCOUNT,
    enabled: bool = True,
    management: bool = False,
) -> Resource:
    """The ``aws.organizations.account`` of ``account`` with its SCP levels (root first)."""
    a = f"arn:aws:organizations::999999999999:account/o-example/{account}"
    lv = [
        {
            "Target": "r-root" if i == 0 else f"ou-{i}",
            "Type": "ROOT" if i == 0 else "ORGANIZATIONAL_UNIT",
            "Policies": [{"Id": f"p-{i}{j}", "Name": f"scp-{i}{j}", "Content": d} for j, d in enumerate(docs)],
        }
        for i, docs in enumerate(levels)
    ]
    attrs = {
        "Id": account,
        "Arn": a,
        "ServiceControlPolicies": {"Enabled": enabled, "ManagementAccount": management, "Levels": lv},
    }
    return Resource("aws.organizations.account", a, attrs)


FULL_AWS_ACCESS = doc(allow("*"))
