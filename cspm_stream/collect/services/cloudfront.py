"""CloudFront distributions (global): the list summary plus ``DistributionConfig`` (origins, default cache
behaviour with ``FieldLevelEncryptionId``, ``ViewerCertificate``, ``Restrictions.GeoRestriction``, ``Logging``,
``WebACLId``), ``Tags`` and ``S3OriginBuckets``.

``S3OriginBuckets``: for each origin configured as an S3 origin (``S3OriginConfig``), ``{OriginId, Bucket,
Exists}`` — the bucket name is the origin domain name before ``.s3``, ``Exists`` is false only when S3 HeadBucket
answers Not Found (a bucket the scanner may not read exists), as Prowler decides it.
"""

from __future__ import annotations

from typing import Any

from cspm_stream.collect.faults import CallFailed, FaultKind
from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, key, tags_from_list


def _tags(resp: dict[str, Any]) -> Any:
    return (resp.get("Tags") or {}).get("Items", [])


async def _config(calls: Calls, item: Item) -> Any:
    async def read() -> Any:
        return (await calls.call("cloudfront", "get_distribution_config", Id=item["Id"])).get("DistributionConfig")

    return await calls.cached(f"cloudfront-config:{item['Id']}", read)


async def _bucket_exists(calls: Calls, bucket: str) -> bool:
    try:
        await calls.call("s3", "head_bucket", Bucket=bucket)
    except CallFailed as exc:
        if exc.fault.code in ("404", "NoSuchBucket", "NotFound") or exc.fault.message == "Not Found":
            return False
        if exc.fault.kind in (FaultKind.DENIED, FaultKind.ERROR):
            return True  # it exists, the scanner may not read it (Prowler: anything but Not Found exists)
        raise
    return True


async def _s3_origin_buckets(calls: Calls, item: Item) -> Any:
    config = await _config(calls, item) or {}
    out = []
    for origin in (config.get("Origins") or {}).get("Items") or []:
        if not isinstance(origin, dict) or not origin.get("S3OriginConfig"):
            continue
        bucket = str(origin.get("DomainName", "")).split(".s3")[0]
        out.append({"OriginId": origin.get("Id"), "Bucket": bucket, "Exists": await _bucket_exists(calls, bucket)})
    return out


SPECS = [
    ResourceSpec(
        resource_type="aws.cloudfront.distribution",
        service="cloudfront",
        list_op="list_distributions",
        items="DistributionList.Items",
        id=key("Id"),
        arn=key("ARN"),
        global_=True,
        tags=tags_from_list(),
        details=(
            Detail("DistributionConfig", fn=_config),
            Detail("Tags", "list_tags_for_resource", lambda i: {"Resource": i["ARN"]}, _tags),
            Detail("S3OriginBuckets", fn=_s3_origin_buckets),
        ),
    ),
]
