"""Relations between an anchor resource and the resources its combination parts are checked on.

The name in a combination file is the registry key (:data:`RELATIONS`). Each relation says,
for an anchor of its type, which resources it reaches (``forward``) and, for a resource,
which anchors reach it (``reverse``, through the :class:`~cspm_stream.combos.graph.Graph`
indexes) so a changed finding re-evaluates exactly the combinations it can affect.

=============================  ===================  ===============================================
relation                       anchor               reaches
=============================  ===================  ===============================================
``self``                       any                  the anchor itself
``instance_security_groups``   ``aws.ec2.instance`` its security groups (instance and ENI level)
``instance_role``              ``aws.ec2.instance`` the role in its instance profile
``function_role``              ``aws.lambda.function`` its execution role
``snapshot_source_db``         ``aws.rds.snapshot`` the DB instance it was taken from
=============================  ===================  ===============================================

Roles are reached by ARN, so findings on ``aws.iam.role`` and on the derived
``aws.iam.principal`` (same ARN) both count.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cspm_stream.combos.graph import Graph

#: the attributes kept per resource type (what the relations read)
PROJECTIONS: dict[str, tuple[str, ...]] = {
    "aws.ec2.instance": ("SecurityGroups", "NetworkInterfaces", "IamInstanceProfile"),
    "aws.iam.role": ("InstanceProfiles",),
    "aws.lambda.function": ("Role",),
    "aws.rds.snapshot": ("DBInstanceIdentifier",),
    "aws.rds.instance": ("DBInstanceIdentifier",),
    "aws.ec2.security_group": (),
    "aws.s3.bucket": (),
}


def _dicts(v: Any) -> list[dict[str, Any]]:
    return [x for x in v if isinstance(x, dict)] if isinstance(v, list) else []


def _str(v: Any) -> str:
    return v if isinstance(v, str) else ""


def _ids(items: Any, key: str, limit: int) -> list[str]:
    """``key`` of each object in a list, or the strings themselves (an already projected list)."""
    out: list[str] = []
    for x in items[:limit] if isinstance(items, list) else []:
        v = x.get(key) if isinstance(x, dict) else x
        if isinstance(v, str) and v:
            out.append(v)
    return out


def project(rtype: str, attrs: Any) -> dict[str, Any]:
    """The small copy of a resource's attributes kept for relations: lists of strings and strings
    only, bounded, whatever JSON came in. Projecting a projection gives the same projection."""
    if not isinstance(attrs, dict):
        return {}
    keep = PROJECTIONS.get(rtype, ())
    out: dict[str, Any] = {}
    if "SecurityGroups" in keep:
        out["SecurityGroups"] = _ids(attrs.get("SecurityGroups"), "GroupId", 50)
    if "NetworkInterfaces" in keep:
        enis = attrs.get("NetworkInterfaces")
        groups: list[str] = []
        for eni in enis[:20] if isinstance(enis, list) else []:
            if isinstance(eni, str):
                groups.append(eni)
            elif isinstance(eni, dict):
                groups.extend(_ids(eni.get("Groups"), "GroupId", 20))
        out["NetworkInterfaces"] = groups
    if "IamInstanceProfile" in keep:
        p = attrs.get("IamInstanceProfile")
        out["IamInstanceProfile"] = _str(p.get("Arn")) if isinstance(p, dict) else _str(p)
    if "InstanceProfiles" in keep:
        out["InstanceProfiles"] = _ids(attrs.get("InstanceProfiles"), "Arn", 50)
    for k in ("Role", "DBInstanceIdentifier"):
        if k in keep:
            out[k] = _str(attrs.get(k))
    return out


def _arn_parts(arn: str) -> list[str] | None:
    parts = arn.split(":", 5)
    return parts if len(parts) == 6 and parts[0] == "arn" else None


def _sg_arns(anchor: str, attrs: dict[str, Any]) -> list[str]:
    parts = _arn_parts(anchor)
    if parts is None:
        return []
    ids = {g for g in (*attrs.get("SecurityGroups", ()), *attrs.get("NetworkInterfaces", ())) if g}
    return sorted(f"arn:{parts[1]}:ec2:{parts[3]}:{parts[4]}:security-group/{g}" for g in ids)


def _db_arn(anchor: str, attrs: dict[str, Any]) -> list[str]:
    parts = _arn_parts(anchor)
    db = attrs.get("DBInstanceIdentifier") or ""
    if parts is None or not db:
        return []
    return [f"arn:{parts[1]}:rds:{parts[3]}:{parts[4]}:db:{db}"]


def index_entries(arn: str, rtype: str, attrs: dict[str, Any]) -> list[tuple[str, str]]:
    """Where a resource is filed for reverse lookups."""
    if rtype == "aws.ec2.instance":
        out = [("sg-users", sg) for sg in _sg_arns(arn, attrs)]
        profile = attrs.get("IamInstanceProfile") or ""
        if profile:
            out.append(("profile-instances", profile))
        return out
    if rtype == "aws.iam.role":
        return [("profile-role", p) for p in attrs.get("InstanceProfiles", ()) if p]
    if rtype == "aws.lambda.function":
        role = attrs.get("Role") or ""
        return [("role-functions", role)] if role else []
    if rtype == "aws.rds.snapshot":
        return [("db-snapshots", db) for db in _db_arn(arn, attrs)]
    return []


Forward = Callable[[str, dict[str, Any], Graph], list[str]]
Reverse = Callable[[str, Graph], list[str]]


@dataclass(frozen=True, slots=True)
class Relation:
    name: str
    anchor: str | None  # the anchor type it applies to (None: any)
    forward: Forward
    reverse: Reverse
    doc: str


def _self_reverse(target: str, g: Graph) -> list[str]:
    return [target]


def _role_instances(target: str, g: Graph) -> list[str]:
    found = g.resource(target)
    if found is None:
        return []
    return sorted({i for p in found[1].get("InstanceProfiles", ()) for i in g.lookup("profile-instances", p)})


def _instance_role(anchor: str, attrs: dict[str, Any], g: Graph) -> list[str]:
    profile = attrs.get("IamInstanceProfile") or ""
    return list(g.lookup("profile-role", profile)) if profile else []


RELATIONS: dict[str, Relation] = {
    r.name: r
    for r in (
        Relation("self", None, lambda a, attrs, g: [a], _self_reverse, "the anchor itself"),
        Relation(
            "instance_security_groups",
            "aws.ec2.instance",
            lambda a, attrs, g: _sg_arns(a, attrs),
            lambda t, g: list(g.lookup("sg-users", t)),
            "the instance's security groups (instance and network interfaces)",
        ),
        Relation(
            "instance_role",
            "aws.ec2.instance",
            _instance_role,
            _role_instances,
            "the role in the instance's instance profile",
        ),
        Relation(
            "function_role",
            "aws.lambda.function",
            lambda a, attrs, g: [attrs["Role"]] if attrs.get("Role") else [],
            lambda t, g: list(g.lookup("role-functions", t)),
            "the function's execution role",
        ),
        Relation(
            "snapshot_source_db",
            "aws.rds.snapshot",
            lambda a, attrs, g: _db_arn(a, attrs),
            lambda t, g: list(g.lookup("db-snapshots", t)),
            "the DB instance the snapshot was taken from",
        ),
    )
}
