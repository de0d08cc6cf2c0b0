"""IAM actions: access keys, login profiles, AdministratorAccess, account password policy."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cspm_stream.models import RemediationCommand
from cspm_stream.remediate.base import Action, ApiCall, Clients, aws, aws_or_none, register, tag_list
from cspm_stream.timeutil import iso, now, parse_iso

IAM_REGION = "us-east-1"  # IAM is global; its API lives in us-east-1 (aws partition)


def _partition(cmd: RemediationCommand) -> str:
    parts = cmd.resource_arn.split(":")
    return parts[1] if len(parts) > 1 and parts[1] else "aws"


class UserAction(Action):
    """An action on an IAM user (its tags read for the guard); the base of every user action."""

    resource_types = ("aws.iam.user",)
    tag_permissions = ("iam:ListUserTags",)

    async def tags(self, cx: Clients, cmd: RemediationCommand) -> dict[str, str]:
        r = await aws(cx, "iam", IAM_REGION, "list_user_tags", UserName=cmd.resource_id)
        return tag_list(r.get("Tags"))


@register
class IamDeactivateAccessKey(UserAction):
    name = "iam_deactivate_access_key"
    summary = (
        "Deactivate (not delete) the user's access keys named in params.access_key_ids, or else its active "
        "keys older than params.max_age_days (default 90)."
    )
    read_permissions = ("iam:ListAccessKeys",)
    write_permissions = ("iam:UpdateAccessKey",)

    async def check(self, cx: Clients, cmd: RemediationCommand) -> dict[str, Any]:
        r = await aws(cx, "iam", IAM_REGION, "list_access_keys", UserName=cmd.resource_id)
        keys = [
            {"AccessKeyId": k["AccessKeyId"], "Status": k["Status"], "CreateDate": _iso(k.get("CreateDate"))}
            for k in r.get("AccessKeyMetadata", [])
        ]
        state: dict[str, Any] = {"AccessKeys": keys, "CheckedAt": iso(now())}
        state["Targets"] = self._targets(cmd, state)
        return state

    def _targets(self, cmd: RemediationCommand, state: dict[str, Any]) -> list[str]:
        active = [k for k in state["AccessKeys"] if k["Status"] == "Active"]
        wanted = cmd.params.get("access_key_ids") or (
            [cmd.params["access_key_id"]] if cmd.params.get("access_key_id") else None
        )
        if wanted:
            return [k["AccessKeyId"] for k in active if k["AccessKeyId"] in wanted]
        cutoff = parse_iso(state["CheckedAt"]) - dt.timedelta(days=int(cmd.params.get("max_age_days", 90)))
        return [k["AccessKeyId"] for k in active if k["CreateDate"] and parse_iso(k["CreateDate"]) < cutoff]

    def compliant(self, state: dict[str, Any]) -> bool:
        return not state["Targets"]

    def plan(self, cmd: RemediationCommand, state: dict[str, Any]) -> list[ApiCall]:
        return [
            ApiCall(
                "iam",
                "update_access_key",
                IAM_REGION,
                {"UserName": cmd.resource_id, "AccessKeyId": key, "Status": "Inactive"},
            )
            for key in state["Targets"]
        ]


def _iso(v: Any) -> str:
    if isinstance(v, dt.datetime):
        return iso(v if v.tzinfo else v.replace(tzinfo=dt.UTC))
    return str(v or "")


@register
class IamDeleteLoginProfile(UserAction):
    name = "iam_delete_login_profile"
    summary = "Delete the user's console password (login profile); access keys are untouched."
    read_permissions = ("iam:GetLoginProfile",)
    write_permissions = ("iam:DeleteLoginProfile",)

    async def check(self, cx: Clients, cmd: RemediationCommand) -> dict[str, Any]:
        r = await aws_or_none(
            cx, "iam", IAM_REGION, "get_login_profile", UserName=cmd.resource_id, absent="NoSuchEntity"
        )
        if r is None:
            return {"LoginProfile": None}
        lp = r.get("LoginProfile", {})
        return {"LoginProfile": {"CreateDate": _iso(lp.get("CreateDate"))}}

    def compliant(self, state: dict[str, Any]) -> bool:
        return state["LoginProfile"] is None

    def plan(self, cmd: RemediationCommand, state: dict[str, Any]) -> list[ApiCall]:
        return [ApiCall("iam", "delete_login_profile", IAM_REGION, {"UserName": cmd.resource_id})]


_PRINCIPAL = {
    "aws.iam.user": ("User", "UserName"),
    "aws.iam.role": ("Role", "RoleName"),
    "aws.iam.group": ("Group", "GroupName"),
}


_ENTITY_LISTS = ("PolicyUsers", "PolicyRoles", "PolicyGroups")


@register
class IamDetachAdminPolicy(Action):
    name = "iam_detach_admin_policy"
    summary = (
        "Detach AWS managed AdministratorAccess from the user, role or group; for an admin-granting "
        "customer-managed policy (aws.iam.policy), detach that policy from every principal using it."
    )
    resource_types = (*_PRINCIPAL, "aws.iam.policy")
    read_permissions = (
        "iam:ListAttachedUserPolicies",
        "iam:ListAttachedRolePolicies",
        "iam:ListAttachedGroupPolicies",
        "iam:ListEntitiesForPolicy",
    )
    write_permissions = ("iam:DetachUserPolicy", "iam:DetachRolePolicy", "iam:DetachGroupPolicy")
    tag_permissions = ("iam:ListUserTags", "iam:ListRoleTags", "iam:ListPolicyTags")

    def _kind(self, cmd: RemediationCommand) -> tuple[str, str]:
        return _PRINCIPAL.get(cmd.resource_type, _PRINCIPAL["aws.iam.user"])

    def _admin_arn(self, cmd: RemediationCommand) -> str:
        return f"arn:{_partition(cmd)}:iam::aws:policy/AdministratorAccess"

    async def check(self, cx: Clients, cmd: RemediationCommand) -> dict[str, Any]:
        if cmd.resource_type == "aws.iam.policy":
            # a customer-managed policy granting admin: detach it from every principal using it
            r = await aws(cx, "iam", IAM_REGION, "list_entities_for_policy", PolicyArn=cmd.resource_arn)
            return {
                "AdminPolicyArn": cmd.resource_arn,
                "Entities": {k: [e[f"{k[6:-1]}Name"] for e in r.get(k, [])] for k in _ENTITY_LISTS},
            }
        kind, key = self._kind(cmd)
        r = await aws(cx, "iam", IAM_REGION, f"list_attached_{kind.lower()}_policies", **{key: cmd.resource_id})
        attached = r.get("AttachedPolicies", [])
        admin = self._admin_arn(cmd)
        hit = [cmd.resource_id] if any(p.get("PolicyArn") == admin for p in attached) else []
        return {"AdminPolicyArn": admin, "AttachedPolicies": attached, "Entities": {f"Policy{kind}s": hit}}

    def compliant(self, state: dict[str, Any]) -> bool:
        return not any(state["Entities"].values())

    def plan(self, cmd: RemediationCommand, state: dict[str, Any]) -> list[ApiCall]:
        out = []
        for listname, names in state["Entities"].items():
            kind = listname[6:-1]  # PolicyUsers -> User
            for n in names:
                params = {f"{kind}Name": n, "PolicyArn": state["AdminPolicyArn"]}
                out.append(ApiCall("iam", f"detach_{kind.lower()}_policy", IAM_REGION, params))
        return out

    async def tags(self, cx: Clients, cmd: RemediationCommand) -> dict[str, str]:
        if cmd.resource_type == "aws.iam.policy":
            r = await aws(cx, "iam", IAM_REGION, "list_policy_tags", PolicyArn=cmd.resource_arn)
            return tag_list(r.get("Tags"))
        kind, key = self._kind(cmd)
        if kind == "Group":
            return {}  # IAM groups cannot be tagged
        r = await aws(cx, "iam", IAM_REGION, f"list_{kind.lower()}_tags", **{key: cmd.resource_id})
        return tag_list(r.get("Tags"))


#: CIS AWS Foundations baseline; stronger existing values are never weakened
PASSWORD_BASELINE: dict[str, Any] = {
    "MinimumPasswordLength": 14,
    "RequireSymbols": True,
    "RequireNumbers": True,
    "RequireUppercaseCharacters": True,
    "RequireLowercaseCharacters": True,
    "AllowUsersToChangePassword": True,
    "PasswordReusePrevention": 24,
}
_KEPT = ("MaxPasswordAge", "HardExpiry")


@register
class IamSetPasswordPolicy(Action):
    name = "iam_set_password_policy"
    summary = (
        "Raise the account password policy to the CIS baseline (length 14, reuse 24, all character classes); "
        "stronger existing settings and expiry settings are kept; params override the baseline."
    )
    resource_types = ("aws.iam.account",)
    read_permissions = ("iam:GetAccountPasswordPolicy",)
    write_permissions = ("iam:UpdateAccountPasswordPolicy",)

    async def check(self, cx: Clients, cmd: RemediationCommand) -> dict[str, Any]:
        r = await aws_or_none(cx, "iam", IAM_REGION, "get_account_password_policy", absent="NoSuchEntity")
        if r is None:
            return {"PasswordPolicy": None}
        return {"PasswordPolicy": r.get("PasswordPolicy")}

    def _target(self, cmd: RemediationCommand, current: dict[str, Any]) -> dict[str, Any]:
        want = {**PASSWORD_BASELINE, **{k: v for k, v in cmd.params.items() if k in PASSWORD_BASELINE}}
        out: dict[str, Any] = {}
        for k, v in want.items():
            cur = current.get(k)
            if isinstance(v, bool):
                out[k] = bool(v or cur)
            else:
                out[k] = max(int(v), int(cur or 0))
        for k in _KEPT:
            if current.get(k):  # moto reports MaxPasswordAge 0 for "never expires": same as absent
                out[k] = current[k]
        return out

    def compliant(self, state: dict[str, Any]) -> bool:
        cur = state["PasswordPolicy"]
        if not isinstance(cur, dict):
            return False
        for k, v in PASSWORD_BASELINE.items():
            c = cur.get(k)
            if isinstance(v, bool):
                if v and not c:
                    return False
            elif int(c or 0) < int(v):
                return False
        return True

    def plan(self, cmd: RemediationCommand, state: dict[str, Any]) -> list[ApiCall]:
        cur = state["PasswordPolicy"] if isinstance(state["PasswordPolicy"], dict) else {}
        return [ApiCall("iam", "update_account_password_policy", IAM_REGION, self._target(cmd, cur))]
