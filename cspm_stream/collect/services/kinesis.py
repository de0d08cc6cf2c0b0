"""Kinesis Data Streams (regional).

``aws.kinesis.stream``: the ListStreams ``StreamSummaries`` item (``StreamName``, ``StreamARN``, ``StreamStatus``,
``StreamModeDetails``) plus ``Summary`` (DescribeStreamSummary ``StreamDescriptionSummary``: ``EncryptionType``
— NONE or KMS —, ``KeyId``, ``RetentionPeriodHours``, ``OpenShardCount``) and ``Tags`` (ListTagsForStream).
"""

from __future__ import annotations

from cspm_stream.collect.spec import Detail, ResourceSpec, key, member, tags_from_list

SPECS = [
    ResourceSpec(
        resource_type="aws.kinesis.stream",
        service="kinesis",
        list_op="list_streams",
        items="StreamSummaries",
        id=key("StreamName"),
        arn=key("StreamARN"),
        tags=tags_from_list(),
        details=(
            Detail(
                "Summary",
                "describe_stream_summary",
                lambda i: {"StreamName": i["StreamName"]},
                member("StreamDescriptionSummary"),
            ),
            Detail("Tags", "list_tags_for_stream", lambda i: {"StreamName": i["StreamName"]}, member("Tags")),
        ),
    ),
]
