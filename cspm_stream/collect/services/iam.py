"""IAM (global): users, roles, groups, customer-managed policies, account settings.

Attribute shapes (beyond the list item):

* users: ``LoginProfile`` (null = no console password), ``MFADevices``, ``AccessKeys``
  (each key's metadata plus ``AccessKeyLastUsed``), ``AttachedPolicies``,
  ``UserPolicies`` ([{PolicyName, PolicyDocument (dict)}]), ``Groups``, ``Tags``,
  ``CredentialReport`` (this user's row of the credential report, CSV column names),
  ``PermissionsBoundary`` ({PermissionsBoundaryType, PermissionsBoundaryArn}; null = none);
* roles: ``AssumeRolePolicyDocument`` parsed, ``AttachedPolicies``, ``RolePolicies``, ``Tags``,
  ``PermissionsBoundary`` (as users), ``InstanceProfiles`` ([{InstanceProfileName, InstanceProfileId, Arn}]);
* groups: ``AttachedPolicies``, ``GroupPolicies``, ``Users``;
* policies (Scope=Local): ``PolicyVersion`` (default version, ``Document`` parsed),
  ``PolicyVersions`` ([{VersionId, IsDefaultVersion, CreateDate}], with ``Document`` parsed for
  each non-default version: iam:SetDefaultPolicyVersion can make one current);
* ``aws.iam.aws_managed_policy``: the AWS managed policies attached to something in the account
  (Scope=AWS, OnlyAttached), with ``PolicyVersion`` (default version, ``Document`` parsed): the
  permissions they grant are needed to compute effective permissions (:mod:`cspm_stream.iamgraph`);
* ``aws.iam.account``: ``PasswordPolicy`` (null = none; moto's ``MaxPasswordAge: 0``
  is dropped, as AWS omits it), ``AccountSummary`` (SummaryMap), ``VirtualMFADevices``
  and ``CredentialReport`` (the root account's row(s) only).
"""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any

from cspm_stream.collect.faults import CallFailed
from cspm_stream.collect.normalize import parse_policy
from cspm_stream.collect.spec import (
    Calls,
    Detail,
    Item,
    ResourceSpec,
    account_arn,
    account_id,
    key,
    member,
    tags_from_list,
)

REPORT_POLLS = 15


async def _credential_report(calls: Calls) -> list[dict[str, str]]:
    async def build() -> list[dict[str, str]]:
        for _ in range(REPORT_POLLS):
            state = await calls.call("iam", "generate_credential_report")
            if state.get("State") == "COMPLETE":
                break
            await asyncio.sleep(1.0)
        resp = await calls.call("iam", "get_credential_report")
        content = resp.get("Content", b"")
        text = content.decode("utf-8") if isinstance(content, bytes | bytearray) else str(content)
        return [dict(row) for row in csv.DictReader(io.StringIO(text))]

    rows: list[dict[str, str]] = await calls.cached("iam-credential-report", build)
    return rows


async def _user_report_row(calls: Calls, item: Item) -> Any:
    rows = await _credential_report(calls)
    for row in rows:
        if row.get("user") == item["UserName"]:
            return row
    return None


async def _root_report(calls: Calls, item: Item) -> Any:
    return [r for r in await _credential_report(calls) if r.get("user") == "<root_account>"]


async def _access_keys(calls: Calls, item: Item) -> Any:
    keys = await calls.paginate("iam", "list_access_keys", "AccessKeyMetadata", UserName=item["UserName"])
    for k in keys:
        used = await calls.call("iam", "get_access_key_last_used", AccessKeyId=k["AccessKeyId"])
        k["AccessKeyLastUsed"] = used.get("AccessKeyLastUsed")
    return keys


def _inline(kind: str) -> Any:
    """Inline policies of a user/role/group: names, then each document (parsed)."""
    name_key = {"user": "UserName", "role": "RoleName", "group": "GroupName"}[kind]

    async def get(calls: Calls, item: Item) -> Any:
        names = await calls.paginate("iam", f"list_{kind}_policies", "PolicyNames", **{name_key: item[name_key]})
        out = []
        for n in names:
            doc = await calls.call("iam", f"get_{kind}_policy", **{name_key: item[name_key], "PolicyName": n})
            out.append({"PolicyName": n, "PolicyDocument": parse_policy(doc.get("PolicyDocument"))})
        return out

    return get


async def _group_users(calls: Calls, item: Item) -> Any:
    return await calls.paginate("iam", "get_group", "Users", GroupName=item["GroupName"])


async def _password_policy(calls: Calls, item: Item) -> Any:
    try:
        resp = await calls.call("iam", "get_account_password_policy")
    except CallFailed as exc:
        if exc.fault.code == "NoSuchEntity":
            return None
        raise
    policy = dict(resp.get("PasswordPolicy") or {})
    if policy.get("MaxPasswordAge") == 0:  # moto's "never expires"; AWS omits the field
        policy.pop("MaxPasswordAge")
    return policy


def _by(name: str) -> Any:
    return lambda item: {name: item[name]}


def _role_post(item: Item) -> Item:
    item["AssumeRolePolicyDocument"] = parse_policy(item.get("AssumeRolePolicyDocument"))
    return item


def _boundary(member_name: str) -> Any:
    def get(resp: dict[str, Any]) -> Any:
        body = resp.get(member_name)
        return body.get("PermissionsBoundary") if isinstance(body, dict) else None

    get.__name__ = f"boundary_of_{member_name}"
    return get


async def _instance_profiles(calls: Calls, item: Item) -> Any:
    found = await calls.paginate(
        "iam", "list_instance_profiles_for_role", "InstanceProfiles", RoleName=item["RoleName"]
    )
    keep = ("InstanceProfileName", "InstanceProfileId", "Arn")
    return [{k: p.get(k) for k in keep} for p in found if isinstance(p, dict)]


async def _policy_versions(calls: Calls, item: Item) -> Any:
    """Every version's metadata; the document of each non-default one (ListPolicyVersions has none)."""
    versions = await calls.paginate("iam", "list_policy_versions", "Versions", PolicyArn=item["Arn"])
    out = []
    for v in versions:
        entry = {k: v.get(k) for k in ("VersionId", "IsDefaultVersion", "CreateDate")}
        if not v.get("IsDefaultVersion"):
            resp = await calls.call("iam", "get_policy_version", PolicyArn=item["Arn"], VersionId=v["VersionId"])
            entry["Document"] = parse_policy((resp.get("PolicyVersion") or {}).get("Document"))
        out.append(entry)
    return out


def _policy_version(resp: dict[str, Any]) -> Any:
    pv = dict(resp.get("PolicyVersion") or {})
    pv["Document"] = parse_policy(pv.get("Document"))
    return pv


SPECS = [
    ResourceSpec(
        resource_type="aws.iam.user",
        service="iam",
        list_op="list_users",
        items="Users",
        id=key("UserName"),
        arn=key("Arn"),
        global_=True,
        tags=tags_from_list(),
        details=(
            Detail(
                "LoginProfile",
                "get_login_profile",
                _by("UserName"),
                member("LoginProfile"),
                frozenset({"NoSuchEntity"}),
            ),
            Detail("MFADevices", "list_mfa_devices", _by("UserName"), paginate_items="MFADevices"),
            Detail("AccessKeys", fn=_access_keys),
            Detail(
                "AttachedPolicies", "list_attached_user_policies", _by("UserName"), paginate_items="AttachedPolicies"
            ),
            Detail("UserPolicies", fn=_inline("user")),
            Detail("Groups", "list_groups_for_user", _by("UserName"), paginate_items="Groups"),
            Detail("Tags", "list_user_tags", _by("UserName"), paginate_items="Tags"),
            Detail("CredentialReport", fn=_user_report_row),
            Detail("PermissionsBoundary", "get_user", _by("UserName"), _boundary("User")),
        ),
    ),
    ResourceSpec(
        resource_type="aws.iam.role",
        service="iam",
        list_op="list_roles",
        items="Roles",
        id=key("RoleName"),
        arn=key("Arn"),
        global_=True,
        tags=tags_from_list(),
        post=_role_post,
        details=(
            Detail(
                "AttachedPolicies", "list_attached_role_policies", _by("RoleName"), paginate_items="AttachedPolicies"
            ),
            Detail("RolePolicies", fn=_inline("role")),
            Detail("Tags", "list_role_tags", _by("RoleName"), paginate_items="Tags"),
            Detail("PermissionsBoundary", "get_role", _by("RoleName"), _boundary("Role")),
            Detail("InstanceProfiles", fn=_instance_profiles),
        ),
    ),
    ResourceSpec(
        resource_type="aws.iam.group",
        service="iam",
        list_op="list_groups",
        items="Groups",
        id=key("GroupName"),
        arn=key("Arn"),
        global_=True,
        details=(
            Detail(
                "AttachedPolicies", "list_attached_group_policies", _by("GroupName"), paginate_items="AttachedPolicies"
            ),
            Detail("GroupPolicies", fn=_inline("group")),
            Detail("Users", fn=_group_users),
        ),
    ),
    ResourceSpec(
        resource_type="aws.iam.policy",
        service="iam",
        list_op="list_policies",
        list_params={"Scope": "Local"},
        items="Policies",
        id=key("PolicyName"),
        arn=key("Arn"),
        global_=True,
        tags=tags_from_list(),
        details=(
            Detail(
                "PolicyVersion",
                "get_policy_version",
                lambda i: {"PolicyArn": i["Arn"], "VersionId": i["DefaultVersionId"]},
                _policy_version,
            ),
            Detail("PolicyVersions", fn=_policy_versions),
        ),
    ),
    ResourceSpec(
        resource_type="aws.iam.aws_managed_policy",
        service="iam",
        list_op="list_policies",
        list_params={"Scope": "AWS", "OnlyAttached": True},
        items="Policies",
        id=key("PolicyName"),
        arn=key("Arn"),
        global_=True,
        details=(
            Detail(
                "PolicyVersion",
                "get_policy_version",
                lambda i: {"PolicyArn": i["Arn"], "VersionId": i["DefaultVersionId"]},
                _policy_version,
            ),
        ),
    ),
    ResourceSpec(
        resource_type="aws.iam.account",
        service="iam",
        list_op=None,
        id=account_id,
        arn=account_arn("iam"),
        global_=True,
        details=(
            Detail("PasswordPolicy", fn=_password_policy),
            Detail("AccountSummary", "get_account_summary", extract=member("SummaryMap")),
            Detail("VirtualMFADevices", "list_virtual_mfa_devices", paginate_items="VirtualMFADevices"),
            Detail("CredentialReport", fn=_root_report),
        ),
    ),
]
