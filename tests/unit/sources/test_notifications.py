from __future__ import annotations

import orjson
import pytest

from cspm_stream.errors import DecodeError
from cspm_stream.sources.eventbridge import unwrap_sns
from cspm_stream.sources.notifications import ObjectRef, is_log_object, parse_notification
from cspm_stream.sources.sqs import queue_region

KEY = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/01/01/123456789012_CloudTrail_us-east-1_20260101T0000Z_a.json.gz"


def s3_event(key: str, name: str = "ObjectCreated:Put") -> dict:
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventName": name,
                "s3": {"bucket": {"name": "trail-bucket"}, "object": {"key": key, "size": 812}},
            }
        ]
    }


def sns(inner: dict) -> bytes:
    return orjson.dumps({"Type": "Notification", "MessageId": "m", "Message": orjson.dumps(inner).decode()})


def test_s3_event_key_is_url_decoded() -> None:
    body = orjson.dumps(s3_event("AWSLogs/x%2Fy/a+b%3D.json.gz"))
    assert parse_notification(body) == [ObjectRef("trail-bucket", "AWSLogs/x/y/a b=.json.gz")]


def test_sns_wrapped_s3_event_and_cloudtrail_notification() -> None:
    assert parse_notification(sns(s3_event(KEY))) == [ObjectRef("trail-bucket", KEY)]
    ct = {"s3Bucket": "trail-bucket", "s3ObjectKey": [KEY, KEY.replace("_a.", "_b.")]}
    assert [r.key for r in parse_notification(sns(ct))] == [KEY, KEY.replace("_a.", "_b.")]
    assert parse_notification(sns(sns_inner := ct)) == parse_notification(orjson.dumps(sns_inner))


def test_ignored_messages() -> None:
    test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-01-01T00:00:00Z", "Bucket": "b"}
    assert parse_notification(orjson.dumps(test_event)) == []
    assert parse_notification(sns(test_event)) == []
    assert parse_notification(orjson.dumps(s3_event(KEY, "ObjectRemoved:Delete"))) == []
    digest = "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/01/01/d.json.gz"
    assert parse_notification(orjson.dumps(s3_event(digest))) == []
    assert not is_log_object("AWSLogs/") and is_log_object(KEY)


def test_eventbridge_s3_object_created() -> None:
    ev = {
        "source": "aws.s3",
        "detail-type": "Object Created",
        "detail": {"bucket": {"name": "b"}, "object": {"key": KEY}},
    }
    assert parse_notification(orjson.dumps(ev)) == [ObjectRef("b", KEY)]


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"hello", "not valid JSON"),
        (b"[]", "expected an object"),
        (b'{"foo": 1}', "not an S3 event notification"),
        (b'{"s3Bucket": "b", "s3ObjectKey": "k"}', "s3ObjectKey"),
        (b'{"Records": [{"eventSource": "aws:sqs"}]}', "not an S3 event"),
        (b'{"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {}}]}', "s3.bucket.name"),
    ],
)
def test_malformed(body: bytes, why: str) -> None:
    with pytest.raises(DecodeError, match=why):
        parse_notification(body)


def test_unwrap_sns_and_queue_region() -> None:
    inner = {"detail-type": "AWS API Call via CloudTrail", "detail": {"eventID": "e"}}
    assert orjson.loads(unwrap_sns(sns(inner))) == inner
    assert unwrap_sns(b'{"a": 1}') == b'{"a": 1}'
    assert queue_region("https://sqs.eu-west-3.amazonaws.com/123456789012/ct", "us-east-1") == "eu-west-3"
    assert queue_region("http://127.0.0.1:5000/123456789012/ct", "us-east-1") == "us-east-1"
