"""Kinesis Data Streams and Firehose on the wire: moto for streams, stream-sourced delivery streams and Direct PUT
ones; recorded responses for ENABLED server-side encryption (moto omits the status), paging by
ExclusiveStartDeliveryStreamName and an MSK source whose cluster is gone."""

from __future__ import annotations

import pytest

from cspm_stream.testing.moto import ACCOUNT_ID, MotoServer
from tests.unit.collect.breadth_util import Estate, collect_fixture, collect_moto
from tests.unit.collect.conftest import reset

pytestmark = pytest.mark.moto

ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/firehose"
S3 = {"RoleARN": ROLE, "BucketARN": "arn:aws:s3:::lake"}


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> Estate:
    reset(moto_server)
    k = moto_server.boto3_client("kinesis")
    k.create_stream(StreamName="encrypted", ShardCount=1)
    k.start_stream_encryption(StreamName="encrypted", EncryptionType="KMS", KeyId="alias/aws/kinesis")
    k.increase_stream_retention_period(StreamName="encrypted", RetentionPeriodHours=168)
    k.create_stream(StreamName="plain", ShardCount=1)
    k.add_tags_to_stream(StreamName="plain", Tags={"team": "raw"})
    f = moto_server.boto3_client("firehose")
    for name, stream in (("from-encrypted", "encrypted"), ("from-plain", "plain")):
        f.create_delivery_stream(
            DeliveryStreamName=name,
            DeliveryStreamType="KinesisStreamAsSource",
            KinesisStreamSourceConfiguration={
                "KinesisStreamARN": f"arn:aws:kinesis:us-east-1:{ACCOUNT_ID}:stream/{stream}",
                "RoleARN": ROLE,
            },
            S3DestinationConfiguration=S3,
        )
    f.create_delivery_stream(DeliveryStreamName="direct", DeliveryStreamType="DirectPut", S3DestinationConfiguration=S3)
    return collect_moto(moto_server, ["kinesis", "firehose"])


def test_streams(estate: Estate) -> None:
    plain = estate.one("aws.kinesis.stream", "plain")
    assert plain.arn == f"arn:aws:kinesis:us-east-1:{ACCOUNT_ID}:stream/plain" and plain.tags == {"team": "raw"}
    v = estate.verdicts(
        [
            "kinesis_stream_encrypted_at_rest",
            "kinesis_stream_data_retention_period",
            "kinesis_stream_encrypted_with_cmk",
        ]
    )
    assert (v[("kinesis_stream_encrypted_at_rest", "encrypted")], v[("kinesis_stream_encrypted_at_rest", "plain")]) == (
        "pass",
        "fail",
    )
    assert v[("kinesis_stream_data_retention_period", "encrypted")] == "pass"
    assert v[("kinesis_stream_data_retention_period", "plain")] == "fail"  # 24 h default
    assert v[("kinesis_stream_encrypted_with_cmk", "encrypted")] == "fail"  # alias/aws/kinesis


def test_delivery_streams(estate: Estate) -> None:
    src = estate.one("aws.firehose.delivery_stream", "from-encrypted")
    assert src.arn == f"arn:aws:firehose:us-east-1:{ACCOUNT_ID}:deliverystream/from-encrypted"
    assert src.attributes["SourceEncryption"] == "KMS" and "Destinations" not in src.attributes["Description"]
    assert estate.one("aws.firehose.delivery_stream", "direct").attributes["SourceEncryption"] is None
    v = estate.verdicts(["firehose_stream_encrypted_at_rest"])
    got = {n: v[("firehose_stream_encrypted_at_rest", n)] for n in ("from-encrypted", "from-plain", "direct")}
    assert got == {"from-encrypted": "pass", "from-plain": "fail", "direct": "fail"}
    assert estate.errors() == set()


def test_recorded_paging_sse_and_missing_msk_source() -> None:
    e, aws = collect_fixture("firehose", "firehose")
    assert aws.unanswered == []
    assert e.ids("aws.firehose.delivery_stream") == {"clickstream", "from-msk"}
    assert "Destinations" not in e.one("aws.firehose.delivery_stream", "clickstream").attributes["Description"]
    v = e.verdicts(["firehose_stream_encrypted_at_rest"])
    assert v[("firehose_stream_encrypted_at_rest", "clickstream")] == "pass"
    assert v[("firehose_stream_encrypted_at_rest", "from-msk")] == "fail"  # the MSK cluster no longer exists
