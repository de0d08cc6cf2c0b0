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
from cspm_stream.policy.checks.statements import as_list, grants_action, iam_match, is_allow, is_deny, statements
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


#: web identity providers whose tokens anyone can obtain (a GitHub workflow of any repository, a Google account,
#: an identity of any Cognito pool): the condition keys (``<provider>:<key>``) that name whose token it is
_PUBLIC_IDPS: dict[str, tuple[str, ...]] = {
    "token.actions.githubusercontent.com": ("sub",),  # repo:OWNER/REPO:...
    "gitlab.com": ("sub",),  # project_path:GROUP/PROJECT:...
    "app.terraform.io": ("sub",),  # organization:ORG:project:...
    "cognito-identity.amazonaws.com": ("aud",),  # the identity pool id
    "accounts.google.com": ("aud", "oaud", "sub"),
    "graph.facebook.com": ("app_id", "id"),
    "www.amazon.com": ("app_id", "user_id"),
}
_SUBJECT_KEYS = frozenset(("sub",))


def _public_idps(st: dict[str, Any]) -> list[str]:
    """The shared web identity providers a statement's ``Federated`` principal names (host only)."""
    p = st.get("Principal")
    if not isinstance(p, dict):
        return []
    out = []
    for v in as_list(p.get("Federated")):
        if not isinstance(v, str):
            continue
        host = v.split(":oidc-provider/", 1)[1] if ":oidc-provider/" in v else v
        host = host.lower().removeprefix("https://").rstrip("/")
        if host in _PUBLIC_IDPS:
            out.append(host)
    return out


def _idp_value_broad(value: str, key: str, op: str) -> bool:
    v = value.strip()
    if not v:
        return True
    if op not in _WILDCARD_OPS or not _wild(v):
        return False  # StringEquals compares literally
    if key not in _SUBJECT_KEYS:
        return True  # an audience / app id with a wildcard names any
    # subject "<kind>:<owner>/<name>:..." or "<kind>:<owner>:...": the owner must be named
    _, _, rest = v.partition(":")
    owner = rest.replace("/", ":").split(":", 1)[0]
    return not rest or _wild(owner)


def _idp_narrowed(cond: Any, host: str) -> bool:
    """A condition names whose token the provider issued (``sub`` of one repository/owner, one ``aud``...)."""
    if not isinstance(cond, dict):
        return False
    keys = {f"{host}:{k}": k for k in _PUBLIC_IDPS[host]}
    for op, body in cond.items():
        if not isinstance(op, str) or not isinstance(body, dict):
            continue
        base, if_exists, qualifier = _op_name(op)
        if base not in ("stringequals", "stringequalsignorecase", "stringlike") or if_exists:
            continue
        if qualifier == "forallvalues":
            continue
        for key, value in body.items():
            short = keys.get(str(key).lower())
            if short is None:
                continue
            vals = [v for v in as_list(value) if isinstance(v, str)]
            if vals and not any(_idp_value_broad(v, short, base) for v in vals):
                return True
    return False


def federated_is_public(st: dict[str, Any]) -> bool:
    """An Allow trusting a shared web identity provider without a condition naming the subject or audience."""
    hosts = _public_idps(st)
    cond = st.get("Condition")
    return any(not _idp_narrowed(cond, h) for h in hosts)


def policy_is_public(doc: Any, actions: list[str] | None = None) -> bool:
    """True when the resource policy grants ``actions`` (default any) to everyone."""
    sts = statements(doc)
    wanted = actions or []
    denies = [st for st in sts if is_deny(st)]
    for st in sts:
        if not is_allow(st) or not _action_matches(st, wanted):
            continue
        if federated_is_public(st):
            return True
        if not principal_is_public(st):
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


# ---------------------------------------------------------------------------------- TLS-only policies


def _unpartition(arn: str) -> str:
    """``arn:aws-cn:s3:::b`` → ``arn:aws:s3:::b``: the partition never restricts a statement within an account."""
    parts = arn.split(":", 2)
    return f"arn:aws:{parts[2]}" if len(parts) == 3 and parts[0].lower() == "arn" else arn


def _insecure_transport_only(cond: Any) -> bool:
    """The condition is exactly ``Bool`` (or ``BoolIfExists``) ``aws:SecureTransport`` ``false``: key names
    and the boolean are case-insensitive; any further key or operator narrows the Deny (all must hold)."""
    if not isinstance(cond, dict) or len(cond) != 1:
        return False
    ((op, body),) = cond.items()
    if not isinstance(op, str) or op.lower() not in ("bool", "boolifexists") or not isinstance(body, dict):
        return False
    if len(body) != 1:
        return False
    ((key, value),) = body.items()
    vals = as_list(value)
    return (
        str(key).lower() == "aws:securetransport"
        and bool(vals)
        and all(str(v).lower() == "false" for v in vals if isinstance(v, str | bool))
        and all(isinstance(v, str | bool) for v in vals)
    )


def denies_insecure_transport(doc: Any, service: str, resources: list[str]) -> bool:
    """Some statement denies every caller every ``service`` action over plain HTTP on all of ``resources``
    (ARN examples; none: any resource): Effect Deny, Principal ``*`` (or AWS ``*``), an Action pattern
    matching ``<service>:*`` (``*``, ``s3:*``), and a condition that is only aws:SecureTransport false."""
    every = f"{service}:*"
    for st in statements(doc):
        if not is_deny(st) or "NotPrincipal" in st or not principal_is_public(st) or "NotAction" in st:
            continue
        if not any(isinstance(p, str) and iam_match(p, every) for p in as_list(st.get("Action"))):
            continue
        if not _insecure_transport_only(st.get("Condition")):
            continue
        if "NotResource" in st:
            continue
        patterns = [_unpartition(p) for p in as_list(st.get("Resource")) if isinstance(p, str)]
        if all(any(iam_match(p, _unpartition(r)) for p in patterns) for r in resources):
            return True
    return False


def _build_tls(args: dict[str, Any]) -> Compiled:
    path = compile_path(args["path"])
    get = path.get
    service: str = args["service"]
    rpath = compile_path(args["resource_path"]) if args["resource_path"] else None
    template: str = args["resource_format"]

    def pred(doc: Any, ctx: Any) -> bool:
        v = get(doc, ctx)
        if v is MISSING or v is None:
            return False
        resources: list[str] = []
        if rpath is not None:
            r = rpath.get(doc, ctx)
            if not isinstance(r, str) or not r:
                return False
            resources = [template.replace("{}", r) if template else r]
        return denies_insecure_transport(v, service, resources)

    paths = (path, rpath) if rpath is not None else (path,)
    return Compiled(pred, paths)


register(
    Check(
        name="policy_denies_insecure_transport",
        doc="The resource policy at `path` denies every caller every `service` action when aws:SecureTransport is "
        "false (condition key case-insensitive, no further condition narrowing the Deny), on the resource named at "
        "`resource_path` (formatted by `resource_format`, '{}' standing for it, e.g. 'arn:aws:s3:::{}/object': the "
        "bucket's objects).",
        args={
            "path": Arg("path", "Policy", doc="path to the resource policy document"),
            "service": Arg("string", required=True, doc="service prefix whose every action must be denied, e.g. s3"),
            "resource_path": Arg("string", "", doc="path to the resource's name or ARN (empty: any Resource)"),
            "resource_format": Arg("string", "", doc="ARN example built from the value at resource_path"),
        },
        build=_build_tls,
    )
)
