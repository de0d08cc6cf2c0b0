"""Amazon Data Firehose delivery streams (regional).

``aws.firehose.delivery_stream``: ``{DeliveryStreamName}`` plus

* ``Description``: DescribeDeliveryStream ``DeliveryStreamDescription`` (``DeliveryStreamType``,
  ``DeliveryStreamEncryptionConfiguration`` — ``Status`` ENABLED/DISABLED/..., ``KeyType``, ``KeyARN`` —,
  ``Source``; destination descriptions dropped: they carry endpoint credentials and processing settings
  the policies never need);
* ``SourceEncryption``: for a Kinesis-stream source, that stream's ``EncryptionType`` (NONE | KMS); for an MSK
  source, ``MSK`` when the cluster exists (MSK always encrypts at rest); null when the source does not exist or
  the stream is fed by Direct PUT or a database;
* ``Tags``: ListTagsForDeliveryStream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from cspm_stream.collect.faults import CallFailed
from cspm_stream.collect.spec import Calls, Detail, Item, ResourceSpec, Scope, member, tags_from_list

MAX_PAGES = 10_000
NOT_FOUND = frozenset({"ResourceNotFoundException", "NotFoundException"})


def _arn(item: Item, scope: Scope) -> str:
    return (
        f"arn:{scope.partition}:firehose:{scope.region}:{scope.account_id}:deliverystream/{item['DeliveryStreamName']}"
    )


async def _streams(calls: Calls) -> AsyncIterator[Item]:
    """ListDeliveryStreams pages by ExclusiveStartDeliveryStreamName (botocore has no paginator for it)."""
    start: str | None = None
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        resp = await calls.call(
            "firehose", "list_delivery_streams", **({"ExclusiveStartDeliveryStreamName": start} if start else {})
        )
        names = [str(n) for n in resp.get("DeliveryStreamNames") or []]
        for name in names:
            if name not in seen:
                seen.add(name)
                yield {"DeliveryStreamName": name}
        if not resp.get("HasMoreDeliveryStreams") or not names or names[-1] == start:
            return
        start = names[-1]


async def _describe(calls: Calls, item: Item) -> dict[str, Any]:
    """DescribeDeliveryStream once per stream and job (both details read it)."""
    name = item["DeliveryStreamName"]

    async def read() -> dict[str, Any]:
        resp = await calls.call("firehose", "describe_delivery_stream", DeliveryStreamName=name)
        return dict(resp.get("DeliveryStreamDescription") or {})

    desc: dict[str, Any] = await calls.cached(f"firehose-describe:{name}", read)
    return desc


async def _description(calls: Calls, item: Item) -> Any:
    return {k: v for k, v in (await _describe(calls, item)).items() if k != "Destinations"}


async def _source_encryption(calls: Calls, item: Item) -> Any:
    source = (await _describe(calls, item)).get("Source") or {}
    try:
        if "KinesisStreamSourceDescription" in source:
            arn = source["KinesisStreamSourceDescription"].get("KinesisStreamARN")
            summary = await calls.call("kinesis", "describe_stream_summary", StreamARN=arn)
            return (summary.get("StreamDescriptionSummary") or {}).get("EncryptionType")
        if "MSKSourceDescription" in source:
            arn = source["MSKSourceDescription"].get("MSKClusterARN")
            await calls.call("kafka", "describe_cluster_v2", ClusterArn=arn)
            return "MSK"
    except CallFailed as exc:
        if exc.fault.code in NOT_FOUND:
            return None
        raise
    return None


SPECS = [
    ResourceSpec(
        resource_type="aws.firehose.delivery_stream",
        service="firehose",
        list_op="list_delivery_streams",
        list_fn=_streams,
        id=lambda item, scope: str(item["DeliveryStreamName"]),
        arn=_arn,
        tags=tags_from_list(),
        details=(
            Detail("Description", fn=_description),
            Detail("SourceEncryption", fn=_source_encryption),
            Detail(
                "Tags",
                "list_tags_for_delivery_stream",
                lambda i: {"DeliveryStreamName": i["DeliveryStreamName"]},
                member("Tags"),
            ),
        ),
    ),
]
