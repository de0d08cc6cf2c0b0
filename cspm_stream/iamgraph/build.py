"""Build an :class:`~cspm_stream.iamgraph.model.AccountIAM` from inventory snapshots' attributes.

Input: the collected resources of one account (:class:`Resource`), of these types:

=============================  ==================================================================
``aws.iam.user``               AttachedPolicies, UserPolicies, Groups, PermissionsBoundary,
                               AccessKeys, LoginProfile, UserId
``aws.iam.role``               AssumeRolePolicyDocument, AttachedPolicies, RolePolicies,
                               PermissionsBoundary, InstanceProfiles, Path, RoleId
``aws.iam.group``              AttachedPolicies, GroupPolicies, Users
``aws.iam.policy``             PolicyVersion.Document (default), PolicyVersions (other versions)
``aws.iam.aws_managed_policy`` the same, for AWS managed policies attached in the account
``aws.organizations.account``  ServiceControlPolicies (the account's SCP levels)
``aws.lambda.function``        Role (the execution role)
``aws.glue.dev_endpoint``      RoleArn
=============================  ==================================================================

Every attribute may be missing or of any JSON type: what cannot be read contributes
nothing, and what could not be resolved (a managed policy that was not collected, an
unreadable document) is recorded in the principal's or the account's ``notes``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cspm_stream.iamgraph.model import (
    ADMINISTRATOR_ACCESS,
    ROLE,
    USER,
    AccountIAM,
    ComputeRef,
    Group,
    ManagedPolicy,
    Principal,
)
from cspm_stream.iamgraph.policydoc import Document, DocumentCache, compile_document

#: resource types the analysis reads
IAM_TYPES = frozenset(
    {
        "aws.iam.user",
        "aws.iam.role",
        "aws.iam.group",
        "aws.iam.policy",
        "aws.iam.aws_managed_policy",
        "aws.organizations.account",
        "aws.lambda.function",
        "aws.glue.dev_endpoint",
    }
)
_ADMIN_DOC = compile_document(
    {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}, f"policy {ADMINISTRATOR_ACCESS}"
)


@dataclass(frozen=True, slots=True)
class Resource:
    """One collected resource: its type, ARN, attributes and tags (a snapshot's fields)."""

    resource_type: str
    arn: str
    attributes: dict[str, Any]
    tags: dict[str, str] = field(default_factory=dict)


def _list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


def _dicts(v: Any) -> list[dict[str, Any]]:
    return [x for x in _list(v) if isinstance(x, dict)]


def _str(v: Any) -> str:
    return v if isinstance(v, str) else ""


def _attached(attrs: dict[str, Any]) -> tuple[str, ...]:
    return tuple(a for a in (_str(p.get("PolicyArn")) for p in _dicts(attrs.get("AttachedPolicies"))) if a)


def _inline(attrs: dict[str, Any], key: str, owner: str, cache: DocumentCache) -> tuple[Document, ...]:
    out = []
    for p in _dicts(attrs.get(key)):
        name = _str(p.get("PolicyName")) or "?"
        out.append(cache.get(p.get("PolicyDocument"), f"inline policy {name} of {owner}"))
    return tuple(out)


def _boundary(attrs: dict[str, Any]) -> str | None:
    b = attrs.get("PermissionsBoundary")
    if isinstance(b, dict):
        arn = _str(b.get("PermissionsBoundaryArn"))
        return arn or None
    return None


def _tags(r: Resource) -> dict[str, str]:
    if r.tags:
        return dict(r.tags)
    out: dict[str, str] = {}
    for t in _dicts(r.attributes.get("Tags")):
        k, v = t.get("Key"), t.get("Value")
        if isinstance(k, str):
            out[k] = v if isinstance(v, str) else ""
    return out


def _policy(r: Resource, cache: DocumentCache, aws_managed: bool) -> ManagedPolicy:
    a = r.attributes
    pv = a.get("PolicyVersion")
    source = f"policy {r.arn}"
    default = (
        cache.get(pv.get("Document"), source) if isinstance(pv, dict) else Document((), (f"{source}: no document",))
    )
    default_id = _str(pv.get("VersionId")) if isinstance(pv, dict) else ""
    others = []
    listed = _dicts(a.get("PolicyVersions"))
    for v in listed:
        vid = _str(v.get("VersionId"))
        if v.get("IsDefaultVersion") is True or (vid and vid == default_id) or "Document" not in v:
            continue
        others.append((vid, cache.get(v.get("Document"), f"{source} version {vid or '?'}")))
    return ManagedPolicy(
        r.arn,
        _str(a.get("PolicyName")) or r.arn.rsplit("/", 1)[-1],
        default,
        tuple(others),
        aws_managed,
        max(1, len({_str(v.get("VersionId")) or str(i) for i, v in enumerate(listed)})),
    )


def _scps(attrs: dict[str, Any], cache: DocumentCache) -> tuple[tuple[tuple[Document, ...], ...] | None, str]:
    raw = attrs.get("ServiceControlPolicies")
    if not isinstance(raw, dict):
        return None, "SCPs not collected (Organizations not readable)"
    if raw.get("ManagementAccount") is True:
        return None, "management account: SCPs do not apply"
    if raw.get("Enabled") is not True:
        return None, "SCPs not enabled in the organization"
    levels: list[tuple[Document, ...]] = []
    for lvl in _dicts(raw.get("Levels")):
        target = _str(lvl.get("Target")) or "?"
        docs = tuple(
            cache.get(p.get("Content"), f"SCP {_str(p.get('Name')) or _str(p.get('Id')) or '?'} at {target}")
            for p in _dicts(lvl.get("Policies"))
        )
        levels.append(docs)
    return tuple(levels), ""


def _unread(attrs: dict[str, Any]) -> list[str]:
    """Notes for the attributes the collector could not read (``__errors__``, set by the router)."""
    return [
        f"{x} could not be read: its permissions are not counted"
        for x in _list(attrs.get("__errors__"))
        if isinstance(x, str)
    ]


def build_account(account_id: str, resources: Iterable[Resource]) -> AccountIAM:
    """The account's IAM state from its collected resources (other types are ignored)."""
    cache = DocumentCache()
    acc = AccountIAM(account_id)
    users: list[Resource] = []
    roles: list[Resource] = []
    compute: list[ComputeRef] = []
    members: dict[str, set[str]] = {}  # group arn -> user names (from the group's side)
    scp_seen = False
    for r in resources:
        a = r.attributes if isinstance(r.attributes, dict) else {}
        r = Resource(r.resource_type, r.arn, a, r.tags)
        t = r.resource_type
        if t == "aws.iam.user":
            users.append(r)
        elif t == "aws.iam.role":
            roles.append(r)
        elif t == "aws.iam.group":
            owner = f"group {_str(a.get('GroupName')) or r.arn}"
            acc.groups[r.arn] = Group(
                r.arn, _str(a.get("GroupName")), _attached(a), _inline(a, "GroupPolicies", owner, cache)
            )
            members[r.arn] = {n for n in (_str(u.get("UserName")) for u in _dicts(a.get("Users"))) if n}
        elif t in ("aws.iam.policy", "aws.iam.aws_managed_policy"):
            acc.policies[r.arn] = _policy(r, cache, t == "aws.iam.aws_managed_policy")
        elif t == "aws.organizations.account":
            if _str(a.get("Id")) == account_id and not scp_seen:
                acc.scps, acc.scp_note = _scps(a, cache)
                scp_seen = True
        elif t == "aws.lambda.function":
            role = _str(a.get("Role"))
            if role:
                compute.append(ComputeRef("lambda-function", _str(a.get("FunctionArn")) or r.arn, role))
        elif t == "aws.glue.dev_endpoint":
            role = _str(a.get("RoleArn"))
            if role:
                compute.append(ComputeRef("glue-dev-endpoint", r.arn, role))
    if not scp_seen:
        acc.scp_note = "SCPs not collected (Organizations not readable)"
    if ADMINISTRATOR_ACCESS not in acc.policies:
        acc.policies[ADMINISTRATOR_ACCESS] = ManagedPolicy(
            ADMINISTRATOR_ACCESS, "AdministratorAccess", _ADMIN_DOC, (), True
        )
    acc.compute = tuple(sorted(compute, key=lambda c: c.arn))
    for r in users:
        a = r.attributes
        name = _str(a.get("UserName")) or r.arn.rsplit("/", 1)[-1]
        unread = _unread(a)
        groups = {g for g in (_str(x.get("Arn")) for x in _dicts(a.get("Groups"))) if g}
        groups |= {g for g, names in members.items() if name in names}
        p = Principal(
            arn=r.arn,
            kind=USER,
            name=name,
            account_id=account_id,
            unique_id=_str(a.get("UserId")),
            tags=_tags(r),
            attached=_attached(a),
            inline=_inline(a, "UserPolicies", f"user {name}", cache),
            groups=tuple(sorted(groups)),
            boundary_arn=_boundary(a),
            access_keys=len(_dicts(a.get("AccessKeys"))),
            login_profile=isinstance(a.get("LoginProfile"), dict),
            notes=unread,
        )
        acc.principals[p.arn] = p
    for r in roles:
        a = r.attributes
        name = _str(a.get("RoleName")) or r.arn.rsplit("/", 1)[-1]
        path = _str(a.get("Path"))
        p = Principal(
            arn=r.arn,
            kind=ROLE,
            name=name,
            account_id=account_id,
            unique_id=_str(a.get("RoleId")),
            tags=_tags(r),
            attached=_attached(a),
            inline=_inline(a, "RolePolicies", f"role {name}", cache),
            boundary_arn=_boundary(a),
            trust=cache.get(a.get("AssumeRolePolicyDocument"), f"trust policy of role {name}"),
            instance_profiles=tuple(x for x in (_str(i.get("Arn")) for i in _dicts(a.get("InstanceProfiles"))) if x),
            service_linked=path.startswith("/aws-service-role/") or ":role/aws-service-role/" in r.arn,
            notes=_unread(a),
        )
        acc.principals[p.arn] = p
    return acc
