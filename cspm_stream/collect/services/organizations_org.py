"""AWS Organizations (global): the organization the scanned account belongs to, its policies and delegated
administrators — one ``aws.organizations.organization`` record per account.

* ``Organization`` — DescribeOrganization ``Organization`` (``Id``, ``Arn``, ``MasterAccountId``, ``FeatureSet``;
  the management account's e-mail address is not kept); null when the account is in no organization.
* ``Policies`` — per policy type (``SERVICE_CONTROL_POLICY``, ``TAG_POLICY``, ``BACKUP_POLICY``,
  ``AISERVICES_OPT_OUT_POLICY``) the list of policies (ListPolicies) with ``Id``, ``Name``, ``AwsManaged``,
  ``Content`` (DescribePolicy, parsed) and ``Targets`` (ListTargetsForPolicy: ``TargetId``, ``Type``, ``Name``);
  null when the account is in no organization. Only the management account (or a delegated administrator) may
  list policies: a member account gets an access-denied error here, and the policies reading it ERROR.
* ``DelegatedAdministrators`` — ListDelegatedAdministrators (``Id``, ``Name``, ``Status``, ``JoinedMethod``);
  null when the account is in no organization.
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.normalize import parse_policy
from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, Scope, account_id

NOT_IN_USE = frozenset({"AWSOrganizationsNotInUseException"})
POLICY_TYPES = ("SERVICE_CONTROL_POLICY", "TAG_POLICY", "BACKUP_POLICY", "AISERVICES_OPT_OUT_POLICY")


def _organization(resp: dict[str, Any]) -> Any:
    org = resp.get("Organization")
    if not isinstance(org, dict):
        return None
    return {k: v for k, v in org.items() if k != "MasterAccountEmail"}


async def _policies(calls: Calls, item: Item) -> Any:
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
                    "Content": parse_policy(content.get("Content")),
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
            Detail("Organization", "describe_organization", extract=_organization, not_configured=NOT_IN_USE),
            Detail("Policies", fn=_policies, not_configured=NOT_IN_USE),
            Detail(
                "DelegatedAdministrators",
                "list_delegated_administrators",
                not_configured=NOT_IN_USE,
                paginate_items="DelegatedAdministrators[].{Id: Id, Name: Name, Status: Status, "
                "JoinedMethod: JoinedMethod}",
            ),
        ),
    ),
]
