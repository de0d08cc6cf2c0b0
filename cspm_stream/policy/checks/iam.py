"""IAM policy document checks: full admin (``*:*``) and "allows these actions"."""

from __future__ import annotations

from typing import Any

from cspm_stream.policy.checks.base import Arg, Check, CheckArgError, Compiled, register
from cspm_stream.policy.checks.statements import (
    all_actions,
    all_resources,
    as_list,
    grants_action,
    has_condition,
    iam_match,
    is_allow,
    is_deny,
    resource_covers,
    statements,
)
from cspm_stream.policy.paths import MISSING, compile_path

#: IAM actions any one of which lets a principal grant itself every permission (attach or write a policy
#: to itself, its group or a role it can assume; replace a policy's default version). A NotAction grant
#: or a Deny is only "not admin" when it removes ALL of them: excluding iam:PassRole alone leaves
#: iam:AttachUserPolicy, one call away from AdministratorAccess.
_SELF_GRANT_ACTIONS = (
    "iam:AttachUserPolicy",
    "iam:AttachGroupPolicy",
    "iam:AttachRolePolicy",
    "iam:PutUserPolicy",
    "iam:PutGroupPolicy",
    "iam:PutRolePolicy",
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:AddUserToGroup",
    "iam:UpdateAssumeRolePolicy",
)


def _denies_privilege(st: dict[str, Any]) -> bool:
    """An unconditional Deny on ``*`` that removes everything or every self-grant IAM action."""
    if not is_deny(st) or has_condition(st) or not all_resources(st):
        return False
    if "NotAction" in st:
        return True  # denies everything except a few actions
    return all(grants_action(st, a) for a in _SELF_GRANT_ACTIONS)


def document_allows_admin(doc: Any, *, include_conditional: bool = True, not_action: bool = True) -> bool:
    """True when the document grants every action on every resource.

    * ``Allow`` + ``Action: "*"``/``"*:*"`` + ``Resource: "*"`` is admin.
    * ``Allow`` + ``NotAction`` + ``Resource: "*"`` is admin unless the NotAction list
      excludes every self-grant IAM action (PowerUserAccess excludes ``iam:*``; excluding
      only ``iam:PassRole`` still allows ``iam:AttachUserPolicy``: admin).
    * An unconditional ``Deny`` on ``*`` of everything (NotAction) or of every self-grant
      IAM action cancels it. Conditional allows count unless ``include_conditional`` is false.
    """
    sts = statements(doc)
    admin = False
    for st in sts:
        if not is_allow(st) or not all_resources(st):
            continue
        if not include_conditional and has_condition(st):
            continue
        if all_actions(st):
            admin = True
        elif not_action and "NotAction" in st:
            excluded = [p for p in as_list(st["NotAction"]) if isinstance(p, str)]
            if not all(any(iam_match(p, a) for p in excluded) for a in _SELF_GRANT_ACTIONS):
                admin = True
        if admin:
            break
    if not admin:
        return False
    return not any(_denies_privilege(st) for st in sts)


def document_allows(doc: Any, actions: list[str], resource: str, *, include_conditional: bool = True) -> bool:
    """True when some Allow statement grants any of ``actions`` on ``resource`` and no
    unconditional Deny removes that action on it."""
    sts = statements(doc)
    for action in actions:
        allowed = any(
            is_allow(st)
            and (include_conditional or not has_condition(st))
            and grants_action(st, action)
            and resource_covers(st, resource)
            for st in sts
        )
        if not allowed:
            continue
        denied = any(
            is_deny(st) and not has_condition(st) and grants_action(st, action) and resource_covers(st, resource)
            for st in sts
        )
        if not denied:
            return True
    return False


def _docs(value: Any, projection: bool) -> list[Any]:
    if value is MISSING or value is None:
        return []
    if projection and isinstance(value, list):
        return value
    return [value]


def _build_admin(args: dict[str, Any]) -> Compiled:
    path = compile_path(args["path"])
    get, proj = path.get, path.projection
    inc, na = args["include_conditional"], args["not_action"]

    def pred(doc: Any, ctx: Any) -> bool:
        return any(document_allows_admin(d, include_conditional=inc, not_action=na) for d in _docs(get(doc, ctx), proj))

    return Compiled(pred, (path,))


def _build_allows(args: dict[str, Any]) -> Compiled:
    path = compile_path(args["path"])
    get, proj = path.get, path.projection
    actions, resource, inc = args["actions"], args["resource"], args["include_conditional"]
    if not actions:
        raise CheckArgError("actions", "must list at least one action")

    def pred(doc: Any, ctx: Any) -> bool:
        return any(document_allows(d, actions, resource, include_conditional=inc) for d in _docs(get(doc, ctx), proj))

    return Compiled(pred, (path,))


register(
    Check(
        name="iam_policy_allows_admin",
        doc="The IAM policy document(s) at `path` allow every action on every resource (*:*), "
        "NotAction/Deny aware. `path` may be a projection (any document).",
        args={
            "path": Arg("path", "PolicyVersion.Document", doc="path to a policy document or a projection of them"),
            "include_conditional": Arg("boolean", True, doc="count Allow statements that carry a Condition"),
            "not_action": Arg("boolean", True, doc="count Allow+NotAction on * that keeps IAM privileges"),
        },
        build=_build_admin,
    )
)

register(
    Check(
        name="iam_policy_allows",
        doc="The IAM policy document(s) at `path` allow any of `actions` on `resource` "
        "(default '*': the literal all-resources wildcard), minus unconditional Denies.",
        args={
            "path": Arg("path", "PolicyVersion.Document", doc="path to a policy document or a projection of them"),
            "actions": Arg("strings", required=True, doc="IAM actions, e.g. kms:Decrypt"),
            "resource": Arg("string", "*", doc="resource ARN the grant must cover"),
            "include_conditional": Arg("boolean", True, doc="count Allow statements that carry a Condition"),
        },
        build=_build_allows,
    )
)
