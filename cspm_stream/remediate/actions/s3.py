"""S3 actions: bucket and account Block Public Access, encryption, versioning, public ACL grants."""

from __future__ import annotations

from typing import Any

from cspm_stream.models import RemediationCommand
from cspm_stream.remediate.base import Action, ApiCall, Clients, aws, aws_or_none, region_of, register, tag_list

ALL_BLOCKED = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
PUBLIC_GROUPS = (
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
)


def _all_blocked(conf: Any) -> bool:
    return isinstance(conf, dict) and all(conf.get(k) is True for k in ALL_BLOCKED)


class _Bucket(Action):
    resource_types = ("aws.s3.bucket",)
    tag_permissions = ("s3:GetBucketTagging",)

    async def tags(self, cx: Clients, cmd: RemediationCommand) -> dict[str, str]:
        r = await aws_or_none(
            cx, "s3", region_of(cmd), "get_bucket_tagging", Bucket=cmd.resource_id, absent="NoSuchTagSet"
        )
        if r is None:
            return {}
        return tag_list(r.get("TagSet"))


class _BlockPublicAccess(Action):
    """All four Block Public Access settings on one target; subclasses say which (service + target)."""

    service: str

    def target(self, cmd: RemediationCommand) -> dict[str, Any]:
        raise NotImplementedError

    async def check(self, cx: Clients, cmd: RemediationCommand) -> dict[str, Any]:
        r = await aws_or_none(
            cx,
            self.service,
            region_of(cmd),
            "get_public_access_block",
            absent="NoSuchPublicAccessBlockConfiguration",
            **self.target(cmd),
        )
        return {"PublicAccessBlock": None if r is None else r.get("PublicAccessBlockConfiguration")}

    def compliant(self, state: dict[str, Any]) -> bool:
        return _all_blocked(state.get("PublicAccessBlock"))

    def plan(self, cmd: RemediationCommand, state: dict[str, Any]) -> list[ApiCall]:
        params = {**self.target(cmd), "PublicAccessBlockConfiguration": dict(ALL_BLOCKED)}
        return [ApiCall(self.service, "put_public_access_block", region_of(cmd), params)]


@register
class S3BlockPublicAccess(_BlockPublicAccess, _Bucket):
    name = "s3_block_public_access"
    summary = "Turn on all four Block Public Access settings of the bucket."
    read_permissions = ("s3:GetBucketPublicAccessBlock",)
    write_permissions = ("s3:PutBucketPublicAccessBlock",)
    service = "s3"

    def target(self, cmd: RemediationCommand) -> dict[str, Any]:
        return {"Bucket": cmd.resource_id}


@register
class S3AccountBlockPublicAccess(_BlockPublicAccess):
    name = "s3_account_block_public_access"
    summary = "Turn on all four account-level S3 Block Public Access settings."
    resource_types = ("aws.s3.account",)
    read_permissions = ("s3:GetAccountPublicAccessBlock",)
    write_permissions = ("s3:PutAccountPublicAccessBlock",)
    service = "s3control"

    def target(self, cmd: RemediationCommand) -> dict[str, Any]:
        return {"AccountId": cmd.account_id}


@register
class S3EnableDefaultEncryption(_Bucket):
    name = "s3_enable_default_encryption"
    summary = "Set default encryption (SSE-S3, or SSE-KMS with params.kms_key_id) on the bucket."
    read_permissions = ("s3:GetEncryptionConfiguration",)
    write_permissions = ("s3:PutEncryptionConfiguration",)

    async def check(self, cx: Clients, cmd: RemediationCommand) -> dict[str, Any]:
        r = await aws_or_none(
            cx,
            "s3",
            region_of(cmd),
            "get_bucket_encryption",
            Bucket=cmd.resource_id,
            absent="ServerSideEncryptionConfigurationNotFoundError",
        )
        if r is None:
            return {"Encryption": None}
        return {"Encryption": r.get("ServerSideEncryptionConfiguration")}

    def compliant(self, state: dict[str, Any]) -> bool:
        enc = state.get("Encryption")
        return isinstance(enc, dict) and bool(enc.get("Rules"))

    def plan(self, cmd: RemediationCommand, state: dict[str, Any]) -> list[ApiCall]:
        key = cmd.params.get("kms_key_id")
        default: dict[str, Any] = (
            {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": str(key)} if key else {"SSEAlgorithm": "AES256"}
        )
        conf = {"Rules": [{"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": bool(key)}]}
        return [
            ApiCall(
                "s3",
                "put_bucket_encryption",
                region_of(cmd),
                {"Bucket": cmd.resource_id, "ServerSideEncryptionConfiguration": conf},
            )
        ]


@register
class S3EnableVersioning(_Bucket):
    name = "s3_enable_versioning"
    summary = "Enable versioning on the bucket (MFA delete untouched)."
    read_permissions = ("s3:GetBucketVersioning",)
    write_permissions = ("s3:PutBucketVersioning",)

    async def check(self, cx: Clients, cmd: RemediationCommand) -> dict[str, Any]:
        r = await aws(cx, "s3", region_of(cmd), "get_bucket_versioning", Bucket=cmd.resource_id)
        return {"Versioning": {k: r[k] for k in ("Status", "MFADelete") if k in r}}

    def compliant(self, state: dict[str, Any]) -> bool:
        return bool(state.get("Versioning", {}).get("Status") == "Enabled")

    def plan(self, cmd: RemediationCommand, state: dict[str, Any]) -> list[ApiCall]:
        params = {"Bucket": cmd.resource_id, "VersioningConfiguration": {"Status": "Enabled"}}
        return [ApiCall("s3", "put_bucket_versioning", region_of(cmd), params)]


def _public_grant(g: dict[str, Any]) -> bool:
    grantee = g.get("Grantee") or {}
    return grantee.get("Type") == "Group" and grantee.get("URI") in PUBLIC_GROUPS


@register
class S3RemovePublicAclGrants(_Bucket):
    name = "s3_remove_public_acl_grants"
    summary = "Rewrite the bucket ACL without its AllUsers/AuthenticatedUsers grants (others kept)."
    read_permissions = ("s3:GetBucketAcl",)
    write_permissions = ("s3:PutBucketAcl",)

    async def check(self, cx: Clients, cmd: RemediationCommand) -> dict[str, Any]:
        r = await aws(cx, "s3", region_of(cmd), "get_bucket_acl", Bucket=cmd.resource_id)
        return {"Acl": {"Owner": r.get("Owner"), "Grants": r.get("Grants", [])}}

    def compliant(self, state: dict[str, Any]) -> bool:
        return not any(_public_grant(g) for g in state["Acl"]["Grants"])

    def plan(self, cmd: RemediationCommand, state: dict[str, Any]) -> list[ApiCall]:
        acl = state["Acl"]
        kept = [g for g in acl["Grants"] if not _public_grant(g)]
        policy = {"Owner": acl["Owner"], "Grants": kept}
        return [
            ApiCall("s3", "put_bucket_acl", region_of(cmd), {"Bucket": cmd.resource_id, "AccessControlPolicy": policy})
        ]
