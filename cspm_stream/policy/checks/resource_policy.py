"""Resource policy principal analysis: is a bucket/queue/topic/key policy public?

A statement makes the resource public when it is an ``Allow`` to everyone
(``"*"``, ``{"AWS": "*"}``, ``arn:aws:iam::*:root``, ...) and no condition narrows
the caller to a known network or organisation. Narrowing conditions use a
positive operator (StringEquals/Like, ArnEquals/Like, IpAddress, ForAnyValue:...)
without ``IfExists`` on one of: aws:SourceVpce, aws:SourceVpc, aws:SourceArn,
aws:SourceAccount, aws:SourceOwner, aws:PrincipalOrgID, aws:PrincipalOrgPaths,
aws:PrincipalAccount, aws:PrincipalArn, aws:userid, aws:SourceIp (unless it is
0.0.0.0/0 or ::/0), kms:CallerAccount, sns:Endpoint — with a value that names
something: under a wildcard operator (StringLike, ArnLike, ArnEquals) a value whose
account, organisation, endpoint or ARN account field is a wildcard (``o-*``,
``arn:aws:iam::*:role/*``) narrows nothing; under StringEquals ``*`` is a literal.
``ForAllValues:`` does not narrow an Allow (it is true when the key is absent from
the request), nor does ``kms:ViaService`` alone (a caller of any account can use
the key through the service). EFS's ``Bool elasticfilesystem:AccessedViaMountTarget
true`` (the console's "prevent anonymous access") limits access to NFS clients of
the file system's mount targets, in its VPC: not public.
A public Allow is also neutralised by a public ``Deny`` of the same actions whose
condition denies every caller outside such a narrowing key (StringNotEquals...,
IfExists and ForAllValues included: both are true, so deny, when the key is absent;
``ForAnyValue:`` is false then and does not).
"""

from __future__ import annotations

from typing import Any

from cspm_stream.policy.checks.base import Arg, Check, Compiled, register
from cspm_stream.policy.checks.statements import as_list, grants_action, is_allow, is_deny, statements
from cspm_stream.policy.paths import MISSING, compile_path

NARROWING_KEYS = frozenset(
    k.lower()
    for k in (
        "aws:SourceVpce",
        "aws:SourceVpc",
        "aws:SourceArn",
        "aws:SourceAccount",
        "aws:SourceOwner",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "aws:userid",
        "aws:SourceIp",
        "kms:CallerAccount",
        "sns:Endpoint",
    )
)
#: keys whose value is an ARN: a wildcard in its account field (or the whole ARN) names any account
_ARN_KEYS = frozenset(("aws:sourcearn", "aws:principalarn"))
#: operators that read ``*`` and ``?`` as wildcards
_WILDCARD_OPS = frozenset(("stringlike", "stringnotlike", "arnlike", "arnnotlike", "arnequals", "arnnotequals"))
_POSITIVE_OPS = ("stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike", "ipaddress")
_NEGATIVE_OPS = (
    "stringnotequals",
    "stringnotequalsignorecase",
    "stringnotlike",
    "arnnotequals",
    "arnnotlike",
    "notipaddress",
)
_WORLD = ("0.0.0.0/0", "::/0")


def _principal_values(p: Any) -> list[str]:
    if isinstance(p, str):
        return [p]
    if isinstance(p, dict):
        out: list[str] = []
        for k, v in p.items():
            if k == "Service":  # a service principal is not "everyone"
                continue
            out.extend(x for x in as_list(v) if isinstance(x, str))
        return out
    return []


def principal_is_public(st: dict[str, Any]) -> bool:
    """``Principal`` names everyone (or any account); ``NotPrincipal`` with Allow too."""
    if "NotPrincipal" in st:
        return True
    for v in _principal_values(st.get("Principal")):
        if v == "*" or v.startswith("arn:aws:iam::*:") or v == "arn:aws:iam::*:root":
            return True
    return False


def _op_name(op: str) -> tuple[str, bool, str]:
    """Lower-cased base operator, whether it ends with IfExists, and its set qualifier ("" or forallvalues/...)."""
    qualifier, _, base = op.rpartition(":")  # ForAnyValue:/ForAllValues:
    base = base.lower()
    if base.endswith("ifexists"):
        return base[: -len("ifexists")], True, qualifier.lower()
    return base, False, qualifier.lower()


def _wild(text: str) -> bool:
    return "*" in text or "?" in text


def _broad(value: str, key: str, op: str) -> bool:
    """Does this condition value leave the caller unrestricted (any account, org, network)?"""
    v = value.strip()
    if key == "aws:sourceip":
        return v in _WORLD
    if not v:
        return True
    if op not in _WILDCARD_OPS:
        return False  # StringEquals & co. compare literally: "*" matches only "*"
    if not _wild(v):
        return False
    if key in _ARN_KEYS:
        parts = v.split(":", 5)
        if len(parts) < 6:
            return True  # "*", "arn:aws:*": any ARN
        account, resource = parts[4], parts[5]
        if account == "":  # S3 bucket ARNs: the bucket name is the restriction
            return resource.strip("*?/") == ""
        return _wild(account)
    if key == "aws:principalorgpaths":
        return _wild(v.split("/", 1)[0])
    if key == "aws:userid":
        return _wild(v.split(":", 1)[0])
    if key == "sns:endpoint":
        return v.strip("*?") == "" or v.rstrip("*?") in ("http://", "https://", "")
    return True  # an account, organisation, VPC (endpoint) id with a wildcard


def _narrows(value: Any, key: str, op: str) -> bool:
    vals = [str(v) for v in as_list(value) if isinstance(v, str | int) and not isinstance(v, bool)]
    if not vals:
        return False
    return not any(_broad(v, key, op) for v in vals)


def condition_narrows(cond: Any, ops: tuple[str, ...]) -> bool:
    """A condition block contains a narrowing key under one of ``ops``.

    ``ops`` positive (an Allow): ``IfExists`` and ``ForAllValues:`` do not narrow (true when the key is
    absent). ``ops`` negative (a Deny of everyone else): ``ForAnyValue:`` does not (false when absent).
    """
    if not isinstance(cond, dict):
        return False
    negative = ops is _NEGATIVE_OPS
    for op, body in cond.items():
        if not isinstance(op, str) or not isinstance(body, dict):
            continue
        base, if_exists, qualifier = _op_name(op)
        if base not in ops:
            continue
        if negative:
            if qualifier == "foranyvalue":
                continue
        elif if_exists or qualifier == "forallvalues":
            continue
        for key, value in body.items():
            k = str(key).lower()
            if k in NARROWING_KEYS and _narrows(value, k, base):
                return True
    return False


def _efs_mount_target_only(cond: Any) -> bool:
    if not isinstance(cond, dict):
        return False
    for op, body in cond.items():
        if isinstance(op, str) and op.lower() == "bool" and isinstance(body, dict):
            for key, value in body.items():
                if str(key).lower() == "elasticfilesystem:accessedviamounttarget":
                    vals = as_list(value)
                    if vals and all(str(v).lower() == "true" for v in vals):
                        return True
    return False


def _action_matches(st: dict[str, Any], wanted: list[str]) -> bool:
    return not wanted or any(grants_action(st, a) for a in wanted)


def _deny_covers(deny: dict[str, Any], allow: dict[str, Any]) -> bool:
    """Does a public Deny with a negated narrowing condition cover the Allow's actions?"""
    if not principal_is_public(deny) or not condition_narrows(deny.get("Condition"), _NEGATIVE_OPS):
        return False
    if "NotAction" in allow:
        return grants_action(deny, "*") or any(p in ("*", "*:*") for p in as_list(deny.get("Action")))
    acts = [a for a in as_list(allow.get("Action")) if isinstance(a, str)]
    if not acts:
        return False
    return all(grants_action(deny, a) or _wild_covers(deny, a) for a in acts)


def _wild_covers(deny: dict[str, Any], action_pattern: str) -> bool:
    # "s3:*" in the Allow is covered by "s3:*" or "*" in the Deny
    return any(p in ("*", "*:*", action_pattern) for p in as_list(deny.get("Action")))


def policy_is_public(doc: Any, actions: list[str] | None = None) -> bool:
    """True when the resource policy grants ``actions`` (default any) to everyone."""
    sts = statements(doc)
    wanted = actions or []
    denies = [st for st in sts if is_deny(st)]
    for st in sts:
        if not is_allow(st) or not principal_is_public(st) or not _action_matches(st, wanted):
            continue
        cond = st.get("Condition")
        if condition_narrows(cond, _POSITIVE_OPS) or _efs_mount_target_only(cond):
            continue
        if any(_deny_covers(d, st) for d in denies):
            continue
        return True
    return False


def _build(args: dict[str, Any]) -> Compiled:
    path = compile_path(args["path"])
    get, proj = path.get, path.projection
    actions: list[str] = args["actions"]

    def pred(doc: Any, ctx: Any) -> bool:
        v = get(doc, ctx)
        if v is MISSING or v is None:
            return False
        docs = v if proj and isinstance(v, list) else [v]
        return any(policy_is_public(d, actions) for d in docs)

    return Compiled(pred, (path,))


_ARGS = {
    "path": Arg("path", "Policy", doc="path to the resource policy document (parsed dict)"),
    "actions": Arg("strings", [], doc="only statements granting one of these actions count (default: any)"),
}

register(
    Check(
        name="s3_policy_public",
        doc="The bucket policy at `path` grants access to everyone without a narrowing condition.",
        args=_ARGS,
        build=_build,
    )
)
register(
    Check(
        name="resource_policy_public",
        doc="A resource policy (SQS, SNS, KMS, Lambda, ECR, ...) at `path` grants access to everyone "
        "without a narrowing condition. Same analysis as s3_policy_public.",
        args=_ARGS,
        build=_build,
    )
)
