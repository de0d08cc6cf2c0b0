"""AWS Organizations (global): the organization the scanned account belongs to, its policies and delegated
administrators — one ``aws.organizations.organization`` record per account.

* ``Organization`` — DescribeOrganization ``Organization`` (``Id``, ``Arn``, ``MasterAccountId``, ``FeatureSet``;
  the management account's e-mail address is not kept); null when the account is in no organization.
* ``Policies`` — per policy type (``SERVICE_CONTROL_POLICY``, ``TAG_POLICY``, ``BACKUP_POLICY``,
  ``AISERVICES_OPT_OUT_POLICY``) the list of policies (ListPolicies) with ``Id``, ``Name``, ``AwsManaged``,
  ``Content`` (DescribePolicy, parsed; a single ``Statement`` object becomes a one-element list) and ``Targets`` (ListTargetsForPolicy: ``TargetId``, ``Type``, ``Name``);
  null when the account is in no organization (DescribeOrganization, read once, says so). Only the management account (or a delegated administrator) may
  list policies: a member account gets an access-denied error here, and the policies reading it ERROR.
* ``DelegatedAdministrators`` — ListDelegatedAdministrators (``Id``, ``Name``, ``Status``, ``JoinedMethod``);
  null when the account is in no organization.
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.faults import CallFailed
from cspm_stream.collect.normalize import parse_policy
from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, Scope, account_id

NOT_IN_USE = frozenset({"AWSOrganizationsNotInUseException"})
POLICY_TYPES = ("SERVICE_CONTROL_POLICY", "TAG_POLICY", "BACKUP_POLICY", "AISERVICES_OPT_OUT_POLICY")


def _organization(resp: dict[str, Any]) -> Any:
    org = resp.get("Organization")
    if not isinstance(org, dict):
        return None
    return {k: v for k, v in org.items() if k != "MasterAccountEmail"}


def _content(text: Any) -> Any:
    doc = parse_policy(text)
    if isinstance(doc, dict) and isinstance(doc.get("Statement"), dict):
        doc = {**doc, "Statement": [doc["Statement"]]}
    return doc


async def _organization_raw(calls: Calls) -> Any:
    """DescribeOrganization once per job; None when the account is in no organization."""

    async def read() -> Any:
        try:
            return _organization(await calls.call("organizations", "describe_organization"))
        except CallFailed as exc:
            if exc.fault.code in NOT_IN_USE:
                return None
            raise

    return await calls.cached("organizations-describe", read)


async def _org(calls: Calls, item: Item) -> Any:
    return await _organization_raw(calls)


async def _delegated(calls: Calls, item: Item) -> Any:
    if await _organization_raw(calls) is None:
        return None
    admins = await calls.paginate("organizations", "list_delegated_administrators", "DelegatedAdministrators")
    return [{k: a.get(k) for k in ("Id", "Name", "Status", "JoinedMethod")} for a in admins if isinstance(a, dict)]


async def _policies(calls: Calls, item: Item) -> Any:
    if await _organization_raw(calls) is None:
        return None
    out: dict[str, list[dict[str, Any]]] = {}
    for ptype in POLICY_TYPES:
        out[ptype] = []
        for summary in await calls.paginate("organizations", "list_policies", "Policies", Filter=ptype):
            pid = summary.get("Id")
            content = (await calls.call("organizations", "describe_policy", PolicyId=pid)).get("Policy") or {}
            targets = await calls.paginate("organizations", "list_targets_for_policy", "Targets", PolicyId=pid)
            out[ptype].append(
                {
                    "Id": pid,
                    "Name": summary.get("Name"),
                    "AwsManaged": summary.get("AwsManaged"),
                    "Content": _content(content.get("Content")),
                    "Targets": [{k: t.get(k) for k in ("TargetId", "Type", "Name")} for t in targets],
                }
            )
    return out


def _arn(item: Item, scope: Scope) -> str:
    return f"arn:{scope.partition}:organizations::{scope.account_id}:organization-settings"


SPECS = [
    ResourceSpec(
        resource_type="aws.organizations.organization",
        service="organizations",
        list_op=None,
        id=account_id,
        arn=_arn,
        global_=True,
        details=(
            Detail("Organization", fn=_org),
            Detail("Policies", fn=_policies, not_configured=NOT_IN_USE),
            Detail("DelegatedAdministrators", fn=_delegated, not_configured=NOT_IN_USE),
        ),
    ),
]
