"""Response actions: contain what a detection found (playbooks in ``cspm_stream/catalog/playbooks``).

Same contract as every remediation action (``check`` reads, ``plan`` lists the exact
calls, the remediator's modes, blast-radius cap and audit apply); each also records
what it changes in ``check``'s state so :mod:`cspm_stream.remediate.rollback` can put
it back (``cspm-stream remediation rollback ID``):

* ``iam_quarantine_access_key`` — deactivate (never delete) the IAM user's access keys
  named in ``params.access_key_ids``, or those created at or after ``params.created_after``
  (the detection's first event: the key an intruder just made). With neither it refuses.
* ``iam_revoke_role_sessions`` — what the IAM console's "Revoke active sessions" does: an
  inline policy ``CspmStreamRevokeOlderSessions`` denying every action to credentials whose
  ``aws:TokenIssueTime`` is before the moment the action runs (new sessions still work).
  Service-linked and IAM Identity Center (``AWSReservedSSO_*``) roles are refused: IAM
  does not let anyone add policies to them.
* ``ec2_isolate_instance`` — every network interface of the instance into one quarantine
  security group of its VPC (``params.quarantine_group``, default ``cspm-quarantine``:
  no inbound rule, no outbound rule), created when missing. Connections already
  established may survive a group change (connection tracking); the instance is not
  stopped, so its memory and disks stay for forensics.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson

from cspm_stream.errors import RemediationError
from cspm_stream.models import RemediationCommand
from cspm_stream.remediate.actions.iam import IAM_REGION, UserAction
from cspm_stream.remediate.base import Action, ApiCall, Clients, aws, aws_or_none, region_of, register, tag_list
from cspm_stream.timeutil import iso, now, parse_iso

REVOKE_POLICY = "CspmStreamRevokeOlderSessions"
QUARANTINE_GROUP = "cspm-quarantine"
#: placeholder in a planned call for the id of the quarantine group the plan creates first
NEW_GROUP = "<quarantine-group-id>"


def _iso(v: Any) -> str:
    if isinstance(v, dt.datetime):
        return iso(v if v.tzinfo else v.replace(tzinfo=dt.UTC))
    return str(v or "")


@register
class IamQuarantineAccessKey(UserAction):
    name = "iam_quarantine_access_key"
    summary = (
        "Incident response: deactivate (not delete) the user's access keys named in params.access_key_ids, "
        "or those created at or after params.created_after; other keys are untouched. Reversible."
    )
    read_permissions = ("iam:ListAccessKeys",)
    write_permissions = ("iam:UpdateAccessKey",)

    async def check(self, cx: Clients, cmd: RemediationCommand) -> dict[str, Any]:
        ids = cmd.params.get("access_key_ids")
        after = cmd.params.get("created_after")
        if not ids and not after:
            raise RemediationError("iam_quarantine_access_key needs params.access_key_ids or params.created_after")
        r = await aws(cx, "iam", IAM_REGION, "list_access_keys", UserName=cmd.resource_id)
        keys = [
            {"AccessKeyId": k["AccessKeyId"], "Status": k["Status"], "CreateDate": _iso(k.get("CreateDate"))}
            for k in r.get("AccessKeyMetadata", [])
        ]
        active = [k for k in keys if k["Status"] == "Active"]
        if ids:
            wanted = {str(i) for i in (ids if isinstance(ids, list) else [ids])}
            targets = [k["AccessKeyId"] for k in active if k["AccessKeyId"] in wanted]
        else:
            cutoff = parse_iso(str(after))
            targets = [k["AccessKeyId"] for k in active if k["CreateDate"] and parse_iso(k["CreateDate"]) >= cutoff]
        return {"AccessKeys": keys, "Targets": targets}

    def compliant(self, state: dict[str, Any]) -> bool:
        return not state["Targets"]

    def plan(self, cmd: RemediationCommand, state: dict[str, Any]) -> list[ApiCall]:
        return [
            ApiCall(
                "iam",
                "update_access_key",
                IAM_REGION,
                {"UserName": cmd.resource_id, "AccessKeyId": k, "Status": "Inactive"},
            )
            for k in state["Targets"]
        ]


def revoke_document(issued_before: str) -> dict[str, Any]:
    """The deny-older-sessions policy (the console's AWSRevokeOlderSessions, named ours)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CspmStreamRevokeOlderSessions",
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {"DateLessThan": {"aws:TokenIssueTime": issued_before}},
            }
        ],
    }


def _issued_before(doc: Any) -> str:
    """The TokenIssueTime cutoff of our revoke policy document ('' when it is not one)."""
    if isinstance(doc, str):
        try:
            doc = orjson.loads(doc)
        except orjson.JSONDecodeError:
            return ""
    for st in doc.get("Statement", []) if isinstance(doc, dict) else []:
        cond = st.get("Condition", {}).get("DateLessThan", {}) if isinstance(st, dict) else {}
        if isinstance(cond, dict) and cond.get("aws:TokenIssueTime"):
            return str(cond["aws:TokenIssueTime"])
    return ""


@register
class IamRevokeRoleSessions(Action):
    name = "iam_revoke_role_sessions"
    summary = (
        "Incident response: revoke the role's active sessions — an inline policy denying everything to "
        "credentials issued before now (aws:TokenIssueTime), as the IAM console does. Reversible."
    )
    resource_types = ("aws.iam.role",)
    read_permissions = ("iam:GetRole", "iam:GetRolePolicy")
    write_permissions = ("iam:PutRolePolicy", "iam:DeleteRolePolicy")
    tag_permissions = ("iam:ListRoleTags",)

    async def tags(self, cx: Clients, cmd: RemediationCommand) -> dict[str, str]:
        r = await aws(cx, "iam", IAM_REGION, "list_role_tags", RoleName=cmd.resource_id)
        return tag_list(r.get("Tags"))

    async def check(self, cx: Clients, cmd: RemediationCommand) -> dict[str, Any]:
        role = (await aws(cx, "iam", IAM_REGION, "get_role", RoleName=cmd.resource_id)).get("Role", {})
        path = str(role.get("Path", "/"))
        if path.startswith("/aws-service-role/") or cmd.resource_id.startswith(
            ("AWSServiceRoleFor", "AWSReservedSSO_")
        ):
            raise RemediationError(
                f"role {cmd.resource_id} is managed by AWS (service-linked or IAM Identity Center): "
                "revoke its sessions in the owning service"
            )
        r = await aws_or_none(
            cx,
            "iam",
            IAM_REGION,
            "get_role_policy",
            RoleName=cmd.resource_id,
            PolicyName=REVOKE_POLICY,
            absent="NoSuchEntity",
        )
        doc = r.get("PolicyDocument") if r is not None else None
        if isinstance(doc, str):
            doc = orjson.loads(doc)
        return {
            "RoleName": cmd.resource_id,
            "RevokePolicy": doc,
            "IssuedBefore": iso(now()),  # the plan revokes sessions issued before this moment
            "RevokedBefore": _issued_before(doc) if doc is not None else "",
            "Since": cmd.requested_at,  # the detection: its sessions must be among the revoked ones
        }

    def compliant(self, state: dict[str, Any]) -> bool:
        # done when our policy already revokes every session issued before the detection
        done = state.get("RevokedBefore") or ""
        return bool(done) and parse_iso(done) >= parse_iso(state["Since"])

    def plan(self, cmd: RemediationCommand, state: dict[str, Any]) -> list[ApiCall]:
        doc = orjson.dumps(revoke_document(state["IssuedBefore"])).decode()
        params = {"RoleName": cmd.resource_id, "PolicyName": REVOKE_POLICY, "PolicyDocument": doc}
        return [ApiCall("iam", "put_role_policy", IAM_REGION, params)]


@register
class Ec2IsolateInstance(Action):
    name = "ec2_isolate_instance"
    summary = (
        "Incident response: move every network interface of the instance into a quarantine security group "
        "of its VPC (no inbound, no outbound rule; created if missing). The instance keeps running. Reversible."
    )
    resource_types = ("aws.ec2.instance",)
    read_permissions = ("ec2:DescribeInstances", "ec2:DescribeSecurityGroups")
    write_permissions = (
        "ec2:CreateSecurityGroup",
        "ec2:RevokeSecurityGroupEgress",
        "ec2:CreateTags",
        "ec2:ModifyNetworkInterfaceAttribute",
    )
    tag_permissions = ("ec2:DescribeTags",)

    async def tags(self, cx: Clients, cmd: RemediationCommand) -> dict[str, str]:
        r = await aws(
            cx, "ec2", region_of(cmd), "describe_tags", Filters=[{"Name": "resource-id", "Values": [cmd.resource_id]}]
        )
        return tag_list(r.get("Tags"))

    async def check(self, cx: Clients, cmd: RemediationCommand) -> dict[str, Any]:
        region = region_of(cmd)
        r = await aws(cx, "ec2", region, "describe_instances", InstanceIds=[cmd.resource_id])
        insts = [i for res in r.get("Reservations", []) for i in res.get("Instances", [])]
        if not insts:
            raise RemediationError(f"instance {cmd.resource_id} not found")
        inst = insts[0]
        vpc = str(inst.get("VpcId") or "")
        if not vpc:
            raise RemediationError(f"instance {cmd.resource_id} is not in a VPC (EC2-Classic cannot be isolated)")
        enis = {
            str(n["NetworkInterfaceId"]): sorted(str(g["GroupId"]) for g in n.get("Groups", []))
            for n in inst.get("NetworkInterfaces", [])
        }
        name = str(cmd.params.get("quarantine_group") or QUARANTINE_GROUP)
        g = await aws(
            cx,
            "ec2",
            region,
            "describe_security_groups",
            Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": [name]}],
        )
        groups = g.get("SecurityGroups", [])
        qid = str(groups[0]["GroupId"]) if groups else ""
        return {"VpcId": vpc, "Interfaces": enis, "QuarantineGroupName": name, "QuarantineGroupId": qid}

    def compliant(self, state: dict[str, Any]) -> bool:
        q = state["QuarantineGroupId"]
        return bool(q) and bool(state["Interfaces"]) and all(gs == [q] for gs in state["Interfaces"].values())

    def plan(self, cmd: RemediationCommand, state: dict[str, Any]) -> list[ApiCall]:
        region = region_of(cmd)
        calls: list[ApiCall] = []
        q = state["QuarantineGroupId"]
        if not q:
            q = NEW_GROUP
            tags = [{"Key": "cspm:quarantine", "Value": "true"}, {"Key": "Name", "Value": state["QuarantineGroupName"]}]
            calls.append(
                ApiCall(
                    "ec2",
                    "create_security_group",
                    region,
                    {
                        "GroupName": state["QuarantineGroupName"],
                        "Description": "cspm-stream quarantine: no inbound or outbound traffic",
                        "VpcId": state["VpcId"],
                        "TagSpecifications": [{"ResourceType": "security-group", "Tags": tags}],
                    },
                )
            )
            all_out = {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
            calls.append(
                ApiCall(
                    "ec2", "revoke_security_group_egress", region, {"GroupId": NEW_GROUP, "IpPermissions": [all_out]}
                )
            )
        for eni, groups in sorted(state["Interfaces"].items()):
            if groups != [q]:
                calls.append(
                    ApiCall(
                        "ec2", "modify_network_interface_attribute", region, {"NetworkInterfaceId": eni, "Groups": [q]}
                    )
                )
        return calls

    async def apply(self, cx: Clients, calls: list[ApiCall]) -> list[dict[str, Any]]:
        """The planned calls in order; the group the plan creates replaces its placeholder in later calls."""
        out: list[dict[str, Any]] = []
        created = ""
        for c in calls:
            params = orjson.loads(orjson.dumps(c.params).replace(NEW_GROUP.encode(), created.encode()))
            if NEW_GROUP in orjson.dumps(c.params).decode() and not created:
                raise RemediationError("the quarantine group was not created before its use")
            r = await aws(cx, c.service, c.region, c.operation, **params)
            if c.operation == "create_security_group":
                created = str(r["GroupId"])
            out.append(r)
        return out
