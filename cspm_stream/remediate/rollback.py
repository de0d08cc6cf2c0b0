"""Undo a remediation or response from its audit record: ``cspm-stream remediation rollback ID``.

Every action's result on ``remediation-results`` keeps ``before`` — the state the action
read just before it changed anything. A rollback re-reads the resource **now** with the
remediator's own role, plans the calls that put back what the action changed (and only
that: a key someone deleted meanwhile is not recreated, a group someone else changed
since is still restored to its recorded value), makes them, re-reads, and writes its own
audit record: command id ``rb-<same hash>`` (the rollback of ``rc-<hash>``), calls,
``before`` = the state it found, ``after`` = the state it left. A rollback of an id that
was already rolled back is refused, as is one whose action never succeeded.

Reversible actions and what their rollback does:

=================================  ==============================================================
``iam_quarantine_access_key``      reactivate the keys it deactivated (those still present)
``iam_revoke_role_sessions``       delete its inline policy, or restore the one it replaced
``ec2_isolate_instance``           give each network interface back its recorded security groups
``s3_block_public_access``         restore the bucket's recorded Block Public Access settings
                                   (or delete the configuration if there was none)
``iam_delete_login_profile``       recreate the console login with a random password nobody
                                   sees and a reset required: AWS never returns a password, so
                                   the old one cannot come back — an administrator sets a new one
=================================  ==============================================================
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Awaitable, Callable
from typing import Any

from cspm_stream.errors import RemediationError
from cspm_stream.models import RemediationMode, RemediationResult, RemediationStatus
from cspm_stream.remediate.actions.iam import IAM_REGION
from cspm_stream.remediate.base import ApiCall, Clients, aws, aws_or_none
from cspm_stream.remediate.modes import resource_id_from_arn

#: a rollback plan: (calls to make, calls as recorded — secrets masked, state found now)
Plan = tuple[list[ApiCall], list[ApiCall], dict[str, Any]]
Planner = Callable[[Clients, RemediationResult, str], Awaitable[Plan]]


def rollback_id(command_id: str) -> str:
    """``rb-<hash>`` for ``rc-<hash>``: the rollback's own (deterministic) audit id."""
    return "rb-" + command_id.removeprefix("rc-")


def _region(res: RemediationResult) -> str:
    return res.region or "us-east-1"


async def _access_keys(cx: Clients, res: RemediationResult, rid: str) -> Plan:
    before = res.before or {}
    r = await aws(cx, "iam", IAM_REGION, "list_access_keys", UserName=rid)
    now = {k["AccessKeyId"]: k["Status"] for k in r.get("AccessKeyMetadata", [])}
    calls = [
        ApiCall("iam", "update_access_key", IAM_REGION, {"UserName": rid, "AccessKeyId": k, "Status": "Active"})
        for k in before.get("Targets", [])
        if now.get(k) == "Inactive"
    ]
    return calls, calls, {"AccessKeys": [{"AccessKeyId": k, "Status": s} for k, s in sorted(now.items())]}


async def _revoke_policy(cx: Clients, res: RemediationResult, rid: str) -> Plan:
    import orjson

    from cspm_stream.remediate.actions.response import REVOKE_POLICY

    before = res.before or {}
    cur = await aws_or_none(
        cx, "iam", IAM_REGION, "get_role_policy", RoleName=rid, PolicyName=REVOKE_POLICY, absent="NoSuchEntity"
    )
    doc = cur.get("PolicyDocument") if cur is not None else None
    prior = before.get("RevokePolicy")
    calls: list[ApiCall] = []
    if prior is None and cur is not None:
        calls.append(ApiCall("iam", "delete_role_policy", IAM_REGION, {"RoleName": rid, "PolicyName": REVOKE_POLICY}))
    elif prior is not None:
        text = orjson.dumps(prior).decode()
        params = {"RoleName": rid, "PolicyName": REVOKE_POLICY, "PolicyDocument": text}
        calls.append(ApiCall("iam", "put_role_policy", IAM_REGION, params))
    return calls, calls, {"RevokePolicy": doc}


async def _isolation(cx: Clients, res: RemediationResult, rid: str) -> Plan:
    before = res.before or {}
    r = await aws(cx, "ec2", _region(res), "describe_instances", InstanceIds=[rid])
    insts = [i for rv in r.get("Reservations", []) for i in rv.get("Instances", [])]
    now = {
        str(n["NetworkInterfaceId"]): sorted(str(g["GroupId"]) for g in n.get("Groups", []))
        for i in insts
        for n in i.get("NetworkInterfaces", [])
    }
    calls = [
        ApiCall(
            "ec2", "modify_network_interface_attribute", _region(res), {"NetworkInterfaceId": eni, "Groups": groups}
        )
        for eni, groups in sorted((before.get("Interfaces") or {}).items())
        if eni in now and now[eni] != sorted(groups) and groups
    ]
    return calls, calls, {"Interfaces": now}


async def _public_access_block(cx: Clients, res: RemediationResult, rid: str) -> Plan:
    before = res.before or {}
    cur = await aws_or_none(
        cx, "s3", _region(res), "get_public_access_block", Bucket=rid, absent="NoSuchPublicAccessBlockConfiguration"
    )
    now = cur.get("PublicAccessBlockConfiguration") if cur is not None else None
    prior = before.get("PublicAccessBlock")
    calls: list[ApiCall] = []
    if prior is None and now is not None:
        calls.append(ApiCall("s3", "delete_public_access_block", _region(res), {"Bucket": rid}))
    elif prior is not None and now != prior:
        params = {"Bucket": rid, "PublicAccessBlockConfiguration": dict(prior)}
        calls.append(ApiCall("s3", "put_public_access_block", _region(res), params))
    return calls, calls, {"PublicAccessBlock": now}


def _password() -> str:
    """A 32-character password meeting any IAM password policy (every character class)."""
    classes = (string.ascii_uppercase, string.ascii_lowercase, string.digits, "!@#$%^&*()_+-=[]{}|")
    chars = [secrets.choice(c) for c in classes] + [secrets.choice("".join(classes)) for _ in range(28)]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


async def _login_profile(cx: Clients, res: RemediationResult, rid: str) -> Plan:
    before = res.before or {}
    cur = await aws_or_none(cx, "iam", IAM_REGION, "get_login_profile", UserName=rid, absent="NoSuchEntity")
    exists = cur is not None
    if before.get("LoginProfile") is None or exists:
        return [], [], {"LoginProfile": exists}
    params = {"UserName": rid, "PasswordResetRequired": True}
    real = ApiCall("iam", "create_login_profile", IAM_REGION, {**params, "Password": _password()})
    shown = ApiCall("iam", "create_login_profile", IAM_REGION, {**params, "Password": "***"})
    return [real], [shown], {"LoginProfile": exists}


#: action name → rollback planner
ROLLBACKS: dict[str, Planner] = {
    "iam_quarantine_access_key": _access_keys,
    "iam_revoke_role_sessions": _revoke_policy,
    "ec2_isolate_instance": _isolation,
    "s3_block_public_access": _public_access_block,
    "iam_delete_login_profile": _login_profile,
}


#: permissions a rollback needs beyond its action's own (``remediation iam-policy`` adds them)
ROLLBACK_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "s3_block_public_access": ("s3:DeleteBucketPublicAccessBlock",),
    "iam_delete_login_profile": ("iam:CreateLoginProfile",),
}


def check_reversible(res: RemediationResult, history: list[RemediationResult]) -> None:
    """Refuse what cannot or must not be rolled back (RemediationError naming why)."""
    if res.action not in ROLLBACKS:
        raise RemediationError(f"{res.command_id}: action {res.action} has no rollback ({', '.join(ROLLBACKS)} do)")
    if res.status is not RemediationStatus.SUCCEEDED:
        raise RemediationError(f"{res.command_id}: nothing to roll back: its result is {res.status.value}")
    if res.before is None:
        raise RemediationError(f"{res.command_id}: the audit record holds no prior state")
    done = [
        h for h in history if h.command_id == rollback_id(res.command_id) and h.status is RemediationStatus.SUCCEEDED
    ]
    if done:
        raise RemediationError(f"{res.command_id} was already rolled back at {done[-1].at} ({done[-1].command_id})")


async def rollback(
    res: RemediationResult, cx: Clients, *, actor: str, at: str, dry_run: bool = False
) -> RemediationResult:
    """Plan (and unless ``dry_run``, make) the calls that undo ``res``; the rollback's audit record."""
    planner = ROLLBACKS[res.action]
    rid = resource_id_from_arn(res.resource_arn, res.region)
    who = f"{cx.identity} (rollback of {res.command_id} by {actor})"
    real, shown, found = await planner(cx, res, rid)
    base: dict[str, Any] = {
        "command_id": rollback_id(res.command_id),
        "action": res.action,
        "account_id": res.account_id,
        "region": res.region,
        "resource_arn": res.resource_arn,
        "at": at,
        "actor": who,
        "calls": [c.to_dict() for c in shown],
        "before": found,
    }
    if not real:
        return RemediationResult(mode=RemediationMode.AUTO, status=RemediationStatus.NOOP, **base)
    if dry_run:
        return RemediationResult(mode=RemediationMode.DRY_RUN, status=RemediationStatus.PLANNED, **base)
    error = None
    try:
        for c in real:
            await aws(cx, c.service, c.region, c.operation, **c.params)
    except RemediationError as exc:
        error = str(exc)
    _, _, after = await planner(cx, res, rid)
    status = RemediationStatus.FAILED if error else RemediationStatus.SUCCEEDED
    return RemediationResult(mode=RemediationMode.AUTO, status=status, after=after, error=error, **base)
