"""EC2 actions: public ingress, EBS default encryption, public snapshot/AMI sharing, IMDSv2."""

from __future__ import annotations

from typing import Any

from cspm_stream.models import RemediationCommand
from cspm_stream.remediate.base import Action, ApiCall, Clients, aws, region_of, register, tag_list

#: ports that must never be open to the internet (CIS 5.2/5.3 + common databases and admin UIs)
SENSITIVE_PORTS: tuple[int, ...] = (
    20,
    21,
    22,
    23,
    25,
    110,
    135,
    137,
    138,
    139,
    143,
    445,
    1433,
    1434,
    1521,
    2375,
    2376,
    3306,
    3389,
    5432,
    5500,
    5601,
    5900,
    6379,
    7001,
    8020,
    8080,
    8888,
    9042,
    9092,
    9200,
    9300,
    11211,
    27017,
    50070,
)
PUBLIC_V4 = "0.0.0.0/0"
PUBLIC_V6 = "::/0"


class _Ec2Tagged(Action):
    tag_permissions = ("ec2:DescribeTags",)

    async def tags(self, cx: Clients, cmd: RemediationCommand) -> dict[str, str]:
        r = await aws(
            cx,
            "ec2",
            region_of(cmd),
            "describe_tags",
            Filters=[{"Name": "resource-id", "Values": [cmd.resource_id]}],
        )
        return tag_list(r.get("Tags"))


def _covers_sensitive(perm: dict[str, Any], ports: tuple[int, ...]) -> bool:
    if perm.get("IpProtocol") == "-1":
        return True
    if perm.get("IpProtocol") not in ("tcp", "udp", "6", "17"):
        return False
    lo, hi = perm.get("FromPort"), perm.get("ToPort")
    if lo is None or hi is None:
        return True
    return any(int(lo) <= p <= int(hi) for p in ports)


def _public_part(perm: dict[str, Any]) -> dict[str, Any] | None:
    """The exact public ranges of one rule (what revoke must name), or None."""
    v4 = [r for r in perm.get("IpRanges", []) if r.get("CidrIp") == PUBLIC_V4]
    v6 = [r for r in perm.get("Ipv6Ranges", []) if r.get("CidrIpv6") == PUBLIC_V6]
    if not v4 and not v6:
        return None
    out: dict[str, Any] = {"IpProtocol": perm["IpProtocol"]}
    for k in ("FromPort", "ToPort"):
        if k in perm:
            out[k] = perm[k]
    if v4:
        out["IpRanges"] = [{"CidrIp": PUBLIC_V4}]
    if v6:
        out["Ipv6Ranges"] = [{"CidrIpv6": PUBLIC_V6}]
    return out


@register
class Ec2RevokePublicIngress(_Ec2Tagged):
    name = "ec2_revoke_public_ingress"
    summary = (
        "Revoke ingress from 0.0.0.0/0 and ::/0 on sensitive ports (or all traffic) in the security group; "
        "params.ports overrides the port list. Other rules are kept."
    )
    resource_types = ("aws.ec2.security_group",)
    read_permissions = ("ec2:DescribeSecurityGroups",)
    write_permissions = ("ec2:RevokeSecurityGroupIngress",)

    def _ports(self, cmd: RemediationCommand) -> tuple[int, ...]:
        ports = cmd.params.get("ports")
        return tuple(int(p) for p in ports) if isinstance(ports, list) and ports else SENSITIVE_PORTS

    async def check(self, cx: Clients, cmd: RemediationCommand) -> dict[str, Any]:
        r = await aws(cx, "ec2", region_of(cmd), "describe_security_groups", GroupIds=[cmd.resource_id])
        groups = r.get("SecurityGroups", [])
        perms = groups[0].get("IpPermissions", []) if groups else []
        return {"IpPermissions": perms, "SensitivePorts": list(self._ports(cmd))}

    def _offending(self, state: dict[str, Any]) -> list[dict[str, Any]]:
        ports = tuple(state["SensitivePorts"])
        out = []
        for perm in state["IpPermissions"]:
            part = _public_part(perm)
            if part is not None and _covers_sensitive(perm, ports):
                out.append(part)
        return out

    def compliant(self, state: dict[str, Any]) -> bool:
        return not self._offending(state)

    def plan(self, cmd: RemediationCommand, state: dict[str, Any]) -> list[ApiCall]:
        params = {"GroupId": cmd.resource_id, "IpPermissions": self._offending(state)}
        return [ApiCall("ec2", "revoke_security_group_ingress", region_of(cmd), params)]


@register
class Ec2EnableEbsDefaultEncryption(Action):
    name = "ec2_enable_ebs_default_encryption"
    summary = "Turn on EBS encryption by default in the region."
    resource_types = ("aws.ec2.region",)
    read_permissions = ("ec2:GetEbsEncryptionByDefault",)
    write_permissions = ("ec2:EnableEbsEncryptionByDefault",)

    async def check(self, cx: Clients, cmd: RemediationCommand) -> dict[str, Any]:
        r = await aws(cx, "ec2", region_of(cmd), "get_ebs_encryption_by_default")
        return {"EbsEncryptionByDefault": bool(r.get("EbsEncryptionByDefault"))}

    def compliant(self, state: dict[str, Any]) -> bool:
        return bool(state["EbsEncryptionByDefault"])

    def plan(self, cmd: RemediationCommand, state: dict[str, Any]) -> list[ApiCall]:
        return [ApiCall("ec2", "enable_ebs_encryption_by_default", region_of(cmd), {})]


class _Ec2PublicPermission(_Ec2Tagged):
    """A snapshot or AMI attribute whose permission list grants group 'all' (public)."""

    describe_op: str
    id_param: str
    attribute: str
    key: str  # the permission list in the describe response

    async def check(self, cx: Clients, cmd: RemediationCommand) -> dict[str, Any]:
        r = await aws(
            cx, "ec2", region_of(cmd), self.describe_op, **{self.id_param: cmd.resource_id, "Attribute": self.attribute}
        )
        return {self.key: r.get(self.key, [])}

    def compliant(self, state: dict[str, Any]) -> bool:
        return not any(p.get("Group") == "all" for p in state[self.key])


@register
class Ec2RemovePublicSnapshotSharing(_Ec2PublicPermission):
    name = "ec2_remove_public_snapshot_sharing"
    summary = "Remove the public ('all') create-volume permission of the EBS snapshot."
    resource_types = ("aws.ec2.snapshot",)
    read_permissions = ("ec2:DescribeSnapshotAttribute",)
    write_permissions = ("ec2:ModifySnapshotAttribute",)
    describe_op, id_param, attribute, key = (
        "describe_snapshot_attribute",
        "SnapshotId",
        "createVolumePermission",
        "CreateVolumePermissions",
    )

    def plan(self, cmd: RemediationCommand, state: dict[str, Any]) -> list[ApiCall]:
        params = {
            "SnapshotId": cmd.resource_id,
            "Attribute": "createVolumePermission",
            "OperationType": "remove",
            "GroupNames": ["all"],
        }
        return [ApiCall("ec2", "modify_snapshot_attribute", region_of(cmd), params)]


@register
class Ec2RemovePublicAmiSharing(_Ec2PublicPermission):
    name = "ec2_remove_public_ami_sharing"
    summary = "Remove the public ('all') launch permission of the AMI."
    resource_types = ("aws.ec2.image",)
    read_permissions = ("ec2:DescribeImageAttribute",)
    write_permissions = ("ec2:ModifyImageAttribute",)
    describe_op, id_param, attribute, key = (
        "describe_image_attribute",
        "ImageId",
        "launchPermission",
        "LaunchPermissions",
    )

    def plan(self, cmd: RemediationCommand, state: dict[str, Any]) -> list[ApiCall]:
        params = {"ImageId": cmd.resource_id, "LaunchPermission": {"Remove": [{"Group": "all"}]}}
        return [ApiCall("ec2", "modify_image_attribute", region_of(cmd), params)]


@register
class Ec2RequireImdsv2(_Ec2Tagged):
    name = "ec2_require_imdsv2"
    summary = "Require IMDSv2 session tokens on the instance (metadata endpoint stays enabled)."
    resource_types = ("aws.ec2.instance",)
    read_permissions = ("ec2:DescribeInstances",)
    write_permissions = ("ec2:ModifyInstanceMetadataOptions",)

    async def check(self, cx: Clients, cmd: RemediationCommand) -> dict[str, Any]:
        r = await aws(cx, "ec2", region_of(cmd), "describe_instances", InstanceIds=[cmd.resource_id])
        for res in r.get("Reservations", []):
            for inst in res.get("Instances", []):
                return {"MetadataOptions": inst.get("MetadataOptions", {})}
        return {"MetadataOptions": {}}

    def compliant(self, state: dict[str, Any]) -> bool:
        return bool(state["MetadataOptions"].get("HttpTokens") == "required")

    def plan(self, cmd: RemediationCommand, state: dict[str, Any]) -> list[ApiCall]:
        params = {"InstanceId": cmd.resource_id, "HttpTokens": "required", "HttpEndpoint": "enabled"}
        return [ApiCall("ec2", "modify_instance_metadata_options", region_of(cmd), params)]
