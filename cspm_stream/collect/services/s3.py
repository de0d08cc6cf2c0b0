"""S3: buckets (global listing, per-bucket region) and account-level Block Public Access.

Each bucket also carries ``AccountPublicAccessBlock``: the account-level Block Public Access configuration
(s3control GetPublicAccessBlock, read once per job; null when none is set), because it overrides the bucket's
ACL (IgnorePublicAcls) and policy (RestrictPublicBuckets) as the bucket's own block does: a bucket with a
public policy is not public while either block restricts it.
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.normalize import parse_policy
from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, Scope, account_arn, account_id, member


def _bucket(item: Item) -> dict[str, Any]:
    return {"Bucket": item["Name"]}


def _bucket_region(item: Item, scope: Scope) -> str:
    region = item.get("BucketRegion") or item.get("Location")
    if region in (None, ""):
        return "us-east-1"
    return "eu-west-1" if region == "EU" else str(region)


def _policy(resp: dict[str, Any]) -> Any:
    return parse_policy(resp.get("Policy"))


def _tagset(resp: dict[str, Any]) -> Any:
    return resp.get("TagSet", [])


def _bucket_tags(item: Item) -> dict[str, str]:
    return {str(t["Key"]): str(t.get("Value", "")) for t in item.get("Tagging") or [] if "Key" in t}


async def _account_pab(calls: Calls, item: Item) -> Any:
    from cspm_stream.collect.faults import CallFailed

    try:
        resp = await calls.call("s3control", "get_public_access_block", AccountId=calls.scope.account_id)
    except CallFailed as exc:
        if exc.fault.code == "NoSuchPublicAccessBlockConfiguration":
            return None
        raise
    return resp.get("PublicAccessBlockConfiguration")


async def _account_pab_shared(calls: Calls, item: Item) -> Any:
    """The account-level block, read once per job for all buckets (a failure too: each bucket then lists it)."""
    return await calls.cached("s3-account-public-access-block", lambda: _account_pab(calls, item))


BUCKET_DETAILS = (
    # ListBuckets answers BucketRegion on current AWS; older endpoints (moto) need GetBucketLocation
    Detail(
        "Location",
        "get_bucket_location",
        _bucket,
        member("LocationConstraint"),
        when=lambda i: "BucketRegion" not in i,
        locates=True,
    ),
    Detail("Acl", "get_bucket_acl", _bucket, lambda r: {"Owner": r.get("Owner"), "Grants": r.get("Grants", [])}),
    Detail("Policy", "get_bucket_policy", _bucket, _policy, frozenset({"NoSuchBucketPolicy"})),
    Detail(
        "PolicyStatus", "get_bucket_policy_status", _bucket, member("PolicyStatus"), frozenset({"NoSuchBucketPolicy"})
    ),
    Detail(
        "PublicAccessBlock",
        "get_public_access_block",
        _bucket,
        member("PublicAccessBlockConfiguration"),
        frozenset({"NoSuchPublicAccessBlockConfiguration"}),
    ),
    Detail("AccountPublicAccessBlock", fn=_account_pab_shared),
    Detail(
        "Encryption",
        "get_bucket_encryption",
        _bucket,
        member("ServerSideEncryptionConfiguration"),
        frozenset({"ServerSideEncryptionConfigurationNotFoundError"}),
    ),
    Detail("Versioning", "get_bucket_versioning", _bucket),
    Detail("Logging", "get_bucket_logging", _bucket),  # {} or {"LoggingEnabled": {...}}
    Detail(
        "OwnershipControls",
        "get_bucket_ownership_controls",
        _bucket,
        member("OwnershipControls"),
        frozenset({"OwnershipControlsNotFoundError"}),
    ),
    Detail(
        "LifecycleConfiguration",
        "get_bucket_lifecycle_configuration",
        _bucket,
        lambda r: {"Rules": r.get("Rules", [])},
        frozenset({"NoSuchLifecycleConfiguration"}),
    ),
    Detail(
        "Replication",
        "get_bucket_replication",
        _bucket,
        member("ReplicationConfiguration"),
        frozenset({"ReplicationConfigurationNotFoundError"}),
    ),
    Detail(
        "ObjectLockConfiguration",
        "get_object_lock_configuration",
        _bucket,
        member("ObjectLockConfiguration"),
        frozenset({"ObjectLockConfigurationNotFoundError"}),
    ),
    Detail("Tagging", "get_bucket_tagging", _bucket, _tagset, frozenset({"NoSuchTagSet"})),
)

SPECS = [
    ResourceSpec(
        resource_type="aws.s3.bucket",
        service="s3",
        list_op="list_buckets",
        items="Buckets",
        id=lambda item, scope: str(item["Name"]),
        arn=lambda item, scope: f"arn:{scope.partition}:s3:::{item['Name']}",
        details=BUCKET_DETAILS,
        tags=_bucket_tags,
        global_=True,
        region_of=_bucket_region,
        item_region_calls=True,
    ),
    ResourceSpec(
        resource_type="aws.s3.account",
        service="s3",
        list_op=None,
        id=account_id,
        arn=account_arn("s3"),
        details=(Detail("PublicAccessBlock", fn=_account_pab),),
        global_=True,
    ),
]
